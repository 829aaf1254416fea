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
#: Trials whose curves (of the shown metric) one background read takes, after the first draw.
PREFETCH_CHUNK = 500
#: Most finished trials whose curves are read ahead and kept in memory (beyond: read per brush).
PREFETCH_MAX = 20_000

# Colour-group codes of a curve besides its level (0 .. N_LEVELS - 1 for complete trials).
_PRUNED, _FAILED, _OTHER, _FADED = N_LEVELS, N_LEVELS + 1, N_LEVELS + 2, N_LEVELS + 3


class _Finished:
    """The finished trials of one snapshot as arrays: what choosing the curves to draw and
    colouring them needs (built once per snapshot, from the trial rows alone)."""

    def __init__(self, trials: list, direction: str) -> None:
        self.trials = [t for t in trials if t.state.is_finished]
        n = len(self.trials)
        self.ids = np.fromiter((t.trial_id for t in self.trials), np.int64, n)
        self.numbers = np.fromiter((t.number for t in self.trials), np.int64, n)
        self.index = {int(num): i for i, num in enumerate(self.numbers.tolist())}
        complete = np.fromiter((t.state == TrialState.COMPLETE for t in self.trials), bool, n)
        values = np.fromiter((base.finite_or_nan(t.value) for t in self.trials), float, n)
        good = complete & np.isfinite(values)
        sign = -1.0 if direction == "maximize" else 1.0
        best_first = np.argsort(sign * values[good], kind="stable")
        self.order = np.flatnonzero(good)[best_first]  # complete trials, best first
        # colour level of each complete trial: its final value between the finite min and max
        # of every finished trial (the same colour whichever curves a brush draws)
        t = np.full(n, 0.5)
        if good.any() and np.ptp(values[good]) > 0:
            t[good] = (values[good] - values[good].min()) / np.ptp(values[good])
        if direction == "minimize":
            t = 1.0 - t
        level = np.minimum((t * N_LEVELS).astype(int), N_LEVELS - 1)
        states = [t.state for t in self.trials]
        other = np.fromiter(
            (
                _PRUNED if s == TrialState.PRUNED else _FAILED if s == TrialState.FAILED else _OTHER
                for s in states
            ),
            np.int64,
            n,
        )
        self.code = np.where(complete, level, other)

    def pick(self, mask: np.ndarray, limit: int) -> np.ndarray:
        """Indices of the trials in ``mask``: all up to ``limit``; beyond it the best
        ``limit // 5`` complete ones and the latest of the rest."""
        idx = np.flatnonzero(mask)
        if len(idx) <= limit:
            return idx
        best = self.order[mask[self.order]][: max(limit, 0) // 5]
        keep = np.zeros(len(mask), dtype=bool)
        keep[best] = True
        rest = idx[~keep[idx]]
        more = max(limit, 0) - len(best)
        if more > 0:
            keep[rest[-more:]] = True
        return np.flatnonzero(keep)

    def choose(self, limit: int, passing: frozenset[int] | None = None) -> np.ndarray:
        """Indices of the trials whose curves are drawn, in number order: :meth:`pick` of
        them; with a brush, the passing trials first, then the others up to ``limit``."""
        if passing is None:
            idx = self.pick(np.ones(len(self.trials), dtype=bool), limit)
        else:
            inside = np.isin(self.numbers, np.fromiter(passing, np.int64, len(passing)))
            first = self.pick(inside, limit)
            idx = np.concatenate([first, self.pick(~inside, limit - len(first))])
        return idx[np.argsort(self.numbers[idx], kind="stable")]


def _curves_to_show(
    finished: list, direction: str, limit: int, passing: frozenset[int] | None = None
) -> list:
    """The finished trials whose curves are drawn, in number order (chosen from the trial rows
    alone): :meth:`_Finished.pick` of them; with a brush, the passing trials first, then the others up to
    ``limit``."""
    f = _Finished(finished, direction)
    return [f.trials[i] for i in f.choose(limit, passing)]


def _joined(series: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Many curves as one NaN-separated polyline (for one PlotCurveItem with connect='finite')."""
    if not series:
        return np.zeros(0), np.zeros(0)
    nan = np.full(1, np.nan)
    xs = np.concatenate([a for s, _v in series for a in (s, nan)])
    ys = np.concatenate([a for _s, v in series for a in (v, nan)])
    return xs, ys


class _Bank:
    """Curves as flat NaN-separated arrays (one row per trial), so the curves of any set of
    rows are gathered with numpy, without a loop over the curves."""

    def __init__(
        self, series: list[tuple[int, TrialState, np.ndarray, np.ndarray]], code: np.ndarray
    ) -> None:
        self.series = series
        self.numbers = np.fromiter((s[0] for s in series), np.int64, len(series))
        self.code = np.asarray(code, dtype=np.int64)
        self.length = np.fromiter((len(s[2]) for s in series), np.int64, len(series))
        self.xs, self.ys = _joined([(s[2], s[3]) for s in series])
        self.start = np.cumsum(self.length + 1) - (self.length + 1)  # each row's first point
        # each curve's last finite point (its end marker), for the rows that have one
        self.end_rows = np.zeros(0, dtype=np.int64)
        self.end_x, self.end_y = np.zeros(0), np.zeros(0)
        if len(self.ys):
            last = np.maximum.accumulate(np.where(np.isfinite(self.ys), np.arange(len(self.ys)), -1))
            at = last[np.maximum(self.start + self.length - 1, 0)]
            ok = (self.length > 0) & (at >= self.start)
            self.end_rows = np.flatnonzero(ok)
            self.end_x, self.end_y = self.xs[at[ok]], self.ys[at[ok]]

    def gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The curves of ``rows`` as one NaN-separated polyline."""
        spans = self.length[rows] + 1
        if not len(rows):
            return np.zeros(0), np.zeros(0)
        offsets = np.repeat(self.start[rows] - (np.cumsum(spans) - spans), spans)
        idx = offsets + np.arange(int(spans.sum()))
        return self.xs[idx], self.ys[idx]


class CurvesView(_PlotView):
    title = "All curves"
    slug = "curves"
    integer_x = True
    heavy = True  # reads the shown trials' curves from the study file

    # With more finished trials than MAX_CURVES a brush changes which curves are drawn. After
    # the first draw the page reads the other trials' curves of the shown metric in the
    # background (prefetch, PREFETCH_CHUNK trials a job) into numpy arrays kept here, by trial
    # id (a finished trial's curve never changes, so they outlive a snapshot). Once every
    # finished trial's curve is in memory the view holds them all in one _Bank, and a brush
    # chooses and draws on the GUI thread without a read; until then it chooses again on the
    # pool.

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
        self._items: dict[int, pg.PlotCurveItem] = {}  # colour group -> its item (reused)
        self._series: list[tuple[int, TrialState, np.ndarray, np.ndarray]] = []
        self._total = 0  # finished trials
        self._bank: _Bank | None = None
        self._rows = np.zeros(0, dtype=np.int64)  # the bank's rows drawn
        self._in_bank_all = False  # the bank holds every finished trial (not only those drawn)
        self._end_rows = np.zeros(0, dtype=np.int64)  # the bank's row of each end point shown
        self._chosen_for: frozenset[int] | None = None  # the brush the drawn curves were chosen for
        self._finished: _Finished | None = None
        self._finished_ctx: base.StudyContext | None = None
        self._bank_of: _Finished | None = None  # the trials of a bank of every finished trial
        self._memory: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # trial id -> steps, values
        self._memory_key: tuple[object, str] | None = None  # (the store, the metric) of _memory
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

        def compute() -> tuple[list[str], str, list[tuple], int, frozenset[int] | None]:
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
                passing,
            )

        return compute

    def draw(self, result: tuple) -> None:
        metrics, metric, data, total, *chosen_for = result
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
        self._chosen_for = chosen_for[0] if chosen_for else self.brush_filter
        self._remember(metric, data)
        fin = self._finished_trials()
        series = [(d[0], d[1], d[3], d[4]) for d in data]
        code = [fin.code[fin.index[d[0]]] if d[0] in fin.index else _OTHER for d in data]
        self._set_bank(_Bank(series, np.asarray(code, dtype=np.int64)), np.arange(len(series)), total, False)
        cs.set_axis_label(self.plot, "left", self.metric_combo.currentText() or "value", self.palette())
        self._apply_brush()

    def _finished_trials(self) -> _Finished:
        """The snapshot's finished trials as arrays (built once per snapshot)."""
        if self._finished is None or self._finished_ctx is not self.ctx:
            ctx = self.ctx
            self._finished = _Finished(list(ctx.trials) if ctx else [], ctx.direction if ctx else "maximize")
            self._finished_ctx = ctx
        return self._finished

    def _set_bank(self, bank: _Bank, rows: np.ndarray, total: int, all_finished: bool) -> None:
        """Draw ``rows`` of ``bank``."""
        self._bank, self._rows, self._total, self._in_bank_all = bank, rows, total, all_finished
        self._bank_of = self._finished_trials() if all_finished else None
        self._set_ends()

    def _bank_is_all(self) -> bool:
        """The bank holds every finished trial of the current snapshot (a brush reads nothing)."""
        return self._in_bank_all and self._bank_of is self._finished_trials()

    def _set_ends(self) -> None:
        """The end points of the drawn curves, in both end items (a brush only switches which
        one shows each; pyqtgraph styles each point in Python, so only the ≤ MAX_CURVES drawn
        ones, ~10 ms, never all 10,000)."""
        bank = self._bank
        assert bank is not None
        at = np.flatnonzero(np.isin(bank.end_rows, self._rows))
        self._end_rows = bank.end_rows[at]
        x, y, numbers = bank.end_x[at], bank.end_y[at], bank.numbers[self._end_rows]
        level_brushes = base.level_brushes()
        table = [level_brushes[k * (base.LEVELS - 1) // max(N_LEVELS - 1, 1)] for k in range(N_LEVELS)]
        table += [pg.mkBrush(cs.ORANGE), pg.mkBrush(cs.RED), pg.mkBrush(cs.GREY)]
        brushes = [table[c] for c in bank.code[self._end_rows].tolist()]
        self.ends.setData(x, y, data=numbers, brush=brushes)
        self.faded_ends.setData(x, y, data=numbers, brush=base.faded_brush(), pen=None)
        base.show_only(self.ends, np.zeros(len(at), dtype=bool))
        base.show_only(self.faded_ends, np.zeros(len(at), dtype=bool))

    # -- the curves in memory -------------------------------------------------------------
    @staticmethod
    def _source(ctx: base.StudyContext | None) -> object:
        read = ctx.read_curves if ctx is not None else None
        return getattr(read, "__self__", read)  # the store (trial ids are unique in its file)

    def _remember(self, metric: str, data: list[tuple]) -> None:
        """Keep the drawn curves of ``metric`` in memory (another metric or file: start over)."""
        ctx = self.ctx
        key = (self._source(ctx), metric)
        if key != self._memory_key:
            self._memory, self._memory_key = {}, key
        if ctx is None or ctx.read_curves is None:
            return
        if self._memory:  # another study of the same file shares nothing with this one
            finished = set(self._finished_trials().ids.tolist())
            self._memory = {tid: c for tid, c in self._memory.items() if tid in finished}
        for number, _state, _value, steps, vals in data:
            t = ctx.by_number.get(number)
            if t is not None:
                self._memory[t.trial_id] = (steps, vals)

    def _missing(self) -> list[int]:
        """Ids of the finished trials whose curves are not in memory."""
        if self.ctx is None:
            return []
        memory = self._memory
        return [tid for tid in self._finished_trials().ids.tolist() if tid not in memory]

    def curves_in_memory(self) -> bool:
        """Every finished trial's curve of the shown metric is in memory (a brush reads none)."""
        ctx = self.ctx
        if ctx is None or ctx.read_curves is None:
            return False
        if self._memory_key != (self._source(ctx), self.metric_combo.currentText()):
            return False
        return len(self._memory) >= self._total and not self._missing()

    def prefetch(self) -> Callable[[], Any] | None:
        ctx, metric = self.ctx, self.metric_combo.currentText()
        if ctx is None or ctx.read_curves is None or not metric or self._total <= len(self._rows):
            return None  # every finished trial's curve is drawn already
        key = (self._source(ctx), metric)
        if key != self._memory_key or self._total > PREFETCH_MAX:
            return None
        ids = self._missing()[:PREFETCH_CHUNK]
        if ids:
            read = ctx.read_curves

            def read_chunk() -> tuple[str, tuple, object, Any]:
                got = read(ids, metric)  # on the pool's thread
                return (
                    "curves",
                    key,
                    ctx,
                    {tid: points_series(got.get(tid, {}).get(metric, [])) for tid in ids},
                )

            return read_chunk
        if self._bank_is_all():
            return None
        # every curve is in memory: one bank of them all, built on the pool as well
        fin = self._finished_trials()
        series = [(t.number, t.state, *self._memory[t.trial_id]) for t in fin.trials]
        return lambda: ("bank", key, ctx, _Bank(series, fin.code))

    def prefetched(self, result: tuple[str, tuple, object, Any]) -> None:
        kind, key, ctx, got = result
        if key != self._memory_key:
            return  # another metric or file by now
        if kind == "curves":
            self._memory.update(got)
        elif ctx is self.ctx and self._bank is not None and not self._in_bank_all:
            # the same curves drawn, from the bank of all of them (a moment without user input)
            fin = self._finished_trials()
            shown = self._bank.numbers[self._rows]
            self._set_bank(got, np.flatnonzero(np.isin(fin.numbers, shown)), len(fin.trials), True)
            self._paint()
            self.invalidate_paint()

    def set_brush_filter(self, numbers: frozenset[int] | None) -> None:
        if self._total > len(self._rows) and self.ctx is not None and not self._bank_is_all():
            # only some curves are drawn and the others are not read yet: choose them again,
            # the passing trials first, and read them on the pool
            self.brush_filter = numbers
            self.changed.emit()
            return
        super().set_brush_filter(numbers)  # a redraw (choosing in memory, see _paint)

    def _paint(self) -> None:
        """Curves of one colour share one item (NaN-separated, gathered from the bank), so 1,500
        curves are ~20 items; curves outside the brush share one faded item. Items are reused
        (``setData``). A click on a line picks the nearest curve, the end points carry tooltips
        and clicks."""
        bank = self._bank
        if bank is None:
            return
        if self._chosen_for != self.brush_filter and self._bank_is_all():
            self._rows = self._finished_trials().choose(MAX_CURVES, self.brush_filter)
            self._chosen_for = self.brush_filter
            self._set_ends()
        rows = self._rows[bank.length[self._rows] > 0]
        self._series = [bank.series[i] for i in rows.tolist()]
        keep = self.passes(bank.numbers[rows])
        code = np.where(keep, bank.code[rows], _FADED)
        present = set(np.unique(code).tolist())
        many = len(rows) > 150  # 1-px lines: wider translucent ones paint ~30x slower
        cmap = pg.colormap.get(base.CMAP_NAME)
        for key, it in self._items.items():
            if key not in present:
                it.setData([], [])
                it.setVisible(False)
        for key in sorted(present):
            if key == _FADED:
                pen, z = base.faded_pen(1.0), 0
            elif key == _PRUNED:
                pen, z = cs.pen(cs.ORANGE, 1.0 if many else 1.2, 200, Qt.PenStyle.DashLine), 2
            elif key < N_LEVELS:
                colour = cmap.map((key + 0.5) / N_LEVELS, mode="qcolor")
                pen, z = pg.mkPen(colour, width=1.0 if many else 1.6), 3 + key / N_LEVELS
            elif key == _FAILED:
                pen, z = cs.pen(cs.RED, 1.0 if many else 1.2, 200, Qt.PenStyle.DotLine), 1
            else:
                pen, z = cs.pen(cs.GREY, 1.0 if many else 1.2, 200), 1
            it = self._items.get(key)
            if it is None:
                it = self._items[key] = pg.PlotCurveItem(connect="finite")
                it.setZValue(z)
                it.setClickable(True, width=5)
                it.sigClicked.connect(self._on_curve_clicked)
                self.plot.addItem(it)
            it.setPen(pen)
            it.setData(*bank.gather(rows[code == key]), connect="finite")
            it.setVisible(True)
        passing = self.passes(bank.numbers[self._end_rows])
        base.show_only(self.ends, passing)
        base.show_only(self.faded_ends, ~passing)
        shown = f"{len(rows)} curves"
        if self._total > len(self._rows):
            shown = f"{len(rows)} of {self._total} curves (the best and the latest)"
            if self.brush_filter is not None:
                shown = f"{len(rows)} of {self._total} curves, passing first"
        self.set_status(shown, self.brush_note(keep))
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
