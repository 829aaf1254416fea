"""Running studies from the main window: start, pause, stop, close while running, reopen."""

from __future__ import annotations

from dataclasses import replace

from hpo_desktop.app import demo_db, example_path
from hpo_desktop.core.events import StepReported, StudyFinished, TrialFinished
from hpo_desktop.core.spec import load_spec
from hpo_desktop.core.storage import StudyStore
from hpo_desktop.core.trial import TrialState

RUN_TIMEOUT = 90_000  # ms: generous, for a loaded two-core machine


def is_step(event) -> bool:
    return isinstance(event, StepReported)


def finished(running: bool) -> bool:
    return not running


def run_to_end(qtbot, window) -> None:
    with qtbot.waitSignal(window.runner.running_changed, timeout=RUN_TIMEOUT, check_params_cb=finished):
        assert window.start_study()


def stored_trials(db, name):
    with StudyStore(db, readonly=True) as store:
        return store.get_trials(store.get_study(name).study_id)


def test_the_demo_runs_with_one_click_into_the_users_data_folder(qtbot, main_window):
    main_window.open_demo()
    spec = load_spec(example_path())
    # Shrink the demo to two quick trials through the Setup page's API.
    main_window.setup.set_spec(replace(spec, trials=2, model={**spec.model, "epochs": 2}))
    assert main_window.act_start.isEnabled()
    with qtbot.waitSignal(main_window.runner.running_changed, timeout=RUN_TIMEOUT, check_params_cb=finished):
        main_window.act_start.trigger()
    assert main_window.runner.last_result.reason == "budget"
    trials = stored_trials(demo_db(), "digits-mlp")
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
    assert main_window.doc.study_name == "digits-mlp" and not main_window.doc.is_new
    assert main_window.navigator.summaries[0].n_trials == 2
    assert main_window.navigator.model.item(0, 1).text() == "finished"
    main_window.live.flush()
    assert len(main_window.live.trials) == 2
    assert main_window.setup.is_locked()  # the study has trials: its space stays locked
    assert main_window.tabs.currentWidget() is main_window.live
    log = "\n".join(main_window.log.lines())
    assert "Device: CPU" in log and "Trial 1 complete" in log and "reached the budget" in log


def test_start_is_disabled_while_the_setup_is_invalid_and_says_why(main_window, write_tiny_spec):
    main_window.open_path(write_tiny_spec())
    assert main_window.act_start.isEnabled()
    main_window.setup.validity_changed.emit(False, "[space] learning_rate: low must be below high")
    assert not main_window.act_start.isEnabled()
    assert "low must be below high" in main_window.act_start.toolTip()
    assert "low must be below high" in main_window.state_label.text()
    assert not main_window.start_study()


def test_raising_the_budget_continues_the_same_study(qtbot, main_window, write_tiny_spec):
    path = write_tiny_spec(trials=1)
    main_window.open_path(path)
    run_to_end(qtbot, main_window)
    assert not main_window.act_start.isEnabled()  # the budget is reached
    assert "raise the trial budget" in main_window.act_start.toolTip()
    main_window.setup.set_trials(2)
    assert main_window.act_start.isEnabled()
    run_to_end(qtbot, main_window)
    assert len(stored_trials(path.with_suffix(".db"), "tiny")) == 2
    assert [s.record.name for s in main_window.navigator.summaries] == ["tiny"]


def test_between_runs_the_strategy_can_change_and_the_history_is_kept(qtbot, main_window, write_tiny_spec):
    path = write_tiny_spec(trials=2)
    main_window.open_path(path)
    run_to_end(qtbot, main_window)
    before = stored_trials(path.with_suffix(".db"), "tiny")
    panel = main_window.setup.strategy_panel
    assert main_window.setup.is_locked() and "the strategy and the pruner can change" in (
        main_window.setup.locked_label.text()
    )
    assert main_window.setup.space_editor.model.read_only  # the space stays fixed
    assert panel.combo.isEnabled()
    panel.combo.setCurrentIndex(panel.combo.findData("bayesian"))  # random -> Bayesian, as a user does
    main_window.setup.set_trials(4)
    assert main_window.act_start.isEnabled(), main_window.act_start.toolTip()
    run_to_end(qtbot, main_window)
    after = stored_trials(path.with_suffix(".db"), "tiny")
    assert len(after) == 4 and [t.params for t in after[:2]] == [t.params for t in before]
    with StudyStore(path.with_suffix(".db"), readonly=True) as store:
        assert store.get_study("tiny").strategy["kind"] == "bayesian"


def test_a_second_new_study_of_the_same_name_gets_a_free_name(qtbot, main_window, write_tiny_spec):
    path = write_tiny_spec(trials=1)
    main_window.open_path(path)
    run_to_end(qtbot, main_window)
    main_window.open_path(path)  # the spec again: a new study in the same file
    run_to_end(qtbot, main_window)
    assert [s.record.name for s in main_window.navigator.summaries] == ["tiny", "tiny-2"]


def test_pausing_holds_the_trial_and_resuming_finishes_it(qtbot, main_window, write_tiny_spec):
    main_window.open_path(write_tiny_spec(trials=1, epochs=60))
    with qtbot.waitSignal(main_window.runner.event, timeout=RUN_TIMEOUT, check_params_cb=is_step):
        main_window.start_study()
    main_window.act_pause.trigger()
    assert main_window.runner.paused
    assert main_window.act_pause.text() == "&Resume"
    assert "Paused" in main_window.state_label.text()
    qtbot.wait(700)  # let an epoch already under way report (the trainer checks between batches)
    with qtbot.assertNotEmitted(main_window.runner.event, wait=800):
        pass
    assert main_window.runner.running
    with qtbot.waitSignal(main_window.runner.running_changed, timeout=RUN_TIMEOUT, check_params_cb=finished):
        main_window.act_pause.trigger()  # resume
    trials = stored_trials(main_window.doc.db_path, "tiny")
    assert [t.state for t in trials] == [TrialState.COMPLETE]
    assert trials[0].last_step == 60


def test_stop_after_this_trial_lets_it_complete(qtbot, main_window, write_tiny_spec):
    main_window.open_path(write_tiny_spec(trials=5, epochs=150))
    with qtbot.waitSignal(main_window.runner.event, timeout=RUN_TIMEOUT, check_params_cb=is_step):
        main_window.start_study()
    with qtbot.waitSignal(main_window.runner.running_changed, timeout=RUN_TIMEOUT, check_params_cb=finished):
        main_window.act_stop_after.trigger()
        assert not main_window.act_stop_after.isEnabled()
        assert "Stopping after" in main_window.state_label.text()
    assert main_window.runner.last_result.reason == "stopped"
    trials = stored_trials(main_window.doc.db_path, "tiny")
    # The trial running when asked finished normally (events reach the window a moment late, so
    # that may already have been the second one); no further trial started.
    assert 1 <= len(trials) <= 2
    assert all(t.state == TrialState.COMPLETE and t.last_step == 150 for t in trials)


def test_stop_now_marks_the_running_trial_interrupted_and_keeps_the_finished_ones(
    qtbot, main_window, write_tiny_spec
):
    main_window.open_path(write_tiny_spec(trials=5, epochs=150))
    events = []
    main_window.runner.event.connect(events.append)

    def second_trial_running(event) -> bool:
        return isinstance(event, StepReported) and event.number == 1

    with qtbot.waitSignal(
        main_window.runner.event, timeout=RUN_TIMEOUT, check_params_cb=second_trial_running
    ):
        main_window.start_study()
    with qtbot.waitSignal(main_window.runner.running_changed, timeout=RUN_TIMEOUT, check_params_cb=finished):
        main_window.act_stop_now.trigger()
    assert main_window.runner.last_result.reason == "cancelled"
    trials = stored_trials(main_window.doc.db_path, "tiny")
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.INTERRUPTED]
    assert any(isinstance(e, TrialFinished) and e.state == TrialState.INTERRUPTED for e in events)
    assert "interrupted" in "\n".join(main_window.log.lines())
    assert main_window.act_start.isEnabled()  # it can be continued


def test_closing_while_running_asks_then_stops_cleanly_and_keeps_the_data(
    qtbot, main_window, dialogs, write_tiny_spec
):
    main_window.open_path(write_tiny_spec(trials=5, epochs=150))

    def second_trial_running(event) -> bool:
        return isinstance(event, StepReported) and event.number == 1

    with qtbot.waitSignal(
        main_window.runner.event, timeout=RUN_TIMEOUT, check_params_cb=second_trial_running
    ):
        main_window.start_study()
    thread = main_window.runner.thread
    db = main_window.doc.db_path
    assert main_window.close()
    assert dialogs.calls[-1][0] == "question"
    assert "A study is running. Stop it and quit?" in dialogs.calls[-1][2]
    assert thread.isFinished() and not main_window.runner.running
    assert not main_window.isVisible()
    trials = stored_trials(db, "tiny")
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.INTERRUPTED]


def test_answering_no_keeps_the_study_running(qtbot, main_window, monkeypatch, write_tiny_spec):
    from PySide6.QtWidgets import QMessageBox

    main_window.open_path(write_tiny_spec(trials=1, epochs=400))
    with qtbot.waitSignal(main_window.runner.event, timeout=RUN_TIMEOUT, check_params_cb=is_step):
        main_window.start_study()
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.No))
    assert not main_window.close()
    assert main_window.runner.running and main_window.isVisible()
    with qtbot.waitSignal(main_window.runner.running_changed, timeout=RUN_TIMEOUT, check_params_cb=finished):
        main_window.stop_now()


def test_reopening_the_file_shows_the_same_trials(qtbot, main_window, write_tiny_spec):
    from hpo_desktop.gui.main_window import MainWindow

    path = write_tiny_spec(trials=2)
    main_window.open_path(path)
    run_to_end(qtbot, main_window)
    main_window.live.flush()
    before = {t.number: (t.state, t.value) for t in stored_trials(path.with_suffix(".db"), "tiny")}
    shown = sorted(t.number for t in main_window.live.trials.ordered())
    main_window.close()

    again = MainWindow()
    qtbot.addWidget(again)
    assert again.open_path(path.with_suffix(".db"))
    summary = again.navigator.summaries[0]
    assert (summary.record.name, summary.n_trials) == ("tiny", 2)
    assert sorted(t.number for t in again.live.trials.ordered()) == shown == sorted(before)
    assert {t.number: (t.state, t.value) for t in again.live.trials.ordered()} == before
    assert again.setup.is_locked()
    assert again.setup.spec().space.to_dict() == load_spec(path).space.to_dict()
    again.close()


def test_a_data_file_gone_at_start_gives_a_dialog_not_a_traceback(qtbot, main_window, dialogs, tmp_path):
    data = tmp_path / "points.csv"
    data.write_text("x1,x2,y\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n" for i in range(60)))
    spec = tmp_path / "csv.toml"
    spec.write_text(
        '[study]\nname = "c"\nmetric = "val_loss"\ntrials = 1\n[strategy]\nkind = "random"\n'
        '[data]\ncsv = "points.csv"\ntarget = "y"\n[model]\nepochs = 1\n'
        '[space]\nlearning_rate = { type = "float", low = 0.001, high = 0.1 }\n'
    )
    main_window.open_path(spec)
    assert main_window.act_start.isEnabled(), main_window.state_label.text()
    data.unlink()  # moved away after the setup was checked
    with qtbot.waitSignal(main_window.runner.failed, timeout=RUN_TIMEOUT):
        main_window.start_study()
    qtbot.waitUntil(lambda: not main_window.runner.running, timeout=10_000)
    assert dialogs.kinds() == ["warning"]
    assert "points.csv" in dialogs.texts() and "Traceback" not in dialogs.texts()
    assert not main_window.setup.is_locked()
    assert not (tmp_path / "csv.db").exists()  # nothing was written


def test_study_finished_reason_is_logged(qtbot, main_window, write_tiny_spec):
    main_window.open_path(write_tiny_spec(trials=1))
    got = []
    main_window.runner.event.connect(lambda e: got.append(e) if isinstance(e, StudyFinished) else None)
    run_to_end(qtbot, main_window)
    assert got and got[0].reason == "budget"
    assert any("finished: reached the budget of 1 trials" in line for line in main_window.log.lines())


QUIT_WHILE_RUNNING = r"""
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox
from hpo_desktop.core.events import StepReported
from hpo_desktop.gui.app import application
from hpo_desktop.gui.main_window import MainWindow

QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
app = application()
window = MainWindow()
window.show()
app.aboutToQuit.connect(window.shutdown)
window.open_path(Path(sys.argv[1]))

def on_event(event):
    if isinstance(event, StepReported) and event.number == 1:
        QTimer.singleShot(0, window.close)  # the user closes the window mid-trial

window.runner.event.connect(on_event)
window.start_study()
sys.exit(app.exec())
"""


def test_quitting_the_app_mid_trial_exits_cleanly_in_a_real_process(tmp_path, write_tiny_spec):
    import os
    import subprocess
    import sys

    spec = write_tiny_spec(trials=5, epochs=150)
    script = tmp_path / "quit.py"
    script.write_text(QUIT_WHILE_RUNNING)
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HPO_DESKTOP_DATA_DIR": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    done = subprocess.run(
        [sys.executable, str(script), str(spec)], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert "QThread: Destroyed" not in done.stderr
    trials = stored_trials(spec.with_suffix(".db"), "tiny")
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.INTERRUPTED]


def test_an_unexpected_error_shows_a_message_and_its_traceback_in_the_log(
    qtbot, main_window, dialogs, monkeypatch, write_tiny_spec
):
    import hpo_desktop.training.objective as objective

    def broken(*args, **kwargs):
        raise RuntimeError("the trainer fell over")

    monkeypatch.setattr(objective, "make_objective", broken)
    main_window.open_path(write_tiny_spec())
    with qtbot.waitSignal(main_window.runner.crashed, timeout=RUN_TIMEOUT):
        main_window.start_study()
    qtbot.waitUntil(lambda: not main_window.runner.running, timeout=10_000)
    assert dialogs.kinds() == ["critical"] and "the trainer fell over" in dialogs.texts()
    assert "Traceback" not in dialogs.texts()
    log = "\n".join(main_window.log.lines())
    assert "Traceback (most recent call last)" in log and "RuntimeError: the trainer fell over" in log
