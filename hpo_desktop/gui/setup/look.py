"""How the setup widgets look: label tones that follow the palette, and small layout helpers."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QComboBox, QHBoxLayout, QWidget

ERROR_COLOR = QColor("#c62828")
OK_COLOR = QColor("#2e7d32")
_DARK_ERROR = QColor("#ef7b7b")
_DARK_OK = QColor("#81c784")


def _dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def set_tone(widget: QWidget, tone: str = "normal", *, bold: bool = False) -> None:
    """Colour a label's text: "normal", "muted" (placeholder grey), "error" (red) or "ok" (green)."""
    palette = QApplication.palette(widget)
    dark = _dark(palette)
    color = {
        "muted": palette.color(QPalette.ColorRole.PlaceholderText),
        "error": _DARK_ERROR if dark else ERROR_COLOR,
        "ok": _DARK_OK if dark else OK_COLOR,
    }.get(tone, palette.color(QPalette.ColorRole.WindowText))
    own = widget.palette()
    own.setColor(QPalette.ColorRole.WindowText, color)
    own.setColor(QPalette.ColorRole.Text, color)
    widget.setPalette(own)
    font = widget.font()
    font.setBold(bold)
    widget.setFont(font)


def shrinkable(combo: QComboBox, chars: int = 12) -> None:
    """Let a combo with long item texts get narrower than its longest item (the panels are narrow)."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)


def select(combo: QComboBox, value: str, *, data_role: bool = True) -> None:
    """Select ``value``, adding it when the combo does not offer it (so a file's value is shown)."""
    pos = combo.findData(value) if data_role else combo.findText(value)
    if pos < 0:
        combo.addItem(value, value)
        pos = combo.count() - 1
    combo.setCurrentIndex(pos)


def hbox(parent: QWidget, *widgets: QWidget, stretch: bool = False) -> QWidget:
    """Widgets side by side, for one row of a form."""
    holder = QWidget(parent)
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(8)
    for w in widgets:
        row.addWidget(w)
    if stretch:
        row.addStretch(1)
    return holder
