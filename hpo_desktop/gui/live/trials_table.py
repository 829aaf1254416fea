"""The trials table: one row per trial, kept up to date incrementally.

:class:`TrialsTableModel` reads cells straight from :class:`~hpo_desktop.core.chartdata.LiveTrials`
(nothing is copied per row), inserts rows for new trials, sends ``dataChanged`` for changed rows
and inserts columns when a new parameter or metric appears; it resets only when a whole study
is loaded.

Sorting and filtering are done in Python with one key per row, not per comparison: a
``QSortFilterProxyModel`` that sorts calls ``data()`` twice for each of the ~n·log n comparisons
(~280,000 Python calls for 10,000 rows, about a second). So the model keeps its rows in the
sorted order itself (``sort()`` with one key per row, new rows placed by bisection, a changed
row moved with ``beginMoveRows``), and :class:`TrialsFilterProxy` only filters: one
``filterAcceptsRow`` call per row against a cached lower-case text of the row.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...core.chartdata import (
    Changes,
    Column,
    LiveTrial,
    LiveTrials,
    cell_value,
    format_cell,
    sort_key,
    table_columns,
)
from ...core.trial import TrialState
from . import chart_style as cs

_ROLE = Qt.ItemDataRole
_NUMERIC_KINDS = ("number", "value", "metric", "seconds")
STATES = ("complete", "running", "pruned", "failed", "interrupted")
_ASC, _DESC = Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder


def state_text(t: LiveTrial) -> str:
    """ "running · epoch 3" for the running trial, "pruned at epoch 9 (asha)" for a pruned one
    (the epoch and rule from its attrs, see docs/pruning.md), the state's name otherwise."""
    if t.state == TrialState.RUNNING and t.last_step is not None:
        return f"running · epoch {t.last_step}"
    if t.state == TrialState.PRUNED:
        at = t.attrs.get("pruned_at", t.last_step)
        by = str(t.attrs.get("pruned_by") or "")
        rule = by.split(":", 1)[0].split(" ", 1)[0] if by else ""
        text = "pruned" if at is None else f"pruned at epoch {at}"
        return f"{text} ({rule})" if rule else text
    return t.state.value


def _descending_text(s: str) -> tuple[int, ...]:
    # Sorting these ascending sorts the strings descending ("b", "ab", "a").
    return (*(-ord(c) for c in s), 1)


class TrialsTableModel(QAbstractTableModel):
    """Rows are trials, kept in the order of the current sort column (see the module doc)."""

    SortRole = _ROLE.UserRole + 1  # numbers as floats (None/NaN after them), text lower-cased
    NumberRole = _ROLE.UserRole + 2  # the trial number of any cell
    StateRole = _ROLE.UserRole + 3  # the plain state value ("complete", ...)

    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)
        self._book = LiveTrials()
        self._numbers: list[int] = []  # trial numbers in row order
        self._rows: dict[int, int] | None = {}  # number -> row, rebuilt lazily after a move
        self._columns: list[Column] = table_columns([], [], None)
        self._text_sorted: set[str] = set()  # params with a non-number value: sorted as text
        self._sort_column = 0
        self._sort_order = _DESC  # newest trial on top while a study runs
        self._row_text: dict[int, str] = {}  # number -> lower-case text of the row (filtering)
        self._bold = QFont()
        self._bold.setBold(True)
        self._best_brush = QBrush(cs.colour(cs.GREEN, 55))
        # operation counters, for tests and benchmarks
        self.resets = 0
        self.inserted_rows = 0
        self.inserted_columns = 0
        self.changed_rows = 0
        self.moved_rows = 0
        self.sorts = 0

    # -- feeding ---------------------------------------------------------------------------
    def set_book(self, book: LiveTrials) -> None:
        """Show every trial of ``book`` (one model reset)."""
        self.beginResetModel()
        self._book = book
        self._columns = self._wanted_columns()
        self._text_sorted = set()
        self._note_text_params(book.trials.values())
        self._row_text.clear()
        self._numbers = sorted(book.order, key=self._row_key_function())
        self._rows = None
        self.endResetModel()
        self.resets += 1

    def sync(self, changes: Changes) -> None:
        """Apply what changed since the last redraw, row by row."""
        if changes.columns:
            self._sync_columns()
        rows = self._row_map()
        new = [n for n in dict.fromkeys(changes.new) if n not in rows and n in self._book.trials]
        changed = set(changes.updated) | set(changes.finished)
        if changes.best_changed:
            changed |= {n for n in (changes.best_before, changes.best) if n is not None}
        changed -= set(new)
        self._note_text_params(self._book.trials[n] for n in (*new, *changed) if n in self._book.trials)
        for n in new:
            self._insert(n)
        self.refresh_rows(changed)

    def refresh_rows(self, numbers: Iterable[int]) -> None:
        """Tell the views these trials' rows changed (moving a row whose sort key changed)."""
        last = len(self._columns) - 1
        for n in numbers:
            self._row_text.pop(n, None)
            row = self._row_map().get(n)
            if row is None:
                continue
            row = self._reposition(n, row)
            self.dataChanged.emit(self.index(row, 0), self.index(row, last))
            self.changed_rows += 1

    def _insert(self, number: int) -> None:
        key = self._row_key_function()
        row = bisect.bisect_right(self._numbers, key(number), key=key)
        self.beginInsertRows(QModelIndex(), row, row)
        self._numbers.insert(row, number)
        self._rows = None
        self.endInsertRows()
        self.inserted_rows += 1

    def _reposition(self, number: int, row: int) -> int:
        """Move a changed row to where the sort puts it now; returns its row."""
        key = self._row_key_function()
        k = key(number)
        nums = self._numbers
        if (row == 0 or key(nums[row - 1]) <= k) and (row == len(nums) - 1 or k <= key(nums[row + 1])):
            return row
        rest = nums[:row] + nums[row + 1 :]
        to = bisect.bisect_right(rest, k, key=key)
        # beginMoveRows wants the destination as a row of the list *before* the move.
        if not self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), to if to < row else to + 1):
            return row
        self._numbers = rest[:to] + [number] + rest[to:]
        self._rows = None
        self.endMoveRows()
        self.moved_rows += 1
        return to

    def _wanted_columns(self) -> list[Column]:
        b = self._book
        return table_columns(b.param_names, b.metric_names, b.metric)

    def _sync_columns(self) -> None:
        wanted = self._wanted_columns()
        self._row_text.clear()
        if set(self._columns) - set(wanted):  # never happens: names are only ever added
            self.beginResetModel()
            self._columns = wanted
            self.endResetModel()
            self.resets += 1
            return
        sort_col = self._columns[self._sort_column] if self._sort_column < len(self._columns) else None
        for i, col in enumerate(wanted):
            if i >= len(self._columns) or self._columns[i] != col:
                self.beginInsertColumns(QModelIndex(), i, i)
                self._columns.insert(i, col)
                self.endInsertColumns()
                self.inserted_columns += 1
        if sort_col is not None:
            self._sort_column = self._columns.index(sort_col)

    def _note_text_params(self, trials: Iterable[LiveTrial]) -> None:
        for t in trials:
            for k, v in t.params.items():
                if k not in self._text_sorted and not isinstance(v, (int, float)) and v is not None:
                    self._text_sorted.add(k)

    # -- sorting ---------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = _ASC) -> None:
        """Sort the rows by ``column`` (numbers numerically, text alphabetically); empty cells
        and NaN stay at the bottom in both orders."""
        if not 0 <= column < len(self._columns):
            return
        self.layoutAboutToBeChanged.emit()
        old_numbers = list(self._numbers)
        persistent = self.persistentIndexList()
        self._sort_column, self._sort_order = column, Qt.SortOrder(order)
        self._numbers = sorted(self._numbers, key=self._row_key_function())
        self._rows = None
        new_rows = self._row_map()
        if persistent:  # selections and the current index follow their trial
            moved = []
            for index in persistent:
                ok = 0 <= index.row() < len(old_numbers)
                row = new_rows.get(old_numbers[index.row()]) if ok else None
                moved.append(self.index(row, index.column()) if row is not None else QModelIndex())
            self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()
        self.sorts += 1

    def sort_state(self) -> tuple[int, Qt.SortOrder]:
        return self._sort_column, self._sort_order

    def _row_key_function(self):
        """A key for ``sorted``/``bisect`` over trial numbers for the current sort: present
        values first (ascending or descending), then empty/NaN cells, ties by trial number."""
        if not self._columns:
            return lambda n: n
        col = self._columns[min(self._sort_column, len(self._columns) - 1)]
        trials = self._book.trials
        desc = self._sort_order == _DESC
        as_text = col.kind == "state" or (col.kind == "param" and col.key in self._text_sorted)

        def key(n: int) -> tuple[Any, ...]:
            t = trials[n]
            if as_text:
                v = t.state.value if col.kind == "state" else format_cell(cell_value(t, col)).lower()
                if not v:
                    return (1, (), -n if desc else n)
                return (0, _descending_text(v) if desc else tuple(ord(c) for c in v), -n if desc else n)
            v = sort_key(cell_value(t, col))
            if isinstance(v, str) or v == math.inf and cell_value(t, col) != math.inf:
                return (1, 0.0, -n if desc else n)  # empty, NaN (or text in a number column): bottom
            return (0, -v if desc else v, -n if desc else n)

        return key

    # -- filtering -------------------------------------------------------------------------
    def row_text(self, number: int) -> str:
        """The row's cells as one lower-case string (cached until the row changes)."""
        text = self._row_text.get(number)
        if text is None:
            t = self._book.trials[number]
            cells = [
                state_text(t) if c.kind == "state" else format_cell(cell_value(t, c), c)
                for c in self._columns
            ]
            text = self._row_text[number] = "\t".join(cells).lower()
        return text

    # -- reading ---------------------------------------------------------------------------
    def _row_map(self) -> dict[int, int]:
        if self._rows is None:
            self._rows = {n: i for i, n in enumerate(self._numbers)}
        return self._rows

    def columns(self) -> list[Column]:
        return list(self._columns)

    def column_of(self, kind: str, key: str = "") -> int:
        for i, c in enumerate(self._columns):
            if c.kind == kind and c.key == key:
                return i
        return -1

    def row_of(self, number: int) -> int | None:
        return self._row_map().get(number)

    def number_at(self, row: int) -> int:
        return self._numbers[row]

    def trial_at(self, row: int) -> LiveTrial:
        return self._book.trials[self._numbers[row]]

    def best_number(self) -> int | None:
        return self._book.best

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._numbers)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _ROLE.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        col = self._columns[section]
        if role == _ROLE.DisplayRole:
            return col.title
        if role == _ROLE.ToolTipRole:
            return {
                "number": "Trial number (★ marks the best trial)",
                "state": "complete, running, pruned, failed or interrupted",
                "value": f"The study's metric ({self._book.direction})",
                "param": "Hyperparameter",
                "metric": "Final metric (at the best epoch)",
                "seconds": "Wall-clock seconds the trial took",
            }.get(col.kind)
        return None

    def data(self, index: QModelIndex, role: int = _ROLE.DisplayRole):
        if not index.isValid():
            return None
        number = self._numbers[index.row()]
        t = self._book.trials[number]
        col = self._columns[index.column()]
        kind = col.kind
        if role == _ROLE.DisplayRole:
            if kind == "number":
                return f"★ {number}" if number == self._book.best else str(number)
            if kind == "state":
                return state_text(t)
            return format_cell(cell_value(t, col), col)
        if role == self.SortRole:
            if kind == "state":
                return t.state.value
            value = cell_value(t, col)
            if kind == "param" and col.key in self._text_sorted:
                return format_cell(value).lower()
            return sort_key(value)
        if role == self.NumberRole:
            return number
        if role == self.StateRole:
            return t.state.value
        if role == _ROLE.ForegroundRole:
            return QBrush(cs.state_colour(t.state)) if kind == "state" else None
        if role == _ROLE.BackgroundRole:
            return self._best_brush if number == self._book.best else None
        if role == _ROLE.FontRole:
            return self._bold if number == self._book.best or kind == "state" else None
        if role == _ROLE.TextAlignmentRole:
            if kind in _NUMERIC_KINDS or (kind == "param" and col.key not in self._text_sorted):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == _ROLE.ToolTipRole:
            if t.error:
                return t.error
            if t.state == TrialState.PRUNED and t.attrs.get("pruned_by"):
                return f"Stopped early by the pruner: {t.attrs['pruned_by']}"
            if number == self._book.best:
                return "The best trial so far"
        return None


class TrialsFilterProxy(QSortFilterProxyModel):
    """Filters by state and by text (in any column); sorting is passed on to the model, which
    keeps its rows sorted (far fewer Python calls than sorting here)."""

    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)
        self._state = ""
        self._text = ""
        self._numbers: frozenset[int] | None = None  # brushed on the Analysis page
        self.setDynamicSortFilter(True)

    def set_numbers(self, numbers: frozenset[int] | None) -> None:
        """Show only these trials (None: no restriction)."""
        self._numbers = numbers
        self.set_filters()

    def set_filters(self, state: str | None = None, text: str | None = None) -> None:
        rows_only = hasattr(self, "beginFilterChange")  # Qt 6.10+; invalidateRowsFilter before
        if rows_only:
            self.beginFilterChange()
        if state is not None:
            self._state = state
        if text is not None:
            self._text = text.strip().lower()
        if rows_only:
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateRowsFilter()

    def filters(self) -> tuple[str, str]:
        return self._state, self._text

    def sort(self, column: int, order: Qt.SortOrder = _ASC) -> None:
        self.sourceModel().sort(column, order)

    def filterAcceptsRow(self, source_row: int, _parent: QModelIndex) -> bool:  # noqa: N802
        if not (self._state or self._text or self._numbers is not None):
            return True
        model: TrialsTableModel = self.sourceModel()  # type: ignore[assignment]
        number = model.number_at(source_row)
        if self._numbers is not None and number not in self._numbers:
            return False
        if self._state and model.trial_at(source_row).state.value != self._state:
            return False
        return not self._text or self._text in model.row_text(number)


class TrialsTable(QWidget):
    """The table with its filters. ``trial_selected`` fires when the user picks a row."""

    trial_selected = Signal(int)
    clone_requested = Signal(int)  # context menu "Clone and Edit…": the row's trial number
    evaluate_requested = Signal(int)  # context menu "Evaluate on Test Set…"

    def __init__(self, model: TrialsTableModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model or TrialsTableModel(self)
        self.proxy = TrialsFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter trials (text in any column)…")
        self.filter_edit.setClearButtonEnabled(True)
        self.state_combo = QComboBox()
        self.state_combo.addItem("All states", "")
        for s in STATES:
            self.state_combo.addItem(s, s)
        self.state_combo.setToolTip("Show only trials in this state")
        self.count_label = QLabel()
        self.brush_button = QToolButton()
        self.brush_button.setText("Brushed ✕")
        self.brush_button.setToolTip(
            "Only trials inside the parallel-coordinates brushes are shown; click to show all"
        )
        self.brush_button.clicked.connect(lambda: self.set_number_filter(None))
        self.brush_button.hide()
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(150)  # type-ahead: filter 10,000 rows once, not per key
        self._filter_timer.timeout.connect(self._apply_text_filter)
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        self.state_combo.currentIndexChanged.connect(self._apply_state_filter)

        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.DescendingOrder)  # newest first while running
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = self.view.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # uniform rows: fast with 10,000
        vh.setDefaultSectionSize(self.fontMetrics().height() + 8)
        hh = self.view.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setResizeContentsPrecision(100)
        hh.setStretchLastSection(True)
        self._programmatic = False
        self.view.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu)
        self.context_menu: QMenu | None = None  # the last one shown (tests trigger its actions)
        for sig in (
            self.proxy.rowsInserted,
            self.proxy.rowsRemoved,
            self.proxy.modelReset,
            self.proxy.layoutChanged,
        ):
            sig.connect(self._update_count)
        # Fit the columns to their text when they change or the first rows arrive, not per row.
        self.model.columnsInserted.connect(lambda _p, first, last: self.fit_columns(range(first, last + 1)))
        self.model.modelReset.connect(self.fit_columns)
        self.model.rowsInserted.connect(self._on_rows_inserted)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("<b>Trials</b>"))
        bar.addSpacing(8)
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.state_combo)
        bar.addWidget(self.brush_button)
        bar.addWidget(self.count_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(3)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)
        self._update_count()

    # -- public -----------------------------------------------------------------------------
    def set_number_filter(self, numbers: list[int] | None) -> None:
        """Show only these trial numbers (from a brush on the Analysis page); None shows all."""
        self.proxy.set_numbers(None if numbers is None else frozenset(numbers))
        self.brush_button.setVisible(numbers is not None)
        self._update_count()

    def select_trial(self, number: int | None) -> None:
        """Select the row of trial ``number`` (no signal); clears the selection when the trial is
        unknown or filtered out."""
        index = self._proxy_index(number)
        self._programmatic = True
        try:
            sm = self.view.selectionModel()
            if index is None:
                sm.clearSelection()
                sm.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.NoUpdate)
            else:
                flags = (
                    QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
                )
                sm.setCurrentIndex(index, flags)
                self.view.scrollTo(index)
        finally:
            self._programmatic = False

    def selected_number(self) -> int | None:
        rows = self.view.selectionModel().selectedRows()
        return int(rows[0].data(TrialsTableModel.NumberRole)) if rows else None

    def set_text_filter(self, text: str) -> None:
        self.filter_edit.setText(text)
        self._filter_timer.stop()
        self._apply_text_filter()

    def set_state_filter(self, state: str) -> None:
        self.state_combo.setCurrentIndex(max(0, self.state_combo.findData(state)))

    def fit_columns(self, columns: Iterable[int] | None = None) -> None:
        """Columns (all by default) as wide as their text in sampled rows, within limits; the
        state column always fits "running · epoch 100"."""
        hh = self.view.horizontalHeader()
        columns = range(hh.count()) if columns is None else columns
        bold = QFont(self.view.font())
        bold.setBold(True)
        state_w = QFontMetrics(bold).horizontalAdvance("running · epoch 100") + 16
        for i in columns:
            self.view.resizeColumnToContents(i)
            w = min(max(hh.sectionSize(i) + 10, 48), 220)
            if self.model.columns()[i].kind == "state":
                w = max(w, state_w)
            hh.resizeSection(i, w)

    # -- internals ------------------------------------------------------------------------
    def _proxy_index(self, number: int | None) -> QModelIndex | None:
        if number is None:
            return None
        row = self.model.row_of(number)
        if row is None:
            return None
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        return index if index.isValid() else None

    def _on_rows_inserted(self, _parent: QModelIndex, first: int, last: int) -> None:
        if self.model.rowCount() == last - first + 1:  # the first rows of an empty table
            self.fit_columns()

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._programmatic or not current.isValid():
            return
        self.trial_selected.emit(int(current.data(TrialsTableModel.NumberRole)))

    def make_context_menu(self, number: int) -> QMenu:
        """The row menu of trial ``number``: clone and edit, copy its configuration, evaluate."""
        menu = QMenu(self)
        clone = menu.addAction("Clone and Edit…")
        clone.setStatusTip("Enqueue a copy of this trial's configuration, edited first")
        clone.triggered.connect(lambda _=False: self.clone_requested.emit(number))
        copy = menu.addAction("Copy Configuration")
        copy.setStatusTip("Copy this trial's parameters to the clipboard as JSON")
        copy.triggered.connect(lambda _=False: self.copy_configuration(number))
        menu.addSeparator()
        evaluate = menu.addAction("Evaluate on Test Set…")
        evaluate.setStatusTip("Retrain this configuration with several seeds and score the test split")
        state = self.model.trial_at(self.model.row_of(number)).state
        evaluate.setEnabled(state in (TrialState.COMPLETE, TrialState.PRUNED))
        evaluate.triggered.connect(lambda _=False: self.evaluate_requested.emit(number))
        return menu

    def copy_configuration(self, number: int) -> str:
        """Put trial ``number``'s parameters on the clipboard as JSON; returns the text."""
        from PySide6.QtWidgets import QApplication

        from ...core.export import format_config

        text = format_config(dict(self.model.trial_at(self.model.row_of(number)).params), "json")
        QApplication.clipboard().setText(text)
        return text

    def _on_context_menu(self, pos) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        number = int(index.data(TrialsTableModel.NumberRole))
        if self.context_menu is not None:
            self.context_menu.deleteLater()
        self.context_menu = self.make_context_menu(number)
        self.context_menu.popup(self.view.viewport().mapToGlobal(pos))

    def _apply_text_filter(self) -> None:
        self.proxy.set_filters(text=self.filter_edit.text())
        self._update_count()

    def _apply_state_filter(self) -> None:
        self.proxy.set_filters(state=self.state_combo.currentData() or "")
        self._update_count()

    def _update_count(self, *_: object) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{total:,} trials" if shown == total else f"{shown:,} of {total:,} trials")
