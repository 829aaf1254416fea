"""Where trials run: the executor interface of the study loop (docs/parallel.md).

An :class:`Executor` offers ``workers`` slots. :meth:`Study.optimize` (given ``executor=``) keeps
up to ``workers`` trials running at once: for each free slot it creates the trial row (queued
trials first, then a batch from the strategy) and calls :meth:`Executor.run` with that slot on a
thread of its own. ``run`` behaves like an objective (returns a number or a dict, raises
``TrialFailed`` / ``TrialPruned``) and relays the worker's reports to the real
:class:`~hpo_desktop.core.study.Trial` handle, so the calling process stays the single writer of
the study file and pruners see every running trial's reports.

* :class:`SerialExecutor` runs an in-process objective, one trial at a time (today's behaviour).
* ``hpo_desktop.training.pool.LocalProcessExecutor`` runs N spawned worker processes on this
  machine (threads and GPUs divided between them).
* ``hpo_desktop.training.ray_backend.RayExecutor`` runs one Ray actor per slot on a cluster.

A trial whose worker was *lost* (its process or cluster node went away, not the trial's own
fault: the executor stores ``attrs.worker_lost``) does not count toward the budget; its
configuration runs again once, before anything else (``attrs.retry_of`` names the lost trial;
if the run stops first, it goes to the front of the study's queue, so ``resume`` runs it).

Nothing here imports Qt or torch.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any


class Executor(ABC):
    """Runs trials on ``workers`` slots (numbered 0 … workers-1)."""

    workers: int = 1

    def start(self) -> None:  # noqa: B027 - optional hook
        """Prepare the workers (start processes, load data); raises on a setup problem."""

    @abstractmethod
    def run(self, slot: int, params: Mapping[str, Any], trial: Any) -> Any:
        """Run one trial on ``slot`` and return the objective's result.

        Called on a thread of the study loop; one call per slot at a time. Reports go to
        ``trial.report`` as they happen, and ``trial.should_stop()`` is asked between them.
        """

    def slot_info(self, slot: int) -> dict[str, Any]:
        """What the trial row records about where it ran: ``{"worker": n, "device": ...}``."""
        return {"worker": slot + 1}

    def cancel(self) -> None:  # noqa: B027 - optional hook
        """Stop running trials soon (the loop has already set the study's cancel flag)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """End the workers."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(Executor):
    """One slot running ``objective(params, trial)`` in this process (the default behaviour)."""

    workers = 1

    def __init__(self, objective: Callable[[dict[str, Any], Any], Any], device: str = "") -> None:
        self.objective = objective
        self.device = device or str(getattr(objective, "device_label", "") or "")

    def run(self, slot: int, params: Mapping[str, Any], trial: Any) -> Any:
        return self.objective(dict(params), trial)

    def slot_info(self, slot: int) -> dict[str, Any]:
        info: dict[str, Any] = {"worker": slot + 1}
        if self.device:
            info["device"] = self.device
        return info


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """CPU threads each of ``workers`` processes may use so they do not fight: cores // workers."""
    cores = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, int(cores) // max(1, int(workers)))


def assign_devices(workers: int, gpus: Sequence[str]) -> list[str | None]:
    """The GPU each worker sees (its ``CUDA_VISIBLE_DEVICES``), or None for CPU-only workers.

    With GPUs, worker i gets GPU ``i mod len(gpus)`` (one per GPU when workers == GPUs, the
    default; several workers share a GPU round-robin when there are more workers than GPUs).
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if not gpus:
        return [None] * workers
    return [str(gpus[i % len(gpus)]) for i in range(workers)]


def visible_gpus(environ: Mapping[str, str] | None = None, count: int | None = None) -> list[str]:
    """The GPU ids this process may hand out: ``CUDA_VISIBLE_DEVICES`` when set (empty or "-1"
    means none), else ``0 … count-1`` (``count`` from the caller, e.g. torch.cuda.device_count())."""
    env = os.environ if environ is None else environ
    value = env.get("CUDA_VISIBLE_DEVICES")
    if value is not None:
        ids = [v.strip() for v in value.split(",") if v.strip()]
        return [] if ids in ([], ["-1"]) else ids
    return [str(i) for i in range(count or 0)]


def default_workers(gpus: Sequence[str]) -> int:
    """Workers when the user gives none on a GPU machine: one per GPU (1 on CPU)."""
    return max(1, len(gpus))


def run_parallel(
    study: Any,
    executor: Executor,
    strategy: Any,
    n_trials: int,
    finished: int,
    best: Any,
    emit: Callable[[Any], None],
    control: Any,
    timeout: float | None,
    max_failures_in_row: int | None,
) -> Any:
    """The body of :meth:`Study.optimize` with an executor: keep every free slot busy.

    Trial rows are created here, in order (queued trials first, then one batch from the
    strategy for all free slots: pending points make a batch distinct), so the numbering does
    not depend on thread timing; the strategy is asked and told only on this thread. The loop
    stops launching on budget, cancel, stop-after-trial, timeout, exhaustion or too many failures
    in a row, and returns once every running trial has finished.
    """
    import time
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from .study import announce_finish, failures_message, record_outcome, trial_seed
    from .trial import TrialState

    workers = max(1, int(executor.workers))
    free = list(range(workers))
    running: dict[Any, tuple[int, dict[str, Any], str]] = {}  # future -> slot, params, source
    retries: list[tuple[dict[str, Any], int]] = []  # (params, number) of trials whose worker was lost
    started = time.monotonic()
    failures_in_row = 0
    stop: tuple[str, str] | None = None
    cancel_sent = False
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hpo-trial")
    try:
        while True:
            if stop is None:
                if finished >= n_trials:
                    stop = ("budget", f"reached the budget of {n_trials} trials")
                elif control.cancelled:
                    stop = ("cancelled", "stopped by the user")
                elif control.stopping:
                    stop = ("stopped", "stopped by the user after a finished trial")
                elif timeout is not None and time.monotonic() - started >= timeout:
                    stop = ("timeout", f"stopped after the time limit of {timeout:g} s")
            if control.cancelled and not cancel_sent:
                cancel_sent = True
                executor.cancel()
            if stop is None and not control.paused:
                want = min(len(free), n_trials - finished - len(running))
                batch: list[tuple[dict[str, Any], str, dict[str, Any]]] = []
                while retries and len(batch) < want:
                    params, lost_number = retries.pop(0)
                    batch.append((params, "retry", {"retry_of": lost_number}))
                while len(batch) < want:
                    queued = study._next_queued()
                    if queued is None:
                        break
                    batch.append((queued, "queue", {"source": "queue"}))
                if len(batch) < want:
                    batch += [(p, "strategy", {}) for p in strategy.ask(want - len(batch))]
                if not batch and not running and want > 0:
                    stop = ("exhausted", f"{strategy.name} strategy has no untried points left")
                for params, source, extra in batch:
                    slot = free.pop(0)
                    attrs = {**executor.slot_info(slot), **extra}
                    frozen = study._store.create_trial(
                        study.study_id,
                        params,
                        seed=lambda number: trial_seed(study.seed, number),
                        attrs=attrs,
                    )
                    future = pool.submit(_run_on_slot, study, executor, slot, frozen, control, emit)
                    running[future] = (slot, dict(params), source)
            if not running:
                if stop is not None:
                    break
                if control.paused:
                    control.wait_while_paused()
                continue
            done, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                slot, params, source = running.pop(future)
                free.append(slot)
                free.sort()
                outcome = future.result()  # a StorageError ends the run (finally: the others stop)
                if source == "queue" and outcome.state == TrialState.INTERRUPTED:
                    study._store.enqueue_trial(study.study_id, params, front=True)
                best = record_outcome(study, strategy, outcome, best, emit)
                lost = outcome.state == TrialState.FAILED and bool((outcome.attrs or {}).get("worker_lost"))
                if lost and source != "retry":
                    retries.append((params, outcome.number))  # not the trial's fault: run it again
                elif outcome.state.is_finished:
                    finished += 1
                if outcome.state == TrialState.FAILED:
                    failures_in_row += 1
                    if max_failures_in_row is not None and failures_in_row >= max_failures_in_row:
                        stop = stop or ("failures", failures_message(failures_in_row, outcome.error))
                else:
                    failures_in_row = 0
                if outcome.state == TrialState.INTERRUPTED:
                    stop = stop or ("cancelled", "stopped by the user")
    except BaseException:
        control.cancel()  # Ctrl-C or the study file failed: stop the other trials, then re-raise
        executor.cancel()
        raise
    finally:
        pool.shutdown(wait=True)
        for params, _number in reversed(retries):  # stopped before they ran: `resume` runs them first
            try:
                study._store.enqueue_trial(study.study_id, params, front=True)
            except Exception:  # noqa: BLE001 - the file failed already; the error is on its way
                break

    reason, message = stop or ("budget", f"reached the budget of {n_trials} trials")
    return announce_finish(study, reason, message, finished, best, emit)


def _run_on_slot(
    study: Any, executor: Executor, slot: int, frozen: Any, control: Any, emit: Callable[[Any], None]
) -> Any:
    """One trial on one slot (a pool thread): the study's own trial machinery around executor.run."""
    from .storage import StorageError
    from .trial import TrialState

    def objective(params: dict[str, Any], trial: Any) -> Any:
        return executor.run(slot, params, trial)

    try:
        return study._run_created_trial(objective, frozen, control, emit)
    except StorageError as exc:
        try:
            study._store.finish_trial(
                frozen.trial_id, TrialState.INTERRUPTED, error=f"the study file could not be written: {exc}"
            )
        except StorageError:
            study._store.forget_running(frozen.trial_id)
        raise
