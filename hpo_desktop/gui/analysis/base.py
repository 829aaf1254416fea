"""What every analysis view shares: the study context, colour maps, tooltips, export, the base class.

A view never computes chart data itself: :meth:`AnalysisView.request` returns a zero-argument
function (plain data in, a core dataclass out) that the page runs — on the GUI thread for light
views, on a thread pool for heavy ones — and hands the result to :meth:`AnalysisView.draw`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from ...core.chartdata import format_cell
from ...core.trial import FrozenTrial
from ..live import chart_style as cs

#: Colour map of every analysis chart (dark = low, yellow = high).
CMAP_NAME = "viridis"


@dataclass
class StudyContext:
    """One snapshot of a study, as the views see it (plain data, safe to hand to a thread)."""

    space: Any  # hpo_desktop.core.space.SearchSpace
    trials: list[FrozenTrial]
    metric: str
    direction: str
    load_curves: Callable[[], list[FrozenTrial]] | None = None  # trials with curves, read lazily
    by_number: dict[int, FrozenTrial] = field(default_factory=dict)
    _curves: list[FrozenTrial] | None = None

    def __post_init__(self) -> None:
        self.by_number = {t.number: t for t in self.trials}

    def curve_trials(self) -> list[FrozenTrial]:
        if self._curves is None:
            self._curves = self.load_curves() if self.load_curves is not None else list(self.trials)
        return self._curves

    @property
    def param_names(self) -> list[str]:
        if self.space is None:
            return []
        searchable = getattr(self.space, "searchable", None)
        return list(searchable()) if callable(searchable) else list(self.space)


def colours(values: Sequence[float] | np.ndarray, *, reverse: bool = False) -> list[QColor]:
    """One viridis colour per value (NaN: grey), scaled between the finite min and max."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return []
    finite = np.isfinite(v)
    t = np.full(v.shape, 0.5)
    if finite.any():
        lo, hi = float(v[finite].min()), float(v[finite].max())
        if hi > lo:
            t[finite] = (v[finite] - lo) / (hi - lo)
    if reverse:
        t = 1.0 - t
    cmap = pg.colormap.get(CMAP_NAME)
    out = cmap.map(np.clip(t, 0, 1), mode="qcolor")
    grey = QColor(cs.GREY)
    return [c if ok else grey for c, ok in zip(out, finite, strict=True)]


#: Colour levels of point brushes: points share these QBrush objects (fast for 10,000 points).
LEVELS = 32
_BRUSHES: list | None = None


def level_brushes() -> list:
    global _BRUSHES
    if _BRUSHES is None:
        cmap = pg.colormap.get(CMAP_NAME)
        _BRUSHES = [pg.mkBrush(c) for c in cmap.map(np.linspace(0, 1, LEVELS), mode="qcolor")]
    return _BRUSHES


def brushes(values: Sequence[float] | np.ndarray, *, reverse: bool = False, levels=None) -> list:
    """One shared viridis brush per value (NaN: grey), scaled to ``levels`` (lo, hi) or to the
    finite min..max."""
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return []
    finite = np.isfinite(v)
    t = np.full(v.shape, 0.5)
    if levels is not None:
        lo, hi = levels
    elif finite.any():
        lo, hi = float(v[finite].min()), float(v[finite].max())
    else:
        lo = hi = 0.0
    if hi > lo:
        t[finite] = (v[finite] - lo) / (hi - lo)
    if reverse:
        t = 1.0 - t
    idx = np.clip((t * (LEVELS - 1)).round().astype(int), 0, LEVELS - 1)
    table = level_brushes()
    grey = pg.mkBrush(cs.GREY)
    return [table[i] if ok else grey for i, ok in zip(idx.tolist(), finite.tolist(), strict=True)]


def trial_tip(ctx: StudyContext | None, number: int, extra: str = "") -> str:
    """Tooltip text of a trial: number, state, metric, params."""
    t = ctx.by_number.get(number) if ctx is not None else None
    if t is None:
        return f"Trial {number}"
    lines = [f"Trial {number} · {t.state.value}"]
    if t.error:
        lines.append(t.error if len(t.error) < 90 else t.error[:87] + "…")
    else:
        lines.append(f"{ctx.metric} = {format_cell(t.value)}")
    if extra:
        lines.append(extra)
    lines += [f"{k} = {format_cell(v)}" for k, v in t.params.items()]
    return "\n".join(lines)


def finite_or_nan(x: Any) -> float:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return math.nan
    return f if math.isfinite(f) else math.nan


# -- export ---------------------------------------------------------------------------------

EXPORT_FILTERS = "PNG image (*.png);;SVG image (*.svg)"


def ask_export_path(parent: QWidget | None, suggested: str) -> str:
    """Where to export a chart ("" when cancelled). Tests replace this function."""
    path, _filter = QFileDialog.getSaveFileName(parent, "Export chart", suggested, EXPORT_FILTERS)
    return path


def export_item(item: Any, path: str) -> str:
    """Write ``item`` (a pyqtgraph item or scene) to ``path``: SVG for ``.svg``, else PNG."""
    from pyqtgraph import exporters

    if path.lower().endswith(".svg"):
        _svg_export(item, path)
        return path
    if not path.lower().endswith(".png"):
        path += ".png"
    exporter = exporters.ImageExporter(item)
    params = exporter.parameters()
    width = int(max(params["width"], 1))
    params["width"] = width * 2 if width < 1000 else width  # sharper than the screen
    exporter.export(path)
    return path


def _svg_export(item: Any, path: str) -> None:
    """pyqtgraph's SVGExporter, tolerant of the ``Z`` (close path) commands Qt 6.11 writes.

    pyqtgraph 0.14 rewrites each path's coordinates and expects every token of a path's ``d``
    to be an ``x,y`` pair; a bare ``Z`` fails with "not enough values to unpack". pyqtgraph
    draws closed shapes with an explicit line back to the start, so dropping ``Z`` leaves the
    drawing the same. The exporter's module function is wrapped only while this export runs
    (on the GUI thread)."""
    import re
    import sys

    from pyqtgraph import exporters

    module = sys.modules[exporters.SVGExporter.__module__]
    original = module.correctCoordinates

    def tolerant(node, defs, item, options):
        for element in node.getElementsByTagName("path"):
            d = element.getAttribute("d")
            if "Z" in d or "z" in d:
                element.setAttribute("d", re.sub(r"\s*[Zz]\s*", " ", d).strip())
        return original(node, defs, item, options)

    module.correctCoordinates = tolerant
    try:
        exporters.SVGExporter(item).export(path)
    finally:
        module.correctCoordinates = original


# -- the base view ------------------------------------------------------------------------


class AnalysisView(QWidget):
    """A titled chart with a control row and an export button.

    Subclasses set :attr:`title`, :attr:`heavy`, fill ``self.controls`` (a QHBoxLayout) and
    implement :meth:`request`, :meth:`draw`, :meth:`export_target` and :meth:`set_selected`.
    """

    trial_clicked = Signal(int)
    changed = Signal()  # a control changed: the page asks for a new computation

    title = ""
    slug = "chart"
    heavy = False

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx: StudyContext | None = None
        self.selected: int | None = None
        self.draw_count = 0
        self.heading = QLabel(f"<b>{self.title}</b>")
        self.status = QLabel()
        self.controls = QHBoxLayout()
        self.controls.setSpacing(6)
        self.export_button = QToolButton()
        self.export_button.setText("Export…")
        self.export_button.setToolTip("Save this chart as a PNG or SVG image")
        self.export_button.clicked.connect(self.export_dialog)
        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addSpacing(12)
        top.addLayout(self.controls)
        top.addStretch(1)
        top.addWidget(self.status)
        top.addWidget(self.export_button)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(4, 4, 4, 4)
        self.body.setSpacing(4)
        self.body.addLayout(top)

    # -- for subclasses -----------------------------------------------------------------------
    def set_context(self, ctx: StudyContext) -> None:
        """A new snapshot of the study (before :meth:`request`); fill combos here."""
        self.ctx = ctx

    def request(self) -> Callable[[], Any] | None:
        """A function computing this view's data from ``self.ctx`` (None: nothing to draw)."""
        return None

    def draw(self, data: Any) -> None:
        """Show a result of :meth:`request`'s function."""

    def show_error(self, exc: BaseException) -> None:
        self.status.setText(f"cannot draw: {exc}")
        self.status.setToolTip(str(exc))

    def set_selected(self, number: int | None) -> None:
        self.selected = number
        self._draw_selected()

    def _draw_selected(self) -> None:
        """Mark :attr:`selected` in the chart (views with points override this)."""

    def _tip(self, x: float, y: float, data: object) -> str:
        """Hover text of a point whose data is its trial number."""
        return trial_tip(self.ctx, int(data)) if data is not None else ""

    def _on_clicked(self, points) -> None:  # noqa: ANN001 - pyqtgraph's spot list
        n = clicked_number(points)
        if n is not None:
            self.trial_clicked.emit(n)

    def export_target(self) -> Any:
        """The pyqtgraph item the export writes."""
        raise NotImplementedError

    def plots(self) -> list[pg.PlotItem]:
        return []

    # -- export -----------------------------------------------------------------------------
    def export_dialog(self) -> str:
        path = ask_export_path(self, f"{self.slug}.png")
        if not path:
            return ""
        try:
            return self.export_to(path)
        except Exception as exc:  # a full disk, a folder without write access, an exporter bug
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.warning(self, "Export failed", f"The chart could not be saved to {path}:\n{exc}")
            return ""

    def export_to(self, path: str) -> str:
        return export_item(self.export_target(), path)

    # -- palette ------------------------------------------------------------------------------
    def restyle(self) -> None:
        """Follow the palette (background and text colours)."""

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.PaletteChange:
            self.restyle()
        super().changeEvent(event)


def style_plot_item(item: pg.PlotItem, palette, font=None) -> None:
    """cs.style_plot for a PlotItem inside a GraphicsLayoutWidget."""
    from PySide6.QtGui import QPalette

    text = palette.color(QPalette.ColorRole.Text)
    axis_colour = QColor(text)
    axis_colour.setAlpha(150)
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(axis_colour))
        axis.setTextPen(pg.mkPen(text))
        if font is not None:
            axis.setTickFont(font)
        cs._no_si_prefix(axis)
    item.showGrid(x=True, y=True, alpha=0.12)
    item.hideButtons()
    item.setMenuEnabled(False)


def outline_pen(widget: QWidget):
    """A faint outline in the text colour: dark viridis points stay visible on dark charts."""
    c = QColor(text_colour(widget))
    c.setAlpha(110)
    return pg.mkPen(c, width=0.8)


def text_colour(widget: QWidget) -> QColor:
    from PySide6.QtGui import QPalette

    return widget.palette().color(QPalette.ColorRole.Text)


def scatter(tip: Callable, clicked: Callable, size: int = 8) -> pg.ScatterPlotItem:
    """A hoverable, clickable scatter: ``data`` of each point is its trial number."""
    item = pg.ScatterPlotItem(size=size, pen=None, hoverable=True, tip=tip, hoverSize=size + 4)
    item.sigClicked.connect(
        lambda _it, points, _ev=None: points is not None and len(points) and clicked(points)
    )
    return item


def clicked_number(points) -> int | None:
    if points is None or not len(points):
        return None
    data = points[0].data()
    return None if data is None else int(data)


def ring() -> pg.ScatterPlotItem:
    item = pg.ScatterPlotItem(size=17, brush=None, pen=cs.pen(cs.MAGENTA, 2.5))
    item.setZValue(20)
    return item
