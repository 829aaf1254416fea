"""The Python API end to end on tiny functions: the user's story from create to reopen."""

from __future__ import annotations

import math
import threading

import pytest

from hpo_desktop import Categorical, Float, Int, Study, StudyControl, TrialFailed, TrialState
from hpo_desktop.core.events import StepReported, StudyFinished, StudyStarted, TrialFinished, TrialStarted
from hpo_desktop.core.space import ConfigError
from hpo_desktop.core.storage import StudyExists, StudyStore
from hpo_desktop.core.strategies import StrategyError

SPACE = {
    "x": Float(-5.0, 5.0),
    "n": Int(1, 8),
    "kind": Categorical(["a", "b"]),
}


def quadratic(params, trial):
    loss = (params["x"] - 1.0) ** 2 + 0.1 * params["n"] + (0.0 if params["kind"] == "a" else 0.5)
    for step in range(3):
        trial.report(step, loss=loss + (2 - step), acc=1.0 / (1.0 + loss))
    return {"loss": loss, "acc": 1.0 / (1.0 + loss)}


@pytest.mark.parametrize("strategy", ["random", "bayesian"])
def test_create_optimize_and_read_back(tmp_path, strategy):
    db = tmp_path / "results.db"
    study = Study.create(
        db,
        "demo",
        SPACE,
        strategy,
        metric="loss",
        direction="minimize",
        seed=0,
        strategy_options={"initial_points": 4} if strategy == "bayesian" else None,
    )
    done = study.optimize(quadratic, n_trials=8)
    assert done.reason == "budget" and done.n_finished == 8
    trials = study.trials
    assert [t.number for t in trials] == list(range(8))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    best = study.best_trial
    assert best.value == min(t.value for t in trials)
    assert set(best.params) == {"x", "n", "kind"}
    assert best.metrics["acc"] == pytest.approx(1.0 / (1.0 + best.value))
    curves = study.trial(best.number).curves
    assert [s for s, _ in curves["loss"]] == [0, 1, 2]
    study.close()


def test_plain_float_result_is_the_metric(tmp_path):
    with Study.create(
        tmp_path / "r.db", "f", {"x": Float(0, 1)}, "random", metric="score", direction="maximize"
    ) as study:
        study.optimize(lambda p, t: p["x"], n_trials=5)
        assert study.best_value == max(t.value for t in study.trials)
        assert study.best_params == study.best_trial.params


def test_reopen_continues_toward_the_budget(tmp_path):
    db = tmp_path / "r.db"
    with Study.create(db, "s", SPACE, "random", metric="loss", n_trials=6) as study:
        study.optimize(quadratic, n_trials=3)
    with Study.open(db) as again:
        assert again.budget == 3  # the budget given last is kept
        done = again.optimize(quadratic, n_trials=6)
        assert done.n_finished == 6
        assert len(again.trials) == 6
        # the random sequence continues rather than repeating the first three points
        xs = [t.params["x"] for t in again.trials]
        assert len(set(xs)) == 6


def test_create_twice_is_an_error_unless_asked_to_load(tmp_path):
    db = tmp_path / "r.db"
    Study.create(db, "s", SPACE, "random", metric="loss").close()
    with pytest.raises(StudyExists):
        Study.create(db, "s", SPACE, "random", metric="loss")
    with Study.create(db, "s", SPACE, "random", metric="loss", load_if_exists=True) as s:
        assert s.name == "s"


def test_bad_options_fail_before_the_file_is_written(tmp_path):
    db = tmp_path / "r.db"
    with pytest.raises(StrategyError, match="estimatr"):
        Study.create(db, "s", SPACE, "bayesian", strategy_options={"estimatr": "GP"})
    with pytest.raises(ValueError, match="direction"):
        Study.create(db, "s", SPACE, "random", direction="up")
    assert not db.exists()


def test_exceptions_fail_the_trial_and_the_study_goes_on(tmp_path):
    calls = []

    def flaky(params, trial):
        calls.append(params)
        if len(calls) % 2 == 0:
            raise RuntimeError("out of cheese")
        if len(calls) == 3:
            raise TrialFailed("diverged: loss became nan at epoch 2")
        return params["x"]

    with Study.create(tmp_path / "r.db", "s", {"x": Float(0, 1)}, "random", metric="v") as study:
        done = study.optimize(flaky, n_trials=6)
        states = [t.state for t in study.trials]
        assert done.n_finished == 6
        assert states.count(TrialState.FAILED) == 4
        errors = [t.error for t in study.trials if t.state == TrialState.FAILED]
        assert "RuntimeError: out of cheese" in errors
        assert "diverged: loss became nan at epoch 2" in errors
        failed = next(t for t in study.trials if t.error and "cheese" in t.error)
        assert "Traceback" in failed.attrs["traceback"]


def test_nan_results_and_bad_returns_fail_clearly(tmp_path):
    results = iter([float("nan"), {"other": 1.0}, "oops", 0.5])
    with Study.create(tmp_path / "r.db", "s", {"x": Float(0, 1)}, "random", metric="v") as study:
        study.optimize(lambda p, t: next(results), n_trials=4)
        t = study.trials
        assert t[0].state == TrialState.FAILED and "nan" in t[0].error and math.isnan(t[0].value)
        assert t[1].state == TrialState.FAILED and "returned no 'v'" in t[1].error
        assert t[2].state == TrialState.FAILED and "expected a number" in t[2].error
        assert t[3].state == TrialState.COMPLETE and study.best_value == 0.5


def test_too_many_failures_in_a_row_stop_the_study_and_say_why(tmp_path):
    def broken(params, trial):
        raise ValueError("bad data")

    with Study.create(tmp_path / "r.db", "s", {"x": Float(0, 1)}, "random", metric="v") as study:
        done = study.optimize(broken, n_trials=50, max_failures_in_row=3)
        assert done.reason == "failures"
        assert "3 failed trials in a row" in done.message and "bad data" in done.message
        assert len(study.trials) == 3


def test_events_arrive_in_order_as_frozen_dataclasses(tmp_path):
    events = []
    with Study.create(tmp_path / "r.db", "s", SPACE, "random", metric="loss") as study:
        study.optimize(quadratic, n_trials=2, callbacks=events.append)
    kinds = [type(e) for e in events]
    assert kinds[0] is StudyStarted and kinds[-1] is StudyFinished
    assert kinds[1:-1] == [TrialStarted, StepReported, StepReported, StepReported, TrialFinished] * 2
    finished = [e for e in events if isinstance(e, TrialFinished)]
    assert finished[0].is_best
    with pytest.raises(AttributeError):
        finished[0].value = 1.0  # frozen


def test_a_broken_callback_does_not_lose_trials(tmp_path):
    def bad_listener(event):
        raise RuntimeError("listener bug")

    with Study.create(tmp_path / "r.db", "s", {"x": Float(0, 1)}, "random", metric="v") as study:
        done = study.optimize(lambda p, t: p["x"], n_trials=3, callbacks=[bad_listener])
        assert done.n_finished == 3


def test_grid_study_stops_when_exhausted(tmp_path):
    space = {"a": Categorical([1, 2, 3]), "b": Categorical(["x", "y"])}
    with Study.create(tmp_path / "r.db", "g", space, "grid", metric="v") as study:
        done = study.optimize(lambda p, t: p["a"], n_trials=100)
        assert done.reason == "exhausted"
        assert done.n_finished == 6
        seen = {(t.params["a"], t.params["b"]) for t in study.trials}
        assert len(seen) == 6


def test_cancel_from_another_thread_marks_the_running_trial_interrupted(tmp_path):
    control = StudyControl()
    started = threading.Event()

    def slow(params, trial):
        for step in range(1000):
            trial.report(step, v=float(step))
            started.set()
            if trial.should_stop():
                break
            threading.Event().wait(0.01)
        return 1.0

    with Study.create(tmp_path / "r.db", "s", {"x": Float(0, 1)}, "random", metric="v") as study:
        result = {}
        worker = threading.Thread(
            target=lambda: result.setdefault("done", study.optimize(slow, 5, control=control))
        )
        worker.start()
        assert started.wait(10)
        control.cancel()
        worker.join(10)
        assert not worker.is_alive()
        assert result["done"].reason == "cancelled"
    with Study.open(tmp_path / "r.db") as reopened:
        assert [t.state for t in reopened.trials] == [TrialState.INTERRUPTED]


def test_pause_holds_the_trial_between_batches_until_resumed(tmp_path):
    control = StudyControl()
    reached = threading.Event()
    steps = []

    def objective(params, trial):
        for step in range(3):
            trial.report(step, v=float(step))
            steps.append(step)
            if step == 0:
                control.pause()
                reached.set()
            if trial.should_stop():
                break
        return 1.0

    with Study.create(tmp_path / "r.db", "s", {"x": Float(0, 1)}, "random", metric="v") as study:
        worker = threading.Thread(target=lambda: study.optimize(objective, 1, control=control))
        worker.start()
        assert reached.wait(10)
        threading.Event().wait(0.3)
        assert steps == [0]  # held while paused
        control.resume()
        worker.join(10)
        assert steps == [0, 1, 2]
        assert study.trials[0].state == TrialState.COMPLETE


def test_keyboard_interrupt_marks_the_trial_interrupted_and_propagates(tmp_path):
    def ctrl_c(params, trial):
        trial.report(0, v=1.0)
        raise KeyboardInterrupt

    db = tmp_path / "r.db"
    with Study.create(db, "s", {"x": Float(0, 1)}, "random", metric="v") as study:
        with pytest.raises(KeyboardInterrupt):
            study.optimize(ctrl_c, 3)
    with StudyStore(db, readonly=True) as store:
        [t] = store.get_trials(store.get_study("s").study_id)
        assert t.state == TrialState.INTERRUPTED


def test_trial_seeds_are_recorded_and_reproducible(tmp_path):
    seeds = []
    with Study.create(tmp_path / "a.db", "s", {"x": Float(0, 1)}, "random", metric="v", seed=3) as study:
        study.optimize(lambda p, t: seeds.append(t.seed) or 0.0, 3)
        assert [t.seed for t in study.trials] == seeds
    again = []
    with Study.create(tmp_path / "b.db", "s", {"x": Float(0, 1)}, "random", metric="v", seed=3) as study:
        study.optimize(lambda p, t: again.append(t.seed) or 0.0, 3)
    assert seeds == again and len(set(seeds)) == 3


def test_report_rejects_non_numbers_with_a_clear_message(tmp_path):
    def objective(params, trial):
        trial.report(0, v="high")
        return 1.0

    with Study.create(tmp_path / "r.db", "s", {"x": Float(0, 1)}, "random", metric="v") as study:
        study.optimize(objective, 1)
        assert "metric 'v' must be a number" in study.trials[0].error


def test_open_with_several_studies_needs_a_name(tmp_path):
    db = tmp_path / "r.db"
    Study.create(db, "one", {"x": Float(0, 1)}, "random").close()
    Study.create(db, "two", {"x": Float(0, 1)}, "random").close()
    with pytest.raises(ValueError, match="holds 2 studies"):
        Study.open(db)
    with Study.open(db, "two") as s:
        assert s.name == "two"


def test_stop_after_trial_lets_the_running_trial_complete(tmp_path):
    control = StudyControl()

    def objective(params, trial):
        for step in range(3):
            trial.report(step, v=float(step))
            if step == 1:
                control.stop_after_trial()
            if trial.should_stop():
                break
        return 1.0

    with Study.create(tmp_path / "r.db", "s", {"x": Float(0, 1)}, "random", metric="v") as study:
        done = study.optimize(objective, 5, control=control)
        assert done.reason == "stopped"
        [t] = study.trials
        assert t.state == TrialState.COMPLETE and t.last_step == 2


def test_best_configuration_can_be_copied_as_json_toml_and_python():
    import ast
    import json
    import sys

    from hpo_desktop.core.export import format_config

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    params = {"lr": 0.0031, "units": 64, "act": "relu", "bn": True}
    assert json.loads(format_config(params, "json")) == params
    assert tomllib.loads(format_config(params, "toml"))["params"] == params
    assert ast.literal_eval(format_config(params, "python")) == params
    with pytest.raises(ValueError, match="choose json, toml or python"):
        format_config(params, "yaml")


# -- enqueued trials (refine and iterate) --------------------------------------------------------


def test_enqueued_configurations_run_first_with_exactly_those_params(tmp_path):
    db = tmp_path / "queue.db"
    study = Study.create(db, "q", SPACE, "random", metric="loss", seed=3, n_trials=4)
    first = study.enqueue({"x": 1.0, "n": 2.0, "kind": "a"})
    second = study.enqueue({"kind": "b", "x": -2, "n": 5})
    assert first == {"x": 1.0, "n": 2, "kind": "a"} and second == {"x": -2.0, "n": 5, "kind": "b"}
    assert study.queued == [first, second]
    study.close()

    with Study.open(db) as again:  # the queue survives reopening the file
        assert again.queued == [first, second]
        seen: list[dict] = []
        again.optimize(lambda p, t: seen.append(p) or quadratic(p, t))
        trials = again.trials
    assert [t.params for t in trials[:2]] == [first, second]
    assert [t.attrs.get("source") for t in trials] == ["queue", "queue", None, None]
    assert len(trials) == 4 and all(
        t.state == TrialState.COMPLETE for t in trials
    )  # queued count toward n_trials
    assert seen[:2] == [first, second]
    with Study.open(db) as after:
        assert after.queued == []


def test_a_grid_study_is_told_an_enqueued_point_and_skips_it(tmp_path):
    space = {"a": Categorical([1, 2, 3]), "b": Categorical(["x", "y"])}
    study = Study.create(tmp_path / "grid.db", "g", space, "grid", metric="loss", n_trials=50)
    study.enqueue({"a": 2, "b": "y"})
    done = study.optimize(lambda p, t: p["a"] + (p["b"] == "y"))
    points = [(t.params["a"], t.params["b"]) for t in study.trials]
    assert points[0] == (2, "y") and study.trials[0].attrs == {"source": "queue"}
    assert sorted(points) == sorted({(a, b) for a in (1, 2, 3) for b in ("x", "y")})  # each point once
    assert done.reason == "exhausted" and len(points) == 6
    study.close()


def test_a_bad_configuration_is_refused_and_nothing_is_queued(tmp_path):
    study = Study.create(tmp_path / "bad.db", "b", SPACE, "random", metric="loss")
    with pytest.raises(ConfigError, match="x: 9.0 is above the upper bound 5.0") as info:
        study.enqueue({"x": 9.0, "n": 1, "kind": "c"})
    assert len(info.value.problems) == 2 and info.value.problems[1].startswith("kind: 'c'")
    assert study.queued == []
    study.store.enqueue_trial(study.study_id, {"x": 0.5, "n": 1, "kind": "a"})
    study.store.remove_queued(study.study_id, 0)
    assert study.queued == []
    study.close()


def test_a_queued_configuration_that_no_longer_fits_is_skipped_with_a_warning(tmp_path, caplog):
    study = Study.create(tmp_path / "stale.db", "s", SPACE, "random", metric="loss", n_trials=2)
    # queued under an older space: an unknown parameter and x out of range
    study.store.enqueue_trial(study.study_id, {"x": 50.0, "n": 1, "kind": "a", "old": 1})
    study.store.enqueue_trial(study.study_id, {"x": 0.0, "n": 1, "kind": "a"})
    with caplog.at_level("WARNING", logger="hpo_desktop.core.study"):
        done = study.optimize(quadratic)
    assert done.reason == "budget"
    assert "no longer fits the space" in caplog.text and "x: 50.0 is above the upper bound" in caplog.text
    trials = study.trials
    assert trials[0].params == {"x": 0.0, "n": 1, "kind": "a"} and trials[0].attrs == {"source": "queue"}
    assert "source" not in trials[1].attrs and study.queued == []
    study.close()


def test_a_queued_trial_interrupted_by_the_user_goes_back_to_the_front_of_the_queue(tmp_path):
    study = Study.create(tmp_path / "stop.db", "s", SPACE, "random", metric="loss", n_trials=3)
    wanted = study.enqueue({"x": 0.0, "n": 1, "kind": "a"})
    study.enqueue({"x": 1.0, "n": 1, "kind": "b"})
    control = StudyControl()

    def cancelled_midway(params, trial):
        control.cancel()
        return quadratic(params, trial)

    done = study.optimize(cancelled_midway, control=control)
    assert done.reason == "cancelled" and study.trials[0].state == TrialState.INTERRUPTED
    assert study.queued[0] == wanted and len(study.queued) == 2
    study.close()
