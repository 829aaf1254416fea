"""The single-plot analysis views: parameter importance, metric trade-offs, all learning curves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel

from ...core.chartdata import METRIC_ORDER, available_metrics, curve_series, format_cell
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
        self.status.setText("" if n else "needs two complete trials with different values")
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
        for it in (self.front_line, self.others, self.front):
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
        self.status.setText(f"{int(on.sum())} of {len(x)} trials on the front")
        self._draw_selected()
        self.plot.getPlotItem().enableAutoRange()

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


def _curves_to_show(finished: list, direction: str, limit: int) -> list:
    """All finished trials up to ``limit``; beyond it the best ``limit // 5`` complete ones and
    the latest of the rest, in number order."""
    if len(finished) <= limit:
        return finished
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


class CurvesView(_PlotView):
    title = "All curves"
    slug = "curves"
    integer_x = True
    heavy = True  # reads every trial's curves from the study file

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
        self._items: list[pg.PlotCurveItem] = []
        self._series: list[tuple[int, TrialState, np.ndarray, np.ndarray]] = []
        self.ends = base.scatter(self._tip, self._on_clicked, size=6)
        self.ends.setZValue(6)
        self.plot.addItem(self.ends)
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
        self.status.setText("loading curves…")

        def compute() -> tuple[list[str], str, list[tuple], int]:
            trials = ctx.curve_trials()  # read on the pool's thread (its own connection)
            metrics = available_metrics(trials)
            metric = wanted if wanted in metrics else ctx.metric if ctx.metric in metrics else ""
            metric = metric or (metrics[0] if metrics else "")
            finished = [t for t in trials if t.state.is_finished]
            shown = _curves_to_show(finished, ctx.direction, MAX_CURVES)
            return (
                metrics,
                metric,
                [(t.number, t.state, t.value, *curve_series(t, metric)) for t in shown],
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
        self._draw_curves(data)
        if total > len(data):
            self.status.setText(f"{len(self._items)} of {total} curves (the best and the latest)")

    def _draw_curves(self, data: list[tuple]) -> None:
        """Curves of one colour share one item (NaN-separated), so 1,500 curves are ~20 items;
        a click on a line picks the nearest curve, the end points carry tooltips and clicks."""
        self.draw_count += 1
        for it in self._items:
            self.plot.removeItem(it)
        self._items = []
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
        level = dict(
            zip([d[0] for d in complete], np.minimum((t * N_LEVELS).astype(int), N_LEVELS - 1), strict=True)
        )
        groups: dict[object, list[tuple[np.ndarray, np.ndarray]]] = {}
        for number, state, steps, vals in self._series:
            key = ("level", int(level[number])) if state == TrialState.COMPLETE else state
            groups.setdefault(key, []).append((steps, vals))
        many = len(self._series) > 150
        cmap = pg.colormap.get(base.CMAP_NAME)
        for key, series in groups.items():
            xs = np.concatenate([np.append(np.asarray(s, float), np.nan) for s, _v in series])
            ys = np.concatenate([np.append(np.asarray(v, float), np.nan) for _s, v in series])
            if key == TrialState.PRUNED:
                pen, z = cs.pen(cs.ORANGE, 1.2, 200, Qt.PenStyle.DashLine), 2
            elif isinstance(key, tuple):
                colour = cmap.map((key[1] + 0.5) / N_LEVELS, mode="qcolor")
                pen, z = pg.mkPen(colour, width=1.0 if many else 1.6), 3 + key[1] / N_LEVELS
            else:
                pen, z = cs.pen(cs.RED, 1.2, 200, Qt.PenStyle.DotLine), 1
            it = pg.PlotCurveItem(xs, ys, pen=pen, connect="finite")
            it.setZValue(z)
            it.setClickable(True, width=5)
            it.sigClicked.connect(self._on_curve_clicked)
            self.plot.addItem(it)
            self._items.append(it)
        ex, ey, en, eb = [], [], [], []
        end_brush = {TrialState.PRUNED: pg.mkBrush(cs.ORANGE), TrialState.FAILED: pg.mkBrush(cs.RED)}
        level_brushes = base.level_brushes()
        for number, state, steps, vals in self._series:
            ok = np.flatnonzero(np.isfinite(vals))
            if not len(ok):
                continue
            ex.append(float(steps[ok[-1]]))
            ey.append(float(vals[ok[-1]]))
            en.append(number)
            if state == TrialState.COMPLETE:
                eb.append(level_brushes[int(level[number]) * (base.LEVELS - 1) // max(N_LEVELS - 1, 1)])
            else:
                eb.append(end_brush.get(state, pg.mkBrush(cs.GREY)))
        self.ends.setData(ex, ey, data=en, brush=eb)
        cs.set_axis_label(self.plot, "left", self.metric_combo.currentText() or "value", self.palette())
        self.status.setText(f"{len(self._series)} curves")
        self._draw_selected()

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

    def item_count(self) -> int:
        return len(self._items)

    def _draw_selected(self) -> None:
        for number, _state, steps, vals in self._series:
            if number == self.selected:
                self.selected_curve.setData(steps, vals, connect="finite")
                return
        self.selected_curve.setData([], [])
