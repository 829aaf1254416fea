"""The analysis page: slice, parallel coordinates, contour, importance, trade-offs and all curves
(one tab each), with the insights panel beside them.

Same contract as the live page: ``set_study(store, study_id)``, ``on_event(event)``,
``select_trial(number)`` and ``trial_selected``. Recomputation is lazy and coalesced:

* a finished trial only starts a one-second single-shot timer; when it fires the page reads the
  trials once, on the thread pool, and marks every view stale when they arrive (so a burst of
  trials costs one reload a second, and the GUI thread never waits for the file);
* only the visible view (and the insights panel) is recomputed; a hidden view is recomputed
  when it is shown, and nothing is computed while the page itself is hidden;
* heavy views (contour, importance, insights) run on the page's own QThreadPool and post their
  result back through a signal; a result older than the view's latest request is dropped;
* a brush on the parallel coordinates becomes the page's ``brush_filter`` (``brush_changed``):
  every other view fades the trials outside it by redrawing what it already computed;
* after a draw a view may read more in the background (``AnalysisView.prefetch``: "All curves"
  reads the other trials' curves, so a brush needs no read): one chunk per pool job, at a lower
  priority than any computation, while the page is shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QComboBox, QSplitter, QTabWidget, QVBoxLayout, QWidget

from ...core.events import StudyFinished, TrialFinished
from ...core.storage import StudyStore
from . import base
from .contour_view import ContourView
from .insights_panel import InsightsPanel
from .parallel_view import ParallelView
from .simple_views import CurvesView, ImportanceView, TradeoffView
from .slice_view import SliceView


class _Relay(QObject):
    """Lives on the GUI thread; jobs emit ``done`` from the pool's threads (queued delivery)."""

    done = Signal(object, int, object, bool)  # view, generation, result or exception, ok
    prefetched = Signal(object, int, object, bool)  # the same, for AnalysisView.prefetch
    loaded = Signal(int, object, bool)  # load generation, StudyContext or exception, ok


class _Job(QRunnable):
    def __init__(
        self, relay: _Relay, view: base.AnalysisView, gen: int, fn: Callable[[], Any], prefetch: bool = False
    ) -> None:
        super().__init__()
        self.relay, self.view, self.gen, self.fn = relay, view, gen, fn
        self.prefetch = prefetch

    def run(self) -> None:
        try:
            result, ok = self.fn(), True
        except Exception as exc:  # shown in the view, never raised on a pool thread
            result, ok = exc, False
        try:
            signal = self.relay.prefetched if self.prefetch else self.relay.done
            signal.emit(self.view, self.gen, result, ok)
        except RuntimeError:  # the page is gone
            pass


class _Load(QRunnable):
    """Read a study snapshot on the pool; ``loaded`` brings it back to the GUI thread."""

    def __init__(self, relay: _Relay, gen: int, store: StudyStore, study_id: int) -> None:
        super().__init__()
        self.relay, self.gen, self.store, self.study_id = relay, gen, store, study_id

    def run(self) -> None:
        try:
            result, ok = _read_context(self.store, self.study_id), True
        except Exception as exc:  # e.g. the file went away; the page keeps its last snapshot
            result, ok = exc, False
        try:
            self.relay.loaded.emit(self.gen, result, ok)
        except RuntimeError:  # the page is gone
            pass


def _read_context(store: StudyStore, study_id: int) -> base.StudyContext:
    from ...core.space import SearchSpace

    record = store.get_study_by_id(study_id)
    try:
        space = SearchSpace.from_dict(record.space or {}, validate=False)
    except Exception:  # a stored space this version cannot read: no parameter views
        space = SearchSpace.from_dict({}, validate=False)
    return base.StudyContext(
        space=space,
        trials=store.get_trials(study_id),
        metric=record.metric,
        direction=record.direction,
        read_curves=store.get_curves_many,
    )


class AnalysisPage(QWidget):
    trial_selected = Signal(int)  # a trial the user clicked in any view
    filtered = Signal(object)  # list[int]: the trials passing the parallel-coordinates brushes
    brush_changed = Signal(object)  # frozenset[int] of the trials passing the brushes, or None

    #: Milliseconds between a finished trial and the reload it triggers (at most one a second).
    REFRESH_MS = 1000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store: StudyStore | None = None
        self._study_id: int | None = None
        self.ctx: base.StudyContext | None = None
        self._selected: int | None = None
        #: Trials passing the parallel-coordinates brushes (None: no brush), shown by every view.
        self.brush_filter: frozenset[int] | None = None
        self.reload_count = 0
        self.compute_counts: dict[str, int] = {}
        self.compute_ms: dict[str, float] = {}
        self._stale: set[base.AnalysisView] = set()
        self._gen: dict[base.AnalysisView, int] = {}
        self._in_flight: dict[base.AnalysisView, int] = {}  # jobs submitted and not yet back
        self._prefetching: set[base.AnalysisView] = set()  # a prefetch job submitted, not back

        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done, Qt.ConnectionType.QueuedConnection)
        self._relay.loaded.connect(self._on_loaded, Qt.ConnectionType.QueuedConnection)
        self._relay.prefetched.connect(self._on_prefetched, Qt.ConnectionType.QueuedConnection)
        self._load_gen = 0
        self._loading = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.REFRESH_MS)
        self._timer.timeout.connect(self._on_timer)
        self._reload_pending = False  # trials finished while the page was hidden

        self.slice = SliceView()
        self.parallel = ParallelView()
        self.contour = ContourView()
        self.importance = ImportanceView()
        self.tradeoffs = TradeoffView()
        self.curves = CurvesView()
        self.insights = InsightsPanel()
        self.views: list[base.AnalysisView] = [
            self.slice,
            self.parallel,
            self.contour,
            self.importance,
            self.tradeoffs,
            self.curves,
        ]
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for v in self.views:
            self.tabs.addTab(v, v.title)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.tabs)
        split.addWidget(self.insights)
        split.setStretchFactor(0, 1)
        split.setSizes([960, 300])
        split.setChildrenCollapsible(False)
        self.splitter = split
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.addWidget(split, 1)

        for v in (*self.views, self.insights):
            for combo in v.findChildren(QComboBox):
                combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            v.trial_clicked.connect(self._user_picked)
            v.changed.connect(lambda v=v: self._invalidate(v))
        self.parallel.filtered.connect(self._on_parallel_filtered)
        self.tabs.currentChanged.connect(lambda _i: self._refresh_visible())

    # -- the contract ---------------------------------------------------------------------
    def set_study(self, store: StudyStore | None, study_id: int | None) -> None:
        """Analyse a stored study (None, None: show nothing)."""
        self._timer.stop()
        self._reload_pending = False
        self._forget_results_in_flight()
        self._load_gen += 1  # a read still in flight belongs to the previous study
        self._loading = False
        if (store, study_id) != (self._store, self._study_id) and self.parallel.brushes:
            self.parallel.clear_brushes()  # brushes belong to a study's axes
        self._store, self._study_id = store, study_id
        self.ctx = None
        if store is None or study_id is None:
            self._stale.clear()
            return
        if self.isVisible():
            self._reload()
        else:
            self._reload_pending = True  # nothing is read or computed until the page is shown

    def on_event(self, event: object) -> None:
        """A core event: a finished trial schedules a reload (at most one per REFRESH_MS)."""
        if isinstance(event, (TrialFinished, StudyFinished)) and self._store is not None:
            if not self._timer.isActive():
                self._timer.start()

    def select_trial(self, number: int | None) -> None:
        """Highlight trial ``number`` in every view (no signal)."""
        self._selected = number
        for v in self.views:
            v.set_selected(number)

    def selected_trial(self) -> int | None:
        return self._selected

    def set_brush_filter(self, numbers: frozenset[int] | None) -> None:
        """Show only ``numbers`` as passing in every view but the parallel coordinates (the
        others faded); None shows every trial. Redraws only (no model is refitted); hidden views
        apply it when shown. Emits ``brush_changed`` when the filter changes."""
        if numbers is not None:
            numbers = frozenset(numbers)
        if numbers == self.brush_filter:
            return
        self.brush_filter = numbers
        for v in (*self.views, self.insights):
            if v is not self.parallel:
                v.set_brush_filter(numbers)
        self.brush_changed.emit(numbers)

    def _on_parallel_filtered(self, numbers: list[int]) -> None:
        self.filtered.emit(numbers)
        self.set_brush_filter(frozenset(numbers) if self.parallel.brushes else None)

    def current_view(self) -> base.AnalysisView:
        return self.tabs.currentWidget()  # type: ignore[return-value]

    def show_view(self, view: base.AnalysisView) -> None:
        self.tabs.setCurrentWidget(view)

    def wait_idle(self, timeout_ms: int = 30_000, *, prefetch: bool = False) -> bool:
        """Wait until the snapshot is read and the visible views are computed and drawn
        (tests, reports, benchmarks): the pool's results are delivered as they arrive. With
        ``prefetch``, also until the views' background reads are done (else at most the one
        running is waited for)."""
        from PySide6.QtCore import QCoreApplication

        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0 or not self._pool.waitForDone(left):
                return False
            QCoreApplication.processEvents()  # deliver results; may start the next job
            if not (self.busy() if prefetch else self.computing()):
                return True

    def busy(self) -> bool:
        """The pool works for this page: a read, a computation or a prefetch is in flight."""
        return self.computing() or bool(self._prefetching)

    def computing(self) -> bool:
        """A read or a computation the user waits for is in flight (not a prefetch)."""
        return self._loading or bool(self._in_flight)

    # -- internals ------------------------------------------------------------------------
    def _on_timer(self) -> None:
        if self.isVisible():
            self._reload()
        else:
            self._reload_pending = True  # read the trials when the page is shown

    def _reload(self) -> None:
        self._reload_pending = False
        store, study_id = self._store, self._study_id
        if store is None or study_id is None:
            return
        self._load_gen += 1
        self._loading = True
        self._pool.start(_Load(self._relay, self._load_gen, store, study_id))

    def _on_loaded(self, gen: int, result: Any, ok: bool) -> None:
        if gen != self._load_gen:
            return  # an older read, or another study: a newer one follows
        self._loading = False
        if not ok:
            return
        self.ctx = result
        self.reload_count += 1
        self._forget_results_in_flight()
        self._stale = {*self.views, self.insights}
        self._refresh_visible()

    def _forget_results_in_flight(self) -> None:
        """Results of jobs already submitted will be dropped when they arrive."""
        for view in self._gen:
            self._gen[view] += 1

    def _invalidate(self, view: base.AnalysisView) -> None:
        self._stale.add(view)
        self._refresh_visible()

    def _refresh_visible(self) -> None:
        if not self.isVisible():
            return
        if self._reload_pending:
            self._reload()  # calls back here with the new trials
            return
        if self.ctx is None:
            return
        for v in (self.current_view(), self.insights):
            if v in self._stale:
                self._compute(v)
            else:
                self._prefetch(v)  # resume one stopped while the page was hidden

    def _compute(self, view: base.AnalysisView) -> None:
        self._stale.discard(view)
        assert self.ctx is not None
        view.set_context(self.ctx)
        try:
            fn = view.request()
        except Exception as exc:
            view.show_error(exc)
            return
        if fn is None:
            return
        self.compute_counts[view.slug] = self.compute_counts.get(view.slug, 0) + 1
        gen = self._gen.get(view, 0) + 1
        self._gen[view] = gen
        if view.heavy:
            self._in_flight[view] = self._in_flight.get(view, 0) + 1
            self._pool.start(_Job(self._relay, view, gen, self._timed(view, fn)))
            return
        try:
            result = self._timed(view, fn)()
        except Exception as exc:
            view.show_error(exc)
            return
        view.draw(result)
        view.set_selected(self._selected)
        self._prefetch(view)

    def _timed(self, view: base.AnalysisView, fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            t0 = time.perf_counter()
            out = fn()
            self.compute_ms[view.slug] = (time.perf_counter() - t0) * 1000
            return out

        return run

    def _on_done(self, view: base.AnalysisView, gen: int, result: Any, ok: bool) -> None:
        left = self._in_flight.get(view, 1) - 1
        if left > 0:
            self._in_flight[view] = left
        else:
            self._in_flight.pop(view, None)
        if gen != self._gen.get(view):
            return  # computed from an older snapshot (or another study): a newer one follows
        if not ok:
            view.show_error(result)
            return
        view.draw(result)
        view.set_selected(self._selected)
        self._prefetch(view)

    def _prefetch(self, view: base.AnalysisView) -> None:
        """Submit the view's next background read, if it has one (one at a time per view)."""
        if view in self._prefetching or not self.isVisible() or self.ctx is None or view.ctx is not self.ctx:
            return
        try:
            fn = view.prefetch()
        except Exception:  # a prefetch is an optimisation: the view reads on demand instead
            return
        if fn is None:
            return
        self._prefetching.add(view)
        job = _Job(self._relay, view, self._gen.get(view, 0), fn, prefetch=True)
        self._pool.start(job, -1)  # behind every computation waiting in the pool

    def _on_prefetched(self, view: base.AnalysisView, gen: int, result: Any, ok: bool) -> None:
        self._prefetching.discard(view)
        if not ok:
            return  # e.g. the file went away: the view reads what it needs when it draws
        if gen == self._gen.get(view):
            view.prefetched(result)
        self._prefetch(view)  # the next chunk (the view knows what it still lacks)

    def _user_picked(self, number: int) -> None:
        self.select_trial(number)
        self.trial_selected.emit(number)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        QTimer.singleShot(0, self._refresh_visible)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._timer.stop()
        self._pool.clear()
        self._pool.waitForDone(10_000)
        self._prefetching.clear()  # jobs cleared from the pool never report back
        super().closeEvent(event)
