"""The search space as a user meets it: clear errors, sampling, grids, round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hpo_desktop.core.space import (
    Categorical,
    ConfigError,
    Fixed,
    Float,
    GridTooLarge,
    Int,
    SearchSpace,
    SpaceError,
)


def mlp_space() -> SearchSpace:
    return SearchSpace(
        {
            "lr": Float(1e-4, 1e-1, log=True),
            "units": Int(16, 256, log=True),
            "layers": Int(1, 3),
            "act": Categorical(["relu", "tanh"]),
            "optimizer": Categorical(["adam", "sgd"]),
            "momentum": Float(0.0, 0.99, when={"optimizer": "sgd"}),
            "epochs": Fixed(5),
        }
    )


# -- validation: every message names the parameter and the problem -------------------


@pytest.mark.parametrize(
    ("param", "words"),
    [
        (Float(1.0, 0.5), ["'p'", "low (1) must be less than high (0.5)"]),
        (Float(1.0, 1.0), ["'p'", "less than high"]),
        (Float(0.0, 1.0, log=True), ["'p'", "log scale needs low > 0"]),
        (Int(-3, 10, log=True), ["'p'", "log scale"]),
        (Float(0.0, 1.0, step=0.3), ["'p'", "step 0.3 does not fit"]),
        (Float(0.0, 1.0, step=-0.1), ["'p'", "step must be a positive"]),
        (Float(float("nan"), 1.0), ["'p'", "low must be finite"]),
        (Float(0.0, float("inf")), ["'p'", "high must be finite"]),
        (Int(0, 10, step=3), ["'p'", "does not fit"]),
        (Int(0.5, 10), ["'p'", "whole number"]),
        (Categorical([]), ["'p'", "choices must not be empty"]),
        (Categorical(["a", "b", "a"]), ["'p'", "'a' appears more than once"]),
        (Float(0.1, 1.0, log=True, step=0.1), ["'p'", "step cannot be combined with a log scale"]),
    ],
)
def test_invalid_parameter_message_names_parameter_and_problem(param, words):
    with pytest.raises(SpaceError) as info:
        SearchSpace({"p": param})
    for w in words:
        assert w in str(info.value)
    assert info.value.problems[0].param == "p"


def test_true_and_one_are_different_choices():
    SearchSpace({"p": Categorical([True, 1, "1", 1.5])})  # no duplicate error


def test_all_problems_are_reported_at_once():
    with pytest.raises(SpaceError) as info:
        SearchSpace({"a": Float(2, 1), "b": Categorical([]), "c": Int(0, 5, when={"nope": "x"})})
    assert [p.param for p in info.value.problems] == ["a", "b", "c"]
    assert str(info.value).startswith("3 problems")


def test_conditions_must_point_to_existing_categorical_parents():
    with pytest.raises(SpaceError, match="'m'.*'opt', which is not in the space"):
        SearchSpace({"m": Float(0, 1, when={"opt": "sgd"})})
    with pytest.raises(SpaceError, match="parent 'lr' must be categorical, but it is float"):
        SearchSpace({"lr": Float(0, 1), "m": Float(0, 1, when={"lr": 0.5})})
    with pytest.raises(SpaceError, match="'rmsprop', which is not one of its choices"):
        SearchSpace({"opt": Categorical(["adam", "sgd"]), "m": Float(0, 1, when={"opt": "rmsprop"})})


def test_condition_cycles_are_refused():
    with pytest.raises(SpaceError, match="cycle"):
        SearchSpace(
            {
                "a": Categorical(["x", "y"], when={"b": "x"}),
                "b": Categorical(["x", "y"], when={"a": "x"}),
            }
        )


def test_duplicate_names_in_the_plain_form_are_caught_by_the_spec_layer():
    # Python dicts cannot hold duplicate keys; TOML parsers refuse them. Names must be non-empty:
    with pytest.raises(SpaceError, match="non-empty name"):
        SearchSpace({"": Float(0, 1)})
    with pytest.raises(SpaceError, match="no parameters"):
        SearchSpace({})


def test_plain_dict_errors_name_the_key():
    with pytest.raises(SpaceError, match="'lr': unknown key 'hgh'"):
        SearchSpace.from_dict({"lr": {"type": "float", "low": 0, "hgh": 1}})
    with pytest.raises(SpaceError, match="'lr': type must be one of"):
        SearchSpace.from_dict({"lr": {"type": "double", "low": 0, "high": 1}})
    with pytest.raises(SpaceError, match="'lr': missing key 'high'"):
        SearchSpace.from_dict({"lr": {"type": "float", "low": 0}})
    with pytest.raises(SpaceError, match="'lr': low must be a number"):
        SearchSpace.from_dict({"lr": {"type": "float", "low": "small", "high": 1}})


def test_problems_without_raising_for_editors():
    space = SearchSpace({"a": Float(2, 1), "b": Float(0, 1)}, validate=False)
    problems = space.problems()
    assert len(problems) == 1 and problems[0].param == "a" and problems[0].field == "low"


# -- sampling ----------------------------------------------------------------------------


def test_sampling_is_seeded_and_inside_the_space():
    space = mlp_space()
    a = [space.sample(np.random.default_rng(7)) for _ in range(3)]
    b = [space.sample(np.random.default_rng(7)) for _ in range(3)]
    assert a == b
    rng = np.random.default_rng(0)
    for _ in range(300):
        p = space.sample(rng)
        assert space.contains(p), p
        assert ("momentum" in p) == (p["optimizer"] == "sgd")
        assert p["epochs"] == 5
        assert type(p["units"]) is int and type(p["lr"]) is float


def test_log_sampling_covers_orders_of_magnitude():
    space = SearchSpace({"lr": Float(1e-5, 1e-1, log=True)})
    rng = np.random.default_rng(1)
    values = np.array([space.sample(rng)["lr"] for _ in range(2000)])
    # roughly a quarter per decade
    assert 0.18 < np.mean(values < 1e-4) < 0.32


def test_stepped_and_int_values_land_on_the_lattice():
    space = SearchSpace({"d": Float(0.0, 0.5, step=0.1), "bs": Int(16, 128, step=16)})
    rng = np.random.default_rng(3)
    seen = set()
    for _ in range(200):
        p = space.sample(rng)
        seen.add(p["d"])
        assert p["bs"] % 16 == 0
    assert seen == {0.0, 0.1, 0.2, 0.3, 0.4, 0.5}


# -- grid ----------------------------------------------------------------------------------


def test_grid_size_is_known_up_front_and_matches_enumeration():
    space = SearchSpace(
        {
            "opt": Categorical(["adam", "sgd", "rmsprop"]),
            "momentum": Float(0, 0.9, step=0.3, when={"opt": ["sgd", "rmsprop"]}),
            "lr": Float(1e-3, 1e-1, log=True, grid_points=3),
            "layers": Int(1, 2),
        }
    )
    # adam: 3*2 = 6; sgd and rmsprop: 4*3*2 = 24 each
    assert space.grid_size() == 6 + 24 + 24
    combos = list(space.grid())
    assert len(combos) == 54
    assert len({tuple(sorted(c.items())) for c in combos}) == 54
    assert all(space.contains(c) for c in combos)
    assert combos == list(space.grid())  # deterministic


def test_grid_needs_steps_for_floats_and_refuses_huge_grids():
    with pytest.raises(SpaceError, match="'lr': a float needs a step or grid_points"):
        SearchSpace({"lr": Float(0, 1)}).grid_size()
    huge = SearchSpace({f"p{i}": Int(0, 99) for i in range(4)})
    with pytest.raises(GridTooLarge, match="100,000,000 combinations") as info:
        next(huge.grid(limit=1000))
    assert info.value.size == 100_000_000


def test_a_grid_of_billions_of_points_is_sized_without_listing_them():
    """Found by the spec fuzzer: a tiny float step used to list every grid value first."""
    space = SearchSpace.from_dict(
        {
            "x": {"type": "float", "low": 0, "high": 1e6, "step": 1e-6},
            "n": {"type": "int", "low": 0, "high": 10**12},
            "c": {"type": "categorical", "choices": ["a", "b"]},
        }
    )
    assert space.grid_size() == (10**12 + 1) * (10**12 + 1) * 2  # before the fix: hung listing 10**12 floats
    with pytest.raises(GridTooLarge, match="1,000,000,000,002,000,000,000,001|grid"):
        next(space.grid())


def test_log_grid_points_are_geometric():
    space = SearchSpace({"lr": Float(1e-4, 1e-1, log=True, grid_points=4)})
    assert [c["lr"] for c in space.grid()] == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1])


# -- round trips -----------------------------------------------------------------------


def test_plain_dict_round_trip_keeps_everything():
    space = mlp_space()
    again = SearchSpace.from_dict(space.to_dict())
    assert again == space
    assert again.to_dict()["momentum"]["when"] == {"optimizer": "sgd"}


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def params(draw):
    kind = draw(st.sampled_from(["float", "logfloat", "int", "cat", "fixed"]))
    if kind == "float":
        lo = draw(finite)
        hi = draw(finite.filter(lambda h: h > lo + 1e-6))
        return Float(lo, hi)
    if kind == "logfloat":
        lo = draw(st.floats(1e-8, 1e3))
        return Float(lo, lo * draw(st.floats(1.01, 1e4)), log=True)
    if kind == "int":
        lo = draw(st.integers(-1000, 1000))
        return Int(lo, lo + draw(st.integers(1, 1000)))
    if kind == "cat":
        choices = draw(
            st.lists(
                st.one_of(st.text(max_size=5), st.integers(-5, 5), st.booleans(), finite),
                min_size=1,
                max_size=5,
                unique_by=lambda c: (type(c), c),
            )
        )
        return Categorical(choices)
    return Fixed(draw(st.one_of(st.text(max_size=5), st.integers(), st.booleans(), finite)))


names = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(names, params(), min_size=1, max_size=6), st.integers(0, 2**32 - 1))
def test_any_valid_space_round_trips_and_samples_inside(space_params, seed):
    space = SearchSpace(space_params)
    assert SearchSpace.from_dict(space.to_dict()) == space
    p = space.sample(seed)
    assert space.contains(p)
    assert set(p) == set(space)
    for name, value in p.items():
        assert not isinstance(value, np.generic)
        if isinstance(space[name], Float):
            assert math.isfinite(value)


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(names, params(), min_size=1, max_size=5), st.integers(0, 1000))
def test_skopt_point_round_trip(space_params, seed):
    space = SearchSpace(space_params)
    p = space.sample(seed)
    assert space.from_skopt_point(space.to_skopt_point(p)) == p


def test_skopt_dimensions_follow_scales():
    dims = mlp_space().to_skopt_dimensions()
    assert [d.name for d in dims] == ["lr", "units", "layers", "act", "optimizer", "momentum"]
    assert dims[0].prior == "log-uniform" and dims[1].prior == "log-uniform"


def test_inactive_params_are_dropped_and_filled():
    space = mlp_space()
    p = {
        "lr": 0.01,
        "units": 32,
        "layers": 1,
        "act": "relu",
        "optimizer": "adam",
        "momentum": 0.5,
        "epochs": 5,
    }
    assert "momentum" not in space.active(p)
    assert not space.contains(p)  # an inactive param present is not a valid trial
    assert space.fill_inactive(space.active(p))["momentum"] == 0.0


# -- a configuration typed by the user (enqueue a trial) ----------------------------------------


def typed_space() -> SearchSpace:
    return SearchSpace(
        {
            "learning_rate": Float(1e-4, 0.1, log=True),
            "layers": Int(1, 4),
            "width": Int(8, 64, step=8),
            "optimizer": Categorical(["adam", "sgd"]),
            "momentum": Float(0.0, 0.9, when={"optimizer": "sgd"}),
            "batch_size": Fixed(64),
        }
    )


def test_a_typed_configuration_is_normalized_in_the_space_order():
    space = typed_space()
    got = space.check_config(
        {"optimizer": "adam", "layers": 3.0, "width": 16, "learning_rate": 0.01, "momentum": 0.5}
    )
    # 3.0 -> 3 for an int, the inactive momentum dropped, the fixed value filled in
    assert got == {"learning_rate": 0.01, "layers": 3, "width": 16, "optimizer": "adam", "batch_size": 64}
    assert list(got) == ["learning_rate", "layers", "width", "optimizer", "batch_size"]
    assert type(got["layers"]) is int
    sgd = space.check_config(
        {"optimizer": "sgd", "layers": 1, "width": 8, "learning_rate": 0.01, "momentum": 0}
    )
    assert sgd["momentum"] == 0.0 and type(sgd["momentum"]) is float  # an int for a float param
    assert space.contains(sgd) and space.contains(got)


def test_a_bad_configuration_lists_every_problem_by_parameter():
    with pytest.raises(ConfigError) as info:
        typed_space().check_config(
            {
                "learning_rate": 2.0,
                "layers": "3",
                "width": 12,
                "optimizer": "adamw",
                "batch_size": 32,
                "dropout": 0.1,
            }
        )
    problems = info.value.problems
    assert "learning_rate: 2.0 is above the upper bound 0.1" in problems
    assert "layers: '3' is a string; expected a number" in problems
    assert any(p.startswith("width: 12 is not on its step grid") for p in problems)
    assert any(p.startswith("optimizer: 'adamw' is not one of the choices") for p in problems)
    assert any(p.startswith("batch_size: 32 differs from its fixed value 64") for p in problems)
    assert any(p.startswith("dropout: not a parameter of this search space") for p in problems)
    assert len(problems) == 6 and str(info.value) == "; ".join(problems)
    assert isinstance(info.value, ValueError)


def test_missing_whole_and_boolean_values_are_refused():
    space = typed_space()
    with pytest.raises(ConfigError, match=r"^learning_rate: missing"):
        space.check_config({"layers": 2, "width": 8, "optimizer": "adam"})
    with pytest.raises(ConfigError, match="layers: 2.5 is not a whole number"):
        space.check_config({"learning_rate": 0.01, "layers": 2.5, "width": 8, "optimizer": "adam"})
    with pytest.raises(ConfigError, match="layers: True is bool; expected a number"):
        space.check_config({"learning_rate": 0.01, "layers": True, "width": 8, "optimizer": "adam"})
    with pytest.raises(ConfigError, match="learning_rate: 5e-05 is below the lower bound 0.0001"):
        space.check_config({"learning_rate": 5e-5, "layers": 1, "width": 8, "optimizer": "adam"})
    with pytest.raises(ConfigError, match="momentum: missing"):  # active for sgd
        space.check_config({"learning_rate": 0.01, "layers": 1, "width": 8, "optimizer": "sgd"})
