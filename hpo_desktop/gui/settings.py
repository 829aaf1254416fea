"""What the window remembers between sessions: recent files, the last file, geometry and state.

Stored with QSettings under the organization "hpo-desktop" (tests redirect QSettings into a
temporary folder). Paths are kept as absolute strings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "hpo-desktop"
APPLICATION = "hpo-desktop"
MAX_RECENT = 10

_RECENT = "files/recent"
_LAST = "files/last"
_GEOMETRY = "window/geometry"
_STATE = "window/state"


def _settings() -> QSettings:
    # The default format (not NativeFormat) so that QSettings.setDefaultFormat/setPath, as the
    # tests use them, send every read and write into their folder.
    return QSettings(QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def _as_list(value: object) -> list[str]:
    # QSettings gives back a str for a one-element list in INI files, and None when unset.
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]  # type: ignore[union-attr]


def recent_files(*, existing_only: bool = True) -> list[Path]:
    """Most recent first; files that have disappeared are left out unless asked for."""
    paths = [Path(p) for p in _as_list(_settings().value(_RECENT))]
    return [p for p in paths if p.exists()] if existing_only else paths


def add_recent_file(path: Path) -> None:
    """Put ``path`` first in the recent list and remember it as the last file."""
    path = Path(path).resolve()
    s = _settings()
    paths = [p for p in _as_list(s.value(_RECENT)) if Path(p) != path]
    s.setValue(_RECENT, [str(path), *paths][:MAX_RECENT])
    s.setValue(_LAST, str(path))


def remove_recent_file(path: Path) -> None:
    s = _settings()
    path = Path(path)
    s.setValue(_RECENT, [p for p in _as_list(s.value(_RECENT)) if Path(p) != path])
    if s.value(_LAST) == str(path):
        s.remove(_LAST)


def clear_recent_files() -> None:
    s = _settings()
    s.remove(_RECENT)
    s.remove(_LAST)


def last_file() -> Path | None:
    """The file open when the window last closed (or was last opened), if it still exists."""
    value = _settings().value(_LAST)
    if not value:
        return None
    path = Path(str(value))
    return path if path.exists() else None


def save_window(geometry: QByteArray, state: QByteArray) -> None:
    s = _settings()
    s.setValue(_GEOMETRY, geometry)
    s.setValue(_STATE, state)


def window_geometry() -> QByteArray | None:
    value = _settings().value(_GEOMETRY)
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


def window_state() -> QByteArray | None:
    value = _settings().value(_STATE)
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None
