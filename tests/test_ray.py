"""``[execution] backend = "ray"``: a study whose trials run as Ray actors, against a local Ray
instance started by the study itself (``address = "local"``, Ray's CPUs = this machine's).

Skipped when the optional ``ray`` extra is not installed (``pip install -e ".[ray]"``). The
user's story: the same spec and study file, the trials run on the cluster with the spec's
folder brought along, reports stream back live, a pruner stops a trial there, a lost worker
fails only its trial (which runs again), and a cluster that can never hold a trial is a clear
message before anything is written.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

pytest.importorskip("ray")

from hpo_desktop import cli  # noqa: E402

SPEC = """\
[study]
name = "on-ray"
metric = "loss"
trials = 4

[strategy]
kind = "random"

[execution]
backend = "ray"
address = "local"
workers = 2

[objective]
script = "train.py"

[space]
x = {{ type = "float", low = 0, high = 1 }}
{extra}
"""

SCRIPT = """\
import os
from pathlib import Path

def objective(params, trial):
    for step in range(3):
        trial.report(step, loss=params["x"] + 1.0 / (step + 1), pid=float(os.getpid()))
        if trial.should_stop():
            return params["x"] + 1.0 / (step + 1)
    print("ran in", os.getcwd(), "beside", sorted(p.name for p in Path.cwd().glob("*.txt")))
    return params["x"]
"""

# Kills the Ray actor hosting it (its parent process) the first time: as if its node died.
KILLER = """\
import os
import signal
from pathlib import Path

MARK = Path({mark!r})

def objective(params, trial):
    trial.report(0, loss=params["x"])
    if not MARK.exists():
        MARK.write_text("killed once")
        os.kill(os.getppid(), signal.SIGKILL)
    return params["x"]
"""


@pytest.fixture(autouse=True)
def _env(tmp_path, monkeypatch):
    monkeypatch.setenv("HPO_DESKTOP_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="module", autouse=True)
def _ray_down_after():
    yield
    import ray

    ray.shutdown()


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _trials(db: Path) -> list[dict]:
    code, out, err = run_cli("export", str(db), "--format", "json")
    assert code == 0, err
    return json.loads(out)["studies"][0]["trials"]


def _spec(folder: Path, script: str = SCRIPT, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(script)
    path = folder / "study.toml"
    path.write_text(SPEC.format(extra=extra))
    return path


def test_a_study_runs_on_ray_with_its_folder_and_live_reports_then_resumes(tmp_path):
    spec = _spec(tmp_path / "project")
    (tmp_path / "project" / "notes.txt").write_text("travels with the job")
    code, out, err = run_cli("run", str(spec), "--trust")
    assert code == 0, err
    assert "Ray: 2 trials at once on 1 node(s)" in out
    db = spec.with_suffix(".db")
    trials = _trials(db)
    assert [t["state"] for t in trials] == ["complete"] * 4
    assert {t["worker"] for t in trials} == {1, 2}
    assert all(" on " in t["device"] for t in trials)  # the node it ran on
    assert all(len(t["curves"]) == 3 for t in trials)  # every epoch reported back and stored
    assert len({t["curves"][0]["pid"] for t in trials}) == 2  # two actors' script processes
    # the script ran in Ray's copy of the spec's folder, not in the folder itself
    from hpo_desktop.core.storage import StudyStore

    with StudyStore(db, readonly=True) as store:
        logs = [t.attrs["log"] for t in store.get_trials(store.list_studies()[0].study_id)]
    assert all("beside ['notes.txt']" in log for log in logs)
    assert all(f"ran in {tmp_path / 'project'}\n" not in log + "\n" for log in logs)
    # resume keeps the stored [execution] table: still on Ray
    code, out, err = run_cli("resume", str(db), "--trials", "6")
    assert code == 0, err
    assert "Ray: 2 trials at once" in out
    assert len(_trials(db)) == 6


def test_a_pruner_stops_trials_running_on_ray(tmp_path):
    spec = _spec(tmp_path / "pruned", extra='\n[pruner]\nkind = "patience"\npatience = 0\nthreshold = 0.5\n')
    code, out, err = run_cli("run", str(spec), "--trust", "--trials", "6")
    assert code == 0, err
    trials = _trials(spec.with_suffix(".db"))
    states = {t["state"] for t in trials}
    assert states <= {"complete", "pruned"} and "pruned" in states  # loss ≥ 1 at step 0 > the bar
    assert all(len(t["curves"]) == 1 for t in trials if t["state"] == "pruned")  # stopped at once


def test_losing_a_ray_worker_fails_only_its_trial_which_runs_again(tmp_path):
    mark = tmp_path / "killed-once"
    spec = _spec(tmp_path / "lossy", script=KILLER.format(mark=str(mark)))
    spec.write_text(spec.read_text().replace("trials = 4", "trials = 3"))
    code, out, err = run_cli("run", str(spec), "--trust")
    assert code == 0, err
    assert mark.exists()
    trials = _trials(spec.with_suffix(".db"))
    failed = [t for t in trials if t["state"] == "failed"]
    assert len(failed) == 1
    assert "lost its Ray worker on node" in failed[0]["error"]
    assert sum(t["state"] == "complete" for t in trials) == 3  # the budget, in spite of the loss
    from hpo_desktop.core.storage import StudyStore

    with StudyStore(spec.with_suffix(".db"), readonly=True) as store:
        rows = store.get_trials(store.list_studies()[0].study_id)
    lost = next(t for t in rows if t.state.value == "failed")
    retry = next(t for t in rows if t.attrs.get("retry_of") == lost.number)
    assert retry.state.value == "complete" and retry.params == lost.params
    assert lost.attrs["worker_lost"]  # the node's address


def test_a_cluster_that_cannot_hold_a_trial_is_refused_before_anything_is_written(tmp_path):
    spec = _spec(tmp_path / "gpu", extra="")
    spec.write_text(spec.read_text().replace('address = "local"', 'address = "local"\ngpus_per_trial = 1'))
    code, out, err = run_cli("run", str(spec), "--trust")
    assert code == 2
    assert "no Ray node can hold a trial: each asks for 1 CPUs and 1 GPUs" in err
    assert "Traceback" not in err and not spec.with_suffix(".db").exists()


def test_a_script_outside_the_spec_folder_cannot_travel(tmp_path):
    (tmp_path / "elsewhere.py").write_text(SCRIPT)
    spec = _spec(tmp_path / "p")
    spec.write_text(spec.read_text().replace('script = "train.py"', 'script = "../elsewhere.py"'))
    code, out, err = run_cli("run", str(spec), "--trust")
    assert code == 2
    assert "must be inside the spec's folder" in err and "Traceback" not in err
