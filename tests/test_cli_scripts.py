"""Scripts from the command line: the trust question and its memory, errors before the first
trial, ``init --template``, and the shipped examples end to end on tiny budgets."""

from __future__ import annotations

import io
import shutil
import sqlite3
from pathlib import Path

import pytest

from hpo_desktop import cli
from hpo_desktop.app import RESOURCES
from hpo_desktop.core.spec import load_spec
from hpo_desktop.training.trust import ScriptIdentity, TrustStore

EXAMPLES = RESOURCES / "examples"

SPEC = """\
[study]
name = "loop"
metric = "loss"
trials = 3

[strategy]
kind = "random"

[objective]
script = "train.py"

[space]
x = { type = "float", low = 0, high = 1 }
"""

SCRIPT = """\
def objective(params, trial):
    print("hello from trial", trial.number)
    trial.report(0, loss=params["x"])
    return (params["x"] - 0.5) ** 2
"""


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv("HPO_DESKTOP_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def spec(tmp_path) -> Path:
    (tmp_path / "train.py").write_text(SCRIPT)
    path = tmp_path / "loop.toml"
    path.write_text(SPEC)
    return path


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def trial_logs(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT json_extract(attrs, '$.log') FROM trials ORDER BY number").fetchall()
    return [r[0] for r in rows]


def test_an_untrusted_script_is_refused_with_its_path_and_hash_and_nothing_runs(spec, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # not a terminal: nobody to ask
    code, out, err = run_cli("run", str(spec))
    sha = ScriptIdentity.of(spec.parent / "train.py").sha256
    assert code == 2
    assert str((spec.parent / "train.py").resolve()) in err and sha in err and "--trust" in err
    assert "Traceback" not in err
    assert not spec.with_suffix(".db").exists()  # no study file was made


def test_trust_is_remembered_per_hash_and_a_changed_file_asks_again(spec, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, err = run_cli("run", str(spec), "--trust", "--trials", "2")
    assert code == 0, err
    assert "trusted" in err
    assert trial_logs(spec.with_suffix(".db")) == ["hello from trial 0", "hello from trial 1"]

    code, out, err = run_cli("resume", str(spec.with_suffix(".db")), "--trials", "3")  # remembered
    assert code == 0, err
    assert "3 finished" in out

    script = spec.parent / "train.py"
    script.write_text(SCRIPT.replace("hello", "changed"))
    code, out, err = run_cli("resume", str(spec.with_suffix(".db")), "--trials", "4")
    assert code == 2 and ScriptIdentity.of(script).sha256 in err
    assert len(trial_logs(spec.with_suffix(".db"))) == 3  # nothing ran


def test_an_interactive_yes_trusts_the_script_and_a_no_refuses_it(spec, monkeypatch):
    monkeypatch.setattr("sys.stdin", FakeTerminal("no\n"))
    code, out, err = run_cli("run", str(spec), "--trials", "1")
    assert code == 2 and "not trusted, nothing was run" in err
    assert "Run it? Type yes" in err and "| def objective(params, trial):" in err  # it showed the file
    assert not TrustStore().is_trusted(ScriptIdentity.of(spec.parent / "train.py"))

    monkeypatch.setattr("sys.stdin", FakeTerminal("yes\n"))
    code, out, err = run_cli("run", str(spec), "--trials", "1")
    assert code == 0, err
    assert TrustStore().is_trusted(ScriptIdentity.of(spec.parent / "train.py"))


def test_a_syntax_error_is_reported_before_the_first_trial(spec, monkeypatch):
    (spec.parent / "train.py").write_text("def objective(params, trial):\n    return (\n")
    code, out, err = run_cli("run", str(spec), "--trust")
    assert code == 2
    assert "train.py, line 2: SyntaxError" in err and "Traceback" not in err
    assert not spec.with_suffix(".db").exists()


def test_init_writes_a_runnable_template_and_never_overwrites(tmp_path, monkeypatch):
    folder = tmp_path / "mine"
    code, out, err = run_cli("init", "--template", "custom-objective", str(folder))
    assert code == 0, err
    assert (folder / "train.py").exists() and "hpo-desktop run" in out
    spec = load_spec(folder / "custom_objective.toml")
    assert spec.objective["script"] == "train.py"

    (folder / "train.py").write_text("# my edits\n")
    code, out, err = run_cli("init", "--template", "custom-objective", str(folder))
    assert code == 2 and "already exists" in err
    assert (folder / "train.py").read_text() == "# my edits\n"

    code, out, err = run_cli("init", "--template", "custom-model", str(folder))
    assert code == 0, err
    model_spec = load_spec(folder / "custom_model.toml")
    assert model_spec.model["script"] == "model.py"


def test_the_custom_objective_template_runs(tmp_path):
    folder = tmp_path / "mine"
    assert run_cli("init", "--template", "custom-objective", str(folder))[0] == 0
    code, out, err = run_cli("run", str(folder / "custom_objective.toml"), "--trust", "--trials", "1", "-q")
    assert code == 0, err
    assert "Best trial #0: val_loss" in out


@pytest.mark.parametrize(
    ("spec_name", "script", "metric", "printed"),
    [
        ("digits_cnn_script.toml", "digits_cnn.py", "val_accuracy", None),
        ("custom_loop.toml", "custom_loop.py", "val_loss", "epoch 5: val_loss"),
    ],
)
def test_the_script_examples_run_end_to_end(tmp_path, spec_name, script, metric, printed):
    for name in (spec_name, script):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    code, out, err = run_cli("run", str(tmp_path / spec_name), "--trust", "--trials", "2")
    assert code == 0, err
    assert out.count(" complete ") == 2, out
    assert f"Best trial #0: {metric}" in out or f"Best trial #1: {metric}" in out
    if printed is not None:
        assert all(printed in log for log in trial_logs(tmp_path / spec_name.replace(".toml", ".db")))
