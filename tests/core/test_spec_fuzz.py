"""Thousands of generated specs and spaces thrown at the loader and the validators.

Whatever a user (or a colleague's e-mail) puts in a spec file, loading it ends in a valid spec or
in a SpecError / SpaceError / ModelConfigError / DataError that names the problem - never in an
unhandled exception. The generators mix well-formed pieces (so the deep checks run too) with
wrong types, absurd numbers, unknown keys, dangling conditions and garbage.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpo_desktop.core.space import SearchSpace, SpaceError
from hpo_desktop.core.spec import SpecError, dumps_toml, parse_spec, spec_from_dict

NAMES = [
    "learning_rate",
    "batch_size",
    "hidden_units",
    "hidden_layers",
    "optimizer",
    "momentum",
    "dropout",
    "x",
]

scalars = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.booleans(),
    st.none(),
)
junk = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)

numbers = st.one_of(
    st.integers(-10, 1000),
    st.floats(-1e3, 1e3, allow_nan=False),
    st.sampled_from([0, 1e-4, 1e-1, 0.5, 1.0, -1.0, float("inf"), float("nan"), 2**63]),
)


@st.composite
def param(draw, name: str, earlier: list[str]) -> dict:
    kind = draw(st.sampled_from(["float", "int", "categorical", "fixed", "bogus", None]))
    d: dict = {} if kind is None else {"type": kind}
    if kind in ("float", "int", "bogus"):
        d["low"] = draw(numbers)
        d["high"] = draw(st.one_of(numbers, st.just(d["low"])))
        if draw(st.booleans()):
            d["log"] = draw(st.one_of(st.booleans(), scalars))
        if draw(st.integers(0, 3)) == 0:
            d["step"] = draw(numbers)
        if draw(st.integers(0, 3)) == 0:
            d["grid_points"] = draw(st.one_of(st.integers(-2, 50), scalars))
    elif kind == "categorical":
        d["choices"] = draw(
            st.one_of(
                st.lists(
                    st.one_of(st.text(max_size=4), st.integers(-3, 300), st.booleans(), st.floats()),
                    max_size=5,
                ),
                scalars,
            )
        )
    elif kind == "fixed":
        d["value"] = draw(scalars)
    if earlier and draw(st.integers(0, 3)) == 0:
        parent = draw(st.sampled_from([*earlier, "missing_parent", name]))
        d["when"] = {parent: draw(st.one_of(scalars, st.lists(scalars, max_size=2)))}
    if draw(st.integers(0, 6)) == 0:
        d[draw(st.text(min_size=1, max_size=5))] = draw(scalars)  # an unknown key
    if draw(st.integers(0, 10)) == 0:
        return draw(junk)
    return d


@st.composite
def spaces(draw) -> dict:
    names = draw(
        st.lists(st.one_of(st.sampled_from(NAMES), st.text(min_size=0, max_size=5)), max_size=6, unique=True)
    )
    out: dict = {}
    for name in names:
        out[name] = draw(param(name, list(out)))
    return out


@st.composite
def documents(draw) -> dict:
    doc: dict = {}
    study = {
        "name": draw(st.one_of(st.text(max_size=8), scalars)),
        "metric": draw(st.sampled_from(["val_accuracy", "val_loss", "", "nope"])),
        "direction": draw(st.sampled_from(["maximize", "minimize", "up", 1])),
        "trials": draw(st.one_of(st.integers(-5, 10**7), scalars)),
    }
    if draw(st.booleans()):
        study["seed"] = draw(st.one_of(st.integers(-(2**64), 2**64), scalars))
    doc["study"] = {k: v for k, v in study.items() if draw(st.integers(0, 8))}
    doc["strategy"] = {
        "kind": draw(st.sampled_from(["grid", "random", "bayesian", "annealing", ""])),
        **draw(
            st.dictionaries(
                st.sampled_from(
                    ["initial_points", "estimator", "acquisition", "design", "xi", "kappa", "zzz"]
                ),
                scalars,
                max_size=3,
            )
        ),
    }
    doc["data"] = draw(
        st.fixed_dictionaries(
            {"dataset": st.sampled_from(["iris", "digits", "nope", ""])},
            optional={"validation": numbers, "test": numbers, "csv": scalars, "target": scalars},
        )
    )
    doc["model"] = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "epochs": st.one_of(st.integers(-3, 10**6), scalars),
                "batch_size": st.one_of(st.integers(-64, 10**6), scalars),
                "patience": numbers,
                "kind": st.sampled_from(["mlp", "cnn", "transformer"]),
            },
        )
    )
    doc["space"] = draw(st.one_of(spaces(), junk))
    for section in list(doc):
        if draw(st.integers(0, 12)) == 0:
            del doc[section]
        elif draw(st.integers(0, 15)) == 0:
            doc[section] = draw(junk)
    if draw(st.integers(0, 10)) == 0:
        doc[draw(st.text(min_size=1, max_size=6))] = {"a": 1}
    return doc


FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(spaces())
def test_generated_spaces_validate_or_name_their_problems(d):
    try:
        space = SearchSpace.from_dict(d)
    except (SpaceError, ValueError) as exc:
        assert str(exc).strip()
        return
    # A space that validates can be sampled, and its samples are inside it.
    sample = space.sample(0)
    assert space.contains(sample)
    try:
        space.grid_size()
    except (ValueError, OverflowError) as exc:  # too large or not gridable: said, not crashed
        assert str(exc).strip()


@FUZZ
@given(documents())
def test_generated_spec_documents_load_or_raise_spec_error(doc):
    from hpo_desktop.training.datasets import DataError
    from hpo_desktop.training.params import ModelConfigError, check_space

    try:
        spec = spec_from_dict(doc, source="fuzz.toml")
    except SpecError as exc:
        assert str(exc).strip()
        return
    assert spec.trials >= 1 and spec.space is not None
    assert math.isfinite(float(spec.trials))
    try:
        check_space(spec.space)  # what `hpo-desktop run` checks next, before any training
    except (ModelConfigError, DataError, ValueError) as exc:
        assert str(exc).strip()
    # A valid spec survives a trip through the TOML writer.
    text = dumps_toml(spec.to_dict())
    assert parse_spec(text, source="again.toml").space == spec.space
