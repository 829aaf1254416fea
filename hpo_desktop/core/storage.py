"""The SQLite study store: one file, any number of studies, every change committed at once.

The schema is documented for users in ``docs/schema.md``; this module is its only writer.

Design in short:

* One connection per thread (kept in a ``threading.local``), so a store object may be shared
  by the GUI's reader thread and the worker's writer thread. WAL mode lets readers run while a
  writer writes; ``PRAGMA busy_timeout`` makes writers wait for each other instead of failing.
* Every write is one ``BEGIN IMMEDIATE`` transaction, committed before the method returns, with
  ``synchronous=NORMAL``: a crash of the process loses nothing that was committed; a power
  loss may lose the last few commits but never corrupts the file.
* Floats are stored faithfully: a REAL column holds finite values and ±inf, and its companion
  ``value_is_nan`` column is 1 for NaN (SQLite would turn NaN into NULL).
* Params are JSON text, so ``1``, ``1.0`` and ``true`` stay ``int``, ``float`` and ``bool``.
* Opening a file only reads it until it is known to be ours and not newer than this code:
  a foreign file, or one written by a newer version, is refused and left byte-for-byte alone.
* No pickle, no eval; user-given names (studies, params, metrics) are bound values, never SQL.
* sqlite-utils creates the schema and inserts studies and meta rows; the per-trial hot paths
  (create_trial, report, finish_trial) use plain parameterized statements, because
  sqlite-utils' ``insert()`` re-inspects the table on every call (~0.1 ms each).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import operator
import os
import socket
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from .evaluation import EvaluationRecord
from .trial import FrozenTrial, TrialState

__all__ = [
    "SCHEMA_VERSION",
    "EvaluationRecord",
    "StorageError",
    "StudyExists",
    "StudyNotFound",
    "StudyRecord",
    "StudyStore",
    "StudySummary",
    "TrialChanges",
    "TrialNotFound",
]

SCHEMA_VERSION = 1
APPLICATION = "hpo-desktop"
#: Written to the SQLite header (``PRAGMA application_id``) so tools such as ``file`` can tell
#: a study file apart; informational only - the ``meta`` table is what is checked on open.
APPLICATION_ID = 0x48504F44  # "HPOD"
DIRECTIONS = ("minimize", "maximize")

_SQLITE_HEADER = b"SQLite format 3\x00"
_INF = float("inf")
_NAN = float("nan")
_REQUIRED_TABLES = ("meta", "studies", "trials", "trial_metrics", "trial_values")
_UNSET: Any = object()

_STUDY_COLS = "id, name, metric, direction, space, strategy, seed, budget, created_at, parent_id, spec, attrs"
_TRIAL_COLS = (
    "id, study_id, number, state, params, value, value_is_nan, error, seed, "
    "started_at, finished_at, seconds, last_step, attrs"
)
_TRIAL_COLS_T = ", ".join(f"t.{c.strip()}" for c in _TRIAL_COLS.split(","))


# --------------------------------------------------------------------------------------------
# errors


class StorageError(Exception):
    """A study file could not be opened, read or written. The message names the file."""


class StudyNotFound(StorageError):
    """No such study. ``available`` lists the names of the studies that do exist."""

    def __init__(self, message: str, available: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.available = list(available)


class StudyExists(StorageError):
    """A study with that name is already in the file."""


class TrialNotFound(StorageError):
    """No trial with that id in the file."""


# --------------------------------------------------------------------------------------------
# records


@dataclass(frozen=True)
class StudyRecord:
    """One row of the ``studies`` table, decoded."""

    study_id: int
    name: str
    metric: str
    direction: str  # "minimize" | "maximize"
    space: dict
    strategy: dict
    seed: int | None
    budget: int | None
    created_at: str  # ISO-8601, UTC
    parent_id: int | None = None
    spec: dict | None = None
    attrs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StudySummary:
    """A study with its trial counts and best trial, computed in SQL."""

    record: StudyRecord
    counts: dict[str, int]  # every TrialState value -> number of trials (0 if none)
    n_trials: int
    best_number: int | None  # best complete trial with a finite value, by the study's direction
    best_value: float | None


@dataclass(frozen=True)
class TrialChanges:
    """What :meth:`StudyStore.trials_since` found.

    Pass ``seq`` back as ``after_seq`` (and/or ``last_trial_id`` as ``after_trial_id``) on the
    next poll to get only what changed in between.
    """

    trials: list[FrozenTrial]  # ordered by number
    seq: int  # the file's change counter when the poll was made
    last_trial_id: int  # the highest trial id of this study seen so far (or the one passed in)


# --------------------------------------------------------------------------------------------
# the registry of trials this process is running (for mark_interrupted)

_RUNNING_HERE: set[tuple[str, int]] = set()
_RUNNING_LOCK = threading.Lock()


def _register(real: str, trial_id: int) -> None:
    with _RUNNING_LOCK:
        _RUNNING_HERE.add((real, trial_id))


def _unregister(real: str, trial_id: int) -> None:
    with _RUNNING_LOCK:
        _RUNNING_HERE.discard((real, trial_id))


def _is_running_here(real: str, trial_id: int) -> bool:
    with _RUNNING_LOCK:
        return (real, trial_id) in _RUNNING_HERE


@functools.lru_cache(maxsize=1)
def _hostname() -> str:
    return socket.gethostname()


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (zombies count as gone)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        return _win_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists but belongs to someone else
        return True
    try:  # a zombie has exited; only its exit status is left for its parent to collect
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rindex(b")") + 2 : stat.rindex(b")") + 3] != b"Z"
    except (OSError, ValueError):
        return True


def _win_pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    # os.kill(pid, 0) on Windows would send CTRL_C_EVENT, so ask the kernel instead.
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
    kernel32.GetExitCodeProcess.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
    kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return ctypes.get_last_error() == 5  # ERROR_ACCESS_DENIED: exists, not ours
    try:
        code = wintypes.DWORD()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


# --------------------------------------------------------------------------------------------
# value conversion


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _seconds_between(start: str | None, end: str) -> float | None:
    if not start:
        return None
    try:
        return max(0.0, (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds())
    except ValueError:
        return None


def _to_float(x: Any, what: str) -> float:
    """A plain Python float from a float, int, numpy scalar or 0-d tensor."""
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"{what} must be a number, got {type(x).__name__} {x!r}")
    try:
        return float(x)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a number, got {type(x).__name__} {x!r}") from None


def _encode_float(x: float | None) -> tuple[float | None, int]:
    """(REAL column value, value_is_nan) - SQLite would silently store NaN as NULL."""
    if x is None:
        return None, 0
    if x != x:
        return None, 1
    return x, 0


def _decode_float(value: float | None, is_nan: int) -> float | None:
    if is_nan:
        return _NAN
    return None if value is None else float(value)


def _opt_int(x: Any, what: str) -> int | None:
    if x is None:
        return None
    if isinstance(x, bool):
        raise TypeError(f"{what} must be a whole number or None, got {x!r}")
    try:
        return operator.index(x)
    except TypeError:
        raise TypeError(f"{what} must be a whole number or None, got {type(x).__name__} {x!r}") from None


def _check_name(x: Any, what: str) -> str:
    if not isinstance(x, str):
        raise TypeError(f"{what} must be a string, got {type(x).__name__} {x!r}")
    if not x.strip():
        raise ValueError(f"{what} must not be empty")
    return x


def _json_default(o: Any) -> Any:
    # numpy scalars and arrays (checked by duck typing: numpy is not imported here)
    if type(o).__module__ == "numpy":
        if hasattr(o, "tolist"):
            return o.tolist()
        if hasattr(o, "item"):
            return o.item()
    if isinstance(o, (set, frozenset)):
        return sorted(o)
    raise TypeError(f"{type(o).__name__} {o!r} cannot be stored as JSON")


def _dumps(obj: Any, what: str) -> str:
    try:
        return json.dumps(obj, default=_json_default, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{what}: {exc}") from None


def _param_value(name: str, v: Any) -> Any:
    if type(v).__module__ == "numpy" and hasattr(v, "item"):
        v = v.item()
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"parameter {name!r} is {v!r}; parameter values must be finite")
        return float(v)
    raise TypeError(f"parameter {name!r} must be a str, int, float or bool, got {type(v).__name__} {v!r}")


def _params_json(params: Mapping[str, Any]) -> str:
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict, got {type(params).__name__}")
    plain: dict[str, Any] = {}
    for k, v in params.items():
        if not isinstance(k, str):
            raise TypeError(f"parameter names must be strings, got {k!r}")
        plain[k] = _param_value(k, v)
    return json.dumps(plain, ensure_ascii=False, allow_nan=False)


def _metric_rows(trial_id: int, metrics: Mapping[str, Any], what: str) -> list[tuple]:
    if not isinstance(metrics, Mapping):
        raise TypeError(f"{what} must be a mapping of metric name to number, got {type(metrics).__name__}")
    rows = []
    for name, v in metrics.items():
        _check_name(name, f"{what} name")
        value, nan = _encode_float(_to_float(v, f"{what} {name!r}"))
        rows.append((trial_id, name, value, nan))
    return rows


def _name_key(row: tuple) -> str:
    return row[1]


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class _DamagedRow(Exception):
    """A row whose stored values cannot be decoded (not JSON text, a wrong type, an unknown state)."""


def _row_decoder(what: str):
    """Turn any decoding failure of a row into _DamagedRow naming the row (first column: its id)."""

    def wrap(fn):
        @functools.wraps(fn)
        def decode(row: tuple, *args: Any) -> Any:
            try:
                return fn(row, *args)
            except (TypeError, ValueError, UnicodeDecodeError, RecursionError) as exc:
                raise _DamagedRow(f"{what} row {row[0]!r} cannot be read ({type(exc).__name__})") from None

        return decode

    return wrap


@_row_decoder("study")
def _study_from_row(row: tuple) -> StudyRecord:
    sid, name, metric, direction, space, strategy, seed, budget, created, parent, spec, attrs = row
    return StudyRecord(
        study_id=sid,
        name=name,
        metric=metric,
        direction=direction,
        space=json.loads(space),
        strategy=json.loads(strategy),
        seed=seed,
        budget=budget,
        created_at=created,
        parent_id=parent,
        spec=_loads(spec),
        attrs=json.loads(attrs) if attrs else {},
    )


@_row_decoder("trial")
def _trial_from_row(
    row: tuple,
    metrics: dict[str, float] | None = None,
    curves: dict[str, list[tuple[int, float]]] | None = None,
) -> FrozenTrial:
    tid, sid, number, state, params, value, nan, error, seed, started, finished, secs, last, attrs = row
    return FrozenTrial(
        study_id=sid,
        trial_id=tid,
        number=number,
        state=TrialState(state),
        params=json.loads(params),
        value=_decode_float(value, nan),
        metrics=metrics if metrics is not None else {},
        error=error,
        seed=seed,
        started_at=started,
        finished_at=finished,
        seconds=secs,
        last_step=last,
        attrs=json.loads(attrs) if attrs else {},
        curves=curves if curves is not None else {},
    )


@_row_decoder("evaluation")
def _evaluation_from_row(row: tuple) -> EvaluationRecord:
    eid, sid, number, params, seeds, include_val, per_seed, created, device = row
    return EvaluationRecord(
        id=eid,
        study_id=sid,
        trial_number=number,
        params=json.loads(params),
        seeds=json.loads(seeds),
        include_validation=bool(include_val),
        per_seed=json.loads(per_seed),
        created_at=created,
        device=device,
    )


# --------------------------------------------------------------------------------------------
# the store


def _sqlite_uri(path: Path, mode: str) -> str:
    """``file:`` URI for an absolute path: '?', '#' and '%' escaped; Windows drives and UNC
    shares (``//server/share``) kept in the form SQLite expects."""
    from urllib.parse import quote

    p = path.as_posix()
    if not p.startswith("/"):  # "C:/..." on Windows
        p = "/" + p
    return f"file://{quote(p, safe='/:')}?mode={mode}"


def _translated(method):
    """Turn sqlite3 errors escaping a public method into StorageError with a plain message."""

    @functools.wraps(method)
    def wrapper(self: StudyStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise self._storage_error(exc) from exc
        except _DamagedRow as exc:
            raise StorageError(
                f"{self.path} is damaged: {exc}. It was not changed; restore it from a backup."
            ) from None

    return wrapper


class StudyStore:
    """All studies in one SQLite file. Safe to share between threads (one connection each).

    ``readonly=True`` opens the file with ``mode=ro`` and never writes to it; every method
    that would write raises :class:`StorageError`. ``timeout`` is how long (seconds) a write
    waits for another writer before giving up with "the study file is busy".
    """

    def __init__(self, path: str | os.PathLike, *, readonly: bool = False, timeout: float = 30.0) -> None:
        self.path = Path(os.path.abspath(os.fspath(path)))
        self.readonly = bool(readonly)
        self.timeout = float(timeout)
        self._real = os.path.realpath(self.path)
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        mode = ", readonly" if self.readonly else ""
        return f"StudyStore({str(self.path)!r}{mode})"

    def __enter__(self) -> StudyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection this store opened (in any thread). Safe to call twice."""
        self._closed = True
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:  # pragma: no cover - best effort
                pass

    # -- connections -----------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            return conn
        if self._closed:
            raise StorageError(f"{self.path}: this study store was closed; open the file again to use it.")
        mode = "ro" if self.readonly else "rwc"
        conn = sqlite3.connect(
            _sqlite_uri(self.path, mode),
            uri=True,
            timeout=self.timeout,
            isolation_level=None,  # we issue BEGIN/COMMIT ourselves
            check_same_thread=False,  # only so close() may close it; used by one thread only
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            if self.readonly:
                conn.execute("PRAGMA query_only = ON")
            else:
                conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        local.conn = conn
        local.pid = os.getpid()
        local.db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _db(self) -> sqlite_utils.Database:
        self._conn()
        return self._local.db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken with BEGIN IMMEDIATE and committed on exit."""
        if self.readonly:
            raise StorageError(
                f"{self.path} was opened read-only, so it cannot be changed; "
                "open it without readonly=True to write to it."
            )
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            self._rollback(conn)
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            self._rollback(conn)
            raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction, so that several SELECTs see one snapshot."""
        conn = self._conn()
        if conn.in_transaction:
            yield conn
            return
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            self._rollback(conn)

    @staticmethod
    def _rollback(conn: sqlite3.Connection) -> None:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:  # pragma: no cover - the connection is unusable anyway
            pass

    @staticmethod
    def _bump_seq(conn: sqlite3.Connection) -> int:
        conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'change_seq'")
        return int(conn.execute("SELECT value FROM meta WHERE key = 'change_seq'").fetchone()[0])

    # -- errors ----------------------------------------------------------------------------

    def _not_ours(self, why: str) -> StorageError:
        return StorageError(
            f"{self.path} is not an HPO Desktop study file ({why}). It was not changed. "
            "Choose a study file made by HPO Desktop, or a new file name to start a new one."
        )

    def _storage_error(self, exc: sqlite3.Error) -> StorageError:
        msg = str(exc)
        low = msg.lower()
        if isinstance(exc, sqlite3.ProgrammingError) and "closed" in low:
            text = "this study store was closed; open the file again to use it."
        elif "locked" in low or "busy" in low:
            text = (
                f"the study file is busy: another program or thread kept it locked for more than "
                f"{self.timeout:g} s. Wait for it to finish (or close it) and try again."
            )
        elif "disk i/o error" in low:
            text = (
                "the study file could not be read or written (disk I/O error). Check that the "
                "disk or network share is still there and healthy, then try again."
            )
        elif "readonly database" in low or "read-only" in low:
            text = (
                "the study file (or its folder) is read-only. Check the file permissions, or "
                "open it with readonly=True to look at it without changing it."
            )
        elif "database or disk is full" in low or "disk is full" in low:
            text = "the disk is full. Free some space and try again; nothing committed was lost."
        elif "file is not a database" in low or "not a database" in low:
            return self._not_ours("it is not an SQLite database")
        elif "malformed" in low or "corrupt" in low:
            text = (
                "the study file is damaged (SQLite says: "
                f"{msg}). Restore it from a backup, or try the sqlite3 shell's .recover command."
            )
        elif "unable to open" in low:
            text = (
                "the study file could not be opened. Check that it exists, that you may read it "
                "(and write to it and its folder, unless opening read-only)."
            )
        else:
            text = f"SQLite error: {msg}."
        return StorageError(f"{self.path}: {text}")

    # -- opening -----------------------------------------------------------------------------

    def _open(self) -> None:
        p = self.path
        if p.is_dir():
            raise StorageError(f"{p} is a folder, not a study file. Choose a file inside it.")
        if not p.exists():
            if self.readonly:
                raise StorageError(
                    f"{p} does not exist (it was opened read-only, so it was not created). Check the path."
                )
            if not p.parent.is_dir():
                raise StorageError(
                    f"Cannot create the study file {p}: the folder {p.parent} does not exist. "
                    "Create the folder first, or choose another location."
                )
        else:
            try:
                with open(p, "rb") as f:
                    header = f.read(len(_SQLITE_HEADER))
            except OSError as exc:
                raise StorageError(f"{p} cannot be read ({exc.strerror}). Check its permissions.") from None
            if header and header != _SQLITE_HEADER:
                raise self._not_ours("it is not an SQLite database")
            if not header and self.readonly:
                raise self._not_ours("it is empty")
        try:
            self._check_or_create()
        except sqlite3.Error as exc:
            raise self._storage_error(exc) from exc

    def _tables(self, conn: sqlite3.Connection) -> set[str]:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def _check_or_create(self) -> None:
        conn = self._conn()
        tables = self._tables(conn)
        if tables:
            self._check_existing(conn, tables)
            if not self.readonly:
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
            return
        if self.readonly:
            raise self._not_ours("it is an empty SQLite database")
        conn.execute("PRAGMA journal_mode = WAL")
        with self._write() as conn:
            tables = self._tables(conn)
            if tables:  # another process created it in the meantime
                self._check_existing(conn, tables)
                return
            self._create_schema(conn)

    def _check_existing(self, conn: sqlite3.Connection, tables: set[str]) -> None:
        if "meta" not in tables:
            shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
            raise self._not_ours(f"it is an SQLite database with other tables: {shown}")
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error:
            raise self._not_ours("its meta table is not ours") from None
        if meta.get("application") != APPLICATION:
            raise self._not_ours("its meta table does not name HPO Desktop")
        try:
            version = int(meta.get("schema_version"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise self._not_ours("it has no valid schema_version") from None
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path} was written by a newer version of HPO Desktop (study file schema "
                f"version {version}; this version understands up to {SCHEMA_VERSION}). It was not "
                "changed. Update HPO Desktop to open it."
            )
        if version < 1:
            raise self._not_ours(f"unknown schema_version {version}")
        missing = [t for t in _REQUIRED_TABLES if t not in tables]
        if missing:
            raise StorageError(
                f"{self.path} is a damaged HPO Desktop study file: tables {', '.join(missing)} are "
                "missing. Restore it from a backup."
            )

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        db = self._db()
        db["meta"].create({"key": str, "value": str}, pk="key", not_null={"key", "value"})
        db["studies"].create(
            {
                "id": int,
                "name": str,
                "metric": str,
                "direction": str,
                "space": str,
                "strategy": str,
                "seed": int,
                "budget": int,
                "created_at": str,
                "parent_id": int,
                "spec": str,
                "attrs": str,
            },
            pk="id",
            not_null={"name", "metric", "direction", "space", "strategy", "created_at", "attrs"},
            defaults={"attrs": "{}"},
            foreign_keys=[("parent_id", "studies", "id")],
        )
        db["studies"].create_index(["name"], index_name="studies_name", unique=True)
        db["trials"].create(
            {
                "id": int,
                "study_id": int,
                "number": int,
                "state": str,
                "params": str,
                "value": float,
                "value_is_nan": int,
                "error": str,
                "seed": int,
                "started_at": str,
                "finished_at": str,
                "seconds": float,
                "last_step": int,
                "pid": int,
                "hostname": str,
                "attrs": str,
                "change_seq": int,
            },
            pk="id",
            not_null={"study_id", "number", "state", "params", "value_is_nan", "attrs", "change_seq"},
            defaults={"value_is_nan": 0, "attrs": "{}", "change_seq": 0},
            foreign_keys=[("study_id", "studies", "id")],
        )
        db["trials"].create_index(["study_id", "number"], index_name="trials_study_number", unique=True)
        db["trials"].create_index(["study_id", "state"], index_name="trials_study_state")
        db["trials"].create_index(["state"], index_name="trials_state")
        db["trial_metrics"].create(
            {"trial_id": int, "name": str, "step": int, "value": float, "value_is_nan": int},
            pk=("trial_id", "name", "step"),
            not_null={"trial_id", "name", "step", "value_is_nan"},
            defaults={"value_is_nan": 0},
            foreign_keys=[("trial_id", "trials", "id")],
        )
        db["trial_values"].create(
            {"trial_id": int, "name": str, "value": float, "value_is_nan": int},
            pk=("trial_id", "name"),
            not_null={"trial_id", "name", "value_is_nan"},
            defaults={"value_is_nan": 0},
            foreign_keys=[("trial_id", "trials", "id")],
        )
        from hpo_desktop import __version__

        db["meta"].insert_all(
            [
                {"key": "application", "value": APPLICATION},
                {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                {"key": "created_at", "value": _now()},
                {"key": "created_by", "value": f"hpo-desktop {__version__}"},
                {"key": "change_seq", "value": "0"},
            ]
        )
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    # -- studies -----------------------------------------------------------------------------

    def _study_names(self, conn: sqlite3.Connection) -> list[str]:
        return [r[0] for r in conn.execute("SELECT name FROM studies ORDER BY id")]

    def _study_not_found(self, conn: sqlite3.Connection, what: str) -> StudyNotFound:
        names = self._study_names(conn)
        if names:
            shown = ", ".join(repr(n) for n in names[:20])
            if len(names) > 20:
                shown += f" and {len(names) - 20} more"
            listing = f"Studies in this file: {shown}."
        else:
            listing = "This file has no studies yet."
        return StudyNotFound(f"No study {what} in {self.path}. {listing}", names)

    def _require_study(self, conn: sqlite3.Connection, study_id: int) -> None:
        if conn.execute("SELECT 1 FROM studies WHERE id = ?", (study_id,)).fetchone() is None:
            raise self._study_not_found(conn, f"with id {study_id}")

    def _load_study(self, conn: sqlite3.Connection, study_id: int) -> StudyRecord:
        row = conn.execute(f"SELECT {_STUDY_COLS} FROM studies WHERE id = ?", (study_id,)).fetchone()
        if row is None:
            raise self._study_not_found(conn, f"with id {study_id}")
        return _study_from_row(row)

    @_translated
    def create_study(
        self,
        name: str,
        *,
        metric: str,
        direction: str,
        space: Mapping[str, Any],
        strategy: Mapping[str, Any],
        seed: int | None = None,
        budget: int | None = None,
        parent_id: int | None = None,
        spec: Mapping[str, Any] | None = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> StudyRecord:
        """Add a study. :class:`StudyExists` if the name is taken."""
        name = _check_name(name, "study name")
        metric = _check_name(metric, "metric")
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
        for what, d in (("space", space), ("strategy", strategy)):
            if not isinstance(d, Mapping):
                raise TypeError(f"{what} must be a dict, got {type(d).__name__}")
        seed = _opt_int(seed, "seed")
        budget = _opt_int(budget, "budget")
        if budget is not None and budget < 0:
            raise ValueError(f"budget must be 0 or more (or None for no limit), got {budget}")
        parent_id = _opt_int(parent_id, "parent_id")
        row = {
            "name": name,
            "metric": metric,
            "direction": direction,
            "space": _dumps(dict(space), "space"),
            "strategy": _dumps(dict(strategy), "strategy"),
            "seed": seed,
            "budget": budget,
            "created_at": _now(),
            "parent_id": parent_id,
            "spec": None if spec is None else _dumps(dict(spec), "spec"),
            "attrs": _dumps(dict(attrs or {}), "attrs"),
        }
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM studies WHERE name = ?", (name,)).fetchone():
                raise StudyExists(
                    f"{self.path} already has a study named {name!r}. Choose another name, "
                    "or open the existing study to continue it."
                )
            if parent_id is not None:
                self._require_study(conn, parent_id)
            self._bump_seq(conn)
            study_id = self._db()["studies"].insert(row).last_pk
            return self._load_study(conn, study_id)

    @_translated
    def get_study(self, name: str) -> StudyRecord:
        """The study called ``name``; :class:`StudyNotFound` (listing the others) if none."""
        conn = self._conn()
        row = conn.execute(f"SELECT {_STUDY_COLS} FROM studies WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise self._study_not_found(conn, f"named {name!r}")
        return _study_from_row(row)

    @_translated
    def get_study_by_id(self, study_id: int) -> StudyRecord:
        return self._load_study(self._conn(), study_id)

    @_translated
    def list_studies(self) -> list[StudyRecord]:
        """Every study, in creation order."""
        rows = self._conn().execute(f"SELECT {_STUDY_COLS} FROM studies ORDER BY id").fetchall()
        return [_study_from_row(r) for r in rows]

    @_translated
    def study_summaries(self) -> list[StudySummary]:
        """Every study with its counts by state and its best trial - three aggregate queries."""
        with self._read() as conn:
            studies = [
                _study_from_row(r) for r in conn.execute(f"SELECT {_STUDY_COLS} FROM studies ORDER BY id")
            ]
            counts: dict[int, dict[str, int]] = {
                s.study_id: {st.value: 0 for st in TrialState} for s in studies
            }
            for sid, state, n in conn.execute(
                "SELECT study_id, state, COUNT(*) FROM trials GROUP BY study_id, state"
            ):
                if sid in counts:
                    counts[sid][state] = n
            best: dict[int, tuple[int, float]] = {}
            for sid, number, value in conn.execute(
                """
                SELECT study_id, number, value FROM (
                    SELECT t.study_id, t.number, t.value,
                           ROW_NUMBER() OVER (
                               PARTITION BY t.study_id
                               ORDER BY CASE WHEN s.direction = 'maximize' THEN -t.value ELSE t.value END,
                                        t.number
                           ) AS rank
                    FROM trials AS t JOIN studies AS s ON s.id = t.study_id
                    WHERE t.state = ? AND t.value_is_nan = 0 AND abs(t.value) < ?
                ) WHERE rank = 1
                """,
                (TrialState.COMPLETE.value, _INF),
            ):
                best[sid] = (number, float(value))
        out = []
        for s in studies:
            c = counts[s.study_id]
            b = best.get(s.study_id)
            out.append(
                StudySummary(
                    record=s,
                    counts=c,
                    n_trials=sum(c.values()),
                    best_number=b[0] if b else None,
                    best_value=b[1] if b else None,
                )
            )
        return out

    @_translated
    def update_study(
        self,
        study_id: int,
        *,
        budget: int | None = _UNSET,
        attrs: Mapping[str, Any] = _UNSET,
        strategy: Mapping[str, Any] = _UNSET,
    ) -> StudyRecord:
        """Change only the fields given (``attrs`` and ``strategy`` are replaced, not merged)."""
        sets: list[str] = []
        values: list[Any] = []
        if budget is not _UNSET:
            budget = _opt_int(budget, "budget")
            if budget is not None and budget < 0:
                raise ValueError(f"budget must be 0 or more (or None for no limit), got {budget}")
            sets.append("budget = ?")
            values.append(budget)
        if attrs is not _UNSET:
            sets.append("attrs = ?")
            values.append(_dumps(dict(attrs or {}), "attrs"))
        if strategy is not _UNSET:
            if not isinstance(strategy, Mapping):
                raise TypeError(f"strategy must be a dict, got {type(strategy).__name__}")
            sets.append("strategy = ?")
            values.append(_dumps(dict(strategy), "strategy"))
        if not sets:
            return self.get_study_by_id(study_id)
        with self._write() as conn:
            self._require_study(conn, study_id)
            self._bump_seq(conn)
            conn.execute(f"UPDATE studies SET {', '.join(sets)} WHERE id = ?", (*values, study_id))
            return self._load_study(conn, study_id)

    @_translated
    def delete_study(self, study_id: int) -> None:
        """Delete a study with its trials, reports and final metrics (one transaction).

        Studies that named it as their parent keep their trials; their ``parent_id`` becomes NULL.
        The file does not shrink until it is vacuumed (``sqlite-utils vacuum FILE``).
        """
        with self._write() as conn:
            self._require_study(conn, study_id)
            sub = "SELECT id FROM trials WHERE study_id = ?"
            conn.execute(f"DELETE FROM trial_metrics WHERE trial_id IN ({sub})", (study_id,))
            conn.execute(f"DELETE FROM trial_values WHERE trial_id IN ({sub})", (study_id,))
            conn.execute("DELETE FROM trials WHERE study_id = ?", (study_id,))
            if "evaluations" in self._tables(conn):
                conn.execute("DELETE FROM evaluations WHERE study_id = ?", (study_id,))
            conn.execute("UPDATE studies SET parent_id = NULL WHERE parent_id = ?", (study_id,))
            conn.execute("DELETE FROM studies WHERE id = ?", (study_id,))
            self._bump_seq(conn)

    # -- the queue of enqueued trials ------------------------------------------------------------
    # Kept in the study's attrs under "queue" (a list of params dicts, first = next to run), so
    # the schema does not change. Each write is one transaction that bumps change_seq.

    def _queue_of(self, conn: sqlite3.Connection, study_id: int) -> tuple[dict, list[dict[str, Any]]]:
        row = conn.execute("SELECT attrs FROM studies WHERE id = ?", (study_id,)).fetchone()
        if row is None:
            raise self._study_not_found(conn, f"with id {study_id}")
        attrs = json.loads(row[0]) if row[0] else {}
        queue = attrs.get("queue")
        return attrs, [dict(q) for q in queue if isinstance(q, dict)] if isinstance(queue, list) else []

    def _write_queue(
        self, conn: sqlite3.Connection, study_id: int, attrs: dict, queue: list[dict[str, Any]]
    ) -> None:
        attrs = {**attrs, "queue": queue}
        if not queue:
            del attrs["queue"]
        self._bump_seq(conn)
        conn.execute("UPDATE studies SET attrs = ? WHERE id = ?", (_dumps(attrs, "attrs"), study_id))

    @_translated
    def enqueue_trial(self, study_id: int, params: Mapping[str, Any], *, front: bool = False) -> int:
        """Append a configuration to the study's queue (``front``: run it next); return the
        queue's length. The params are stored as given; :meth:`Study.enqueue` checks them."""
        entry = json.loads(_params_json(params))
        with self._write() as conn:
            attrs, queue = self._queue_of(conn, study_id)
            queue = [entry, *queue] if front else [*queue, entry]
            self._write_queue(conn, study_id, attrs, queue)
            return len(queue)

    @_translated
    def queued_trials(self, study_id: int) -> list[dict[str, Any]]:
        """The study's queued configurations, the next to run first."""
        with self._read() as conn:
            return self._queue_of(conn, study_id)[1]

    @_translated
    def remove_queued(self, study_id: int, index: int) -> None:
        """Remove the queued configuration at ``index`` (0 = the next to run)."""
        index = operator.index(index)
        with self._write() as conn:
            attrs, queue = self._queue_of(conn, study_id)
            if not 0 <= index < len(queue):
                raise StorageError(
                    f"{self.path}: there is no queued trial {index} (the queue holds {len(queue)}); "
                    "it may have started running already."
                )
            del queue[index]
            self._write_queue(conn, study_id, attrs, queue)

    @_translated
    def pop_queued(self, study_id: int) -> dict[str, Any] | None:
        """Take the next queued configuration off the queue (one transaction); None when empty."""
        with self._read() as conn:  # a cheap look first: no write lock when the queue is empty
            if not self._queue_of(conn, study_id)[1]:
                return None
        with self._write() as conn:
            attrs, queue = self._queue_of(conn, study_id)
            if not queue:
                return None
            first = queue.pop(0)
            self._write_queue(conn, study_id, attrs, queue)
            return first

    # -- evaluations on the test split -------------------------------------------------------------
    # The table is created on the first write (additive; SCHEMA_VERSION stays 1), so files from
    # before it keep opening everywhere, and readers of such a file get [].

    def _create_evaluations(self, conn: sqlite3.Connection) -> None:
        if "evaluations" in self._tables(conn):
            return
        self._db()["evaluations"].create(
            {
                "id": int,
                "study_id": int,
                "trial_number": int,
                "params": str,
                "seeds": str,
                "include_validation": int,
                "per_seed": str,
                "created_at": str,
                "device": str,
            },
            pk="id",
            not_null={
                "study_id",
                "trial_number",
                "params",
                "seeds",
                "include_validation",
                "per_seed",
                "created_at",
                "device",
            },
            foreign_keys=[("study_id", "studies", "id")],
        )
        self._db()["evaluations"].create_index(["study_id"], index_name="evaluations_study")

    @_translated
    def add_evaluation(
        self,
        study_id: int,
        trial_number: int,
        params: Mapping[str, Any],
        seeds: Sequence[int],
        include_validation: bool,
        per_seed: Sequence[Mapping[str, float]],
        device: str,
    ) -> EvaluationRecord:
        """Store a final evaluation: one metrics dict per seed (``per_seed[i]`` ran with ``seeds[i]``)."""
        trial_number = operator.index(trial_number)
        seed_list = [operator.index(s) for s in seeds]
        rows = []
        for row in per_seed:
            rows.append(
                {_check_name(k, "metric name"): _to_float(v, f"metric {k!r}") for k, v in row.items()}
            )
        if len(rows) != len(seed_list) or not rows:
            raise ValueError(
                f"an evaluation needs one metrics dict per seed, got {len(rows)} for {len(seed_list)} seeds"
            )
        params_json = _params_json(params)
        values = (
            study_id,
            trial_number,
            params_json,
            json.dumps(seed_list),
            int(bool(include_validation)),
            json.dumps(rows),  # NaN/inf are written as JSON's NaN/Infinity extensions
            _now(),
            str(device),
        )
        with self._write() as conn:
            self._require_study(conn, study_id)
            self._create_evaluations(conn)
            self._bump_seq(conn)
            eid = conn.execute(
                "INSERT INTO evaluations (study_id, trial_number, params, seeds, include_validation, "
                "per_seed, created_at, device) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            ).lastrowid
        return _evaluation_from_row((eid, *values))

    @_translated
    def get_evaluations(self, study_id: int) -> list[EvaluationRecord]:
        """The study's evaluations, oldest first ([] for a file without the table)."""
        with self._read() as conn:
            self._require_study(conn, study_id)
            if "evaluations" not in self._tables(conn):
                return []
            rows = conn.execute(
                "SELECT id, study_id, trial_number, params, seeds, include_validation, per_seed, "
                "created_at, device FROM evaluations WHERE study_id = ? ORDER BY id",
                (study_id,),
            ).fetchall()
        return [_evaluation_from_row(r) for r in rows]

    # -- trials ------------------------------------------------------------------------------

    def _trial_not_found(self, trial_id: int) -> TrialNotFound:
        return TrialNotFound(
            f"No trial with id {trial_id} in {self.path}. It may belong to another study file, "
            "or its study was deleted; list the study's trials to find the right id."
        )

    def _not_running(self, conn: sqlite3.Connection, trial_id: int) -> StorageError:
        row = conn.execute("SELECT number, state, study_id FROM trials WHERE id = ?", (trial_id,)).fetchone()
        if row is None:
            return self._trial_not_found(trial_id)
        number, state, study_id = row
        return StorageError(
            f"{self.path}: trial {number} (id {trial_id}) of study id {study_id} is already "
            f"{state}, so it can no longer be reported to or finished. Start a new trial instead."
        )

    @_translated
    def create_trial(
        self,
        study_id: int,
        params: Mapping[str, Any],
        *,
        seed: int | Callable[[int], int] | None = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> FrozenTrial:
        """Start a trial: state RUNNING, the study's next number (0-based), this pid and host.

        ``seed`` may be a function of the trial's number, called inside the transaction that
        assigns the number (so the seed matches the number even with two writers).
        """
        params_json = _params_json(params)
        seed_of = seed if callable(seed) else None
        seed = None if seed_of else _opt_int(seed, "seed")
        attrs_json = _dumps(dict(attrs or {}), "attrs")
        started = _now()
        pid, host = os.getpid(), _hostname()
        trial_id: int | None = None
        try:
            with self._write() as conn:
                self._require_study(conn, study_id)
                number = conn.execute(
                    "SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?", (study_id,)
                ).fetchone()[0]
                if seed_of is not None:
                    seed = _opt_int(seed_of(number), "seed")
                seq = self._bump_seq(conn)
                # A plain parameterized INSERT: sqlite-utils' insert() introspects the table on every
                # call (~0.1 ms), which would double the cost of this hot path.
                trial_id = conn.execute(
                    "INSERT INTO trials (study_id, number, state, params, value, value_is_nan, seed, "
                    "started_at, pid, hostname, attrs, change_seq) VALUES (?, ?, ?, ?, NULL, 0, ?, ?, ?, ?, ?, ?)",
                    (
                        study_id,
                        number,
                        TrialState.RUNNING.value,
                        params_json,
                        seed,
                        started,
                        pid,
                        host,
                        attrs_json,
                        seq,
                    ),
                ).lastrowid
                # Registered before COMMIT: once the row is visible, it is known to be ours.
                _register(self._real, trial_id)
        except BaseException:
            if trial_id is not None:
                _unregister(self._real, trial_id)
            raise
        return FrozenTrial(
            study_id=study_id,
            trial_id=trial_id,
            number=number,
            state=TrialState.RUNNING,
            params=json.loads(params_json),
            seed=seed,
            started_at=started,
            attrs=json.loads(attrs_json),
        )

    @_translated
    def report(self, trial_id: int, step: int, metrics: Mapping[str, float]) -> None:
        """Store intermediate values at ``step`` (one row per metric), committed at once.

        Reporting the same (step, name) again replaces the value. ``last_step`` becomes the
        highest step reported so far. The trial must be running.
        """
        step = operator.index(step)
        rows = [(t, name, step, v, nan) for (t, name, v, nan) in _metric_rows(trial_id, metrics, "metric")]
        with self._write() as conn:
            conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'change_seq'")
            cur = conn.execute(
                "UPDATE trials SET last_step = MAX(COALESCE(last_step, ?), ?), "
                "change_seq = (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'change_seq') "
                "WHERE id = ? AND state = ?",
                (step, step, trial_id, TrialState.RUNNING.value),
            )
            if cur.rowcount == 0:
                raise self._not_running(conn, trial_id)
            if rows:  # plain SQL on this hot path, see the module docstring
                conn.executemany(
                    "INSERT OR REPLACE INTO trial_metrics (trial_id, name, step, value, value_is_nan) "
                    "VALUES (?, ?, ?, ?, ?)",
                    rows,
                )

    @_translated
    def finish_trial(
        self,
        trial_id: int,
        state: TrialState,
        *,
        value: float | None = None,
        metrics: Mapping[str, float] | None = None,
        error: str | None = None,
        attrs: Mapping[str, Any] | None = None,
    ) -> FrozenTrial:
        """End a running trial in ``state`` (anything but RUNNING).

        Sets ``finished_at`` and ``seconds``; ``metrics`` (final values) go to ``trial_values``;
        ``attrs`` are merged into the trial's attrs. Returns the trial without curves.
        """
        state = TrialState(state)
        if state is TrialState.RUNNING:
            raise ValueError("finish_trial needs a final state (complete, pruned, failed or interrupted)")
        enc_value, value_nan = _encode_float(None if value is None else _to_float(value, "value"))
        rows = _metric_rows(trial_id, metrics or {}, "final metric")
        if error is not None and not isinstance(error, str):
            error = str(error)
        new_attrs = dict(attrs or {})
        extra_attrs = _dumps(new_attrs, "attrs")  # validate before the transaction
        finished = _now()
        with self._write() as conn:
            row = conn.execute(f"SELECT {_TRIAL_COLS} FROM trials WHERE id = ?", (trial_id,)).fetchone()
            if row is None:
                raise self._trial_not_found(trial_id)
            old_state, started, old_attrs = row[3], row[9], row[13]
            if old_state != TrialState.RUNNING.value:
                raise self._not_running(conn, trial_id)
            merged = json.loads(old_attrs) if old_attrs else {}
            if new_attrs:
                merged.update(json.loads(extra_attrs))
                attrs_json = json.dumps(merged, ensure_ascii=False)
            else:
                attrs_json = old_attrs or "{}"
            seconds = _seconds_between(started, finished)
            seq = self._bump_seq(conn)
            conn.execute(
                "UPDATE trials SET state = ?, value = ?, value_is_nan = ?, error = ?, finished_at = ?, "
                "seconds = ?, attrs = ?, change_seq = ? WHERE id = ?",
                (
                    state.value,
                    enc_value,
                    value_nan,
                    error,
                    finished,
                    seconds,
                    attrs_json,
                    seq,
                    trial_id,
                ),
            )
            if rows:
                conn.executemany(
                    "INSERT OR REPLACE INTO trial_values (trial_id, name, value, value_is_nan) VALUES (?, ?, ?, ?)",
                    rows,
                )
        _unregister(self._real, trial_id)
        # Built from what was written (this is the only writer of trial_values for the trial).
        return dataclasses.replace(
            _trial_from_row(
                row, {n: _decode_float(v, nan) for (_t, n, v, nan) in sorted(rows, key=_name_key)}
            ),
            state=state,
            value=_decode_float(enc_value, value_nan),
            error=error,
            finished_at=finished,
            seconds=seconds,
            attrs=merged,
        )

    def _load_trials(
        self, conn: sqlite3.Connection, where: str, args: tuple, *, with_curves: bool
    ) -> list[FrozenTrial]:
        """Trials matching ``where`` (on alias t) with final metrics, and curves if asked:
        three queries in all, whatever the number of trials."""
        rows = conn.execute(
            f"SELECT {_TRIAL_COLS_T} FROM trials AS t WHERE {where} ORDER BY t.study_id, t.number", args
        ).fetchall()
        if not rows:
            return []
        metrics: dict[int, dict[str, float]] = {r[0]: {} for r in rows}
        for tid, name, value, nan in conn.execute(
            "SELECT v.trial_id, v.name, v.value, v.value_is_nan FROM trial_values AS v "
            f"JOIN trials AS t ON t.id = v.trial_id WHERE {where} ORDER BY v.trial_id, v.name",
            args,
        ):
            metrics[tid][name] = _decode_float(value, nan)  # type: ignore[assignment]
        curves: dict[int, dict[str, list[tuple[int, float]]]] = {r[0]: {} for r in rows}
        if with_curves:
            for tid, name, step, value, nan in conn.execute(
                "SELECT m.trial_id, m.name, m.step, m.value, m.value_is_nan FROM trial_metrics AS m "
                f"JOIN trials AS t ON t.id = m.trial_id WHERE {where} ORDER BY m.trial_id, m.name, m.step",
                args,
            ):
                curves[tid].setdefault(name, []).append((step, _decode_float(value, nan)))  # type: ignore[arg-type]
        return [_trial_from_row(r, metrics[r[0]], curves[r[0]]) for r in rows]

    @_translated
    def get_trial(self, trial_id: int, *, with_curves: bool = True) -> FrozenTrial:
        with self._read() as conn:
            trials = self._load_trials(conn, "t.id = ?", (trial_id,), with_curves=with_curves)
        if not trials:
            raise self._trial_not_found(trial_id)
        return trials[0]

    def get_trial_by_number(
        self, study_id: int, number: int, *, with_curves: bool = True
    ) -> FrozenTrial | None:
        """Trial ``number`` of a study (one indexed lookup), or None when there is no such trial."""
        with self._read() as conn:
            trials = self._load_trials(
                conn, "t.study_id = ? AND t.number = ?", (study_id, number), with_curves=with_curves
            )
        return trials[0] if trials else None

    @staticmethod
    def _states_clause(states: Iterable[TrialState] | None) -> tuple[str, tuple]:
        if states is None:
            return "", ()
        values = tuple(dict.fromkeys(TrialState(s).value for s in states))
        if not values:
            return " AND 0", ()
        return f" AND t.state IN ({', '.join('?' * len(values))})", values

    @_translated
    def get_trials(
        self,
        study_id: int,
        *,
        states: Iterable[TrialState] | None = None,
        with_curves: bool = False,
    ) -> list[FrozenTrial]:
        """The study's trials ordered by number; ``with_curves`` loads all curves in one query."""
        clause, state_args = self._states_clause(states)
        with self._read() as conn:
            self._require_study(conn, study_id)
            return self._load_trials(
                conn, "t.study_id = ?" + clause, (study_id, *state_args), with_curves=with_curves
            )

    @_translated
    def get_curves(
        self, trial_id: int, *, after_step: int | None = None
    ) -> dict[str, list[tuple[int, float]]]:
        """Reported values of one trial: metric name -> [(step, value), ...] sorted by step.

        ``after_step`` returns only steps greater than it (for polling a running trial).
        """
        conn = self._conn()
        lo = -(2**63) if after_step is None else operator.index(after_step)
        curves: dict[str, list[tuple[int, float]]] = {}
        for name, step, value, nan in conn.execute(
            "SELECT name, step, value, value_is_nan FROM trial_metrics "
            "WHERE trial_id = ? AND step > ? ORDER BY name, step",
            (trial_id, lo),
        ):
            curves.setdefault(name, []).append((step, _decode_float(value, nan)))  # type: ignore[arg-type]
        if not curves and conn.execute("SELECT 1 FROM trials WHERE id = ?", (trial_id,)).fetchone() is None:
            raise self._trial_not_found(trial_id)
        return curves

    #: Trial ids per ``IN (...)`` list of :meth:`get_curves_many` (under SQLite's variable limit).
    _CURVES_CHUNK = 500

    @_translated
    def get_curves_many(
        self, trial_ids: Sequence[int], metric: str | None = None
    ) -> dict[int, dict[str, list[tuple[int, float]]]]:
        """Curves of several trials in one read: trial id -> metric name -> [(step, value), ...]
        sorted by step. ``metric`` reads only that metric (an index range per trial).

        Every id asked for is a key, in the order given; ids without curves (or without a
        trial) map to ``{}``. One snapshot, ids sent in chunks of :attr:`_CURVES_CHUNK`.
        """
        ids = list(dict.fromkeys(operator.index(t) for t in trial_ids))
        out: dict[int, dict[str, list[tuple[int, float]]]] = {t: {} for t in ids}
        name_sql = "" if metric is None else " AND name = ?"
        name_arg: tuple = () if metric is None else (str(metric),)
        with self._read() as conn:
            for i in range(0, len(ids), self._CURVES_CHUNK):
                chunk = ids[i : i + self._CURVES_CHUNK]
                marks = ", ".join("?" * len(chunk))
                for tid, name, step, value, nan in conn.execute(
                    "SELECT trial_id, name, step, value, value_is_nan FROM trial_metrics "
                    f"WHERE trial_id IN ({marks}){name_sql} ORDER BY trial_id, name, step",
                    (*chunk, *name_arg),
                ):
                    curve = out[tid].get(name)
                    if curve is None:
                        curve = out[tid][name] = []
                    curve.append((step, _decode_float(value, nan)))  # type: ignore[arg-type]
        return out

    @_translated
    def running_elsewhere(self, study_id: int) -> list[tuple[int, int]]:
        """(trial number, pid) of the study's trials that another live process on this machine
        is running now - a second run of the same study must not start beside it."""
        conn = self._conn()
        rows = conn.execute(
            "SELECT id, number, pid, hostname FROM trials WHERE study_id = ? AND state = 'running'",
            (study_id,),
        ).fetchall()
        return [
            (number, pid)
            for tid, number, pid, host in rows
            if host == _hostname()
            and pid is not None
            and pid != os.getpid()
            and _pid_alive(pid)
            and not _is_running_here(self._real, tid)
        ]

    @_translated
    def set_trial_attrs(self, trial_id: int, attrs: Mapping[str, Any]) -> None:
        """Merge ``attrs`` into a running trial's attrs (e.g. a script's captured output); a
        trial that has already ended is left as it is."""
        extra = _dumps(dict(attrs), "attrs")
        with self._write() as conn:
            row = conn.execute(
                "SELECT attrs FROM trials WHERE id = ? AND state = ?", (trial_id, TrialState.RUNNING.value)
            ).fetchone()
            if row is None:
                return
            merged = {**(json.loads(row[0]) if row[0] else {}), **json.loads(extra)}
            conn.execute(
                "UPDATE trials SET attrs = ?, change_seq = ? WHERE id = ?",
                (_dumps(merged, "attrs"), self._bump_seq(conn), trial_id),
            )

    def forget_running(self, trial_id: int) -> None:
        """This process no longer runs ``trial_id`` (its end could not be written), so a later
        :meth:`mark_interrupted` - in this process too - may mark it interrupted."""
        _unregister(self._real, trial_id)

    @_translated
    def mark_interrupted(self, study_id: int | None = None) -> list[int]:
        """Mark running trials whose process is gone as INTERRUPTED; return their numbers.

        A running trial is dead when it was started on this host and its pid no longer exists,
        or when its pid is this process but this process is not running it (it was left over
        by an earlier run). Trials started on other hosts are left alone. Writes nothing (and
        takes no lock) when there is nothing to mark. In read-only mode this raises.
        """
        if self.readonly:
            raise StorageError(
                f"{self.path} was opened read-only, so stale running trials cannot be marked "
                "interrupted; open it without readonly=True."
            )
        sql = "SELECT id, number, pid, hostname, started_at FROM trials WHERE state = ?"
        args: tuple = (TrialState.RUNNING.value,)
        if study_id is not None:
            sql += " AND study_id = ?"
            args += (study_id,)
        sql += " ORDER BY study_id, number"
        host, me = _hostname(), os.getpid()

        def dead(conn: sqlite3.Connection) -> list[tuple[int, int, str]]:
            found = []
            for tid, number, pid, hostname, _started in conn.execute(sql, args).fetchall():
                if hostname != host or pid is None:
                    continue
                if pid == me:
                    if _is_running_here(self._real, tid):
                        continue
                    why = f"this process ({pid} on {host}) is not running it any more"
                elif _pid_alive(pid):
                    continue
                else:
                    why = f"its process ({pid} on {host}) is gone"
                found.append((tid, number, why))
            return found

        if not dead(self._conn()):
            return []
        now = _now()
        with self._write() as conn:
            found = dead(conn)  # again, under the write lock
            if found:
                seq = self._bump_seq(conn)
                conn.executemany(
                    "UPDATE trials SET state = ?, finished_at = ?, error = ?, change_seq = ? "
                    "WHERE id = ? AND state = ?",
                    [
                        (
                            TrialState.INTERRUPTED.value,
                            now,
                            f"Interrupted: {why}; found when the study file was opened again.",
                            seq,
                            tid,
                            TrialState.RUNNING.value,
                        )
                        for tid, _n, why in found
                    ],
                )
        return [number for _tid, number, _why in found]

    # -- polling -----------------------------------------------------------------------------

    @_translated
    def change_seq(self) -> int:
        """The file's change counter: it grows with every committed write, by any process.

        One indexed read of a single row - cheap enough to poll several times a second.
        """
        return int(self._conn().execute("SELECT value FROM meta WHERE key = 'change_seq'").fetchone()[0])

    @_translated
    def trials_since(
        self,
        study_id: int,
        *,
        after_trial_id: int = 0,
        after_seq: int = 0,
        with_curves: bool = False,
    ) -> TrialChanges:
        """Trials of a study with id > ``after_trial_id`` that changed after ``after_seq``.

        For a GUI poll: keep the returned ``seq`` and pass it as ``after_seq`` next time to get
        only the trials created, reported to or finished since (one indexed query); or pass
        ``after_trial_id`` alone to get only new rows. Both read one snapshot.
        """
        with self._read() as conn:
            self._require_study(conn, study_id)
            seq = int(conn.execute("SELECT value FROM meta WHERE key = 'change_seq'").fetchone()[0])
            trials = self._load_trials(
                conn,
                "t.study_id = ? AND t.id > ? AND t.change_seq > ?",
                (study_id, int(after_trial_id), int(after_seq)),
                with_curves=with_curves,
            )
        last = max([int(after_trial_id), *(t.trial_id for t in trials)])
        return TrialChanges(trials=trials, seq=seq, last_trial_id=last)
