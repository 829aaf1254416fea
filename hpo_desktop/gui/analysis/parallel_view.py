"""Parallel coordinates: one vertical axis per parameter plus the metric (the last axis).

Lines are coloured by the metric; a "top k %" spin box keeps only the best trials; dragging
along an axis brushes a range on it, which keeps the lines that pass through every brushed
range and emits their trial numbers (``filtered``; the page hands them to every other view as
its brush filter); a click on a brushed axis clears it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsRectItem, QLabel, QPushButton, QSpinBox

from ...core.chartdata import format_cell
from ..live import chart_style as cs
from . import base

N_BINS = 12  # colour bands the lines are drawn in (one item each)
GRAB = 0.3  # how close (in axis spacings) a drag must start to an axis


class BrushViewBox(pg.ViewBox):
    """A view box whose drags brush axis ranges instead of panning."""

    def __init__(self, owner: ParallelView) -> None:
        super().__init__(enableMenu=False)
        self.owner = owner
        self.setMouseEnabled(False, False)
        self._axis: int | None = None
        self._start = 0.0

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 - pyqtgraph override
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        start = self.mapSceneToView(ev.buttonDownScenePos())
        now = self.mapSceneToView(ev.scenePos())
        if ev.isStart():
            self._axis = self.owner.axis_near(start.x())
            self._start = start.y()
        if self._axis is None:
            return
        self.owner.set_brush(self._axis, self._start, now.y(), emit=ev.isFinish())
        if ev.isFinish():
            self._axis = None

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph override
        if ev.button() == Qt.MouseButton.LeftButton:
            j = self.owner.axis_near(self.mapSceneToView(ev.scenePos()).x())
            if j is not None and j in self.owner.brushes:
                self.owner.clear_brush(j)
                ev.accept()
                return
        ev.ignore()


def _tick_text(value: float) -> str:
    return format_cell(float(value)) if math.isfinite(value) else ""


def _log_axis_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """Unit positions and labels of a log axis: its ends, and round values (1, 2, 5 × 10^k, or
    only the decades when that gives enough) in between."""
    a, b = math.log10(lo), math.log10(hi)
    decades = [(m * 10.0**k) for k in range(math.floor(a), math.ceil(b) + 1) for m in (1,)]
    nice = [v for v in decades if lo <= v <= hi]
    if len(nice) < 3:
        nice = [m * 10.0**k for k in range(math.floor(a), math.ceil(b) + 1) for m in (1, 2, 5)]
        nice = [v for v in nice if lo <= v <= hi]
    out = [(0.0, _tick_text(lo)), (1.0, _tick_text(hi))]
    for v in nice:
        t = (math.log10(v) - a) / (b - a)
        if all(abs(t - u) > 0.06 for u, _x in out):
            out.append((t, _tick_text(v)))
    return sorted(out)


class ParallelView(base.AnalysisView):
    title = "Parallel coordinates"
    slug = "parallel"

    filtered = Signal(object)  # list[int]: trial numbers that pass every brush (all when none)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.top = QSpinBox()
        self.top.setRange(1, 100)
        self.top.setValue(100)
        self.top.setSuffix(" %")
        self.top.setPrefix("top ")
        self.top.setToolTip("Show only the best k % of the trials")
        self.top.valueChanged.connect(lambda _v: self.changed.emit())
        self.clear_button = QPushButton("Clear brushes")
        self.clear_button.setToolTip("Drag along an axis to keep only the lines through that range")
        self.clear_button.clicked.connect(self.clear_brushes)
        self.hint = QLabel("drag along an axis to filter")
        for w in (self.top, self.clear_button, self.hint):
            self.controls.addWidget(w)
        self.viewbox = BrushViewBox(self)
        self.plot = pg.PlotWidget(viewBox=self.viewbox)
        self.plot.setMinimumSize(300, 200)
        item = self.plot.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        item.hideAxis("left")
        self.body.addWidget(self.plot, 1)
        self.cache_paint(self.plot)
        self.brushes: dict[int, tuple[float, float]] = {}
        self._brush_items: dict[int, QGraphicsRectItem] = {}
        self._data: Any = None
        self._labels: list[pg.TextItem] = []
        self._lines: list[pg.PlotCurveItem] = []
        self._point_rows = np.zeros(0, dtype=int)  # rows of the data drawn as metric-axis points
        self.dimmed = pg.PlotCurveItem(pen=cs.pen(cs.GREY, 1.0, 45), connect="finite")
        self.axes_item = pg.PlotCurveItem(connect="pairs")
        self.points = base.scatter(self._tip, self._on_clicked, size=7)
        self.selected_line = pg.PlotCurveItem(pen=cs.pen(cs.MAGENTA, 3.0), connect="finite")
        self.dimmed.setZValue(1)
        self.axes_item.setZValue(5)
        self.points.setZValue(8)
        self.selected_line.setZValue(9)
        for it in (self.dimmed, self.axes_item, self.points, self.selected_line):
            self.plot.addItem(it)
        self.restyle()

    # -- data ---------------------------------------------------------------------------------
    def request(self) -> Callable[[], Any] | None:
        ctx = self.ctx
        if ctx is None:
            return None
        from ...core.analysis import parallel_data

        space, trials, metric, direction = ctx.space, list(ctx.trials), ctx.metric, ctx.direction
        frac = self.top.value() / 100.0
        return lambda: parallel_data(space, trials, metric, direction, top_fraction=frac)

    def draw(self, data: Any) -> None:
        self._data = data
        self.draw_count += 1
        k = len(data.axes)
        self.brushes = {j: r for j, r in self.brushes.items() if j < k}
        ticks = [(j, a.name) for j, a in enumerate(data.axes)]
        self.plot.getPlotItem().getAxis("bottom").setTicks([ticks])
        self.axes_item.setData(np.repeat(np.arange(k, dtype=float), 2), np.tile([0.0, 1.0], k))
        for lab in self._labels:
            self.plot.removeItem(lab)
        self._labels = []
        for j, a in enumerate(data.axes):
            for y, text in self._axis_ticks(a):
                lab = pg.TextItem(
                    text, color=base.text_colour(self), anchor=(0, 0.5), fill=self._label_fill()
                )
                lab.setPos(j + 0.03, y)
                lab.setZValue(6)
                self.plot.addItem(lab)
                self._labels.append(lab)
        self.plot.setXRange(-0.2, k - 1 + 0.45 if k else 1, padding=0)
        self.plot.setYRange(-0.04, 1.04, padding=0)
        m = np.asarray(data.matrix, dtype=float).reshape(len(data.numbers), k)
        last = m[:, k - 1] if k else np.zeros(len(data.numbers))
        ok = np.isfinite(last)
        self._point_rows = np.flatnonzero(ok)
        values = np.asarray(data.values, dtype=float)
        self.points.setData(
            np.full(int(ok.sum()), k - 1.0),
            last[ok],
            data=np.asarray(data.numbers)[ok],
            brush=base.brushes(values[ok]),
            pen=base.outline_pen(self),
        )
        self._draw_lines()
        self._draw_brush_items()
        if self.brushes:  # new trials: tell the other views which of them pass
            self.filtered.emit(self.filtered_numbers())

    def _label_fill(self) -> QColor:
        from PySide6.QtGui import QPalette

        c = QColor(self.palette().color(QPalette.ColorRole.Base))
        c.setAlpha(190)
        return c

    @staticmethod
    def _axis_ticks(a) -> list[tuple[float, str]]:
        if a.categories is not None:
            m = len(a.categories)
            return [((i / (m - 1)) if m > 1 else 0.5, str(c)) for i, c in enumerate(a.categories)]
        lo, hi = float(a.low), float(a.high)
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return []
        if hi == lo:
            return [(0.5, _tick_text(lo))]
        if a.log and 0 < lo < hi:
            return _log_axis_ticks(lo, hi)
        return [(t, _tick_text(lo + t * (hi - lo))) for t in (0.0, 0.25, 0.5, 0.75, 1.0)]

    def passing(self) -> np.ndarray:
        """Mask of the drawn trials that pass every brush."""
        d = self._data
        if d is None:
            return np.zeros(0, dtype=bool)
        m = np.asarray(d.matrix, dtype=float)
        keep = np.ones(len(m), dtype=bool)
        for j, (lo, hi) in self.brushes.items():
            col = m[:, j]
            with np.errstate(invalid="ignore"):
                keep &= (col >= lo) & (col <= hi)
        return keep

    def filtered_numbers(self) -> list[int]:
        if self._data is None:
            return []
        return [int(n) for n in np.asarray(self._data.numbers)[self.passing()]]

    @staticmethod
    def _polyline(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n, k = rows.shape
        if n == 0:
            return np.zeros(0), np.zeros(0)
        xs = np.tile(np.append(np.arange(k, dtype=float), np.nan), n)
        ys = np.hstack([rows, np.full((n, 1), np.nan)]).ravel()
        return xs, ys

    def _draw_lines(self) -> None:
        for it in self._lines:
            self.plot.removeItem(it)
        self._lines = []
        d = self._data
        m = np.asarray(d.matrix, dtype=float).reshape(len(d.numbers), len(d.axes))
        values = np.asarray(d.values, dtype=float)
        keep = self.passing()
        self.dimmed.setData(*self._polyline(m[~keep]))
        n = len(d.numbers)
        self.status.setText(
            f"{int(keep.sum())} of {n} trials pass the brush" if self.brushes else f"{n} trials"
        )
        finite = np.isfinite(values)
        t = np.full(len(values), 0.5)
        if finite.any():
            lo, hi = values[finite].min(), values[finite].max()
            if hi > lo:
                t[finite] = (values[finite] - lo) / (hi - lo)
        bins = np.minimum((t * N_BINS).astype(int), N_BINS - 1)
        cmap = pg.colormap.get(base.CMAP_NAME)
        for b in range(N_BINS):
            rows = m[keep & (bins == b)]
            if not len(rows):
                continue
            c = QColor(cmap.map((b + 0.5) / N_BINS, mode="qcolor"))
            # The raster engine draws 1-px lines ~30x faster than wider translucent ones
            # (1,000 trials: 10 ms against 300 ms a paint), so only a few lines get 1.4 px.
            many = len(m) > 1000
            c.setAlpha(255 if many else 200 if len(m) < 200 else 140)
            width = 1.4 if len(m) < 200 else 1.0
            it = pg.PlotCurveItem(*self._polyline(rows), pen=pg.mkPen(c, width=width), connect="finite")
            it.setZValue(2 + b / N_BINS)
            self.plot.addItem(it)
            self._lines.append(it)
        base.show_only(self.points, keep[self._point_rows])  # the metric axis's points
        self._draw_selected()
        self.invalidate_paint()

    def _draw_selected(self) -> None:
        d = self._data
        if d is None or self.selected is None:
            self.selected_line.setData([], [])
            return
        hit = np.flatnonzero(np.asarray(d.numbers) == self.selected)
        if not len(hit):
            self.selected_line.setData([], [])
            return
        m = np.asarray(d.matrix, dtype=float).reshape(len(d.numbers), len(d.axes))
        self.selected_line.setData(*self._polyline(m[hit[:1]]))

    # -- brushing -------------------------------------------------------------------------------
    def axis_near(self, x: float) -> int | None:
        if self._data is None or not len(self._data.axes):
            return None
        j = int(round(x))
        if 0 <= j < len(self._data.axes) and abs(x - j) <= GRAB:
            return j
        return None

    def set_brush(self, axis: int, y0: float, y1: float, *, emit: bool = True) -> None:
        lo, hi = sorted((max(0.0, min(1.0, y0)), max(0.0, min(1.0, y1))))
        self.brushes[axis] = (lo, hi)
        if self._data is not None:
            self._draw_lines()
        self._draw_brush_items()
        if emit:
            self.filtered.emit(self.filtered_numbers())

    def clear_brush(self, axis: int) -> None:
        self.brushes.pop(axis, None)
        self._after_brush_change()

    def clear_brushes(self) -> None:
        self.brushes.clear()
        self._after_brush_change()

    def _after_brush_change(self) -> None:
        if self._data is not None:
            self._draw_lines()
        self._draw_brush_items()
        self.filtered.emit(self.filtered_numbers())

    def _draw_brush_items(self) -> None:
        for it in self._brush_items.values():
            self.plot.removeItem(it)
        self._brush_items = {}
        for j, (lo, hi) in self.brushes.items():
            rect = QGraphicsRectItem(QRectF(QPointF(j - 0.06, lo), QPointF(j + 0.06, hi)))
            rect.setPen(cs.pen(cs.MAGENTA, 1.5))
            rect.setBrush(pg.mkBrush(cs.colour(cs.MAGENTA, 50)))
            rect.setZValue(7)
            self.plot.addItem(rect)
            self._brush_items[j] = rect
        self.clear_button.setEnabled(bool(self.brushes))

    # -- the rest -------------------------------------------------------------------------------
    def line_count(self) -> int:
        return int(self.passing().sum()) if self._data is not None else 0

    def export_target(self) -> Any:
        return self.plot.getPlotItem()

    def plots(self) -> list[pg.PlotItem]:
        return [self.plot.getPlotItem()]

    def restyle(self) -> None:
        from PySide6.QtGui import QPalette

        cs.style_plot(self.plot, self.palette())
        self.plot.getPlotItem().showGrid(x=False, y=False)
        text = self.palette().color(QPalette.ColorRole.Text)
        axis_colour = QColor(text)
        axis_colour.setAlpha(170)
        self.axes_item.setPen(pg.mkPen(axis_colour, width=1.5))
        if self._data is not None:
            self.draw(self._data)
