"""The SQLite study store: round trips, faithful values, concurrency, safety on open."""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hpo_desktop.core import storage
from hpo_desktop.core.storage import (
    SCHEMA_VERSION,
    StorageError,
    StudyExists,
    StudyNotFound,
    StudyStore,
    TrialNotFound,
)
from hpo_desktop.core.trial import TrialState

REPO = Path(__file__).resolve().parents[2]
SPACE = {"lr": {"kind": "float", "low": 1e-4, "high": 1e-1, "log": True}, "act": {"kind": "categorical"}}


def new_study(store: StudyStore, name: str = "s", direction: str = "minimize", **kw):
    return store.create_study(
        name, metric="val_loss", direction=direction, space=SPACE, strategy={"kind": "random"}, **kw
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "studies.hpo.db"


@pytest.fixture
def store(path: Path):
    with StudyStore(path) as s:
        yield s


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


# --------------------------------------------------------------------------- round trips


def test_create_and_reopen_round_trip(path: Path) -> None:
    with StudyStore(path) as s:
        rec = s.create_study(
            "first",
            metric="val_acc",
            direction="maximize",
            space=SPACE,
            strategy={"kind": "bayesian", "n_initial": 5},
            seed=7,
            budget=20,
            spec={"data": {"name": "mnist"}, "model": {"kind": "mlp"}},
            attrs={"note": "héllo"},
        )
        t = s.create_trial(rec.study_id, {"lr": 0.01, "act": "relu"}, seed=3, attrs={"device": "cpu"})
        assert (t.state, t.number, t.seed) == (TrialState.RUNNING, 0, 3)
        assert t.params == {"lr": 0.01, "act": "relu"}
        assert t == s.get_trial(t.trial_id)
        s.report(t.trial_id, 0, {"val_acc": 0.5, "loss": 1.0})
        s.report(t.trial_id, 1, {"val_acc": 0.7, "loss": 0.5})
        done = s.finish_trial(
            t.trial_id, TrialState.COMPLETE, value=0.7, metrics={"val_acc": 0.7, "loss": 0.5}, attrs={"x": 1}
        )
        assert done.state is TrialState.COMPLETE and done.value == 0.7 and done.seconds >= 0
        assert done.attrs == {"device": "cpu", "x": 1}
        assert done == s.get_trial(t.trial_id, with_curves=False)
    with StudyStore(path) as s:
        again = s.get_study("first")
        assert again == rec
        assert again.created_at.endswith("+00:00")
        assert s.get_study_by_id(rec.study_id) == rec
        tr = s.get_trial(t.trial_id)
        assert tr.metrics == {"loss": 0.5, "val_acc": 0.7}
        assert tr.curves == {"loss": [(0, 1.0), (1, 0.5)], "val_acc": [(0, 0.5), (1, 0.7)]}
        assert tr.last_step == 1 and tr.finished_at >= tr.started_at
        assert tr.attrs == {"device": "cpu", "x": 1}
        assert s.get_curves(t.trial_id) == tr.curves
        assert s.get_curves(t.trial_id, after_step=0) == {"loss": [(1, 0.5)], "val_acc": [(1, 0.7)]}


def test_many_studies_in_one_file_with_their_own_numbers(store: StudyStore) -> None:
    recs = [new_study(store, f"study-{i}") for i in range(4)]
    for _ in range(3):
        for r in recs:
            store.create_trial(r.study_id, {"lr": 0.1})
    assert [r.name for r in store.list_studies()] == [f"study-{i}" for i in range(4)]
    for r in recs:
        assert [t.number for t in store.get_trials(r.study_id)] == [0, 1, 2]
        assert {t.study_id for t in store.get_trials(r.study_id)} == {r.study_id}


def test_trial_numbers_are_consecutive(store: StudyStore) -> None:
    sid = new_study(store).study_id
    nums = []
    for i in range(12):
        t = store.create_trial(sid, {"i": i})
        nums.append(t.number)
        if i % 3 == 0:
            store.finish_trial(t.trial_id, TrialState.FAILED, error="boom")
    assert nums == list(range(12))


def test_nan_and_inf_round_trip(path: Path) -> None:
    with StudyStore(path) as s:
        sid = new_study(s).study_id
        values = {"nan": math.nan, "pinf": math.inf, "ninf": -math.inf, "zero": -0.0}
        t1 = s.create_trial(sid, {})
        s.report(t1.trial_id, 0, values)
        s.finish_trial(t1.trial_id, TrialState.COMPLETE, value=math.nan, metrics=values)
        t2 = s.create_trial(sid, {})
        s.finish_trial(t2.trial_id, TrialState.COMPLETE, value=-math.inf)
        t3 = s.create_trial(sid, {})
        s.finish_trial(t3.trial_id, TrialState.FAILED, value=None, error="no value")
    with StudyStore(path, readonly=True) as s:
        a, b, c = s.get_trials(sid, with_curves=True)
        assert math.isnan(a.value) and b.value == -math.inf and c.value is None
        for got in (a.metrics, {k: v[0][1] for k, v in a.curves.items()}):
            assert math.isnan(got["nan"])
            assert got["pinf"] == math.inf and got["ninf"] == -math.inf
            assert got["zero"] == 0.0  # SQLite keeps no sign on a REAL zero (documented)
        summary = s.study_summaries()[0]
        assert summary.best_number is None and summary.best_value is None  # no finite value
    raw = sqlite3.connect(path)
    assert raw.execute("SELECT value, value_is_nan FROM trials ORDER BY number").fetchall() == [
        (None, 1),
        (-math.inf, 0),
        (None, 0),
    ]
    raw.close()


def test_numpy_scalars_become_plain_python(store: StudyStore) -> None:
    sid = new_study(store).study_id
    t = store.create_trial(
        sid, {"n": np.int64(3), "on": np.bool_(True), "lr": np.float32(0.5), "s": np.str_("a")}
    )
    assert t.params == {"n": 3, "on": True, "lr": 0.5, "s": "a"}
    assert [type(v) for v in t.params.values()] == [int, bool, float, str]
    store.report(t.trial_id, np.int64(0), {"loss": np.float32(0.25)})
    done = store.finish_trial(
        t.trial_id, TrialState.COMPLETE, value=np.float64(0.25), metrics={"m": np.int32(2)}
    )
    assert type(done.value) is float and done.metrics == {"m": 2.0} and type(done.metrics["m"]) is float
    assert store.get_curves(t.trial_id) == {"loss": [(0, 0.25)]}


@pytest.fixture(scope="module")
def shared_store(tmp_path_factory: pytest.TempPathFactory):
    with StudyStore(tmp_path_factory.mktemp("hyp") / "h.db") as s:
        yield s, new_study(s).study_id


param_values = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.none(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.text(max_size=10), param_values, max_size=6))
def test_params_keep_their_python_types(shared_store, params) -> None:
    s, sid = shared_store
    t = s.create_trial(sid, params)
    for got in (t.params, s.get_trial(t.trial_id, with_curves=False).params):
        assert list(got) == list(params)
        for k, v in params.items():
            assert type(got[k]) is type(v)
            assert got[k] == v
            if isinstance(v, float):
                assert math.copysign(1, got[k]) == math.copysign(1, v)


def test_bad_params_and_values_are_refused(store: StudyStore) -> None:
    sid = new_study(store).study_id
    with pytest.raises(ValueError, match="finite"):
        store.create_trial(sid, {"lr": math.nan})
    with pytest.raises(TypeError, match="'x'"):
        store.create_trial(sid, {"x": [1, 2]})
    t = store.create_trial(sid, {})
    with pytest.raises(TypeError, match="number"):
        store.report(t.trial_id, 0, {"loss": "0.1"})
    with pytest.raises(ValueError, match="final state"):
        store.finish_trial(t.trial_id, TrialState.RUNNING)
    assert store.get_trial(t.trial_id).curves == {}


# --------------------------------------------------------------------------- studies


def test_study_errors(store: StudyStore) -> None:
    new_study(store, "alpha")
    new_study(store, "beta")
    with pytest.raises(StudyExists, match="alpha"):
        new_study(store, "alpha")
    with pytest.raises(StudyNotFound) as exc:
        store.get_study("gamma")
    assert exc.value.available == ["alpha", "beta"]
    msg = str(exc.value)
    assert "'gamma'" in msg and "'alpha'" in msg and "'beta'" in msg and str(store.path) in msg
    with pytest.raises(StudyNotFound, match="alpha"):
        store.get_study_by_id(999)
    with pytest.raises(StudyNotFound):
        store.create_trial(999, {})
    with pytest.raises(ValueError, match="empty"):
        new_study(store, "  ")
    with pytest.raises(ValueError, match="direction"):
        store.create_study("x", metric="m", direction="up", space={}, strategy={})
    with pytest.raises(TrialNotFound):
        store.get_trial(12345)
    assert isinstance(TrialNotFound("x"), StorageError)


def test_update_and_delete_study(store: StudyStore) -> None:
    parent = new_study(store, "parent", budget=5, attrs={"a": 1})
    child = new_study(store, "child", parent_id=parent.study_id)
    up = store.update_study(parent.study_id, budget=None)
    assert up.budget is None and up.attrs == {"a": 1} and up.strategy == {"kind": "random"}
    up = store.update_study(parent.study_id, attrs={"b": 2}, strategy={"kind": "grid"})
    assert up.budget is None and up.attrs == {"b": 2} and up.strategy == {"kind": "grid"}
    t = store.create_trial(parent.study_id, {})
    store.report(t.trial_id, 0, {"l": 1.0})
    store.finish_trial(t.trial_id, TrialState.COMPLETE, value=1.0, metrics={"l": 1.0})
    keep = store.create_trial(child.study_id, {})
    store.delete_study(parent.study_id)
    assert [r.name for r in store.list_studies()] == ["child"]
    assert store.get_study("child").parent_id is None
    assert store.get_trial(keep.trial_id).study_id == child.study_id
    conn = sqlite3.connect(store.path)
    for table in ("trial_metrics", "trial_values"):
        assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 0
    conn.close()
    with pytest.raises(StudyNotFound):
        store.delete_study(parent.study_id)


def test_study_summaries_counts_and_best_by_direction(store: StudyStore) -> None:
    lo = new_study(store, "lo", "minimize").study_id
    hi = new_study(store, "hi", "maximize").study_id
    empty = new_study(store, "empty").study_id
    for sid in (lo, hi):
        for v in (3.0, 1.0, 2.0, math.nan, math.inf, -math.inf):
            t = store.create_trial(sid, {})
            store.finish_trial(t.trial_id, TrialState.COMPLETE, value=v)
        others = ((TrialState.PRUNED, -100.0), (TrialState.FAILED, 100.0), (TrialState.INTERRUPTED, None))
        for state, v in others:
            t = store.create_trial(sid, {})
            store.finish_trial(t.trial_id, state, value=v)
        store.create_trial(sid, {})
    by_name = {s.record.name: s for s in store.study_summaries()}
    assert list(by_name) == ["lo", "hi", "empty"]
    expected = {"running": 1, "complete": 6, "pruned": 1, "failed": 1, "interrupted": 1}
    assert by_name["lo"].counts == expected and by_name["hi"].counts == expected
    assert by_name["lo"].n_trials == 10
    assert (by_name["lo"].best_number, by_name["lo"].best_value) == (1, 1.0)
    assert (by_name["hi"].best_number, by_name["hi"].best_value) == (0, 3.0)
    e = by_name["empty"]
    assert e.counts == dict.fromkeys(expected, 0) and e.n_trials == 0 and e.best_number is None
    assert e.record.study_id == empty


# --------------------------------------------------------------------------- trials


def test_report_replaces_same_step_and_keeps_last_step(store: StudyStore) -> None:
    sid = new_study(store).study_id
    t = store.create_trial(sid, {})
    store.report(t.trial_id, 0, {"loss": 2.0})
    store.report(t.trial_id, 1, {"loss": 1.5, "acc": 0.1})
    store.report(t.trial_id, 1, {"loss": 1.0})
    store.report(t.trial_id, 0, {"loss": 3.0})
    tr = store.get_trial(t.trial_id)
    assert tr.curves == {"acc": [(1, 0.1)], "loss": [(0, 3.0), (1, 1.0)]}
    assert tr.last_step == 1
    store.finish_trial(t.trial_id, TrialState.PRUNED, value=1.0)
    with pytest.raises(StorageError, match="already pruned"):
        store.report(t.trial_id, 2, {"loss": 0.5})
    with pytest.raises(StorageError, match="already pruned"):
        store.finish_trial(t.trial_id, TrialState.COMPLETE)
    with pytest.raises(TrialNotFound):
        store.report(99999, 0, {"loss": 1.0})


def test_get_trials_with_curves_and_states(store: StudyStore) -> None:
    sid = new_study(store).study_id
    ids = []
    for i in range(5):
        t = store.create_trial(sid, {"i": i})
        ids.append(t.trial_id)
        for step in range(i):
            store.report(t.trial_id, step, {"loss": float(step + i)})
        if i % 2 == 0:
            store.finish_trial(t.trial_id, TrialState.COMPLETE, value=float(i), metrics={"loss": float(i)})
    trials = store.get_trials(sid, with_curves=True)
    assert [t.number for t in trials] == [0, 1, 2, 3, 4]
    for i, t in enumerate(trials):
        assert t.curves == ({"loss": [(s, float(s + i)) for s in range(i)]} if i else {})
    assert [t.curves for t in store.get_trials(sid)] == [{}] * 5
    done = store.get_trials(sid, states=[TrialState.COMPLETE])
    assert [t.number for t in done] == [0, 2, 4] and done[1].metrics == {"loss": 2.0}
    both = store.get_trials(sid, states=[TrialState.RUNNING, "complete"])
    assert [t.number for t in both] == list(range(5))
    assert store.get_trials(sid, states=[]) == []


def test_trials_since_for_polling(store: StudyStore) -> None:
    sid = new_study(store).study_id
    other = new_study(store, "other").study_id
    t0 = store.create_trial(sid, {})
    first = store.trials_since(sid)
    assert [t.number for t in first.trials] == [0] and first.last_trial_id == t0.trial_id
    assert store.trials_since(sid, after_seq=first.seq).trials == []
    seq_before = store.change_seq()
    store.create_trial(other, {})
    t1 = store.create_trial(sid, {})
    store.report(t0.trial_id, 0, {"loss": 1.0})
    assert store.change_seq() > seq_before
    changed = store.trials_since(sid, after_seq=first.seq, with_curves=True)
    assert [t.number for t in changed.trials] == [0, 1]
    assert changed.trials[0].curves == {"loss": [(0, 1.0)]}
    only_new = store.trials_since(sid, after_trial_id=first.last_trial_id)
    assert [t.trial_id for t in only_new.trials] == [t1.trial_id]
    store.finish_trial(t1.trial_id, TrialState.COMPLETE, value=1.0)
    last = store.trials_since(sid, after_seq=changed.seq)
    assert [(t.number, t.state) for t in last.trials] == [(1, TrialState.COMPLETE)]


# --------------------------------------------------------------------------- concurrency


def test_reader_in_another_thread_sees_commits_while_writer_writes(path: Path) -> None:
    writer = StudyStore(path, timeout=10)
    sid = new_study(writer).study_id
    go, seen = threading.Event(), threading.Event()
    box: dict = {"errors": [], "counts": []}
    stop = threading.Event()

    def reader() -> None:
        try:
            with StudyStore(path, readonly=True, timeout=10) as r:
                for _ in range(5):  # lock step: each committed trial is visible at once
                    go.wait(10)
                    go.clear()
                    box["counts"].append(len(r.get_trials(sid, with_curves=True)))
                    seen.set()
                while not stop.is_set():  # then read freely while the writer keeps writing
                    r.study_summaries()
                    r.trials_since(sid, with_curves=True)
        except Exception as exc:  # pragma: no cover - reported below
            box["errors"].append(exc)
            seen.set()

    th = threading.Thread(target=reader)
    th.start()
    try:
        for i in range(5):
            t = writer.create_trial(sid, {"i": i})
            writer.report(t.trial_id, 0, {"loss": 1.0})
            go.set()
            assert seen.wait(10)
            seen.clear()
        for i in range(40):
            t = writer.create_trial(sid, {"i": i})
            for step in range(3):
                writer.report(t.trial_id, step, {"loss": 1.0 / (step + 1)})
            writer.finish_trial(t.trial_id, TrialState.COMPLETE, value=1.0)
    finally:
        stop.set()
        th.join(20)
        writer.close()
    assert box["errors"] == []
    assert box["counts"] == [1, 2, 3, 4, 5]


def test_one_store_shared_by_two_threads(store: StudyStore) -> None:
    sid = new_study(store).study_id
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(15):
                t = store.create_trial(sid, {})
                store.report(t.trial_id, 0, {"loss": 1.0})
                store.finish_trial(t.trial_id, TrialState.COMPLETE, value=1.0)
                store.get_trials(sid, with_curves=True)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert errors == []
    assert [t.number for t in store.get_trials(sid)] == list(range(30))


def _create_trials_in_child(path: str, study_id: int, n: int, barrier) -> None:
    barrier.wait(30)
    with StudyStore(path, timeout=30) as s:
        for _ in range(n):
            t = s.create_trial(study_id, {"pid": os.getpid()})
            s.finish_trial(t.trial_id, TrialState.COMPLETE, value=1.0)


def test_two_processes_get_distinct_trial_numbers(path: Path) -> None:
    with StudyStore(path) as s:
        sid = new_study(s).study_id
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [
        ctx.Process(target=_create_trials_in_child, args=(str(path), sid, 25, barrier)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    with StudyStore(path, readonly=True) as s:
        trials = s.get_trials(sid)
    assert sorted(t.number for t in trials) == list(range(50))
    assert len({t.params["pid"] for t in trials}) == 2


def test_busy_file_gives_a_plain_storage_error(store: StudyStore) -> None:
    sid = new_study(store).study_id
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with StudyStore(store.path, timeout=0.05) as other:
            with pytest.raises(StorageError, match="busy"):
                other.create_trial(sid, {})
            assert other.get_trials(sid) == []  # reading is still fine
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


# --------------------------------------------------------------------------- interrupted trials


def test_mark_interrupted_dead_pid_own_stale_and_other_host(path: Path) -> None:
    with StudyStore(path) as s:
        sid = new_study(s).study_id
    code = (
        "import sys; from hpo_desktop.core.storage import StudyStore\n"
        "s = StudyStore(sys.argv[1]); ids = [s.create_trial(int(sys.argv[2]), {}).trial_id for _ in range(3)]\n"
        "print(*ids)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), str(sid)],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    dead, stale, remote = (int(x) for x in out.stdout.split())
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("UPDATE trials SET pid = ? WHERE id = ?", (os.getpid(), stale))
        raw.execute("UPDATE trials SET hostname = 'some-other-host' WHERE id = ?", (remote,))
    raw.close()
    with StudyStore(path) as s:
        live = s.create_trial(sid, {})  # ours, running right now: must be left alone
        assert s.mark_interrupted(sid) == [0, 1]
        by_id = {t.trial_id: t for t in s.get_trials(sid)}
        assert by_id[dead].state is TrialState.INTERRUPTED and "gone" in by_id[dead].error
        assert by_id[stale].state is TrialState.INTERRUPTED and "not running it" in by_id[stale].error
        assert by_id[dead].finished_at is not None
        assert by_id[remote].state is TrialState.RUNNING
        assert by_id[live.trial_id].state is TrialState.RUNNING
        assert s.mark_interrupted() == []
        s.finish_trial(live.trial_id, TrialState.COMPLETE, value=1.0)


def test_own_trial_left_running_by_an_earlier_store_is_kept_until_finished(path: Path) -> None:
    with StudyStore(path) as a:
        sid = new_study(a).study_id
        t = a.create_trial(sid, {})
        with StudyStore(path) as b:  # e.g. the GUI opening the file the worker writes to
            assert b.mark_interrupted() == []
        a.finish_trial(t.trial_id, TrialState.COMPLETE, value=1.0)


# --------------------------------------------------------------------------- safety on open


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, except SQLite's WAL index (-shm), which any reader may create.

    An empty -wal counts as no -wal: a read-only reader of a WAL file may leave both behind.
    """
    return {
        p.name: p.read_bytes()
        for p in sorted(folder.iterdir())
        if not p.name.endswith("-shm") and not (p.name.endswith("-wal") and p.stat().st_size == 0)
    }


def test_newer_schema_is_refused_and_not_modified(path: Path) -> None:
    with StudyStore(path) as s:
        new_study(s)
    raw = sqlite3.connect(path)
    with raw:
        raw.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    raw.close()
    before = _snapshot(path.parent)
    for readonly in (False, True):
        with pytest.raises(StorageError, match="newer version") as exc:
            StudyStore(path, readonly=readonly)
        assert str(path) in str(exc.value) and "not changed" in str(exc.value)
        assert _snapshot(path.parent) == before


@pytest.mark.parametrize("kind", ["text", "other-tables", "foreign-meta", "empty-readonly"])
def test_foreign_files_are_refused_and_not_modified(path: Path, kind: str) -> None:
    if kind == "text":
        path.write_text("name,score\nada,1\n" * 50)
    elif kind in ("other-tables", "foreign-meta"):
        raw = sqlite3.connect(path)
        with raw:
            if kind == "other-tables":
                raw.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
            else:
                raw.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
                raw.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        raw.close()
    else:
        path.write_bytes(b"")
    before = _snapshot(path.parent)
    with pytest.raises(StorageError, match="not an HPO Desktop study file") as exc:
        StudyStore(path, readonly=kind == "empty-readonly")
    assert str(path) in str(exc.value)
    assert _snapshot(path.parent) == before


def test_readonly_mode(path: Path, tmp_path: Path) -> None:
    with StudyStore(path) as s:
        sid = new_study(s).study_id
        t = s.create_trial(sid, {"a": 1})
        s.report(t.trial_id, 0, {"loss": 1.0})
    before = _snapshot(path.parent)
    with StudyStore(path, readonly=True) as r:
        assert r.get_study("s").study_id == sid
        assert r.get_trials(sid, with_curves=True)[0].curves == {"loss": [(0, 1.0)]}
        assert r.study_summaries()[0].counts["running"] == 1
        for write in (
            lambda: new_study(r, "x"),
            lambda: r.create_trial(sid, {}),
            lambda: r.report(t.trial_id, 1, {"loss": 0.5}),
            lambda: r.finish_trial(t.trial_id, TrialState.COMPLETE),
            lambda: r.mark_interrupted(),
            lambda: r.delete_study(sid),
        ):
            with pytest.raises(StorageError, match="read-only"):
                write()
    assert _snapshot(path.parent) == before
    missing = tmp_path / "missing.db"
    with pytest.raises(StorageError, match="does not exist"):
        StudyStore(missing, readonly=True)
    assert not missing.exists()


def test_odd_characters_in_the_path(tmp_path: Path) -> None:
    folder = tmp_path / "my studies #1 ?50% (ü)"
    folder.mkdir()
    with StudyStore(folder / "a b?c#d%20.db") as s:
        new_study(s)
    assert [p.name for p in folder.iterdir()] == ["a b?c#d%20.db"]
    with StudyStore(folder / "a b?c#d%20.db", readonly=True) as s:
        assert s.get_study("s").name == "s"


def test_missing_folder_and_closed_store(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="folder .* does not exist"):
        StudyStore(tmp_path / "nope" / "s.db")
    s = StudyStore(tmp_path / "s.db")
    s.close()
    with pytest.raises(StorageError, match="closed"):
        s.list_studies()


def test_schema_as_documented(store: StudyStore) -> None:
    conn = sqlite3.connect(store.path)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"meta", "studies", "trials", "trial_metrics", "trial_values"} <= tables
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    assert meta["schema_version"] == str(SCHEMA_VERSION) and meta["application"] == "hpo-desktop"
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA application_id").fetchone()[0] == storage.APPLICATION_ID
    conn.close()
    sid = new_study(store).study_id
    store.create_trial(sid, {"lr": 0.1, "layers": 2, "bn": True})
    doc_query = (
        "SELECT t.number, json_extract(t.params, '$.lr') FROM trials t JOIN studies s ON s.id = t.study_id "
        "WHERE s.name = ?"
    )
    conn = sqlite3.connect(store.path)
    assert conn.execute(doc_query, ("s",)).fetchall() == [(0, 0.1)]
    assert json.loads(conn.execute("SELECT params FROM trials").fetchone()[0])["bn"] is True
    conn.close()


def test_core_storage_imports_nothing_heavy() -> None:
    code = (
        "import sys, hpo_desktop.core.storage\n"
        "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph', 'skopt', 'sklearn') if m in sys.modules]\n"
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env(), capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"


def test_a_trial_is_found_by_its_number(tmp_path):
    with StudyStore(tmp_path / "n.db") as store:
        rec = store.create_study(
            "s",
            metric="v",
            direction="minimize",
            space={"x": {"type": "float", "low": 0, "high": 1}},
            strategy={"kind": "random"},
        )
        for x in (0.1, 0.2, 0.3):
            t = store.create_trial(rec.study_id, {"x": x})
            store.report(t.trial_id, 1, {"v": x})
        found = store.get_trial_by_number(rec.study_id, 1)
        assert found.params == {"x": 0.2} and found.curves["v"] == [(1, 0.2)]
        assert store.get_trial_by_number(rec.study_id, 7) is None


# -- the queue of enqueued trials --------------------------------------------------------------


def test_the_queue_is_kept_in_order_survives_reopening_and_bumps_change_seq(path, store):
    sid = new_study(store).study_id
    other = new_study(store, "other").study_id
    seq = store.change_seq()
    assert store.queued_trials(sid) == [] and store.pop_queued(sid) is None
    assert store.change_seq() == seq  # an empty pop writes nothing
    assert store.enqueue_trial(sid, {"lr": 0.01, "act": "relu"}) == 1
    assert store.enqueue_trial(sid, {"lr": np.float64(0.02), "act": "tanh"}) == 2
    assert store.enqueue_trial(sid, {"lr": 0.03, "act": "gelu"}) == 3
    assert store.change_seq() == seq + 3
    assert store.queued_trials(other) == []
    store.remove_queued(sid, 1)
    assert store.change_seq() == seq + 4
    with pytest.raises(StorageError, match="no queued trial 5 \\(the queue holds 2\\)"):
        store.remove_queued(sid, 5)
    with pytest.raises(StorageError, match="no queued trial -1"):
        store.remove_queued(sid, -1)
    store.close()
    with StudyStore(path, readonly=True) as reader:
        assert reader.queued_trials(sid) == [{"lr": 0.01, "act": "relu"}, {"lr": 0.03, "act": "gelu"}]
        with pytest.raises(StorageError, match="read-only"):
            reader.pop_queued(sid)
    with StudyStore(path) as again:
        assert again.pop_queued(sid) == {"lr": 0.01, "act": "relu"}
        assert again.enqueue_trial(sid, {"lr": 0.05, "act": "relu"}, front=True) == 2
        assert again.pop_queued(sid) == {"lr": 0.05, "act": "relu"}
        assert again.pop_queued(sid) == {"lr": 0.03, "act": "gelu"}
        assert again.pop_queued(sid) is None
        assert "queue" not in again.get_study_by_id(sid).attrs  # an empty queue leaves no trace


def test_enqueueing_refuses_bad_values_and_unknown_studies(store):
    sid = new_study(store).study_id
    with pytest.raises(ValueError, match="finite"):
        store.enqueue_trial(sid, {"lr": float("nan")})
    with pytest.raises(TypeError, match="must be a str, int, float or bool"):
        store.enqueue_trial(sid, {"lr": [1, 2]})
    with pytest.raises(StudyNotFound):
        store.enqueue_trial(sid + 99, {"lr": 0.1})
    assert store.queued_trials(sid) == []


# -- evaluations on the test split ---------------------------------------------------------------


def test_evaluations_are_stored_apart_and_read_back_oldest_first(path, store):
    sid = new_study(store).study_id
    assert store.get_evaluations(sid) == []  # no table yet: nothing to read, nothing created
    conn = sqlite3.connect(path)
    assert "evaluations" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    seq = store.change_seq()
    rec = store.add_evaluation(
        sid,
        3,
        {"lr": 0.01, "act": "relu"},
        [1000, 1001],
        False,
        [{"test_accuracy": 0.9, "test_loss": 0.3}, {"test_accuracy": 0.94, "test_loss": float("nan")}],
        "CPU (2 threads)",
    )
    assert store.change_seq() == seq + 1
    second = store.add_evaluation(sid, 4, {"lr": 0.02}, [7], True, [{"test_rmse": 1.5}], "cpu")
    assert (rec.trial_number, rec.seeds, rec.include_validation, rec.device) == (
        3,
        [1000, 1001],
        False,
        "CPU (2 threads)",
    )
    mean, std = rec.summary["test_accuracy"]
    assert mean == pytest.approx(0.92) and std == pytest.approx(np.std([0.9, 0.94], ddof=1))
    assert math.isnan(rec.per_seed[1]["test_loss"])
    assert second.summary == {"test_rmse": (1.5, 0.0)}
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == str(
        SCHEMA_VERSION
    )
    conn.close()
    store.close()
    with StudyStore(path, readonly=True) as reader:
        got = reader.get_evaluations(sid)
        assert [e.id for e in got] == [rec.id, second.id]
        assert (
            got[1] == second and got[0].params == rec.params and math.isnan(got[0].per_seed[1]["test_loss"])
        )
    with StudyStore(path) as writer:
        with pytest.raises(ValueError, match="one metrics dict per seed"):
            writer.add_evaluation(sid, 0, {}, [1, 2], False, [{"test_loss": 1.0}], "cpu")
        with pytest.raises(StudyNotFound):
            writer.add_evaluation(sid + 9, 0, {}, [1], False, [{"test_loss": 1.0}], "cpu")
        writer.delete_study(sid)  # a deleted study takes its evaluations with it
        new_sid = new_study(writer, "again").study_id
        assert writer.get_evaluations(new_sid) == []
        assert writer._conn().execute("SELECT COUNT(*) FROM evaluations").fetchone()[0] == 0


def test_a_running_trial_keeps_extra_attrs_merged_and_an_ended_one_is_left_alone(tmp_path):
    with StudyStore(tmp_path / "a.db") as store:
        rec = store.create_study(
            "s",
            metric="v",
            direction="minimize",
            space={"x": {"type": "float", "low": 0, "high": 1}},
            strategy={"kind": "random"},
        )
        t = store.create_trial(rec.study_id, {"x": 0.5}, attrs={"source": "queue"})
        seq = store.change_seq()
        store.set_trial_attrs(t.trial_id, {"log": "epoch 1\n"})
        assert store.change_seq() > seq  # viewers see it
        store.finish_trial(t.trial_id, TrialState.COMPLETE, value=0.5)
        store.set_trial_attrs(t.trial_id, {"log": "too late"})
        assert store.get_trial(t.trial_id).attrs == {"source": "queue", "log": "epoch 1\n"}
