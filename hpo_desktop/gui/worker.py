"""Running a study off the GUI thread.

:class:`StudyWorker` is a QObject moved to a QThread. Its ``run`` slot opens its own
StudyStore in that thread (the GUI thread never writes SQL), builds the built-in objective,
and calls the Qt-free ``Study.optimize`` with a :class:`StudyControl` whose thread-safe flags
the trainer checks between batches (the thread has no Qt event loop while it trains, so a
signal sent to it would never be handled). Only the core's frozen event dataclasses and plain
strings cross back to the GUI, through queued signals.

:class:`StudyRunner` lives in the GUI thread, owns the thread and the worker (it keeps Python
references to both until the next run, so neither is destroyed while running), forwards the
worker's signals, and stops a run cleanly: cancel, ``quit()``, ``wait()`` with a timeout -
never ``terminate()``.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from ..core.events import StepReported, StudyFinished
from ..core.pruners import pruner_dict
from ..core.spec import StudySpec
from ..core.study import Study, StudyControl, create_from_spec

#: The GIL switch interval (seconds) while a study runs; see StudyRunner.start.
GUI_SWITCH_INTERVAL = 0.001


class RunSetupError(Exception):
    """The study cannot be started as asked (a plain message for a dialog)."""


@dataclass(frozen=True)
class RunRequest:
    """What to run: ``spec`` (from the SetupPage) in the study file ``db_path``.

    ``n_trials`` is the study's total budget. ``base_dir`` anchors relative paths of [data].
    ``parent`` names the study (in the same file) that a new study refines: it is created as
    that study's child and warm-starts from the parent's trials inside its space.
    """

    db_path: Path
    spec: StudySpec
    n_trials: int
    base_dir: Path
    max_failures_in_row: int = 10
    parent: str | None = None
    #: The SHA-256 the user trusted for the spec's script (see trust_dialog); the child refuses
    #: to run a file whose content no longer matches it.
    script_sha256: str | None = None


@dataclass(frozen=True)
class StudyOpened:
    """The worker has the study open and waits (briefly) before the first trial."""

    db_path: Path
    study_id: int
    name: str
    device: str
    data_summary: str


def user_error_types() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input rather than a bug: shown as a message, no traceback."""
    from ..core.space import GridTooLarge, SpaceError
    from ..core.spec import SpecError
    from ..core.storage import StorageError
    from ..core.strategies import StrategyError
    from ..training.datasets import DataError
    from ..training.objective import ModelConfigError
    from ..training.scripts import ScriptError

    return (
        RunSetupError,
        SpecError,
        SpaceError,
        GridTooLarge,
        StorageError,
        StrategyError,
        DataError,
        ModelConfigError,
        ScriptError,
    )


def _same_definition(record: Any, spec: StudySpec) -> bool:
    stored = record.spec or {}
    return (
        record.space == spec.space.to_dict()
        and record.metric == spec.metric
        and record.direction == spec.direction
        and record.strategy == spec.strategy
        and record.seed == spec.seed
        and stored.get("data") == spec.data
        and stored.get("model") == spec.model
        and stored.get("objective", {}) == spec.objective
        and pruner_dict(record.attrs.get("pruner")) == pruner_dict(spec.pruner)
    )


def open_study_for_run(request: RunRequest) -> Study:
    """Create the study in the file, or open the stored one of that name and check it matches.

    A stored study without trials takes the edited spec (it is made again); one with trials
    must have the same space, metric and direction (the window locks them), while a new
    strategy is recorded as the CLI's ``run`` does.
    """
    spec = request.spec

    def create(load: bool) -> Study:
        return create_from_spec(
            request.db_path,
            spec,
            n_trials=request.n_trials,
            base_dir=request.base_dir,
            load_if_exists=load,
            parent=request.parent,
        )

    study = create(True)
    rec = study.record
    if _same_definition(rec, spec):
        return study
    try:
        if not study.trials:
            study.store.delete_study(rec.study_id)
            study.close()
            return create(False)
        if rec.space != spec.space.to_dict() or rec.metric != spec.metric or rec.direction != spec.direction:
            raise RunSetupError(
                f"Study '{spec.name}' in {request.db_path.name} already has trials from a different search "
                "space, metric or direction. Give the study a new name to start a new one."
            )
        if rec.strategy != spec.strategy:
            study.set_strategy(spec.strategy)
        if study.pruner != pruner_dict(spec.pruner):
            study.set_pruner(spec.pruner)
    except BaseException:
        study.close()
        raise
    return study


def leave_a_core_for_the_window() -> None:
    """Train on all cores but one, so torch's busy threads cannot starve the GUI thread.

    On a two-core machine this halves torch's threads; the small networks this app trains
    rarely scale past a few threads anyway. Process-wide, and done once per run.
    """
    import torch

    cores = os.cpu_count() or 1
    if cores > 1 and torch.get_num_threads() >= cores:
        torch.set_num_threads(cores - 1)


class StudyWorker(QObject):
    """Runs one request in the thread it was moved to. Create a new worker for each run."""

    opened = Signal(object)  # StudyOpened
    event = Signal(object)  # core events (frozen dataclasses)
    log = Signal(str, str)  # (level, text): device and data information
    finished_run = Signal(object)  # StudyFinished
    failed = Signal(str)  # bad input: a plain message for a dialog
    crashed = Signal(str, str)  # unexpected error: (message, traceback)
    done = Signal()  # always the last signal of a run

    def __init__(self, request: RunRequest) -> None:
        super().__init__()
        self.request = request
        self.control = StudyControl()
        #: Set by the GUI once it has read the study's stored state (see StudyRunner).
        self.ready = threading.Event()
        self._froze = False

    def cancel(self) -> None:
        self.control.cancel()
        self.ready.set()

    def _emit(self, event: object) -> None:
        if not self._froze and isinstance(event, StepReported):
            # The first epoch has imported and built what training needs (torch submodules,
            # optimizers): freeze that too, so the loop's per-trial gc.collect() only looks at
            # objects made since - a few milliseconds instead of a GUI-stalling 100.
            self._froze = True
            gc.freeze()
        self.event.emit(event)

    @Slot()
    def run(self) -> None:
        try:
            self._run()
        except user_error_types() as exc:
            self.failed.emit(str(exc))
        except Exception as exc:
            self.crashed.emit(f"{type(exc).__name__}: {exc}", traceback.format_exc())
        finally:
            self.done.emit()

    def _make_objective(self) -> tuple[Any, str]:
        """The objective (or executor) and a one-line data summary. A spec's script is started
        (in a child process) and checked here, off the GUI thread, and only once the user has
        trusted it."""
        from ..training.runner import make_runner, runs_in_workers

        req = self.request
        spec = req.spec
        if spec.script is not None and req.script_sha256 is None:
            raise RunSetupError(f"The script {spec.script} has not been trusted, so it was not run.")
        ray = spec.backend == "ray"
        if ray:  # docs/parallel.md
            where = spec.execution.get("address", "auto")
            self.log.emit("info", f"Ray cluster at {where}: connecting and starting the trial workers")
        elif runs_in_workers(spec.execution):
            self.log.emit("info", f"Workers: {spec.workers} processes, one trial each at a time")
        elif spec.script is not None:
            self.log.emit("info", f"Script: {spec.script} (runs in its own process)")
        runner = make_runner(
            spec.data,
            spec.model,
            spec.objective,
            execution=spec.execution,
            metric=spec.metric,
            direction=spec.direction,
            base_dir=req.base_dir,
            space=spec.space,
            sha256=req.script_sha256 if spec.script is not None else None,
        )
        if ray:
            from ..training.ray_backend import cluster_summary

            self.log.emit("info", cluster_summary(runner))
        return runner, runner.data_summary

    def _run(self) -> None:
        req = self.request
        leave_a_core_for_the_window()
        objective, data_summary = self._make_objective()
        self.log.emit("info", f"Device: {objective.device_label}")
        self.log.emit("info", f"Data: {data_summary}")
        if self.control.cancelled:
            objective.release()
            return
        try:
            study = open_study_for_run(req)
        except BaseException:
            objective.release()  # a script's child process must not outlive the run
            raise
        try:
            self.opened.emit(
                StudyOpened(req.db_path, study.study_id, study.name, objective.device_label, data_summary)
            )
            # Let the GUI load what is stored before new events arrive, so nothing is shown twice.
            self.ready.wait(10.0)
            from ..core.executors import Executor

            parallel = isinstance(objective, Executor)
            done = study.optimize(
                None if parallel else objective,
                req.n_trials,
                control=self.control,
                callbacks=self._emit,
                max_failures_in_row=req.max_failures_in_row,
                executor=objective if parallel else None,
            )
        finally:
            objective.release()
            study.close()
        self.finished_run.emit(done)


class StudyRunner(QObject):
    """Starts, controls and stops :class:`StudyWorker` runs; one run at a time."""

    opened = Signal(object)
    event = Signal(object)
    log = Signal(str, str)
    finished_run = Signal(object)
    failed = Signal(str)
    crashed = Signal(str, str)
    running_changed = Signal(bool)
    paused_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: StudyWorker | None = None
        self._running = False
        self._switch_interval = sys.getswitchinterval()
        self.last_result: StudyFinished | None = None

    # -- state ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    @property
    def paused(self) -> bool:
        return self._worker is not None and self._running and self._worker.control.paused

    @property
    def stopping(self) -> bool:
        w = self._worker
        return w is not None and self._running and (w.control.stopping or w.control.cancelled)

    @property
    def cancelling(self) -> bool:
        w = self._worker
        return w is not None and self._running and w.control.cancelled

    @property
    def thread(self) -> QThread | None:
        return self._thread

    @property
    def request(self) -> RunRequest | None:
        return self._worker.request if self._worker else None

    # -- control ----------------------------------------------------------------------------
    def start(self, request: RunRequest) -> None:
        if self._running:
            raise RuntimeError("a study is already running")
        self._release_finished()
        thread = QThread()
        thread.setObjectName(f"study-{request.spec.name}")
        worker = StudyWorker(request)
        worker.moveToThread(thread)
        worker.opened.connect(self._on_opened)
        worker.event.connect(self.event)
        worker.log.connect(self.log)
        worker.finished_run.connect(self._on_finished_run)
        worker.failed.connect(self.failed)
        worker.crashed.connect(self.crashed)
        worker.done.connect(thread.quit)
        thread.started.connect(worker.run)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker  # references kept until the next run
        self._running = True
        self.last_result = None
        # Move every object that exists now (Qt, pyqtgraph, torch modules…) out of the cyclic
        # collector's sight while the run lasts: the study loop collects garbage after each trial,
        # and a full collection over the whole heap would hold the GIL - and the GUI - for 100+ ms.
        gc.freeze()
        # Hand the GIL over to the GUI thread after 1 ms instead of Python's default 5 ms: a
        # redraw calls into Python many times and would wait that long at each call.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, GUI_SWITCH_INTERVAL))
        self.running_changed.emit(True)
        thread.start()

    def pause(self) -> None:
        if self._worker is not None and self._running and not self.stopping:
            self._worker.control.pause()
            self.paused_changed.emit(True)

    def resume(self) -> None:
        if self._worker is not None and self._running:
            self._worker.control.resume()
            self.paused_changed.emit(False)

    def stop_after_trial(self) -> None:
        if self._worker is not None and self._running:
            self._worker.control.stop_after_trial()
            self.paused_changed.emit(False)

    def cancel(self) -> None:
        """Stop now: the running trial is marked interrupted, finished trials stay."""
        if self._worker is not None and self._running:
            self._worker.cancel()
            self.paused_changed.emit(False)

    def stop_and_wait(self, timeout_ms: int = 5000) -> bool:
        """Cancel and wait for the thread to end; True when it has (never terminates it)."""
        thread = self._thread
        if thread is None or not thread.isRunning():
            return True
        self.cancel()
        thread.quit()  # takes effect once the run slot returns
        if not thread.wait(timeout_ms):
            return False
        self._on_thread_finished()
        return True

    # -- internals --------------------------------------------------------------------------
    def _on_opened(self, info: StudyOpened) -> None:
        try:
            self.opened.emit(info)
        finally:
            if self._worker is not None:
                self._worker.ready.set()

    def _on_finished_run(self, done: StudyFinished) -> None:
        self.last_result = done
        self.finished_run.emit(done)

    def _on_thread_finished(self) -> None:
        if not self._running:
            return
        self._running = False
        gc.unfreeze()
        sys.setswitchinterval(self._switch_interval)
        self.running_changed.emit(False)

    def _release_finished(self) -> None:
        """Drop the previous run's thread and worker (only ever when that thread has ended)."""
        if self._thread is not None:
            self._thread.wait()
            self._worker.deleteLater()  # type: ignore[union-attr]
            self._thread.deleteLater()
        self._thread = self._worker = None
