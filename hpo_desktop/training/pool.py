"""Local worker processes: N trials at once on one workstation (docs/parallel.md).

:class:`LocalProcessExecutor` implements :class:`hpo_desktop.core.executors.Executor` with one
:class:`~hpo_desktop.training.scripts.ScriptWorker` per slot: the same spawned child process,
pipe protocol, output capture and crash handling as a user script (script_child.py), with the
built-in trainer as a third form ("builtin") besides ``[model] script`` and
``[objective] script``. Each worker gets its share of the CPU threads (``cores // workers``,
through ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` and ``torch.set_num_threads``) and, on a machine
with GPUs, its own GPU (``CUDA_VISIBLE_DEVICES``; round-robin when there are more workers than
GPUs). Workers only send messages: the study loop's thread for that slot hands each report to
the real trial (so this process stays the only writer of the study file). A worker that
crashes fails its trial (reason + the tail of its output) and the next trial on that slot gets
a fresh process.

Importing this module does not import torch.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hpo_desktop.core.executors import Executor, assign_devices, threads_per_worker, visible_gpus

from .scripts import ScriptTask, ScriptWorker, script_task

#: The file name a built-in worker's messages use where a script's would name the script.
BUILTIN_NAME = "built-in trainer"


def builtin_task(
    data: Mapping[str, Any], model: Mapping[str, Any], *, metric: str, direction: str, base_dir: str | Path
) -> ScriptTask:
    """The task of a pool worker that trains the built-in networks (no user script)."""
    base = Path(base_dir).resolve()
    return ScriptTask(
        "builtin", base / BUILTIN_NAME, base, metric, direction, data=dict(data), setup=dict(model)
    )


def study_task(
    data: Mapping[str, Any],
    model: Mapping[str, Any],
    objective: Mapping[str, Any] | None,
    *,
    metric: str,
    direction: str,
    base_dir: str | Path,
    sha256: str | None = None,
) -> ScriptTask:
    """The worker task for a study's sections: its script's task, or the built-in trainer's."""
    task = script_task(
        data, model, objective, metric=metric, direction=direction, base_dir=base_dir, sha256=sha256
    )
    if task is not None:
        return task
    return builtin_task(data, model, metric=metric, direction=direction, base_dir=base_dir)


def detect_gpus() -> list[str]:
    """GPU ids to spread workers over: CUDA_VISIBLE_DEVICES, else torch's device count."""
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        return visible_gpus()
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return []
    return visible_gpus(count=torch.cuda.device_count() if torch.cuda.is_available() else 0)


def worker_envs(
    workers: int, *, cores: int | None = None, gpus: Sequence[str] | None = None
) -> list[tuple[dict[str, str], int]]:
    """Each worker's environment and torch thread count: its CPU share and (with GPUs) its GPU."""
    threads = threads_per_worker(workers, cores)
    devices = assign_devices(workers, list(gpus) if gpus is not None else detect_gpus())
    out = []
    for device in devices:
        env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        if device is not None:
            env["CUDA_VISIBLE_DEVICES"] = device
        out.append((env, threads))
    return out


class LocalProcessExecutor(Executor):
    """``workers`` spawned processes on this machine, each running one trial at a time."""

    def __init__(
        self,
        task: ScriptTask,
        workers: int,
        *,
        cores: int | None = None,
        gpus: Sequence[str] | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.task = task
        self.workers = int(workers)
        self._envs = worker_envs(self.workers, cores=cores, gpus=gpus)
        self.slots = [
            ScriptWorker(dataclasses.replace(task, env={**task.env, **env}, threads=threads))
            for env, threads in self._envs
        ]
        self._started = False

    @property
    def device_label(self) -> str:
        """What the first worker reported (e.g. "CPU (1 thread)"), for the CLI's header."""
        return self.slots[0].info.get("device", "") if self.slots else ""

    @property
    def data_summary(self) -> str:
        return self.slots[0].info.get("data", "") if self.slots else ""

    def start(self) -> None:
        """Start every worker at once and wait for their pre-flight checks (ScriptError on the
        first that fails; the others are ended)."""
        errors: list[BaseException] = []
        lock = threading.Lock()

        def start_one(worker: ScriptWorker) -> None:
            try:
                worker.start()
            except BaseException as exc:  # noqa: BLE001 - re-raised below, on the caller's thread
                with lock:
                    errors.append(exc)

        threads = [threading.Thread(target=start_one, args=(w,), daemon=True) for w in self.slots]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            self.close()
            raise errors[0]
        self._started = True

    def run(self, slot: int, params: Mapping[str, Any], trial: Any) -> Any:
        return self.slots[slot].run(params, trial)

    def slot_info(self, slot: int) -> dict[str, Any]:
        info: dict[str, Any] = {"worker": slot + 1}
        device = self.slots[slot].info.get("device", "")
        gpu = self._envs[slot][0].get("CUDA_VISIBLE_DEVICES")
        if gpu is not None:
            device = f"{device} (GPU {gpu})" if device else f"GPU {gpu}"
        if device:
            info["device"] = device
        return info

    def close(self) -> None:
        for worker in self.slots:
            worker.close()

    release = close


def make_executor(
    data: Mapping[str, Any],
    model: Mapping[str, Any],
    objective: Mapping[str, Any] | None,
    *,
    metric: str,
    direction: str,
    base_dir: str | Path,
    workers: int | None,
    space: Mapping[str, Any] | None = None,
    sha256: str | None = None,
    gpus: Sequence[str] | None = None,
    execution: Mapping[str, Any] | None = None,
) -> Executor:
    """Check the sections, start the workers and run their pre-flight checks.

    ``execution`` is the study's ``[execution]`` table: with ``backend = "ray"`` the trials run
    as Ray actors (training/ray_backend.py; ``workers`` None = as many as the cluster holds),
    otherwise as ``workers`` processes on this machine. Raises
    :class:`~hpo_desktop.training.scripts.ScriptError` (the message names the file or section;
    RayBackendError for the cluster) before any trial runs.
    """
    from .scripts import check_task_space

    task = study_task(
        data, model, objective, metric=metric, direction=direction, base_dir=base_dir, sha256=sha256
    )
    check_task_space(task, space)
    execution = dict(execution or {})
    executor: Executor
    if execution.get("backend", "local") == "ray":
        from .ray_backend import RayExecutor

        executor = RayExecutor(
            task,
            workers=workers,
            address=str(execution.get("address", "auto")),
            cpus_per_trial=float(execution.get("cpus_per_trial", 1.0)),
            gpus_per_trial=float(execution.get("gpus_per_trial", 0.0)),
        )
    else:
        executor = LocalProcessExecutor(task, workers or 1, gpus=gpus)
    try:
        executor.start()
    except BaseException:
        executor.close()
        raise
    return executor
