"""``--workers N`` and ``[execution] workers``: a study from the command line with two worker
processes (a script study, and the built-in trainer), resume with workers, bad values exit 2."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from hpo_desktop import cli
from hpo_desktop.core.spec import SpecError, parse_spec

SPEC = """\
[study]
name = "par"
metric = "loss"
trials = 4

[strategy]
kind = "random"

[objective]
script = "train.py"

[space]
x = { type = "float", low = 0, high = 1 }
"""

SCRIPT = """\
import os

def objective(params, trial):
    trial.report(0, loss=params["x"], pid=float(os.getpid()))
    return params["x"]
"""

BUILTIN = """\
[study]
name = "digits2"
metric = "val_loss"
trials = 2
seed = 1

[execution]
workers = 2

[strategy]
kind = "random"

[data]
dataset = "iris"

[model]
kind = "mlp"
epochs = 2

[space]
learning_rate = { type = "float", low = 1e-3, high = 1e-1, log = true }
"""


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("HPO_DESKTOP_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def spec(tmp_path) -> Path:
    (tmp_path / "train.py").write_text(SCRIPT)
    path = tmp_path / "par.toml"
    path.write_text(SPEC)
    return path


def _trials(db: Path) -> list[dict]:
    code, out, err = run_cli("export", str(db), "--format", "json")
    assert code == 0, err
    return json.loads(out)["studies"][0]["trials"]


def test_run_with_two_workers_then_resume(spec):
    code, out, err = run_cli("run", str(spec), "--workers", "2", "--trust")
    assert code == 0, err
    assert "workers: 2 processes" in out
    assert len([ln for ln in out.splitlines() if ln.startswith("#")]) == 4
    trials = _trials(spec.with_suffix(".db"))
    assert [t["state"] for t in trials] == ["complete"] * 4
    assert {t["worker"] for t in trials} == {1, 2}
    assert len({t["curves"][0]["pid"] for t in trials}) == 2  # two worker processes
    code, out, err = run_cli("resume", str(spec.with_suffix(".db")), "--trials", "6", "--workers", "2")
    assert code == 0, err
    assert len(_trials(spec.with_suffix(".db"))) == 6


@pytest.mark.parametrize("value", ["0", "-3", "1000"])
def test_bad_workers_exit_2_without_a_traceback(spec, value):
    code, out, err = run_cli("run", str(spec), "--workers", value, "--trust")
    assert code == 2
    assert "--workers must be between 1 and" in err and "Traceback" not in err
    assert not spec.with_suffix(".db").exists()  # nothing was written


def test_builtin_trainer_with_execution_workers_in_the_spec(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text(BUILTIN)
    code, out, err = run_cli("run", str(path))
    assert code == 0, err
    assert "workers: 2 processes" in out
    trials = _trials(tmp_path / "b.db")
    assert [t["state"] for t in trials] == ["complete", "complete"]
    assert all(len(t["curves"]) == 2 and t["device"].startswith("CPU") for t in trials)
    assert all(t["started_at"] and t["finished_at"] for t in trials)


def test_a_data_error_in_the_workers_exits_2(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text(BUILTIN.replace('dataset = "iris"', 'dataset = "nope"'))
    code, out, err = run_cli("run", str(path))
    assert code == 2, err
    assert "nope" in err and "Traceback" not in err
    assert not (tmp_path / "b.db").exists()


@pytest.mark.parametrize(
    "section, message",
    [
        ("[execution]\nworkers = 0\n", "[execution] workers must be between 1 and 256, got 0"),
        ("[execution]\nworkers = 1.5\n", "[execution] workers must be an integer"),
        ("[execution]\nthreads = 2\n", "[execution] unknown key 'threads'"),
        (
            '[execution]\nbackend = "slurm"\n',
            "[execution] backend must be one of 'local', 'ray', got 'slurm'",
        ),
        ('[execution]\naddress = "auto"\n', '[execution] address is for backend = "ray" only'),
        ('[execution]\nbackend = "ray"\ngpus_per_trial = -1\n', "gpus_per_trial must be 0 or more, got -1"),
        ('[execution]\nbackend = "ray"\ncpus_per_trial = 0\n', "cpus_per_trial must be above 0, got 0"),
        ('[execution]\nbackend = "ray"\naddress = " "\n', "[execution] address must be"),
    ],
)
def test_spec_validation_names_key_and_line(section, message):
    text = section + SPEC.replace('[objective]\nscript = "train.py"\n', "")
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="s.toml")
    assert message in str(info.value)
    assert str(info.value).startswith(f"s.toml, line {section.count(chr(10))}: ")  # the line of the bad key


def test_workers_round_trip_through_the_spec():
    spec = parse_spec("[execution]\nworkers = 3\n" + SPEC.replace('[objective]\nscript = "train.py"\n', ""))
    assert spec.workers == 3
    again = parse_spec(spec.to_toml())
    assert again.workers == 3 and spec.extra["execution"] == {"workers": 3}
    default = parse_spec(SPEC.replace('[objective]\nscript = "train.py"\n', ""))
    assert default.workers == 1 and "execution" not in default.to_dict()
    ray = parse_spec(
        '[execution]\nbackend = "ray"\naddress = "ray://head:10001"\ngpus_per_trial = 1\n'
        + SPEC.replace('[objective]\nscript = "train.py"\n', "")
    )
    assert ray.backend == "ray" and ray.workers == 1  # workers unset: the cluster decides at the start
    table = {"backend": "ray", "address": "ray://head:10001", "gpus_per_trial": 1.0}
    assert ray.execution == table and parse_spec(ray.to_toml()).execution == table
    assert ray.extra["execution"] == table  # stored with the study, for resume


def test_ray_without_the_ray_package_is_a_clear_error(spec, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    code, out, err = run_cli("run", str(spec), "--ray", "local", "--trust")
    assert code == 2
    assert 'needs the ray package, which is not installed: pip install "hpo-desktop[ray]"' in err
    assert "Traceback" not in err and not spec.with_suffix(".db").exists()


SLOW = """\
import time

def objective(params, trial):
    for step in range(400):
        trial.report(step, loss=params["x"])
        time.sleep(0.05)
        if trial.should_stop():
            break
    return params["x"]
"""


@pytest.mark.parametrize("whole_group", [True, False], ids=["terminal-ctrl-c", "signal-to-the-app"])
def test_ctrl_c_interrupts_both_running_trials(tmp_path, whole_group):
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    (tmp_path / "train.py").write_text(SLOW)
    spec = tmp_path / "par.toml"
    spec.write_text(SPEC)
    db = tmp_path / "par.db"
    env = {**os.environ, "HPO_DESKTOP_CONFIG_DIR": str(tmp_path / "config"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hpo_desktop", "run", str(spec), "--workers", "2", "--trust"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if db.exists():
                try:
                    with sqlite3.connect(db) as con:
                        n = con.execute("select count(distinct trial_id) from trial_metrics").fetchone()[0]
                    if n >= 2:
                        break
                except sqlite3.Error:
                    pass
            time.sleep(0.2)
        else:
            pytest.fail("the two workers never reported")
        if whole_group:
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "resume" in err and "Traceback" not in err
    with sqlite3.connect(db) as con:
        states = sorted(r[0] for r in con.execute("select state from trials"))
    assert states == ["interrupted", "interrupted"]
