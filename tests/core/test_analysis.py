"""The analysis views' data on known inputs: slice, parallel coordinates, contour, importance,
Pareto front and trade-offs."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from hpo_desktop.core.analysis import (
    contour_data,
    importance,
    parallel_data,
    pareto_front,
    slice_data,
    tradeoff_data,
)
from hpo_desktop.core.space import Categorical, Fixed, Float, Int, SearchSpace
from hpo_desktop.core.trial import FrozenTrial, TrialState


def trial(number, params, value, state=TrialState.COMPLETE, metrics=None, seconds=None):
    return FrozenTrial(
        study_id=1,
        trial_id=number + 1,
        number=number,
        state=state,
        params=params,
        value=value,
        metrics=metrics or {},
        seconds=seconds,
    )


def study(space, fn, n, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        p = space.sample(rng)
        out.append(trial(i, p, float(fn(p, rng))))
    return out


@pytest.fixture
def cond_space():
    return SearchSpace(
        {
            "lr": Float(1e-4, 1e-2, log=True),
            "optimizer": Categorical(("adam", "sgd")),
            "momentum": Float(0.0, 1.0, when={"optimizer": "sgd"}),
            "layers": Int(1, 5),
            "seed": Fixed(7),
        }
    )


@pytest.fixture
def cond_trials():
    return [
        trial(0, {"lr": 1e-3, "optimizer": "adam", "layers": 2, "seed": 7}, 0.5),
        trial(1, {"lr": 1e-4, "optimizer": "sgd", "momentum": 0.9, "layers": 5, "seed": 7}, 0.3),
        trial(2, {"lr": 1e-2, "optimizer": "sgd", "momentum": 0.5, "layers": 1, "seed": 7}, 0.9),
        trial(3, {"lr": 1e-3, "optimizer": "adam", "layers": 3, "seed": 7}, math.nan),
        trial(4, {"lr": 1e-3, "optimizer": "adam", "layers": 3, "seed": 7}, math.inf),
        trial(5, {"lr": 1e-3, "optimizer": "adam", "layers": 3, "seed": 7}, 0.1, TrialState.PRUNED),
        trial(6, {"lr": 1e-3, "optimizer": "adam", "layers": 3, "seed": 7}, None, TrialState.FAILED),
        trial(7, {"lr": 1e-3, "optimizer": "adam", "layers": 3, "seed": 7}, None, TrialState.RUNNING),
    ]


# --------------------------------------------------------------------------------------------
# Pareto front


def test_pareto_front_minimize_both():
    pts = np.array([[1, 5], [2, 3], [3, 4], [4, 1], [2, 3], [5, 5], [1, 6], [3, 1]], dtype=float)
    mask = pareto_front(pts, ("minimize", "minimize"))
    # (1,5) (2,3) (2,3 duplicate) (3,1) are non-dominated; (4,1) is dominated by (3,1)
    assert mask.tolist() == [True, True, False, False, True, False, False, True]


def test_pareto_front_maximize_minimize():
    # accuracy (maximize) vs seconds (minimize)
    pts = np.array([[0.90, 10], [0.95, 30], [0.85, 5], [0.80, 20], [0.95, 40], [0.99, 100]])
    mask = pareto_front(pts, ("maximize", "minimize"))
    assert mask.tolist() == [True, True, True, False, False, True]
    # and the mirror combination gives the mirrored answer
    assert pareto_front(pts[:, ::-1], ("minimize", "maximize")).tolist() == mask.tolist()


def test_pareto_front_maximize_both_nan_and_empty():
    pts = np.array([[1.0, 1.0], [2.0, 2.0], [np.nan, 9.0], [3.0, 0.5]])
    assert pareto_front(pts, ("maximize", "maximize")).tolist() == [False, True, False, True]
    assert pareto_front(np.empty((0, 2)), ("minimize", "minimize")).tolist() == []
    with pytest.raises(ValueError):
        pareto_front(pts, ("min", "max"))


def test_pareto_front_matches_brute_force():
    rng = np.random.default_rng(3)
    pts = rng.integers(0, 6, size=(200, 2)).astype(float)  # many ties
    for dirs in [("minimize", "minimize"), ("maximize", "minimize"), ("maximize", "maximize")]:
        s = pts * np.array([-1 if d == "maximize" else 1 for d in dirs])
        brute = [
            not any((s[j] <= s[i]).all() and (s[j] < s[i]).any() for j in range(len(s)))
            for i in range(len(s))
        ]
        assert pareto_front(pts, dirs).tolist() == brute


def test_tradeoff_data_uses_final_metrics_of_complete_trials():
    ts = [
        trial(0, {}, 0.9, metrics={"val_accuracy": 0.9, "train_seconds": 10.0}),
        trial(1, {}, 0.95, metrics={"val_accuracy": 0.95, "train_seconds": 30.0}),
        trial(2, {}, 0.8, metrics={"val_accuracy": 0.8, "train_seconds": 20.0}),
        trial(3, {}, None, TrialState.FAILED, metrics={"val_accuracy": 0.99, "train_seconds": 1.0}),
        trial(4, {}, 0.7, metrics={"val_accuracy": math.nan, "train_seconds": 1.0}),
        trial(5, {}, 0.6, metrics={"val_accuracy": 0.6}),
    ]
    d = tradeoff_data(ts, "val_accuracy", "train_seconds", ("maximize", "minimize"))
    assert d.numbers.tolist() == [0, 1, 2]
    assert d.x.tolist() == [0.9, 0.95, 0.8]
    assert d.y.tolist() == [10.0, 30.0, 20.0]
    assert d.on_front.tolist() == [True, True, False]
    empty = tradeoff_data([], "a", "b", ("minimize", "minimize"))
    assert len(empty.x) == len(empty.on_front) == 0


def test_tradeoff_value_and_seconds_fall_back_to_the_trial():
    ts = [trial(0, {}, 0.5, seconds=3.0), trial(1, {}, 0.4, seconds=9.0)]
    d = tradeoff_data(ts, "value", "seconds", ("minimize", "minimize"))
    assert d.x.tolist() == [0.5, 0.4] and d.on_front.tolist() == [True, True]


# --------------------------------------------------------------------------------------------
# slice plots


def test_slice_numeric_skips_inactive_and_non_finite(cond_space, cond_trials):
    d = slice_data(cond_space, cond_trials, "momentum")
    assert d.kind == "float" and d.log is False and d.categories is None
    assert d.numbers.tolist() == [1, 2]
    assert d.x.tolist() == [0.9, 0.5]
    assert d.values.tolist() == [0.3, 0.9]
    assert d.numbers.dtype.kind == "i"


def test_slice_log_int_categorical_and_fixed(cond_space, cond_trials):
    lr = slice_data(cond_space, cond_trials, "lr")
    assert lr.log is True and lr.numbers.tolist() == [0, 1, 2]
    assert lr.x.tolist() == [1e-3, 1e-4, 1e-2]
    layers = slice_data(cond_space, cond_trials, "layers")
    assert layers.kind == "int" and layers.x.tolist() == [2, 5, 1]
    opt = slice_data(cond_space, cond_trials, "optimizer")
    assert opt.kind == "categorical" and opt.categories == ("adam", "sgd")
    assert opt.x.tolist() == [0, 1, 1]
    seed = slice_data(cond_space, cond_trials, "seed")
    assert seed.kind == "fixed" and seed.categories == ("7",) and seed.x.tolist() == [0, 0, 0]


def test_slice_without_complete_trials(cond_space):
    d = slice_data(cond_space, [trial(0, {"lr": 1e-3}, None, TrialState.FAILED)], "lr")
    assert d.x.shape == d.values.shape == d.numbers.shape == (0,)


# --------------------------------------------------------------------------------------------
# parallel coordinates


def test_parallel_normalizes_log_categorical_and_marks_inactive(cond_space, cond_trials):
    d = parallel_data(cond_space, cond_trials, "val_loss", "minimize")
    assert [a.name for a in d.axes] == ["lr", "optimizer", "momentum", "layers", "val_loss"]
    assert [a.kind for a in d.axes] == ["float", "categorical", "float", "int", "metric"]
    assert d.axes[0].log and (d.axes[0].low, d.axes[0].high) == (1e-4, 1e-2)
    assert d.axes[1].categories == ("adam", "sgd")
    assert (d.axes[-1].low, d.axes[-1].high) == (0.3, 0.9)
    assert d.numbers.tolist() == [0, 1, 2]
    m = d.matrix
    assert m.shape == (3, 5)
    np.testing.assert_allclose(m[:, 0], [0.5, 0.0, 1.0])  # 1e-3 is the middle on a log scale
    np.testing.assert_allclose(m[:, 1], [0.0, 1.0, 1.0])
    assert np.isnan(m[0, 2]) and m[1, 2] == pytest.approx(0.9)
    np.testing.assert_allclose(m[:, 3], [0.25, 1.0, 0.0])
    np.testing.assert_allclose(m[:, 4], [1 / 3, 0.0, 1.0])


def test_parallel_top_fraction_follows_direction(cond_space, cond_trials):
    best_min = parallel_data(cond_space, cond_trials, "loss", "minimize", top_fraction=0.33)
    assert best_min.numbers.tolist() == [1] and best_min.matrix[0, -1] == 0.5
    best_max = parallel_data(cond_space, cond_trials, "acc", "maximize", top_fraction=0.5)
    assert best_max.numbers.tolist() == [0, 2]  # 0.9 and 0.5, kept in number order
    assert best_max.values.tolist() == [0.5, 0.9]


def test_parallel_without_trials(cond_space):
    d = parallel_data(cond_space, [], "loss", "minimize", top_fraction=0.1)
    assert d.matrix.shape == (0, 5) and len(d.axes) == 5 and len(d.values) == 0


# --------------------------------------------------------------------------------------------
# contour


def quad_space():
    return SearchSpace({"x": Float(-2.0, 2.0), "y": Float(-2.0, 2.0), "c": Fixed("a")})


def quad(p, rng):
    return (p["x"] - 0.5) ** 2 + (p["y"] + 0.3) ** 2 + 0.01 * rng.normal()


@pytest.mark.parametrize("estimator,tol", [("GP", 0.25), ("RF", 0.6)])
def test_contour_of_a_quadratic_finds_its_minimum(estimator, tol):
    space = quad_space()
    ts = study(space, quad, 80)
    d = contour_data(space, ts, "x", "y", "minimize", resolution=41, estimator=estimator)
    assert d.xs.shape == (41,) and d.ys.shape == (41,)
    assert d.mean.shape == (41, 41)
    assert (d.std is not None) == (estimator == "GP")
    if d.std is not None:
        assert d.std.shape == (41, 41) and np.all(d.std >= 0)
    iy, ix = np.unravel_index(np.argmin(d.mean), d.mean.shape)
    assert abs(d.xs[ix] - 0.5) < tol and abs(d.ys[iy] + 0.3) < tol
    assert len(d.points_x) == len(d.point_values) == len(d.numbers) == 80
    # the predicted surface is high in the corner far from the minimum
    assert d.mean[0, 0] > d.mean[iy, ix] + 1.0


def test_contour_maximize_predicts_the_metric_itself():
    space = quad_space()
    ts = study(space, lambda p, r: -quad(p, r), 60)
    d = contour_data(space, ts, "x", "y", "maximize", resolution=21)
    iy, ix = np.unravel_index(np.argmax(d.mean), d.mean.shape)
    assert abs(d.xs[ix] - 0.5) < 0.3 and abs(d.ys[iy] + 0.3) < 0.3
    assert d.mean.max() == pytest.approx(0.0, abs=0.3)


def test_contour_log_and_categorical_axes(cond_space):
    def fn(p, rng):
        return (math.log10(p["lr"]) + 3) ** 2 + (0.5 if p["optimizer"] == "sgd" else 0.0)

    ts = study(cond_space, fn, 40)
    d = contour_data(cond_space, ts, "lr", "optimizer", "minimize", resolution=10)
    assert d.x_log and not d.y_log
    np.testing.assert_allclose(d.xs, np.geomspace(1e-4, 1e-2, 10))
    assert d.ys.tolist() == [0, 1]
    assert d.mean.shape == (2, 10)
    assert d.mean[0].min() < d.mean[1].min()  # adam better than sgd
    # conditional axis: trials where momentum is inactive are not drawn
    m = contour_data(cond_space, ts, "lr", "momentum", "minimize", resolution=5, estimator="ET")
    n_sgd = sum(1 for t in ts if t.params["optimizer"] == "sgd")
    assert len(m.points_x) == n_sgd and m.mean.shape == (5, 5) and m.std is None


def test_contour_with_too_few_trials_is_empty():
    space = quad_space()
    d = contour_data(space, [trial(0, {"x": 0.0, "y": 0.0, "c": "a"}, 1.0)], "x", "y", "minimize")
    assert d.mean.shape == (0, 0) and d.std is None and len(d.xs) == 40
    assert d.points_x.tolist() == [0.0]
    with pytest.raises(ValueError):
        contour_data(space, [], "x", "y", "minimize", estimator="GBRT")


# --------------------------------------------------------------------------------------------
# importance


def test_importance_ranks_the_dominant_parameter_first():
    space = SearchSpace(
        {
            "lr": Float(1e-4, 1e-1, log=True),
            "width": Int(8, 256, log=True),
            "useless": Float(0.0, 1.0),
            "act": Categorical(("relu", "tanh", "gelu")),
            "const": Fixed(1),
        }
    )

    def fn(p, rng):
        return (
            4.0 * (math.log10(p["lr"]) + 2.5) ** 2
            + 0.3 * math.log2(p["width"])
            + (0.4 if p["act"] == "tanh" else 0.0)
            + 0.05 * rng.normal()
        )

    ts = study(space, fn, 300)
    ranked = importance(space, ts, "minimize")
    names = [n for n, _ in ranked]
    shares = dict(ranked)
    assert set(names) == {"lr", "width", "useless", "act"}
    assert names[0] == "lr" and shares["lr"] > 0.6
    assert shares["useless"] < 0.05
    assert shares["width"] > shares["useless"]
    assert sum(shares.values()) == pytest.approx(1.0)
    assert all(a >= b for (_, a), (_, b) in zip(ranked, ranked[1:]))
    # the direction does not change which parameter matters
    flipped = [trial(t.number, t.params, -t.value) for t in ts]
    assert importance(space, flipped, "maximize")[0][0] == "lr"


def test_importance_on_a_conditional_space(cond_space):
    def fn(p, rng):
        return 3.0 * (1.0 - p.get("momentum", 0.0)) if p["optimizer"] == "sgd" else 0.0

    ranked = importance(cond_space, study(cond_space, fn, 120), "minimize")
    assert {n for n, _ in ranked} == {"lr", "optimizer", "momentum", "layers"}
    top2 = {n for n, _ in ranked[:2]}
    assert top2 == {"optimizer", "momentum"}
    assert sum(s for _, s in ranked) == pytest.approx(1.0)


def test_importance_edge_cases(cond_space, cond_trials):
    assert importance(cond_space, [], "minimize") == []
    assert importance(cond_space, cond_trials[:1], "minimize") == []
    flat = [trial(i, t.params, 1.0) for i, t in enumerate(cond_trials[:3])]
    ranked = importance(cond_space, flat, "minimize")  # no variance: equal shares
    assert [s for _, s in ranked] == pytest.approx([0.25] * 4)
    only_fixed = SearchSpace({"a": Fixed(1)})
    assert importance(only_fixed, [trial(0, {"a": 1}, 1.0), trial(1, {"a": 1}, 2.0)], "minimize") == []


def test_core_analysis_imports_no_heavy_modules():
    code = (
        "import sys, hpo_desktop.core.analysis, hpo_desktop.core.insights;"
        "bad = [m for m in ('sklearn', 'skopt', 'torch', 'PySide6', 'pyqtgraph') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_pareto_front_wants_two_columns():
    with pytest.raises(ValueError):
        pareto_front(np.zeros((3, 3)), ("minimize", "minimize"))


def test_a_parameter_with_a_single_value():
    space = SearchSpace(
        {"x": Float(0.0, 1.0), "only": Categorical(("relu",)), "w": Int(1, 10), "k": Fixed("a")}
    )
    rng = np.random.default_rng(0)
    ts = [trial(i, {"x": float(rng.random()), "only": "relu", "w": 4, "k": "a"}, 0.0) for i in range(30)]
    ts = [trial(t.number, t.params, float(t.params["x"] ** 2)) for t in ts]
    par = parallel_data(space, ts, "loss", "minimize")
    assert np.all(par.matrix[:, 1] == 0.5)  # one choice sits in the middle of its axis
    assert par.axes[1].categories == ("relu",) and par.axes[1].high == 0.0
    np.testing.assert_allclose(par.matrix[:, 2], 1 / 3)
    ranked = dict(importance(space, ts, "minimize"))
    assert ranked["x"] > 0.99 and ranked["only"] == 0.0 and ranked["w"] == 0.0
    d = contour_data(space, ts, "x", "only", "minimize", resolution=8)
    assert d.mean.shape == (1, 8) and d.ys.tolist() == [0.0]
    s = slice_data(space, ts, "w")
    assert set(s.x.tolist()) == {4.0} and len(s.values) == 30
