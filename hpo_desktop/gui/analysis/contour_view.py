"""Contour (response surface) of a chosen pair of parameters: the surrogate's predicted metric as
an image with a colour bar (or the GP's uncertainty), the trials on top.

Computed off the GUI thread (the page runs :meth:`ContourView.request`'s function on its pool).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel

from ..live import chart_style as cs
from . import base

ESTIMATORS = (("Gaussian process", "GP"), ("Random forest", "RF"), ("Extra trees", "ET"))


def _coords(values: np.ndarray, log: bool) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if not log:
        return v
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)


def log_ticks(lo: float, hi: float) -> list[list[tuple[float, str]]]:
    """Ticks of a log10-coordinate axis from ``lo`` to ``hi`` (log10 units): decades labelled,
    and 2 and 5 times each decade labelled too when the range spans under three decades."""
    import math

    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [[]]
    major, minor = [], []
    for k in range(math.floor(lo) - 1, math.ceil(hi) + 1):
        for m in (1, 2, 5):
            v = m * 10.0**k
            c = math.log10(v)
            if lo - 1e-9 <= c <= hi + 1e-9:
                (major if m == 1 else minor).append((c, f"{v:g}"))
    if hi - lo >= 3 or len(major) >= 3:
        minor = [(c, "") for c, _t in minor]
    return [major, minor]


def _pixel_rect(cx: np.ndarray, cy: np.ndarray) -> QRectF:
    def span(c: np.ndarray) -> tuple[float, float]:
        if len(c) < 2:
            return (float(c[0]) - 0.5 if len(c) else -0.5), 1.0
        d = (float(c[-1]) - float(c[0])) / (len(c) - 1)
        return float(c[0]) - d / 2, d * len(c)

    x0, w = span(cx)
    y0, h = span(cy)
    return QRectF(x0, y0, w, h)


class ContourView(base.AnalysisView):
    title = "Contour"
    slug = "contour"
    heavy = True

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.x_combo = QComboBox()
        self.y_combo = QComboBox()
        self.est_combo = QComboBox()
        for text, key in ESTIMATORS:
            self.est_combo.addItem(text, key)
        self.est_combo.setToolTip("The surrogate model fitted to the trials")
        self.std_check = QCheckBox("uncertainty")
        self.std_check.setToolTip("Show the Gaussian process's standard deviation instead of its mean")
        self.std_check.toggled.connect(lambda _on: self._draw_image())
        for w in (QLabel("x"), self.x_combo, QLabel("y"), self.y_combo, self.est_combo, self.std_check):
            self.controls.addWidget(w)
        for c in (self.x_combo, self.y_combo, self.est_combo):
            c.currentIndexChanged.connect(self._on_combo)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumSize(300, 200)
        item = self.plot.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.cmap = pg.colormap.get(base.CMAP_NAME)
        self.bar = pg.ColorBarItem(colorMap=self.cmap, interactive=False, width=16)
        self.bar.setImageItem(self.image, insert_in=item)
        cs._no_si_prefix(self.bar.axis)
        self.points = base.scatter(self._tip, self._on_clicked, size=9)
        self.points.setZValue(5)
        self.faded = base.faded_scatter(self._tip, self._on_clicked)
        self.faded.setZValue(4)
        self.ring = base.ring()
        self.plot.addItem(self.faded)
        self.plot.addItem(self.points)
        self.plot.addItem(self.ring)
        self.message = pg.TextItem("", anchor=(0.5, 0.5))
        self.plot.addItem(self.message)
        self.body.addWidget(self.plot, 1)
        self.cache_paint(self.plot)
        self._data: Any = None
        self._filling = False
        self.restyle()

    # -- controls -----------------------------------------------------------------------------
    def set_context(self, ctx: base.StudyContext) -> None:
        super().set_context(ctx)
        names = ctx.param_names
        old = (self.x_combo.currentText(), self.y_combo.currentText())
        if names == [self.x_combo.itemText(i) for i in range(self.x_combo.count())]:
            return
        self._filling = True
        for combo in (self.x_combo, self.y_combo):
            combo.clear()
            combo.addItems(names)
        x = old[0] if old[0] in names else (names[0] if names else "")
        y = old[1] if old[1] in names and old[1] != x else next((n for n in names if n != x), x)
        self.x_combo.setCurrentText(x)
        self.y_combo.setCurrentText(y)
        self._filling = False

    def set_pair(self, x: str, y: str) -> None:
        self._filling = True
        self.x_combo.setCurrentText(x)
        self.y_combo.setCurrentText(y)
        self._filling = False
        self.changed.emit()

    def _on_combo(self, _i: int) -> None:
        if not self._filling:
            self.changed.emit()

    # -- data ---------------------------------------------------------------------------------
    def request(self) -> Callable[[], Any] | None:
        ctx = self.ctx
        x, y = self.x_combo.currentText(), self.y_combo.currentText()
        if ctx is None or not x or not y:
            return None
        from ...core.analysis import contour_data

        space, trials, direction = ctx.space, list(ctx.trials), ctx.direction
        est = self.est_combo.currentData() or "GP"
        self.status.setText("computing…")
        return lambda: contour_data(space, trials, x, y, direction, resolution=40, estimator=est)

    def draw(self, data: Any) -> None:
        self._data = data
        self.draw_count += 1
        item = self.plot.getPlotItem()
        text = base.text_colour(self).name()
        item.setLabel("bottom", data.x_param + (" (log)" if data.x_log else ""), color=text)
        item.setLabel("left", data.y_param + (" (log)" if data.y_log else ""), color=text)
        space = self.ctx.space if self.ctx is not None else None
        for side, name, log in (("bottom", data.x_param, data.x_log), ("left", data.y_param, data.y_log)):
            axis = item.getAxis(side)
            p = space[name] if space is not None and name in space else None
            choices = getattr(p, "choices", None)
            grid = _coords(data.xs if side == "bottom" else data.ys, log)
            if choices is not None:
                axis.setTicks([[(i, str(c)) for i, c in enumerate(choices)]])
            elif log and len(grid):
                axis.setTicks(log_ticks(float(np.nanmin(grid)), float(np.nanmax(grid))))
            else:
                axis.setTicks(None)
        has_std = data.std is not None and np.size(data.std) > 0
        self.std_check.setEnabled(has_std)
        cx, cy = _coords(data.points_x, data.x_log), _coords(data.points_y, data.y_log)
        ok = np.isfinite(cx) & np.isfinite(cy)
        self._px, self._py, self._pn = cx[ok], cy[ok], np.asarray(data.numbers)[ok]
        self._pv = np.asarray(data.point_values, dtype=float)[ok]
        self._draw_image()
        self._draw_selected()
        gx, gy = _coords(data.xs, data.x_log), _coords(data.ys, data.y_log)
        if len(gx) and len(gy):
            r = _pixel_rect(gx, gy)
            self.plot.setXRange(r.left(), r.right(), padding=0.02)
            self.plot.setYRange(r.top(), r.bottom(), padding=0.02)

    def _draw_image(self) -> None:
        data = self._data
        if data is None:
            return
        show_std = self.std_check.isChecked() and data.std is not None and np.size(data.std) > 0
        grid = np.asarray(data.std if show_std else data.mean, dtype=float)
        metric = self.ctx.metric if self.ctx else "value"
        self.bar.axis.setLabel(
            f"{metric} (std)" if show_std else f"predicted {metric}", color=base.text_colour(self).name()
        )
        if grid.size == 0:
            self.image.clear()
            self.message.setText("Not enough complete trials with different values for a surrogate")
            self.message.setColor(base.text_colour(self))
            self.message.setPos(0, 0)
            self.message.setVisible(True)
            levels = self._levels(self._pv)
        else:
            self.message.setVisible(False)
            gx, gy = _coords(data.xs, data.x_log), _coords(data.ys, data.y_log)
            levels = self._levels(grid if show_std else np.concatenate([grid.ravel(), self._pv]))
            self.image.setImage(grid.T, levels=levels)
            self.image.setRect(_pixel_rect(gx, gy))
        self.bar.setLevels(levels)
        if show_std:
            brushes = pg.mkBrush(255, 255, 255, 200)
        else:
            brushes = base.brushes(self._pv, levels=levels)
        self.points.setData(self._px, self._py, data=self._pn, brush=brushes, pen=pg.mkPen("w", width=1.2))
        self.faded.setData([], [])  # filled by the first brush
        self._apply_brush()

    def _paint(self) -> None:
        """The trials on the surface: passing the brush in colour, the others faded (the
        surface itself is the surrogate of all trials and is not refitted)."""
        if self._data is None:
            return
        keep = self.passes(self._pn)
        base.show_only(self.points, keep)
        base.show_faded(self.faded, ~keep, self._px, self._py, self._pn)
        note = self.brush_note(keep)
        self.set_status("surface from all trials" if note else "", note)

    def _prepare_faded(self) -> None:
        if self._data is not None:
            base.fill_faded(self.faded, self._px, self._py, self._pn)

    @staticmethod
    def _levels(v: np.ndarray) -> tuple[float, float]:
        v = np.asarray(v, dtype=float)
        v = v[np.isfinite(v)]
        if not len(v):
            return (0.0, 1.0)
        lo, hi = float(v.min()), float(v.max())
        return (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)

    def _draw_selected(self) -> None:
        if self._data is None or self.selected is None:
            self.ring.setData([], [])
            return
        hit = np.flatnonzero(self._pn == self.selected)
        self.ring.setData(self._px[hit], self._py[hit])

    def export_target(self) -> Any:
        return self.plot.getPlotItem()

    def plots(self) -> list[pg.PlotItem]:
        return [self.plot.getPlotItem()]

    def restyle(self) -> None:
        cs.style_plot(self.plot, self.palette())
        text = base.text_colour(self)
        self.bar.axis.setTextPen(pg.mkPen(text))
        self.bar.axis.setPen(pg.mkPen(text))
        self.bar.axis.labelStyle = {"color": text.name()}
        self.plot.getPlotItem().showGrid(x=False, y=False)
        if self._data is not None:
            self.draw(self._data)
