"""Compare Studies: the histories of several studies of one file on one chart, best trials side by side.

A non-modal window. The left list holds the file's studies (checkable; children are marked
with the study they refine); the chart overlays each checked study's complete trials (points)
and best-so-far line (steps), x = the trial number within the study, one colour per study;
the table below lists each study's best trial and its parameters. Only studies with the same
metric and direction as the first checked one share the chart; the others are named in a note.

Everything shown comes from :mod:`hpo_desktop.core.chartdata` (``compare_series``,
``same_metric``, ``best_rows``), read through the window's read-only store on the GUI thread
(a few studies' trial rows: cheap).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.chartdata import BestTable, CompareSeries, best_rows, compare_series, format_cell, same_metric
from ..core.storage import StorageError, StudyStore
from .analysis.base import export_item, export_with_dialog
from .live import chart_style as cs

#: One mid-tone colour per study (readable on light and dark charts), reused after ten.
STUDY_COLOURS = (
    "#1c7ed6",
    "#e8590c",
    "#2b8a3e",
    "#ae3ec9",
    "#c92a2a",
    "#0c8599",
    "#e67700",
    "#5f3dc4",
    "#868e96",
    "#a61e4d",
)


def study_colour(position: int) -> str:
    return STUDY_COLOURS[position % len(STUDY_COLOURS)]


def tree_order(records: Sequence) -> list[tuple]:
    """(record, depth): each top-level study followed by its children, depth first, in file
    order (as the navigator shows them); a parent missing from the file, or a loop, is top level."""
    ids = {r.study_id for r in records}
    kids: dict[int, list] = {}
    for r in records:
        if r.parent_id in ids and r.parent_id != r.study_id:
            kids.setdefault(r.parent_id, []).append(r)
    out: list[tuple] = []
    seen: set[int] = set()

    def add(r, depth: int) -> None:
        if r.study_id in seen:
            return
        seen.add(r.study_id)
        out.append((r, depth))
        for k in kids.get(r.study_id, []):
            add(k, depth + 1)

    for r in records:
        if r.parent_id not in ids or r.parent_id == r.study_id:
            add(r, 0)
    for r in records:  # only a loop of parents is left
        add(r, 0)
    return out


class CompareWindow(QWidget):
    """The "Compare Studies" window; see the module docstring."""

    redrawn = Signal()

    def __init__(
        self, store: StudyStore | None, study_ids: Sequence[int] = (), parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window, True)
        self.setWindowTitle("Compare Studies")
        self.setObjectName("compare-window")
        self.resize(1100, 720)
        self.store: StudyStore | None = None
        self.shown: list[CompareSeries] = []
        self.left_out: list[CompareSeries] = []
        self.best_table: BestTable = best_rows([])
        self._colour_of: dict[int, str] = {}
        self._filling = False

        self.list = QListWidget()
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.list.setToolTip("Check the studies to compare")
        self.list.itemChanged.connect(self._on_item_changed)
        list_box = QWidget()
        list_lay = QVBoxLayout(list_box)
        list_lay.setContentsMargins(0, 0, 0, 0)
        list_lay.addWidget(QLabel("<b>Studies</b>"))
        list_lay.addWidget(self.list, 1)

        self.title = QLabel("<b>Optimization histories</b>")
        self.export_button = QToolButton()
        self.export_button.setText("Export…")
        self.export_button.setToolTip("Save this chart as a PNG or SVG image")
        self.export_button.clicked.connect(self.export_dialog)
        self.plot = cs.make_plot(self)
        self.legend = self.plot.getPlotItem().addLegend(offset=(-10, 10))
        cs.set_axis_label(self.plot, "bottom", "trial (within each study)", self.palette())
        cs.set_axis_label(self.plot, "left", "value", self.palette())
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.export_button)
        chart_box = QWidget()
        chart_lay = QVBoxLayout(chart_box)
        chart_lay.setContentsMargins(0, 0, 0, 0)
        chart_lay.setSpacing(2)
        chart_lay.addLayout(top)
        chart_lay.addWidget(self.plot, 1)
        chart_lay.addWidget(self.note)

        self.table = QTableWidget(0, 0)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        table_box = QWidget()
        table_lay = QVBoxLayout(table_box)
        table_lay.setContentsMargins(0, 0, 0, 0)
        table_lay.addWidget(QLabel("<b>Best trials</b>"))
        table_lay.addWidget(self.table, 1)

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(chart_box)
        right.addWidget(table_box)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        right.setSizes([480, 180])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(list_box)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([230, 870])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(split)

        self.set_store(store, study_ids)

    # -- what is compared ---------------------------------------------------------------------
    def set_store(self, store: StudyStore | None, study_ids: Sequence[int] = ()) -> None:
        """Show the studies of ``store`` with ``study_ids`` checked."""
        self.store = store
        self._fill_list(set(study_ids))
        self.refresh()

    def set_checked(self, study_ids: Sequence[int]) -> None:
        self._fill_list(set(study_ids))
        self.refresh()

    def checked_ids(self) -> list[int]:
        """The checked studies, in file order."""
        return [
            int(self.list.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.CheckState.Checked
        ]

    def reload(self) -> None:
        """The file changed: list new studies (unchecked), keep the checks, redraw."""
        self._fill_list(set(self.checked_ids()))
        self.refresh()

    def _fill_list(self, checked: set[int]) -> None:
        self._filling = True
        try:
            self.list.clear()
            self._colour_of = {}
            records = []
            if self.store is not None:
                try:
                    records = self.store.list_studies()
                except StorageError:
                    records = []
            names = {r.study_id: r.name for r in records}
            for pos, r in enumerate(records):
                self._colour_of[r.study_id] = study_colour(pos)  # by file position: stable
            for r, depth in tree_order(records):
                colour = self._colour_of[r.study_id]
                indent = "    " * (depth - 1) + "  ↳ " if depth else ""
                item = QListWidgetItem(f"{indent}● {r.name}")
                item.setData(Qt.ItemDataRole.UserRole, r.study_id)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(
                    Qt.CheckState.Checked if r.study_id in checked else Qt.CheckState.Unchecked
                )
                item.setForeground(QBrush(QColor(colour)))
                tip = f"{r.name}: {r.strategy.get('kind', '?')} search, {r.direction} {r.metric}"
                if r.parent_id in names:
                    tip += f"\nrefines study '{names[r.parent_id]}'"
                item.setToolTip(tip)
                self.list.addItem(item)
            self.list.setCurrentRow(-1)  # no focus frame on the first study
        finally:
            self._filling = False

    def _on_item_changed(self, _item: QListWidgetItem) -> None:
        if not self._filling:
            self.refresh()

    # -- drawing ------------------------------------------------------------------------------
    def refresh(self) -> None:
        series: list[CompareSeries] = []
        if self.store is not None:
            try:
                series = compare_series(self.store, self.checked_ids())
            except StorageError as exc:
                self.note.setText(f"⚠  Cannot read the studies: {exc}")
                self.note.show()
                series = []
        self.shown, self.left_out = same_metric(series)
        self._draw()
        self._fill_table()
        self.redrawn.emit()

    def _draw(self) -> None:
        item = self.plot.getPlotItem()
        item.clear()  # removes the curves and their legend entries
        self.legend.clear()
        for s in self.shown:
            colour = self._colour_of.get(s.study_id, study_colour(0))
            points = pg.PlotDataItem(
                s.numbers,
                s.values,
                pen=None,
                symbol="o",
                symbolSize=7,
                symbolBrush=cs.colour(colour, 150),
                symbolPen=None,
            )
            line = pg.PlotDataItem(s.best_x, s.best_y, pen=cs.pen(colour, 2.2), name=s.name, antialias=True)
            item.addItem(points)
            item.addItem(line)
        self.legend.setLabelTextColor(self.palette().color(QPalette.ColorRole.Text))
        self.legend.setVisible(bool(self.shown))
        if self.shown:
            first = self.shown[0]
            cs.set_axis_label(self.plot, "left", f"{first.metric} ({first.direction})", self.palette())
        notes = []
        if not self.checked_ids():
            notes.append("Check one or more studies on the left to compare them.")
        if self.left_out:
            first = self.shown[0]
            others = ", ".join(f"'{s.name}' ({s.direction} {s.metric})" for s in self.left_out)
            notes.append(
                f"Only studies that {first.direction} {first.metric}, like '{first.name}', share this chart; "
                f"left out: {others}."
            )
        self.note.setText("  ".join(notes))
        self.note.setVisible(bool(notes))

    def _fill_table(self) -> None:
        table = best_rows(self.shown)
        self.best_table = table
        self.table.clear()
        self.table.setColumnCount(len(table.columns))
        self.table.setRowCount(len(table.rows))
        self.table.setHorizontalHeaderLabels(table.columns)
        for r, (s, row) in enumerate(zip(self.shown, table.rows)):
            for c, value in enumerate(row):
                text = "—" if value is None else (value if isinstance(value, str) else format_cell(value))
                cell = QTableWidgetItem(str(text))
                if c == 0:
                    cell.setForeground(QBrush(QColor(self._colour_of.get(s.study_id, study_colour(0)))))
                    font = cell.font()
                    font.setBold(True)
                    cell.setFont(font)
                elif not isinstance(value, str):
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, cell)

    # -- reading what is drawn (tests) -----------------------------------------------------------
    def drawn_items(self) -> list[pg.PlotDataItem]:
        return [i for i in self.plot.getPlotItem().listDataItems() if isinstance(i, pg.PlotDataItem)]

    def legend_names(self) -> list[str]:
        return [label.text for _sample, label in self.legend.items]

    # -- export ---------------------------------------------------------------------------------
    def export_dialog(self) -> str:
        return export_with_dialog(self, "compare.png", self.export_to)

    def export_to(self, path: str) -> str:
        return export_item(self.plot.getPlotItem(), path)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.PaletteChange:
            cs.style_plot(self.plot, self.palette())
            self.legend.setLabelTextColor(self.palette().color(QPalette.ColorRole.Text))
        super().changeEvent(event)
