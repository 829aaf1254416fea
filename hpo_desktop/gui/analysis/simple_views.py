"""The single-plot analysis views: parameter importance, metric trade-offs, all learning curves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel

from ...core.chartdata import METRIC_ORDER, format_cell, points_series
from ...core.trial import TrialState
from ..live import chart_style as cs
from . import base

#: Metrics where more is better (everything else is treated as "less is better").
_MAXIMIZED = ("accuracy", "r2", "auc", "f1", "precision", "recall", "score")


def guess_direction(metric: str, ctx: base.StudyContext | None) -> str:
    if ctx is not None and metric in (ctx.metric, "value"):
        return ctx.direction
    return "maximize" if any(w in metric.lower() for w in _MAXIMIZED) else "minimize"


class _PlotView(base.AnalysisView):
    """A view with one PlotWidget (``self.plot``)."""

    integer_x = False

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot = cs.make_plot(self, integer_x=self.integer_x)
        self.plot.setMinimumSize(300, 200)
        self.body.addWidget(self.plot, 1)
        self.cache_paint(self.plot)
        self.ring = base.ring()
        self.plot.addItem(self.ring)

    def export_target(self) -> Any:
        return self.plot.getPlotItem()

    def plots(self) -> list[pg.PlotItem]:
        return [self.plot.getPlotItem()]

    def restyle(self) -> None:
        cs.style_plot(self.plot, self.palette())


# -- importance -------------------------------------------------------------------------------


class ImportanceView(_PlotView):
    title = "Importance"
    slug = "importance"
    heavy = True

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.note = QLabel("share of the metric's variance each parameter explains alone (fANOVA)")
        self.controls.addWidget(self.note)
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.6, brush=cs.BLUE, pen=None)
        self.plot.addItem(self.bars)
        self._labels: list[pg.TextItem] = []
        self.ranking: list[tuple[str, float]] = []
        self.plot.getPlotItem().setMouseEnabled(False, False)

    def request(self) -> Callable[[], Any] | None:
        ctx = self.ctx
        if ctx is None:
            return None
        from ...core.analysis import importance

        space, trials, direction = ctx.space, list(ctx.trials), ctx.direction
        self.status.setText("computing…")
        return lambda: importance(space, trials, direction)

    def draw(self, data: list[tuple[str, float]]) -> None:
        self.ranking = list(data)
        self.draw_count += 1
        n = len(self.ranking)
        self._apply_brush()
        ys = np.arange(n, dtype=float)[::-1]
        shares = np.asarray([s for _n, s in self.ranking], dtype=float)
        self.bars.setOpts(x0=np.zeros(n), y=ys, width=shares, height=0.62)
        item = self.plot.getPlotItem()
        item.getAxis("left").setTicks(
            [[(float(y), name) for y, (name, _s) in zip(ys, self.ranking, strict=True)]]
        )
        cs.set_axis_label(self.plot, "bottom", "importance (share of variance)", self.palette())
        for lab in self._labels:
            self.plot.removeItem(lab)
        self._labels = []
        for y, (_name, s) in zip(ys, self.ranking, strict=True):
            lab = pg.TextItem(f"{s:.0%}", color=base.text_colour(self), anchor=(0, 0.5))
            lab.setPos(float(s), float(y))
            self.plot.addItem(lab)
            self._labels.append(lab)
        top = float(shares.max()) if n else 1.0
        self.plot.setXRange(0, max(top * 1.15, 0.05), padding=0)
        self.plot.setYRange(-0.6, max(n - 0.4, 0.6), padding=0)

    def _paint(self) -> None:
        empty = "" if self.ranking else "needs two complete trials with different values"
        self.set_status(
            empty, "from all trials (the brush does not apply)" if self.brush_filter is not None else ""
        )


# -- trade-offs -------------------------------------------------------------------------------


def front_steps(x: np.ndarray, y: np.ndarray, x_direction: str) -> tuple[np.ndarray, np.ndarray]:
    """The Pareto front as a staircase: from the best-x point, across to the next point's x,
    then up or down to it (the edge of the region the front dominates)."""
    order = np.argsort(-x if x_direction == "maximize" else x, kind="stable")
    xs, ys = x[order], y[order]
    if len(xs) < 2:
        return xs, ys
    sx = np.empty(2 * len(xs) - 1)
    sy = np.empty(2 * len(xs) - 1)
    sx[0], sy[0] = xs[0], ys[0]
    sx[1::2], sy[1::2] = xs[1:], ys[:-1]
    sx[2::2], sy[2::2] = xs[1:], ys[1:]
    return sx, sy


class TradeoffView(_PlotView):
    title = "Trade-offs"
    slug = "tradeoffs"

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.x_combo = QComboBox()
        self.y_combo = QComboBox()
        for w in (QLabel("x"), self.x_combo, QLabel("y"), self.y_combo):
            self.controls.addWidget(w)
        self.legend = QLabel(
            cs.legend(cs.swatch("trial", cs.BLUE, "●"), cs.swatch("Pareto front", cs.GREEN, "◆"))
        )
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.controls.addWidget(self.legend)
        self._filling = False
        for c in (self.x_combo, self.y_combo):
            c.currentIndexChanged.connect(self._on_combo)
        self.front_line = pg.PlotCurveItem(pen=cs.pen(cs.GREEN, 2.0))
        self.front_line.setZValue(3)
        self.others = base.scatter(self._tip, self._on_clicked, size=8)
        self.others.setZValue(4)
        self.front = base.scatter(self._tip, self._on_clicked, size=12)
        self.front.setZValue(5)
        self.faded = base.faded_scatter(self._tip, self._on_clicked)
        self.faded.setZValue(2)
        for it in (self.front_line, self.faded, self.others, self.front):
            self.plot.addItem(it)
        self._data: Any = None

    def set_context(self, ctx: base.StudyContext) -> None:
        super().set_context(ctx)
        names: set[str] = set()
        for t in ctx.trials:
            names.update(t.metrics)
        rank = {n: i for i, n in enumerate(METRIC_ORDER)}
        metrics = sorted(names, key=lambda n: (rank.get(n, len(rank)), n))
        if ctx.metric not in metrics:
            metrics.insert(0, "value")
        if "seconds" not in metrics and "train_seconds" not in metrics:
            metrics.append("seconds")
        if metrics == [self.x_combo.itemText(i) for i in range(self.x_combo.count())]:
            return
        old = (self.x_combo.currentText(), self.y_combo.currentText())
        first = ctx.metric if ctx.metric in metrics else metrics[0]
        second = next(
            (m for m in ("train_seconds", "n_params", "seconds") if m in metrics and m != first),
            next((m for m in metrics if m != first), first),
        )
        self._filling = True
        for combo in (self.x_combo, self.y_combo):
            combo.clear()
            combo.addItems(metrics)
        self.x_combo.setCurrentText(old[0] if old[0] in metrics else second)
        self.y_combo.setCurrentText(old[1] if old[1] in metrics else first)
        self._filling = False

    def set_metrics(self, x: str, y: str) -> None:
        self._filling = True
        self.x_combo.setCurrentText(x)
        self.y_combo.setCurrentText(y)
        self._filling = False
        self.changed.emit()

    def _on_combo(self, _i: int) -> None:
        if not self._filling:
            self.changed.emit()

    def directions(self) -> tuple[str, str]:
        return (
            guess_direction(self.x_combo.currentText(), self.ctx),
            guess_direction(self.y_combo.currentText(), self.ctx),
        )

    def request(self) -> Callable[[], Any] | None:
        ctx = self.ctx
        x, y = self.x_combo.currentText(), self.y_combo.currentText()
        if ctx is None or not x or not y:
            return None
        from ...core.analysis import tradeoff_data

        trials, dirs = list(ctx.trials), self.directions()
        return lambda: tradeoff_data(trials, x, y, dirs)

    def draw(self, data: Any) -> None:
        self._data = data
        self.draw_count += 1
        x, y = np.asarray(data.x, dtype=float), np.asarray(data.y, dtype=float)
        nums, on = np.asarray(data.numbers), np.asarray(data.on_front, dtype=bool)
        self.others.setData(x[~on], y[~on], data=nums[~on], brush=pg.mkBrush(cs.colour(cs.BLUE, 170)))
        self.front.setData(x[on], y[on], data=nums[on], brush=pg.mkBrush(cs.GREEN), symbol="d")
        self.faded.setData([], [])  # filled by the first brush
        dx, dy = self.directions()
        self.front_line.setData(*front_steps(x[on], y[on], dx))
        arrow = {"maximize": "↑ better", "minimize": "↓ better"}
        cs.set_axis_label(
            self.plot,
            "bottom",
            f"{data.x_metric}  ({arrow[dx].replace('↑', '→').replace('↓', '←')})",
            self.palette(),
        )
        cs.set_axis_label(self.plot, "left", f"{data.y_metric}  ({arrow[dy]})", self.palette())
        self._apply_brush()
        self.plot.getPlotItem().enableAutoRange()

    def _paint(self) -> None:
        """Passing trials as usual, the others faded; the front stays the front of all trials."""
        data = self._data
        if data is None:
            return
        x, y = np.asarray(data.x, dtype=float), np.asarray(data.y, dtype=float)
        nums, on = np.asarray(data.numbers), np.asarray(data.on_front, dtype=bool)
        keep = self.passes(nums)
        base.show_only(self.others, keep[~on])
        base.show_only(self.front, keep[on])
        base.show_faded(self.faded, ~keep, x, y, nums)
        if self.brush_filter is None:
            self.set_status(f"{int(on.sum())} of {len(x)} trials on the front")
        else:  # the front stays the front of all trials
            self.set_status(f"front of all trials: {int(on.sum())}", self.brush_note(keep))
        self._draw_selected()

    def _prepare_faded(self) -> None:
        d = self._data
        if d is not None:
            base.fill_faded(self.faded, np.asarray(d.x, float), np.asarray(d.y, float), np.asarray(d.numbers))

    def _draw_selected(self) -> None:
        d = self._data
        if d is None or self.selected is None:
            self.ring.setData([], [])
            return
        hit = np.flatnonzero(np.asarray(d.numbers) == self.selected)
        self.ring.setData(np.asarray(d.x)[hit], np.asarray(d.y)[hit])

    def _tip(self, x: float, y: float, data: object) -> str:
        if data is None:
            return ""
        extra = f"{self.x_combo.currentText()} = {format_cell(x)}, {self.y_combo.currentText()} = {format_cell(y)}"
        return base.trial_tip(self.ctx, int(data), extra)


# -- all learning curves ------------------------------------------------------------------------


#: Colour levels of the complete trials' curves (one item per level).
N_LEVELS = 16
#: Most curves the "All curves" view draws (the best fifth of them and the latest).
MAX_CURVES = 1500
#: Trials whose curves are read to list the metrics (spread over the shown ones).
NAME_SAMPLE = 64


def _pick(finished: list, direction: str, limit: int) -> list:
    """All of ``finished`` up to ``limit``; beyond it the best ``limit // 5`` complete ones and
    the latest of the rest."""
    if len(finished) <= limit:
        return list(finished)
    import math

    sign = -1.0 if direction == "maximize" else 1.0
    complete = [
        t
        for t in finished
        if t.state == TrialState.COMPLETE and t.value is not None and math.isfinite(t.value)
    ]
    best = sorted(complete, key=lambda t: sign * t.value)[: limit // 5]
    keep = {t.number for t in best}
    for t in reversed(finished):
        if len(keep) >= limit:
            break
        keep.add(t.number)
    return [t for t in finished if t.number in keep]


def _curves_to_show(
    finished: list, direction: str, limit: int, passing: frozenset[int] | None = None
) -> list:
    """The finished trials whose curves are drawn, in number order (chosen from the trial rows
    alone): :func:`_pick` of them; with a brush, the passing trials first, then the others up to
    ``limit``."""
    if passing is None:
        return _pick(finished, direction, limit)
    inside = _pick([t for t in finished if t.number in passing], direction, limit)
    outside = _pick([t for t in finished if t.number not in passing], direction, limit - len(inside))
    return sorted(inside + outside, key=lambda t: t.number)


def _joined(series: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Many curves as one NaN-separated polyline (for one PlotCurveItem with connect='finite')."""
    if not series:
        return np.zeros(0), np.zeros(0)
    n = sum(len(s) + 1 for s, _v in series)
    xs, ys = np.full(n, np.nan), np.full(n, np.nan)
    i = 0
    for s, v in series:
        xs[i : i + len(s)] = s
        ys[i : i + len(s)] = v
        i += len(s) + 1
    return xs, ys


class CurvesView(_PlotView):
    title = "All curves"
    slug = "curves"
    integer_x = True
    heavy = True  # reads the shown trials' curves from the study file

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.metric_combo = QComboBox()
        self.metric_combo.currentIndexChanged.connect(self._on_combo)
        self.controls.addWidget(self.metric_combo)
        self.legend = QLabel(
            cs.legend(
                cs.swatch("complete (colour: final value, yellow = best)", "#35b779"),
                cs.swatch("pruned", cs.ORANGE, "┅"),
                cs.swatch("failed", cs.RED, "┈"),
            )
        )
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.controls.addWidget(self.legend)
        cs.set_axis_label(self.plot, "bottom", "epoch", self.palette())
        self._filling = False
        self._items: dict[object, pg.PlotCurveItem] = {}  # colour group -> its item (reused)
        self._series: list[tuple[int, TrialState, np.ndarray, np.ndarray]] = []
        self._data: list[tuple] = []
        self._level: dict[int, int] = {}
        self._total = 0
        self._end_rows = np.zeros(0, dtype=int)  # series with an end point, in ends' order
        self._end_xyn: tuple[list, list, list] = ([], [], [])
        self.ends = base.scatter(self._tip, self._on_clicked, size=6)
        self.ends.setZValue(6)
        self.faded_ends = base.faded_scatter(self._tip, self._on_clicked)
        for it in (self.faded_ends, self.ends):
            self.plot.addItem(it)
        self.selected_curve = pg.PlotCurveItem(pen=cs.pen(cs.MAGENTA, 3.0))
        self.selected_curve.setZValue(7)
        self.plot.addItem(self.selected_curve)

    def _on_combo(self, _i: int) -> None:
        if not self._filling:
            self.changed.emit()

    def request(self) -> Callable[[], Any] | None:
        ctx = self.ctx
        if ctx is None:
            return None
        wanted = self.metric_combo.currentText()
        passing = self.brush_filter
        self.status.setText("loading curves…")

        def compute() -> tuple[list[str], str, list[tuple], int]:
            # on the pool's thread: choose from the trial rows, then read only those curves
            finished = [t for t in ctx.trials if t.state.is_finished]
            shown = _curves_to_show(finished, ctx.direction, MAX_CURVES, passing)
            step = max(1, len(shown) // NAME_SAMPLE)
            metrics = ctx.curve_metrics(shown[::-1][::step][:NAME_SAMPLE])
            metric = wanted if wanted in metrics else ctx.metric if ctx.metric in metrics else ""
            metric = metric or (metrics[0] if metrics else "")
            curves = ctx.curves_of(shown, metric) if metric else {}
            return (
                metrics,
                metric,
                [(t.number, t.state, t.value, *points_series(curves.get(t.number, []))) for t in shown],
                len(finished),
            )

        return compute

    def draw(self, result: tuple[list[str], str, list[tuple], int]) -> None:
        metrics, metric, data, total = result
        if metrics != [self.metric_combo.itemText(i) for i in range(self.metric_combo.count())]:
            self._filling = True
            self.metric_combo.clear()
            self.metric_combo.addItems(metrics)
            self._filling = False
        if self.metric_combo.currentText() != metric:
            self._filling = True
            self.metric_combo.setCurrentText(metric)
            self._filling = False
        self.draw_count += 1
        self._data, self._total = data, total
        ctx = self.ctx
        reverse = ctx is not None and ctx.direction == "minimize"
        self._series = [(d[0], d[1], d[3], d[4]) for d in data if len(d[3])]
        complete = [d for d in data if d[1] == TrialState.COMPLETE]
        values = np.asarray([base.finite_or_nan(d[2]) for d in complete], dtype=float)
        finite = np.isfinite(values)
        t = np.full(len(values), 0.5)
        if finite.any() and np.ptp(values[finite]) > 0:
            t[finite] = (values[finite] - values[finite].min()) / np.ptp(values[finite])
        if reverse:
            t = 1.0 - t
        self._level = dict(
            zip(
                [d[0] for d in complete],
                np.minimum((t * N_LEVELS).astype(int), N_LEVELS - 1).tolist(),
                strict=True,
            )
        )
        self._draw_ends()
        cs.set_axis_label(self.plot, "left", self.metric_combo.currentText() or "value", self.palette())
        self._apply_brush()

    def _draw_ends(self) -> None:
        """Every curve's last finite point, in both end items (a brush only switches which one
        shows it)."""
        ex, ey, en, eb, rows = [], [], [], [], []
        end_brush = {TrialState.PRUNED: pg.mkBrush(cs.ORANGE), TrialState.FAILED: pg.mkBrush(cs.RED)}
        level_brushes = base.level_brushes()
        for i, (number, state, steps, vals) in enumerate(self._series):
            fin = np.flatnonzero(np.isfinite(vals))
            if not len(fin):
                continue
            rows.append(i)
            ex.append(float(steps[fin[-1]]))
            ey.append(float(vals[fin[-1]]))
            en.append(number)
            if state == TrialState.COMPLETE:
                eb.append(level_brushes[self._level[number] * (base.LEVELS - 1) // max(N_LEVELS - 1, 1)])
            else:
                eb.append(end_brush.get(state, pg.mkBrush(cs.GREY)))
        self._end_rows = np.asarray(rows, dtype=int)
        self.ends.setData(ex, ey, data=en, brush=eb)
        self.faded_ends.setData([], [])  # filled by the first brush
        self._end_xyn = (ex, ey, en)

    def set_brush_filter(self, numbers: frozenset[int] | None) -> None:
        if self._total > len(self._data) and self.ctx is not None:
            # only some curves are drawn: choose them again, the passing trials first
            self.brush_filter = numbers
            self.changed.emit()
            return
        super().set_brush_filter(numbers)

    def _paint(self) -> None:
        """Curves of one colour share one item (NaN-separated), so 1,500 curves are ~20 items;
        curves outside the brush share one faded item. Items are reused (``setData``). A click
        on a line picks the nearest curve, the end points carry tooltips and clicks."""
        keep = self.passes([s[0] for s in self._series])
        groups: dict[object, list[tuple[np.ndarray, np.ndarray]]] = {}
        for (number, state, steps, vals), ok in zip(self._series, keep.tolist(), strict=True):
            if not ok:
                key: object = "faded"
            elif state == TrialState.COMPLETE:
                key = ("level", self._level[number])
            else:
                key = state
            groups.setdefault(key, []).append((steps, vals))
        many = len(self._series) > 150  # 1-px lines: wider translucent ones paint ~30x slower
        cmap = pg.colormap.get(base.CMAP_NAME)
        for key, it in self._items.items():
            if key not in groups:
                it.setData([], [])
                it.setVisible(False)
        for key, series in groups.items():
            if key == "faded":
                pen, z = base.faded_pen(1.0), 0
            elif key == TrialState.PRUNED:
                pen, z = cs.pen(cs.ORANGE, 1.0 if many else 1.2, 200, Qt.PenStyle.DashLine), 2
            elif isinstance(key, tuple):
                colour = cmap.map((key[1] + 0.5) / N_LEVELS, mode="qcolor")
                pen, z = pg.mkPen(colour, width=1.0 if many else 1.6), 3 + key[1] / N_LEVELS
            else:
                pen, z = cs.pen(cs.RED, 1.0 if many else 1.2, 200, Qt.PenStyle.DotLine), 1
            it = self._items.get(key)
            if it is None:
                it = self._items[key] = pg.PlotCurveItem(connect="finite")
                it.setZValue(z)
                it.setClickable(True, width=5)
                it.sigClicked.connect(self._on_curve_clicked)
                self.plot.addItem(it)
            it.setPen(pen)
            it.setData(*_joined(series), connect="finite")
            it.setVisible(True)
        base.show_only(self.ends, keep[self._end_rows])
        base.show_faded(self.faded_ends, ~keep[self._end_rows], *self._end_xyn)
        shown = f"{len(self._series)} curves"
        if self._total > len(self._data):
            shown = f"{len(self._series)} of {self._total} curves (the best and the latest)"
            if self.brush_filter is not None:
                shown = f"{len(self._series)} of {self._total} curves (passing the brush first)"
        self.set_status(shown, self.brush_note(keep))
        self._draw_selected()

    def _prepare_faded(self) -> None:
        base.fill_faded(self.faded_ends, *self._end_xyn)

    def nearest_curve(self, x: float, y: float) -> int | None:
        """The trial whose curve passes closest (vertically) to (x, y) in view coordinates."""
        best, best_d = None, np.inf
        for number, _state, steps, vals in self._series:
            ok = np.isfinite(vals)
            if ok.sum() == 0 or not (steps[ok][0] - 0.5 <= x <= steps[ok][-1] + 0.5):
                continue
            d = abs(float(np.interp(x, steps[ok], vals[ok])) - y)
            if d < best_d:
                best, best_d = number, d
        return best

    def _on_curve_clicked(self, _item, ev=None) -> None:
        if ev is None:
            return
        pos = self.plot.getPlotItem().vb.mapSceneToView(ev.scenePos())
        number = self.nearest_curve(pos.x(), pos.y())
        if number is not None:
            self.trial_clicked.emit(number)

    def curve_count(self) -> int:
        return len(self._series)

    def passing_curve_count(self) -> int:
        return int(self.passes([s[0] for s in self._series]).sum())

    def shown_numbers(self) -> list[int]:
        return [s[0] for s in self._series]

    def item_count(self) -> int:
        """Curve items drawn (one per colour group)."""
        return sum(1 for it in self._items.values() if it.isVisible())

    def _draw_selected(self) -> None:
        for number, _state, steps, vals in self._series:
            if number == self.selected:
                self.selected_curve.setData(steps, vals, connect="finite")
                return
        self.selected_curve.setData([], [])
