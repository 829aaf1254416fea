"""The study navigator: the studies in the open file with state, trial count and best value.

It reads ``StudyStore.study_summaries()`` and polls the file's ``change_seq`` (one indexed read)
about once a second, so a study written by another process - or by our own worker - shows
its progress. A study being set up but not started yet is shown as a "new" row at the top.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ..core.storage import StorageError, StudyStore, StudySummary
from .log_pane import format_value

POLL_MS = 1000
NEW_ROW = -1  # the study id of the "new, not started" row

_STATE_COLORS = {
    "running": "#1c7ed6",
    "finished": "#2b8a3e",
    "stopped": "#e8590c",
    "empty": "#868e96",
    "new": "#7048e8",
}


def study_state(summary: StudySummary) -> str:
    """running, finished (budget reached), stopped (trials left to run) or empty."""
    c = summary.counts
    if c.get("running", 0):
        return "running"
    if summary.n_trials == 0:
        return "empty"
    finished = c.get("complete", 0) + c.get("pruned", 0) + c.get("failed", 0)
    budget = summary.record.budget
    if budget is None or finished >= budget:
        return "finished"
    return "stopped"


def finished_count(summary: StudySummary) -> int:
    c = summary.counts
    return c.get("complete", 0) + c.get("pruned", 0) + c.get("failed", 0)


class StudyNavigator(QWidget):
    """A tree of the file's studies. Emits ``study_selected(study_id)`` (-1: the new study)."""

    study_selected = Signal(int)
    file_changed = Signal()  # the file's change counter moved (any writer)

    COLUMNS = ("Study", "State", "Trials", "Best")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = QStandardItemModel(0, len(self.COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.view = QTreeView()
        self.view.setModel(self.model)
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(self.COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        # Selection, not the current index: a view that gains focus makes row 0 current by itself.
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.placeholder = QLabel(
            "No study file is open.\n\nOpen one (Ctrl+O), or start a new study from a template."
        )
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setEnabled(False)
        self.placeholder.setMargin(12)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self.store: StudyStore | None = None
        self.summaries: list[StudySummary] = []
        self._new_name: str | None = None
        self._seq: int | None = None
        self._selected: int | None = None
        self._quiet = False
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)

    # -- what is shown --------------------------------------------------------------------------
    def set_store(self, store: StudyStore | None) -> None:
        """Show the studies of ``store`` (a reader owned by the window), or nothing."""
        self.store = store
        self._seq = None
        self.summaries = []
        if store is None:
            self._timer.stop()
        else:
            self._timer.start()
        self.refresh()

    def set_new_study(self, name: str | None) -> None:
        """Show (or, with None, drop) the row of a study that is set up but not started."""
        self._new_name = name
        self._rebuild()

    def new_study_name(self) -> str | None:
        return self._new_name

    def path(self) -> Path | None:
        return self.store.path if self.store is not None else None

    def summary(self, study_id: int) -> StudySummary | None:
        return next((s for s in self.summaries if s.record.study_id == study_id), None)

    def summary_by_name(self, name: str) -> StudySummary | None:
        return next((s for s in self.summaries if s.record.name == name), None)

    def names(self) -> list[str]:
        return [s.record.name for s in self.summaries]

    def select(self, study_id: int | None) -> None:
        """Select a row without emitting ``study_selected``."""
        self._selected = study_id
        self._quiet = True
        try:
            self._select_row(study_id)
        finally:
            self._quiet = False

    def selected(self) -> int | None:
        return self._selected

    # -- polling --------------------------------------------------------------------------------
    def poll(self) -> None:
        """Re-read the summaries when the file changed since the last look (cheap otherwise)."""
        if self.store is None:
            return
        try:
            seq = self.store.change_seq()
        except StorageError:
            return
        if seq != self._seq:
            self.refresh()
            self.file_changed.emit()

    def refresh(self) -> None:
        if self.store is not None:
            try:
                self._seq = self.store.change_seq()
                self.summaries = self.store.study_summaries()
            except StorageError:
                self.summaries = []
        self._rebuild()

    def stop(self) -> None:
        self._timer.stop()

    def set_poll_interval(self, ms: int) -> None:
        self._timer.setInterval(ms)

    # -- drawing --------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        rows = self._rows()
        self._quiet = True
        try:
            if [r[0] for r in rows] == self._row_ids():
                for i, row in enumerate(rows):  # the same studies: update the text in place
                    self._fill(i, *row)
            else:
                self.model.removeRows(0, self.model.rowCount())
                for row in rows:
                    self.model.appendRow([QStandardItem() for _ in self.COLUMNS])
                    self._fill(self.model.rowCount() - 1, *row)
                self._select_row(self._selected)
        finally:
            self._quiet = False
        has_rows = self.model.rowCount() > 0
        self.stack.setCurrentWidget(self.view if has_rows or self.store is not None else self.placeholder)

    def _row_ids(self) -> list[int]:
        return [self.model.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(self.model.rowCount())]

    def _rows(self) -> list[tuple[int, str, str, str, str, str]]:
        """(study id, name, state, trials, best, tooltip) for each row, the new study first."""
        rows = []
        if self._new_name is not None:
            rows.append((NEW_ROW, self._new_name, "new", "—", "—", "not started yet"))
        for s in self.summaries:
            r = s.record
            budget = f" / {r.budget}" if r.budget else ""
            best = "—" if s.best_value is None else format_value(s.best_value)
            counts = ", ".join(f"{n} {k}" for k, n in s.counts.items() if n) or "no trials"
            tip = f"{r.name}: {r.strategy.get('kind', '?')} search, {r.direction} {r.metric}\n{counts}"
            if s.best_number is not None:
                tip += f"\nbest: trial {s.best_number}, {r.metric} = {best}"
            rows.append((r.study_id, r.name, study_state(s), f"{finished_count(s)}{budget}", best, tip))
        return rows

    def _fill(self, row: int, study_id: int, name: str, state: str, trials: str, best: str, tip: str) -> None:
        items = [self.model.item(row, col) for col in range(len(self.COLUMNS))]
        for item, text in zip(items, (name, state, trials, best)):
            if item.text() != text:
                item.setText(text)
            if item.data(Qt.ItemDataRole.UserRole) != study_id:
                item.setData(study_id, Qt.ItemDataRole.UserRole)
            if item.toolTip() != tip:
                item.setToolTip(tip)
        color = QColor(_STATE_COLORS.get(state, "#868e96"))
        if items[1].foreground().color() != color:
            items[1].setForeground(QBrush(color))
        for item in items[2:]:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _select_row(self, study_id: int | None) -> None:
        sel = self.view.selectionModel()
        if study_id is None:
            sel.clearSelection()
            return
        for row in range(self.model.rowCount()):
            if self.model.item(row, 0).data(Qt.ItemDataRole.UserRole) == study_id:
                index = self.model.index(row, 0)
                self.view.setCurrentIndex(index)
                return

    def _on_selection_changed(self, *_args) -> None:
        rows = self.view.selectionModel().selectedRows(0)
        if self._quiet or not rows:
            return
        study_id = rows[0].data(Qt.ItemDataRole.UserRole)
        if study_id is None or study_id == self._selected:
            return
        self._selected = int(study_id)
        self.study_selected.emit(int(study_id))
