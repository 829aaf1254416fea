"""Trials on a Ray cluster: ``[execution] backend = "ray"`` (docs/parallel.md).

:class:`RayExecutor` implements :class:`hpo_desktop.core.executors.Executor`. Each slot is a Ray
actor (:class:`TrialHost`) holding the resources of one trial (``cpus_per_trial``,
``gpus_per_trial``). Inside it, on whichever node Ray placed it, runs the same
:class:`~hpo_desktop.training.scripts.ScriptWorker` as a local worker: a spawned child process
with the built-in trainer or the user's script. So a script that raises, segfaults or hangs fails
only its trial, exactly as on this machine, and the actor survives.

The spec's folder is the actor's Ray *runtime environment* (``working_dir``): the spec, the
user's script and data files beside it travel with the job, and the trial runs in that copy.
Reports and ``should_stop`` questions come back as messages the desktop fetches from the actor
(``poll``), so this process stays the single writer of the study file and the live charts and
pruners see every epoch as it happens.

If the actor itself goes away (its node died, it was killed, the cluster lost it), the trial fails
with the reason and is marked ``attrs.worker_lost``; the study loop runs the same configuration
again once (docs/parallel.md) and the slot gets a fresh actor.

``ray`` is an optional dependency (``pip install "hpo-desktop[ray]"``): importing this module
does not import it, and nothing imports torch here.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hpo_desktop import __version__
from hpo_desktop.core.executors import Executor
from hpo_desktop.core.trial import TrialFailed, TrialPruned

from .scripts import (
    CHECK_TIMEOUT,
    ScriptError,
    ScriptTask,
    ScriptWorker,
    answer,
    relay_report,
    store_trial_attrs,
)

INSTALL_HINT = 'pip install "hpo-desktop[ray]"'
#: Files of the spec's folder that never travel to the cluster (study files, environments).
EXCLUDES = ["*.db", "*.db-wal", "*.db-shm", "*.db-journal", ".git", ".venv", "venv", "__pycache__", "*.pyc"]
#: Seconds one fetch of an actor's messages waits inside the actor for the next message.
_POLL = 0.2
#: Seconds without any answer from an actor after which its trial is given up as lost.
_SILENCE = 120.0
#: Seconds a trial may go on after a stop before its actor is killed.
_CANCEL_GRACE = 10.0
#: Whether the Ray job this process has open was opened by :meth:`RayExecutor.connect`.
_OURS = False


class RayBackendError(ScriptError):
    """The Ray backend cannot start (no ray package, no cluster, resources it can never have):
    a message for the user, raised before any trial runs."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayBackendError(
            f'[execution] backend = "ray" needs the ray package, which is not installed: {INSTALL_HINT}'
        ) from None
    return ray


# -- inside the actor (on a cluster node) ----------------------------------------------------------


class _RemoteTrial:
    """The trial handle the node-side ScriptWorker talks to: every call becomes a message the
    desktop fetches; questions (should_stop, should_prune) wait for the desktop's answer."""

    def __init__(self, host: TrialHost, number: int, seed: int) -> None:
        self._host = host
        self.number = number
        self.seed = seed

    def report(self, step: int, **metrics: float) -> None:
        self._host.outbox.put(("report", step, metrics))

    def _ask(self, question: str) -> bool:
        self._host.outbox.put(("ask", question))
        return bool(self._host.answers.get())

    def should_stop(self) -> bool:
        return self._ask("should_stop")

    def should_prune(self) -> bool:
        return self._ask("should_prune")

    @property
    def cancelled(self) -> bool:
        return self._host.cancelled

    def set_attrs(self, attrs: Mapping[str, Any]) -> None:
        self._host.outbox.put(("attrs", dict(attrs)))


class TrialHost:
    """One slot on the cluster (run as a threaded Ray actor): a ScriptWorker and two queues.

    The task's files are looked up in the actor's working directory, the copy of the spec's
    folder that Ray's runtime environment brought to this node.
    """

    def __init__(self, task: ScriptTask, version: str) -> None:
        if version != __version__:
            raise RuntimeError(
                f"this Ray node has hpo-desktop {__version__}, the desktop has {version}; "
                "install the same version on every node"
            )
        here = Path.cwd()
        path = task.path
        if task.form != "builtin":
            path = here / task.path.relative_to(task.base_dir)
        else:
            path = here / task.path.name
        self.task = dataclasses.replace(task, path=path, base_dir=here)
        self.worker = ScriptWorker(self.task)
        self.outbox: queue.Queue[tuple] = queue.Queue()
        self.answers: queue.Queue[bool] = queue.Queue()
        self.cancelled = False
        self._thread: threading.Thread | None = None

    def start(self) -> dict[str, str]:
        """Start the child process and check the task (a ScriptError becomes ``{"error": ...}``)."""
        try:
            info = dict(self.worker.start())
        except ScriptError as exc:
            return {"error": str(exc)}
        import ray

        info["node"] = ray.util.get_node_ip_address()
        info["pid"] = str(os.getpid())
        return info

    def begin(self, number: int, seed: int, params: dict[str, Any]) -> None:
        """Start one trial on a thread of its own; its messages go to the outbox."""
        self.cancelled = False
        while not self.answers.empty():  # pragma: no cover - an answer left by a stopped trial
            self.answers.get_nowait()
        self._thread = threading.Thread(
            target=self._run, args=(number, seed, params), name=f"hpo-trial-{number}", daemon=True
        )
        self._thread.start()

    def _run(self, number: int, seed: int, params: dict[str, Any]) -> None:
        trial = _RemoteTrial(self, number, seed)
        try:
            end: tuple = ("done", self.worker.run(params, trial))
        except TrialPruned:
            end = ("pruned",)
        except TrialFailed as exc:
            end = ("failed", str(exc))
        except BaseException as exc:  # noqa: BLE001 - reported to the desktop, the actor lives on
            end = ("failed", f"{type(exc).__name__}: {exc}")
        self.outbox.put(("end", *end))

    def poll(self, timeout: float = _POLL) -> list[tuple]:
        """The messages so far (waits up to ``timeout`` for the first)."""
        try:
            out = [self.outbox.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                out.append(self.outbox.get_nowait())
            except queue.Empty:
                return out

    def answer(self, value: bool) -> None:
        self.answers.put(bool(value))

    def cancel(self) -> None:
        self.cancelled = True

    def close(self) -> None:
        self.worker.close()


# -- on the desktop -------------------------------------------------------------------------------


def _lost_types(ray: Any) -> tuple[type[BaseException], ...]:
    """Ray's errors meaning "the actor (or its node) is gone or unreachable"."""
    ex = ray.exceptions
    names = (
        "RayActorError",
        "ActorUnavailableError",
        "NodeDiedError",
        "OwnerDiedError",
        "WorkerCrashedError",
    )
    return tuple(getattr(ex, n) for n in names if isinstance(getattr(ex, n, None), type))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(". ") if text else type(exc).__name__


class RayExecutor(Executor):
    """``workers`` Ray actors, each running one trial at a time on the cluster."""

    def __init__(
        self,
        task: ScriptTask,
        *,
        workers: int | None = None,
        address: str = "auto",
        cpus_per_trial: float = 1.0,
        gpus_per_trial: float = 0.0,
    ) -> None:
        if task.form != "builtin":
            try:
                task.path.relative_to(task.base_dir)
            except ValueError:
                raise RayBackendError(
                    f"{task.path}: the script must be inside the spec's folder ({task.base_dir}) to "
                    "travel to the Ray cluster with the job"
                ) from None
        threads = max(1, int(cpus_per_trial))
        env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        if gpus_per_trial <= 0:
            env["CUDA_VISIBLE_DEVICES"] = ""  # no GPU reserved: do not use one the cluster gave to others
        self.task = dataclasses.replace(task, env={**task.env, **env}, threads=threads)
        self.requested = workers
        self.workers = workers or 1
        self.address = address
        self.cpus_per_trial = float(cpus_per_trial)
        self.gpus_per_trial = float(gpus_per_trial)
        self.actors: list[Any] = []
        self.infos: list[dict[str, str]] = []
        self._ray: Any = None
        self._cancelled = False

    # -- starting ----------------------------------------------------------------------------------

    def connect(self) -> Any:
        """Join the cluster at ``address`` ("local" starts a Ray instance on this machine) with
        the spec's folder as the job's working directory.

        Ray takes a local folder only for the whole job (``ray.init``) and copies it when the job
        starts, so a job this module opened before (another study, or this one before its script
        was edited) is closed and opened again. A connection the caller made themselves
        (``ray.init`` in their own code) is used as it is, with their runtime environment.
        """
        global _OURS
        ray = self._ray = import_ray()
        if ray.is_initialized():
            if not _OURS:
                return ray
            ray.shutdown()
        _OURS = False
        runtime_env = {"working_dir": str(self.task.base_dir), "excludes": list(EXCLUDES)}
        kwargs: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.WARNING,
            "runtime_env": runtime_env,
        }
        try:
            if self.address == "local":
                ray.init(**kwargs)
            else:
                ray.init(address=self.address, **kwargs)
        except ConnectionError as exc:
            raise RayBackendError(
                f"no Ray cluster found at address {self.address!r}: {_first_line(exc)}. Start one "
                '(`ray start --head` on the head node), check the address, or use address = "local" '
                "to start Ray on this machine"
            ) from None
        except (ValueError, RuntimeError, OSError) as exc:  # e.g. the folder is too big to upload
            raise RayBackendError(
                f"Ray could not start the job at address {self.address!r} with the spec's folder "
                f"{self.task.base_dir}: {_first_line(exc)}"
            ) from None
        _OURS = True
        return ray

    def _capacity(self) -> int:
        """How many trials the cluster holds at once, by its CPUs and GPUs."""
        total = self._ray.cluster_resources()
        fits = [int(total.get("CPU", 0) // self.cpus_per_trial)]
        if self.gpus_per_trial > 0:
            fits.append(int(total.get("GPU", 0) // self.gpus_per_trial))
        return min(fits)

    def start(self) -> None:
        """Connect, create the actors and run their pre-flight checks (RayBackendError or the
        task's ScriptError before any trial; the actors made so far are ended)."""
        from hpo_desktop.core.spec import MAX_WORKERS

        self.connect()
        total = self._ray.cluster_resources()
        if self._capacity() < 1:
            raise RayBackendError(
                f"no Ray node can hold a trial: each asks for {self.cpus_per_trial:g} CPUs and "
                f"{self.gpus_per_trial:g} GPUs ([execution] cpus_per_trial, gpus_per_trial), the cluster "
                f"has {total.get('CPU', 0):g} CPUs and {total.get('GPU', 0):g} GPUs in all"
            )
        if self.requested is None:
            self.workers = max(1, min(MAX_WORKERS, self._capacity()))
        try:
            self.actors = [self._new_actor() for _ in range(self.workers)]
            self.infos = self._check_all(self.actors)
        except BaseException:
            self.close()
            raise

    def _actor_class(self) -> Any:
        return self._ray.remote(max_concurrency=4)(TrialHost)

    def _new_actor(self) -> Any:
        return (
            self._actor_class()
            .options(num_cpus=self.cpus_per_trial, num_gpus=self.gpus_per_trial)
            .remote(self.task, __version__)
        )

    def _check_all(self, actors: list[Any]) -> list[dict[str, str]]:
        ray = self._ray
        refs = [a.start.remote() for a in actors]
        try:
            infos = ray.get(refs, timeout=CHECK_TIMEOUT + 60)
        except ray.exceptions.GetTimeoutError:
            raise RayBackendError(
                f"the Ray cluster did not start {len(actors)} trial workers within "
                f"{CHECK_TIMEOUT + 60:g} s (is it busy, or short of the CPUs/GPUs a trial asks for?)"
            ) from None
        except ray.exceptions.RuntimeEnvSetupError as exc:
            raise RayBackendError(
                f"Ray could not bring the spec's folder {self.task.base_dir} to the cluster: {_first_line(exc)}"
            ) from None
        except ray.exceptions.RayError as exc:
            cause = getattr(exc, "cause", None) or exc
            raise RayBackendError(f"a Ray trial worker could not start: {_first_line(cause)}") from None
        for info in infos:
            if "error" in info:
                raise ScriptError(info["error"])
        return infos

    # -- running -----------------------------------------------------------------------------------

    def _replace(self, slot: int) -> None:
        """A fresh actor for ``slot`` after its old one was lost."""
        try:
            self._ray.kill(self.actors[slot])
        except Exception:  # noqa: BLE001 - it is gone already
            pass
        actor = self._new_actor()
        self.actors[slot] = actor
        self.infos[slot] = self._check_all([actor])[0]

    def run(self, slot: int, params: Mapping[str, Any], trial: Any) -> Any:
        ray = self._ray
        lost = _lost_types(ray)
        if self.actors[slot] is None:
            try:
                self._replace(slot)
            except (ScriptError, *lost) as exc:
                raise TrialFailed(f"no Ray worker could be started for it: {_first_line(exc)}") from None
        actor = self.actors[slot]
        number = int(getattr(trial, "number", 0))
        try:
            ray.get(
                actor.begin.remote(number, int(getattr(trial, "seed", 0) or 0), dict(params)),
                timeout=_SILENCE,
            )
            return self._follow(actor, trial)
        except (*lost, ray.exceptions.GetTimeoutError) as exc:
            self.actors[slot] = None
            node = self.infos[slot].get("node", "?")
            store_trial_attrs(trial, {"worker_lost": node})
            raise TrialFailed(
                f"lost its Ray worker on node {node} ({_first_line(exc)}); the configuration runs again"
            ) from None

    def _follow(self, actor: Any, trial: Any) -> Any:
        """Relay the actor's messages to the real trial until the trial ends."""
        ray = self._ray
        abort: BaseException | None = None
        cancel_sent: float | None = None
        while True:
            if cancel_sent is None and (
                abort is not None or getattr(trial, "cancelled", False) or self._cancelled
            ):
                actor.cancel.remote()
                cancel_sent = time.monotonic()
            if cancel_sent is not None and time.monotonic() - cancel_sent > _CANCEL_GRACE:
                raise ray.exceptions.GetTimeoutError(f"the trial did not stop within {_CANCEL_GRACE:g} s")
            for msg in ray.get(actor.poll.remote(_POLL), timeout=_SILENCE):
                kind = msg[0]
                if kind == "report":
                    abort = relay_report(trial, msg[1], msg[2], abort)
                elif kind == "ask":
                    actor.answer.remote(answer(trial, msg[1], abort))
                elif kind == "attrs":
                    store_trial_attrs(trial, msg[1])
                elif kind == "end":
                    if abort is not None:
                        raise abort
                    if msg[1] == "done":
                        return msg[2]
                    if msg[1] == "pruned":
                        raise TrialPruned()
                    raise TrialFailed(msg[2])

    def slot_info(self, slot: int) -> dict[str, Any]:
        info: dict[str, Any] = {"worker": slot + 1}
        got = self.infos[slot] if slot < len(self.infos) else {}
        device, node = got.get("device", ""), got.get("node", "")
        if node:
            info["node"] = node
            device = f"{device} on {node}" if device else f"Ray node {node}"
        if device:
            info["device"] = device
        return info

    @property
    def device_label(self) -> str:
        return self.slot_info(0).get("device", "") if self.infos else ""

    @property
    def data_summary(self) -> str:
        return self.infos[0].get("data", "") if self.infos else ""

    def cancel(self) -> None:
        self._cancelled = True
        for actor in self.actors:
            if actor is not None:
                actor.cancel.remote()

    def close(self) -> None:
        ray = self._ray
        if ray is None:
            return
        refs = [a.close.remote() for a in self.actors if a is not None]
        try:
            ray.get(refs, timeout=10)
        except Exception:  # noqa: BLE001 - ending anyway
            pass
        for actor in self.actors:
            if actor is not None:
                try:
                    ray.kill(actor)
                except Exception:  # noqa: BLE001
                    pass
        self.actors = []

    release = close


def cluster_summary(executor: RayExecutor) -> str:
    """One line for the CLI and the window's log: where the trials run."""
    nodes = sorted({i.get("node", "?") for i in executor.infos})
    gpus = f", {executor.gpus_per_trial:g} GPU" if executor.gpus_per_trial else ""
    per = f"{executor.cpus_per_trial:g} CPU{gpus} per trial"
    return f"Ray: {executor.workers} trials at once on {len(nodes)} node(s) ({', '.join(nodes)}), {per}"
