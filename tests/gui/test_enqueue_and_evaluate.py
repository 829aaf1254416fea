"""Enqueue manual trials (type one, or clone and edit a row) and evaluate a trial on the test set."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QApplication

from hpo_desktop.core.events import StepReported
from hpo_desktop.core.spec import load_spec
from hpo_desktop.core.storage import StudyStore
from hpo_desktop.core.study import Study, create_from_spec
from hpo_desktop.core.trial import TrialState
from hpo_desktop.gui.enqueue_dialog import EnqueueDialog
from hpo_desktop.gui.evaluate_dialog import EvaluateDialog

RUN_TIMEOUT = 120_000  # ms: generous, for a loaded two-core machine

DIGITS_SPEC = """
[study]
name = "digits"
metric = "val_accuracy"
direction = "maximize"
trials = 10
seed = 3

[strategy]
kind = "random"

[data]
dataset = "digits"
validation = 0.2
test = 0.2

[model]
kind = "mlp"
epochs = 1
batch_size = 64

[space]
learning_rate = { type = "float", low = 1e-4, high = 1e-1, log = true }
hidden_units  = { type = "int", low = 8, high = 64 }
optimizer     = { type = "categorical", choices = ["adam", "sgd"] }
momentum      = { type = "float", low = 0.0, high = 0.99, when = { optimizer = "sgd" } }
"""

TRIALS = [  # (params, val_accuracy): trial 1 is the best
    ({"learning_rate": 0.01, "hidden_units": 32, "optimizer": "adam"}, 0.90),
    ({"learning_rate": 0.003, "hidden_units": 16, "optimizer": "sgd", "momentum": 0.9}, 0.95),
    ({"learning_rate": 0.05, "hidden_units": 48, "optimizer": "adam"}, 0.80),
]


@pytest.fixture
def digits_study(tmp_path):
    """A digits study file with three finished trials (made without training): (db, study_id)."""
    spec_path = tmp_path / "digits.toml"
    spec_path.write_text(DIGITS_SPEC)
    db = tmp_path / "digits.db"
    study = create_from_spec(db, load_spec(spec_path))
    study_id = study.study_id
    study.close()
    with StudyStore(db) as store:
        for params, value in TRIALS:
            trial = store.create_trial(study_id, params)
            store.finish_trial(
                trial.trial_id, TrialState.COMPLETE, value=value, metrics={"val_accuracy": value}
            )
    return db, study_id


def queue_in_file(db, study_id):
    with StudyStore(db, readonly=True) as store:
        return store.queued_trials(study_id)


def evaluations_in_file(db, study_id):
    with StudyStore(db, readonly=True) as store:
        return store.get_evaluations(study_id)


def open_dialog(qtbot, db, study_id, number=None) -> EnqueueDialog:
    reader = StudyStore(db, readonly=True)
    dialog = EnqueueDialog.for_trial(reader, study_id, number)
    qtbot.addWidget(dialog)
    dialog.destroyed.connect(reader.close)
    dialog.show()
    return dialog


# -- the enqueue dialog ------------------------------------------------------------------------


def test_a_trial_cloned_edited_and_enqueued_lands_in_the_files_queue(qtbot, digits_study):
    db, study_id = digits_study
    dialog = open_dialog(qtbot, db, study_id, number=0)
    assert "trial 0" in dialog.source_label.text()
    assert dialog.editors["learning_rate"].editor.text() == "0.01"
    assert dialog.editors["hidden_units"].editor.value() == 32
    assert dialog.editors["optimizer"].editor.currentText() == "adam"
    assert not dialog.is_row_visible("momentum")  # only active with sgd
    dialog.editors["hidden_units"].editor.setValue(40)
    dialog.editors["optimizer"].editor.setCurrentText("sgd")
    assert dialog.is_row_visible("momentum")  # its parent now makes it active
    dialog.editors["momentum"].editor.setText("0.5")
    dialog.editors["learning_rate"].editor.setText("2e-3")
    with qtbot.waitSignal(dialog.enqueued, timeout=10_000) as got:
        dialog.ok_button.click()
    expected = {"learning_rate": 0.002, "hidden_units": 40, "optimizer": "sgd", "momentum": 0.5}
    assert got.args[0] == expected
    assert queue_in_file(db, study_id) == [expected]
    assert dialog.result() == EnqueueDialog.DialogCode.Accepted


def test_the_dialog_opens_with_the_best_trial_and_lists_and_removes_queued_trials(qtbot, digits_study):
    db, study_id = digits_study
    with StudyStore(db) as store:
        store.enqueue_trial(study_id, TRIALS[0][0])
        store.enqueue_trial(study_id, TRIALS[2][0])
    dialog = open_dialog(qtbot, db, study_id)
    assert "best trial, 1" in dialog.source_label.text()
    assert dialog.params() == TRIALS[1][0]
    assert dialog.is_row_visible("momentum")
    assert dialog.queue_list.count() == 2 and "hidden_units=32" in dialog.queue_list.item(0).text()
    dialog.queue_list.setCurrentRow(0)
    with qtbot.waitSignal(dialog.queue_changed, timeout=10_000):
        assert dialog.remove_button.isEnabled()
        dialog.remove_button.click()
    assert queue_in_file(db, study_id) == [TRIALS[2][0]]
    assert dialog.queued() == [TRIALS[2][0]]


def test_out_of_range_and_unreadable_values_are_named_inline_and_nothing_is_stored(qtbot, digits_study):
    db, study_id = digits_study
    dialog = open_dialog(qtbot, db, study_id, number=0)
    dialog.editors["learning_rate"].editor.setText("5")
    dialog.editors["hidden_units"].editor.setValue(1000)
    with qtbot.assertNotEmitted(dialog.enqueued, wait=300):
        assert not dialog.submit()
    problems = dialog.problems_text()
    assert "learning_rate" in problems and "hidden_units" in problems
    assert dialog.error_label.isVisible()
    assert dialog.is_marked("learning_rate") and dialog.is_marked("hidden_units")
    assert not dialog.is_marked("optimizer")
    dialog.editors["learning_rate"].editor.setText("fast")
    dialog.editors["hidden_units"].editor.setValue(20)
    assert not dialog.error_label.isVisible() and not dialog.is_marked("hidden_units")  # edits clear it
    assert not dialog.submit()
    assert "learning_rate: 'fast' is not a number" in dialog.problems_text()
    assert dialog.isVisible()  # still open for a fix
    assert queue_in_file(db, study_id) == []


def test_clone_and_edit_from_the_trials_tables_context_menu(qtbot, main_window, digits_study):
    db, study_id = digits_study
    assert not main_window.act_enqueue.isEnabled()  # nothing open yet
    assert main_window.open_path(db)
    assert main_window.act_enqueue.isEnabled() and main_window.act_evaluate.isEnabled()
    assert main_window.act_enqueue.shortcut().toString() == "Ctrl+E"
    assert main_window.act_evaluate.shortcut().toString() == "Ctrl+T"
    assert main_window.act_enqueue in main_window.study_menu.actions()
    main_window.live.flush()
    table = main_window.live.table
    row = table.proxy.mapFromSource(table.model.index(table.model.row_of(2), 1))
    table.view.customContextMenuRequested.emit(table.view.visualRect(row).center())
    menu = table.context_menu
    assert menu is not None
    actions = {a.text(): a for a in menu.actions()}
    actions["Copy Configuration"].trigger()
    assert json.loads(QApplication.clipboard().text()) == TRIALS[2][0]
    actions["Clone and Edit…"].trigger()
    dialog = main_window.findChild(EnqueueDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.params() == TRIALS[2][0]
    assert "trial 2" in dialog.source_label.text()
    dialog.editors["hidden_units"].editor.setValue(9)
    with qtbot.waitSignal(dialog.enqueued, timeout=10_000):
        dialog.ok_button.click()
    assert queue_in_file(db, study_id) == [{**TRIALS[2][0], "hidden_units": 9}]
    assert "Queued a trial for 'digits'" in "\n".join(main_window.log.lines())
    assert "it runs first when the study continues (F5)" in "\n".join(main_window.log.lines())
    assert actions["Evaluate on Test Set…"].isEnabled()
    actions["Evaluate on Test Set…"].trigger()
    evaluate = main_window.findChild(EvaluateDialog)
    assert evaluate is not None and evaluate.chosen_number() == 2
    evaluate.reject()


def test_an_enqueued_configuration_runs_next_in_a_running_study(qtbot, main_window, write_tiny_spec):
    path = write_tiny_spec(trials=2, epochs=60)
    main_window.open_path(path)

    def first_step(event) -> bool:
        return isinstance(event, StepReported) and event.number == 0

    with qtbot.waitSignal(main_window.runner.event, timeout=RUN_TIMEOUT, check_params_cb=first_step):
        main_window.start_study()
    assert main_window.act_enqueue.isEnabled()  # allowed while it runs
    assert not main_window.act_evaluate.isEnabled()  # not while it trains
    dialog = main_window.enqueue_dialog()
    dialog.editors["learning_rate"].editor.setText("0.02")
    dialog.editors["hidden_units"].editor.setValue(13)
    with qtbot.waitSignal(
        main_window.runner.running_changed, timeout=RUN_TIMEOUT, check_params_cb=lambda r: not r
    ):
        with qtbot.waitSignal(dialog.enqueued, timeout=10_000):
            dialog.ok_button.click()
    with StudyStore(main_window.doc.db_path, readonly=True) as store:
        trials = store.get_trials(store.get_study("tiny").study_id)
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.COMPLETE]
    assert trials[1].params == {"learning_rate": 0.02, "hidden_units": 13}
    assert trials[1].attrs.get("source") == "queue"
    assert "it runs next" in "\n".join(main_window.log.lines())


# -- evaluating on the test set ----------------------------------------------------------------


def test_evaluating_the_best_trial_with_two_seeds_shows_mean_and_std_and_lists_the_record(
    qtbot, main_window, digits_study
):
    db, study_id = digits_study
    main_window.open_path(db)
    assert main_window.evaluations.stack.currentWidget() is main_window.evaluations.empty
    main_window.act_evaluate.trigger()
    dialog = main_window.findChild(EvaluateDialog)
    assert dialog is not None and dialog.isVisible()
    assert dialog.chosen_number() == 1  # the best trial by default
    assert dialog.trial_numbers() == [1, 0, 2]
    assert dialog.seeds_spin.value() == 3
    assert not dialog.validation_check.isChecked()
    dialog.seeds_spin.setValue(2)
    with qtbot.waitSignal(dialog.evaluated, timeout=RUN_TIMEOUT) as got:
        dialog.evaluate_button.click()
        assert not dialog.evaluate_button.isEnabled() and dialog.cancel_button.isEnabled()
        assert dialog.progress_bar.isVisible() and dialog.status_label.text() == "Training seed 1 of 2…"
    qtbot.waitUntil(lambda: not dialog.running, timeout=10_000)
    record = got.args[0]
    assert record.trial_number == 1 and len(record.per_seed) == 2
    assert (dialog.progress_bar.value(), dialog.progress_bar.maximum()) == (2, 2)
    assert dialog.progress_bar.text() == "2 of 2 seeds done"
    assert "test_accuracy" in dialog.result_label.text() and "±" in dialog.result_label.text()
    assert dialog.close_button.isEnabled() and dialog.evaluate_button.isEnabled()
    [stored] = evaluations_in_file(db, study_id)
    assert stored.params == TRIALS[1][0] and not stored.include_validation
    panel = main_window.evaluations
    assert panel.stack.currentWidget() is panel.table
    [row] = panel.row_texts()
    mean, std = stored.summary["test_accuracy"]
    assert row[0] == "1" and f"{mean:.4f} ± {std:.4f}" in row and "2" in row and "training" in row
    assert main_window.evaluations_dock.isVisible()
    assert "Trial 1 on the test set: test_accuracy" in "\n".join(main_window.log.lines())


def test_cancelling_an_evaluation_stores_nothing(qtbot, digits_study):
    db, study_id = digits_study
    with StudyStore(db, readonly=True) as reader:
        dialog = EvaluateDialog.for_study(reader, study_id, number=0)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.seeds_spin.setValue(3)
    dialog.validation_check.setChecked(True)
    assert dialog.start()
    dialog.cancel_button.click()
    assert not dialog.cancel_button.isEnabled() and "Cancelling" in dialog.status_label.text()
    qtbot.waitUntil(lambda: not dialog.running, timeout=RUN_TIMEOUT)
    assert dialog.status_label.text() == "Cancelled; nothing was stored."
    assert dialog.result is None
    assert evaluations_in_file(db, study_id) == []


def test_a_study_without_a_built_in_model_says_why_it_cannot_be_evaluated(qtbot, tmp_path, dialogs):
    db = tmp_path / "api.db"
    study = Study.create(db, "api", {"x": {"type": "float", "low": 0.0, "high": 1.0}}, {"kind": "random"})
    study_id = study.study_id
    study.close()
    with StudyStore(db) as store:
        trial = store.create_trial(study_id, {"x": 0.5})
        store.finish_trial(trial.trial_id, TrialState.COMPLETE, value=0.5)
    with StudyStore(db, readonly=True) as reader:
        dialog = EvaluateDialog.for_study(reader, study_id)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=RUN_TIMEOUT)
    assert dialogs.kinds() == ["warning"]
    assert "no built-in model" in dialogs.texts() and "Traceback" not in dialogs.texts()
    assert dialog.result is None
    assert evaluations_in_file(db, study_id) == []
