"""Parallel trials in the window: two running trials drawn at once (both bold), the progress
bar says how many run, the Workers field is saved into the spec, and a run with workers = 2
goes through the window's worker thread to two worker processes."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from hpo_desktop.core.events import StepReported, TrialFinished
from hpo_desktop.core.spec import parse_spec
from hpo_desktop.core.storage import StudyStore
from hpo_desktop.core.trial import TrialState

from .shot_live import guard_singleton_refcounts, make_study
from .shot_parallel import SPEC, parallel_events

pytest.importorskip("pyqtgraph")


@pytest.fixture(scope="module", autouse=True)
def _pyside_refcount_guard():
    guard_singleton_refcounts()  # PySide6 6.12.0 + CPython 3.11 bug, see shot_live.py


@pytest.fixture
def page(qtbot, tmp_path):
    from hpo_desktop.gui.live.live_page import LivePage

    p = LivePage()
    qtbot.addWidget(p)
    p.resize(1280, 800)
    p.show()
    store, study_id = make_study(tmp_path / "study.db")
    p.set_study(store, study_id)
    yield p
    store.close()


def _width(page, number: int) -> float:
    return page.curves.items_of(number)[0].opts["pen"].widthF()


def test_two_running_trials_are_drawn_at_once(page):
    for event in parallel_events(30, steps=(12, 7)):
        page.on_event(event)
    page.flush()
    assert _width(page, 28) == _width(page, 29) == 3.0  # both bold: the "running" style
    assert _width(page, 5) < 3.0  # an earlier trial stays thin
    text = page.progress.epoch_bar.text()
    assert text == "2 trials running · trial 28 · epoch 12 / 20"  # the one that reported last
    assert "#28, #29" in page.progress.epoch_bar.toolTip()
    # trial 28 finishes while 29 keeps running: the bar follows 29, its curve stays bold
    page.on_event(TrialFinished("digits-mlp", 28, TrialState.COMPLETE, {}, 0.9, {"val_accuracy": 0.9}, 9.0))
    page.flush()
    assert page.progress.epoch_bar.text() == "trial 29 · epoch 7 / 20"
    assert _width(page, 29) == 3.0 and _width(page, 28) < 3.0
    page.on_event(StepReported("digits-mlp", 29, 8, {"val_accuracy": 0.8}))
    page.flush()
    assert page.progress.epoch_bar.text() == "trial 29 · epoch 8 / 20"


def test_the_workers_field_is_saved_into_the_spec(qtbot, tmp_path):
    from hpo_desktop.gui.setup.setup_page import SetupPage

    setup = SetupPage()
    qtbot.addWidget(setup)
    setup.set_spec(parse_spec(SPEC, source="digits.toml", path=tmp_path / "digits.toml"))
    assert setup.study_group.workers_spin.value() == 2
    setup.study_group.workers_spin.setValue(3)
    spec = setup.spec()
    assert spec.workers == 3 and "[execution]\nworkers = 3" in spec.to_toml()
    setup.study_group.workers_spin.setValue(1)  # the default writes no [execution] table
    assert setup.spec().workers == 1 and "[execution]" not in setup.spec().to_toml()
    setup.undo_stack.undo()  # spin edits in a row merge into one undo step, like the other fields
    assert setup.study_group.workers_spin.value() == 2


def test_run_on_a_ray_cluster_is_chosen_on_setup_and_round_trips(qtbot, tmp_path):
    """Setup → Study → Run on: "Ray cluster" with an address writes [execution] backend = "ray";
    workers 0 reads "as the cluster holds" (the key left out); the per-trial resources of a
    loaded spec are kept; "This machine" drops the Ray keys (the typed address waits, greyed)."""
    from hpo_desktop.gui.setup.setup_page import SetupPage

    setup = SetupPage()
    qtbot.addWidget(setup)
    text = SPEC.replace("workers = 2", 'workers = 2\nbackend = "ray"\naddress = "auto"\ngpus_per_trial = 0.5')
    setup.set_spec(parse_spec(text, source="digits.toml", path=tmp_path / "digits.toml"))
    group = setup.study_group
    assert group.backend_combo.currentText() == "Ray cluster" and group.address_edit.text() == "auto"
    assert group.workers_spin.value() == 2 and group.address_edit.isEnabled()
    group.address_edit.setText("ray://head:10001")
    group.address_edit.textEdited.emit("ray://head:10001")
    group.workers_spin.setValue(0)
    assert group.workers_spin.text() == "as the cluster holds"
    spec = setup.spec()
    assert spec.execution == {"backend": "ray", "address": "ray://head:10001", "gpus_per_trial": 0.5}
    assert parse_spec(spec.to_toml()).execution == spec.execution  # saved into the spec file
    group.backend_combo.setCurrentText("This machine")
    assert setup.spec().execution == {} and not group.address_edit.isEnabled()  # 0 → 1 worker
    group.backend_combo.setCurrentText("Ray cluster")  # from 1 worker: the cluster decides
    assert setup.spec().execution == {"backend": "ray", "address": "ray://head:10001", "gpus_per_trial": 0.5}


def test_a_stored_study_shows_its_workers_again(tmp_path):
    """Reopening a study file: the Setup page gets the stored [execution] back (not 1)."""
    from hpo_desktop.core.study import create_from_spec
    from hpo_desktop.gui.document import spec_for_record

    spec = parse_spec(SPEC, source="digits.toml", path=tmp_path / "digits.toml")
    with create_from_spec(tmp_path / "digits.db", spec) as study:
        record = study.record
    back, _base = spec_for_record(record, tmp_path / "digits.db")
    assert back.workers == spec.workers == 2


SCRIPT = """\
import os, time

def objective(params, trial):
    for step in range(3):
        trial.report(step, loss=params["x"] + step, pid=float(os.getpid()))
        time.sleep(0.05)
    return params["x"]
"""

RUN_SPEC = """\
[study]
name = "par"
metric = "loss"
trials = 4

[execution]
workers = 2

[strategy]
kind = "random"

[objective]
script = "train.py"

[space]
x = { type = "float", low = 0, high = 1 }
"""


RAY = 'workers = 2\nbackend = "ray"\naddress = "local"'


@pytest.mark.parametrize("backend", ["local", "ray"])
def test_a_window_run_with_two_workers(qtbot, tmp_path, monkeypatch, backend):
    """The window's run thread with two worker processes, or two Ray actors (skipped without
    the ray extra): both trials run at once, reports arrive as events, the stored spec keeps
    [execution] for resume."""
    from hpo_desktop.gui.worker import RunRequest, StudyRunner

    text = RUN_SPEC
    if backend == "ray":
        pytest.importorskip("ray")
        text = RUN_SPEC.replace("workers = 2", RAY)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(SCRIPT))
    path = tmp_path / "par.toml"
    path.write_text(text)
    spec = parse_spec(text, source=str(path), path=path)
    req = RunRequest(
        db_path=tmp_path / "par.db",
        spec=spec,
        n_trials=4,
        base_dir=tmp_path,
        script_sha256=hashlib.sha256(script.read_bytes()).hexdigest(),
    )
    runner = StudyRunner()
    events: list[object] = []
    runner.event.connect(events.append)
    with qtbot.waitSignal(runner.running_changed, timeout=60_000, check_params_cb=lambda r: not r):
        runner.start(req)
    runner.stop_and_wait(10_000)
    assert runner.last_result is not None and runner.last_result.reason == "budget"
    finished = [e for e in events if isinstance(e, TrialFinished)]
    assert len(finished) == 4 and all(e.state == TrialState.COMPLETE for e in finished)
    with StudyStore(Path(req.db_path), readonly=True) as store:
        rec = store.get_study("par")
        trials = store.get_trials(rec.study_id, with_curves=True)
        assert {t.attrs["worker"] for t in trials} == {1, 2}
        assert len({t.curves["pid"][0][1] for t in trials}) == 2
        assert rec.spec["execution"] == spec.execution  # kept for resume
    if backend == "ray":
        assert all(" on " in t.attrs["device"] for t in trials)  # the Ray node
        import ray

        ray.shutdown()
