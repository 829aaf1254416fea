"""Colours and pens of the live page, chosen to read well on light and dark backgrounds.

Every colour is a mid-tone (neither near-white nor near-black), so the same value works on a
white and on a dark-grey chart; plots take their background and text colour from the Qt palette
(as ``gui/theme.py`` does for the whole app) and follow it when it changes.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QWidget

from ...core.trial import TrialState

BLUE = "#228be6"  # the running trial, complete points
GREEN = "#2f9e44"  # the best trial, the best-so-far line
MAGENTA = "#ae3ec9"  # the selected trial (purple: apart from the failed red)
ORANGE = "#f08c00"  # pruned
RED = "#e03131"  # failed
GREY = "#909296"  # earlier trials, interrupted

STATE_COLOURS = {
    TrialState.RUNNING: BLUE,
    TrialState.COMPLETE: GREEN,
    TrialState.PRUNED: ORANGE,
    TrialState.FAILED: RED,
    TrialState.INTERRUPTED: GREY,
}


def colour(name: str, alpha: int = 255) -> QColor:
    c = QColor(name)
    c.setAlpha(alpha)
    return c


def pen(name: str, width: float = 1.0, alpha: int = 255, style: Qt.PenStyle = Qt.PenStyle.SolidLine):
    return pg.mkPen(color=colour(name, alpha), width=width, style=style)


def state_colour(state: TrialState) -> QColor:
    return QColor(STATE_COLOURS.get(state, GREY))


def swatch(text: str, name: str, symbol: str = "━") -> str:
    """Rich text for one legend entry: a coloured symbol and a plain word."""
    return f'<span style="color:{name}; font-weight:bold">{symbol}</span>&nbsp;{text}'


def legend(*entries: str) -> str:
    return "&nbsp;&nbsp;&nbsp;".join(entries)


def style_plot(plot: pg.PlotWidget, palette: QPalette) -> None:
    """Background, axes, grid and tick font from the palette (call again when it changes)."""
    background = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    axis_colour = QColor(text)
    axis_colour.setAlpha(150)
    plot.setBackground(background)
    item = plot.getPlotItem()
    font = QFont(plot.font())
    font.setPointSizeF(max(8.0, font.pointSizeF() * 0.9))
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(axis_colour))
        axis.setTextPen(pg.mkPen(text))
        axis.setTickFont(font)
        _no_si_prefix(axis)
        label = axis.labelText
        if label:
            axis.setLabel(label, color=text.name(), **{"font-size": f"{font.pointSizeF():.0f}pt"})
    item.showGrid(x=True, y=True, alpha=0.12)


def _no_si_prefix(axis: pg.AxisItem) -> None:
    """Ticks "0.9", never "900" with "(x0.001)" on the label. pyqtgraph 0.14's
    ``enableAutoSIPrefix(False)`` recomputes the scale anyway while the label is visible, so the
    scale is put back to 1 by hand."""
    axis.enableAutoSIPrefix(False)
    axis.autoSIPrefixScale = 1.0
    axis.labelUnitPrefix = ""
    axis.picture = None
    axis.update()


class IntegerAxis(pg.AxisItem):
    """An axis with ticks on whole numbers only (epochs, trial numbers)."""

    def tickValues(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph override
        levels = [
            (spacing, [v for v in values if float(v).is_integer()])
            for spacing, values in super().tickValues(minVal, maxVal, size)
            if spacing >= 1
        ]
        levels = [(s, v) for s, v in levels if v]
        if not levels and maxVal - minVal < 1e6:
            levels = [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]
        return levels


def set_axis_label(plot: pg.PlotWidget, side: str, text: str, palette: QPalette) -> None:
    size = max(8.0, plot.font().pointSizeF() * 0.9)
    plot.getPlotItem().setLabel(
        side, text, color=palette.color(QPalette.ColorRole.Text).name(), **{"font-size": f"{size:.0f}pt"}
    )


def make_plot(parent: QWidget | None = None, *, integer_x: bool = True) -> pg.PlotWidget:
    """A plot with the live page's defaults: whole-number x ticks, no context-menu clutter,
    mouse zoom kept."""
    axes = {"bottom": IntegerAxis("bottom")} if integer_x else None
    plot = pg.PlotWidget(parent, axisItems=axes)
    item = plot.getPlotItem()
    item.hideButtons()
    item.setMenuEnabled(False)
    plot.setMinimumSize(160, 120)
    style_plot(plot, plot.palette())
    return plot
