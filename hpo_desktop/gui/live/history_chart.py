"""Optimization history: the study's metric of every finished trial by trial number.

Complete trials are dots, the best-so-far line is drawn in steps, the best trial is a star;
pruned trials are orange triangles at the value they had when stopped (their tooltip tells the
epoch and the pruner's rule); failed trials (and trials without a
finite value) are red / grey crosses along the worse edge of the chart. Hovering a point shows
the trial's number, value and params; clicking it emits ``trial_clicked``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...core.chartdata import Changes, HistoryData, LiveTrials, format_cell, history_points
from ...core.trial import TrialState
from . import chart_style as cs


class HistoryChart(QWidget):
    """The value of each finished trial, with the best so far."""

    trial_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.redraws = 0
        self._book = LiveTrials()
        self._data: HistoryData = history_points([], "minimize")
        self._selected: int | None = None
        self._brush: frozenset[int] | None = None  # trials passing the Analysis page's brush

        self.title = QLabel("<b>Optimization history</b>")
        self.log_check = QCheckBox("log y")
        self.log_check.setToolTip("Logarithmic value axis (only when every value is above 0)")
        self.log_check.toggled.connect(self._on_log_toggled)
        self.legend = QLabel(
            cs.legend(
                cs.swatch("complete", cs.BLUE, "●"),
                cs.swatch("best so far", cs.GREEN),
                cs.swatch("best", cs.GREEN, "★"),
                cs.swatch("pruned (when stopped)", cs.ORANGE, "▼"),
                cs.swatch("failed", cs.RED, "✕"),
            )
        )
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)

        self.plot = cs.make_plot(self)
        cs.set_axis_label(self.plot, "bottom", "trial", self.palette())
        cs.set_axis_label(self.plot, "left", "value", self.palette())
        self.best_line = pg.PlotDataItem(pen=cs.pen(cs.GREEN, 2.0), antialias=True)
        self.complete = self._points("o", 8, cs.colour(cs.BLUE, 200), 5)
        self.pruned = self._points("t", 10, cs.colour(cs.ORANGE, 220), 4)
        self.failed = self._points("x", 11, cs.colour(cs.RED, 230), 4)
        self.no_value = self._points("x", 11, cs.colour(cs.GREY, 230), 4)
        self.faded = self._points("o", 4, cs.colour(cs.GREY, 110), 2)  # outside the brush
        self.best_point = self._points("star", 17, cs.colour(cs.GREEN), 6)
        self.selected_ring = pg.PlotDataItem(
            pen=None, symbol="o", symbolSize=17, symbolBrush=None, symbolPen=cs.pen(cs.MAGENTA, 2.5)
        )
        self.selected_ring.setZValue(7)
        self.best_line.setZValue(3)
        self.plot.addItem(self.best_line)
        self.plot.addItem(self.selected_ring)

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        top.addWidget(self.log_check)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(top)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.legend)

    def _points(self, symbol: str, size: int, brush, z: int) -> pg.PlotDataItem:
        item = pg.PlotDataItem(pen=None, symbol=symbol, symbolSize=size, symbolBrush=brush, symbolPen=None)
        scatter = item.scatter
        scatter.opts.update(hoverable=True, tip=self._tip, hoverSize=size + 4)
        item.sigPointsClicked.connect(self._on_points_clicked)
        item.setZValue(z)
        self.plot.addItem(item)
        return item

    # -- public -----------------------------------------------------------------------------
    def set_book(self, book: LiveTrials) -> None:
        self._book = book
        self._selected = None
        cs.set_axis_label(self.plot, "left", book.metric or "value", self.palette())
        self.refresh()

    def sync(self, changes: Changes) -> None:
        """Redraw when a trial finished (or the best changed); steps of a running trial don't
        change this chart."""
        if changes.finished or changes.best_changed or changes.new:
            self.refresh()

    def refresh(self) -> None:
        data = history_points(self._book.trials.values(), self._book.direction)
        self._data = data
        self.log_check.setEnabled(data.all_positive or self.log_check.isChecked())
        if self.log_check.isChecked() and not data.all_positive:
            self.log_check.setChecked(False)  # a value <= 0 cannot be shown on a log axis
        edge = data.edge(log=self.log_check.isChecked())
        keep = self._passes(data.numbers)
        self.complete.setData(data.numbers[keep], data.values[keep], data=data.numbers[keep])
        p_keep = self._passes(data.pruned_numbers)
        self.faded.setData(
            np.concatenate([data.numbers[~keep], data.pruned_numbers[~p_keep]]),
            np.concatenate([data.values[~keep], data.pruned_values[~p_keep]]),
            data=np.concatenate([data.numbers[~keep], data.pruned_numbers[~p_keep]]),
        )
        self.pruned.setData(
            data.pruned_numbers[p_keep], data.pruned_values[p_keep], data=data.pruned_numbers[p_keep]
        )
        self.failed.setData(
            data.failed_numbers, np.full(len(data.failed_numbers), edge), data=data.failed_numbers
        )
        self.no_value.setData(
            data.no_value_numbers, np.full(len(data.no_value_numbers), edge), data=data.no_value_numbers
        )
        self.best_line.setData(data.best_x, data.best_y)
        if data.best_number is None:
            self.best_point.setData([], [])
        else:
            self.best_point.setData([data.best_number], [data.best_value], data=[data.best_number])
        self._draw_selected()
        self.redraws += 1

    def set_brush_filter(self, numbers: frozenset[int] | None) -> None:
        """Fade the complete and pruned trials outside ``numbers`` (small grey dots, as on the
        Analysis page); None shows every trial as usual."""
        self._brush = numbers
        self.refresh()

    def _passes(self, numbers: np.ndarray) -> np.ndarray:
        nums = np.asarray(numbers, dtype=np.int64).reshape(-1)
        if self._brush is None:
            return np.ones(len(nums), dtype=bool)
        return np.isin(nums, np.fromiter(self._brush, np.int64, len(self._brush)))

    def set_selected(self, number: int | None) -> None:
        self._selected = number
        self._draw_selected()

    def history(self) -> HistoryData:
        """What is drawn now."""
        return self._data

    def point_count(self) -> int:
        d = self._data
        return len(d.numbers) + len(d.pruned_numbers) + len(d.failed_numbers) + len(d.no_value_numbers)

    # -- internals ------------------------------------------------------------------------
    def _draw_selected(self) -> None:
        n, d = self._selected, self._data
        y = None
        if n is not None:
            for nums, vals in ((d.numbers, d.values), (d.pruned_numbers, d.pruned_values)):
                hit = np.flatnonzero(nums == n)
                if len(hit):
                    y = float(vals[hit[0]])
            if y is None and (np.any(d.failed_numbers == n) or np.any(d.no_value_numbers == n)):
                y = d.edge(log=self.log_check.isChecked())
        if y is None:
            self.selected_ring.setData([], [])
        else:
            self.selected_ring.setData([n], [y])

    def _tip(self, x: float, y: float, data: object) -> str:
        number = int(data) if data is not None else int(round(x))
        t = self._book.get(number)
        if t is None:
            return f"trial {number}"
        metric = self._book.metric or "value"
        lines = [f"Trial {number} · {t.state.value}" + ("  ★ best" if number == self._book.best else "")]
        if t.error:
            lines.append(t.error if len(t.error) < 90 else t.error[:87] + "…")
        else:
            lines.append(f"{metric} = {format_cell(t.value)}")
        if t.state == TrialState.PRUNED and t.attrs.get("pruned_by"):
            lines.append(f"stopped at epoch {t.attrs.get('pruned_at')}: {t.attrs['pruned_by']}")
        lines += [f"{k} = {format_cell(v)}" for k, v in t.params.items()]
        return "\n".join(lines)

    def _on_points_clicked(self, _item: object, points, _ev: object = None) -> None:
        if len(points):
            data = points[0].data()
            if data is not None:
                self.trial_clicked.emit(int(data))

    def _on_log_toggled(self, on: bool) -> None:
        self.plot.getPlotItem().setLogMode(y=on)
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.PaletteChange:
            cs.style_plot(self.plot, self.palette())
        super().changeEvent(event)
