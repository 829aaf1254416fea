"""Parallel trials in the core loop: executors, batches, cancel, worker/device attrs (no torch)."""

from __future__ import annotations

import threading
import time

import pytest

from hpo_desktop.core.executors import (
    Executor,
    SerialExecutor,
    assign_devices,
    threads_per_worker,
    visible_gpus,
)
from hpo_desktop.core.export import export_csv, export_json
from hpo_desktop.core.space import Float, Int
from hpo_desktop.core.study import Study, StudyControl
from hpo_desktop.core.trial import TrialFailed, TrialState


class ThreadExecutor(Executor):
    """N slots running an in-process objective; records how many trials ran at once."""

    def __init__(self, objective, workers: int = 2) -> None:
        self.objective = objective
        self.workers = workers
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.slots_used: set[int] = set()
        self.concurrent: list[list[dict]] = []  # the params running at each start
        self.active: dict[int, dict] = {}
        self.cancelled = False

    def run(self, slot, params, trial):
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.slots_used.add(slot)
            self.active[slot] = dict(params)
            self.concurrent.append(list(self.active.values()))
        try:
            return self.objective(params, trial)
        finally:
            with self.lock:
                self.now -= 1
                self.active.pop(slot, None)

    def slot_info(self, slot):
        return {"worker": slot + 1, "device": f"cpu:{slot}"}

    def cancel(self):
        self.cancelled = True


def _both_started(n: int = 2, timeout: float = 5.0):
    """An objective whose first ``n`` trials wait until ``n`` are running at once."""
    barrier = threading.Barrier(n, timeout=timeout)
    calls = {"k": 0}
    lock = threading.Lock()

    def objective(params, trial):
        with lock:
            calls["k"] += 1
            first = calls["k"] <= n
        if first:
            barrier.wait()
        for step in range(3):
            trial.report(step, loss=params["x"] + step * 0.01)
        return params["x"]

    return objective


def _space():
    return {"x": Float(0.0, 1.0), "n": Int(1, 50)}


def test_six_trials_on_two_workers_run_two_at_once(tmp_path):
    study = Study.create(tmp_path / "s.db", "par", _space(), "random", metric="loss", n_trials=6, seed=1)
    ex = ThreadExecutor(_both_started(2), workers=2)
    events = []
    done = study.optimize(None, executor=ex, callbacks=events.append)
    assert done.reason == "budget" and done.n_finished == 6
    trials = study.trials
    assert [t.number for t in trials] == list(range(6))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 6
    assert ex.peak == 2 and ex.slots_used == {0, 1}
    for t in trials:  # reports of both workers stored with their curves
        assert len(study.trial(t.number).curves["loss"]) == 3
        assert t.attrs["worker"] in (1, 2) and t.attrs["device"] in ("cpu:0", "cpu:1")
    assert {t.attrs["worker"] for t in trials} == {1, 2}


def test_bayesian_batches_use_constant_liar_no_duplicates(tmp_path):
    study = Study.create(
        tmp_path / "s.db",
        "bo",
        {"n": Int(1, 6)},
        {"kind": "bayesian", "initial_points": 2},
        metric="loss",
        n_trials=6,
        seed=3,
    )
    asked: list[int] = []
    strategy_ask = study.make_strategy

    def spy():
        strategy = strategy_ask()
        real = strategy.ask

        def ask(n=1):
            asked.append(n)
            return real(n)

        strategy.ask = ask
        return strategy

    study.make_strategy = spy

    def objective(params, trial):
        trial.report(0, loss=float(params["n"]))
        time.sleep(0.05)  # keep both slots busy so batches overlap
        return float((params["n"] - 4) ** 2)

    ex = ThreadExecutor(objective, workers=2)
    study.optimize(None, executor=ex)
    assert asked[0] == 2  # the first ask is one batch for both free workers
    for running in ex.concurrent:  # pending points: concurrent trials never share a point
        keys = [p["n"] for p in running]
        assert len(keys) == len(set(keys))
    assert len({t.params["n"] for t in study.trials}) == 6  # 6 points in a 6-point space


def test_queued_trials_go_first(tmp_path):
    study = Study.create(tmp_path / "s.db", "q", _space(), "random", metric="loss", n_trials=4, seed=1)
    study.enqueue({"x": 0.5, "n": 7})
    study.enqueue({"x": 0.25, "n": 8})
    study.optimize(None, executor=ThreadExecutor(_both_started(2), workers=2))
    first = study.trials[:2]
    assert [t.params for t in first] == [{"x": 0.5, "n": 7}, {"x": 0.25, "n": 8}]
    assert all(t.attrs.get("source") == "queue" for t in first)


def test_cancel_stops_every_running_trial(tmp_path):
    study = Study.create(tmp_path / "s.db", "c", _space(), "random", metric="loss", n_trials=10, seed=1)
    control = StudyControl()
    started = threading.Barrier(3, timeout=5)

    def objective(params, trial):
        started.wait() if trial.number < 2 else None
        step = 0
        while not trial.should_stop():
            trial.report(step, loss=params["x"])
            step += 1
            time.sleep(0.01)
        return params["x"]

    ex = ThreadExecutor(objective, workers=2)
    t = threading.Thread(target=lambda: study.optimize(None, executor=ex, control=control))
    t.start()
    started.wait()
    control.cancel()
    t.join(10)
    assert not t.is_alive()
    states = [tr.state for tr in study.trials]
    assert states == [TrialState.INTERRUPTED, TrialState.INTERRUPTED]
    assert ex.cancelled


def test_stop_after_trial_lets_both_finish(tmp_path):
    study = Study.create(tmp_path / "s.db", "s", _space(), "random", metric="loss", n_trials=10, seed=1)
    control = StudyControl()
    started = threading.Barrier(3, timeout=5)
    release = threading.Event()

    def objective(params, trial):
        if trial.number < 2:
            started.wait()
            release.wait(5)
        return params["x"]

    ex = ThreadExecutor(objective, workers=2)
    result = {}
    t = threading.Thread(
        target=lambda: result.update(done=study.optimize(None, executor=ex, control=control))
    )
    t.start()
    started.wait()
    control.stop_after_trial()
    release.set()
    t.join(10)
    assert result["done"].reason == "stopped"
    assert [tr.state for tr in study.trials] == [TrialState.COMPLETE, TrialState.COMPLETE]


def test_a_failed_trial_fails_alone(tmp_path):
    study = Study.create(tmp_path / "s.db", "f", _space(), "random", metric="loss", n_trials=6, seed=1)

    def objective(params, trial):
        if trial.number == 1:
            raise TrialFailed("worker 2 crashed: boom")
        return params["x"]

    done = study.optimize(None, executor=ThreadExecutor(objective, workers=2))
    assert done.n_finished == 6
    states = [t.state for t in study.trials]
    assert states.count(TrialState.FAILED) == 1 and states.count(TrialState.COMPLETE) == 5
    assert study.trial(1).error == "worker 2 crashed: boom"


def _loses_worker(trial, node="10.0.0.7"):
    """What an executor does when the process or node running a trial goes away."""
    trial.set_attrs({"worker_lost": node})
    raise TrialFailed(f"lost its worker on node {node}")


def test_a_lost_worker_runs_its_configuration_again_outside_the_budget(tmp_path):
    study = Study.create(tmp_path / "s.db", "l", _space(), "random", metric="loss", n_trials=4, seed=1)

    def objective(params, trial):
        if trial.number in (0, 1):  # trial 0's worker is lost; then its retry's (#1) as well
            _loses_worker(trial)
        return params["x"]

    done = study.optimize(None, executor=ThreadExecutor(objective, workers=1))
    trials = study.trials
    assert [t.state for t in trials] == [TrialState.FAILED] * 2 + [TrialState.COMPLETE] * 3
    assert trials[1].attrs["retry_of"] == 0 and trials[1].params == trials[0].params  # run again first
    assert trials[0].attrs["worker_lost"] == "10.0.0.7"
    # the first loss is not counted toward the budget; a lost retry is an ordinary failure
    assert done.n_finished == 4 and done.reason == "budget"
    assert [t.number for t in trials if "retry_of" in t.attrs] == [1]  # retried once only


def test_a_retry_pending_when_the_run_stops_goes_to_the_queue(tmp_path):
    study = Study.create(tmp_path / "s.db", "q", _space(), "random", metric="loss", n_trials=5, seed=1)
    control = StudyControl()

    def objective(params, trial):
        control.stop_after_trial()  # the user stops while trial 0 runs
        _loses_worker(trial)

    done = study.optimize(None, executor=ThreadExecutor(objective, workers=1), control=control)
    assert done.reason == "stopped" and [t.state for t in study.trials] == [TrialState.FAILED]
    assert study.queued == [study.trial(0).params]  # resume runs it first


def test_grid_exhausts_with_two_workers(tmp_path):
    study = Study.create(tmp_path / "s.db", "g", {"n": Int(1, 3)}, "grid", metric="loss", n_trials=10)
    done = study.optimize(None, executor=ThreadExecutor(lambda p, t: float(p["n"]), workers=2))
    assert done.reason == "exhausted"
    assert sorted(t.params["n"] for t in study.trials) == [1, 2, 3]


def test_serial_executor_matches_the_plain_loop(tmp_path):
    def objective(params, trial):
        trial.report(0, loss=params["x"])
        return params["x"]

    a = Study.create(tmp_path / "a.db", "s", _space(), "bayesian", metric="loss", n_trials=5, seed=4)
    b = Study.create(tmp_path / "b.db", "s", _space(), "bayesian", metric="loss", n_trials=5, seed=4)
    a.optimize(objective)
    b.optimize(None, executor=SerialExecutor(objective, device="cpu"))
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert b.trials[0].attrs["device"] == "cpu" and b.trials[0].attrs["worker"] == 1


def test_export_has_times_worker_and_device(tmp_path):
    study = Study.create(tmp_path / "s.db", "e", _space(), "random", metric="loss", n_trials=2, seed=1)
    study.optimize(None, executor=ThreadExecutor(_both_started(2), workers=2))
    text = export_csv(study.store, [study.record])
    header = text.splitlines()[0].split(",")
    for col in ("started_at", "finished_at", "worker", "device"):
        assert col in header
    import json

    doc = json.loads(export_json(study.store, [study.record]))
    trial = doc["studies"][0]["trials"][0]
    assert trial["started_at"] and trial["finished_at"]
    assert trial["worker"] in (1, 2) and trial["device"].startswith("cpu:")


def test_threads_are_divided_between_workers():
    assert threads_per_worker(2, cores=2) == 1
    assert threads_per_worker(4, cores=16) == 4
    assert threads_per_worker(3, cores=2) == 1  # never zero


def test_one_worker_per_gpu():
    assert assign_devices(4, ["0", "1", "2", "3"]) == ["0", "1", "2", "3"]
    assert assign_devices(3, ["2", "5"]) == ["2", "5", "2"]  # more workers than GPUs: round-robin
    assert assign_devices(2, []) == [None, None]
    with pytest.raises(ValueError):
        assign_devices(0, ["0"])


def test_visible_gpus_honours_cuda_visible_devices():
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "1,3"}, count=8) == ["1", "3"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}, count=8) == []
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"}, count=2) == []
    assert visible_gpus({}, count=2) == ["0", "1"]


def test_pause_holds_new_trials_until_resumed(tmp_path):
    study = Study.create(tmp_path / "s.db", "p", _space(), "random", metric="loss", n_trials=4, seed=1)
    control = StudyControl()
    gate = threading.Event()

    def objective(params, trial):
        if trial.number < 2:
            gate.wait(5)
        return params["x"]

    ex = ThreadExecutor(objective, workers=2)
    t = threading.Thread(target=lambda: study.optimize(None, executor=ex, control=control))
    t.start()
    deadline = time.monotonic() + 5
    while len(study.trials) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    control.pause()
    gate.set()  # the two running trials finish while paused
    deadline = time.monotonic() + 5
    while study.n_finished() < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # the loop polls every 0.2 s: it must not start trial 2 while paused
    assert len(study.trials) == 2
    control.resume()
    t.join(10)
    assert study.n_finished() == 4


def test_the_pruner_stops_bad_trials_running_beside_others(tmp_path):
    study = Study.create(
        tmp_path / "s.db",
        "prune",
        _space(),
        "random",
        metric="loss",
        n_trials=10,
        seed=1,
        pruner={"kind": "median", "n_startup_trials": 2},
    )

    def objective(params, trial):
        for step in range(5):
            trial.report(step, loss=params["x"])
            if trial.should_stop():
                break
        return params["x"]

    ex = ThreadExecutor(objective, workers=2)
    study.optimize(None, executor=ex)
    trials = study.trials
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned and all(t.attrs["pruned_by"].startswith("median") for t in pruned)
    complete = sorted(t.value for t in trials if t.state == TrialState.COMPLETE)
    assert all(t.value > complete[0] for t in pruned)  # only worse-than-the-best trials stop
