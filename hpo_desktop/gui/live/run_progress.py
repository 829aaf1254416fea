"""Study progress at a glance: "12 / 20 trials", the running trial's epochs, elapsed and time left.

A widget of its own so the window can also put it in a status bar: feed it
:class:`~hpo_desktop.core.chartdata.ProgressData` (``LiveTrials.progress()``) whenever it changes;
it keeps its own clocks and ticks once a second while the study runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QWidget

from ...core.chartdata import ProgressData, time_left


def clock(seconds: float | None) -> str:
    """1:05, 12:40, 1:02:03."""
    if seconds is None:
        return "–"
    s = max(0, int(round(seconds)))
    h, m, s = s // 3600, s % 3600 // 60, s % 60
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class RunProgress(QWidget):
    """Two bars and a clock line; call :meth:`update_progress` on changes, :meth:`reset` to clear."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.study_bar = QProgressBar()
        self.study_bar.setToolTip("Finished trials (complete, pruned or failed) out of the budget")
        self.epoch_bar = QProgressBar()
        self.epoch_bar.setToolTip("Epochs of the running trial")
        for bar in (self.study_bar, self.epoch_bar):
            bar.setTextVisible(True)
            bar.setMinimumWidth(180)
            bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.time_label = QLabel()
        self.time_label.setMinimumWidth(260)
        self._data: ProgressData | None = None
        self._study_clock = QElapsedTimer()
        self._trial_clock = QElapsedTimer()
        self._trial_number: int | None = None
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._show_times)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.study_bar, 3)
        lay.addWidget(self.epoch_bar, 2)
        lay.addWidget(self.time_label, 2)
        self.reset()

    def reset(self) -> None:
        self._data = None
        self._trial_number = None
        self._study_clock.invalidate()
        self._trial_clock.invalidate()
        self._ticker.stop()
        self.study_bar.setRange(0, 1)
        self.study_bar.setValue(0)
        self.study_bar.setFormat("no study")
        self.epoch_bar.setRange(0, 1)
        self.epoch_bar.setValue(0)
        self.epoch_bar.setFormat("no trial running")
        self.time_label.setText("")

    def update_progress(self, data: ProgressData, running: Sequence[int] = ()) -> None:
        """Show ``data``; ``running`` lists every running trial (several with workers > 1)."""
        self._data = data
        if data.study_running and not self._study_clock.isValid():
            self._study_clock.start()
        if not data.study_running:
            self._study_clock.invalidate()
        if data.running_number != self._trial_number:
            self._trial_number = data.running_number
            if data.running_number is None:
                self._trial_clock.invalidate()
            else:
                self._trial_clock.start()
        if data.study_running and not self._ticker.isActive():
            self._ticker.start()
        elif not data.study_running:
            self._ticker.stop()

        if data.budget:
            self.study_bar.setRange(0, data.budget)
            self.study_bar.setValue(min(data.n_finished, data.budget))
            self.study_bar.setFormat(f"{data.n_finished} / {data.budget} trials")
        else:
            self.study_bar.setRange(0, 1)
            self.study_bar.setValue(0)
            self.study_bar.setFormat(f"{data.n_finished} trials")
        if data.running_number is None:
            self.epoch_bar.setRange(0, 1)
            self.epoch_bar.setValue(0)
            self.epoch_bar.setFormat("no trial running")
        else:
            epoch = data.running_epoch or 0
            others = [n for n in running if n != data.running_number]
            head = f"{len(others) + 1} trials running · " if others else ""
            self.epoch_bar.setToolTip(
                "Epochs of the trial that reported last; running now: "
                + ", ".join(f"#{n}" for n in sorted([data.running_number, *others]))
                if others
                else "Epochs of the running trial"
            )
            if data.max_epochs:
                self.epoch_bar.setRange(0, data.max_epochs)
                self.epoch_bar.setValue(min(epoch, data.max_epochs))
                self.epoch_bar.setFormat(
                    f"{head}trial {data.running_number} · epoch {epoch} / {data.max_epochs}"
                )
            else:
                self.epoch_bar.setRange(0, 1)
                self.epoch_bar.setValue(0)
                self.epoch_bar.setFormat(f"{head}trial {data.running_number} · epoch {epoch}")
        self._show_times()

    def elapsed_seconds(self) -> float | None:
        return self._study_clock.elapsed() / 1000.0 if self._study_clock.isValid() else None

    def _show_times(self) -> None:
        d = self._data
        if d is None:
            self.time_label.setText("")
            return
        if d.study_running:
            running = self._trial_clock.elapsed() / 1000.0 if self._trial_clock.isValid() else 0.0
            left = time_left(d, running)
            text = f"elapsed {clock(self.elapsed_seconds())}"
            if left is not None:
                text += f" · about {clock(left)} left"
            elif d.budget:
                text += " · time left: after the first trial"
            if d.mean_seconds is not None:
                text += f"  (mean {d.mean_seconds:.1f} s / trial)"
            self.time_label.setToolTip("Time left = trials still to run × mean duration of finished trials")
        elif d.message:
            text = f"Finished: {d.message}"
        elif d.n_finished:
            text = f"{d.n_finished} trials, {clock(d.total_seconds)} of training in all"
        else:
            text = ""
        self.time_label.setText(text)
