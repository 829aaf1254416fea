"""Refine proposals on hand-made trial sets, and warm start of child studies."""

from __future__ import annotations

import numpy as np
import pytest

from hpo_desktop import Categorical, Float, Int, Study
from hpo_desktop.core.refine import MIN_TRIALS, Refinement, propose_refinement
from hpo_desktop.core.space import Fixed, SearchSpace
from hpo_desktop.core.trial import FrozenTrial, TrialState


def trials_of(rows, state=TrialState.COMPLETE):
    """FrozenTrials from (params, value) pairs."""
    return [FrozenTrial(1, i + 1, i, state, dict(p), v) for i, (p, v) in enumerate(rows)]


def change(ref: Refinement, name: str):
    return next(c for c in ref.changes if c.param == name)


def test_narrows_a_float_to_the_top_span_with_a_margin():
    space = SearchSpace({"x": Float(0.0, 10.0)})
    # value = distance from 5.1: the best 20 % of 20 trials (4) are x in {4.5, 5.0, 5.5, 6.0}
    xs = [0.5 * i for i in range(1, 21)]
    ref = propose_refinement(space, trials_of([({"x": x}, abs(x - 5.1)) for x in xs]), "minimize")
    new = ref.space["x"]
    assert (new.low, new.high) == (pytest.approx(4.35), pytest.approx(6.15))  # span 1.5, margin 0.15
    c = change(ref, "x")
    assert c.changed and c.reason.startswith("narrowed to the span of the top 20 %")
    assert "10 % margin" in c.reason


def test_ties_at_the_cut_off_count_as_top():
    space = SearchSpace({"c": Categorical(["a", "b", "c"])})
    rows = [({"c": "a"}, 0.9), ({"c": "b"}, 0.9)] + [({"c": "c"}, 0.5)] * 8
    ref = propose_refinement(space, trials_of(rows), "maximize")  # top 20 % = 2 trials, no tie yet
    assert ref.space["c"].choices == ("a", "b")
    rows = [({"c": "a"}, 0.9), ({"c": "b"}, 0.8), ({"c": "c"}, 0.8)] + [({"c": "a"}, 0.5)] * 7
    ref = propose_refinement(space, trials_of(rows), "maximize")  # "c" ties with the 2nd best
    assert ref.space["c"].choices == ("a", "b", "c")


def test_maximize_picks_the_largest_values():
    space = SearchSpace({"x": Float(0.0, 10.0)})
    rows = [({"x": x}, -abs(x - 3.0)) for x in np.linspace(0.5, 9.5, 19)]
    ref = propose_refinement(space, trials_of(rows), "maximize")
    assert ref.space["x"].low <= 3.0 <= ref.space["x"].high
    assert ref.space["x"].high < 5.0


def test_a_range_whose_best_trials_sit_at_an_edge_is_widened_there():
    space = SearchSpace({"x": Float(1.0, 11.0)})
    rows = [({"x": x}, x) for x in np.linspace(1.0, 11.0, 21)]  # smaller is better: best at the low edge
    ref = propose_refinement(space, trials_of(rows), "minimize")
    new = ref.space["x"]
    assert new.low < 1.0 and new.low >= 0.0  # widened, but a positive range stays non-negative
    assert new.high < 11.0  # the other end narrows
    assert change(ref, "x").reason.startswith("widened at the lower edge: the best trials sit there")

    ref = propose_refinement(space, trials_of(rows), "maximize")
    assert ref.space["x"].high == pytest.approx(16.0)  # half the old span on the upper side
    assert change(ref, "x").reason.startswith("widened at the upper edge")


def test_an_edge_that_cannot_move_is_said_so():
    space = SearchSpace({"dropout": Float(0.0, 0.5, step=0.05)})
    rows = [({"dropout": round(0.05 * i, 2)}, 0.05 * i) for i in range(11)]
    ref = propose_refinement(space, trials_of(rows), "minimize")
    new = ref.space["dropout"]
    assert new.low == 0.0 and new.high < 0.5
    assert "cannot move further" in change(ref, "dropout").reason
    # the new bounds stay on the old lattice
    assert new.step == 0.05 and abs(new.high / 0.05 - round(new.high / 0.05)) < 1e-9


def test_log_parameters_are_refined_in_log_space():
    space = SearchSpace({"lr": Float(1e-5, 1e-1, log=True)})
    grid = np.geomspace(1e-5, 1e-1, 25)
    rows = [({"lr": float(v)}, abs(np.log10(v) + 3.0)) for v in grid]  # best around 1e-3
    ref = propose_refinement(space, trials_of(rows), "minimize")
    new = ref.space["lr"]
    assert new.log is True and new.low > 0
    assert 1e-4 < new.low < 1e-3 < new.high < 1e-2
    # symmetric in log space: the margin is a factor, not an absolute amount
    assert np.log10(1e-3) - np.log10(new.low) == pytest.approx(np.log10(new.high) - np.log10(1e-3), rel=0.05)


def test_log_widening_stays_positive():
    space = SearchSpace({"lr": Float(1e-4, 1e-2, log=True)})
    rows = [({"lr": float(v)}, float(v)) for v in np.geomspace(1e-4, 1e-2, 20)]
    ref = propose_refinement(space, trials_of(rows), "minimize")
    assert 0 < ref.space["lr"].low < 1e-4
    assert ref.space["lr"].low == pytest.approx(1e-5, rel=0.01)  # half the span in log space


def test_ints_are_rounded_outward_and_steps_kept():
    space = SearchSpace({"units": Int(8, 256, step=8), "layers": Int(1, 10)})
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(30):
        u = int(rng.integers(1, 33)) * 8
        n = int(rng.integers(1, 11))
        rows.append(({"units": u, "layers": n}, abs(u - 100) + 10 * abs(n - 5)))
    ref = propose_refinement(space, trials_of(rows), "minimize")
    units, layers = ref.space["units"], ref.space["layers"]
    assert isinstance(units.low, int) and isinstance(units.high, int)
    assert units.step == 8 and (units.low - 8) % 8 == 0 and (units.high - 8) % 8 == 0
    assert units.low < 100 < units.high and units.high - units.low < 248
    assert isinstance(layers.low, int) and layers.low >= 1
    best = sorted(rows, key=lambda r: r[1])[:6]
    assert all(units.contains(p["units"]) and layers.contains(p["layers"]) for p, _ in best)


def test_choices_never_among_the_top_are_dropped():
    space = SearchSpace({"opt": Categorical(["adam", "sgd", "rmsprop"]), "x": Float(0.0, 1.0)})
    rows = []
    for i in range(20):
        opt = ["adam", "sgd", "rmsprop"][i % 3]
        x = (i * 7 % 20) / 20
        rows.append(({"opt": opt, "x": x}, (0.0 if opt == "adam" else 1.0) + 0.1 * x))
    ref = propose_refinement(space, trials_of(rows), "minimize")
    assert ref.space["opt"].choices == ("adam",)
    assert change(ref, "opt").reason == "dropped 'sgd', 'rmsprop': never among the top 20 % (4 trials)"


def test_a_conditional_child_follows_its_parent():
    space = SearchSpace(
        {
            "opt": Categorical(["adam", "sgd"]),
            "momentum": Float(0.0, 0.99, when={"opt": "sgd"}),
            "nesterov": Categorical([True, False], when={"opt": "sgd"}),
        }
    )
    rows = []
    for i in range(12):
        rows.append(({"opt": "adam"}, 0.1 * i))
        rows.append(({"opt": "sgd", "momentum": 0.05 * i, "nesterov": i % 2 == 0}, 5.0 + 0.1 * i))
    ref = propose_refinement(space, trials_of(rows), "minimize")
    assert "momentum" not in ref.space and "nesterov" not in ref.space
    assert ref.space["opt"].choices == ("adam",)
    assert change(ref, "momentum").reason == "removed: active only when opt is 'sgd', which was dropped"
    assert change(ref, "momentum").new == {}


def test_a_conditional_param_counts_only_trials_where_it_is_active():
    space = SearchSpace(
        {"opt": Categorical(["adam", "sgd"]), "momentum": Float(0.0, 0.9, when={"opt": "sgd"})}
    )
    rows = []
    for i in range(10):
        m = 0.09 * i
        rows.append(({"opt": "sgd", "momentum": m}, abs(m - 0.44)))
        rows.append(({"opt": "adam"}, 0.01 * i))  # adam trials are better but say nothing about momentum
    ref = propose_refinement(space, trials_of(rows), "minimize")
    new = ref.space["momentum"]
    assert 0.0 < new.low < 0.45 < new.high < 0.9
    assert new.conditions == {"opt": ("sgd",)}
    assert ref.space["opt"].choices == ("adam", "sgd")  # 4 top trials: both seen
    assert "(2 trials)" in change(ref, "momentum").reason  # top 20 % of the 10 where it is active


def test_pinning_turns_a_parameter_into_a_fixed_value_and_resolves_children():
    space = SearchSpace(
        {
            "opt": Categorical(["adam", "sgd"]),
            "momentum": Float(0.0, 0.9, when={"opt": "sgd"}),
            "beta": Float(0.8, 0.99, when={"opt": "adam"}),
        }
    )
    rows = [({"opt": "sgd", "momentum": 0.1 * i}, i) for i in range(6)]
    ref = propose_refinement(space, trials_of(rows), "minimize", pin={"opt": "sgd"})
    assert ref.space["opt"] == Fixed("sgd")
    assert "beta" not in ref.space
    assert ref.space["momentum"].conditions == {}  # always active now
    assert change(ref, "opt").reason == "pinned to 'sgd'"
    with pytest.raises(ValueError, match="not in the search space"):
        propose_refinement(space, [], "minimize", pin={"nope": 1})
    with pytest.raises(ValueError, match="outside its domain"):
        propose_refinement(space, [], "minimize", pin={"opt": "adagrad"})


def test_too_few_complete_trials_change_nothing():
    space = SearchSpace({"x": Float(0.0, 1.0), "c": Categorical(["a", "b"]), "f": Fixed(3)})
    rows = [({"x": 0.1 * i, "c": "a", "f": 3}, float(i)) for i in range(MIN_TRIALS - 1)]
    trials = trials_of(rows) + trials_of([({"x": 0.9, "c": "b", "f": 3}, None)], TrialState.FAILED)
    ref = propose_refinement(space, trials, "minimize")
    assert ref.space == space
    assert all(not c.changed for c in ref.changes)
    assert change(ref, "x").reason == f"kept: too few complete trials (4; at least {MIN_TRIALS} needed)"
    assert change(ref, "f").reason == "kept: fixed"


def test_failed_and_non_finite_trials_are_ignored():
    space = SearchSpace({"x": Float(0.0, 10.0)})
    rows = [({"x": float(x)}, abs(x - 5.0)) for x in range(11)]
    bad = trials_of([({"x": 10.0}, float("nan"))]) + trials_of([({"x": 0.0}, None)], TrialState.FAILED)
    ref = propose_refinement(space, trials_of(rows) + bad, "minimize")
    assert 0.0 < ref.space["x"].low and ref.space["x"].high < 10.0


def test_bad_arguments_are_refused():
    space = SearchSpace({"x": Float(0.0, 1.0)})
    with pytest.raises(ValueError, match="direction"):
        propose_refinement(space, [], "up")
    with pytest.raises(ValueError, match="top"):
        propose_refinement(space, [], "minimize", top=0)


SPACE = SearchSpace(
    {
        "lr": Float(1e-5, 1.0, log=True),
        "units": Int(1, 512, log=True),
        "drop": Float(0.0, 0.9, step=0.1),
        "n": Int(0, 20, step=4),
        "opt": Categorical(["adam", "sgd", "rmsprop"]),
        "mom": Float(0.0, 0.99, when={"opt": ["sgd", "rmsprop"]}),
        "nest": Categorical([True, False], when={"opt": "sgd"}),
        "k": Int(1, 5, when={"nest": True}),
        "f": Fixed("x"),
    }
)


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_the_proposal_is_always_a_valid_space(seed, direction):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 40))
    top = float(rng.choice([0.05, 0.2, 0.5, 1.0]))
    rows = []
    for _ in range(n):
        p = SPACE.sample(rng)
        kind = rng.integers(0, 3)
        value = (
            float(rng.normal()) if kind == 0 else float(np.log(p["lr"])) if kind == 1 else float(p["units"])
        )
        rows.append((p, value))
    ref = propose_refinement(
        SPACE, trials_of(rows), direction, top=top, margin=float(rng.choice([0, 0.1, 1.0]))
    )
    assert SearchSpace.from_dict(ref.space.to_dict()) == ref.space  # validates and round-trips
    assert [c.param for c in ref.changes] == list(SPACE)
    for c in ref.changes:
        assert c.reason
        if c.param in ref.space:
            assert c.new == ref.space[c.param].to_dict()
    # the best trial is still inside the refined space whenever nothing was widened past it
    complete = [t for t in trials_of(rows)]
    if len(complete) >= MIN_TRIALS:
        best = sorted(complete, key=lambda t: t.value, reverse=direction == "maximize")[0]
        for name, value in best.params.items():
            if name in ref.space and not isinstance(ref.space[name], Fixed):
                assert ref.space[name].contains(value), (name, value, ref.space[name])
    assert ref.table()


# -- warm start of a child study ------------------------------------------------------------


def objective(params, trial):
    return (params["x"] - 2) ** 2 + (0.0 if params["c"] == "a" else 1.0)


GRID_SPACE = {"x": Int(0, 5), "c": Categorical(["a", "b"])}


def test_a_grid_child_never_reruns_a_parent_point(tmp_path):
    db = tmp_path / "s.db"
    with Study.create(db, "parent", GRID_SPACE, "grid", seed=0) as parent:
        parent.optimize(objective, 5)
        done = {(t.params["x"], t.params["c"]) for t in parent.trials}
    child_space = {"x": Int(0, 3), "c": Categorical(["a", "b"])}
    with Study.create(db, "child", child_space, "grid", seed=0, parent="parent") as child:
        inside = child.parent_trials()
        assert inside and all(child.space.contains(t.params) for t in inside)
        assert child.make_strategy().size() == 8
        end = child.optimize(objective, 8)
        mine = [(t.params["x"], t.params["c"]) for t in child.trials]
    assert end.reason == "exhausted"
    assert not set(mine) & done
    assert len(mine) == 8 - len(inside)


def test_a_bayesian_child_is_told_the_parent_trials_before_its_first_ask(tmp_path, monkeypatch):
    db = tmp_path / "s.db"
    space = {"x": Float(0.0, 5.0), "c": Categorical(["a", "b"])}
    with Study.create(db, "parent", space, "random", seed=0) as parent:
        parent.optimize(objective, 6)
        outside = sum(1 for t in parent.trials if t.params["x"] > 3.0)
    told: list[dict] = []
    from hpo_desktop.core.strategies.base import Strategy

    orig = Strategy.tell_trials

    def spy(self, trials):
        trials = list(trials)
        told.extend(t.params for t in trials)
        return orig(self, trials)

    monkeypatch.setattr(Strategy, "tell_trials", spy)
    child_space = {"x": Float(0.0, 3.0), "c": Categorical(["a", "b"])}
    with Study.create(
        db, "child", child_space, "bayesian", seed=0, parent="parent", strategy_options={"initial_points": 2}
    ) as child:
        strategy = child.make_strategy()
        assert len(told) == 6 - outside and all(p["x"] <= 3.0 for p in told)
        assert strategy.ask(1)


def test_without_a_parent_nothing_changes(tmp_path):
    with Study.create(tmp_path / "s.db", "solo", GRID_SPACE, "grid") as study:
        assert study.parent_trials() == []


def test_lineage_survives_reopening(tmp_path):
    db = tmp_path / "s.db"
    with Study.create(db, "parent", GRID_SPACE, "random") as parent:
        parent_id = parent.study_id
    Study.create(db, "child", GRID_SPACE, "random", parent="parent").close()
    with Study.open(db, "child") as child:
        assert child.record.parent_id == parent_id


# -- the child's spec document (shared by `hpo-desktop refine` and the window's Refine… dialog)


def spec_study(db, name="parent", data=None):
    extra = {
        "data": data or {"dataset": "csv", "csv": "data/points.csv", "target": "y"},
        "model": {"kind": "mlp", "epochs": 3},
        "base_dir": str(db.parent),
    }
    space = {"x": Float(0.0, 5.0), "c": Categorical(["a", "b"])}
    with Study.create(db, name, space, "random", metric="val_loss", seed=7, n_trials=12, spec=extra) as study:
        study.optimize(lambda p, t: (p["x"] - 1) ** 2 + (0.0 if p["c"] == "a" else 3.0), 12)
        return study.record, study.trials


def test_the_refined_spec_doc_keeps_the_settings_and_takes_the_new_space(tmp_path):
    from hpo_desktop.core.refine import in_space_count, refined_name, refined_spec_doc
    from hpo_desktop.core.spec import spec_from_dict

    record, trials = spec_study(tmp_path / "s.db")
    ref = propose_refinement(SearchSpace.from_dict(record.space), trials, "minimize", top=0.25)
    doc = refined_spec_doc(record, ref, "parent-refined")
    assert doc["study"] == {"name": "parent-refined", "metric": "val_loss", "direction": "minimize",
                            "trials": 12, "seed": 7}  # fmt: skip
    assert doc["strategy"] == {"kind": "random"}
    assert doc["model"] == {"kind": "mlp", "epochs": 3}
    assert doc["data"]["csv"] == str(tmp_path / "data" / "points.csv")  # re-anchored, absolute
    assert doc["space"] == ref.space.to_dict() != record.space
    spec = spec_from_dict(doc, source="test")
    assert spec.name == "parent-refined"
    n = in_space_count(trials, ref.space)
    assert 0 < n < len(trials)
    assert n == sum(1 for t in trials if ref.space.contains(t.params))
    assert refined_name("parent", ["parent", "parent-refined"]) == "parent-refined-2"
    assert refined_name("parent", ["parent"]) == "parent-refined"


def test_a_study_made_from_python_has_no_refined_spec(tmp_path):
    from hpo_desktop.core.refine import refined_spec_doc

    with Study.create(tmp_path / "s.db", "api", GRID_SPACE, "random") as study:
        record = study.record
    ref = propose_refinement(SearchSpace.from_dict(record.space), [], "minimize")
    with pytest.raises(ValueError, match="not created from a spec file"):
        refined_spec_doc(record, ref, "api-refined")
