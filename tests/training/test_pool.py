"""Local worker processes (training/pool.py): a study with workers = 2 runs two trials at once in
two spawned processes; reports come back to the parent, a crash fails only its trial, cancel
stops both, and each worker gets its CPU share and its own GPU id."""

from __future__ import annotations

import os
import textwrap
import threading
from pathlib import Path

import pytest

from hpo_desktop.core.events import StepReported
from hpo_desktop.core.executors import threads_per_worker
from hpo_desktop.core.study import Study, StudyControl
from hpo_desktop.core.trial import TrialState
from hpo_desktop.training.pool import LocalProcessExecutor, make_executor, study_task, worker_envs
from hpo_desktop.training.scripts import ScriptError

SCRIPT = """\
import os, time

def objective(params, trial):
    x = params["x"]
    if params.get("crash") == "kill" and trial.number == 2:
        trial.report(0, loss=9.0)
        os._exit(7)  # the worker process dies mid-trial
    for step in range(3):
        trial.report(
            step,
            loss=x + 0.1 * step,
            pid=float(os.getpid()),
            threads=float(os.environ.get("OMP_NUM_THREADS", "0")),
            gpu=float(os.environ.get("CUDA_VISIBLE_DEVICES", "-1")),
        )
        time.sleep(0.05)
        if trial.should_stop():
            break
    return x
"""

SLOW = """\
import time

def objective(params, trial):
    step = 0
    while not trial.should_stop():
        trial.report(step, loss=params["x"])
        step += 1
        time.sleep(0.02)
    return params["x"]
"""


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def _executor(folder: Path, text: str, workers: int = 2, gpus=()) -> LocalProcessExecutor:
    (folder / "obj.py").write_text(textwrap.dedent(text), encoding="utf-8")
    return make_executor(
        {},
        {},
        {"script": "obj.py"},
        metric="loss",
        direction="minimize",
        base_dir=folder,
        workers=workers,
        gpus=list(gpus),
    )


def _study(folder: Path, n: int, space=None) -> Study:
    space = space or {"x": {"type": "float", "low": 0.0, "high": 1.0}}
    return Study.create(folder / "s.db", "pool", space, "random", metric="loss", n_trials=n, seed=2)


def test_six_trials_on_two_worker_processes(tmp_path):
    study = _study(tmp_path, 6)
    events = []
    with _executor(tmp_path, SCRIPT, gpus=["0", "1"]) as ex:
        done = study.optimize(None, executor=ex, callbacks=events.append)
    assert done.n_finished == 6 and done.reason == "budget"
    trials = study.trials
    assert len({t.params["x"] for t in trials}) == 6
    assert all(t.state == TrialState.COMPLETE for t in trials)
    pids = set()
    for t in trials:
        full = study.trial(t.number)
        assert [s for s, _ in full.curves["loss"]] == [0, 1, 2]  # reports stored by the parent
        assert full.curves["threads"][-1][1] == threads_per_worker(2)  # cores // workers, at least 1
        assert full.attrs["worker"] in (1, 2)
        assert full.curves["gpu"][-1][1] == float(full.attrs["worker"] - 1)  # one GPU per worker
        assert full.attrs["device"].endswith(f"(GPU {full.attrs['worker'] - 1})")
        pids.add(full.curves["pid"][-1][1])
    assert len(pids) == 2 and os.getpid() not in pids  # two processes, neither of them this one
    numbers = [e.number for e in events if isinstance(e, StepReported)]
    assert set(numbers) == set(range(6))
    # two trials were running at once: a second trial started before the first one finished
    order = [(type(e).__name__, e.number) for e in events if hasattr(e, "number")]
    assert order.index(("TrialStarted", 1)) < order.index(("TrialFinished", 0))


def test_a_killed_worker_fails_only_its_trial_and_is_replaced(tmp_path):
    space = {"x": {"type": "float", "low": 0.0, "high": 1.0}, "crash": {"type": "fixed", "value": "kill"}}
    study = _study(tmp_path, 6, space)
    with _executor(tmp_path, SCRIPT) as ex:
        done = study.optimize(None, executor=ex)
        starts = sum(w.starts for w in ex.slots)
    assert done.n_finished == 6
    states = {t.number: t.state for t in study.trials}
    assert states[2] == TrialState.FAILED
    assert [n for n, s in states.items() if s != TrialState.COMPLETE] == [2]
    failed = study.trial(2)
    assert "exited with code 7" in failed.error
    assert failed.curves["loss"] == [(0, 9.0)]  # what it reported before dying is kept
    assert starts == 3  # two workers, and one replacement for the dead one


def test_cancel_stops_both_workers(tmp_path):
    study = _study(tmp_path, 10)
    control = StudyControl()
    seen: set[int] = set()
    both = threading.Event()

    def on_event(event):
        if isinstance(event, StepReported):
            seen.add(event.number)
            if len(seen) >= 2:
                both.set()

    with _executor(tmp_path, SLOW) as ex:
        runner = threading.Thread(
            target=lambda: study.optimize(None, executor=ex, control=control, callbacks=on_event)
        )
        runner.start()
        assert both.wait(30)
        control.cancel()
        runner.join(30)
        assert not runner.is_alive()
    assert [t.state for t in study.trials] == [TrialState.INTERRUPTED, TrialState.INTERRUPTED]


def test_a_broken_script_fails_before_any_trial(tmp_path):
    with pytest.raises(ScriptError, match="defines no function 'objective'"):
        _executor(tmp_path, "x = 1\n")


def test_worker_envs_divide_threads_and_spread_gpus():
    envs = worker_envs(2, cores=16, gpus=["0", "1"])
    assert [e["CUDA_VISIBLE_DEVICES"] for e, _ in envs] == ["0", "1"]
    assert [t for _, t in envs] == [8, 8] and envs[0][0]["OMP_NUM_THREADS"] == "8"
    assert all("CUDA_VISIBLE_DEVICES" not in e for e, _ in worker_envs(3, cores=2, gpus=[]))


def test_builtin_task_without_a_script(tmp_path):
    task = study_task(
        {"dataset": "digits"}, {"epochs": 1}, None, metric="val_loss", direction="minimize", base_dir=tmp_path
    )
    assert task.form == "builtin" and task.setup == {"epochs": 1}
