"""The study worker on its QThread, without the window: runs, stops, reports bad input."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hpo_desktop import cli
from hpo_desktop.core.events import StepReported, StudyFinished, TrialFinished
from hpo_desktop.core.spec import parse_spec
from hpo_desktop.core.storage import StudyStore
from hpo_desktop.core.trial import TrialState
from hpo_desktop.gui.worker import RunRequest, StudyRunner

from .conftest import TINY_SPEC


def tiny_spec(tmp_path: Path, *, epochs: int = 2, data: str | None = None):
    text = TINY_SPEC.format(trials=2, epochs=epochs)
    if data is not None:
        text = text.replace('dataset = "moons"\nn_samples = 200', data)
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    return parse_spec(text, source=str(path), path=path)


def request(tmp_path: Path, **kw) -> RunRequest:
    spec = tiny_spec(tmp_path, **kw)
    return RunRequest(db_path=tmp_path / "tiny.db", spec=spec, n_trials=spec.trials, base_dir=tmp_path)


@pytest.fixture
def runner(qtbot):
    r = StudyRunner()
    events: list[object] = []
    r.event.connect(events.append)
    r.events = events  # type: ignore[attr-defined]
    yield r
    r.stop_and_wait(10_000)


def test_a_tiny_study_runs_to_its_budget_off_the_gui_thread(qtbot, runner, tmp_path):
    req = request(tmp_path)
    with qtbot.waitSignal(runner.running_changed, timeout=60_000, check_params_cb=lambda r: not r):
        runner.start(req)
    assert isinstance(runner.last_result, StudyFinished)
    assert runner.last_result.reason == "budget"
    finished = [e for e in runner.events if isinstance(e, TrialFinished)]
    assert [e.state for e in finished] == [TrialState.COMPLETE, TrialState.COMPLETE]
    assert runner.thread is not None and runner.thread.isFinished()
    with StudyStore(req.db_path, readonly=True) as store:
        rec = store.get_study("tiny")
        assert rec.spec["base_dir"] == str(tmp_path)  # as `hpo-desktop run` stores it
        assert rec.spec["data"]["dataset"] == "moons"


def test_the_cli_resumes_a_study_the_window_started(qtbot, runner, tmp_path):
    req = request(tmp_path)
    with qtbot.waitSignal(runner.running_changed, timeout=60_000, check_params_cb=lambda r: not r):
        runner.start(req)
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(["resume", str(req.db_path), "--study", "tiny", "--trials", "3", "-q"], out=out, err=err)
    assert code == 0, err.getvalue()
    with StudyStore(req.db_path, readonly=True) as store:
        assert len(store.get_trials(store.get_study("tiny").study_id)) == 3


def test_bad_data_is_reported_in_plain_words_and_writes_nothing(qtbot, runner, tmp_path):
    req = request(tmp_path, data='csv = "missing.csv"\ntarget = "y"')
    with qtbot.waitSignal(runner.failed, timeout=30_000) as blocker:
        runner.start(req)
    qtbot.waitUntil(lambda: not runner.running, timeout=10_000)
    assert "missing.csv" in blocker.args[0]
    assert "Traceback" not in blocker.args[0]
    assert not req.db_path.exists()


def test_stop_now_marks_the_running_trial_interrupted(qtbot, runner, tmp_path):
    req = request(tmp_path, epochs=500)
    with qtbot.waitSignal(
        runner.event, timeout=60_000, check_params_cb=lambda e: isinstance(e, StepReported)
    ):
        runner.start(req)
    with qtbot.waitSignal(runner.running_changed, timeout=30_000, check_params_cb=lambda r: not r):
        runner.cancel()
    assert runner.last_result.reason == "cancelled"
    with StudyStore(req.db_path, readonly=True) as store:
        trials = store.get_trials(store.get_study("tiny").study_id)
    assert [t.state for t in trials] == [TrialState.INTERRUPTED]
