"""Learning curves: one line per trial of the chosen per-epoch metric, updated epoch by epoch.

One :class:`pyqtgraph.PlotDataItem` per trial (two in "train + val loss" mode), created once and
fed with ``setData``; items of trials that drop out of the window of recent trials are reused for
new ones. The running trial is drawn bold, the best one green, the selected one magenta; earlier
trials thin and faint, pruned and failed ones dashed in orange and red. A pruned trial's curve
ends where the pruner stopped it, with an orange ✕ (one scatter item holds every such marker;
hovering one tells the epoch and the rule, clicking it selects the trial).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...core.chartdata import Changes, LiveTrials, curve_series
from ...core.trial import TrialState
from . import chart_style as cs


def running_numbers(book: LiveTrials) -> list[int]:
    """Every trial of the book that is running now (several with ``[execution] workers`` > 1)."""
    return sorted(n for n, t in book.trials.items() if t.state == TrialState.RUNNING)


TRAIN_VAL = "train + val loss"
_SOLID, _DASH, _DOT = Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine

# kind -> (colour, width, alpha, pen style, z value); the first matching kind wins, in this order.
_STYLES = {
    "selected": (cs.MAGENTA, 3.0, 255, _SOLID, 30),
    "running": (cs.BLUE, 3.0, 255, _SOLID, 20),
    "best": (cs.GREEN, 2.5, 255, _SOLID, 10),
    "failed": (cs.RED, 1.3, 170, _DASH, 2),
    "pruned": (cs.ORANGE, 1.3, 150, _DASH, 1),
    "faded": (cs.GREY, 1.0, 110, _SOLID, 0),
}


class LearningCurvesChart(QWidget):
    """Per-epoch curves of every recent trial. ``trial_clicked`` fires when a line is clicked."""

    trial_clicked = Signal(int)

    #: At most this many earlier trials are drawn (the running, best and selected always are).
    MAX_CURVES = 200

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.redraws = 0  # how many times sync()/refresh() redrew (tests count them)
        self._book = LiveTrials()
        self._items: dict[int, list[pg.PlotDataItem]] = {}  # trial -> [main, train (aux)]
        self._styles: dict[int, tuple[str, ...]] = {}
        self._spare: list[list[pg.PlotDataItem]] = []
        self._selected: int | None = None
        self._preferred: str | None = None
        self._marks: dict[int, tuple[float, float]] = {}  # pruned trial -> where its curve stops

        self.title = QLabel("<b>Learning curves</b>")
        self.metric_combo = QComboBox()
        self.metric_combo.setToolTip("The per-epoch metric to draw")
        self.metric_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.metric_combo.currentTextChanged.connect(self._on_metric_changed)
        self.log_check = QCheckBox("log y")
        self.log_check.setToolTip("Logarithmic value axis (for losses that span decades)")
        self.log_check.toggled.connect(self._on_log_toggled)
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self._set_legend()

        self.plot = cs.make_plot(self)
        item = self.plot.getPlotItem()
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        cs.set_axis_label(self.plot, "bottom", "epoch", self.palette())
        self.plot.setToolTip("")
        # A PlotDataItem of symbols only (not a bare ScatterPlotItem): it follows the log y mode.
        self.stop_marks = pg.PlotDataItem(
            pen=None, symbol="x", symbolSize=13, symbolBrush=cs.colour(cs.ORANGE), symbolPen=None
        )
        self.stop_marks.scatter.opts.update(hoverable=True, tip=self._mark_tip, hoverSize=17)
        self.stop_marks.setZValue(25)
        self.stop_marks.sigPointsClicked.connect(self._on_marks_clicked)
        self.plot.addItem(self.stop_marks)
        self._drawn_marks: dict[int, tuple[float, float]] = {}

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.metric_combo)
        top.addWidget(self.log_check)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.legend)
        self._rebuild_combo()

    # -- public -----------------------------------------------------------------------------
    def set_book(self, book: LiveTrials) -> None:
        """Show the trials of ``book`` (everything is redrawn once)."""
        self._book = book
        for n in list(self._items):
            self._release(n)
        self._selected = None
        self._rebuild_combo()
        self.refresh()

    def current_metric(self) -> str:
        """The metric drawn, or ``"train + val loss"``."""
        return self.metric_combo.currentText()

    def set_metric(self, name: str) -> None:
        """Draw ``name`` (a per-epoch metric or ``"train + val loss"``); remembered if unknown yet."""
        self._preferred = name
        i = self.metric_combo.findText(name)
        if i >= 0:
            self.metric_combo.setCurrentIndex(i)

    def set_selected(self, number: int | None) -> None:
        old, self._selected = self._selected, number
        self._update({n for n in (old, number) if n is not None})

    def sync(self, changes: Changes) -> None:
        """Apply what changed since the last redraw: only the affected lines are touched."""
        if changes.curve_metrics:
            self._rebuild_combo()
        touched = set(changes.curves) | set(changes.finished) | set(changes.new) | set(changes.updated)
        touched |= {n for n in (changes.best_before, changes.best) if n is not None}
        self._update(touched)
        self.redraws += 1

    def refresh(self) -> None:
        """Redraw every shown line (after a metric switch or a new book)."""
        self._update(set(self._book.trials))
        self.redraws += 1

    def item_count(self) -> int:
        """How many trials have a line (for tests and the status bar)."""
        return len(self._items)

    def items_of(self, number: int) -> list[pg.PlotDataItem]:
        return list(self._items.get(number, []))

    def pruned_marks(self) -> dict[int, tuple[float, float]]:
        """Where each shown pruned trial's curve stops (its ✕ marker): number -> (epoch, value)."""
        return dict(self._marks)

    # -- drawing --------------------------------------------------------------------------
    def _shown(self) -> set[int]:
        book = self._book
        shown = set(book.order[-self.MAX_CURVES :])
        shown |= {n for n in (book.best, self._selected, book.running_number) if n is not None}
        shown |= set(running_numbers(book))  # several workers: every running trial is drawn
        return shown

    def _update(self, numbers: Iterable[int]) -> None:
        shown = self._shown()
        for n in [n for n in self._items if n not in shown]:
            self._release(n)
        for n in sorted(set(numbers) & shown):
            t = self._book.get(n)
            if t is not None and t.curves:
                self._draw(n)
        if self._marks != self._drawn_marks:
            self._drawn_marks = dict(self._marks)
            nums = sorted(self._marks)
            self.stop_marks.setData(
                [self._marks[n][0] for n in nums], [self._marks[n][1] for n in nums], data=nums
            )

    def _series(self, number: int) -> list[tuple[np.ndarray, np.ndarray]]:
        t = self._book.trials[number]
        metric = self.current_metric()
        if metric == TRAIN_VAL:
            return [curve_series(t, "val_loss"), curve_series(t, "train_loss")]
        return [curve_series(t, metric)] if metric else []

    def _draw(self, number: int) -> None:
        series = self._series(number)
        items = self._items.get(number)
        if items is None:
            items = self._items[number] = self._acquire(number)
        while len(items) < len(series):
            items.append(self._new_item(number))
        for i, item in enumerate(items):
            if i < len(series):
                x, y = series[i]
                item.setData(x, y)
                item.setVisible(bool(len(x)))
            else:
                item.setVisible(False)
        x, y = series[0] if series else ((), ())
        if self._book.trials[number].state == TrialState.PRUNED and len(x) and np.isfinite(y[-1]):
            self._marks[number] = (float(x[-1]), float(y[-1]))
        else:
            self._marks.pop(number, None)
        self._restyle(number, items)

    def _kind(self, number: int) -> str:
        t = self._book.trials[number]
        if number == self._selected:
            return "selected"
        if t.state == TrialState.RUNNING:  # bold, however many run at once (workers > 1)
            return "running"
        if number == self._book.best:
            return "best"
        if t.state == TrialState.FAILED:
            return "failed"
        if t.state == TrialState.PRUNED:
            return "pruned"
        return "faded"

    def _restyle(self, number: int, items: list[pg.PlotDataItem]) -> None:
        kind = self._kind(number)
        state = self._book.trials[number].state.value
        key = (kind, str(len(items)), state)
        if self._styles.get(number) == key:
            return
        self._styles[number] = key
        name, width, alpha, style, z = _STYLES[kind]
        tip = f"Trial {number} ({state})"
        for i, item in enumerate(items):
            if i == 0:
                item.setPen(cs.pen(name, width, alpha, style))
                item.curve.setToolTip(
                    tip + (" · validation loss" if self.current_metric() == TRAIN_VAL else "")
                )
            else:  # the train loss beside the validation loss: same colour, dotted, a bit lighter
                item.setPen(cs.pen(name, max(1.0, width - 0.5), int(alpha * 0.8), _DOT))
                item.curve.setToolTip(tip + " · training loss")
            item.setZValue(z)
            self._ignore_bounds(item, kind == "failed")

    def _ignore_bounds(self, item: pg.PlotDataItem, ignore: bool) -> None:
        """Keep a diverged (failed) trial's curve out of the auto range: a loss that shoots to
        1e3 would squash every other line flat. ``ViewBox.addedItems`` is what pyqtgraph's
        auto range reads (``addItem(..., ignoreBounds=True)`` leaves items out of it)."""
        vb = self.plot.getPlotItem().getViewBox()
        if ignore and item in vb.addedItems:
            vb.addedItems.remove(item)
            vb.updateAutoRange()
        elif not ignore and item not in vb.addedItems:
            vb.addedItems.append(item)
            vb.updateAutoRange()

    def _new_item(self, number: int) -> pg.PlotDataItem:
        item = pg.PlotDataItem(antialias=True)
        item.trial_number = item.curve.trial_number = number  # clicks come from the curve
        item.setCurveClickable(True, width=6)
        item.sigClicked.connect(self._on_item_clicked)
        self.plot.addItem(item)
        return item

    def _acquire(self, number: int) -> list[pg.PlotDataItem]:
        if self._spare:
            items = self._spare.pop()
            for item in items:
                item.trial_number = item.curve.trial_number = number
            return items
        return [self._new_item(number)]

    def _release(self, number: int) -> None:
        items = self._items.pop(number)
        self._styles.pop(number, None)
        self._marks.pop(number, None)
        for item in items:
            item.setData([], [])
            item.setVisible(False)
        self._spare.append(items)

    # -- controls --------------------------------------------------------------------------
    def _rebuild_combo(self) -> None:
        names = list(self._book.curve_metrics)
        if "train_loss" in names and "val_loss" in names:
            names.append(TRAIN_VAL)
        current = self.metric_combo.currentText() or None
        want = self._preferred or current or self._default_metric(names)
        self.metric_combo.blockSignals(True)
        self.metric_combo.clear()
        self.metric_combo.addItems(names)
        i = self.metric_combo.findText(want) if want else -1
        if i < 0:
            i = self.metric_combo.findText(self._default_metric(names) or "")
        self.metric_combo.setCurrentIndex(max(i, 0) if names else -1)
        self.metric_combo.blockSignals(False)
        self._label_axis()

    def _default_metric(self, names: list[str]) -> str | None:
        metric = self._book.metric
        if metric in names:
            return metric
        for name in ("val_loss", "val_accuracy"):
            if name in names:
                return name
        return names[0] if names else None

    def _on_metric_changed(self, name: str) -> None:
        if not name:
            return
        self._preferred = name
        self._styles.clear()  # tooltips mention the mode
        self._label_axis()
        self.refresh()

    def _label_axis(self) -> None:
        metric = self.current_metric()
        cs.set_axis_label(self.plot, "left", "loss" if metric == TRAIN_VAL else metric, self.palette())
        self._set_legend()

    def _on_log_toggled(self, on: bool) -> None:
        self.plot.getPlotItem().setLogMode(y=on)

    def _set_legend(self) -> None:
        entries = [
            cs.swatch("running", cs.BLUE),
            cs.swatch("best", cs.GREEN),
            cs.swatch("selected", cs.MAGENTA),
            cs.swatch("pruned ✕", cs.ORANGE, "╍"),
            cs.swatch("failed", cs.RED, "╍"),
            cs.swatch("earlier", cs.GREY, "─"),
        ]
        if self.metric_combo.currentText() == TRAIN_VAL:
            entries.append("(dotted: training loss)")
        self.legend.setText(cs.legend(*entries))

    def _mark_tip(self, x: float, y: float, data: object) -> str:
        number = int(data) if data is not None else -1
        t = self._book.get(number)
        why = str(t.attrs.get("pruned_by", "")) if t is not None else ""
        text = f"Trial {number}: pruned at epoch {x:g}"
        return f"{text}\n{why}" if why else text

    def _on_marks_clicked(self, _item: object, points, _ev: object = None) -> None:
        if len(points) and points[0].data() is not None:
            self.trial_clicked.emit(int(points[0].data()))

    def _on_item_clicked(self, item: pg.PlotDataItem, _ev: object = None) -> None:
        number = getattr(item, "trial_number", None)
        if number is not None:
            self.trial_clicked.emit(int(number))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.PaletteChange:
            cs.style_plot(self.plot, self.palette())
        super().changeEvent(event)
