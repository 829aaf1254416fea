"""Measure how late the GUI event loop serves a repeating timer (a frozen GUI shows as lateness).

Used by the latency test and ``bench/gui_latency.py``: while something runs, a precise timer
fires every ``interval_ms`` and each firing records how much later than due it came.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QObject, Qt, QTimer


class LoopLatencyProbe(QObject):
    """``start()``, run the event loop, ``stop()``; ``lateness_ms`` holds one sample per firing."""

    def __init__(self, interval_ms: int = 10, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval_ms = interval_ms
        self.lateness_ms: list[float] = []
        self._last: float | None = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.lateness_ms.clear()
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> list[float]:
        self._timer.stop()
        return list(self.lateness_ms)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.lateness_ms.append(max(0.0, (now - self._last) * 1000.0 - self.interval_ms))
        self._last = now


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; 0.0 for no samples."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), math.ceil(q / 100.0 * len(ordered))))
    return ordered[rank - 1]
