"""The child side of a user script: runs in a process started with the "spawn" context.

The parent (:mod:`hpo_desktop.training.scripts`) talks to :func:`main` over one duplex
``multiprocessing`` connection. Messages are small tuples of plain values:

parent -> child::

    ("check", log_path)                         load the script, check its functions (and data)
    ("run", number, seed, params, log_path)     run one trial
    ("stop", bool)                              the answer to a ("should_stop",) request
    ("prune", bool)                             the answer to a ("should_prune",) request
    ("exit",)                                   end the process

child -> parent::

    ("checked", info)                           info: {"device": ..., "data": ...}
    ("report", step, metrics)                   a trial's report, sent as it happens
    ("should_stop",)                            asks the parent; the child waits for ("stop", bool)
    ("should_prune",)                           asks the parent; the child waits for ("prune", bool)
    ("done", result)                            a float or a dict of floats
    ("pruned",)                                 the objective raised TrialPruned
    ("failed", reason, traceback_text, kind)    kind: "failed" (TrialFailed) or "error"

The task's ``form`` is "model", "objective" or "builtin" (a pool worker training the built-in
networks, training/pool.py); its ``env`` is set first (a pool worker's thread share and GPU) and
``threads`` sets torch's thread count.

While a command runs, file descriptors 1 and 2 point at the command's log file, so everything
the script prints (C extensions included) lands there; between commands they point at the null
device. ``faulthandler`` writes a segfault's Python traceback into the same file.

This module imports neither torch nor Qt at module level: a form-2 objective that does not use
torch never loads it.
"""

from __future__ import annotations

import faulthandler
import hashlib
import os
import random
import sys
import traceback
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The name the user's script is imported under in the child.
MODULE_NAME = "hpo_user_script"


class ScriptLoadError(Exception):
    """The script cannot be loaded or lacks a function; ``where`` is "file, line N" when known."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


def _redirect(path: str | None) -> None:
    """Point fds 1 and 2 at ``path`` (appending) or at the null device."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    target = path if path is not None else os.devnull
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
    finally:
        os.close(fd)


def _where(exc: BaseException, script: Path) -> str:
    """ "file, line N" for the deepest frame of the traceback inside the user's script."""
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        return f"{Path(exc.filename).name}, line {exc.lineno}"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == script]
    if frames:
        return f"{script.name}, line {frames[-1].lineno}"
    return script.name


def _user_traceback(exc: BaseException) -> str:
    """The traceback without the frames of this module (the user's frames and below)."""
    frames = traceback.extract_tb(exc.__traceback__)
    here = Path(__file__).resolve()
    keep = [f for f in frames if Path(f.filename).resolve() != here]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(keep)]
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def load_script(path: Path, sha256: str | None) -> types.ModuleType:
    """Execute the script as a module. The bytes executed are the bytes hashed: a file changed
    since it was trusted is refused."""
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise ScriptLoadError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if sha256 is not None and hashlib.sha256(source).hexdigest() != sha256:
        raise ScriptLoadError(
            f"{path} changed since it was trusted (its SHA-256 is no longer {sha256[:12]}…); "
            "start again to review and trust the new version"
        )
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = str(path)
    sys.modules[MODULE_NAME] = module
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # the script may import its neighbours
    try:
        code = compile(source, str(path), "exec")
        exec(code, module.__dict__)  # noqa: S102 - the user trusted this script to run
    except SyntaxError as exc:
        text = (exc.text or "").rstrip()
        detail = f"\n    {text}" if text else ""
        raise ScriptLoadError(f"{_where(exc, path)}: SyntaxError: {exc.msg}{detail}") from None
    except BaseException as exc:  # noqa: BLE001 - anything at import time is the script's problem
        raise ScriptLoadError(
            f"{_where(exc, path)}: importing the script raised {type(exc).__name__}: {exc}",
            _user_traceback(exc),
        ) from None
    return module


def _function(module: types.ModuleType, name: str, path: Path, *, required: bool) -> Any:
    fn = getattr(module, name, None)
    if fn is None:
        if required:
            raise ScriptLoadError(f"{path.name}: defines no function '{name}'")
        return None
    if not callable(fn):
        raise ScriptLoadError(f"{path.name}: '{name}' must be a function, got {type(fn).__name__}")
    return fn


def _plain(name: str, value: Any) -> float:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"metric '{name}' must be a number, got {value!r}")
    return float(value)


class ChildTrial:
    """The trial handle a script sees: ``report``, ``should_stop``, ``number``, ``seed``, ``params``.

    Reports go to the parent at once (the parent stores them and draws the live charts);
    ``should_stop`` asks the parent, which blocks while the study is paused.
    """

    def __init__(self, conn: Any, number: int, seed: int, params: dict[str, Any]) -> None:
        self._conn = conn
        self.number = number
        self.seed = seed
        self.params = dict(params)
        self._stopped = False

    def report(self, step: int, **metrics: Any) -> None:
        if hasattr(step, "item"):
            step = step.item()
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"step must be a non-negative integer, got {step!r}")
        if not metrics:
            raise ValueError("report() needs at least one metric, e.g. trial.report(epoch, val_loss=0.3)")
        values = {str(k): _plain(str(k), v) for k, v in metrics.items()}
        self._conn.send(("report", step, values))

    def should_stop(self) -> bool:
        if self._stopped:
            return True
        self._conn.send(("should_stop",))
        while True:
            msg = self._conn.recv()
            if msg[0] == "stop":
                self._stopped = bool(msg[1])
                return self._stopped
            if msg[0] == "exit":  # pragma: no cover - the parent is closing mid-trial
                os._exit(0)

    def should_prune(self) -> bool:
        """True when the study's pruner stopped this trial (not on a user's stop)."""
        self._conn.send(("should_prune",))
        while True:
            msg = self._conn.recv()
            if msg[0] == "prune":
                return bool(msg[1])

    @property
    def cancelled(self) -> bool:
        return self._stopped


class _Runner:
    """The loaded script and, for a [model] script, the data on the device (made once)."""

    def __init__(self, task: Mapping[str, Any]) -> None:
        self.task = dict(task)
        self.path = Path(task["path"])
        self.form = task["form"]
        self.module: types.ModuleType | None = None
        self.fn: Any = None
        self.device_data: Any = None
        self.info: dict[str, str] = {}

    def check(self) -> dict[str, str]:
        if self.form == "builtin":  # a pool worker running the built-in trainer (training/pool.py)
            from .objective import make_objective

            _share_threads(self.task.get("threads"))
            self.fn = make_objective(
                dict(self.task.get("data") or {}),
                dict(self.task.get("setup") or {}),
                metric=self.task["metric"],
                direction=self.task["direction"],
                base_dir=Path(self.task["base_dir"]),
            )
            self.info = {"device": self.fn.device_label, "data": self.fn.data.summary()}
            return self.info
        self.module = load_script(self.path, self.task.get("sha256"))
        if self.form == "objective":
            self.fn = _function(self.module, "objective", self.path, required=True)
            self.info = {"device": "the script's choice", "data": f"loaded by {self.path.name}"}
            return self.info
        self.fn = _function(self.module, "build_model", self.path, required=True)
        loader = _function(self.module, "load_data", self.path, required=False)
        self._prepare(loader)
        return self.info

    def _prepare(self, loader: Any) -> None:
        import numpy as np
        import torch

        from .datasets import load_data
        from .devices import describe_device, resolve_device
        from .trainer import DeviceData

        cores = os.cpu_count() or 1
        if self.task.get("threads"):
            _share_threads(self.task["threads"])
        elif cores > 1 and torch.get_num_threads() >= cores:
            torch.set_num_threads(cores - 1)  # leave a core for the window
        data = dict(self.task.get("data") or {})
        base_dir = Path(self.task["base_dir"])
        if not any(k in data for k in ("dataset", "csv", "npz")):
            if loader is None:
                raise ScriptLoadError(
                    f"{self.path.name}: no data: give a [data] section or define load_data() -> (X, y)"
                )
            try:
                X, y = loader()
                X = np.asarray(X.cpu().numpy() if hasattr(X, "cpu") else X)
                y = np.asarray(y.cpu().numpy() if hasattr(y, "cpu") else y)
            except BaseException as exc:  # noqa: BLE001
                raise ScriptLoadError(
                    f"{_where(exc, self.path)}: load_data() raised {type(exc).__name__}: {exc}",
                    _user_traceback(exc),
                ) from None
            import tempfile

            with tempfile.TemporaryDirectory(prefix="hpo-data-") as tmp:
                file = Path(tmp) / f"{self.path.stem}.npz"
                np.savez(file, X=X, y=y)
                prepared = load_data({**data, "npz": str(file)}, base_dir)
            prepared = _renamed(prepared, f"{self.path.name} load_data()")
        else:
            prepared = load_data(data, base_dir)
        device = resolve_device(self.task["setup"].get("device", "auto"))
        self.device_data = DeviceData(prepared, device)
        metric = self.task["metric"]
        from .trainer import TASK_METRICS

        if metric not in TASK_METRICS[prepared.task]:
            raise ScriptLoadError(
                f"metric '{metric}' is not reported by the trainer for a {prepared.task} task "
                f"(available: {', '.join(TASK_METRICS[prepared.task])})"
            )
        self.info = {"device": describe_device(device), "data": prepared.summary()}

    def run(self, trial: ChildTrial) -> Any:
        if self.form == "builtin":
            return self.fn(dict(trial.params), trial)
        if self.form == "objective":
            _seed_all(trial.seed)
            return self.fn(dict(trial.params), trial)
        from .params import ALL_PARAMS, check_params, resolve_params
        from .trainer import train

        params = dict(trial.params)
        fixed = dict(self.task.get("fixed") or {})
        known = {k: v for k, v in {**fixed, **params}.items() if k in ALL_PARAMS}
        resolved = resolve_params(check_params(known))
        everything = {**fixed, **params, **resolved}  # the user's own params ride along
        setup = self.task["setup"]
        build = self.fn

        def model_fn(p: Mapping[str, Any], input_shape: tuple[int, ...], n_outputs: int) -> Any:
            return build(dict(everything), tuple(input_shape), int(n_outputs))

        result = train(
            self.device_data,
            resolved,
            trial,
            amp=bool(setup.get("amp", False)),
            metric=self.task["metric"],
            direction=self.task["direction"],
            cuda_graphs=bool(setup.get("cuda_graphs", False)),
            model_fn=model_fn,
        )
        return result.metrics


def _share_threads(threads: Any) -> None:
    """A pool worker's share of the CPU threads (cores // workers): torch's intra-op threads."""
    if threads:
        import torch

        torch.set_num_threads(max(1, int(threads)))


def _renamed(prepared: Any, name: str) -> Any:
    from dataclasses import replace

    return replace(prepared, name=name)


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def _result(value: Any) -> float | dict[str, float]:
    """The objective's return value as plain floats (tensors and numpy scalars are unwrapped)."""
    if hasattr(value, "item") and not isinstance(value, Mapping):
        value = value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(str(k), v) for k, v in value.items()}
    raise TypeError(f"the objective returned {value!r}; expected a number or a dict of metrics")


def main(conn: Any, task: Mapping[str, Any]) -> None:
    """The child's loop (the target of the spawned process)."""
    try:
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    except (AttributeError, ValueError):  # pragma: no cover - replaced streams
        pass
    os.environ.update({str(k): str(v) for k, v in (task.get("env") or {}).items()})  # before torch loads
    _redirect(None)
    faulthandler.enable(file=sys.stderr, all_threads=False)
    runner = _Runner(task)
    folder = Path(task["path"]).parent
    if folder.is_dir():
        os.chdir(folder)  # the script's own relative paths work as when run by hand
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        kind = msg[0]
        if kind == "exit":
            return
        if kind == "check":
            _redirect(msg[1])
            try:
                info = runner.check()
            except ScriptLoadError as exc:
                reply: tuple = ("failed", str(exc), exc.details, "load")
            except Exception as exc:  # DataError, ModelConfigError: plain messages
                reply = ("failed", str(exc), "", "load")
            else:
                reply = ("checked", info)
            _redirect(None)
            conn.send(reply)
        elif kind == "run":
            _, number, seed, params, log_path = msg
            _redirect(log_path)
            trial = ChildTrial(conn, number, seed, params)
            try:
                reply = ("done", _result(runner.run(trial)))
            except BaseException as exc:  # noqa: BLE001 - SystemExit in user code fails the trial only
                reply = _failure(exc, runner.path)
            _redirect(None)
            conn.send(reply)


def _failure(exc: BaseException, script: Path) -> tuple:
    from hpo_desktop.core.trial import TrialFailed, TrialPruned

    if isinstance(exc, TrialPruned):
        return ("pruned",)
    if isinstance(exc, TrialFailed):
        return ("failed", str(exc) or "failed", "", "failed")
    tb = _user_traceback(exc)
    print(tb, file=sys.stderr, end="")  # into the trial's log, after what the script printed
    message = f"the script called sys.exit({exc.code!r})" if isinstance(exc, SystemExit) else str(exc)
    reason = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return ("failed", f"{reason} ({_where(exc, script)})", tb, "error")
