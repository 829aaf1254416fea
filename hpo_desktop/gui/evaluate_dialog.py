"""Study ▸ Evaluate on Test Set…: retrain a trial's configuration with N seeds, score the test split.

The dialog picks the trial (the best by default), the number of seeds (3) and whether the
validation data joins the training data. Evaluate runs
:func:`hpo_desktop.training.evaluation.evaluate_and_store` on a
:class:`~.background.BackgroundJob` (it opens its own stores; the GUI thread neither trains
nor writes SQL); ``progress(done, total)`` comes back as a queued signal for the "seed k of N"
bar, and Cancel sets a flag the evaluation checks before each seed (nothing is stored then).
The result - mean ± std of each test metric over the seeds - is shown in the dialog and
stored as its own record, which the window's Test-set evaluations panel lists.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.evaluation import EvaluationRecord, format_summary
from ..core.storage import StudyRecord, StudyStore
from ..core.trial import FrozenTrial, TrialState
from .background import BackgroundJob
from .enqueue_dialog import describe_config

DEFAULT_SEEDS = 3
MAX_SEEDS = 50


def _value_text(value: float | None) -> str:
    if value is None:
        return "no value"
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def candidate_trials(trials: list[FrozenTrial], direction: str) -> list[FrozenTrial]:
    """Complete trials with a finite value, best first, then the other complete or pruned ones."""
    ranked = [t for t in trials if t.state == TrialState.COMPLETE and t.has_finite_value]
    ranked.sort(key=lambda t: (-t.value if direction == "maximize" else t.value, t.number))
    rest = [t for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED) and t not in ranked]
    return ranked + rest


def summary_lines(record: EvaluationRecord) -> list[tuple[str, str]]:
    """(metric, "mean ± std") for each test metric of ``record``."""
    summary = record.summary
    out = []
    for name in record.test_metrics:
        mean, std = summary[name]
        out.append((name, f"{mean:.4f} ± {std:.4f}"))
    return out


class EvaluateDialog(QDialog):
    """Evaluate one trial of ``record`` (stored in ``store_path``) on the test split.

    ``evaluated(record)`` is emitted when an evaluation is stored; the dialog stays open with
    the result. ``trials`` are the study's trials (read by the caller from its read-only store).
    """

    evaluated = Signal(object)  # EvaluationRecord

    def __init__(
        self,
        store_path: Path,
        record: StudyRecord,
        trials: list[FrozenTrial],
        *,
        number: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("evaluate-dialog")
        self.setWindowTitle(f"Evaluate on Test Set — {record.name}")
        self.store_path = Path(store_path)
        self.record = record
        self.job: BackgroundJob | None = None
        self.result: EvaluationRecord | None = None
        self._stop = threading.Event()
        self._close_when_done = False
        self._candidates = candidate_trials(trials, record.direction)

        intro = QLabel(
            "Retrains the trial's configuration from scratch once per seed and scores the "
            "<b>test split</b>, which the search never saw. The result is stored on its own, apart "
            "from the search's trials."
        )
        intro.setWordWrap(True)

        self.trial_combo = QComboBox()
        self.trial_combo.setObjectName("evaluate-trial")
        best = (
            self._candidates[0].number if self._candidates and self._candidates[0].has_finite_value else None
        )
        for t in self._candidates:
            star = "★ " if t.number == best else ""
            state = "" if t.state == TrialState.COMPLETE else f" ({t.state.value})"
            self.trial_combo.addItem(
                f"{star}Trial {t.number} — {record.metric} {_value_text(t.value)}{state}", t.number
            )
        if number is not None and self.trial_combo.findData(number) >= 0:
            self.trial_combo.setCurrentIndex(self.trial_combo.findData(number))
        self.trial_combo.currentIndexChanged.connect(lambda _i: self._show_params())
        self.params_label = QLabel()
        self.params_label.setWordWrap(True)
        self.params_label.setEnabled(False)  # greyed: a reminder, not an input
        self.params_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.seeds_spin = QSpinBox()
        self.seeds_spin.setRange(1, MAX_SEEDS)
        self.seeds_spin.setValue(DEFAULT_SEEDS)
        self.seeds_spin.setToolTip("How many times to retrain, each with its own seed (mean ± std over them)")
        self.validation_check = QCheckBox("Include validation data in training")
        self.validation_check.setToolTip(
            "Train on the training and validation splits together, for the full number of epochs "
            "(no early stopping on validation)"
        )

        form = QFormLayout()
        form.addRow("Trial:", self.trial_combo)
        form.addRow("", self.params_label)
        form.addRow("Seeds:", self.seeds_spin)
        form.addRow("", self.validation_check)

        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("evaluate-progress")
        self.progress_bar.setFormat("%v of %m seeds done")
        self.progress_bar.hide()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.result_label = QLabel()
        self.result_label.setObjectName("evaluate-result")
        self.result_label.setWordWrap(True)
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.hide()

        self.buttons = QDialogButtonBox()
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setDefault(True)
        self.buttons.addButton(self.evaluate_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.evaluate_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.progress_bar)
        lay.addWidget(self.status_label)
        lay.addWidget(self.result_label)
        lay.addStretch(1)
        lay.addWidget(self.buttons)
        self._show_params()
        self._update_buttons()
        if not self._candidates:
            self.status_label.setText("No trial has completed yet: run the study first.")
        self.resize(560, self.sizeHint().height())

    # -- factory ---------------------------------------------------------------------------
    @classmethod
    def for_study(
        cls, reader: StudyStore, study_id: int, number: int | None = None, parent: QWidget | None = None
    ) -> EvaluateDialog:
        record = reader.get_study_by_id(study_id)
        return cls(reader.path, record, reader.get_trials(study_id), number=number, parent=parent)

    # -- state -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def chosen_number(self) -> int | None:
        data = self.trial_combo.currentData()
        return None if data is None else int(data)

    def trial_numbers(self) -> list[int]:
        return [t.number for t in self._candidates]

    # -- actions ---------------------------------------------------------------------------
    @Slot()
    def start(self) -> bool:
        """Evaluate: retrain the chosen trial with the chosen seeds, off the GUI thread."""
        number = self.chosen_number()
        if self.running or number is None:
            return False
        n = self.seeds_spin.value()
        include_validation = self.validation_check.isChecked()
        path, study_id = self.store_path, self.record.study_id
        self._stop.clear()
        job = self.job = BackgroundJob()
        stop = self._stop

        def evaluate() -> EvaluationRecord:
            from ..training.evaluation import evaluate_and_store
            from .worker import leave_a_core_for_the_window

            leave_a_core_for_the_window()
            return evaluate_and_store(
                path,
                study_id,
                number,
                seeds=n,
                include_validation=include_validation,
                progress=job.report,
                should_stop=stop.is_set,
            )

        job.progress.connect(self._on_progress)
        job.succeeded.connect(self._on_succeeded)
        job.failed.connect(self._on_failed)
        job.done.connect(self._on_done)
        self.result = None
        self.result_label.hide()
        self.progress_bar.setRange(0, n)
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.status_label.setText(f"Training seed 1 of {n}…")
        self._fit_height()
        job.start(evaluate)
        self._update_buttons()
        return True

    @Slot()
    def cancel(self) -> None:
        """Cancel: stop before the next seed (nothing is stored); with nothing running, close."""
        if not self.running:
            self.reject()
            return
        self._stop.set()
        self.status_label.setText("Cancelling: the seed being trained finishes first; nothing is stored.")
        self._update_buttons()

    def reject(self) -> None:
        if self.running:  # closing while it trains: cancel, close once the job has ended
            self._close_when_done = True
            self.cancel()
            return
        super().reject()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Cancel a running evaluation and wait for it to end (the window closing)."""
        from .background import wait_for_jobs

        if self.running:
            self._stop.set()
        return wait_for_jobs(timeout_ms)

    # -- job signals -----------------------------------------------------------------------
    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(done)
        if self._stop.is_set():
            return
        if done < total:
            self.status_label.setText(f"Training seed {done + 1} of {total}…")
        else:
            self.status_label.setText("Storing the result…")

    @Slot(object)
    def _on_succeeded(self, record: EvaluationRecord) -> None:
        self.result = record
        rows = "".join(
            f"<tr><td>{name}&nbsp;&nbsp;</td><td><b>{text}</b></td></tr>"
            for name, text in summary_lines(record)
        )
        where = "training + validation" if record.include_validation else "training"
        self.result_label.setText(
            f"<p>Trial {record.trial_number}, {len(record.per_seed)} seeds, trained on {where} data "
            f"({record.device}):</p><table>{rows}</table>"
        )
        self.result_label.setToolTip(format_summary(record))
        self.result_label.show()
        self._fit_height()
        self.status_label.setText("Stored in the study file; the Test-set evaluations panel lists it.")
        self.evaluated.emit(record)

    @Slot(object, str)
    def _on_failed(self, exc: BaseException, details: str) -> None:
        from ..training.evaluation import EvaluationCancelled

        self.progress_bar.hide()
        if isinstance(exc, EvaluationCancelled):
            self.status_label.setText("Cancelled; nothing was stored.")
            return
        self.status_label.setText("The evaluation failed; nothing was stored.")
        if self._close_when_done:
            return
        if isinstance(exc, _user_errors()):
            QMessageBox.warning(self, "Cannot evaluate", str(exc))
        else:
            QMessageBox.critical(
                self,
                "Unexpected error",
                f"The evaluation stopped because of an unexpected error:\n\n{type(exc).__name__}: {exc}",
            )

    @Slot()
    def _on_done(self) -> None:
        self._update_buttons()
        if self._close_when_done:
            self._close_when_done = False
            super().reject()

    # -- internals -------------------------------------------------------------------------
    def _fit_height(self) -> None:
        """Grow to show what was added (the result), never squeezing the inputs."""
        layout = self.layout()
        layout.activate()
        needed = max(layout.totalHeightForWidth(self.width()), layout.totalSizeHint().height())
        if self.height() < needed:
            self.resize(self.width(), needed)

    def _show_params(self) -> None:
        number = self.chosen_number()
        trial = next((t for t in self._candidates if t.number == number), None)
        self.params_label.setText(describe_config(trial.params) if trial is not None else "")

    def _update_buttons(self) -> None:
        running = self.running
        self.evaluate_button.setEnabled(not running and bool(self._candidates))
        self.cancel_button.setEnabled(running and not self._stop.is_set())
        self.close_button.setEnabled(not running)
        for w in (self.trial_combo, self.seeds_spin, self.validation_check):
            w.setEnabled(not running)


def _user_errors() -> tuple[type[BaseException], ...]:
    from .worker import user_error_types

    return (*user_error_types(), ValueError, OSError)


def result_text(record: EvaluationRecord) -> str:
    """The plain one-line summary, for the log."""
    return f"Trial {record.trial_number} on the test set: {format_summary(record)}"
