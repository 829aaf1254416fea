"""Faults a study must survive: killed processes, a full disk, a read-only file, a second app
on the same file, a long soak, hostile names and planted payloads. Nothing finished is lost.

docs/reliability.md lists each fault, what the user sees and what survives; every row points
at a test here or next to the feature.
"""

from __future__ import annotations

import csv
import gc
import io
import os
import pickle
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hpo_desktop.core.export import export_csv, export_json
from hpo_desktop.core.storage import StorageError, StudyStore
from hpo_desktop.core.study import Study
from hpo_desktop.core.trial import TrialState

ROOT = Path(__file__).resolve().parents[1]

SLOW_SPEC = """
[study]
name = "overnight"
metric = "val_accuracy"
direction = "maximize"
trials = 3
seed = 3

[strategy]
kind = "bayesian"
initial_points = 2

[data]
dataset = "digits"

[model]
kind = "mlp"
epochs = 40
patience = 0

[space]
learning_rate = { type = "float", low = 1e-3, high = 1e-1, log = true }
hidden_units  = { type = "int", low = 8, high = 32 }
"""

GUI_SCRIPT = """
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from hpo_desktop.gui.main_window import MainWindow

app = QApplication([])
window = MainWindow()
window.show()
assert window.open_spec(Path(sys.argv[1]), study_file=Path(sys.argv[2]))
assert window.start_study()
app.exec()
"""


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        # One torch thread: on a busy machine two threads per process oversubscribe the cores
        # and a 3-trial study takes 10x longer (the test is about faults, not speed).
        "OMP_NUM_THREADS": "1",
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config"),
        "HPO_DESKTOP_DATA_DIR": str(tmp_path / "data"),
    }


def _wait_for_running_trial_with_epochs(db: Path, proc: subprocess.Popen, complete: int) -> None:
    """Until ``complete`` trials are complete and a later one is running with reported epochs."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
                    done = con.execute("SELECT count(*) FROM trials WHERE state = 'complete'").fetchone()[0]
                    running = con.execute(
                        "SELECT count(*) FROM trial_metrics m JOIN trials t ON t.id = m.trial_id "
                        "WHERE t.state = 'running'"
                    ).fetchone()[0]
                if done >= complete and running >= 3:
                    return
            except sqlite3.Error:
                pass
        time.sleep(0.05)
    pytest.fail("the run never reached a running trial with reported epochs")


def _snapshot(db: Path) -> tuple[list[tuple], dict[int, int]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        trials = con.execute("SELECT number, state, params, value FROM trials ORDER BY number").fetchall()
        epochs = dict(
            con.execute(
                "SELECT t.number, count(*) FROM trial_metrics m JOIN trials t ON t.id = m.trial_id GROUP BY t.number"
            ).fetchall()
        )
    return trials, epochs


def _kill_and_check(tmp_path: Path, argv: list[str], db: Path) -> None:
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(tmp_path)
    )
    try:
        _wait_for_running_trial_with_epochs(db, proc, complete=1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    trials_before, epochs_before = _snapshot(db)
    finished = [t for t in trials_before if t[1] == "complete"]
    in_flight = [t for t in trials_before if t[1] == "running"]
    assert finished and len(in_flight) == 1

    # Reopening shows every finished trial and every reported epoch; the one in flight is interrupted.
    with StudyStore(db) as store:
        assert store.mark_interrupted() == [in_flight[0][0]]
        rec = store.get_study("overnight")
        by_number = {t.number: t for t in store.get_trials(rec.study_id)}
    assert by_number[in_flight[0][0]].state == TrialState.INTERRUPTED
    for number, _state, _params, value in finished:
        assert by_number[number].state == TrialState.COMPLETE and by_number[number].value == value
    assert _snapshot(db)[1] == epochs_before  # every epoch reported before the kill is still there

    # `resume` continues to the budget, the Bayesian strategy rebuilt from the stored trials.
    done = subprocess.run(
        [sys.executable, "-m", "hpo_desktop", "resume", str(db), "--study", "overnight", "--quiet"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with StudyStore(db, readonly=True) as store:
        trials = store.get_trials(store.get_study("overnight").study_id)
    states = [t.state for t in trials]
    assert states.count(TrialState.COMPLETE) == 3 and states.count(TrialState.INTERRUPTED) == 1
    for number, _state, _params, value in finished:  # untouched by the resume
        assert trials[number].value == value


@pytest.mark.slow
def test_kill_9_of_the_headless_runner_mid_trial_loses_nothing_finished(tmp_path):
    pytest.importorskip("torch")
    spec = tmp_path / "overnight.toml"
    spec.write_text(SLOW_SPEC)
    db = tmp_path / "overnight.db"
    _kill_and_check(tmp_path, [sys.executable, "-m", "hpo_desktop", "run", str(spec), "--db", str(db)], db)


@pytest.mark.slow
def test_kill_9_of_the_gui_process_mid_trial_loses_nothing_finished(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("PySide6")
    spec = tmp_path / "overnight.toml"
    spec.write_text(SLOW_SPEC)
    db = tmp_path / "overnight.db"
    script = tmp_path / "gui_run.py"
    script.write_text(GUI_SCRIPT)
    _kill_and_check(tmp_path, [sys.executable, str(script), str(spec), str(db)], db)


# --------------------------------------------------------------------------- disk and file faults


def _study(path: Path, n: int = 100) -> Study:
    return Study.create(
        path, "s", {"x": {"type": "float", "low": 0.0, "high": 1.0}}, "random", n_trials=n, seed=0
    )


def _objective(params, trial):
    for step in range(1, 11):
        trial.report(step, loss=params["x"] * step)
    return params["x"]


def test_disk_full_during_a_run_stops_it_with_a_clear_message_and_keeps_what_was_committed(tmp_path):
    db = tmp_path / "full.db"
    with _study(db) as study:
        study.optimize(_objective, 5)
        before = {t.number: (t.value, t.curves) for t in study.trials}
        conn = study.store._conn()  # the writer's connection: cap the file a few pages from here
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")
        with pytest.raises(StorageError, match="disk is full") as exc:
            study.optimize(_objective, 100)
        assert str(db) in str(exc.value) and "Traceback" not in str(exc.value)
    with StudyStore(db) as store:
        store.mark_interrupted()
        after = {t.number: t for t in store.get_trials(store.get_study("s").study_id)}
        assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for number, (value, curves) in before.items():
        assert after[number].state == TrialState.COMPLETE
        assert after[number].value == value and after[number].curves == curves
    assert all(t.state != TrialState.RUNNING for t in after.values())


def test_file_turning_read_only_during_a_run_stops_it_with_a_clear_message(tmp_path):
    db = tmp_path / "ro.db"
    with _study(db) as study:
        study.optimize(_objective, 3)
        study.store._conn().execute("PRAGMA query_only = ON")  # as if the file became read-only
        with pytest.raises(StorageError) as exc:
            study.optimize(_objective, 10)
        assert str(db) in str(exc.value)
        assert "read-only" in str(exc.value) or "readonly" in str(exc.value)
    with StudyStore(db, readonly=True) as store:
        trials = store.get_trials(store.get_study("s").study_id)
    assert [t.state for t in trials[:3]] == [TrialState.COMPLETE] * 3


# --------------------------------------------------------------------------- two apps, one file


def test_a_viewer_watches_another_process_write_without_lock_errors(tmp_path):
    """A second app (the viewer) polls while a headless run writes: it sees trials appear."""
    db = tmp_path / "shared.db"
    with _study(db, n=40):
        pass
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, sys.argv[2]);"
            "from tests.test_faults import _objective;"
            "from hpo_desktop.core.study import Study;"
            "s = Study.open(sys.argv[1], 's'); s.optimize(_objective, 40); s.close()",
            str(db),
            str(ROOT),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[int] = []
    errors: list[BaseException] = []
    with StudyStore(db, readonly=True) as viewer:
        sid = viewer.get_study("s").study_id
        seq = 0
        while writer.poll() is None or not seen or seen[-1] < 40:
            try:
                changes = viewer.trials_since(sid, after_seq=seq)
                seq = changes.seq
                seen.append(sum(1 for t in viewer.get_trials(sid, with_curves=False) if t.state.is_finished))
            except StorageError as exc:  # "database is locked" would land here
                errors.append(exc)
            if writer.poll() is not None and seen and seen[-1] >= 40:
                break
            if len(seen) > 20000:
                break
            time.sleep(0.01)
    assert writer.wait(timeout=60) == 0, writer.stderr.read()
    assert not errors, errors
    assert seen[-1] == 40 and len(set(seen)) > 2  # it saw the study grow, not just the end


def test_a_second_run_of_a_study_running_elsewhere_is_refused_untouched(tmp_path):
    """Two runs of one study would both spend its budget: the second one is refused, plainly."""
    from hpo_desktop.core.study import StudyBusy

    db = tmp_path / "busy.db"
    with _study(db, n=10) as study:
        study.optimize(_objective, 2)
        running = study.store.create_trial(study.study_id, {"x": 0.5})
        study.store.forget_running(running.trial_id)  # not ours: another process's
    with sqlite3.connect(db) as con:  # as if a live process of this machine (our parent) ran it
        con.execute("UPDATE trials SET pid = ? WHERE id = ?", (os.getppid(), running.trial_id))
    with Study.open(db, "s") as study:
        with pytest.raises(
            StudyBusy, match=rf"already running in another process \(pid {os.getppid()}, trial #2\)"
        ):
            study.optimize(_objective, 10)
        assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2 + [TrialState.RUNNING]


def test_the_cli_refuses_to_resume_a_study_running_elsewhere(tmp_path):
    pytest.importorskip("torch")
    from hpo_desktop.cli import main as cli_main

    spec = tmp_path / "tiny.toml"
    spec.write_text(SLOW_SPEC.replace('"digits"', '"iris"').replace("epochs = 80", "epochs = 2"))
    db = tmp_path / "tiny.db"
    assert (
        cli_main(
            ["run", str(spec), "--db", str(db), "--trials", "1", "--quiet"],
            out=io.StringIO(),
            err=io.StringIO(),
        )
        == 0
    )
    with StudyStore(db) as store:
        running = store.create_trial(
            store.get_study("overnight").study_id, {"learning_rate": 0.01, "hidden_units": 9}
        )
        store.forget_running(running.trial_id)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE trials SET pid = ? WHERE state = 'running'", (os.getppid(),))
    err = io.StringIO()
    assert cli_main(["resume", str(db), "--study", "overnight"], out=io.StringIO(), err=err) == 2
    assert "already running in another process" in err.getvalue() and "Traceback" not in err.getvalue()


# --------------------------------------------------------------------------- soak


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc")
def test_soak_500_quick_trials_memory_flat_and_no_leaked_threads(tmp_path):
    threads_before = threading.active_count()
    with _study(tmp_path / "soak.db", n=500) as study:
        study.optimize(_objective, 50)
        gc.collect()
        base = _rss_mb()
        done = study.optimize(_objective, 500)
        gc.collect()
        grown = _rss_mb() - base
        assert done.n_finished == 500
    assert grown < 50, f"memory grew by {grown:.1f} MB over 450 trials"
    assert threading.active_count() == threads_before


# --------------------------------------------------------------------------- hostile names and files

HOSTILE = ['x"; DROP TABLE trials; --', "Robert'); DROP TABLE studies;--", "名前 ünï ✓", "a b\tc", "--"]


def test_hostile_names_are_data_never_sql(tmp_path):
    db = tmp_path / "names.db"
    space = {name: {"type": "float", "low": 0.0, "high": 1.0} for name in HOSTILE}
    for i, study_name in enumerate(HOSTILE):
        with Study.create(
            db, study_name, space, "random", metric=HOSTILE[i - 1], n_trials=2, seed=i
        ) as study:

            def objective(params, trial, metric=HOSTILE[i - 1]):
                trial.report(1, **{metric: 0.5, HOSTILE[2]: 1.0})
                return {metric: sum(params.values())}

            study.optimize(objective, 2)
    with StudyStore(db, readonly=True) as store:
        assert sorted(r.name for r in store.list_studies()) == sorted(HOSTILE)
        for rec in store.list_studies():
            trials = store.get_trials(rec.study_id, with_curves=True)
            assert len(trials) == 2 and all(t.state == TrialState.COMPLETE for t in trials)
            assert set(trials[0].params) == set(HOSTILE)
            assert set(trials[0].curves) == {rec.metric, HOSTILE[2]}
            header = next(csv.reader(io.StringIO(export_csv(store, [rec]))))
            assert {f"param.{n}" for n in HOSTILE} <= set(header)
            assert HOSTILE[0] in export_json(store, [rec]).encode().decode("unicode_escape")
    with sqlite3.connect(db) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"studies", "trials", "trial_metrics", "trial_values", "meta"} <= tables


class _Payload:
    def __reduce__(self):
        return (Path.touch, (Path(os.environ["HPO_PAYLOAD_MARK"]),))


def test_a_planted_pickle_payload_is_never_executed(tmp_path, monkeypatch):
    """A study file from someone else, with pickles planted in every text column, opens as data."""
    mark = tmp_path / "pwned"
    monkeypatch.setenv("HPO_PAYLOAD_MARK", str(mark))
    blob = pickle.dumps(_Payload())
    db = tmp_path / "gift.db"
    with _study(db, n=3) as study:
        study.optimize(_objective, 3)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE trials SET attrs = ? WHERE number = 0", (blob,))
        con.execute("UPDATE trials SET error = ? WHERE number = 1", (blob,))
        con.execute("INSERT INTO meta (key, value) VALUES ('payload', ?)", (blob,))
    before = db.read_bytes()
    with StudyStore(db, readonly=True) as store:
        rec = store.get_study("s")
        with pytest.raises(StorageError, match=r"is damaged: trial row 1 cannot be read.*not changed"):
            store.get_trials(rec.study_id)
    assert db.read_bytes() == before  # a damaged file is reported, never "repaired"
    with sqlite3.connect(db) as con:
        con.execute("UPDATE studies SET spec = ?", (blob,))
    with (
        StudyStore(db, readonly=True) as store,
        pytest.raises(StorageError, match="study row 1 cannot be read"),
    ):
        store.list_studies()
    assert not mark.exists()
    pickle.loads(blob)  # the control: the payload does run when something unpickles it
    assert mark.exists()


def test_the_app_source_never_unpickles_or_evaluates_file_contents():
    """A static guard: nothing in the package calls pickle/joblib/eval/exec on what it reads."""
    banned = re.compile(
        r"pickle\.loads?\b|joblib\.load|(?<![.\w`])eval\(|(?<![.\w`])exec\(|allow_pickle\s*=\s*True"
        r"|yaml\.load\(|marshal\.loads?\b|shelve\.open"
    )
    found = []
    for path in (ROOT / "hpo_desktop").rglob("*.py"):
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if banned.search(code):
                found.append(f"{path.relative_to(ROOT)}:{line_no}: {line.strip()}")
    # The one place that runs code on purpose: a user's script, in its child process, only after
    # the user trusted that exact file (docs/scripts.md); the child re-checks its SHA-256 first.
    trusted = "hpo_desktop/training/script_child.py"
    assert [f for f in found if f.startswith(trusted + ":")] and "hash" in (ROOT / trusted).read_text()
    found = [f for f in found if not (f.startswith(trusted + ":") and "exec(code, module.__dict__)" in f)]
    assert not found, "\n".join(found)


def test_corrupt_and_truncated_study_files_are_refused_untouched(tmp_path):
    db = tmp_path / "good.db"
    with _study(db, n=3) as study:
        study.optimize(_objective, 3)
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = db.read_bytes()
    cases = {
        "truncated.db": data[: len(data) // 3],
        "garbled.db": data[:100] + bytes(b ^ 0x5A for b in data[100:4096]) + data[4096:],
        "header-only.db": data[:100],
        "random.db": os.urandom(8192),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        for readonly in (True, False):
            try:
                with StudyStore(path, readonly=readonly) as store:
                    for rec in store.list_studies():
                        store.get_trials(rec.study_id)
            except StorageError as exc:
                assert str(path) in str(exc) or name in str(exc), exc
            assert path.read_bytes() == content, f"{name} was changed"
