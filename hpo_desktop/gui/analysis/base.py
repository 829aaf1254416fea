"""What every analysis view shares: the study context, colour maps, tooltips, export, the brush
filter (trials outside it faded), the paint cache of big charts, the base class.

A view never computes chart data itself: :meth:`AnalysisView.request` returns a zero-argument
function (plain data in, a core dataclass out) that the page runs — on the GUI thread for light
views, on a thread pool for heavy ones — and hands the result to :meth:`AnalysisView.draw`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

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
    #: ``read_curves(trial_ids, metric)``: StudyStore.get_curves_many (None: use ``t.curves``).
    read_curves: Callable[[list[int], str | None], dict[int, dict[str, list]]] | None = None
    by_number: dict[int, FrozenTrial] = field(default_factory=dict)
    _curve_cache: dict[str, dict[int, list]] = field(default_factory=dict)
    _curve_names: list[str] | None = None

    def __post_init__(self) -> None:
        self.by_number = {t.number: t for t in self.trials}

    # Curves are read lazily, on the page's pool thread (one thread: no lock needed), and only
    # for the trials a view shows; what was read is kept for this snapshot.
    def curve_metrics(self, sample: Sequence[FrozenTrial]) -> list[str]:
        """The per-epoch metrics reported by the trials of ``sample`` (read once per snapshot;
        every metric of those trials is read and cached on the way)."""
        from ...core.chartdata import available_metrics

        if self._curve_names is None:
            if self.read_curves is None:
                self._curve_names = available_metrics(self.trials)
            else:
                got = self.read_curves([t.trial_id for t in sample], None)
                for tid, curves in got.items():
                    for name, points in curves.items():
                        self._curve_cache.setdefault(name, {})[tid] = points
                self._curve_names = available_metrics([_Curves(c) for c in got.values()])
        return list(self._curve_names)

    def curves_of(self, trials: Sequence[FrozenTrial], metric: str) -> dict[int, list]:
        """trial number -> [(step, value), ...] of ``metric``; one read for the trials not read
        before."""
        if self.read_curves is None:
            return {t.number: t.curves.get(metric, []) for t in trials}
        cache = self._curve_cache.setdefault(metric, {})
        missing = [t.trial_id for t in trials if t.trial_id not in cache]
        if missing:
            got = self.read_curves(missing, metric)
            for tid in missing:
                cache[tid] = got.get(tid, {}).get(metric, [])
        return {t.number: cache[t.trial_id] for t in trials}

    @property
    def param_names(self) -> list[str]:
        if self.space is None:
            return []
        searchable = getattr(self.space, "searchable", None)
        return list(searchable()) if callable(searchable) else list(self.space)


class _Curves:
    """A stand-in trial with only curves (for chartdata.available_metrics)."""

    def __init__(self, curves: dict[str, list]) -> None:
        self.curves = curves


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


def export_with_dialog(parent: QWidget, suggested: str, export_to: Callable[[str], str]) -> str:
    """Ask where, then export; a failure (a full disk, no write access, an exporter bug) is a
    message box, never a traceback. Returns the path written, or "" when nothing was."""
    path = ask_export_path(parent, suggested)
    if not path:
        return ""
    try:
        return export_to(path)
    except Exception as exc:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.warning(parent, "Export failed", f"The chart could not be saved to {path}:\n{exc}")
        return ""


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


# -- painting big charts once ------------------------------------------------------------------


class PaintCache(QObject):
    """Paints a pyqtgraph view from a pixmap of its last full paint while nothing in its scene
    changed, so flipping back to an already drawn view of 10,000 lines costs one blit instead of
    drawing every line again.

    A change in the scene (new data, hover, pan, zoom), a resize or a palette change drops the
    pixmap; a partial repaint (a hovered point) paints as usual. Showing or hiding the view
    makes Qt repaint its layout items (their active/inactive look) without changing what they
    show: scene changes in the event-loop turn of a Show or Hide are ignored, so the owner
    calls :meth:`invalidate` itself when it changes the chart (AnalysisView does in
    ``set_selected``, after every draw, and when it applies a brush).

    After such a change the pixmap is drawn again once the chart has been still for
    :attr:`REFILL_MS` (pyqtgraph settles layouts, ranges and axes in a few steps, some of them
    while it paints, so a change right after a render schedules another), so the next time the
    view is shown it is a blit; a hover only drops the pixmap."""

    #: Quiet milliseconds after a change by the owner before the pixmap is drawn again.
    REFILL_MS = 300

    def __init__(self, view: pg.GraphicsView) -> None:
        super().__init__(view)
        self.view = view
        self.pixmap: QPixmap | None = None
        self.hits = 0  # paints served from the pixmap (tests, benchmarks)
        self.renders = 0  # full paints drawn into a new pixmap
        self._settling = False
        self.rendered_at = -1.0  # time.monotonic() at the end of the last full paint
        self._refill = QTimer(self)
        self._refill.setSingleShot(True)
        self._refill.setInterval(self.REFILL_MS)
        self._refill.timeout.connect(self._on_refill)
        view.scene().changed.connect(self._on_changed)
        view.installEventFilter(self)
        view.viewport().installEventFilter(self)

    def invalidate(self, *_args: object) -> None:
        """The owner changed the chart: paint it again (and keep a pixmap of it soon)."""
        self.pixmap = None
        self._refill.start()

    def _on_changed(self, regions: list) -> None:
        if regions and not self._settling:  # an empty list: nothing was drawn differently
            self.pixmap = None
            just_rendered = time.monotonic() - self.rendered_at < 0.25
            if self._refill.isActive() or just_rendered:  # still settling
                self._refill.start()

    def _on_refill(self) -> None:
        if self.pixmap is None and self.view.isVisible():
            self._render()

    def _render(self) -> None:
        # pyqtgraph settles ranges and transforms when a paint begins (prepareForPaint), and the
        # scene reports item updates in a queued call: do both before drawing, so that the
        # updates made before this paint (a brush applied on show, new data, the auto-range)
        # do not drop the pixmap drawn below and paint everything a second time.
        scene = self.view.scene()
        scene.prepareForPaint()
        QCoreApplication.sendPostedEvents(scene, QEvent.Type.MetaCall)
        vp = self.view.viewport()
        ratio = vp.devicePixelRatioF()
        pixmap = QPixmap(vp.size() * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(vp.palette().color(vp.backgroundRole()))
        painter = QPainter(pixmap)
        self.view.render(painter, QRectF(vp.rect()), vp.rect())  # pyqtgraph prepares the scene
        painter.end()
        self.pixmap = pixmap
        self.renders += 1
        self.rendered_at = time.monotonic()

    def _settled(self) -> None:
        self._settling = False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        kind = event.type()
        if kind in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange, QEvent.Type.Resize):
            self.pixmap = None
            return False
        if kind in (QEvent.Type.Show, QEvent.Type.Hide) and obj is self.view:
            self._settling = True
            QTimer.singleShot(0, self._settled)
            return False
        if kind != QEvent.Type.Paint or obj is not self.view.viewport():
            return False
        vp = self.view.viewport()
        ratio = vp.devicePixelRatioF()
        if self.pixmap is not None and self.pixmap.size() == vp.size() * ratio:
            self.hits += 1
        elif event.region().contains(vp.rect()):
            self._render()
        else:
            self.pixmap = None
            return False
        painter = QPainter(vp)
        painter.drawPixmap(0, 0, self.pixmap)
        painter.end()
        return True


# -- the base view ------------------------------------------------------------------------


class StatusLabel(QLabel):
    """A one-line status that takes the room its row leaves and never widens the page (a longer
    text after a brush would otherwise move the splitter and draw the chart again at another
    width): text that does not fit is painted with its start elided, keeping the end (where
    "N of M trials pass the brush" is); ``text()`` stays whole and is the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def shown_text(self) -> str:
        """The text as painted (elided to the label's width)."""
        width = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideLeft, width)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), int(self.alignment()), self.shown_text())
        painter.end()


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
    #: Still milliseconds after a draw before the faded copies of the points are prepared.
    PREFILL_MS = 700

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx: StudyContext | None = None
        self.selected: int | None = None
        self.draw_count = 0
        #: Trial numbers passing the parallel-coordinates brushes (None: no brush).
        self.brush_filter: frozenset[int] | None = None
        self.paint_count = 0  # how many times the brush was applied (tests count them)
        self._brush_dirty = False
        self.paint_caches: list[PaintCache] = []
        self._prefill = QTimer(self)
        self._prefill.setSingleShot(True)
        self._prefill.setInterval(self.PREFILL_MS)
        self._prefill.timeout.connect(self._on_prefill)
        self.heading = QLabel(f"<b>{self.title}</b>")
        self.status = StatusLabel()
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
        top.addWidget(self.status, 1)  # the room left, right-aligned
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

    def prefetch(self) -> Callable[[], Any] | None:
        """After a draw: a function reading more data in the background, ahead of a brush (the
        page runs it on its pool, behind every computation, and hands the result to
        :meth:`prefetched`, then asks again), or None when there is nothing more to read."""
        return None

    def prefetched(self, result: Any) -> None:
        """Keep a result of :meth:`prefetch`'s function (on the GUI thread)."""

    def show_error(self, exc: BaseException) -> None:
        self.status.setText(f"cannot draw: {exc}")
        self.status.setToolTip(str(exc))

    def set_selected(self, number: int | None) -> None:
        self.selected = number
        self._draw_selected()
        self.invalidate_paint()

    def invalidate_paint(self) -> None:
        """The chart changed: the next paint draws it again (see :class:`PaintCache`)."""
        for cache in self.paint_caches:
            cache.invalidate()

    def _draw_selected(self) -> None:
        """Mark :attr:`selected` in the chart (views with points override this)."""

    # -- the brush filter ---------------------------------------------------------------------
    def set_brush_filter(self, numbers: frozenset[int] | None) -> None:
        """Show the trials outside ``numbers`` faded (None: every trial as usual).

        Only a redraw of the data already computed (no model is refitted); a hidden view
        applies it when it is next shown."""
        self.brush_filter = numbers
        if self.isVisible():
            self._apply_brush()
        else:
            self._brush_dirty = True

    def _apply_brush(self) -> None:
        self._brush_dirty = False
        self.paint_count += 1
        self._paint()
        self.invalidate_paint()
        self._prefill.start()

    def _on_prefill(self) -> None:
        if self.isVisible():
            self._prepare_faded()

    def _prepare_faded(self) -> None:
        """Fill the faded items ahead of a brush (views with faded points override this)."""

    def _paint(self) -> None:
        """Redraw the computed data with :attr:`brush_filter` (views override this)."""

    def passes(self, numbers: Sequence[int] | np.ndarray) -> np.ndarray:
        """Mask of ``numbers`` that pass the brush (all True without one)."""
        nums = np.asarray(numbers, dtype=np.int64).reshape(-1)
        if self.brush_filter is None:
            return np.ones(len(nums), dtype=bool)
        return np.isin(nums, np.fromiter(self.brush_filter, np.int64, len(self.brush_filter)))

    def brush_note(self, mask: np.ndarray, what: str = "trials") -> str:
        """ "N of M trials pass the brush" (empty without a brush)."""
        if self.brush_filter is None:
            return ""
        return f"{int(np.count_nonzero(mask))} of {len(mask)} {what} pass the brush"

    def set_status(self, *parts: str) -> None:
        text = " · ".join(p for p in parts if p)
        self.status.setText(text)
        self.status.setToolTip(text)  # the whole text where the row is too narrow for it

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._brush_dirty:
            self._apply_brush()

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

    def cache_paint(self, view: pg.GraphicsView) -> PaintCache:
        """Paint ``view`` from a pixmap while its scene is unchanged (see :class:`PaintCache`)."""
        cache = PaintCache(view)
        self.paint_caches.append(cache)
        return cache

    # -- export -----------------------------------------------------------------------------
    def export_dialog(self) -> str:
        return export_with_dialog(self, f"{self.slug}.png", self.export_to)

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


#: How trials outside the brush are drawn in every view: small, light grey, behind the rest.
FADED_SIZE = 4


def faded_brush():
    return pg.mkBrush(cs.colour(cs.GREY, 110))


def faded_pen(width: float = 1.0):
    return cs.pen(cs.GREY, width, 70)


def faded_scatter(tip: Callable, clicked: Callable) -> pg.ScatterPlotItem:
    """The scatter of the trials outside the brush (still hoverable and clickable)."""
    item = scatter(tip, clicked, size=FADED_SIZE)
    item.setZValue(-1)
    return item


def show_only(item: pg.ScatterPlotItem, visible: np.ndarray) -> None:
    """Show only the points of ``item`` where ``visible`` is True: painting, hovering and
    clicking skip the others, and no point is restyled (a brush on 10,000 points costs a mask,
    where ``setData`` with a brush per point costs ~20 ms a plot)."""
    item.data["visible"] = np.asarray(visible, dtype=bool)
    item.update()


def fill_faded(item: pg.ScatterPlotItem, x, y, numbers) -> None:
    """Put every point into ``item`` (hidden, faded) unless it holds them already: done when a
    drawn view has been still for a moment (``AnalysisView.PREFILL_MS``) or by the first brush,
    so neither the first draw nor a brush pays for 10,000 restyled points."""
    if len(item.data) != len(numbers):
        item.setData(x, y, data=numbers, brush=faded_brush(), pen=None)
        show_only(item, np.zeros(len(numbers), dtype=bool))


def show_faded(item: pg.ScatterPlotItem, mask: np.ndarray, x, y, numbers) -> None:
    """Show faded copies of the points where ``mask`` is True (see :func:`fill_faded`; a draw
    empties ``item``)."""
    mask = np.asarray(mask, dtype=bool)
    if len(item.data) != len(mask):
        if not mask.any():
            if len(item.data):
                item.setData([], [])
            return
        fill_faded(item, x, y, numbers)
    show_only(item, mask)


def shown_numbers(item: pg.ScatterPlotItem) -> list[int]:
    """Trial numbers of the points ``item`` shows (see :func:`show_only`)."""
    data = item.data
    if not len(data):
        return []
    return [int(n) for n in data["data"][data["visible"]]]


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
