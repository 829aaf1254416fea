"""Application look: icons from resources/, and pyqtgraph colours that follow the Qt palette.

Qt 6 follows the system's light or dark scheme by itself; pyqtgraph draws its own
backgrounds, so its defaults are set from the palette here and updated when the scheme changes.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette

from ..app import RESOURCES

ICONS = RESOURCES / "icons"
APP_ICON_SVG = RESOURCES / "hpo-desktop.svg"
APP_ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)

#: Freedesktop theme names tried first, so the app blends in where the desktop has an icon theme.
_THEME_NAMES = {
    "new": "document-new",
    "open": "document-open",
    "save": "document-save",
    "import": "document-import",
    "export": "document-export",
    "start": "media-playback-start",
    "pause": "media-playback-pause",
    "stop": "media-playback-stop",
    "stop-after": "media-skip-forward",
}


@cache
def icon(name: str) -> QIcon:
    """A toolbar/menu icon: our own SVG from resources/icons (crisp at any scale)."""
    path = ICONS / f"{name}.svg"
    if path.exists():
        return QIcon(str(path))
    return QIcon.fromTheme(_THEME_NAMES.get(name, name))


@cache
def app_icon() -> QIcon:
    """The application icon: the SVG plus pre-rendered PNGs for small sizes."""
    result = QIcon()
    for size in APP_ICON_SIZES:
        png = ICONS / f"hpo-desktop-{size}.png"
        if png.exists():
            result.addFile(str(png))
    if APP_ICON_SVG.exists():
        result.addFile(str(APP_ICON_SVG))
    return result


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def chart_colors(palette: QPalette | None = None) -> tuple[QColor, QColor]:
    """(background, foreground) for charts: the window colour and its text colour."""
    palette = palette or QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Window), palette.color(QPalette.ColorRole.WindowText)


def apply_chart_theme(palette: QPalette | None = None) -> None:
    """Set pyqtgraph's defaults from the palette and repaint plots that already exist."""
    import pyqtgraph as pg

    background, foreground = chart_colors(palette)
    pg.setConfigOptions(background=background, foreground=foreground)
    app = QGuiApplication.instance()
    if app is None:
        return
    for widget in app.allWidgets():  # type: ignore[attr-defined]
        if isinstance(widget, pg.PlotWidget):
            widget.setBackground(background)
            item = widget.getPlotItem()
            for name in ("left", "bottom", "right", "top"):
                axis = item.getAxis(name)
                axis.setPen(foreground)
                axis.setTextPen(foreground)


class ThemeFollower(QObject):
    """Keeps pyqtgraph's colours in step with the system's light/dark scheme."""

    def __init__(self, app: QGuiApplication) -> None:
        super().__init__(app)
        apply_chart_theme(app.palette())
        app.styleHints().colorSchemeChanged.connect(self._on_scheme_changed)
        app.paletteChanged.connect(self._on_palette_changed)  # type: ignore[attr-defined]

    def _on_scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        apply_chart_theme()

    def _on_palette_changed(self, palette: QPalette) -> None:
        apply_chart_theme(palette)
