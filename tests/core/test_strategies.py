"""Search strategies: one contract every registered strategy meets, then each strategy's own rules."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from hpo_desktop.core.space import (
    Categorical,
    Fixed,
    Float,
    GridTooLarge,
    Int,
    SearchSpace,
    SpaceError,
    space_of,
)
from hpo_desktop.core.strategies import (
    STRATEGIES,
    BayesianStrategy,
    GridStrategy,
    RandomStrategy,
    Strategy,
    StrategyError,
    make_strategy,
    point_key,
)
from hpo_desktop.core.strategies.bayesian import schedule_point
from hpo_desktop.core.trial import FrozenTrial, TrialState

# Small budgets so the whole contract runs fast for the model-based strategy.
FAST_OPTIONS: dict[str, dict[str, Any]] = {
    "grid": {},
    "random": {},
    "bayesian": {"initial_points": 3, "n_candidates": 300},
}


def make_space() -> SearchSpace:
    """Mixed, conditional, gridable (4 * 10 * 4 * (2 + 3) = 800 combinations), with a fixed param."""
    return space_of(
        lr=Float(1e-4, 1e-1, log=True, grid_points=4),
        momentum=Float(0.0, 0.9, step=0.1),
        units=Int(8, 64, log=True, grid_points=4),
        optimizer=Categorical(("sgd", "adam")),
        nesterov=Categorical((True, False), when={"optimizer": "sgd"}),
        beta1=Float(0.8, 0.99, grid_points=3, when={"optimizer": "adam"}),
        epochs=Fixed(7),
    )


def objective(p: dict[str, Any]) -> float:
    v = (math.log10(p["lr"]) + 2.5) ** 2 + (p["momentum"] - 0.6) ** 2 + abs(math.log2(p["units"]) - 5) / 4
    if p["optimizer"] == "adam":
        v += (p["beta1"] - 0.9) ** 2
    else:
        v += 0.2 if p["nesterov"] else 0.3
    return v


def frozen(
    i: int, params: dict[str, Any], value: float | None, state: TrialState = TrialState.COMPLETE
) -> FrozenTrial:
    return FrozenTrial(study_id=1, trial_id=i, number=i, state=state, params=dict(params), value=value)


def keys(space: SearchSpace, points: list[dict[str, Any]]) -> list[tuple]:
    return [point_key(space, p) for p in points]


def assert_plain(params: dict[str, Any]) -> None:
    for name, v in params.items():
        assert type(v) in (int, float, str, bool), (
            f"{name}={v!r} is {type(v).__name__}, not a plain Python type"
        )


def drive(strategy: Strategy, n: int, f=objective) -> list[FrozenTrial]:
    """Ask/tell n times, returning the trials as a store would hold them."""
    trials = []
    for _ in range(n):
        [p] = strategy.ask()
        v = f(p)
        strategy.tell(p, v)
        trials.append(frozen(len(trials), p, v))
    return trials


@pytest.fixture(params=sorted(STRATEGIES))
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def build(
    kind: str, space: SearchSpace | None = None, *, seed: int = 0, direction: str = "minimize", **options: Any
):
    return make_strategy(
        kind, space or make_space(), seed=seed, direction=direction, **{**FAST_OPTIONS[kind], **options}
    )


class TestEveryStrategy:
    """The contract shared by every registered strategy."""

    def test_registered_class_describes_itself(self, kind: str) -> None:
        cls = STRATEGIES[kind]
        assert issubclass(cls, Strategy)
        assert cls.name == kind and cls.label and cls.help
        for opt, (_typ, default, help_text) in cls.options_schema.items():
            assert help_text, opt
            assert cls.check_options({})[opt] == default

    def test_asks_are_plain_and_inside_the_space(self, kind: str) -> None:
        space = make_space()
        s = build(kind, space)
        seen_branches = set()
        for _ in range(12):
            [p] = s.ask()
            assert_plain(p)
            assert space.contains(p), p
            assert p["epochs"] == 7
            if p["optimizer"] == "sgd":
                assert "beta1" not in p and "nesterov" in p
            else:
                assert "nesterov" not in p and "beta1" in p
            seen_branches.add(p["optimizer"])
            s.tell(p, objective(p))
        if kind != "grid":  # the grid walks the adam branch first
            assert seen_branches == {"sgd", "adam"}

    def test_seeded_determinism(self, kind: str) -> None:
        a = [t.params for t in drive(build(kind, seed=3), 8)]
        b = [t.params for t in drive(build(kind, seed=3), 8)]
        assert a == b
        if kind != "grid":
            c = [t.params for t in drive(build(kind, seed=4), 8)]
            assert c != a

    def test_warm_start_continues_where_it_stopped(self, kind: str) -> None:
        space = make_space()
        # gp_hedge learns its gains along the way (they restart at zero after a rebuild);
        # with a plain acquisition the Bayesian strategy is path independent too.
        options = {"acquisition": "EI"} if kind == "bayesian" else {}
        original = build(kind, space, seed=5, **options)
        trials = drive(original, 7)
        [running] = original.ask()  # handed out, still running when the study was closed
        trials.append(frozen(len(trials), running, None, TrialState.RUNNING))

        rebuilt = build(kind, space, seed=5, **options)
        rebuilt.tell_trials(trials)
        nxt_original, nxt_rebuilt = original.ask(2), rebuilt.ask(2)
        assert nxt_rebuilt == nxt_original
        done = set(keys(space, [t.params for t in trials]))
        assert not done & set(keys(space, nxt_rebuilt))

    def test_failures_and_non_finite_values_are_accepted(self, kind: str) -> None:
        space = make_space()
        s = build(kind, space)
        # Failures before any finite value exists...
        for state, value in [(TrialState.FAILED, None), (TrialState.COMPLETE, math.nan)]:
            [p] = s.ask()
            s.tell(p, value, state)
        [p] = s.ask()
        s.tell(p, 1.0)
        outcomes = [
            (TrialState.COMPLETE, math.inf),
            (TrialState.COMPLETE, -math.inf),
            (TrialState.PRUNED, None),
            (TrialState.PRUNED, 2.5),
            (TrialState.FAILED, 3.0),
            (TrialState.COMPLETE, np.float32(0.5)),
            (TrialState.COMPLETE, 0.7),
        ]
        for state, value in outcomes:
            [p] = s.ask()
            s.tell(p, value, state)
        for p in s.ask(3):
            assert space.contains(p)
            assert_plain(p)

    def test_batch_of_four_distinct_points(self, kind: str) -> None:
        space = make_space()
        s = build(kind, space)
        told = drive(s, 5)
        batch = s.ask(4)
        assert len(batch) == 4
        ks = keys(space, batch)
        assert len(set(ks)) == 4
        assert not set(ks) & set(keys(space, [t.params for t in told]))
        # Pending points are not handed out again by the next ask.
        again = s.ask(2)
        assert not set(keys(space, again)) & set(ks)

    def test_maximize_mirrors_minimize(self, kind: str) -> None:
        space = make_space()
        mini = build(kind, space, seed=2)
        maxi = build(kind, space, seed=2, direction="maximize")
        for _ in range(7):
            [p] = mini.ask()
            [q] = maxi.ask()
            assert p == q
            mini.tell(p, objective(p))
            maxi.tell(q, -objective(q))
        assert mini.ask(2) == maxi.ask(2)

    def test_bad_direction(self, kind: str) -> None:
        with pytest.raises(StrategyError, match="direction"):
            build(kind, direction="up")

    def test_unknown_option_is_named(self, kind: str) -> None:
        with pytest.raises(StrategyError, match="'colour'"):
            build(kind, colour="blue")

    def test_interrupted_trial_releases_its_point(self, kind: str) -> None:
        space = make_space()
        s = build(kind, space)
        drive(s, 4)
        [p] = s.ask()
        s.tell(p, None, TrialState.INTERRUPTED)
        for q in s.ask(3):
            assert space.contains(q)


def test_make_strategy_unknown_kind() -> None:
    with pytest.raises(StrategyError, match="unknown strategy 'foo'; choose grid, random or bayesian"):
        make_strategy("foo", make_space())


def test_make_strategy_accepts_the_plain_space_form() -> None:
    s = make_strategy("random", {"x": {"type": "float", "low": 0, "high": 1}}, seed=1)
    [p] = s.ask()
    assert 0 <= p["x"] <= 1


def test_importing_strategies_does_not_import_skopt_or_sklearn() -> None:
    code = (
        "import sys, hpo_desktop.core.strategies as s; "
        "bad = [m for m in ('skopt', 'sklearn', 'PySide6', 'torch') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- grid ----------------------------------------------------------------------------------------
def small_grid_space() -> SearchSpace:
    return space_of(a=Int(0, 1), b=Categorical(("x", "y")))


def test_grid_order_is_deterministic_last_parameter_fastest() -> None:
    s = make_strategy("grid", small_grid_space())
    assert s.size() == 4
    assert s.ask(4) == [{"a": 0, "b": "x"}, {"a": 0, "b": "y"}, {"a": 1, "b": "x"}, {"a": 1, "b": "y"}]


def test_grid_exhaustion() -> None:
    s = make_strategy("grid", small_grid_space())
    assert not s.exhausted
    first = s.ask(10)
    assert len(first) == 4
    assert s.exhausted
    assert s.ask() == []
    for p in first:
        s.tell(p, 1.0)
    assert s.exhausted and s.ask(3) == []


def test_grid_skips_points_already_told_or_pending() -> None:
    space = space_of(x=Float(0.0, 0.5, step=0.1), c=Categorical((True, 1, "1")))
    s = make_strategy("grid", space)
    s.tell({"x": 0.1 + 0.2, "c": True}, 1.0)  # 0.30000000000000004 is the grid's 0.3
    s.mark_pending({"x": 0.0, "c": 1})
    handed = keys(space, s.ask(100))
    assert len(handed) == space.grid_size() - 2 == 16
    assert point_key(space, {"x": 0.3, "c": True}) not in handed
    assert point_key(space, {"x": 0.0, "c": 1}) not in handed
    # True, 1 and "1" stay different choices (a plain == would call True and 1 equal).
    assert point_key(space, {"x": 0.3, "c": 1}) in handed
    assert point_key(space, {"x": 0.0, "c": True}) in handed


def test_grid_interrupted_point_is_handed_out_again_failed_is_not() -> None:
    s = make_strategy("grid", small_grid_space())
    p1, p2 = s.ask(2)
    s.tell(p1, None, TrialState.FAILED)
    s.tell(p2, None, TrialState.INTERRUPTED)
    assert s.ask() == [p2]
    assert s.ask(5) == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}]


def test_grid_warm_start_skips_stored_trials() -> None:
    s = make_strategy("grid", small_grid_space())
    s.tell_trials(
        [
            frozen(0, {"a": 0, "b": "x"}, 1.0),
            frozen(1, {"a": 0, "b": "y"}, None, TrialState.FAILED),
            frozen(2, {"a": 1, "b": "x"}, None, TrialState.RUNNING),
            frozen(3, {"a": 1, "b": "y"}, None, TrialState.INTERRUPTED),  # not run: handed out again
        ]
    )
    assert s.ask(4) == [{"a": 1, "b": "y"}]


def test_grid_too_large_names_the_size() -> None:
    space = space_of(x=Int(0, 999), y=Int(0, 99))
    with pytest.raises(GridTooLarge, match="100,000 combinations") as info:
        make_strategy("grid", space, limit=5000)
    assert info.value.size == 100_000
    assert make_strategy("grid", space).size() == 100_000  # the default limit allows it


def test_grid_needs_steps_for_floats() -> None:
    with pytest.raises(SpaceError, match="step or grid_points"):
        make_strategy("grid", space_of(x=Float(0.0, 1.0)))


def test_grid_shuffle_is_seeded_and_complete() -> None:
    space = make_space()
    plain = [p for p in make_strategy("grid", space).ask(1000)]
    a = make_strategy("grid", space, seed=1, shuffle=True).ask(1000)
    b = make_strategy("grid", space, seed=1, shuffle=True).ask(1000)
    c = make_strategy("grid", space, seed=2, shuffle=True).ask(1000)
    assert a == b and a != c and a != plain
    assert sorted(keys(space, a)) == sorted(keys(space, plain)) and len(a) == 800


@pytest.mark.parametrize(("options", "name"), [({"limit": 0}, "limit"), ({"shuffle": "yes"}, "shuffle")])
def test_grid_bad_options(options: dict[str, Any], name: str) -> None:
    with pytest.raises(StrategyError, match=f"'{name}'"):
        make_strategy("grid", small_grid_space(), **options)


# -- random ----------------------------------------------------------------------------------------
def test_random_kth_point_depends_only_on_seed_and_k() -> None:
    space = make_space()
    for design in ("random", "sobol", "lhs"):
        s = make_strategy("random", space, seed=9, design=design, design_size=8)
        handed = [p for _ in range(20) for p in s.ask()]
        ref = make_strategy("random", space, seed=9, design=design, design_size=8)
        assert handed == [ref.point(k) for k in range(20)]
        assert handed[:10] == make_strategy("random", space, seed=9, design=design, design_size=8).ask(10)


@pytest.mark.parametrize("design", ["sobol", "lhs"])
def test_random_quasi_random_designs_stratify(design: str) -> None:
    space = space_of(x=Float(0.0, 1.0), y=Float(1e-3, 1.0, log=True), c=Categorical(("a", "b")))
    s = make_strategy("random", space, seed=0, design=design, design_size=16)
    pts = s.ask(16)
    assert all(space.contains(p) for p in pts)
    bins = sorted(int(p["x"] * 16) for p in pts)
    assert bins == list(range(16))  # one point in each sixteenth of x
    log_bins = sorted(int((math.log10(p["y"]) + 3) / 3 * 16) for p in pts)
    assert log_bins == list(range(16))  # ... and of log(y)
    assert sum(p["c"] == "a" for p in pts) == 8


def test_random_skips_points_already_told_in_small_spaces() -> None:
    space = space_of(c=Categorical(("a", "b", "c", "d")))
    s = make_strategy("random", space, seed=0)
    pts = [p["c"] for p in s.ask(4)]
    assert sorted(pts) == ["a", "b", "c", "d"]
    assert len(s.ask(2)) == 2  # exhausted: repeats are allowed rather than an endless loop


@pytest.mark.parametrize(
    ("options", "name"), [({"design": "halton"}, "design"), ({"design_size": 0}, "design_size")]
)
def test_random_bad_options(options: dict[str, Any], name: str) -> None:
    with pytest.raises(StrategyError, match=f"'{name}'"):
        make_strategy("random", make_space(), **options)


# -- bayesian ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("estimator", "acquisition"),
    [("GP", "EI"), ("GP", "gp_hedge"), ("RF", "EI"), ("RF", "LCB"), ("ET", "PI"), ("ET", "gp_hedge")],
)
def test_bayesian_each_estimator_and_acquisition(estimator: str, acquisition: str) -> None:
    space = make_space()
    s = make_strategy(
        "bayesian",
        space,
        seed=1,
        estimator=estimator,
        acquisition=acquisition,
        initial_points=4,
        n_candidates=200,
    )
    told = drive(s, 7)
    batch = s.ask(2)
    for p in [t.params for t in told] + batch:
        assert space.contains(p)
        assert_plain(p)
    assert len(set(keys(space, [t.params for t in told] + batch))) == 9


def test_bayesian_initial_design_comes_first() -> None:
    space = make_space()
    for design in ("random", "sobol", "lhs", "halton", "grid"):
        gp = make_strategy("bayesian", space, seed=2, initial_points=5, initial_design=design)
        rf = make_strategy("bayesian", space, seed=2, initial_points=5, initial_design=design, estimator="RF")
        a = [t.params for t in drive(gp, 5)]
        b = [t.params for t in drive(rf, 5)]
        assert a == b, design  # from the design, not from a model
        assert all(space.contains(p) for p in a)
        assert len(set(keys(space, a))) == 5


def test_bayesian_beats_random_on_a_smooth_function() -> None:
    space = space_of(x=Float(-2.0, 2.0), y=Float(-2.0, 2.0))

    def f(p: dict[str, Any]) -> float:
        return (p["x"] - 0.7) ** 2 + 2 * (p["y"] + 0.4) ** 2 + 0.3 * math.sin(3 * p["x"])

    fmin = min(f({"x": x, "y": -0.4}) for x in np.linspace(-2, 2, 4001))
    gaps: dict[str, list[float]] = {"bayesian": [], "random": []}
    for seed in range(4):
        for kind in gaps:
            opts = {"initial_points": 5, "n_candidates": 500} if kind == "bayesian" else {}
            s = make_strategy(kind, space, seed=seed, **opts)
            gaps[kind].append(min(t.value for t in drive(s, 20, f)) - fmin)
    assert np.mean(gaps["bayesian"]) < 0.3 * np.mean(gaps["random"]), gaps


def test_bayesian_penalty_for_failures() -> None:
    space = space_of(x=Float(0.0, 1.0))
    s = make_strategy("bayesian", space, seed=0, initial_points=2)
    s.tell({"x": 0.1}, None, TrialState.FAILED)
    s.tell({"x": 0.2}, math.nan)
    X, y = s._resolve(s._obs)
    assert len(y) == 0  # held back while no finite value exists
    s.tell({"x": 0.3}, 2.0)
    X, y = s._resolve(s._obs)
    assert list(y) == [3.0, 3.0, 2.0]  # worst + 1 while the range is 0
    s.tell({"x": 0.4}, 1.0)
    s.tell({"x": 0.5}, 5.0, TrialState.PRUNED)  # a pruned trial's last value is taught as is
    s.tell({"x": 0.6}, None, TrialState.PRUNED)
    s.tell({"x": 0.7}, 0.0, TrialState.FAILED)  # a failed trial's value is ignored
    X, y = s._resolve(s._obs)
    assert list(y) == [5.4, 5.4, 2.0, 1.0, 5.0, 5.4, 5.4]  # worst 5 + 10 % of the range 4
    assert X.shape == (7, 1)


def test_bayesian_penalty_is_signed_for_maximize() -> None:
    space = space_of(x=Float(0.0, 1.0))
    s = make_strategy("bayesian", space, seed=0, direction="maximize")
    s.tell({"x": 0.1}, 10.0)
    s.tell({"x": 0.2}, 20.0)
    s.tell({"x": 0.3}, math.inf)  # not finite: a penalty, not a great result
    _, y = s._resolve(s._obs)
    assert list(y) == [-10.0, -20.0, -9.0]


def test_bayesian_pending_points_are_not_proposed_again() -> None:
    space = space_of(x=Float(0.0, 1.0), n=Int(1, 4))
    s = make_strategy("bayesian", space, seed=0, initial_points=3, n_candidates=200)
    drive(s, 5, lambda p: (p["x"] - 0.5) ** 2 + p["n"])
    first = s.ask(4)
    second = s.ask(4)
    ks = keys(space, first + second)
    assert len(set(ks)) == 8


def test_bayesian_gp_hedge_rebuilt_continues_without_repeats() -> None:
    space = make_space()
    original = make_strategy("bayesian", space, seed=3, initial_points=3, n_candidates=300)
    trials = drive(original, 8)
    rebuilt = make_strategy("bayesian", space, seed=3, initial_points=3, n_candidates=300)
    rebuilt.tell_trials(trials)
    done = set(keys(space, [t.params for t in trials]))
    nxt = rebuilt.ask(3)
    assert all(space.contains(p) for p in nxt)
    assert len(set(keys(space, nxt)) - done) == 3


@pytest.mark.parametrize("estimator", ["RF", "ET"])
def test_bayesian_fast_forest_prediction_matches_skopt(estimator: str) -> None:
    from hpo_desktop.core.strategies.bayesian import _forest_predict

    space = make_space()
    s = make_strategy("bayesian", space, seed=0, estimator=estimator)
    for t in drive(make_strategy("random", space, seed=1), 30):
        s.tell(t.params, t.value)
    X, y = s._resolve(s._obs)
    est = s._fit(X, y)
    probe = np.random.default_rng(0).random((200, X.shape[1]))
    mu, std = est.predict(probe, return_std=True)
    fast_mu, fast_std = _forest_predict(est, probe)
    np.testing.assert_allclose(fast_mu, mu, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fast_std, std, rtol=1e-7, atol=1e-9)


def test_bayesian_fast_gp_prediction_matches_skopt() -> None:
    space = make_space()
    s = make_strategy("bayesian", space, seed=0)
    for t in drive(make_strategy("random", space, seed=1), 30):
        s.tell(t.params, t.value)
    X, y = s._resolve(s._obs)
    est = s._fit(X, y)
    probe = np.random.default_rng(0).random((200, X.shape[1]))
    mu, std = est.predict(probe, return_std=True)
    fast_mu, fast_std = s._predict(est, probe)
    np.testing.assert_allclose(fast_mu, mu, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fast_std, std, rtol=1e-4, atol=1e-8)  # skopt goes through K^-1: less exact


def test_bayesian_kernel_schedule() -> None:
    ns = (1, 19, 20, 21, 22, 23, 24, 100, 200)
    assert [schedule_point(n) for n in ns] == [1, 19, 20, 20, 22, 22, 24, 94, 196]


def test_bayesian_only_fixed_parameters() -> None:
    s = make_strategy("bayesian", space_of(a=Fixed(1)), seed=0)
    assert s.ask(2) == [{"a": 1}, {"a": 1}]


def test_bayesian_gbrt_is_refused_with_a_reason() -> None:
    with pytest.raises(StrategyError, match="'estimator'.*GBRT.*broken"):
        make_strategy("bayesian", make_space(), estimator="GBRT")


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"estimator": "SVM"}, "estimator"),
        ({"acquisition": "MES"}, "acquisition"),
        ({"initial_design": "hammersly"}, "initial_design"),
        ({"liar": "median"}, "liar"),
        ({"initial_points": -1}, "initial_points"),
        ({"n_candidates": 5}, "n_candidates"),
        ({"xi": -0.1}, "xi"),
        ({"kappa": math.inf}, "kappa"),
        ({"kappa": "big"}, "kappa"),
    ],
)
def test_bayesian_bad_options(options: dict[str, Any], name: str) -> None:
    with pytest.raises(StrategyError, match=f"'{name}'"):
        make_strategy("bayesian", make_space(), **options)


def test_bayesian_options_are_case_insensitive() -> None:
    s = make_strategy("bayesian", make_space(), estimator="gp", acquisition="GP_HEDGE", liar="MAX")
    assert isinstance(s, BayesianStrategy)
    assert (s.options["estimator"], s.options["acquisition"], s.options["liar"]) == ("GP", "gp_hedge", "max")


def test_registry_classes() -> None:
    assert STRATEGIES == {"grid": GridStrategy, "random": RandomStrategy, "bayesian": BayesianStrategy}
