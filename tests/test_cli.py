"""The headless command line, end to end on tiny specs: run, continue, show, export, bad input."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpo_desktop import cli

pytest.importorskip("torch")

TINY = """
[study]
name = "tiny"
metric = "val_accuracy"
direction = "maximize"
trials = 3
seed = 1

[strategy]
kind = "random"

[data]
dataset = "iris"

[model]
kind = "mlp"
epochs = 3

[space]
learning_rate = { type = "float", low = 1e-3, high = 1e-1, log = true }
hidden_units  = { type = "int", low = 4, high = 16 }
optimizer     = { type = "categorical", choices = ["adam", "sgd"] }
momentum      = { type = "float", low = 0.0, high = 0.9, when = { optimizer = "sgd" } }
"""


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.toml"
    p.write_text(TINY)
    return p


def test_run_prints_one_line_per_trial_and_the_best(spec):
    code, out, err = run_cli("run", str(spec))
    assert code == 0, err
    lines = [ln for ln in out.splitlines() if ln.startswith("#")]
    assert len(lines) == 3
    assert all("complete" in ln and "val_accuracy=" in ln and "learning_rate=" in ln for ln in lines)
    assert "Best trial #" in out
    assert "device: CPU" in out or "device: CUDA" in out
    assert (spec.parent / "tiny.db").exists()  # the default database sits next to the spec


def test_running_again_continues_the_same_study(spec):
    assert run_cli("run", str(spec))[0] == 0
    code, out, _ = run_cli("run", str(spec), "--trials", "5")
    assert code == 0
    assert "3 already done" in out
    assert len([ln for ln in out.splitlines() if ln.startswith("#")]) == 2
    code, out, _ = run_cli("show", str(spec.parent / "tiny.db"))
    assert code == 0
    assert "tiny" in out and "trials: 5 of 5" in out and "5 complete" in out and "best: #" in out


def test_resume_continues_from_the_study_file(spec):
    db = spec.parent / "tiny.db"
    assert run_cli("run", str(spec))[0] == 0
    code, out, err = run_cli("resume", str(db), "--study", "tiny", "--trials", "4")
    assert code == 0, err
    assert len([ln for ln in out.splitlines() if ln.startswith("#")]) == 1


def test_export_csv_and_json(spec, tmp_path):
    db = spec.parent / "tiny.db"
    assert run_cli("run", str(spec))[0] == 0
    code, out, _ = run_cli("export", str(db), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 3
    assert {
        "study",
        "number",
        "state",
        "value",
        "param.learning_rate",
        "metric.val_accuracy",
        "seconds",
    } <= set(rows[0])
    target = tmp_path / "out.json"
    code, _, err = run_cli("export", str(db), "-o", str(target))
    assert code == 0 and "wrote" in err
    doc = json.loads(target.read_text())
    [study] = doc["studies"]
    assert study["name"] == "tiny" and len(study["trials"]) == 3
    t = study["trials"][0]
    assert {"number", "state", "params", "metrics", "curves", "started_at", "finished_at", "seconds"} <= set(
        t
    )
    assert [c["step"] for c in t["curves"]] == [1, 2, 3]  # epochs count from 1
    assert {"train_loss", "val_loss", "val_accuracy"} <= set(t["curves"][0])


def test_export_never_overwrites_the_study_file(spec):
    db = spec.parent / "tiny.db"
    assert run_cli("run", str(spec))[0] == 0
    before = db.read_bytes()
    code, _, err = run_cli("export", str(db), "-o", str(db))
    assert code == 2 and "refusing to overwrite" in err
    assert db.read_bytes() == before


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("trials = 3", 'trials = "x"', ["tiny.toml, line", "[study] trials must be an integer"]),
        ('dataset = "iris"', 'dataset = "imagenet"', ["dataset", "imagenet"]),
        ("epochs = 3", "epochz = 3", ["epochz"]),
        ("high = 0.9,", "high = -0.9,", ["'momentum'", "less than high"]),
        ('kind = "random"', 'kind = "random"\nbogus = 1', ["[strategy]", "bogus"]),
        ("hidden_units  =", "hiden_units  =", ["[space] parameter 'hiden_units'", "not a hyperparameter"]),
        ('choices = ["adam", "sgd"]', 'choices = ["adam", "sgd", "lbfgs"]', ["'optimizer'", "'lbfgs'"]),
        ('metric = "val_accuracy"', 'metric = "val_r2"', ["val_r2"]),
    ],
)
def test_bad_specs_exit_2_naming_the_key_without_traceback(spec, old, new, words):
    spec.write_text(TINY.replace(old, new))
    code, out, err = run_cli("run", str(spec))
    assert code == 2
    assert err.startswith("error: ")
    for w in words:
        assert w in err
    assert "Traceback" not in err
    assert not (spec.parent / "tiny.db").exists()


def test_a_changed_space_under_the_same_name_is_refused(spec):
    assert run_cli("run", str(spec))[0] == 0
    spec.write_text(TINY.replace("high = 16", "high = 32"))
    code, _, err = run_cli("run", str(spec))
    assert code == 2 and "different search space" in err


def test_files_that_are_not_study_files(tmp_path):
    notes = tmp_path / "notes.db"
    notes.write_text("just some text, not a database")
    before = notes.read_bytes()
    code, _, err = run_cli("show", str(notes))
    assert code == 2 and "not an HPO Desktop study file" in err
    assert notes.read_bytes() == before
    code, _, err = run_cli("show", str(tmp_path / "missing.db"))
    assert code == 2 and "no such file" in err


def test_ctrl_c_marks_the_running_trial_interrupted_and_exits_130(tmp_path):
    spec = tmp_path / "slow.toml"
    spec.write_text(
        TINY.replace('dataset = "iris"', 'dataset = "digits"').replace("epochs = 3", "epochs = 400")
    )
    db = tmp_path / "slow.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hpo_desktop", "run", str(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if db.exists():
                try:
                    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
                        if con.execute("select count(*) from trial_metrics").fetchone()[0] > 0:
                            break
                except sqlite3.Error:
                    pass
            time.sleep(0.2)
        else:
            pytest.fail("the run never reported an epoch")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "resume" in err and "Traceback" not in err
    with sqlite3.connect(db) as con:
        states = [r[0] for r in con.execute("select state from trials")]
    assert states == ["interrupted"]


def test_help_and_version():
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    code, out, _ = run_cli()
    assert code == 0 and "run" in out and "export" in out


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_subcommand_has_help_and_a_line_in_the_readme_usage(command, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([command, "--help"])
    assert info.value.code == 0 and f"usage: hpo-desktop {command}" in capsys.readouterr().out
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    usage = readme.split("### Usage reference", 1)[1].split("\n## ", 1)[0]
    assert f"hpo-desktop {command} " in usage and f"| `{command}` |" in usage


def test_report_writes_an_html_page_with_charts_and_insights(spec, tmp_path):
    pytest.importorskip("PySide6")
    assert run_cli("run", str(spec), "--trials", "6")[0] == 0
    db = spec.parent / "tiny.db"
    out_dir = tmp_path / "report"
    code, out, err = run_cli("report", str(db), "-o", str(out_dir))
    assert code == 0, err
    page = (out_dir / "index.html").read_text()
    assert "<h1>tiny</h1>" in page and "Insights" in page and "Best trials" in page
    assert "[space]" in page  # the spec, to run it again
    images = sorted(p.name for p in out_dir.glob("*.png"))
    assert {"importance.png", "slice.png", "parallel.png"} <= set(images)
    for name in images:
        assert f'src="{name}"' in page
    a_file = tmp_path / "taken.txt"
    a_file.write_text("keep me")
    code, _, err = run_cli("report", str(db), "-o", str(a_file))
    assert code == 2 and "is a file" in err and a_file.read_text() == "keep me"
