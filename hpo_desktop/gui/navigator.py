"""The study navigator: the studies in the open file with state, trial count and best value.

It reads ``StudyStore.study_summaries()`` and polls the file's ``change_seq`` (one indexed read)
about once a second, so a study written by another process - or by our own worker - shows
its progress. A study being set up but not started yet is shown as a "new" row at the top.
Child studies (made by Refine…, ``StudyRecord.parent_id``) are nested under their parent.
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
    """A tree of the file's studies, children under their parent.

    Emits ``study_selected(study_id)`` (-1: the new study)."""

    study_selected = Signal(int)
    file_changed = Signal()  # the file's change counter moved (any writer)
    store_changed = Signal()  # set_store: another file (or none) is shown

    COLUMNS = ("Study", "State", "Trials", "Best")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = QStandardItemModel(0, len(self.COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(self.COLUMNS))
        self.view = QTreeView()
        self.view.setModel(self.model)
        self.view.setRootIsDecorated(True)
        self.view.setIndentation(14)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # "digits…ned-2": both ends show
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
        self._new_parent: int | None = None
        self._seq: int | None = None
        self._selected: int | None = None
        self._quiet = False
        self._items: dict[int, list[QStandardItem]] = {}  # study id -> the row's items
        self._shape: list[tuple[int, int | None]] = []  # (study id, shown parent id), in order
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
        self.store_changed.emit()

    def set_new_study(self, name: str | None, parent: int | None = None) -> None:
        """Show (or, with None, drop) the row of a study that is set up but not started; a
        child set up by Refine… (``parent``: the refined study's id) is shown under its parent."""
        self._new_name = name
        self._new_parent = parent if name is not None else None
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

    def shown_tree(self) -> list[tuple[str, int]]:
        """(name, depth) of every row as shown, top to bottom (depth 0: a top-level row)."""
        out: list[tuple[str, int]] = []

        def walk(parent: QStandardItem, depth: int) -> None:
            for row in range(parent.rowCount()):
                item = parent.child(row, 0)
                out.append((item.text(), depth))
                walk(item, depth + 1)

        walk(self.model.invisibleRootItem(), 0)
        return out

    def index_of(self, study_id: int):
        """The model index of a study's first column (invalid when not shown)."""
        items = self._items.get(study_id)
        return items[0].index() if items else self.model.index(-1, -1)

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
        shape = [(r[0], r[1]) for r in rows]
        self._quiet = True
        try:
            if shape == self._shape:
                for row in rows:  # the same studies in the same places: update the text in place
                    self._fill(self._items[row[0]], row[0], *row[2:])
            else:
                self.model.removeRows(0, self.model.rowCount())
                self._items = {}
                for row in rows:
                    items = [QStandardItem() for _ in self.COLUMNS]
                    parent_items = self._items.get(row[1]) if row[1] is not None else None
                    if parent_items is not None:
                        parent_items[0].appendRow(items)
                    else:
                        self.model.appendRow(items)
                    self._items[row[0]] = items
                    self._fill(items, row[0], *row[2:])
                self._shape = shape
                self.view.expandAll()
                self._select_row(self._selected)
        finally:
            self._quiet = False
        has_rows = self.model.rowCount() > 0
        self.stack.setCurrentWidget(self.view if has_rows or self.store is not None else self.placeholder)

    def _row_ids(self) -> list[int]:
        """The study ids of the top-level rows."""
        return [self.model.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(self.model.rowCount())]

    def _rows(self) -> list[tuple[int, int | None, str, str, str, str, str]]:
        """(study id, shown parent id, name, state, trials, best, tooltip) for each row, in the
        order they are added: the new study first (or, when it refines a study, after that
        study's children), then each top-level study followed by its children (depth first, in
        file order). A parent that is not in the file, or a loop of
        parents, leaves the study at the top level."""
        rows: list[tuple[int, int | None, str, str, str, str, str]] = []
        by_id = {s.record.study_id: s for s in self.summaries}
        new_parent = self._new_parent if self._new_parent in by_id else None
        new_row = (self._new_name or "", "new", "—", "—", "not started yet")
        if self._new_name is not None and new_parent is None:
            rows.append((NEW_ROW, None, *new_row))
        children: dict[int, list[StudySummary]] = {}
        for s in self.summaries:
            pid = s.record.parent_id
            if pid is not None and pid in by_id and pid != s.record.study_id:
                children.setdefault(pid, []).append(s)
        done: set[int] = set()

        def add(s: StudySummary, parent: int | None) -> None:
            if s.record.study_id in done:
                return
            done.add(s.record.study_id)
            rows.append((s.record.study_id, parent, *self._texts(s, by_id)))
            for child in children.get(s.record.study_id, []):
                add(child, s.record.study_id)
            if self._new_name is not None and new_parent == s.record.study_id:
                rows.append(
                    (NEW_ROW, new_parent, *new_row[:4], f"not started yet; refines '{s.record.name}'")
                )

        for s in self.summaries:
            pid = s.record.parent_id
            if pid is None or pid not in by_id or pid == s.record.study_id:
                add(s, None)
        for s in self.summaries:  # only a loop of parents is left: show it flat
            add(s, None)
        return rows

    @staticmethod
    def _texts(s: StudySummary, by_id: dict[int, StudySummary]) -> tuple[str, str, str, str, str]:
        r = s.record
        budget = f" / {r.budget}" if r.budget else ""
        best = "—" if s.best_value is None else format_value(s.best_value)
        counts = ", ".join(f"{n} {k}" for k, n in s.counts.items() if n) or "no trials"
        tip = f"{r.name}: {r.strategy.get('kind', '?')} search, {r.direction} {r.metric}\n{counts}"
        if s.best_number is not None:
            tip += f"\nbest: trial {s.best_number}, {r.metric} = {best}"
        parent = by_id.get(r.parent_id) if r.parent_id is not None else None
        if parent is not None:
            tip += f"\nrefines study '{parent.record.name}' (warm start from its trials)"
        return r.name, study_state(s), f"{finished_count(s)}{budget}", best, tip

    def _fill(
        self,
        items: list[QStandardItem],
        study_id: int,
        name: str,
        state: str,
        trials: str,
        best: str,
        tip: str,
    ) -> None:
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
        items = self._items.get(study_id)
        if items is not None:
            self.view.setCurrentIndex(items[0].index())

    def _on_selection_changed(self, *_args) -> None:
        rows = self.view.selectionModel().selectedRows(0)
        if self._quiet or not rows:
            return
        study_id = rows[0].data(Qt.ItemDataRole.UserRole)
        if study_id is None or study_id == self._selected:
            return
        self._selected = int(study_id)
        self.study_selected.emit(int(study_id))
