"""The log pane: one line per thing worth knowing about a run, newest at the bottom.

Trial starts and ends (with the reason of a failure), device and data information, and why a
study stopped. Epoch reports are not logged (the charts show them); the pane keeps at most
``MAX_LINES`` lines so a long study cannot grow it without bound.
"""

from __future__ import annotations

import html
import math
import time
from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from ..core.events import StudyFinished, StudyStarted, TrialFinished, TrialStarted
from ..core.trial import TrialState
from .theme import is_dark

MAX_LINES = 5000


def format_value(v: Any) -> str:
    """Numbers as people read them: 4 significant digits, nan/inf spelled out."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return str(v) if not math.isfinite(v) else f"{v:.4g}"
    return str(v)


def format_params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={format_value(v)}" for k, v in params.items())


def format_seconds(seconds: float) -> str:
    """0.04 s, 1.2 s, 42 s, 3:05, 1:02:03."""
    if seconds < 1:
        return f"{seconds:.2f} s"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


_COLORS_LIGHT = {
    "info": None,
    "good": "#2b8a3e",
    "warning": "#b35c00",
    "error": "#c92a2a",
    "muted": "#6c757d",
}
_COLORS_DARK = {"info": None, "good": "#69db7c", "warning": "#ffa94d", "error": "#ff8787", "muted": "#adb5bd"}


class LogPane(QPlainTextEdit):
    """A read-only, bounded log with coloured levels. ``lines()`` gives the plain text back."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("Trial starts and ends, failures and device information appear here.")
        self.metric_name = "value"

    # -- writing lines -------------------------------------------------------------------
    def add(self, text: str, level: str = "info") -> None:
        """Append one message (it may span lines) with a time stamp."""
        colors = _COLORS_DARK if is_dark(self.palette()) else _COLORS_LIGHT
        color = colors.get(level)
        stamp = time.strftime("%H:%M:%S")
        body = html.escape(text).replace("\n", "<br>&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;")
        if color:
            body = f'<span style="color:{color}">{body}</span>'
        muted = colors["muted"]
        self.appendHtml(f'<span style="color:{muted}">{stamp}</span>&nbsp;{body}')
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def info(self, text: str) -> None:
        self.add(text, "info")

    def warning(self, text: str) -> None:
        self.add(text, "warning")

    def error(self, text: str, detail: str | None = None) -> None:
        self.add(text if not detail else f"{text}\n{detail.rstrip()}", "error")

    def lines(self) -> list[str]:
        return self.toPlainText().splitlines()

    # -- study events ----------------------------------------------------------------------
    def on_event(self, event: object) -> None:
        if isinstance(event, StudyStarted):
            done = f", {event.n_finished} already finished" if event.n_finished else ""
            self.info(f"Study '{event.study}' started: budget {event.budget} trials{done}.")
        elif isinstance(event, TrialStarted):
            self.add(f"Trial {event.number} started: {format_params(event.params)}", "muted")
        elif isinstance(event, TrialFinished):
            self._trial_finished(event)
        elif isinstance(event, StudyFinished):
            level = "error" if event.reason == "failures" else "info"
            best = ""
            if event.best_number is not None:
                best = f" Best: trial {event.best_number}, {self.metric_name} = {format_value(event.best_value)}."
            self.add(
                f"Study '{event.study}' finished: {event.message} ({event.n_finished} trials finished).{best}",
                level,
            )

    def _trial_finished(self, e: TrialFinished) -> None:
        secs = "" if e.seconds is None else f" in {format_seconds(e.seconds)}"
        if e.state == TrialState.COMPLETE:
            star = "  ★ new best" if e.is_best else ""
            self.add(
                f"Trial {e.number} complete{secs}: {self.metric_name} = {format_value(e.value)}{star}",
                "good" if e.is_best else "info",
            )
        elif e.state == TrialState.PRUNED:
            self.add(
                f"Trial {e.number} pruned{secs} at {self.metric_name} = {format_value(e.value)}", "warning"
            )
        elif e.state == TrialState.FAILED:
            self.error(f"Trial {e.number} failed{secs}: {e.error or 'no reason given'}")
        elif e.state == TrialState.INTERRUPTED:
            self.warning(f"Trial {e.number} interrupted{secs}: {e.error or 'stopped'}")
        else:
            self.info(f"Trial {e.number} {e.state.value}{secs}")
