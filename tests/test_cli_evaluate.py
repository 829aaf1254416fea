"""`hpo-desktop evaluate`: the final score on the held-out test split, from the command line."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from hpo_desktop import cli
from hpo_desktop.core.storage import StudyStore

pytest.importorskip("torch")

SPEC = """
[study]
name = "digits"
metric = "val_accuracy"
direction = "maximize"
trials = 2
seed = 4

[strategy]
kind = "random"

[data]
dataset = "digits"

[model]
kind = "mlp"
epochs = 2
hidden_layers = 1
hidden_units = 16
device = "cpu"

[space]
learning_rate = { type = "float", low = 1e-3, high = 3e-2, log = true }
"""


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli-eval")
    spec = folder / "digits.toml"
    spec.write_text(SPEC)
    code, _out, err = run_cli("run", str(spec), "--quiet")
    assert code == 0, err
    return folder / "digits.db"


@pytest.fixture
def db(made: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "digits.db"
    copy.write_bytes(made.read_bytes())
    return copy


def test_evaluate_prints_each_seed_and_the_mean_and_std_and_show_lists_it(db):
    code, out, err = run_cli("evaluate", str(db), "--study", "digits", "--seeds", "2")
    assert code == 0, err
    lines = out.splitlines()
    seed_lines = [line for line in lines if line.startswith("  seed ")]
    assert [line.split(":")[0] for line in seed_lines] == ["  seed 1004", "  seed 1005"]
    accs = [float(re.search(r"test_accuracy=([\d.]+)", line).group(1)) for line in seed_lines]
    assert re.fullmatch(
        r"test_accuracy 0\.\d{3} ± 0\.\d{3}, test_loss \d\.\d{3} ± \d\.\d{3} \(2 seeds\)", lines[-1]
    )
    mean = float(lines[-1].split()[1])
    assert mean == pytest.approx(sum(accs) / 2, abs=2e-3)
    assert "retrained with seed 2 of 2" in err
    with StudyStore(db, readonly=True) as store:
        sid = store.get_study("digits").study_id
        (record,) = store.get_evaluations(sid)
        best = max(store.get_trials(sid), key=lambda t: t.value)
    assert record.trial_number == best.number and lines[0].startswith(f"trial #{best.number}:")

    code, out, _ = run_cli("show", str(db))
    assert code == 0
    assert f"  test (trial #{best.number}, train): test_accuracy" in out and "(2 seeds)" in out


def test_evaluate_a_chosen_trial_on_train_plus_validation(db):
    code, out, err = run_cli("evaluate", str(db), "--trial", "0", "--seeds", "1", "--include-validation")
    assert code == 0, err
    assert (
        out.startswith("trial #0:") and "training + validation" in out and out.rstrip().endswith("(1 seed)")
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--study", "nope"], "No study named 'nope'"),
        (["--trial", "7"], "study 'digits' has no trial 7"),
        (["--seeds", "0"], "--seeds must be at least 1, got 0"),
        (["--trial", "-1"], "--trial must be a trial number"),
    ],
)
def test_bad_requests_exit_2_with_a_message_and_leave_the_file_unchanged(db, args, message):
    before = db.read_bytes()
    code, out, err = run_cli("evaluate", str(db), *args)
    assert code == 2 and message in err and "Traceback" not in err
    assert err.startswith("error: ")
    assert db.read_bytes() == before


def test_a_study_without_a_complete_trial_has_nothing_to_evaluate(tmp_path):
    spec = tmp_path / "none.toml"
    spec.write_text(SPEC.replace('name = "digits"', 'name = "none"'))
    db = tmp_path / "none.db"
    from hpo_desktop.core.spec import load_spec
    from hpo_desktop.core.study import create_from_spec

    create_from_spec(db, load_spec(spec)).close()
    before = db.read_bytes()
    code, _out, err = run_cli("evaluate", str(db))
    assert code == 2 and "study 'none' has no complete trial yet" in err
    assert db.read_bytes() == before
    code, _out, err = run_cli("evaluate", str(tmp_path / "missing.db"))
    assert code == 2 and "no such file" in err
