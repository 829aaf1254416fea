"""The study loop and the public Python API (``from hpo_desktop import Study``).

A :class:`Study` is a named search stored in a SQLite file. ``optimize`` asks
the strategy for params, runs the objective with a :class:`Trial` handle that
stores every report at once, tells the strategy the outcome, and hands out
frozen event dataclasses through a callback. Nothing here imports Qt or torch.

Budget: ``n_trials`` is the *total* number of finished trials (complete,
pruned or failed) the study should hold. Interrupted trials do not count; a
reopened study continues toward the budget.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .events import Event, StepReported, StudyFinished, StudyStarted, TrialFinished, TrialStarted
from .executors import Executor, run_parallel
from .pruners import Pruner, make_pruner, pruner_dict
from .space import Param, SearchSpace
from .spec import StudySpec
from .storage import StorageError, StudyExists, StudyRecord, StudyStore
from .strategies import Strategy, make_strategy
from .trial import FrozenTrial, TrialFailed, TrialPruned, TrialState

log = logging.getLogger(__name__)

_PRUNER_LOCK = threading.RLock()

Objective = Callable[[dict[str, Any], "Trial"], "float | Mapping[str, float]"]
Callback = Callable[[Event], None]


class StudyControl:
    """Thread-safe cancel and pause flags shared by the GUI and the running loop.

    The loop checks them between trials; a trainer checks them between
    batches through :meth:`Trial.should_stop` (which blocks while paused).
    """

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._stop_after_trial = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop_after_trial(self) -> None:
        """Let the running trial finish normally, then end the study (reason "stopped")."""
        self._stop_after_trial.set()
        self._running.set()

    @property
    def stopping(self) -> bool:
        return self._stop_after_trial.is_set()

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()  # wake a paused loop so it can stop

    def pause(self) -> None:
        if not self._cancel.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> None:
        """Block while paused; returns at once when running or cancelled."""
        while not self._running.wait(0.2):
            pass


def trial_seed(study_seed: int | None, number: int) -> int:
    """The seed of trial ``number``: a pure function of the study seed and the number."""
    entropy = [0 if study_seed is None else int(study_seed), int(number)]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def _plain_number(name: str, value: Any) -> float:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"metric '{name}' must be a number, got {value!r}")
    return float(value)


class Trial:
    """What the objective receives: the params, a seed, and a way to report progress."""

    def __init__(
        self,
        study: Study,
        frozen: FrozenTrial,
        control: StudyControl,
        emit: Callable[[Event], None],
        pruner: Pruner | None = None,
    ):
        self._study = study
        self._frozen = frozen
        self._control = control
        self._emit = emit
        self._pruner = pruner
        self._pruned = False
        self.pruned_at: int | None = None  # the step at which the pruner stopped this trial
        self.pruned_by: str | None = None  # the pruner's reason
        self.curve: list[tuple[int, float]] = []  # (step, value) reports of the study metric
        self.last_metrics: dict[str, float] = {}
        self.last_step: int | None = None

    @property
    def number(self) -> int:
        return self._frozen.number

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._frozen.params)

    @property
    def seed(self) -> int:
        return int(self._frozen.seed or 0)

    @property
    def study_name(self) -> str:
        return self._study.name

    def set_attrs(self, attrs: Mapping[str, Any]) -> None:
        """Keep extra information with this trial (merged into its stored attrs)."""
        self._study.store.set_trial_attrs(self._frozen.trial_id, attrs)

    def report(self, step: int, **metrics: Any) -> None:
        """Store metrics for ``step`` (committed at once) and tell the listeners."""
        if hasattr(step, "item"):
            step = step.item()
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"step must be a non-negative integer, got {step!r}")
        if not metrics:
            raise ValueError("report() needs at least one metric, e.g. trial.report(epoch, val_loss=0.3)")
        values = {name: _plain_number(name, v) for name, v in metrics.items()}
        self._study._store.report(self._frozen.trial_id, step, values)
        self.last_step = step
        self.last_metrics.update(values)
        metric = self._study.metric
        if metric in values:
            if self.curve and self.curve[-1][0] >= step:  # a step reported again replaces it
                self.curve = sorted({**dict(self.curve), step: values[metric]}.items())
            else:
                self.curve.append((step, values[metric]))
            if self._pruner is not None and not self._pruned:
                self._consult_pruner(step)
        self._emit(StepReported(self._study.name, self.number, step, values))

    def _consult_pruner(self, step: int) -> None:
        try:
            with _PRUNER_LOCK:  # concurrent trials (executors) share the study's pruner
                reason = self._pruner.check(self.number, self.curve)  # type: ignore[union-attr]
        except Exception:  # a pruner bug must not lose the trial
            log.exception("the pruner failed on trial %d; it goes on unpruned", self.number)
            return
        if reason:
            self._pruned, self.pruned_at, self.pruned_by = True, step, reason

    @property
    def pruned(self) -> bool:
        """True once the study's pruner decided to stop this trial (see :attr:`pruned_by`)."""
        return self._pruned

    def should_prune(self) -> bool:
        """True once the study's pruner decided to stop this trial (Optuna's name for it)."""
        return self._pruned

    def should_stop(self) -> bool:
        """True when the user cancelled (or a pruner stopped this trial). Blocks while paused."""
        self._control.wait_while_paused()
        return self._control.cancelled or self._pruned

    @property
    def cancelled(self) -> bool:
        return self._control.cancelled


class Study:
    """A named search in a study file. Create with :meth:`create`, reopen with :meth:`open`."""

    def __init__(self, store: StudyStore, record: StudyRecord, *, owns_store: bool = True):
        self._store = store
        self._record = record
        self._owns_store = owns_store
        self.space = SearchSpace.from_dict(record.space)
        self._pruner: Pruner | None = None  # built by optimize() from the stored trials

    # -- construction ----------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        name: str,
        space: SearchSpace | Mapping[str, Param] | Mapping[str, Mapping[str, Any]],
        strategy: str | Mapping[str, Any] = "bayesian",
        *,
        metric: str = "value",
        direction: str = "minimize",
        seed: int | None = 0,
        n_trials: int | None = None,
        strategy_options: Mapping[str, Any] | None = None,
        spec: Mapping[str, Any] | None = None,
        parent: str | None = None,
        load_if_exists: bool = False,
        pruner: str | Mapping[str, Any] | None = None,
    ) -> Study:
        """Create a study in ``path`` (the file is created if needed).

        ``strategy`` is a registry name ("grid", "random", "bayesian") with
        ``strategy_options``, or a dict ``{"kind": ..., **options}``. ``pruner``
        is a pruner name ("median", "asha", "hyperband", "patience", "none") or a
        dict ``{"kind": ..., **options}``; it is kept in the study's attrs under
        "pruner". Raises ValueError subclasses with a clear message for a bad
        space, strategy, pruner, metric or direction before anything is written.
        """
        space = SearchSpace.coerce(space)
        strategy_dict = _strategy_dict(strategy, strategy_options)
        pruner_table = pruner_dict(pruner)
        if direction not in ("minimize", "maximize"):
            raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
        if not isinstance(metric, str) or not metric.strip():
            raise ValueError(f"metric must be a non-empty name, got {metric!r}")
        if n_trials is not None and (
            not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials < 1
        ):
            raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
        # Build once so a bad option or a too-large grid fails before the file is touched.
        _build_strategy(strategy_dict, space, seed, direction)
        make_pruner(pruner_table, direction=direction, seed=seed)
        store = StudyStore(path)
        try:
            parent_id = store.get_study(parent).study_id if parent else None
            try:
                record = store.create_study(
                    name,
                    metric=metric,
                    direction=direction,
                    space=space.to_dict(),
                    strategy=strategy_dict,
                    seed=seed,
                    budget=n_trials,
                    parent_id=parent_id,
                    spec=dict(spec) if spec else None,
                    attrs={"pruner": pruner_table} if pruner_table["kind"] != "none" else None,
                )
            except StudyExists:
                if not load_if_exists:
                    raise
                record = store.get_study(name)
                store.mark_interrupted(record.study_id)
        except BaseException:
            store.close()
            raise
        return cls(store, record)

    @classmethod
    def open(cls, path: str | os.PathLike[str], name: str | None = None, *, readonly: bool = False) -> Study:
        """Reopen a study. ``name`` may be left out when the file holds exactly one.

        Trials left "running" by a process that is gone are marked interrupted.
        """
        if not Path(path).exists():
            from .storage import StorageError

            raise StorageError(f"{path}: no such study file")
        store = StudyStore(path, readonly=readonly)
        try:
            record = pick_study(store, name)
            if not readonly:
                store.mark_interrupted(record.study_id)
        except BaseException:
            store.close()
            raise
        return cls(store, record)

    def close(self) -> None:
        if self._owns_store:
            self._store.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- properties --------------------------------------------------------------------
    @property
    def record(self) -> StudyRecord:
        return self._record

    @property
    def store(self) -> StudyStore:
        return self._store

    @property
    def study_id(self) -> int:
        return self._record.study_id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def metric(self) -> str:
        return self._record.metric

    @property
    def direction(self) -> str:
        return self._record.direction

    @property
    def seed(self) -> int | None:
        return self._record.seed

    @property
    def budget(self) -> int | None:
        return self._record.budget

    @property
    def strategy(self) -> dict[str, Any]:
        return dict(self._record.strategy)

    @property
    def pruner(self) -> dict[str, Any]:
        """The pruner table ``{"kind": ..., **options}`` (``{"kind": "none"}`` without one)."""
        return pruner_dict(self._record.attrs.get("pruner"))

    @property
    def trials(self) -> list[FrozenTrial]:
        """Every trial, ordered by number (final metrics, no curves)."""
        return self._store.get_trials(self.study_id)

    def trial(self, number: int) -> FrozenTrial:
        """One trial with its learning curves."""
        trial = self._store.get_trial_by_number(self.study_id, number)
        if trial is not None:
            return trial
        raise KeyError(f"study '{self.name}' has no trial {number}")

    @property
    def best_trial(self) -> FrozenTrial | None:
        """The complete trial with the best finite value, or None when there is none yet."""
        return best_of(self.trials, self.direction)

    @property
    def best_value(self) -> float | None:
        best = self.best_trial
        return None if best is None else best.value

    @property
    def best_params(self) -> dict[str, Any] | None:
        best = self.best_trial
        return None if best is None else dict(best.params)

    def n_finished(self) -> int:
        return sum(1 for t in self.trials if t.state.is_finished)

    # -- the queue of enqueued trials -------------------------------------------------------------
    def enqueue(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Queue a configuration to run next (before the strategy's own points, first in first out).

        ``params`` is checked with :meth:`SearchSpace.check_config` (a :class:`ConfigError` lists
        every problem and nothing is stored); returns the normalized params that were queued.
        A queued trial counts toward the budget, and the strategy is told its result.
        """
        normalized = self.space.check_config(params)
        self._store.enqueue_trial(self.study_id, normalized)
        return normalized

    @property
    def queued(self) -> list[dict[str, Any]]:
        """The queued configurations, the next to run first."""
        return self._store.queued_trials(self.study_id)

    def _next_queued(self) -> dict[str, Any] | None:
        """Pop the next queued configuration that still fits the space (others are dropped with a
        warning: the space may have changed since it was queued)."""
        while True:
            params = self._store.pop_queued(self.study_id)
            if params is None:
                return None
            try:
                return self.space.check_config(params)
            except ValueError as exc:
                log.warning(
                    "study '%s': skipped a queued trial that no longer fits the space: %s", self.name, exc
                )

    def set_strategy(self, strategy: Mapping[str, Any]) -> None:
        """Switch strategy (e.g. random -> bayesian); the new one is rebuilt from the stored trials."""
        strategy_dict = _strategy_dict(strategy, None)
        _build_strategy(strategy_dict, self.space, self.seed, self.direction)  # fails early on bad options
        self._record = self._store.update_study(self.study_id, strategy=strategy_dict)

    def set_pruner(self, pruner: str | Mapping[str, Any] | None) -> None:
        """Change the pruner between runs (None or "none": no pruning). Checked before it is stored;
        trials already run keep their state."""
        table = pruner_dict(pruner)
        make_pruner(table, direction=self.direction, seed=self.seed)  # fails early on bad options
        attrs = dict(self._store.get_study_by_id(self.study_id).attrs)  # fresh: keep the queue
        if table["kind"] == "none":
            attrs.pop("pruner", None)
        else:
            attrs["pruner"] = table
        self._record = self._store.update_study(self.study_id, attrs=attrs)

    # -- the loop ----------------------------------------------------------------------
    def make_pruner(self) -> Pruner | None:
        """The study's pruner, rebuilt from the stored complete and pruned trials' curves of the
        study metric (so it decides as before a restart), or None when the study has none."""
        table = self.pruner
        if table["kind"] == "none":
            return None
        pruner = make_pruner(table, direction=self.direction, seed=self.seed)
        done = self._store.get_trials(self.study_id, states=(TrialState.COMPLETE, TrialState.PRUNED))
        curves = self._store.get_curves_many([t.trial_id for t in done], self.metric)  # one read
        for t in done:
            pruner.observe(t.number, t.state, curves[t.trial_id].get(self.metric, ()))
        return pruner

    def make_strategy(self) -> Strategy:
        """A strategy rebuilt from the space and every stored trial (never unpickled)."""
        strategy = _build_strategy(self._record.strategy, self.space, self.seed, self.direction)
        strategy.tell_trials(self.parent_trials())
        strategy.tell_trials(self.trials)
        return strategy

    def parent_trials(self) -> list[FrozenTrial]:
        """The parent study's finished trials that lie inside this study's space (warm start).

        Empty for a study without a parent. The strategy is told them before its first ask,
        so a grid skips points the parent already ran and a model learns from their results.
        """
        parent_id = self._record.parent_id
        if parent_id is None:
            return []
        return [
            t
            for t in self._store.get_trials(parent_id)
            if t.state.is_finished and self.space.contains(t.params)
        ]

    def optimize(
        self,
        objective: Objective | None,
        n_trials: int | None = None,
        *,
        timeout: float | None = None,
        callbacks: Callback | Iterable[Callback] = (),
        control: StudyControl | None = None,
        max_failures_in_row: int | None = 10,
        executor: Executor | None = None,
    ) -> StudyFinished:
        """Run trials until the study holds ``n_trials`` finished trials.

        ``n_trials`` defaults to the budget given at creation; giving it here
        updates the stored budget. Stops early when the strategy is exhausted,
        on cancel, after ``timeout`` seconds, or after ``max_failures_in_row``
        failed trials in a row (None: never). Exceptions in the objective fail
        the trial (the message is stored) and the study goes on; Ctrl-C marks
        the running trial interrupted and propagates.

        With an ``executor`` (core/executors.py; ``objective`` is then ignored and may be None),
        up to ``executor.workers`` trials run at once, each on a thread of this process that
        relays one worker's reports; this process stays the only writer of the study file.
        """
        if objective is None and executor is None:
            raise TypeError("optimize() needs an objective (or an executor that runs the trials)")
        if n_trials is None:
            n_trials = self.budget
        if n_trials is None:
            raise ValueError("give n_trials: this study was created without a budget")
        if not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials < 1:
            raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
        if n_trials != self.budget:
            self._record = self._store.update_study(self.study_id, budget=n_trials)
        control = control or StudyControl()
        listeners = [callbacks] if callable(callbacks) else list(callbacks)

        def emit(event: Event) -> None:
            for cb in listeners:
                try:
                    cb(event)
                except Exception:  # a broken listener must not lose trials
                    log.exception("study callback failed on %r", type(event).__name__)

        self._store.mark_interrupted(self.study_id)
        busy = self._store.running_elsewhere(self.study_id)
        if busy:
            number, pid = busy[0]
            raise StudyBusy(
                f"study '{self.name}' is already running in another process (pid {pid}, trial #{number}). "
                "Watch it there or in the app's Run page; run it here once that run has stopped."
            )
        strategy = self.make_strategy()
        self._pruner = self.make_pruner()
        trials = self.trials
        finished = sum(1 for t in trials if t.state.is_finished)
        best = best_of(trials, self.direction)
        emit(StudyStarted(self.name, n_trials, finished))
        if executor is not None:
            return run_parallel(
                self,
                executor,
                strategy,
                n_trials,
                finished,
                best,
                emit,
                control,
                timeout,
                max_failures_in_row,
            )

        started = time.monotonic()
        failures_in_row = 0
        reason, message = "budget", f"reached the budget of {n_trials} trials"
        while True:
            if finished >= n_trials:
                break
            control.wait_while_paused()
            if control.cancelled:
                reason, message = "cancelled", "stopped by the user"
                break
            if control.stopping:
                reason, message = "stopped", "stopped by the user after a finished trial"
                break
            if timeout is not None and time.monotonic() - started >= timeout:
                reason, message = "timeout", f"stopped after the time limit of {timeout:g} s"
                break
            queued = self._next_queued()
            if queued is not None:
                try:
                    outcome = self._run_trial(
                        objective, queued, control, emit, trial_attrs={"source": "queue"}
                    )
                except KeyboardInterrupt:
                    self._store.enqueue_trial(self.study_id, queued, front=True)  # run it next time
                    raise
                if outcome.state == TrialState.INTERRUPTED:
                    self._store.enqueue_trial(self.study_id, queued, front=True)
            else:
                asked = strategy.ask(1)
                if not asked:
                    reason, message = "exhausted", f"{strategy.name} strategy has no untried points left"
                    break
                outcome = self._run_trial(objective, asked[0], control, emit)
            best = record_outcome(self, strategy, outcome, best, emit)
            if outcome.state.is_finished:
                finished += 1
            if outcome.state == TrialState.FAILED:
                failures_in_row += 1
                if max_failures_in_row is not None and failures_in_row >= max_failures_in_row:
                    reason, message = "failures", failures_message(failures_in_row, outcome.error)
                    break
            else:
                failures_in_row = 0
            if outcome.state == TrialState.INTERRUPTED:
                reason, message = "cancelled", "stopped by the user"
                break

        return announce_finish(self, reason, message, finished, best, emit)

    def _run_trial(
        self,
        objective: Objective,
        params: dict[str, Any],
        control: StudyControl,
        emit: Callable[[Event], None],
        trial_attrs: Mapping[str, Any] | None = None,
    ) -> FrozenTrial:
        study_seed = self.seed
        frozen = self._store.create_trial(
            self.study_id, params, seed=lambda number: trial_seed(study_seed, number), attrs=trial_attrs
        )
        try:
            return self._run_created_trial(objective, frozen, control, emit)
        except StorageError as exc:
            # The file cannot be written (disk full, read-only, gone): stop the run. Leave the
            # trial for mark_interrupted if even marking it interrupted cannot be written.
            try:
                self._store.finish_trial(
                    frozen.trial_id,
                    TrialState.INTERRUPTED,
                    error=f"the study file could not be written: {exc}",
                )
            except StorageError:
                self._store.forget_running(frozen.trial_id)
            raise

    def _run_created_trial(
        self,
        objective: Objective,
        frozen: FrozenTrial,
        control: StudyControl,
        emit: Callable[[Event], None],
    ) -> FrozenTrial:
        pruner = self._pruner
        trial = Trial(self, frozen, control, emit, pruner)
        emit(TrialStarted(self.name, frozen.number, dict(frozen.params), trial.seed))
        state, value, metrics, error, attrs = TrialState.COMPLETE, None, {}, None, None
        try:
            result = objective(dict(frozen.params), trial)
        except StorageError:
            raise  # our own file failed, not the objective: handled by _run_trial
        except TrialPruned:
            state, metrics = TrialState.PRUNED, dict(trial.last_metrics)
            value = metrics.get(self.metric)
        except TrialFailed as exc:
            state, error, metrics = TrialState.FAILED, str(exc) or "failed", dict(trial.last_metrics)
        except KeyboardInterrupt:
            self._store.finish_trial(frozen.trial_id, TrialState.INTERRUPTED, error="interrupted by Ctrl-C")
            raise
        except Exception as exc:
            state, error = TrialState.FAILED, f"{type(exc).__name__}: {exc}"
            attrs = {"traceback": traceback.format_exc(limit=20)}
            metrics = dict(trial.last_metrics)
        else:
            try:
                metrics = self._result_metrics(result)
            except (TypeError, ValueError) as exc:
                state, error = TrialState.FAILED, str(exc)
            else:
                value = metrics[self.metric]
                if trial._pruned:
                    state = TrialState.PRUNED
                elif control.cancelled:
                    state, error = TrialState.INTERRUPTED, "stopped by the user before it finished"
                elif not math.isfinite(value):
                    state, error = TrialState.FAILED, f"the objective returned {value} for '{self.metric}'"
        if state == TrialState.FAILED and control.cancelled and error is not None:
            # A trial that broke while the user was stopping is not a real failure.
            state = TrialState.INTERRUPTED
        if state == TrialState.PRUNED and trial.pruned_by is not None:
            attrs = {**(attrs or {}), "pruned_at": trial.pruned_at, "pruned_by": trial.pruned_by}
        done = self._store.finish_trial(
            frozen.trial_id, state, value=value, metrics=metrics, error=error, attrs=attrs
        )
        if pruner is not None:
            with _PRUNER_LOCK:
                pruner.observe(done.number, done.state, trial.curve)
        return done

    def _result_metrics(self, result: Any) -> dict[str, float]:
        if hasattr(result, "item") and not isinstance(result, Mapping):
            result = result.item()
        if isinstance(result, (int, float)) and not isinstance(result, bool):
            return {self.metric: float(result)}
        if isinstance(result, Mapping):
            metrics = {str(k): _plain_number(str(k), v) for k, v in result.items()}
            if self.metric not in metrics:
                names = ", ".join(metrics) or "nothing"
                raise ValueError(
                    f"the objective returned no '{self.metric}' (the study's metric); it returned {names}"
                )
            return metrics
        raise TypeError(
            f"the objective returned {result!r}; expected a number or a dict with '{self.metric}'"
        )


class StudyBusy(StorageError):
    """Another live process is running this study's trials right now."""


class AmbiguousStudy(ValueError):
    """A study file holds several studies (or none) and no name was given."""


def pick_study(store: StudyStore, name: str | None) -> StudyRecord:
    """The study called ``name``, or the only study in the file when ``name`` is None."""
    if name is not None:
        return store.get_study(name)
    studies = store.list_studies()
    if len(studies) != 1:
        names = ", ".join(s.name for s in studies) or "none"
        raise AmbiguousStudy(
            f"{store.path} holds {len(studies)} studies ({names}); say which one (--study NAME)"
        )
    return studies[0]


def create_from_spec(
    path: str | os.PathLike[str],
    spec: StudySpec,
    *,
    n_trials: int | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    load_if_exists: bool = True,
    parent: str | None = None,
) -> Study:
    """Create (or load) the study a spec file describes, keeping its [data]/[model] sections.

    The stored extras carry ``base_dir`` so that ``resume`` (CLI or window) can rebuild the
    objective with the spec's relative paths. ``parent`` names the study this one refines
    (a child warm-starts from the parent's trials inside its space).
    """
    extra = {**spec.extra, "base_dir": str(base_dir if base_dir is not None else spec.base_dir)}
    return Study.create(
        path,
        spec.name,
        spec.space,
        spec.strategy,
        metric=spec.metric,
        direction=spec.direction,
        seed=spec.seed,
        n_trials=n_trials if n_trials is not None else spec.trials,
        spec=extra,
        parent=parent,
        load_if_exists=load_if_exists,
        pruner=getattr(spec, "pruner", None),
    )


def record_outcome(
    study: Study,
    strategy: Strategy,
    outcome: FrozenTrial,
    best: FrozenTrial | None,
    emit: Callable[[Event], None],
) -> FrozenTrial | None:
    """After a trial (serial or parallel loop): tell the strategy, announce the trial, and
    return the study's best trial so far."""
    strategy.tell(outcome.params, outcome.value, outcome.state)
    is_best = False
    if outcome.state == TrialState.COMPLETE and outcome.has_finite_value:
        if best is None or _better(outcome.value, best.value, study.direction):
            best, is_best = outcome, True
    emit(
        TrialFinished(
            study.name,
            outcome.number,
            outcome.state,
            dict(outcome.params),
            outcome.value,
            dict(outcome.metrics),
            outcome.seconds,
            outcome.error,
            is_best,
            dict(outcome.attrs),
        )
    )
    return best


def announce_finish(
    study: Study,
    reason: str,
    message: str,
    finished: int,
    best: FrozenTrial | None,
    emit: Callable[[Event], None],
) -> StudyFinished:
    """Emit and return the StudyFinished that ends a run (serial or parallel)."""
    done = StudyFinished(
        study.name,
        reason,
        message,
        finished,
        None if best is None else best.number,
        None if best is None else best.value,
    )
    emit(done)
    return done


def failures_message(failures_in_row: int, error: str | None) -> str:
    return f"stopped after {failures_in_row} failed trials in a row; the last one failed with: {error}"


def best_of(trials: Iterable[FrozenTrial], direction: str) -> FrozenTrial | None:
    best: FrozenTrial | None = None
    for t in trials:
        if t.state == TrialState.COMPLETE and t.has_finite_value:
            if best is None or _better(t.value, best.value, direction):
                best = t
    return best


def _better(a: float | None, b: float | None, direction: str) -> bool:
    if a is None:
        return False
    if b is None:
        return True
    return a > b if direction == "maximize" else a < b


def _strategy_dict(strategy: str | Mapping[str, Any], options: Mapping[str, Any] | None) -> dict[str, Any]:
    if isinstance(strategy, str):
        out = {"kind": strategy}
    elif isinstance(strategy, Mapping):
        out = dict(strategy)
        if "kind" not in out:
            raise ValueError("a strategy table needs a 'kind' (grid, random or bayesian)")
    else:
        raise TypeError(f"strategy must be a name or a table, got {strategy!r}")
    out.update(options or {})
    return out


def _build_strategy(
    strategy: Mapping[str, Any], space: SearchSpace, seed: int | None, direction: str
) -> Strategy:
    options = {k: v for k, v in strategy.items() if k != "kind"}
    return make_strategy(strategy["kind"], space, seed=seed, direction=direction, **options)
