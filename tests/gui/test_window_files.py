"""Files in the main window: command line, welcome page, recent files, export, drag and drop."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from hpo_desktop.app import demo_db, example_path
from hpo_desktop.core.storage import StudyStore
from hpo_desktop.core.study import Study
from hpo_desktop.core.trial import TrialState
from hpo_desktop.gui import settings
from hpo_desktop.gui.app import open_arguments
from hpo_desktop.gui.navigator import NEW_ROW

ROOT = Path(__file__).resolve().parents[2]


def make_study_file(path: Path, name: str = "quick", n: int = 3) -> Path:
    """A study file written through the core API, with a trivial objective (no training)."""
    space = {"learning_rate": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True}}
    extra = {
        "data": {"dataset": "moons", "n_samples": 200},
        "model": {"epochs": 2},
        "base_dir": str(path.parent),
    }
    with Study.create(
        path, name, space, "random", metric="val_accuracy", direction="maximize", n_trials=n, spec=extra
    ) as study:

        def objective(params, trial):
            for epoch in (1, 2):
                trial.report(epoch, val_accuracy=0.5 + params["learning_rate"] * epoch, val_loss=1.0 / epoch)
            return {"val_accuracy": 0.5 + params["learning_rate"] * 2, "val_loss": 0.5}

        study.optimize(objective, n)
    return path


# -- the command line --------------------------------------------------------------------------


def test_help_and_subcommands_start_without_qt():
    code = (
        "import sys, io, contextlib; from hpo_desktop.app import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out: rc = main(['--help'])\n"
        "assert rc == 0 and '--demo' in out.getvalue(), out.getvalue()\n"
        "assert 'PySide6' not in sys.modules and 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_a_missing_file_on_the_command_line_gives_a_dialog_and_the_welcome_page(
    main_window, dialogs, tmp_path
):
    open_arguments(main_window, [str(tmp_path / "nowhere.db")])
    assert dialogs.kinds() == ["warning"]
    assert "nowhere.db" in dialogs.texts()
    assert main_window.pages.currentWidget() is main_window.welcome
    assert main_window.doc is None


def test_a_file_that_is_not_a_study_file_gives_a_dialog(main_window, dialogs, tmp_path):
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my notes, not a database\n")
    open_arguments(main_window, [str(bogus)])
    assert dialogs.kinds() == ["warning"]
    assert "notes.db" in dialogs.texts()
    assert bogus.read_text() == "these are my notes, not a database\n"  # left alone
    assert main_window.pages.currentWidget() is main_window.welcome


def test_a_broken_spec_names_the_line_in_the_dialog(main_window, dialogs, tmp_path):
    spec = tmp_path / "broken.toml"
    spec.write_text('[study]\nname = "x"\nmetric = \n')
    assert not main_window.open_path(spec)
    assert "line 3" in dialogs.texts()


def test_demo_opens_the_digits_example_ready_to_start(main_window, dialogs):
    open_arguments(main_window, ["--demo"])
    doc = main_window.doc
    assert doc is not None and doc.is_new and doc.template
    assert doc.db_path == demo_db().resolve()  # in HPO_DESKTOP_DATA_DIR (tmp_path)
    assert main_window.setup.spec().name == "digits-mlp"
    assert main_window.can_start() == (True, "")
    assert main_window.act_start.isEnabled()
    assert main_window.tabs.currentWidget() is main_window.setup
    assert not dialogs.calls


def test_a_spec_opens_as_a_new_study_beside_its_file(main_window, write_tiny_spec):
    path = write_tiny_spec()
    open_arguments(main_window, [str(path)])
    doc = main_window.doc
    assert doc.is_new and not doc.template
    assert doc.db_path == path.with_suffix(".db").resolve()
    assert doc.spec_path == path.resolve()
    assert main_window.navigator.new_study_name() == "tiny"
    assert main_window.navigator.selected() == NEW_ROW
    assert "tiny (new)" in main_window.windowTitle()


def test_opening_a_study_file_lists_its_studies_and_shows_the_trials(main_window, tmp_path):
    db = make_study_file(tmp_path / "two.db", "first", 3)
    make_study_file(db, "second", 2)
    assert main_window.open_path(db)
    names = [s.record.name for s in main_window.navigator.summaries]
    assert names == ["first", "second"]
    model = main_window.navigator.model
    assert [model.item(r, 0).text() for r in range(model.rowCount())] == ["first", "second"]
    assert model.item(0, 1).text() == "finished" and model.item(0, 2).text() == "3 / 3"
    assert main_window.doc.study_name == "second"  # the latest
    assert len(main_window.live.trials) == 2
    main_window.navigator.view.setCurrentIndex(model.index(0, 0))
    assert main_window.doc.study_name == "first"
    assert len(main_window.live.trials) == 3


def test_the_navigator_follows_another_writer(qtbot, main_window, tmp_path):
    db = make_study_file(tmp_path / "shared.db", "quick", 2)
    main_window.open_path(db)
    with Study.open(db, "quick") as study:  # "another process" continues the study
        study.optimize(lambda p, t: {"val_accuracy": 0.9}, 4)
    qtbot.waitUntil(lambda: main_window.navigator.summaries[0].n_trials == 4, timeout=5000)
    qtbot.waitUntil(lambda: len(main_window.live.trials) == 4, timeout=5000)


def test_trials_left_running_by_a_dead_process_show_as_interrupted(qtbot, main_window, tmp_path):
    db = make_study_file(tmp_path / "crashed.db", "quick", 1)
    with StudyStore(db) as store:
        sid = store.get_study("quick").study_id
        store.create_trial(sid, {"learning_rate": 0.01})
    # Make it look like another process's trial: a pid that cannot exist.
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE trials SET pid = 999999999 WHERE state = 'running'")
    main_window.open_path(db)
    qtbot.waitUntil(
        lambda: (
            main_window.navigator.summaries and main_window.navigator.summaries[0].counts["interrupted"] == 1
        ),
        timeout=5000,
    )


def test_a_study_running_in_another_process_is_watched_not_started_twice(qtbot, main_window, tmp_path):
    db = make_study_file(tmp_path / "busy.db", "quick", 1)
    with StudyStore(db) as store:
        sid = store.get_study("quick").study_id
        store.create_trial(sid, {"learning_rate": 0.01})
        store.update_study(sid, budget=5)
    import os
    import sqlite3

    with sqlite3.connect(db) as conn:  # a live process of this host runs it: our parent
        conn.execute("UPDATE trials SET pid = ? WHERE state = 'running'", (os.getppid(),))
    main_window.open_path(db)
    qtbot.waitUntil(lambda: bool(main_window.navigator.summaries), timeout=5000)
    ok, why = main_window.can_start()
    assert not ok and "running in another window or process" in why
    assert not main_window.start_study()
    assert main_window.navigator.summaries[0].counts["running"] == 1  # left alone


# -- recent files and settings ---------------------------------------------------------------


def test_recent_files_are_kept_in_qsettings(
    qtbot, main_window, tmp_path, write_tiny_spec, _isolated_settings
):
    db = make_study_file(tmp_path / "a.db")
    spec = write_tiny_spec()
    main_window.open_path(db)
    main_window.open_path(spec)
    assert settings.recent_files() == [spec.resolve(), db.resolve()]
    assert any(_isolated_settings.rglob("*.ini"))  # written under tmp_path, not the user's folder
    main_window._fill_recent_menu()
    texts = [a.text() for a in main_window.recent_menu.actions()]
    assert texts[:2] == ["tiny.toml", "a.db"]


def test_the_last_file_opens_next_time(qtbot, tmp_path):
    from hpo_desktop.gui.main_window import MainWindow

    db = make_study_file(tmp_path / "again.db")
    first = MainWindow()
    qtbot.addWidget(first)
    first.open_path(db)
    first.close()
    assert settings.window_geometry() is not None
    second = MainWindow()
    qtbot.addWidget(second)
    open_arguments(second, [])
    assert second.doc is not None and second.doc.db_path == db.resolve()
    assert second.welcome.recent_list.count() == 1
    second.close()


def test_without_a_last_file_the_welcome_page_shows(main_window):
    open_arguments(main_window, [])
    assert main_window.pages.currentWidget() is main_window.welcome
    assert len(main_window.welcome.template_buttons) == 3
    assert not main_window.act_start.isEnabled()


def test_a_template_from_the_welcome_page_opens_as_a_new_study(main_window):
    main_window.welcome.template_buttons[1].click()  # moons grid
    assert main_window.doc.is_new and main_window.doc.template
    assert main_window.setup.spec().name == "moons-grid"
    assert main_window.doc.db_path.parent == demo_db().parent.resolve()


# -- export and save ----------------------------------------------------------------------------


def test_export_writes_csv_and_json_of_the_shown_study(main_window, tmp_path):
    db = make_study_file(tmp_path / "ex.db", "quick", 3)
    main_window.open_path(db)
    assert main_window.export_to(tmp_path / "out.csv", "csv")
    rows = list(csv.DictReader((tmp_path / "out.csv").read_text().splitlines()))
    assert [r["number"] for r in rows] == ["0", "1", "2"]
    assert {r["state"] for r in rows} == {"complete"}
    assert main_window.export_to(tmp_path / "out.json", "json")
    doc = json.loads((tmp_path / "out.json").read_text())
    assert doc["studies"][0]["name"] == "quick"
    assert len(doc["studies"][0]["trials"][0]["curves"]) == 2


def test_export_never_overwrites_the_study_file(main_window, dialogs, tmp_path):
    db = make_study_file(tmp_path / "keep.db")
    before = db.read_bytes()
    main_window.open_path(db)
    assert not main_window.export_to(db, "csv")
    assert "study file" in dialogs.texts()
    assert db.read_bytes() == before


def test_save_spec_as_toml_round_trips(main_window, tmp_path):
    main_window.open_demo()
    out = tmp_path / "mine.toml"
    assert main_window.save_spec_to(out)
    reopened = tmp_path / "reopened"
    assert main_window.open_path(out)
    assert main_window.setup.spec().space.to_dict() == main_window.setup.spec().space.to_dict()
    assert main_window.doc.spec_path == out.resolve()
    assert not reopened.exists()


def test_save_never_writes_over_the_example(main_window, monkeypatch, tmp_path):
    main_window.open_demo()
    before = example_path().read_text()
    asked = []
    monkeypatch.setattr(
        "hpo_desktop.gui.main_window.QFileDialog.getSaveFileName",
        lambda *a, **k: (asked.append(a) or "", ""),
    )
    assert not main_window.save_spec()  # a template asks where, and the user cancelled
    assert asked and example_path().read_text() == before


# -- drag and drop -------------------------------------------------------------------------------


# PySide6 marks the QDragEnterEvent constructor deprecated, but offers no other one.
no_ctor_warning = pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")


def _mime(path: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


@no_ctor_warning
def test_dropping_a_spec_on_the_window_opens_it(main_window, write_tiny_spec):
    path = write_tiny_spec(name="dropped")
    mime = _mime(path)
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    main_window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    main_window.dropEvent(drop)
    assert main_window.doc.is_new
    assert main_window.setup.spec().name == "dropped"


@no_ctor_warning
def test_dropping_other_files_is_refused(main_window, tmp_path):
    other = tmp_path / "picture.png"
    other.write_bytes(b"\x89PNG")
    mime = _mime(other)  # the event does not own it: keep it alive
    enter = QDragEnterEvent(
        QPoint(1, 1),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    main_window.dragEnterEvent(enter)
    assert not enter.isAccepted()


def test_opening_is_refused_while_a_study_runs(main_window, dialogs, tmp_path):
    # A stand-in for a running study: only the flag matters here.
    main_window.runner._running = True
    try:
        assert not main_window.open_path(make_study_file(tmp_path / "other.db"))
        assert "Stop the running study" in dialogs.texts()
    finally:
        main_window.runner._running = False


def test_background_marker_thread_finishes(main_window, tmp_path):
    main_window.open_path(make_study_file(tmp_path / "m.db"))
    marker = main_window._stale_marker
    assert isinstance(marker, threading.Thread)
    marker.join(5)
    assert not marker.is_alive()
    assert main_window.navigator.summaries[0].counts[TrialState.COMPLETE.value] == 3


def test_edit_undo_and_redo_act_on_the_setup_pages_stack(main_window):
    from PySide6.QtGui import QUndoCommand

    main_window.open_demo()
    done = []

    class Edit(QUndoCommand):
        def redo(self):
            done.append("redo")

        def undo(self):
            done.append("undo")

    main_window.setup.undo_stack.push(Edit("edit"))
    assert main_window.act_undo.isEnabled() and main_window.isWindowModified()
    main_window.act_undo.trigger()
    main_window.act_redo.trigger()
    assert done == ["redo", "undo", "redo"]
    assert main_window.act_undo.shortcut().toString() == "Ctrl+Z"
