"""Slice plots: the metric against each parameter, one small plot per parameter.

Log parameters get a log x-axis, categorical ones their choices as tick labels; points are
coloured by trial number (dark = early, yellow = late) so the search's drift shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFont

from . import base


class SliceView(base.AnalysisView):
    title = "Slice"
    slug = "slice"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.legend = base.QLabel("colour: trial number (dark = early, yellow = late)")
        self.controls.addWidget(self.legend)
        self.layout_widget = pg.GraphicsLayoutWidget()
        self.layout_widget.setMinimumSize(300, 200)
        self.body.addWidget(self.layout_widget, 1)
        self.cache_paint(self.layout_widget)
        self._plots: list[pg.PlotItem] = []
        self._scatters: list[pg.ScatterPlotItem] = []
        self._faded: list[pg.ScatterPlotItem] = []
        self._rings: list[pg.ScatterPlotItem] = []
        self._points: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # x, y, trial numbers
        self._data: list[Any] = []
        self.restyle()

    def request(self) -> Callable[[], Any] | None:
        ctx = self.ctx
        if ctx is None or not ctx.param_names:
            return None
        from ...core.analysis import slice_data

        space, trials, names = ctx.space, list(ctx.trials), ctx.param_names
        return lambda: [slice_data(space, trials, p) for p in names]

    def draw(self, data: list[Any]) -> None:
        self._data = list(data)
        self.draw_count += 1
        glw = self.layout_widget
        glw.clear()
        self._plots, self._scatters, self._faded, self._rings, self._points = [], [], [], [], []
        n = len(self._data)
        cols = 1 if n <= 1 else 2 if n <= 4 else 3 if n <= 9 else 4
        font = QFont(self.font())
        font.setPointSizeF(max(7.5, font.pointSizeF() * 0.8))
        metric = self.ctx.metric if self.ctx else "value"
        for i, d in enumerate(self._data):
            plot = glw.addPlot(row=i // cols, col=i % cols)
            base.style_plot_item(plot, self.palette(), font)
            plot.setTitle(
                d.param + ("  (log)" if d.log else ""), color=base.text_colour(self).name(), size="9pt"
            )
            if i % cols == 0:
                plot.setLabel("left", metric, color=base.text_colour(self).name(), **{"font-size": "8pt"})
            x = np.asarray(d.x, dtype=float)
            y = np.asarray(d.values, dtype=float)
            nums = np.asarray(d.numbers)
            if d.categories is not None:
                plot.getAxis("bottom").setTicks([[(j, str(c)) for j, c in enumerate(d.categories)]])
                plot.setXRange(-0.5, len(d.categories) - 0.5, padding=0.05)
            elif d.log:
                plot.getAxis("bottom").setLogMode(True)
                with np.errstate(divide="ignore", invalid="ignore"):
                    x = np.where(x > 0, np.log10(np.where(x > 0, x, 1.0)), np.nan)
            ok = np.isfinite(x) & np.isfinite(y)
            self._points.append((x[ok], y[ok], nums[ok]))
            # every point in both items; a brush only switches which item shows it
            sc = base.scatter(self._tip, self._on_clicked, size=7)
            brushes = base.brushes(nums[ok].astype(float))
            sc.setData(x[ok], y[ok], data=nums[ok], brush=brushes, pen=base.outline_pen(self))
            faded = base.faded_scatter(self._tip, self._on_clicked)  # filled by the first brush
            for it in (faded, sc):
                plot.addItem(it)
            r = base.ring()
            plot.addItem(r)
            self._plots.append(plot)
            self._scatters.append(sc)
            self._faded.append(faded)
            self._rings.append(r)
        self._apply_brush()

    def _paint(self) -> None:
        """Colour the points passing the brush, fade the others (no recomputation)."""
        note = ""
        for (x, y, nums), sc, faded in zip(self._points, self._scatters, self._faded, strict=True):
            keep = self.passes(nums)
            base.show_only(sc, keep)
            base.show_faded(faded, ~keep, x, y, nums)
            note = note or self.brush_note(keep)
        self.set_status(note)
        self._draw_selected()

    def _prepare_faded(self) -> None:
        for (x, y, nums), faded in zip(self._points, self._faded, strict=True):
            base.fill_faded(faded, x, y, nums)

    def _draw_selected(self) -> None:
        for (x, y, nums), r in zip(self._points, self._rings, strict=True):
            hit = nums == self.selected if self.selected is not None else np.zeros(len(nums), dtype=bool)
            r.setData(x[hit], y[hit])

    def export_target(self) -> Any:
        return self.layout_widget.ci

    def plots(self) -> list[pg.PlotItem]:
        return list(self._plots)

    def point_count(self) -> int:
        """Points drawn in colour (the trials passing the brush; all without one)."""
        return sum(len(base.shown_numbers(sc)) for sc in self._scatters)

    def faded_count(self) -> int:
        return sum(len(base.shown_numbers(sc)) for sc in self._faded)

    def restyle(self) -> None:
        from PySide6.QtGui import QPalette

        self.layout_widget.setBackground(self.palette().color(QPalette.ColorRole.Base))
        if self._data:
            self.draw(self._data)
