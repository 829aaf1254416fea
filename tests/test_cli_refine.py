"""`hpo-desktop refine` and `hpo-desktop run --parent` end to end on a tiny iris spec."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hpo_desktop import cli
from hpo_desktop.core.spec import load_spec
from hpo_desktop.core.study import Study

pytest.importorskip("torch")

TINY = """
[study]
name = "tiny"
metric = "val_accuracy"
direction = "maximize"
trials = 5
seed = 1

[strategy]
kind = "random"

[data]
dataset = "iris"

[model]
kind = "mlp"
epochs = 2

[space]
learning_rate = { type = "float", low = 1e-3, high = 1e-1, log = true }
hidden_units  = { type = "int", low = 4, high = 16 }
optimizer     = { type = "categorical", choices = ["adam", "sgd"] }
"""


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def parent_db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("refine")
    spec = folder / "tiny.toml"
    spec.write_text(TINY)
    code, _, err = run_cli("run", str(spec), "-q")
    assert code == 0, err
    return folder / "tiny.db"


def test_refine_writes_a_spec_that_run_parent_accepts(parent_db, tmp_path):
    out_spec = tmp_path / "refined.toml"
    code, out, err = run_cli("refine", str(parent_db), "--study", "tiny", "-o", str(out_spec))
    assert code == 0, err
    assert "learning_rate" in out and "→" in out and "--parent tiny" in out
    spec = load_spec(out_spec)
    assert spec.name == "tiny-refined"
    assert spec.strategy == {"kind": "random"} and spec.data == {"dataset": "iris"}
    assert spec.metric == "val_accuracy" and spec.direction == "maximize"

    db = tmp_path / "copy.db"
    db.write_bytes(parent_db.read_bytes())
    code, out, err = run_cli("run", str(out_spec), "--db", str(db), "--parent", "tiny", "--trials", "2", "-q")
    assert code == 0, err
    with Study.open(db, "tiny") as parent:
        parent_id = parent.study_id
        parent_points = [t.params for t in parent.trials]
    with Study.open(db, "tiny-refined") as child:
        assert child.record.parent_id == parent_id
        assert len(child.trials) == 2
        assert all(t.params not in parent_points for t in child.trials)

    # the name is taken now: the next proposal gets -2; --top and --pin are honoured
    again = tmp_path / "again.toml"
    code, out, err = run_cli(
        "refine", str(db), "--study", "tiny", "--top", "50", "--pin", "optimizer=adam", "-o", str(again)
    )
    assert code == 0, err
    spec2 = load_spec(again)
    assert spec2.name == "tiny-refined-2"
    assert spec2.space.to_dict()["optimizer"] == {"type": "fixed", "value": "adam"}
    assert "top 50 %" in out and "pinned to 'adam'" in out


def test_refine_refuses_bad_input(parent_db, tmp_path):
    code, _, err = run_cli("refine", str(parent_db), "--study", "nope", "-o", str(tmp_path / "r.toml"))
    assert code == 2 and "nope" in err
    code, _, err = run_cli("refine", str(parent_db), "-o", str(parent_db))
    assert code == 2 and "refusing to overwrite" in err
    code, _, err = run_cli("refine", str(parent_db), "--top", "0", "-o", str(tmp_path / "r.toml"))
    assert code == 2 and "--top" in err
    code, _, err = run_cli("refine", str(parent_db), "--pin", "nope=1", "-o", str(tmp_path / "r.toml"))
    assert code == 2 and "nope" in err
    assert not (tmp_path / "r.toml").exists()


def test_run_with_a_missing_parent_exits_2_naming_it(parent_db, tmp_path):
    spec = tmp_path / "child.toml"
    spec.write_text(TINY.replace('name = "tiny"', 'name = "child"'))
    code, _, err = run_cli("run", str(spec), "--db", str(parent_db), "--parent", "ghost", "--trials", "1")
    assert code == 2 and "ghost" in err
    code, _, err = run_cli("run", str(spec), "--parent", "tiny", "--trials", "1")  # not in child.db
    assert code == 2 and "'tiny'" in err and "--db" in err
    assert not (tmp_path / "child.db").exists()
