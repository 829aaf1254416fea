"""The main window: welcome page, Setup and Run tabs, study navigator, log pane, run controls.

It owns what is open (a :class:`~.document.Document`), a read-only StudyStore on the open file
(the GUI thread only reads; runs write through :mod:`.worker`), and the menus and shortcuts.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from .. import __version__
from ..app import demo_db, example_path
from ..core.evaluation import EvaluationRecord
from ..core.events import StudyFinished, TrialFinished
from ..core.export import export_text, write_atomically
from ..core.spec import SpecError, StudySpec, load_spec
from ..core.storage import StorageError, StudyStore
from . import settings
from .analysis.analysis_page import AnalysisPage
from .compare_view import CompareWindow
from .document import (
    SPEC_SUFFIXES,
    STUDY_SUFFIXES,
    Document,
    default_study_file,
    is_shipped,
    spec_for_record,
    unique_name,
    why_not_runnable,
    with_absolute_data_paths,
)
from .enqueue_dialog import EnqueueDialog, describe_config
from .evaluate_dialog import EvaluateDialog, result_text
from .evaluations_panel import EvaluationsPanel
from .live.live_page import LivePage
from .live.run_progress import RunProgress
from .log_pane import LogPane
from .navigator import NEW_ROW, POLL_MS, StudyNavigator, finished_count
from .refine_dialog import RefineDialog
from .setup.setup_page import SetupPage
from .theme import icon
from .trust_dialog import confirm_trust
from .welcome import WelcomePage, templates
from .worker import RunRequest, StudyOpened, StudyRunner

APP_NAME = "HPO Desktop"
#: How often the navigator looks at the file while this window runs a study (its events say more).
RUNNING_POLL_MS = 5000
#: How long closing the window waits for a cancelled trial to stop before it stops waiting
#: (and closes later, when the trial has stopped). The trainer checks the flag between batches.
CLOSE_WAIT_MS = 5000


class MainWindow(QMainWindow):
    """One window, one open study file (or one new study)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("main-window")
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.resize(1280, 820)

        self.doc: Document | None = None
        self.reader: StudyStore | None = None
        self._validity: tuple[bool, str] = (True, "")
        self._close_when_stopped = False
        self._navigator_stale = False
        self._shut_down = False
        self._stale_marker: threading.Thread | None = None

        # -- pages ---------------------------------------------------------------------------
        self.welcome = WelcomePage()
        self.setup = SetupPage()
        self.live = LivePage()
        self.live.details.log_reader = self._stored_trial_log
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.setup, "Setup")
        self.tabs.addTab(self.live, "Run")
        self.analysis = AnalysisPage()
        self.tabs.addTab(self.analysis, "Analysis")
        # one selection: a trial picked on either page is highlighted on both
        self.live.trial_selected.connect(self.analysis.select_trial)
        self.live.clone_requested.connect(self.enqueue_dialog)
        self.live.evaluate_requested.connect(self.evaluate_dialog)
        self.analysis.trial_selected.connect(self.live.select_trial)
        # Brushing the parallel coordinates filters the Run page's trials table (the Analysis
        # page's other views fade the trials outside the brush themselves).
        self.analysis.brush_changed.connect(
            lambda numbers: self.live.table.set_number_filter(None if numbers is None else sorted(numbers))
        )
        self.analysis.brush_changed.connect(self.live.set_brush_filter)  # and fades the history
        self.tabs.currentChanged.connect(lambda _i: self._sync_progress())
        self.pages = QStackedWidget()
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(self.tabs)
        self.setCentralWidget(self.pages)

        # -- docks ---------------------------------------------------------------------------
        self.navigator = StudyNavigator()
        self.nav_dock = QDockWidget("Studies")
        self.nav_dock.setObjectName("studies-dock")
        self.nav_dock.setWidget(self.navigator)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.nav_dock)
        self.log = LogPane()
        self.log_dock = QDockWidget("Log")
        self.log_dock.setObjectName("log-dock")
        self.log_dock.setWidget(self.log)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.resizeDocks([self.nav_dock], [250], Qt.Orientation.Horizontal)
        self.resizeDocks([self.log_dock], [150], Qt.Orientation.Vertical)
        # Test-set evaluations: their own dock (tabbed with the log), apart from the search's results.
        self.evaluations = EvaluationsPanel()
        self.evaluations_dock = QDockWidget("Test Set")
        self.evaluations_dock.setObjectName("evaluations-dock")
        self.evaluations_dock.setWidget(self.evaluations)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.evaluations_dock)
        self.tabifyDockWidget(self.log_dock, self.evaluations_dock)
        self.log_dock.raise_()

        # -- status bar ----------------------------------------------------------------------
        self.state_label = QLabel()
        self.state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.statusBar().addWidget(self.state_label, 1)
        # The Run page shows the progress bars; this copy keeps them in sight on the other pages.
        self.progress = RunProgress()
        self.statusBar().addPermanentWidget(self.progress)
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(250)
        self._progress_timer.timeout.connect(self._sync_progress)

        # -- running -------------------------------------------------------------------------
        self.runner = StudyRunner(self)
        self.runner.opened.connect(self._on_opened)
        self.runner.event.connect(self._on_event)
        self.runner.log.connect(self._on_worker_log)
        self.runner.finished_run.connect(self._on_finished_run)
        self.runner.failed.connect(self._on_failed)
        self.runner.crashed.connect(self._on_crashed)
        self.runner.running_changed.connect(self._on_running_changed)
        self.runner.paused_changed.connect(self._on_paused_changed)

        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self._make_queue_actions()
        self._make_lineage_actions()

        self.welcome.template_chosen.connect(self.new_from_template)
        self.welcome.open_requested.connect(self.open_dialog)
        self.welcome.recent_chosen.connect(self.open_path)
        self.navigator.study_selected.connect(self._on_study_selected)
        self.navigator.file_changed.connect(self._on_file_changed)
        self.setup.validity_changed.connect(self._on_validity_changed)
        self.setup.changed.connect(self._update_actions)
        self.setup.undo_stack.cleanChanged.connect(self._update_title)

        self._restore_window()
        self.show_welcome()

    # ======================================================================================
    # actions, menus, toolbar

    def _action(self, text: str, slot, shortcut=None, icon_name: str | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(icon(icon_name))
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        return action

    def _make_actions(self) -> None:
        K = QKeySequence.StandardKey
        self.act_new = self._action(
            "&New Study…", self.new_dialog, K.New, "new", "Start a new study from a template"
        )
        self.act_open = self._action(
            "&Open…", self.open_dialog, K.Open, "open", "Open a study file (.db) or a spec (.toml)"
        )
        self.act_save = self._action(
            "&Save Spec", self.save_spec, K.Save, "save", "Save the study's setup as a TOML spec file"
        )
        self.act_save_as = self._action(
            "Save Spec &As…", self.save_spec_as, K.SaveAs, None, "Save the setup as a new TOML spec file"
        )
        self.act_import = self._action(
            "&Import Spec…", self.import_dialog, None, "import", "Open a TOML spec as a new study"
        )
        self.act_choose_file = self._action(
            "Study &File for New Study…",
            self.choose_study_file,
            None,
            None,
            "Choose the study file a new study is written to",
        )
        self.act_export_csv = self._action(
            "Export &CSV…", lambda: self.export_dialog("csv"), None, "export", "One row per trial"
        )
        self.act_export_json = self._action(
            "Export &JSON…", lambda: self.export_dialog("json"), None, None, "Every trial with its curves"
        )
        self.act_report = self._action(
            "Write &Report…",
            self.report_dialog,
            None,
            None,
            "An HTML page with the charts, insights and best trials",
        )
        self.act_copy_best = {
            fmt: self._action(
                label,
                lambda fmt=fmt: self.copy_best_config(fmt),
                None,
                None,
                "Copy the best trial's parameters",
            )
            for fmt, label in (
                ("json", "Copy Best Configuration as &JSON"),
                ("toml", "Copy Best Configuration as &TOML"),
                ("python", "Copy Best Configuration as a &Python dict"),
            )
        }
        self.act_quit = self._action("&Quit", self.close, K.Quit, None, "Quit HPO Desktop")
        self.act_quit.setMenuRole(QAction.MenuRole.QuitRole)

        self.act_undo = self.setup.undo_stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcuts(QKeySequence.keyBindings(K.Undo))
        self.act_redo = self.setup.undo_stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts(QKeySequence.keyBindings(K.Redo))

        self.act_start = self._action("&Start", self.start_study, "F5", "start", "Start the study (F5)")
        self.act_pause = self._action(
            "&Pause", self.toggle_pause, "F6", "pause", "Pause the running trial between batches (F6)"
        )
        self.act_pause.setCheckable(True)
        self.act_stop_after = self._action(
            "Stop &After This Trial",
            self.stop_after_trial,
            "F7",
            "stop-after",
            "Let the running trial finish, then stop (F7)",
        )
        self.act_stop_now = self._action(
            "Stop &Now",
            self.stop_now,
            "Shift+F5",
            "stop",
            "Stop at once; the running trial is marked interrupted (Shift+F5)",
        )

        self.act_show_setup = self._action("&Setup", lambda: self._show_tab(self.setup), "Ctrl+1")
        self.act_show_run = self._action("&Run", lambda: self._show_tab(self.live), "Ctrl+2")
        self.act_show_analysis = self._action("&Analysis", lambda: self._show_tab(self.analysis), "Ctrl+3")
        self.act_welcome = self._action("&Welcome Page", self.show_welcome, None, None)
        self.act_about = self._action("&About HPO Desktop", self.about, None, None)
        self.act_about.setMenuRole(QAction.MenuRole.AboutRole)
        self.act_docs = self._action("Documentation", self.open_docs, K.HelpContents, None)

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.act_new)
        self.template_menu = file_menu.addMenu("New from &Template")
        for t in templates():
            action = self.template_menu.addAction(icon("new"), t.title)
            action.setStatusTip(t.description)
            action.triggered.connect(lambda _=False, p=t.path: self.new_from_template(p))
        file_menu.addAction(self.act_open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.act_save)
        file_menu.addAction(self.act_save_as)
        file_menu.addAction(self.act_import)
        file_menu.addAction(self.act_choose_file)
        file_menu.addSeparator()
        file_menu.addAction(self.act_export_csv)
        file_menu.addAction(self.act_export_json)
        file_menu.addAction(self.act_report)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)

        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.act_undo)
        edit_menu.addAction(self.act_redo)
        edit_menu.addSeparator()
        for action in self.act_copy_best.values():
            edit_menu.addAction(action)

        run_menu = bar.addMenu("&Run")
        for a in (self.act_start, self.act_pause, self.act_stop_after, self.act_stop_now):
            run_menu.addAction(a)

        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.act_show_setup)
        view_menu.addAction(self.act_show_run)
        view_menu.addAction(self.act_show_analysis)
        view_menu.addAction(self.act_welcome)
        view_menu.addSeparator()
        view_menu.addAction(self.nav_dock.toggleViewAction())
        view_menu.addAction(self.log_dock.toggleViewAction())
        self.view_menu = view_menu

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.act_docs)
        help_menu.addAction(self.act_about)

    def _study_menu_section(self) -> QMenu:
        """The Study menu (made before View on first use), a separator after what it holds."""
        menu = getattr(self, "study_menu", None)
        if menu is None:
            menu = self.study_menu = QMenu("&Study", self)
            self.menuBar().insertMenu(self.view_menu.menuAction(), menu)
        else:
            menu.addSeparator()
        return menu

    def _make_toolbar(self) -> None:
        tb = self.addToolBar("Main")
        tb.setObjectName("main-toolbar")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for a in (self.act_new, self.act_open, self.act_save):
            tb.addAction(a)
        tb.addSeparator()
        for a in (self.act_start, self.act_pause, self.act_stop_after, self.act_stop_now):
            tb.addAction(a)
        self.toolbar = tb
        self.view_menu.addAction(tb.toggleViewAction())

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = settings.recent_files()
        for path in recent:
            action = self.recent_menu.addAction(icon("open" if path.suffix != ".toml" else "new"), path.name)
            action.setStatusTip(str(path))
            action.setToolTip(str(path))
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not recent:
            empty = self.recent_menu.addAction("No recent files")
            empty.setEnabled(False)
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("Clear Recent Files")
        clear.setEnabled(bool(recent))
        clear.triggered.connect(self._clear_recent)

    def _clear_recent(self) -> None:
        settings.clear_recent_files()
        self.welcome.set_recent([])

    # ======================================================================================
    # opening things

    def show_welcome(self) -> None:
        self.welcome.set_recent(settings.recent_files())
        self.pages.setCurrentWidget(self.welcome)
        self._update_actions()
        self._update_progress_visibility()

    def open_last_or_welcome(self) -> None:
        last = settings.last_file()
        if last is None or not self.open_path(last, quiet=True):
            self.show_welcome()

    def open_demo(self) -> bool:
        """The built-in digits example as a new study; Start writes it to the user's demo.db."""
        return self.open_spec(example_path(), template=True, study_file=demo_db())

    def new_from_template(self, path: Path) -> bool:
        """A shipped example as a new study, written to the open study file if there is one."""
        target = None
        if self.doc is not None and self.doc.db_path is not None and self.doc.db_path.exists():
            target = self.doc.db_path
        return self.open_spec(Path(path), template=True, study_file=target)

    def open_path(self, path: Path | str, *, quiet: bool = False) -> bool:
        """Open a study file or a spec, whichever ``path`` is; a problem is shown in a dialog."""
        path = Path(path)
        if not path.exists():
            self._open_failed(path, f"{path} does not exist.", quiet)
            return False
        if path.is_dir():
            self._open_failed(
                path, f"{path} is a folder; choose a study file (.db) or a spec (.toml).", quiet
            )
            return False
        if path.suffix.lower() in SPEC_SUFFIXES:
            return self.open_spec(path, quiet=quiet)
        return self.open_study_file(path, quiet=quiet)

    def _open_failed(self, path: Path, message: str, quiet: bool) -> None:
        self.log.error(message)
        if not quiet:
            self.warn("Cannot open file", message)
        if self.doc is None:
            self.show_welcome()

    def _refuse_while_running(self) -> bool:
        if self.runner.running:
            self.warn(
                "A study is running",
                "Stop the running study first (Run ▸ Stop After This Trial, or Stop Now); "
                "then open another one.",
            )
            return True
        return False

    def open_spec(
        self, path: Path, *, template: bool = False, study_file: Path | None = None, quiet: bool = False
    ) -> bool:
        """Show a spec as a new study. Its study file is ``study_file`` or the default for it."""
        if self._refuse_while_running() or not self._maybe_discard_changes():
            return False
        try:
            spec = load_spec(path)
        except SpecError as exc:
            self._open_failed(path, str(exc), quiet)
            return False
        template = template or is_shipped(path)
        db = Path(study_file) if study_file is not None else default_study_file(spec, template=template)
        self._set_reader(db if db.exists() else None)
        self.doc = Document(
            db_path=db.resolve(),
            base_dir=spec.base_dir,
            spec_path=None if template else spec.path,
            template=template,
        )
        self._show_spec(spec, locked=False)
        self.live.clear()
        self.analysis.set_study(None, None)
        self.evaluations.set_study(None, None)
        self._sync_progress()
        self.navigator.set_new_study(spec.name)
        self.navigator.select(NEW_ROW)
        if not template:
            settings.add_recent_file(path)
        self.log.info(f"Opened spec {path} as a new study; it will be saved to {db} when it starts.")
        self.pages.setCurrentWidget(self.tabs)
        self._show_tab(self.setup)
        self._update_actions()
        return True

    def open_study_file(self, path: Path, *, study: str | None = None, quiet: bool = False) -> bool:
        """Open a study file and show one of its studies (``study``, else the latest)."""
        if self._refuse_while_running() or not self._maybe_discard_changes():
            return False
        path = Path(path).resolve()
        try:
            reader = StudyStore(path, readonly=True)
            summaries = reader.study_summaries()
        except (StorageError, OSError) as exc:
            self._open_failed(path, str(exc), quiet)
            return False
        self._set_reader(path, reader)
        self._mark_stale_trials(path)
        self.doc = Document(db_path=path, base_dir=path.parent)
        self.navigator.set_new_study(None)
        settings.add_recent_file(path)
        if not summaries:
            self.pages.setCurrentWidget(self.tabs)
            self.log.info(f"Opened {path}: it holds no studies yet. File ▸ New Study starts one in it.")
            self._show_no_study()
            return True
        chosen = next((s for s in summaries if s.record.name == study), None)
        chosen = chosen or next((s for s in summaries if s.counts.get("running")), None) or summaries[-1]
        self.log.info(f"Opened {path}: {len(summaries)} stud{'y' if len(summaries) == 1 else 'ies'}.")
        self.show_study(chosen.record.study_id)
        return True

    def show_study(self, study_id: int) -> None:
        """Show a stored study of the open file in Setup (locked once it has trials) and Run."""
        assert self.reader is not None and self.doc is not None
        try:
            record = self.reader.get_study_by_id(study_id)
        except StorageError as exc:
            self.warn("Cannot read the study", str(exc))
            return
        self.doc.study_name, self.doc.study_id = record.name, record.study_id
        self.doc.spec_path, self.doc.template = None, False
        self.doc.not_runnable = why_not_runnable(record)
        summary = self.navigator.summary(study_id)
        n_trials = summary.n_trials if summary else len(self.reader.get_trials(study_id))
        try:
            spec, base_dir = spec_for_record(record, self.reader.path)
        except SpecError as exc:
            self.doc.not_runnable = self.doc.not_runnable or f"The stored setup cannot be shown: {exc}"
            self.setup.setEnabled(False)
        else:
            self.doc.base_dir = base_dir
            self.setup.setEnabled(True)
            self._show_spec(spec, locked=n_trials > 0)
            self._show_parent_of(record)
        self.navigator.select(study_id)
        self.live.set_study(self.reader, study_id)
        self.analysis.set_study(self.reader, study_id)
        self.evaluations.set_study(self.reader, study_id)
        self.log.metric_name = record.metric
        self._sync_progress()
        self._show_tab(self.live if n_trials else self.setup)
        self._update_actions()

    def _show_no_study(self) -> None:
        if self.doc is not None:
            self.doc.study_name = self.doc.study_id = None
            self.doc.not_runnable = "This study file holds no studies yet; File ▸ New Study starts one in it."
        self.live.set_study(None, None)
        self.analysis.set_study(None, None)
        self.evaluations.set_study(None, None)
        self.setup.setEnabled(False)
        self._sync_progress()
        self._update_actions()

    def _show_spec(self, spec: StudySpec, *, locked: bool) -> None:
        self.setup.setEnabled(True)
        self.setup.set_spec(spec)
        self.setup.undo_stack.clear()
        self.setup.set_locked(locked)
        self.log.metric_name = spec.metric
        self._validity = (self.setup.is_valid(), self._first_problem())

    def _first_problem(self) -> str:
        problems = self.setup.problems()
        return problems[0] if problems else ""

    def _set_reader(self, path: Path | None, reader: StudyStore | None = None) -> None:
        """Read ``path`` from now on (or nothing); the old reader is closed after its users let go."""
        old = self.reader
        if old is not None and path is not None and old.path == Path(path).resolve() and reader is None:
            self.navigator.refresh()
            return
        if reader is None and path is not None:
            try:
                reader = StudyStore(path, readonly=True)
            except StorageError as exc:
                self.log.error(str(exc))
                reader = None
        self.live.set_study(None, None)
        self.analysis.set_study(None, None)
        self.evaluations.set_study(None, None)
        self.navigator.set_store(reader)
        self.reader = reader
        if old is not None and old is not reader:
            old.close()

    def _mark_stale_trials(self, path: Path) -> None:
        """Mark trials left 'running' by a crashed process as interrupted - off the GUI thread,
        which never writes; the navigator's poll then shows the change."""

        def mark() -> None:
            try:
                with StudyStore(path) as store:
                    store.mark_interrupted()
            except Exception:  # read-only folder, busy file: the display just stays as stored
                pass

        self._stale_marker = threading.Thread(target=mark, name="mark-interrupted", daemon=True)
        self._stale_marker.start()

    def _on_study_selected(self, study_id: int) -> None:
        if self.doc is None or self.runner.running:
            self.navigator.select(self.doc.study_id if self.doc and not self.doc.is_new else NEW_ROW)
            if self.runner.running:
                self.statusBar().showMessage("Stop the running study before switching to another one.", 5000)
            return
        if study_id == NEW_ROW:
            return
        if not self._maybe_discard_changes():
            self.navigator.select(NEW_ROW if self.doc.is_new else self.doc.study_id)
            return
        if self.doc.is_new:
            self.navigator.set_new_study(None)
            self.doc.template, self.doc.spec_path = False, None
        self.show_study(study_id)

    def _on_file_changed(self) -> None:
        """Another writer changed the file: follow it on the Run page (our own runs send events)."""
        doc = self.doc
        if doc is None or self.runner.running or doc.is_new or doc.study_id is None or self.reader is None:
            self._update_actions()
            return
        summary = self.navigator.summary(doc.study_id)
        if summary is None:  # deleted by someone else
            self._show_no_study()
            return
        self.live.set_study(self.reader, doc.study_id)
        self.analysis.set_study(self.reader, doc.study_id)
        self.evaluations.set_study(self.reader, doc.study_id)
        self.setup.set_locked(summary.n_trials > 0, strategy_editable=not self.runner.running)
        self._sync_progress()
        self._update_actions()

    # -- dialogs for opening ------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(self.doc.db_path.parent) if self.doc and self.doc.db_path else ""
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open a study file or spec",
            start,
            "Study files and specs (*.db *.sqlite *.sqlite3 *.toml);;Study files (*.db);;"
            "Spec files (*.toml);;All files (*)",
        )
        if path:
            self.open_path(Path(path))

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a spec", "", "Spec files (*.toml);;All files (*)")
        if path:
            self.open_spec(Path(path))

    def new_dialog(self) -> None:
        """Ctrl+N: pick a template (the welcome page lists them with descriptions)."""
        from PySide6.QtWidgets import QInputDialog

        items = templates()
        if not items:
            self.warn("No templates", "The example specs are missing from this installation.")
            return
        titles = [f"{t.title} — {t.description}" for t in items]
        choice, ok = QInputDialog.getItem(self, "New study", "Start from a template:", titles, 0, False)
        if ok and choice in titles:
            self.new_from_template(items[titles.index(choice)].path)

    def choose_study_file(self) -> None:
        if self.doc is None or not self.doc.is_new:
            return
        current = str(self.doc.db_path) if self.doc.db_path else ""
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Study file for the new study",
            current,
            "Study files (*.db);;All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,  # a study file holds many studies
        )
        if path:
            self.set_new_study_file(Path(path))

    def set_new_study_file(self, path: Path) -> None:
        if self.doc is None or not self.doc.is_new:
            return
        path = Path(path)
        if path.suffix.lower() in SPEC_SUFFIXES:
            path = path.with_suffix(".db")
        self.doc.db_path = path.resolve()
        self._set_reader(path if path.exists() else None)
        self.navigator.set_new_study(self.navigator.new_study_name())
        self.navigator.select(NEW_ROW)
        self.log.info(f"The new study will be saved to {path}.")
        self._update_actions()

    # -- drag and drop --------------------------------------------------------------------------
    @staticmethod
    def _dropped_path(mime) -> Path | None:
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                path = Path(url.toLocalFile())
                if path.suffix.lower() in STUDY_SUFFIXES + SPEC_SUFFIXES:
                    return path
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt name
        if self._dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt name
        if self._dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt name
        path = self._dropped_path(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_path(path)

    # ======================================================================================
    # saving and exporting

    def save_spec(self) -> bool:
        """Ctrl+S: write the setup back to its spec file, or ask where (templates are never overwritten)."""
        if self.doc is not None and self.doc.spec_path is not None and not self.doc.template:
            return self.save_spec_to(self.doc.spec_path)
        return self.save_spec_as()

    def save_spec_as(self) -> bool:
        spec = self._current_spec()
        if spec is None or self.doc is None:
            return False
        folder = self.doc.spec_path.parent if self.doc.spec_path else (self.doc.db_path or Path.home()).parent
        if self.doc.template:
            folder = Path.home()
        path, _ = QFileDialog.getSaveFileName(
            self, "Save spec as", str(folder / f"{spec.name}.toml"), "Spec files (*.toml);;All files (*)"
        )
        if not path:
            return False
        return self.save_spec_to(Path(path))

    def save_spec_to(self, path: Path) -> bool:
        """Write the current setup as TOML to ``path`` (never over a study file)."""
        spec = self._current_spec()
        if spec is None or self.doc is None:
            return False
        path = Path(path)
        if path.suffix.lower() != ".toml":
            path = path.with_name(path.name + ".toml")
        if self._is_study_file(path):
            self.warn("Not saved", f"{path} is a study file; a spec is saved as a separate .toml file.")
            return False
        if path.resolve().parent != self.doc.base_dir.resolve():
            spec = with_absolute_data_paths(spec, self.doc.base_dir)
        try:
            write_atomically(path, spec.to_toml())
        except OSError as exc:
            self.warn("Not saved", f"Cannot write {path}: {exc.strerror or exc}")
            return False
        self.setup.undo_stack.setClean()
        if self.doc.is_new:
            self.doc.spec_path, self.doc.template = path.resolve(), False
        settings.add_recent_file(path)
        self.statusBar().showMessage(f"Saved the spec to {path}", 5000)
        self.log.info(f"Saved the spec to {path}.")
        self._update_title()
        return True

    def _is_study_file(self, path: Path) -> bool:
        path = Path(path).resolve()
        db = self.doc.db_path.resolve() if self.doc and self.doc.db_path else None
        if db is not None and path in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")):
            return True
        try:
            with open(path, "rb") as fh:
                return fh.read(16) == b"SQLite format 3\x00"
        except OSError:
            return False

    def export_dialog(self, fmt: str) -> None:
        if self.reader is None or self.doc is None:
            self.warn("Nothing to export", "Open a study file, or run a study, first.")
            return
        name = self.doc.study_name or self.reader.path.stem
        path, _ = QFileDialog.getSaveFileName(
            self,
            f"Export {fmt.upper()}",
            str(self.reader.path.parent / f"{name}.{fmt}"),
            f"{fmt.upper()} files (*.{fmt});;All files (*)",
        )
        if path:
            self.export_to(Path(path), fmt)

    def export_to(self, path: Path, fmt: str) -> bool:
        """Export the shown study (or, with none, every study in the file) as CSV or JSON."""
        if self.reader is None or self.doc is None:
            return False
        path = Path(path)
        if self._is_study_file(path):
            self.warn("Not exported", f"Refusing to write the export over the study file {path}.")
            return False
        try:
            if self.doc.study_id is not None and not self.doc.is_new:
                records = [self.reader.get_study_by_id(self.doc.study_id)]
            else:
                records = self.reader.list_studies()
            text = export_text(self.reader, records, fmt)
            write_atomically(path, text)
        except (OSError, StorageError, ValueError) as exc:
            message = getattr(exc, "strerror", None) or str(exc)
            self.warn("Not exported", f"Cannot write {path}: {message}")
            return False
        what = f"study '{records[0].name}'" if len(records) == 1 else f"{len(records)} studies"
        self.statusBar().showMessage(f"Exported {what} to {path}", 5000)
        self.log.info(f"Exported {what} as {fmt.upper()} to {path}.")
        return True

    def _shown_record(self):
        if self.reader is None or self.doc is None or self.doc.study_id is None or self.doc.is_new:
            return None
        return self.reader.get_study_by_id(self.doc.study_id)

    def copy_best_config(self, fmt: str) -> str | None:
        """Put the best trial's parameters on the clipboard as JSON, TOML or a Python dict."""
        from ..core.export import format_config
        from ..core.study import best_of

        record = self._shown_record()
        best = best_of(self.reader.get_trials(record.study_id), record.direction) if record else None
        if best is None:
            self.warn("Nothing to copy", "No trial of the shown study has completed yet.")
            return None
        text = format_config(dict(best.params), fmt)
        QApplication.clipboard().setText(text)
        self.statusBar().showMessage(f"Copied trial {best.number}'s configuration as {fmt.upper()}", 5000)
        return text

    def report_dialog(self) -> None:
        record = self._shown_record()
        if record is None:
            self.warn("No report", "Open or run a study first.")
            return
        folder = QFileDialog.getExistingDirectory(self, "Folder for the report", str(self.reader.path.parent))
        if folder:
            self.write_report_to(Path(folder) / f"{record.name}-report")

    def write_report_to(self, folder: Path) -> Path | None:
        """Write the shown study's HTML report into ``folder`` (created if needed)."""
        from .report import ReportError, write_report

        record = self._shown_record()
        if record is None:
            return None
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            index = write_report(self.reader, record.study_id, folder)
        except (ReportError, OSError, StorageError) as exc:
            self.warn("No report", str(exc))
            return None
        finally:
            QApplication.restoreOverrideCursor()
        self.log.info(f"Wrote the report of '{record.name}' to {index}.")
        self.statusBar().showMessage(f"Report written: {index}", 8000)
        return index

    def _current_spec(self) -> StudySpec | None:
        try:
            spec = self.setup.spec()
        except SpecError as exc:
            self.warn("The setup has a problem", str(exc))
            return None
        return replace(spec, trials=self.setup.trials())

    # ======================================================================================
    # running

    def can_start(self) -> tuple[bool, str]:
        """Whether Start is possible now, and if not, why (in plain words)."""
        doc = self.doc
        if self.runner.running:
            return False, "A study is running."
        if doc is None:
            return False, "Open a study file or start a new study from a template."
        if doc.not_runnable:
            return False, doc.not_runnable
        ok, problem = self._validity
        if not ok:
            return False, f"Fix the setup first: {problem}" if problem else "Fix the setup first."
        if not doc.is_new and doc.study_id is not None:
            summary = self.navigator.summary(doc.study_id)
            if summary is not None and summary.counts.get("running", 0):
                return False, (
                    "This study is running in another window or process; this window shows its "
                    "trials as they finish. Start it here once that run has stopped."
                )
            if summary is not None:
                done = finished_count(summary)
                budget = self.setup.trials()
                if done >= budget:
                    return False, (
                        f"The study has {done} finished trials of its budget of {budget}; "
                        "raise the trial budget in Setup to run more."
                    )
        return True, ""

    def start_study(self) -> bool:
        ok, why = self.can_start()
        if not ok:
            self.statusBar().showMessage(why, 5000)
            return False
        assert self.doc is not None
        spec = self._current_spec()
        if spec is None:
            return False
        script_sha256 = None
        if spec.script is not None:  # a user's script is code: ask before its first run
            script_sha256 = confirm_trust(self.doc.base_dir / spec.script, self)
            if script_sha256 is None:
                self.statusBar().showMessage("Not started: the study's script was not trusted.", 8000)
                return False
        db = self.doc.db_path or demo_db()
        # A child set up by Refine… is created with its parent (same file) and warm-starts from it.
        parent = self.setup.parent_study() if self.doc.is_new else None
        parent_trials = self.setup.parent_trials()
        if self.doc.is_new:
            taken = self.navigator.names() if self.reader is not None else []
            name = unique_name(spec.name, taken)
            if name != spec.name:
                self.log.info(
                    f"{db.name} already holds a study named '{spec.name}'; this new one is '{name}'."
                )
                spec = replace(spec, name=name)
                self._show_spec(spec, locked=False)
                if parent is not None:
                    self.setup.set_parent(parent, parent_trials)
            db.parent.mkdir(parents=True, exist_ok=True)
        request = RunRequest(
            db_path=db,
            spec=spec,
            n_trials=spec.trials,
            base_dir=self.doc.base_dir,
            max_failures_in_row=spec.max_failures_in_row,
            parent=parent,
            script_sha256=script_sha256,
        )
        self.setup.set_locked(True)
        self.log.metric_name = spec.metric
        self.log.info(f"Starting study '{spec.name}' ({spec.trials} trials) in {db}.")
        self.runner.start(request)
        self.setup.undo_stack.setClean()  # the edits are in the study file now
        self._show_tab(self.live)
        return True

    def toggle_pause(self) -> None:
        if not self.runner.running:
            self.act_pause.setChecked(False)
            return
        if self.runner.paused:
            self.runner.resume()
        else:
            self.runner.pause()

    def pause(self) -> None:
        self.runner.pause()

    def resume(self) -> None:
        self.runner.resume()

    def stop_after_trial(self) -> None:
        if self.runner.running:
            self.runner.stop_after_trial()
            self.log.info("Stopping after the running trial finishes.")
            self._update_actions()

    def stop_now(self) -> None:
        if self.runner.running:
            self.runner.cancel()
            self.log.warning("Stopping now: the running trial will be marked interrupted.")
            self._update_actions()

    # -- runner signals -----------------------------------------------------------------------
    def _on_opened(self, info: StudyOpened) -> None:
        doc = self.doc
        assert doc is not None
        if self.reader is None or self.reader.path.resolve() != info.db_path.resolve():
            self._set_reader(info.db_path)
        else:
            self.navigator.refresh()
        doc.db_path = info.db_path.resolve()
        doc.study_name, doc.study_id = info.name, info.study_id
        self.navigator.set_new_study(None)
        self.navigator.select(info.study_id)
        self.live.set_study(self.reader, info.study_id)
        self.analysis.set_study(self.reader, info.study_id)
        self.evaluations.set_study(self.reader, info.study_id)
        settings.add_recent_file(info.db_path)
        self._update_actions()

    def _stored_trial_log(self, number: int) -> str | None:
        """What a script printed in trial ``number`` of the shown study (a read-only read)."""
        doc, reader = self.doc, self.reader
        if doc is None or reader is None or doc.study_id is None:
            return None
        try:
            trial = reader.get_trial_by_number(doc.study_id, number, with_curves=False)
        except StorageError:
            return None
        return None if trial is None else trial.attrs.get("log")

    def _on_event(self, event: object) -> None:
        self.live.on_event(event)
        self.analysis.on_event(event)
        self.log.on_event(event)
        if not self._progress_timer.isActive():
            self._progress_timer.start()
        if isinstance(event, TrialFinished):
            self._navigator_stale = True
        elif isinstance(event, StudyFinished):
            self.navigator.refresh()

    def _on_worker_log(self, level: str, text: str) -> None:
        self.log.add(text, level)

    def _on_finished_run(self, done: StudyFinished) -> None:
        self.statusBar().showMessage(f"Study '{done.study}' finished: {done.message}.", 10000)

    def _on_failed(self, message: str) -> None:
        self.log.error(f"The study could not start: {message}")
        self.warn("Cannot start the study", message)

    def _on_crashed(self, message: str, details: str) -> None:
        self.log.error(f"Unexpected error: {message}", details)
        QMessageBox.critical(
            self,
            "Unexpected error",
            f"The study stopped because of an unexpected error:\n\n{message}\n\n"
            "The traceback is in the log pane; finished trials are kept in the study file.",
        )

    def _on_running_changed(self, running: bool) -> None:
        # Our own run reports every change as an event; the file poll is for other writers.
        self.navigator.set_poll_interval(RUNNING_POLL_MS if running else POLL_MS)
        if not running:
            self._sync_progress()
            self.act_pause.setChecked(False)
            self.navigator.refresh()
            has_trials = False
            if self.doc is not None and self.doc.study_id is not None:
                summary = self.navigator.summary(self.doc.study_id)
                has_trials = bool(summary and summary.n_trials)
            self.setup.set_locked(has_trials, strategy_editable=True)
            if self._close_when_stopped:
                self._close_when_stopped = False
                self.close()
        self._update_actions()

    def _on_paused_changed(self, paused: bool) -> None:
        self.act_pause.setChecked(paused)
        if paused:
            self.log.info("Paused; the running trial waits between batches (F6 resumes).")
        self._update_actions()

    def _on_validity_changed(self, ok: bool, problem: str) -> None:
        self._validity = (ok, problem)
        self._update_actions()

    # ======================================================================================
    # queued trials and test-set evaluations (issue 6)

    def _make_queue_actions(self) -> None:
        """Study ▸ Enqueue Trial… (Ctrl+E) and Evaluate on Test Set… (Ctrl+T)."""
        self.act_enqueue = self._action(
            "&Enqueue Trial…",
            self.enqueue_dialog,
            "Ctrl+E",
            None,
            "Type a configuration (prefilled with the best trial's) to run before the strategy's next",
        )
        self.act_evaluate = self._action(
            "Evaluate on &Test Set…",
            self.evaluate_dialog,
            "Ctrl+T",
            None,
            "Retrain a trial's configuration with several seeds and score the held-out test split",
        )
        menu = self._study_menu_section()
        menu.addAction(self.act_enqueue)
        menu.addAction(self.act_evaluate)
        self.view_menu.addAction(self.evaluations_dock.toggleViewAction())
        self.evaluations.evaluate_requested.connect(lambda: self.evaluate_dialog())
        self.evaluations.trial_selected.connect(self.live.select_trial)
        self.evaluations.trial_selected.connect(self.analysis.select_trial)
        self._evaluate: EvaluateDialog | None = None

    def _update_queue_actions(self) -> None:
        shown = self.reader is not None and self.doc is not None and self.doc.study_id is not None
        shown = shown and not self.doc.is_new
        self.act_enqueue.setEnabled(shown)
        done = 0
        if shown:
            summary = self.navigator.summary(self.doc.study_id)
            done = summary.counts.get("complete", 0) + summary.counts.get("pruned", 0) if summary else 0
        if self.runner.running:
            why = "Wait for the running study to stop (evaluating trains on the same cores)."
        elif not done:
            why = "A study with a complete trial is needed."
        else:
            why = ""
        self.act_evaluate.setEnabled(shown and not why)
        tip = "Retrain a trial's configuration with several seeds and score the held-out test split"
        self.act_evaluate.setToolTip(tip if not why else f"{tip}. {why}")

    def enqueue_dialog(self, number: int | None = None) -> EnqueueDialog | None:
        """Open the Enqueue Trial dialog, prefilled with trial ``number`` (else the best trial)."""
        record = self._shown_record()
        if record is None:
            self.warn("Nothing to enqueue into", "Open a study file with a study (or run one) first.")
            return None
        try:
            dialog = EnqueueDialog.for_trial(self.reader, record.study_id, number, parent=self)
        except (StorageError, ValueError) as exc:
            self.warn("Cannot enqueue a trial", str(exc))
            return None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.enqueued.connect(self._on_enqueued)
        dialog.open()
        return dialog

    def _on_enqueued(self, params: dict) -> None:
        record = self._shown_record()
        name = record.name if record else "the study"
        ok, why = self.can_start()
        if self.runner.running:
            when = "it runs next"
        elif ok:
            when = "it runs first when the study continues (F5)"
        else:
            when = f"it runs first when the study continues; {why[:1].lower()}{why[1:]}"
        self.log.info(f"Queued a trial for '{name}' ({describe_config(params)}); {when.rstrip('.')}.")
        self.statusBar().showMessage(f"Trial queued; {when.rstrip('.')}.", 8000)
        self._update_actions()

    def evaluate_dialog(self, number: int | None = None) -> EvaluateDialog | None:
        """Open the Evaluate on Test Set dialog for trial ``number`` (else the best trial)."""
        if self._evaluate is not None and self._evaluate.isVisible():
            self._evaluate.raise_()
            return self._evaluate
        record = self._shown_record()
        if record is None:
            self.warn("Nothing to evaluate", "Open a study file with a study (or run one) first.")
            return None
        if self.runner.running:
            self.warn(
                "A study is running",
                "Evaluate when the study has stopped: the evaluation trains on the same cores.",
            )
            return None
        try:
            dialog = EvaluateDialog.for_study(self.reader, record.study_id, number, parent=self)
        except StorageError as exc:
            self.warn("Cannot evaluate", str(exc))
            return None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.evaluated.connect(self._on_evaluated)
        dialog.destroyed.connect(self._forget_evaluate_dialog)
        self._evaluate = dialog
        dialog.open()
        return dialog

    def _forget_evaluate_dialog(self, *_args) -> None:
        self._evaluate = None

    def _on_evaluated(self, record: EvaluationRecord) -> None:
        self.log.info(result_text(record))
        self.evaluations.refresh()
        self.evaluations_dock.show()
        self.evaluations_dock.raise_()

    # ======================================================================================
    # refine (child studies) and compare

    def _make_lineage_actions(self) -> None:
        """Study ▸ Refine… (Ctrl+R) and Compare Studies… (Ctrl+Shift+C)."""
        self.act_refine = self._action(
            "&Refine…",
            self.refine_dialog,
            "Ctrl+R",
            "refine",
            "Propose a narrower search space from the shown study's best trials; run it as a child study",
        )
        self.act_compare = self._action(
            "&Compare Studies…",
            self.compare_dialog,
            "Ctrl+Shift+C",
            "compare",
            "Overlay the histories and best trials of studies in this file (a parent and its children)",
        )
        self._refine: RefineDialog | None = None
        self.compare_window: CompareWindow | None = None
        menu = self._study_menu_section()
        menu.addAction(self.act_refine)
        menu.addAction(self.act_compare)
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.act_refine)
        self.toolbar.addAction(self.act_compare)
        # While a study runs the file changes every second: re-read the compared studies (on the
        # GUI thread) at most once a second, not on every change.
        self._compare_timer = QTimer(self)
        self._compare_timer.setSingleShot(True)
        self._compare_timer.setInterval(1000)
        self._compare_timer.timeout.connect(self._reload_compare_now)
        self.navigator.file_changed.connect(self._reload_compare)
        self.navigator.store_changed.connect(self._reload_compare)  # another file: its studies
        self.runner.running_changed.connect(lambda _running: self._reload_compare())  # our own runs

    def _update_lineage_actions(self) -> None:
        doc = self.doc
        complete = 0
        if self.reader is not None and doc is not None and doc.study_id is not None and not doc.is_new:
            summary = self.navigator.summary(doc.study_id)
            complete = summary.counts.get("complete", 0) if summary else 0
        tip = "Propose a narrower search space from the shown study's best trials; run it as a child study"
        why = ""
        if self.runner.running:
            why = "Wait for the running study to stop."
        elif not complete:
            why = "Show a study with complete trials first."
        self.act_refine.setEnabled(not why)
        self.act_refine.setToolTip(f"{tip}. {why}" if why else tip)
        has_studies = self.reader is not None and any(
            s.counts.get("complete", 0) for s in self.navigator.summaries
        )
        self.act_compare.setEnabled(has_studies)

    def refine_dialog(self) -> RefineDialog | None:
        """Study ▸ Refine…: the proposal for the shown study (accepting sets up its child)."""
        from ..core.space import SearchSpace, SpaceError
        from ..core.trial import TrialState

        if self._refuse_while_running():
            return None
        record = self._shown_record()
        if record is None:
            self.warn(
                "Nothing to refine",
                "Show a study with complete trials first: Refine… proposes a narrower search space "
                "from its best trials.",
            )
            return None
        if not (record.spec or {}).get("data"):
            self.warn(
                "Cannot refine this study here",
                f"Study '{record.name}' was created from Python, without a [data] section, so the window "
                "cannot run a child of it. Refine it from Python with "
                "hpo_desktop.core.refine.propose_refinement.",
            )
            return None
        trials = self.reader.get_trials(record.study_id)
        if not any(t.state == TrialState.COMPLETE and t.has_finite_value for t in trials):
            self.warn(
                "Nothing to refine", f"Study '{record.name}' has no complete trial yet; run some first."
            )
            return None
        try:
            space = SearchSpace.from_dict(record.space)
        except SpaceError as exc:
            self.warn("Cannot refine this study", f"Its stored search space cannot be read: {exc}")
            return None
        dialog = RefineDialog(record, space, trials, self)
        dialog.accepted.connect(lambda: self._on_refine_accepted(dialog))
        dialog.finished.connect(lambda _r: setattr(self, "_refine", None))
        self._refine = dialog
        dialog.open()  # window-modal, without blocking the event loop
        return dialog

    def _show_parent_of(self, record) -> None:
        """A stored child study shows the study it refines on the Setup page."""
        if record.parent_id is None or self.reader is None:
            return
        try:
            parent = self.reader.get_study_by_id(record.parent_id)
            trials = self.reader.get_trials(record.parent_id)
        except StorageError:
            return
        self.setup.set_parent(parent.name, trials)

    def _on_refine_accepted(self, dialog: RefineDialog) -> None:
        refinement = dialog.refinement()
        if refinement is not None:
            self.open_refined(dialog.record, refinement, dialog.trials)

    def open_refined(self, record, refinement, trials) -> bool:
        """Put a child of ``record`` with the refined space on the Setup page, as a new study in
        the same file; Start creates it with its parent recorded (it warm-starts from ``trials``
        inside its space). The user may edit the space, strategy and budget first."""
        from ..core.refine import refined_name, refined_spec_doc
        from ..core.spec import spec_from_dict

        if self.reader is None or self._refuse_while_running() or not self._maybe_discard_changes():
            return False
        name = refined_name(record.name, self.navigator.names())
        base_dir = Path((record.spec or {}).get("base_dir") or self.reader.path.parent)
        try:
            doc = refined_spec_doc(record, refinement, name)
            spec = spec_from_dict(doc, source=f"refined study '{name}'", path=base_dir / f"{name}.toml")
        except ValueError as exc:  # SpecError too
            self.warn("Cannot refine this study", str(exc))
            return False
        self.doc = Document(db_path=self.reader.path, base_dir=base_dir)
        self._show_spec(spec, locked=False)
        self.setup.set_parent(record.name, list(trials))
        self.live.clear()
        self.analysis.set_study(None, None)
        self.evaluations.set_study(None, None)
        self._sync_progress()
        self.navigator.set_new_study(name, parent=record.study_id)
        self.navigator.select(NEW_ROW)
        self.log.info(
            f"Refined '{record.name}' into the new study '{name}'; edit it on the Setup page, then Start "
            "(it runs as a child of the refined study)."
        )
        self.pages.setCurrentWidget(self.tabs)
        self._show_tab(self.setup)
        self._update_actions()
        return True

    def compare_dialog(self) -> CompareWindow | None:
        """Study ▸ Compare Studies…: the shown study, its parent and children checked."""
        from ..core.chartdata import lineage_ids

        if self.reader is None:
            self.warn("Nothing to compare", "Open a study file first.")
            return None
        records = self.reader.list_studies()
        if not records:
            self.warn("Nothing to compare", "This study file holds no studies yet.")
            return None
        doc = self.doc
        if doc is not None and doc.study_id is not None and not doc.is_new:
            ids = lineage_ids(records, doc.study_id)
        else:
            ids = [records[-1].study_id]
        if self.compare_window is None:
            self.compare_window = CompareWindow(self.reader, ids, self)
        else:
            self.compare_window.set_store(self.reader, ids)
        self.compare_window.show()
        self.compare_window.raise_()
        self.compare_window.activateWindow()
        return self.compare_window

    def _reload_compare(self) -> None:
        window, store = self.compare_window, self.navigator.store  # set before self.reader is
        if window is None or not window.isVisible():
            return
        if window.store is not store:  # another file: at once
            self._compare_timer.stop()
            window.set_store(store)
        elif not self._compare_timer.isActive():
            self._compare_timer.start()

    def _reload_compare_now(self) -> None:
        window = self.compare_window
        if window is not None and window.isVisible() and window.store is self.navigator.store:
            window.reload()

    # ======================================================================================
    # window state

    def _update_actions(self) -> None:
        running = self.runner.running
        paused = self.runner.paused
        stopping = self.runner.stopping
        ok, why = self.can_start()
        self.act_start.setEnabled(ok)
        self.act_start.setToolTip("Start the study (F5)" if ok else f"Cannot start: {why}")
        self.act_pause.setEnabled(running and not stopping)
        self.act_pause.setText("&Resume" if paused else "&Pause")
        self.act_pause.setIcon(icon("start" if paused else "pause"))
        self.act_pause.setToolTip("Resume the study (F6)" if paused else "Pause between batches (F6)")
        self.act_stop_after.setEnabled(running and not stopping)
        self.act_stop_now.setEnabled(running and not self.runner.cancelling)
        has_doc = self.doc is not None
        for a in (self.act_open, self.act_new, self.act_import):
            a.setEnabled(not running)
        self.template_menu.setEnabled(not running)
        self.recent_menu.setEnabled(not running)
        self.act_save.setEnabled(has_doc and self.setup.isEnabled())
        self.act_save_as.setEnabled(has_doc and self.setup.isEnabled())
        self.act_choose_file.setEnabled(has_doc and self.doc.is_new and not running)
        can_export = self.reader is not None
        self.act_export_csv.setEnabled(can_export)
        self.act_export_json.setEnabled(can_export)
        self.act_report.setEnabled(can_export)
        for action in self.act_copy_best.values():
            action.setEnabled(can_export)
        self._update_queue_actions()
        self._update_lineage_actions()
        self._update_state_label()
        self._update_title()

    def _update_state_label(self) -> None:
        doc = self.doc
        if self.runner.running:
            request = self.runner.request
            if self.runner.cancelling:
                text = "Stopping now…"
            elif self.runner.stopping:
                text = "Stopping after the running trial…"
            elif self.runner.paused:
                text = "Paused — F6 resumes."
            else:
                text = f"Running '{request.spec.name}'…" if request else "Running…"
        elif doc is None:
            text = "Open a study file or start a new study from a template."
        else:
            ok, why = self.can_start()
            if ok:
                where = doc.db_path.name if doc.db_path else "a new file"
                verb = "start" if doc.is_new else "continue"
                text = f"Ready — F5 to {verb} ({self.setup.trials()} trials, saved to {where})."
            else:
                text = why
        self.state_label.setText(text)
        self.state_label.setToolTip(text)

    def _update_title(self, *_args) -> None:
        doc = self.doc
        if doc is None:
            self.setWindowTitle(APP_NAME)
            return
        name = doc.study_name or self.navigator.new_study_name() or "new study"
        where = doc.db_path.name if doc.db_path else ""
        new = " (new)" if doc.is_new else ""
        self.setWindowTitle(
            f"{name}{new}[*] — {where} — {APP_NAME}" if where else f"{name}{new}[*] — {APP_NAME}"
        )
        self.setWindowModified(not self.setup.undo_stack.isClean())

    def _show_tab(self, page: QWidget) -> None:
        if self.doc is not None:
            self.pages.setCurrentWidget(self.tabs)
            self.tabs.setCurrentWidget(page)
        self._update_progress_visibility()

    def _update_progress_visibility(self) -> None:
        on_run_page = self.pages.currentWidget() is self.tabs and self.tabs.currentWidget() is self.live
        has_trials = len(self.live.trials) > 0
        self.progress.setVisible(not on_run_page and (self.runner.running or has_trials))

    def _sync_progress(self) -> None:
        if self._navigator_stale:  # a trial of ours finished: show it now, not at the next poll
            self._navigator_stale = False
            self.navigator.poll()
        self._update_progress_visibility()
        if self.progress.isHidden() and self.runner.running:
            return  # the Run page shows its own bars; this copy catches up when it is shown
        book = self.live.trials
        if len(book) or book.study_running:
            self.progress.update_progress(book.progress())
        else:
            self.progress.reset()

    def _restore_window(self) -> None:
        geometry = settings.window_geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = settings.window_state()
        if state is not None:
            self.restoreState(state)

    def warn(self, title: str, text: str) -> None:
        """A problem the user should read: a warning dialog (never a traceback)."""
        QMessageBox.warning(self, title, text)

    def _maybe_discard_changes(self) -> bool:
        """Ask before edits in Setup that were never run or saved are thrown away."""
        if self.doc is None or self.setup.undo_stack.isClean() or self.runner.running:
            return True
        name = self.doc.study_name or self.navigator.new_study_name() or "the new study"
        answer = QMessageBox.question(
            self,
            "Discard changes?",
            f"The setup of '{name}' has changes that were not run or saved as a spec. Discard them?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Discard:
            self.setup.undo_stack.setClean()
            return True
        return False

    def about(self) -> None:
        from PySide6 import __version__ as pyside_version

        QMessageBox.about(
            self,
            "About HPO Desktop",
            f"<h3>HPO Desktop {__version__}</h3>"
            "<p>Find good hyperparameters for a neural network on your own workstation, offline.</p>"
            f"<p>Qt for Python {pyside_version}.<br>Demo and template studies are saved in "
            f"{demo_db().parent}.</p>",
        )

    def open_docs(self) -> None:
        readme = Path(__file__).resolve().parents[2] / "README.md"
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(readme)))

    # ======================================================================================
    # closing

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt name
        if self.runner.running:
            if self._close_when_stopped:
                event.ignore()
                return
            answer = QMessageBox.question(
                self,
                "Quit HPO Desktop",
                "A study is running. Stop it and quit?\n\n"
                "The running trial is marked interrupted; every finished trial is kept.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.log.warning("Stopping the running study to quit…")
            if not self.runner.stop_and_wait(CLOSE_WAIT_MS):
                # The trial has not reached a batch boundary yet: close when it has.
                self._close_when_stopped = True
                self.state_label.setText("Stopping the running trial; the window closes when it has stopped…")
                event.ignore()
                return
        elif not self._maybe_discard_changes():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop a run (waiting for its thread), save the window state, close the reader. Idempotent."""
        if self._shut_down:
            return
        if self.runner.running and not self.runner.stop_and_wait(30_000):
            return  # still running: leave the references alone rather than destroy a running thread
        self._shut_down = True
        if self._evaluate is not None:  # cancel an evaluation and let its pool thread end
            self._evaluate.wait(30_000)
        settings.save_window(self.saveGeometry(), self.saveState())
        doc = self.doc
        if doc is not None and not doc.is_new and doc.db_path is not None and doc.db_path.exists():
            settings.add_recent_file(doc.db_path)  # the file open at the end opens next time
        elif doc is not None and doc.spec_path is not None and doc.spec_path.exists():
            settings.add_recent_file(doc.spec_path)
        self.navigator.stop()
        if self._stale_marker is not None:
            self._stale_marker.join(2.0)
        self.live.set_study(None, None)
        self.analysis.set_study(None, None)
        self.evaluations.set_study(None, None)
        if self.reader is not None:
            self.navigator.set_store(None)
            self.reader.close()
            self.reader = None
