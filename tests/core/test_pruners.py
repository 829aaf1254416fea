"""Pruners: the user's story of stopping bad trials early, from the rule to the stored study."""

from __future__ import annotations

import math
import textwrap

import pytest

from hpo_desktop import Float, Study, TrialState
from hpo_desktop.core.pruners import PRUNERS, PrunerError, make_pruner
from hpo_desktop.core.spec import SpecError, parse_spec
from hpo_desktop.core.study import create_from_spec

STEPS = 30


def rising(top: float, speed: float = 0.4, steps: int = STEPS) -> list[tuple[int, float]]:
    """An accuracy curve climbing towards ``top``."""
    return [(s, top * (1.0 - math.exp(-speed * s))) for s in range(1, steps + 1)]


def good_history(pruner, n: int = 24) -> None:
    """Tell ``pruner`` n finished trials with decent curves (tops 0.80-0.95)."""
    for i in range(n):
        pruner.observe(i, TrialState.COMPLETE, rising(0.80 + 0.15 * i / (n - 1)))


def first_prune(pruner, number: int, curve) -> int | None:
    """The step at which ``pruner`` stops a trial reporting ``curve`` (None: never)."""
    for k in range(1, len(curve) + 1):
        if pruner.check(number, curve[:k]):
            return curve[k - 1][0]
    return None


# kind -> (options, warm-up step: nothing is stopped before it)
CASES = {
    "median": ({"n_startup_trials": 5, "n_warmup_steps": 3}, 3),
    "asha": ({"min_resource": 3, "max_resource": STEPS}, 3),
    "hyperband": ({"min_resource": 3, "max_resource": STEPS}, 3),
    "patience": ({"patience": 4, "threshold": 0.5, "n_warmup_steps": 3}, 3),
}


@pytest.fixture(params=sorted(CASES))
def case(request):
    kind = request.param
    options, warm = CASES[kind]
    return kind, options, warm


class TestEveryPruner:
    """The contract every registered pruner keeps (one class, each pruner through it)."""

    def test_every_registered_pruner_is_covered(self):
        assert set(PRUNERS) - {"none"} == set(CASES)

    def test_never_prunes_before_the_warm_up(self, case):
        kind, options, warm = case
        p = make_pruner(kind, direction="maximize", **options)
        good_history(p)
        terrible = [(s, 0.01) for s in range(1, warm)]
        for number in range(100, 130):  # every hyperband bracket gets its turn
            assert first_prune(p, number, terrible) is None

    def test_prunes_a_clearly_bad_curve(self, case):
        kind, options, _warm = case
        p = make_pruner(kind, direction="maximize", **options)
        good_history(p)
        for number in range(100, 130):
            at = first_prune(p, number, rising(0.2))
            assert at is not None and at < STEPS, (kind, number)
            assert p.check(number, rising(0.2)[:at]).startswith(kind)

    def test_keeps_a_clearly_good_curve(self, case):
        kind, options, _warm = case
        p = make_pruner(kind, direction="maximize", **options)
        good_history(p)
        for number in range(100, 130):
            assert first_prune(p, number, rising(0.99, speed=0.6)) is None

    def test_minimize_is_the_mirror_image(self, case):
        kind, options, _warm = case
        mirrored = {**options, "threshold": -options["threshold"]} if "threshold" in options else options
        up = make_pruner(kind, direction="maximize", **options)
        down = make_pruner(kind, direction="minimize", **mirrored)
        for i in range(24):
            curve = rising(0.80 + 0.15 * i / 23)
            up.observe(i, TrialState.COMPLETE, curve)
            down.observe(i, TrialState.COMPLETE, [(s, -v) for s, v in curve])
        for top in (0.2, 0.85, 0.99):
            for number in (100, 101, 102):
                c = rising(top)
                assert first_prune(up, number, c) == first_prune(down, number, [(s, -v) for s, v in c])

    def test_same_decisions_after_a_restart(self, case, tmp_path):
        """A study run with the pruner, reopened: the pruner rebuilt from the stored trials
        decides exactly like the one that lived through the run."""
        kind, options, _warm = case
        study = Study.create(
            tmp_path / "s.db", "s", {"top": Float(0.1, 1.0)}, "random",
            metric="acc", direction="maximize", seed=3, pruner={"kind": kind, **options},
        )  # fmt: skip
        study.optimize(curve_objective, n_trials=25)
        lived = study._pruner
        study.close()
        with Study.open(tmp_path / "s.db") as again:
            rebuilt = again.make_pruner()
        assert type(rebuilt) is type(lived)
        decisions = []
        for top in (0.15, 0.3, 0.5, 0.7, 0.9, 0.99):
            for number in range(25, 31):
                a = first_prune(lived, number, rising(top))
                b = first_prune(rebuilt, number, rising(top))
                assert a == b
                decisions.append(a)
        assert any(d is not None for d in decisions) and any(d is None for d in decisions)


def curve_objective(params, trial):
    """Reports an accuracy curve that climbs to ``top``; stops when told to."""
    acc = 0.0
    for step in range(1, STEPS + 1):
        acc = params["top"] * (1.0 - math.exp(-0.4 * step))
        trial.report(step, acc=acc)
        if trial.should_stop():
            break
    return {"acc": acc}


# -- the rules one by one -------------------------------------------------------------------------
def test_median_waits_for_enough_completed_trials():
    p = make_pruner("median", direction="maximize", n_startup_trials=5, n_warmup_steps=0)
    for i in range(4):
        p.observe(i, TrialState.COMPLETE, rising(0.9))
    p.observe(4, TrialState.PRUNED, rising(0.9)[:3])  # pruned trials do not count as completed
    assert first_prune(p, 9, rising(0.1)) is None
    p.observe(5, TrialState.COMPLETE, rising(0.9))
    reason = p.check(9, rising(0.1)[:1])
    assert reason == (
        "median: best 0.03297 at step 1 worse than the median 0.2967 of the 5 latest trials at that step"
    )


def flat(value: float, steps: int = STEPS) -> list[tuple[int, float]]:
    return [(s, value) for s in range(1, steps + 1)]


def test_median_compares_with_the_latest_trials_not_the_first_ones():
    """An adaptive search improves: five poor early trials, then five good ones. A middling trial
    is below the median of the latest five (the default window) but above the median of all
    ten (n_recent_trials = 0)."""
    latest = make_pruner("median", direction="maximize")
    everyone = make_pruner("median", direction="maximize", n_recent_trials=0)
    for p in (latest, everyone):
        for i in range(5):
            p.observe(i, TrialState.COMPLETE, flat(0.50 + 0.01 * i))
        for i in range(5, 10):
            p.observe(i, TrialState.COMPLETE, flat(0.90 + 0.01 * i))
    middling = flat(0.80)
    assert latest.reference(1) == pytest.approx([0.95, 0.96, 0.97, 0.98, 0.99])
    assert latest.check(10, middling[:1]) == (
        "median: best 0.8 at step 1 worse than the median 0.97 of the 5 latest trials at that step"
    )
    assert first_prune(everyone, 10, middling) is None  # the bar is (0.54 + 0.95) / 2 = 0.745
    assert everyone.check(10, flat(0.7)[:1]) == (
        "median: best 0.7 at step 1 worse than the median 0.745 of the 10 earlier trials at that step"
    )


def test_median_counts_pruned_trials_at_the_steps_they_reached():
    """The reference at step s is every recent trial that reached s, pruned ones included: three
    good complete trials, then three pruned at step 2 with poor values. At steps 1-2 the window
    holds the pruned three and the two latest complete ones (median: a pruned trial's 0.6); from
    step 3 only the complete ones reached it (median 0.91)."""
    p = make_pruner("median", direction="maximize", n_startup_trials=3)
    for i in range(3):
        p.observe(i, TrialState.COMPLETE, flat(0.90 + 0.01 * i))
    for i in range(3, 6):
        p.observe(i, TrialState.PRUNED, flat(0.50 + 0.05 * (i - 3), steps=2))
    assert p.reference(2) == pytest.approx([0.5, 0.55, 0.6, 0.91, 0.92])
    assert p.reference(3) == pytest.approx([0.90, 0.91, 0.92])
    trial = flat(0.8)
    assert p.check(6, trial[:1]) is None and p.check(6, trial[:2]) is None
    assert p.check(6, trial[:3]).startswith("median: best 0.8 at step 3 worse than the median 0.91 of the 3")


def test_median_window_is_by_trial_number_whatever_the_order_trials_finish_in():
    """Parallel trials finish out of order; a restart observes them by number. The window holds
    the highest trial numbers, so both decide alike."""
    curves = {i: flat(0.5 + 0.04 * i) for i in range(10)}
    in_order = make_pruner("median", direction="maximize")
    shuffled = make_pruner("median", direction="maximize")
    for i in range(10):
        in_order.observe(i, TrialState.COMPLETE, curves[i])
    for i in (9, 3, 0, 7, 5, 1, 8, 2, 6, 4):
        shuffled.observe(i, TrialState.COMPLETE, curves[i])
    assert in_order.reference(5) == shuffled.reference(5) == pytest.approx([0.7, 0.74, 0.78, 0.82, 0.86])
    for top in (0.6, 0.75, 0.8, 0.9):
        assert first_prune(in_order, 10, flat(top)) == first_prune(shuffled, 10, flat(top))


def test_asha_rungs_and_its_reason():
    p = make_pruner("asha", direction="maximize", max_resource=30)
    assert p.halving.steps == [1, 3, 9, 27]
    p.observe(0, TrialState.COMPLETE, [(s, 0.9) for s in range(1, 31)])
    p.observe(1, TrialState.PRUNED, [(1, 0.5)])
    p.observe(2, TrialState.PRUNED, [(1, 0.6)])
    # Three values at rung 0 (0.5, 0.6, 0.9) + this one: the top 4 // 3 = 1 goes on.
    assert p.check(3, [(1, 0.95)]) is None
    assert p.check(3, [(1, 0.7)]) == "asha: below rung 0 (step 1) cut-off 0.9, best 0.7"
    # Step 2 crosses no rung: no decision, whatever the value.
    assert p.check(3, [(1, 0.95), (2, 0.1)]) is None


def test_hyperband_brackets_are_a_pure_function_of_seed_and_number():
    a = make_pruner("hyperband", seed=7, max_resource=30)
    b = make_pruner("hyperband", seed=7, max_resource=30)
    c = make_pruner("hyperband", seed=8, max_resource=30)
    got = [a.bracket_of(n) for n in range(200)]
    assert got == [b.bracket_of(n) for n in range(200)]
    assert got != [c.bracket_of(n) for n in range(200)]
    assert [h.steps for h in a.brackets] == [[1, 3, 9, 27], [3, 9, 27], [9, 27], [27]]
    counts = [got.count(i) for i in range(4)]
    assert counts[0] > counts[1] > counts[3] > 0  # aggressive brackets get more trials


def test_patience_counts_steps_without_improvement():
    p = make_pruner("patience", patience=3, min_delta=0.01, direction="minimize")
    curve = [(1, 1.0), (2, 0.5), (3, 0.495), (4, 0.6), (5, 0.499)]
    assert first_prune(p, 0, curve) == 5
    assert p.check(0, curve) == "patience: no improvement for 3 steps (best 0.495 at step 2)"


@pytest.mark.parametrize(
    ("kind", "options", "words"),
    [
        (
            "asha",
            {"reduction_factor": 1},
            "option 'reduction_factor' of the asha pruner must be at least 2, got 1",
        ),
        ("median", {"percentile": 100}, "option 'percentile' of the median pruner must be between 0 and 100"),
        ("median", {"n_startup": 3}, "unknown option 'n_startup' for the median pruner (allowed: "),
        ("median", {"n_recent_trials": -1}, "option 'n_recent_trials' of the median pruner must be 0"),
        ("hyperband", {"max_resource": 1}, "option 'max_resource' of the hyperband pruner must be larger"),
        (
            "patience",
            {"patience": "5"},
            "option 'patience' of the patience pruner must be an integer, got '5'",
        ),
        ("patience", {"patience": 0}, "would never stop a trial"),
        ("asha", {"min_resource": True}, "must be an integer, got True"),
        ("sha", {}, "unknown pruner 'sha'; choose none, median, asha, hyperband or patience"),
    ],
)
def test_bad_options_are_named(kind, options, words):
    with pytest.raises(PrunerError) as err:
        make_pruner(kind, **options)
    assert words in str(err.value)


def test_decisions_take_well_under_a_millisecond():
    """Not a timing test (bench/pruning.py measures); a guard against quadratic state."""
    import time

    for kind, options in (("median", {}), ("asha", {"max_resource": 30}), ("hyperband", {})):
        p = make_pruner(kind, direction="maximize", **options)
        good_history(p, 400)
        curve = rising(0.85)
        t0 = time.perf_counter()
        for k in range(1, len(curve) + 1):
            p.check(1000, curve[:k])
        assert (time.perf_counter() - t0) / len(curve) < 0.005  # 5 ms: 10x headroom on a busy box


# -- in a study ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_study_with_each_pruner_stores_pruned_trials_and_finishes(tmp_path, kind):
    options, _warm = CASES[kind]
    study = Study.create(
        tmp_path / "s.db", "s", {"top": Float(0.1, 1.0)}, "random",
        metric="acc", direction="maximize", seed=1, pruner={"kind": kind, **options},
    )  # fmt: skip
    done = study.optimize(curve_objective, n_trials=20)
    assert done.reason == "budget" and done.n_finished == 20
    trials = study.trials
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned and any(t.state == TrialState.COMPLETE for t in trials)
    for t in pruned:
        full = study.trial(t.number)
        steps = [s for s, _ in full.curves["acc"]]
        assert steps[-1] == t.attrs["pruned_at"] < STEPS  # the partial curve ends where it stopped
        assert t.attrs["pruned_by"].startswith(kind)
        assert t.value == pytest.approx(full.curves["acc"][-1][1])  # the value reached
    assert study.pruner == {"kind": kind, **options}
    assert sum(t.last_step for t in trials) < 20 * STEPS
    study.close()


def test_bayesian_keeps_making_progress_with_pruned_trials(tmp_path):
    """Pruned trials are taught their partial value: the model still closes in on the optimum."""

    def objective(params, trial):
        top = 1.0 - (params["x"] - 0.3) ** 2 - (params["y"] - 0.7) ** 2
        acc = 0.0
        for step in range(1, 16):
            acc = top * (1.0 - math.exp(-0.5 * step))
            trial.report(step, acc=acc)
            if trial.should_stop():
                break
        return {"acc": acc}

    study = Study.create(
        tmp_path / "b.db", "b", {"x": Float(0.0, 1.0), "y": Float(0.0, 1.0)}, "bayesian",
        strategy_options={"initial_points": 6}, metric="acc", direction="maximize", seed=0,
        pruner={"kind": "asha", "max_resource": 15},
    )  # fmt: skip
    study.optimize(objective, n_trials=24)
    trials = study.trials
    assert sum(t.state == TrialState.PRUNED for t in trials) >= 6
    first = max(t.value for t in trials[:6] if t.state == TrialState.COMPLETE)
    assert study.best_value > first
    assert study.best_value > 0.985  # the optimum is 0.9945 (1 - exp(-7.5))
    assert len({(t.params["x"], t.params["y"]) for t in trials}) == len(trials)  # no repeats
    study.close()


def test_no_pruner_is_the_default_and_set_pruner_changes_it_between_runs(tmp_path):
    study = Study.create(tmp_path / "s.db", "s", {"top": Float(0.1, 1.0)}, "random", metric="acc",
                         direction="maximize")  # fmt: skip
    assert study.pruner == {"kind": "none"} and "pruner" not in study.record.attrs
    study.optimize(curve_objective, n_trials=6)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    study.enqueue({"top": 0.2})
    study.set_pruner({"kind": "median", "n_startup_trials": 3, "n_warmup_steps": 2})
    assert study.store.queued_trials(study.study_id) == [{"top": 0.2}]  # the queue is kept
    study.optimize(curve_objective, n_trials=7)
    queued = study.trials[6]
    assert queued.state == TrialState.PRUNED and queued.attrs["pruned_at"] == 2
    with pytest.raises(PrunerError, match="'percentile'"):
        study.set_pruner({"kind": "median", "percentile": 0})
    assert study.pruner["kind"] == "median"  # a refused change leaves the stored pruner alone
    study.set_pruner(None)
    assert study.pruner == {"kind": "none"}
    study.close()


def test_a_bad_pruner_is_refused_before_the_file_is_made(tmp_path):
    with pytest.raises(PrunerError, match="reduction_factor"):
        Study.create(
            tmp_path / "s.db", "s", {"x": Float(0, 1)}, pruner={"kind": "asha", "reduction_factor": 0}
        )
    assert not (tmp_path / "s.db").exists()


def test_an_objective_can_ask_should_prune_and_raise_trial_pruned(tmp_path):
    from hpo_desktop import TrialPruned

    def objective(params, trial):
        for step in range(1, 11):
            trial.report(step, acc=params["top"] * step / 10)
            if trial.should_prune():
                raise TrialPruned()
        return params["top"]

    with Study.create(tmp_path / "s.db", "s", {"top": Float(0.1, 1.0)}, "random", metric="acc",
                      direction="maximize", pruner="asha") as study:  # fmt: skip
        study.optimize(objective, n_trials=12)
        pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
        assert pruned and all("pruned_by" in t.attrs for t in pruned)


# -- the spec --------------------------------------------------------------------------------------
SPEC = """\
[study]
name = "p"
metric = "val_accuracy"
direction = "maximize"

[pruner]
kind = "asha"
reduction_factor = 4
max_resource = 20

[space]
lr = { type = "float", low = 1e-4, high = 1e-1, log = true }
"""


def test_spec_pruner_section_round_trips_and_reaches_the_study(tmp_path):
    spec = parse_spec(SPEC)
    assert spec.pruner == {"kind": "asha", "reduction_factor": 4, "max_resource": 20}
    again = parse_spec(spec.to_toml())
    assert again.pruner == spec.pruner
    assert "[pruner]" in spec.to_toml()
    assert parse_spec(SPEC.replace('kind = "asha"', 'kind = "none"').replace("reduction_factor = 4\n", "").replace(
        "max_resource = 20\n", "")).pruner == {}  # fmt: skip
    with create_from_spec(tmp_path / "p.db", spec) as study:
        assert study.pruner == spec.pruner


@pytest.mark.parametrize(
    ("old", "new", "words", "line"),
    [
        (
            'kind = "asha"',
            'kind = "sha"',
            "[pruner] kind must be one of none, median, asha, hyperband, patience",
            7,
        ),
        (
            "reduction_factor = 4",
            "reduction_factor = 1",
            "option 'reduction_factor' of the asha pruner must be",
            8,
        ),
        ("max_resource = 20", "max_resorce = 20", "unknown option 'max_resorce' for the asha pruner", 9),
        ('kind = "asha"', 'type = "asha"', "[pruner] needs a 'kind'", 6),
    ],
)
def test_spec_pruner_mistakes_name_the_key_and_line(old, new, words, line):
    with pytest.raises(SpecError) as err:
        parse_spec(SPEC.replace(old, new), source="p.toml")
    assert words in str(err.value)
    assert err.value.line == line


def test_example_text_in_the_docs_parses():
    text = textwrap.dedent(
        """\
        [study]
        metric = "val_accuracy"
        direction = "maximize"
        [pruner]
        kind = "median"
        n_startup_trials = 5
        n_warmup_steps = 3
        [space]
        lr = { type = "float", low = 1e-4, high = 1e-1, log = true }
        """
    )
    assert parse_spec(text).pruner["kind"] == "median"


# -- the command line ------------------------------------------------------------------------------
def test_cli_run_and_resume_honour_the_spec_pruner(tmp_path, monkeypatch):
    """`hpo-desktop run` stores the [pruner]; a changed [pruner] is recorded on the next run, and
    `resume` prunes with the stored one. (The objective is a stand-in: no training here.)"""
    import io

    from hpo_desktop import cli

    monkeypatch.setattr(cli, "_runner_for", lambda *a, **k: curve_objective)
    spec = tmp_path / "s.toml"
    text = textwrap.dedent(
        """\
        [study]
        name = "s"
        metric = "acc"
        direction = "maximize"
        trials = 12
        [strategy]
        kind = "random"
        [pruner]
        kind = "asha"
        max_resource = 30
        [data]
        dataset = "digits"
        [space]
        top = { type = "float", low = 0.1, high = 1.0 }
        """
    )
    spec.write_text(text)
    db = tmp_path / "s.db"
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["run", str(spec), "--db", str(db), "--quiet"], out=out, err=err) == 0, err.getvalue()
    with Study.open(db) as study:
        assert study.pruner == {"kind": "asha", "max_resource": 30}
        assert any(t.attrs.get("pruned_by", "").startswith("asha") for t in study.trials)
    spec.write_text(text.replace('kind = "asha"\nmax_resource = 30', 'kind = "patience"\nthreshold = 0.5'))
    assert cli.main(["run", str(spec), "--db", str(db), "--trials", "16", "--quiet"], out=out, err=err) == 0
    with Study.open(db) as study:
        assert study.pruner == {"kind": "patience", "threshold": 0.5}
        later = [t for t in study.trials[12:] if t.state == TrialState.PRUNED]
        assert later and all(t.attrs["pruned_by"].startswith("patience") for t in later)
    assert cli.main(["resume", str(db), "--trials", "20", "--quiet"], out=out, err=err) == 0, err.getvalue()
    with Study.open(db) as study:
        assert len(study.trials) == 20
        assert all(
            t.attrs["pruned_by"].startswith("patience")
            for t in study.trials[16:]
            if t.state == TrialState.PRUNED
        )
