"""What the built-in trainer offers on this machine: metrics per task and the device it would use.

Finding out imports torch (1–2 s), so it happens once per process on a short-lived daemon thread
(like the app's warm-up import); the answer, a frozen dataclass of plain values, comes back to the
GUI thread through a queued signal. Widgets call :meth:`TrainerInfoSource.request` when they are
first shown and listen to ``ready``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Signal


@dataclass(frozen=True)
class TrainerInfo:
    """Plain values only: this crosses from the probe thread to the GUI thread."""

    metrics: dict[str, tuple[str, ...]] = field(default_factory=dict)  # task -> metric names
    directions: dict[str, str] = field(default_factory=dict)  # metric -> its natural direction
    device: str = ""  # what device "auto" resolves to, in words
    cuda: bool = False
    mps: bool = False
    error: str = ""  # why the trainer could not be asked (e.g. torch missing)

    def metrics_for(self, task: str | None) -> tuple[str, ...]:
        if task in self.metrics:
            return self.metrics[task]
        seen: dict[str, None] = {}
        for names in self.metrics.values():
            seen.update(dict.fromkeys(names))
        return tuple(seen)


def probe() -> TrainerInfo:
    """Ask the trainer (imports torch). Never raises: a failure is reported in ``error``."""
    try:
        import torch

        from hpo_desktop.training.devices import describe_device
        from hpo_desktop.training.objective import metrics_for_task
        from hpo_desktop.training.trainer import METRIC_DIRECTIONS, TASK_METRICS

        return TrainerInfo(
            metrics={task: tuple(metrics_for_task(task)) for task in TASK_METRICS},
            directions=dict(METRIC_DIRECTIONS),
            device=describe_device("auto"),
            cuda=bool(torch.cuda.is_available()),
            mps=bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
        )
    except Exception as exc:  # noqa: BLE001 - any failure becomes a message in the GUI
        return TrainerInfo(device="unknown", error=f"{type(exc).__name__}: {exc}")


class TrainerInfoSource(QObject):
    """One per process (see :func:`trainer_info_source`); ``ready`` carries a :class:`TrainerInfo`."""

    ready = Signal(object)
    _done = Signal(object)  # emitted on the probe thread, delivered queued on the GUI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._info: TrainerInfo | None = None
        self._running = False
        self._done.connect(self._store)

    def info(self) -> TrainerInfo | None:
        return self._info

    def request(self) -> None:
        """Start the probe unless the answer is known or on its way (ask :meth:`info` first)."""
        if self._info is None and not self._running:
            self._running = True
            threading.Thread(target=self._probe, name="hpo-trainer-probe", daemon=True).start()

    def _probe(self) -> None:
        info = probe()
        try:
            self._done.emit(info)
        except RuntimeError:  # the application has gone away meanwhile
            pass

    def set_info(self, info: TrainerInfo) -> None:
        """Use a known answer (tests, or an app that probed already) instead of probing."""
        self._store(info)

    def _store(self, info: TrainerInfo) -> None:
        self._info = info
        self._running = False
        self.ready.emit(info)


_SOURCE: TrainerInfoSource | None = None


def trainer_info_source() -> TrainerInfoSource:
    """The process-wide source, created on first use (on the GUI thread) and owned by the app."""
    global _SOURCE
    if _SOURCE is None or not shiboken6.isValid(_SOURCE):
        _SOURCE = TrainerInfoSource(QCoreApplication.instance())
    return _SOURCE
