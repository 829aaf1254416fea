"""Everything about one trial: result, params, final metrics, run facts, error, and its curves."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...core.chartdata import METRIC_ORDER, Column, LiveTrial, curve_series, format_cell
from ...core.trial import TrialState
from . import chart_style as cs
from .trials_table import state_text

#: Curves drawn in the small plot, with their colours; the study's metric is added if missing.
_CURVE_COLOURS = {"train_loss": cs.GREY, "val_loss": cs.BLUE, "val_accuracy": cs.GREEN, "val_rmse": cs.ORANGE}
_DEVICE_KEYS = ("worker", "device", "device_label", "accelerator")  # worker: [execution] workers


def _when(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(round(seconds))
    return (
        f"{seconds:.1f} s"
        if s < 60
        else f"{s // 60}:{s % 60:02d} min"
        if s < 3600
        else f"{s // 3600}:{s % 3600 // 60:02d} h"
    )


class TrialDetails(QWidget):
    """Shows one trial; :meth:`show_trial` again (or :meth:`refresh_curves`) as it changes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.redraws = 0
        self._trial: LiveTrial | None = None
        self._metric: str | None = None
        self._is_best = False
        self._note = ""
        self._curve_items: dict[str, pg.PlotDataItem] = {}

        self.header = QLabel()
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["", ""])
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(10)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.error_title = QLabel(f'<b style="color:{cs.RED}">Error</b>')
        self.error = QPlainTextEdit()
        self.error.setReadOnly(True)
        self.error.setMaximumBlockCount(400)
        self.error.setPlaceholderText("")
        self.error_box = QWidget()
        el = QVBoxLayout(self.error_box)
        el.setContentsMargins(0, 0, 0, 0)
        el.setSpacing(1)
        el.addWidget(self.error_title)
        el.addWidget(self.error, 1)
        self.error_box.setVisible(False)
        # What a user script printed (attrs["log"], the last lines; see training/scripts.py).
        self.output_title = QLabel("<b>Output</b>")
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        self.output.setObjectName("trialOutput")
        self.output.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.output.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.output_box = QWidget()
        ol = QVBoxLayout(self.output_box)
        ol.setContentsMargins(0, 0, 0, 0)
        ol.setSpacing(1)
        ol.addWidget(self.output_title)
        ol.addWidget(self.output, 1)
        self.output_box.setVisible(False)
        #: ``log_reader(number) -> str | None``: the stored output of a finished trial that the
        #: live events did not carry (the window reads it from its read-only store).
        self.log_reader: Callable[[int], str | None] | None = None
        self.plot = cs.make_plot(self)
        self.plot.setMinimumHeight(150)
        cs.set_axis_label(self.plot, "bottom", "epoch", self.palette())
        self.plot_legend = QLabel()
        self.plot_legend.setTextFormat(Qt.TextFormat.RichText)
        self.plot_legend.setWordWrap(True)

        plot_box = QWidget()
        pl = QVBoxLayout(plot_box)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.setSpacing(1)
        pl.addWidget(self.plot, 1)
        pl.addWidget(self.plot_legend)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(self.error_box)
        split.addWidget(self.output_box)
        split.addWidget(plot_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setStretchFactor(2, 2)
        split.setStretchFactor(3, 3)
        split.setSizes([330, 110, 160, 300])
        split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(self.header)
        lay.addWidget(split, 1)
        self.show_trial(None)

    # -- public -----------------------------------------------------------------------------
    def trial_number(self) -> int | None:
        return None if self._trial is None else self._trial.number

    def show_trial(
        self,
        trial: LiveTrial | None,
        *,
        metric: str | None = None,
        direction: str = "",
        is_best: bool = False,
        note: str = "",
    ) -> None:
        """Fill every part from ``trial`` (None: an empty panel with a hint); ``note`` is a
        grey line under the title (e.g. why this trial is shown)."""
        self._trial, self._metric, self._note = trial, metric, note
        self.tree.clear()
        if trial is None:
            self.header.setText("<b>Trial details</b><br><i>Pick a trial in the table or a chart.</i>")
            self.error_box.setVisible(False)
            self.output_box.setVisible(False)
            self._draw_curves()
            return
        self._is_best = is_best
        self._set_header()
        result = [(metric or "value", format_cell(trial.value) or "—")]
        if trial.state == TrialState.RUNNING and metric in trial.curves and trial.curves[metric]:
            step, latest = trial.curves[metric][-1]
            result.append((f"latest (epoch {step})", format_cell(latest)))
        if direction:
            result.append(("direction", direction))
        self._group("Result", result)
        self._group("Parameters", [(k, format_cell(v)) for k, v in trial.params.items()])
        self._group(
            "Final metrics",
            [(k, format_cell(v, _METRIC)) for k, v in sorted(trial.metrics.items(), key=_metric_rank)],
        )
        run = [
            ("seed", "" if trial.seed is None else str(trial.seed)),
            ("started", _when(trial.started_at)),
            ("finished", _when(trial.finished_at)),
            ("duration", _duration(trial.seconds)),
            ("epochs reported", "" if trial.last_step is None else str(trial.last_step)),
        ]
        run += [(k, str(trial.attrs[k])) for k in _DEVICE_KEYS if k in trial.attrs]
        self._group("Run", [(k, v) for k, v in run if v])
        self.tree.expandAll()
        text = trial.error or ""
        tb = trial.attrs.get("traceback")
        if tb:
            text = f"{text}\n\n{tb}" if text else str(tb)
        self.error.setPlainText(text)

        self.error_box.setVisible(bool(text))
        output = trial.attrs.get("log")
        if output is None and trial.state != TrialState.RUNNING and self.log_reader is not None:
            output = self.log_reader(trial.number) or ""
            trial.attrs["log"] = output  # read once ("" when it printed nothing)
        self.output.setPlainText(str(output or ""))
        self.output.verticalScrollBar().setValue(self.output.verticalScrollBar().maximum())
        self.output_box.setVisible(bool(output))
        self._draw_curves()

    def refresh_live(self, trial: LiveTrial | None = None) -> None:
        """The shown trial reported another epoch: update the header and the curves only (the
        tree is rebuilt by :meth:`show_trial` when the trial finishes)."""
        if trial is not None and self._trial is not None and trial.number != self._trial.number:
            return
        self._set_header()
        self._draw_curves()

    # -- internals ------------------------------------------------------------------------
    def _set_header(self) -> None:
        trial = self._trial
        if trial is None:
            return
        colour = cs.STATE_COLOURS.get(trial.state, cs.GREY)
        star = f'&nbsp;&nbsp;<span style="color:{cs.GREEN}"><b>★ best</b></span>' if self._is_best else ""
        note = f'<br><span style="color:{cs.GREY}">{self._note}</span>' if self._note else ""
        self.header.setText(
            f'<span style="font-size:large"><b>Trial {trial.number}</b></span>&nbsp;&nbsp;'
            f'<span style="color:{colour}"><b>{state_text(trial)}</b></span>{star}{note}'
        )

    def _group(self, title: str, rows: list[tuple[str, str]]) -> None:
        if not rows:
            return
        top = QTreeWidgetItem([title, ""])
        font = top.font(0)
        font.setBold(True)
        top.setFont(0, font)
        top.setFirstColumnSpanned(True)
        self.tree.addTopLevelItem(top)
        for k, v in rows:
            item = QTreeWidgetItem([k, v])
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(1, v)
            top.addChild(item)

    def _draw_curves(self) -> None:
        t = self._trial
        names: list[str] = []
        if t is not None:
            names = [n for n in _CURVE_COLOURS if n in t.curves]
            if self._metric and self._metric in t.curves and self._metric not in names:
                names.append(self._metric)
        for name in list(self._curve_items):
            if name not in names:
                self.plot.removeItem(self._curve_items.pop(name))
        dashed = t is not None and t.state in (TrialState.PRUNED, TrialState.FAILED)
        for name in names:
            item = self._curve_items.get(name)
            if item is None:
                item = self._curve_items[name] = pg.PlotDataItem(antialias=True)
                self.plot.addItem(item)
            colour = _CURVE_COLOURS.get(name, cs.MAGENTA)
            style = Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine
            item.setPen(cs.pen(colour, 2.0, 255, style))
            x, y = curve_series(t, name)  # type: ignore[arg-type]
            item.setData(
                x, y, symbol="o" if len(x) < 3 else None, symbolSize=5, symbolBrush=colour, symbolPen=None
            )
        self.plot_legend.setText(cs.legend(*(cs.swatch(n, _CURVE_COLOURS.get(n, cs.MAGENTA)) for n in names)))
        cs.set_axis_label(self.plot, "left", "value", self.palette())
        self.redraws += 1

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.PaletteChange:
            cs.style_plot(self.plot, self.palette())
        super().changeEvent(event)


_METRIC = Column("metric")  # whole numbers with thousands separators (n_params)


def _metric_rank(item: tuple[str, float]) -> tuple[int, str]:
    return (METRIC_ORDER.index(item[0]) if item[0] in METRIC_ORDER else len(METRIC_ORDER), item[0])
