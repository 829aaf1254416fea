"""Short jobs off the GUI thread: a function on a QThreadPool, its result back through queued signals.

The GUI thread never writes SQL; a dialog that must write (enqueue a trial, remove a queued one)
or train (a test-set evaluation) hands a plain function to :meth:`BackgroundJob.start`. The
function runs on a pool thread and opens whatever it needs there (its own writer StudyStore);
its return value or the exception it raised comes back to the GUI thread as a signal of the
:class:`BackgroundJob` (a QObject living in the GUI thread, so the connections are queued).

    job = BackgroundJob()
    job.succeeded.connect(self._on_done)   # connect first,
    job.start(lambda: write_something(path))   # then start
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

#: The pool for these jobs: separate from the global pool the Analysis page computes on, so a
#: long evaluation never delays a chart.
_POOL: QThreadPool | None = None


def pool() -> QThreadPool:
    global _POOL
    if _POOL is None:
        _POOL = QThreadPool()
        _POOL.setMaxThreadCount(2)
    return _POOL


class BackgroundJob(QObject):
    """The signals of one job. ``succeeded(result)``, ``failed(exception, traceback)``; ``done``
    is always the last one. Also emits ``progress(k, n)`` when the function calls ``report``."""

    succeeded = Signal(object)
    failed = Signal(object, str)
    progress = Signal(int, int)
    done = Signal()

    def __init__(self) -> None:
        super().__init__()
        #: True from start() until ``done`` is delivered in the GUI thread (after the result).
        self.running = False
        self.done.connect(self._on_done)  # connected first: runs before anyone else's slot

    @Slot()
    def _on_done(self) -> None:
        self.running = False

    def start(self, fn: Callable[[], Any]) -> None:
        """Run ``fn()`` on the background pool. Connect to the signals first: they are emitted
        from the pool thread and arrive, queued, in the GUI thread."""
        self.running = True
        pool().start(_Runnable(self, fn))

    def report(self, k: int, n: int) -> None:
        """Called from the pool thread; the GUI receives it as ``progress`` (queued)."""
        self.progress.emit(int(k), int(n))


class _Runnable(QRunnable):
    def __init__(self, job: BackgroundJob, fn: Callable[[], Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._job = job  # keeps the signal object alive until the job has ended
        self._fn = fn

    def run(self) -> None:
        job = self._job
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the GUI, which decides
            job.failed.emit(exc, traceback.format_exc())
        else:
            job.succeeded.emit(result)
        finally:
            job.done.emit()


def wait_for_jobs(timeout_ms: int = 30_000) -> bool:
    """Wait for every background job to end (closing the window); True when they have."""
    return _POOL is None or _POOL.waitForDone(timeout_ms)
