"""Bring your own network: run a user's Python file safely, in a child process.

Two forms (docs/scripts.md):

1. ``[model] script = "my_model.py"``: the file defines ``build_model(params, input_shape,
   n_outputs) -> torch.nn.Module`` (and optionally ``load_data() -> (X, y)``); our trainer does
   the rest (metrics, early stopping, devices, live reports).
2. ``[objective] script = "train.py"``: the file defines ``objective(params, trial)`` that calls
   ``trial.report(step, **metrics)``, checks ``trial.should_stop()`` and returns a float or a dict.

The script runs in a process started with the multiprocessing "spawn" context (never fork: the
parent holds threads, a Qt event loop and CUDA state), kept for the next trial while it stays
healthy. A crash, a segfault, ``os._exit``, a hang past the time limit or an exception fails
that trial with the reason and the tail of its output, and the next trial gets a fresh process.
Reports come back as they happen (the parent calls the real ``trial.report``, so the live charts
work) and ``should_stop`` goes down (cancel, pause and pruning reach the script between reports).
The script's stdout/stderr are captured per trial and kept in the trial's attrs (``log``).
The same child serves ``[execution] workers`` (training/pool.py) with a third form, "builtin":
the built-in trainer, for studies without a script.

Importing this module does not import torch (a form-2 parent never needs it).
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing as mp
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hpo_desktop.core.spec import script_of
from hpo_desktop.core.trial import TrialFailed, TrialPruned

from . import script_child

log = logging.getLogger(__name__)

#: The captured output kept per trial: the last this many lines, at most this many bytes.
LOG_MAX_LINES = 200
LOG_MAX_BYTES = 64_000
#: Lines of output quoted in the reason of a crash or a timeout.
REASON_LINES = 12
#: Seconds the pre-flight check may take (it imports torch and loads the data for form 1).
CHECK_TIMEOUT = 180.0
#: Seconds a trial may keep running after a stop before its process is ended.
CANCEL_GRACE = 3.0
_POLL = 0.1

_SIGNALS = {
    "SIGSEGV": "segmentation fault",
    "SIGBUS": "bus error",
    "SIGABRT": "aborted",
    "SIGKILL": "killed; out of memory?",
    "SIGFPE": "floating-point exception",
    "SIGILL": "illegal instruction",
}


class ScriptError(ValueError):
    """A script that cannot be used (missing, a syntax error, a missing function, bad data):
    the message names the file and, where known, the line."""


@dataclass(frozen=True)
class ScriptTask:
    """What the child needs to run a study's script (plain values only: it is pickled)."""

    form: str  # "model" or "objective"
    path: Path
    base_dir: Path
    metric: str
    direction: str
    time_limit: float | None = None
    data: dict[str, Any] = field(default_factory=dict)
    setup: dict[str, Any] = field(default_factory=dict)
    fixed: dict[str, Any] = field(default_factory=dict)
    sha256: str | None = None
    env: dict[str, str] = field(default_factory=dict)  # set in the child first (a pool worker's)
    threads: int | None = None  # torch.set_num_threads in the child (a pool worker's share)

    @property
    def section(self) -> str:
        return "[objective]" if self.form == "objective" else "[model]"

    def for_child(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "path": str(self.path),
            "base_dir": str(self.base_dir),
            "metric": self.metric,
            "direction": self.direction,
            "data": dict(self.data),
            "setup": dict(self.setup),
            "fixed": dict(self.fixed),
            "sha256": self.sha256,
            "env": dict(self.env),
            "threads": self.threads,
        }


#: ``[model]`` keys about the script itself (the rest are setup keys or fixed hyperparameters).
SCRIPT_KEYS = ("script", "time_limit")


def script_path(
    model: Mapping[str, Any], objective: Mapping[str, Any] | None, base_dir: str | Path
) -> Path | None:
    """The absolute path of the study's script, or None for the built-in networks."""
    script = script_of(model, objective)
    return None if script is None else (Path(base_dir) / script).resolve()


def script_task(
    data: Mapping[str, Any],
    model: Mapping[str, Any],
    objective: Mapping[str, Any] | None,
    *,
    metric: str,
    direction: str,
    base_dir: str | Path,
    sha256: str | None = None,
) -> ScriptTask | None:
    """The task for a study's sections, checked; None when the study has no script.

    Raises :class:`ScriptError` for a missing file and ModelConfigError for bad [model] keys.
    """
    base_dir = Path(base_dir).resolve()  # the child works in the script's folder
    path = script_path(model, objective, base_dir)
    if path is None:
        return None
    if not path.is_file():
        raise ScriptError(f"script {path} not found")
    if objective and objective.get("script"):
        return ScriptTask(
            "objective",
            path,
            base_dir,
            metric,
            direction,
            time_limit=_limit(objective.get("time_limit")),
            sha256=sha256,
        )
    from .params import ModelConfigError

    rest = {k: v for k, v in model.items() if k not in SCRIPT_KEYS}
    if "kind" in rest:
        raise ModelConfigError("[model] kind cannot be combined with script: build_model is the network")
    setup, fixed = _model_section(rest)
    return ScriptTask(
        "model",
        path,
        base_dir,
        metric,
        direction,
        time_limit=_limit(model.get("time_limit")),
        data=dict(data),
        setup=setup,
        fixed=fixed,
        sha256=sha256,
    )


def _model_section(rest: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Setup keys (device, amp, cuda_graphs) and fixed values of a [model] script section.
    Unknown names are the user's own fixed params (passed to build_model as they are)."""
    from .params import ALL_PARAMS, ModelConfigError, check_params

    setup = {k: rest[k] for k in ("device", "amp", "cuda_graphs") if k in rest}
    for key in ("amp", "cuda_graphs"):
        if key in setup and not isinstance(setup[key], bool):
            raise ModelConfigError(f"[model] '{key}' must be true or false, got {setup[key]!r}")
    if "device" in setup and not isinstance(setup["device"], str):
        raise ModelConfigError(f"[model] 'device' must be a string, got {setup['device']!r}")
    fixed = {k: v for k, v in rest.items() if k not in setup}
    check_params({k: v for k, v in fixed.items() if k in ALL_PARAMS}, where="[model]")
    return setup, fixed


def check_script_space(space: Mapping[str, Any]) -> None:
    """A [model] script's space: values of trainer hyperparameters are checked; other names are
    the script's own params (given to build_model)."""
    from .params import ALL_PARAMS, check_space

    check_space({k: v for k, v in space.items() if k in ALL_PARAMS})


def check_task_space(task: ScriptTask, space: Mapping[str, Any] | None) -> None:
    """Check a space against whoever trains it: our trainer checks its own parameters (all of
    them for the built-in networks, the known ones for a [model] script); an [objective] script
    checks nothing of ours."""
    if space is None:
        return
    if task.form == "model":
        check_script_space(space)
    elif task.form == "builtin":
        from .params import check_space

        check_space(space)


def _limit(value: Any) -> float | None:
    return None if value is None else float(value)


# -- output capture -------------------------------------------------------------------------------


def read_tail(path: Path, *, max_lines: int = LOG_MAX_LINES, max_bytes: int = LOG_MAX_BYTES) -> str:
    """The end of a log file: its last ``max_lines`` lines within ``max_bytes`` ("" when none)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            raw = fh.read()
    except OSError:
        return ""
    text = raw.decode("utf-8", errors="replace")
    lines = text.splitlines()
    cut = size > max_bytes
    if cut and lines:
        lines = lines[1:]  # the first line is probably partial
    if len(lines) > max_lines:
        lines, cut = lines[-max_lines:], True
    body = "\n".join(lines)
    return f"… (earlier output cut)\n{body}" if cut and body else body


_OUR_FRAMES = re.compile(
    r'^\s+File "(?:[^"]*[/\\]multiprocessing[/\\][^"]*|[^"]*script_child\.py|<string>)", line \d+'
)


def _without_our_frames(text: str) -> str:
    """Drop the child machinery's frames (multiprocessing, script_child) from a faulthandler
    stack dump, so the script's own frames are what the log ends with."""
    return "\n".join(line for line in text.splitlines() if not _OUR_FRAMES.match(line))


def _last_lines(text: str, n: int = REASON_LINES) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-n:])


def store_trial_attrs(trial: Any, attrs: Mapping[str, Any]) -> None:
    """Keep ``attrs`` (the captured log, a traceback) with a running trial; ``finish_trial``
    merges them with what it writes. Best effort: a log that cannot be stored is only logged.

    Written through ``Trial.set_attrs`` (the store merges them into the running trial's row).
    """
    attrs = {k: v for k, v in attrs.items() if v}
    if not attrs:
        return
    setter = getattr(trial, "set_attrs", None)
    try:
        if callable(setter):  # the core's Trial
            setter(dict(attrs))
        elif isinstance(getattr(trial, "attrs", None), dict):  # a test's stand-in handle
            trial.attrs.update(attrs)
    except Exception:  # noqa: BLE001 - losing a log must not lose the trial
        log.warning("could not store the output of trial %s", getattr(trial, "number", "?"), exc_info=True)


def relay_report(
    trial: Any, step: int, metrics: Mapping[str, float], abort: BaseException | None
) -> BaseException | None:
    """Hand a worker's report to the real trial; returns what stops the worker from now on (the
    trial's report raised: pruned, or the study file cannot be written), else ``abort`` as it was."""
    if abort is not None:
        return abort
    try:
        trial.report(step, **metrics)
    except Exception as exc:  # noqa: BLE001 - e.g. pruned or a storage error: stop the worker
        return exc
    return None


def answer(trial: Any, question: str, abort: BaseException | None) -> bool:
    """The real trial's answer to a worker's ``should_stop`` / ``should_prune``."""
    if question == "should_prune":
        prune = getattr(trial, "should_prune", None)
        return bool(prune()) if callable(prune) else False
    return True if abort is not None else bool(trial.should_stop())


# -- the child process ---------------------------------------------------------------------------

_LIVE: weakref.WeakSet[ScriptWorker] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:  # before multiprocessing's own exit handler joins its children
    for worker in list(_LIVE):
        worker.close()


@dataclass
class _Outcome:
    kind: str  # "done", "pruned", "failed", "dead", "timeout", "stopped"
    value: Any = None
    reason: str = ""
    traceback: str = ""


class ScriptWorker:
    """One child process running a script; started (and checked) on demand, replaced after a
    crash. Use from one thread at a time (the study's)."""

    def __init__(self, task: ScriptTask) -> None:
        self.task = task
        self._proc: Any = None
        self._conn: Any = None
        self._log_dir = Path(tempfile.mkdtemp(prefix="hpo-script-"))
        self.info: dict[str, str] = {}
        self.starts = 0  # processes started so far (tests check that a healthy one is reused)
        _LIVE.add(self)

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    def start(self) -> dict[str, str]:
        """Start a fresh process and load the script in it (the pre-flight check).

        Raises :class:`ScriptError` naming the file and line of a syntax error, an exception at
        import time, a missing function, or (form 1) a data problem. Returns device and data
        descriptions.
        """
        self._kill()
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        proc = ctx.Process(
            target=script_child.main,
            args=(child, self.task.for_child()),
            name=f"hpo-script-{self.task.path.stem}",
            daemon=False,  # a script may start its own workers (a DataLoader's)
        )
        with _main_not_reimported():
            proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        self.starts += 1
        log_path = self._log_dir / "check.log"
        log_path.unlink(missing_ok=True)
        parent.send(("check", str(log_path)))
        deadline = time.monotonic() + CHECK_TIMEOUT
        msg = None
        while msg is None:
            left = deadline - time.monotonic()
            if left <= 0:
                self._kill()
                raise ScriptError(
                    f"{self.task.path.name}: loading the script took longer than {CHECK_TIMEOUT:g} s"
                )
            ready = wait([parent, proc.sentinel], timeout=min(left, 1.0))
            if parent in ready or proc.sentinel in ready:
                try:
                    msg = parent.recv() if parent.poll() else None
                except (EOFError, OSError):
                    msg = None
                if msg is None and not proc.is_alive():
                    output = read_tail(log_path)
                    why = _death(proc.exitcode)
                    self._kill()
                    tail = f"\n{_last_lines(output)}" if output else ""
                    raise ScriptError(f"{self.task.path.name}: loading the script failed: {why}{tail}")
        output = read_tail(log_path)
        if msg[0] == "failed":
            self._kill()
            details = msg[2] or ""
            tail = _last_lines(details or output)
            raise ScriptError(msg[1] + (f"\n{tail}" if tail and tail not in msg[1] else ""))
        self.info = dict(msg[1])
        return self.info

    def run(self, params: Mapping[str, Any], trial: Any) -> Any:
        """Run one trial in the child; returns the objective's float or dict.

        Raises :class:`TrialFailed` (with the reason and the tail of the output),
        :class:`TrialPruned`, or what the parent's ``trial.report`` raised.
        """
        if not self.alive:
            try:
                self.start()
            except ScriptError as exc:
                raise TrialFailed(f"the script could not be loaded again: {exc}") from None
        number = int(getattr(trial, "number", 0))
        log_path = self._log_dir / f"trial-{number}.log"
        log_path.unlink(missing_ok=True)
        self._conn.send(("run", number, int(getattr(trial, "seed", 0)), dict(params), str(log_path)))
        outcome, abort = self._follow(trial)
        output = _without_our_frames(read_tail(log_path))
        log_path.unlink(missing_ok=True)
        store_trial_attrs(trial, {"log": output, "traceback": outcome.traceback})
        if abort is not None:  # the parent's own report failed (pruned, or the file cannot be written)
            raise abort
        if outcome.kind == "done":
            return outcome.value
        if outcome.kind == "pruned":
            raise TrialPruned()
        if outcome.kind == "failed":
            raise TrialFailed(outcome.reason)
        tail = _last_lines(output)
        quoted = f"\nlast output:\n{tail}" if tail else ""
        raise TrialFailed(outcome.reason + quoted)

    def _follow(self, trial: Any) -> tuple[_Outcome, BaseException | None]:
        """Relay reports and should_stop until the child answers, dies, or runs out of time."""
        conn, proc = self._conn, self._proc
        limit = self.task.time_limit
        active = 0.0  # seconds toward the time limit (time paused in should_stop does not count)
        last = time.monotonic()
        abort: BaseException | None = None
        stop_deadline: float | None = None
        while True:
            now = time.monotonic()
            active += now - last
            last = now
            if limit is not None and active > limit:
                self._kill()
                return _Outcome(
                    "timeout",
                    reason=f"timed out: still running after its time limit of {limit:g} s "
                    f"({self.task.section} time_limit); its process was stopped",
                ), abort
            if stop_deadline is None and (abort is not None or getattr(trial, "cancelled", False)):
                stop_deadline = now + CANCEL_GRACE
            if stop_deadline is not None and now > stop_deadline:
                self._kill()
                return _Outcome(
                    "stopped",
                    reason=f"stopped: the script did not return within {CANCEL_GRACE:g} s of the stop",
                ), abort
            ready = wait([conn, proc.sentinel], timeout=_POLL)
            if not ready:
                continue
            try:
                msg = conn.recv() if conn.poll() else None
            except (EOFError, OSError):
                msg = None
            if msg is None:
                if proc.is_alive():
                    continue
                code = proc.exitcode
                self._kill()
                who = "worker" if self.task.form == "builtin" else "script's"
                return _Outcome("dead", reason=f"the {who} process {_death(code)}"), abort
            kind = msg[0]
            if kind == "report":
                abort = relay_report(trial, msg[1], msg[2], abort)
            elif kind == "should_stop":
                stop = answer(trial, kind, abort)
                last = time.monotonic()  # a pause inside should_stop is not the script's time
                conn.send(("stop", stop))
            elif kind == "should_prune":
                conn.send(("prune", answer(trial, kind, abort)))
            elif kind == "done":
                return _Outcome("done", value=msg[1]), abort
            elif kind == "pruned":
                return _Outcome("pruned"), abort
            elif kind == "failed":
                return _Outcome("failed", reason=msg[1], traceback=msg[2]), abort

    def close(self) -> None:
        """End the child (politely, then by force) and remove the log folder."""
        if self._conn is not None and self.alive:
            try:
                self._conn.send(("exit",))
            except (OSError, ValueError):
                pass
            self._proc.join(2.0)
        self._kill()
        shutil.rmtree(self._log_dir, ignore_errors=True)
        _LIVE.discard(self)

    def _kill(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(5.0)
            try:
                proc.close()
            except ValueError:  # pragma: no cover - still running after SIGKILL + 5 s
                pass
        if conn is not None:
            conn.close()


@contextmanager
def _main_not_reimported() -> Iterator[None]:
    """Start a spawned child without running the parent's ``__main__`` in it again.

    multiprocessing's spawn re-imports the parent's main module in the child unless that
    module's spec is named ``__main__``; our child needs nothing from it (its target lives in
    :mod:`script_child`), and a user's unguarded script calling ``Study.optimize`` at top level
    would otherwise start itself again in the child.
    """
    with _SPAWN_LOCK:  # pool workers start from several threads at once (training/pool.py)
        yield from _main_spec_hidden()


_SPAWN_LOCK = threading.Lock()


def _main_spec_hidden() -> Iterator[None]:
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    had = "__spec__" in vars(main)
    old = getattr(main, "__spec__", None)
    main.__spec__ = SimpleNamespace(name="__main__")  # type: ignore[assignment]
    try:
        yield
    finally:
        if had:
            main.__spec__ = old
        else:
            del main.__spec__


def _death(code: int | None) -> str:
    """How a process ended, in words ("crashed with SIGSEGV (segmentation fault)")."""
    if code is None:
        return "stopped responding"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        what = _SIGNALS.get(name)
        return f"crashed with {name}" + (f" ({what})" if what else "")
    return f"exited with code {code} (os._exit, or a library ending the process)"


class ScriptObjective:
    """``objective(params, trial)`` for a study with a script; the script runs in a child process.

    Attributes for callers (like the built-in Objective): ``device_label``, ``data_summary``,
    ``metric``, ``direction``, ``task`` (the :class:`ScriptTask`), ``worker``.
    """

    def __init__(self, task: ScriptTask) -> None:
        self.task = task
        self.metric = task.metric
        self.direction = task.direction
        self.worker = ScriptWorker(task)

    def check(self) -> None:
        """Start the child and load the script now (raises :class:`ScriptError`)."""
        self.worker.start()

    @property
    def device_label(self) -> str:
        return self.worker.info.get("device", "")

    @property
    def data_summary(self) -> str:
        return self.worker.info.get("data", "")

    def __call__(self, params: Mapping[str, Any], trial: Any) -> Any:
        return self.worker.run(params, trial)

    def release(self) -> None:
        """End the child process (a later call starts a new one)."""
        self.worker.close()

    close = release


def make_script_objective(
    data: Mapping[str, Any],
    model: Mapping[str, Any],
    objective: Mapping[str, Any] | None,
    *,
    metric: str,
    direction: str,
    base_dir: str | Path,
    space: Mapping[str, Any] | None = None,
    sha256: str | None = None,
) -> ScriptObjective:
    """Check the sections, start the child and load the script (the pre-flight check).

    ``sha256`` (from the trust store) makes the child refuse a file that changed since it was
    trusted. Raises :class:`ScriptError` (file and line) before any trial runs.
    """
    task = script_task(
        data, model, objective, metric=metric, direction=direction, base_dir=base_dir, sha256=sha256
    )
    if task is None:
        raise ScriptError("this study has no script ([model] script or [objective] script)")
    check_task_space(task, space)
    made = ScriptObjective(task)
    try:
        made.check()
    except BaseException:
        made.close()
        raise
    return made
