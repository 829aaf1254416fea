"""The live page: a running (or finished) study's curves, history, trials table and details.

Contract (docs/gui-contract.md): ``set_study(store, study_id)``, ``on_event(event)``,
``select_trial(number)``, ``clear()`` and the ``trial_selected`` signal.

Events only update :class:`~hpo_desktop.core.chartdata.LiveTrials` (a few dict operations); a
single-shot 200 ms timer then applies everything that changed to the charts and the table in one
go, so the page redraws at most 5 times a second however fast events arrive. The store is read
only in :meth:`set_study` and when a trial whose curves were not loaded is selected.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from ...core.chartdata import Changes, LiveTrial, LiveTrials, best_number
from ...core.storage import StudyStore
from ...core.trial import TrialState
from .curves_chart import LearningCurvesChart, running_numbers
from .history_chart import HistoryChart
from .run_progress import RunProgress
from .trial_details import TrialDetails
from .trials_table import TrialsTable

#: The trainer's default epoch budget, used for the epoch bar when a spec leaves it out.
_DEFAULT_EPOCHS = 20


def _spec_epochs(spec: dict[str, Any] | None) -> int | None:
    """The epoch budget a study's spec gives its trials (None: not a built-in trainer study)."""
    if not isinstance(spec, dict) or not ({"model", "data"} & set(spec)):
        return None
    model = spec.get("model")
    epochs = model.get("epochs") if isinstance(model, dict) else None
    return (
        epochs if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs > 0 else _DEFAULT_EPOCHS
    )


class LivePage(QWidget):
    """Curves and history on top, the trials table below, the selected trial's details on the
    right, and a progress row above all (``self.progress``, a :class:`RunProgress` the window
    may also show elsewhere)."""

    trial_selected = Signal(int)  # a trial number the user picked (table row or chart point)
    clone_requested = Signal(int)  # the trials table's "Clone and Edit…" on a row
    evaluate_requested = Signal(int)  # the trials table's "Evaluate on Test Set…" on a row

    #: Milliseconds between an event and the redraw it triggers (≤ 20 redraws a second).
    REDRAW_MS = 200

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.redraw_count = 0  # how many coalesced redraws ran (tests count them)
        self._store: StudyStore | None = None
        self._study_id: int | None = None
        self._book = LiveTrials()
        self._selected: int | None = None

        self.progress = RunProgress()
        self.curves = LearningCurvesChart()
        self.history = HistoryChart()
        self.table = TrialsTable()
        self.details = TrialDetails()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        # A redraw runs in stages, one per event-loop turn (table, curves, history, details), so
        # the charts' painting is spread out and the loop never stalls for the whole redraw.
        self._stages: list = []
        self._stage_timer = QTimer(self)
        self._stage_timer.setSingleShot(True)
        self._stage_timer.setInterval(0)
        self._stage_timer.timeout.connect(self._next_stage)

        charts = QSplitter(Qt.Orientation.Horizontal)
        charts.addWidget(self.curves)
        charts.addWidget(self.history)
        charts.setSizes([500, 500])
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(charts)
        left.addWidget(self.table)
        left.setSizes([430, 300])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(self.details)
        main.setStretchFactor(0, 1)
        main.setSizes([920, 340])
        for split in (charts, left, main):
            split.setChildrenCollapsible(False)
            split.setHandleWidth(6)
        self.splitters = (charts, left, main)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(6)
        lay.addWidget(self.progress)
        lay.addWidget(main, 1)

        self.table.trial_selected.connect(self._user_picked)
        self.table.clone_requested.connect(self.clone_requested)
        self.table.evaluate_requested.connect(self.evaluate_requested)
        self.curves.trial_clicked.connect(self._user_picked)
        self.history.trial_clicked.connect(self._user_picked)
        self._install(self._book)

    # -- the contract ---------------------------------------------------------------------
    def set_study(self, store: StudyStore | None, study_id: int | None) -> None:
        """Show a stored study: its trials, the curves of the recent ones, the best and the
        running trial (older trials' curves are read when one is selected)."""
        self.clear()
        if store is None or study_id is None:
            return
        self._store, self._study_id = store, study_id
        record = store.get_study_by_id(study_id)
        book = LiveTrials(
            name=record.name,
            metric=record.metric,
            direction=record.direction,
            budget=record.budget,
            default_epochs=_spec_epochs(record.spec),
        )
        trials = store.get_trials(study_id)
        wanted = {t.number for t in trials[-LearningCurvesChart.MAX_CURVES :]}
        wanted |= {t.number for t in trials if t.state == TrialState.RUNNING}
        best = best_number(trials, record.direction)
        if best is not None:
            wanted.add(best)
        live = []
        for t in trials:
            lt = LiveTrial.from_frozen(t, curves_loaded=False)
            if t.number in wanted:
                lt.set_curves(store.get_curves(t.trial_id))
            live.append(lt)
        book.load(live)
        book.take_changes()
        self._install(book)

    def on_event(self, event: object) -> None:
        """Record a core event; the redraw follows within :attr:`REDRAW_MS`."""
        if self._book.apply(event) and not self._timer.isActive():
            self._timer.start()

    def select_trial(self, number: int | None) -> None:
        """Highlight trial ``number`` everywhere and show its details (no signal)."""
        t = self._book.get(number)
        if t is None:
            number = None
        elif not t.curves_loaded and self._store is not None and t.trial_id is not None:
            self._book.set_curves(t.number, self._store.get_curves(t.trial_id))
            self._schedule()
        self._selected = number
        self.table.select_trial(number)
        self.curves.set_selected(number)
        self.history.set_selected(number)
        self._show_details()

    def set_brush_filter(self, numbers: frozenset[int] | None) -> None:
        """Fade the trials outside the Analysis page's brush in the history (None: no brush)."""
        self.history.set_brush_filter(numbers)

    def clear(self) -> None:
        """Forget the study: empty charts, table and details."""
        self._timer.stop()
        self._stage_timer.stop()
        self._stages.clear()
        self._store, self._study_id = None, None
        self._selected = None
        self.progress.reset()
        self._install(LiveTrials())

    # -- extras for the window and tests ----------------------------------------------------
    @property
    def trials(self) -> LiveTrials:
        """What the page knows (read-only use, please)."""
        return self._book

    def selected_trial(self) -> int | None:
        return self._selected

    def flush(self) -> None:
        """Apply pending events now instead of waiting for the timer."""
        self._timer.stop()
        self._redraw(staged=False)

    def redraw_pending(self) -> bool:
        """Events recorded but not yet drawn, or a redraw still running its stages."""
        return self._timer.isActive() or bool(self._stages)

    # -- internals ------------------------------------------------------------------------
    def _install(self, book: LiveTrials) -> None:
        self._book = book
        self.table.model.set_book(book)
        self.curves.set_book(book)
        self.history.set_book(book)
        if len(book) or book.study_running:
            self._show_progress()
        self._show_details()

    def _show_progress(self) -> None:
        """The progress bars; with several running trials (workers > 1) the epoch bar follows
        the one that reported last, or another running one once that one finished."""
        book = self._book
        running = running_numbers(book)
        if running and book.running_number not in running:
            book.running_number = running[-1]
        self.progress.update_progress(book.progress(), running)

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _redraw(self, staged: bool = True) -> None:
        self._finish_stages()
        changes = self._book.take_changes()
        if not changes.any:
            return
        self.redraw_count += 1
        self._stages = [
            lambda: self.table.model.sync(changes),
            lambda: self.curves.sync(changes),
            lambda: self.history.sync(changes),
            lambda: (self._show_progress(), self._update_details(changes)),
        ]
        if staged:
            self._next_stage()
        else:
            self._finish_stages()

    def _next_stage(self) -> None:
        if self._stages:
            self._stages.pop(0)()
        if self._stages:
            self._stage_timer.start()

    def _finish_stages(self) -> None:
        self._stage_timer.stop()
        while self._stages:
            self._stages.pop(0)()

    def _details_number(self) -> int | None:
        """The selected trial; with none selected, the running trial, else the best one."""
        if self._selected is not None:
            return self._selected
        b = self._book
        running = b.get(b.running_number)
        if running is not None and running.state == TrialState.RUNNING:
            return running.number
        return b.best

    def _update_details(self, changes: Changes) -> None:
        n = self._details_number()
        if n is None:
            return
        if (
            n != self.details.trial_number()
            or n in changes.finished
            or n in changes.new
            or (changes.best_changed and n in (changes.best, changes.best_before))
        ):
            self._show_details()
        elif n in changes.curves or n in changes.updated:
            self.details.refresh_live(self._book.get(n))

    def _show_details(self) -> None:
        b = self._book
        t = b.get(self._details_number())
        note = ""
        if t is not None and self._selected is None:
            note = "running now" if t.state == TrialState.RUNNING else "the best so far"
            note = f"Showing the trial {note}; pick a trial to pin it."
        self.details.show_trial(
            t, metric=b.metric, direction=b.direction, is_best=t is not None and t.number == b.best, note=note
        )

    def _user_picked(self, number: int) -> None:
        self.select_trial(number)
        if self._selected is not None:
            self.trial_selected.emit(number)
