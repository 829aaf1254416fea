"""A user's own script, run in a child process: both forms end to end, every way a script can
break (each fails one trial and the study goes on), output capture, and stop reaching the child."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hpo_desktop.core.events import StepReported
from hpo_desktop.core.spec import SpecError, parse_spec
from hpo_desktop.core.study import Study, StudyControl
from hpo_desktop.core.trial import TrialState
from hpo_desktop.training.scripts import (
    ScriptError,
    make_script_objective,
    read_tail,
)
from hpo_desktop.training.trust import ScriptIdentity

MODES = {"type": "categorical", "choices": ["ok", "raise", "segfault", "exit", "hang", "sysexit"]}

BREAKING = """\
import os, signal, sys, time

def objective(params, trial):
    mode = params["mode"]
    print(f"starting {mode}", flush=True)
    trial.report(0, loss=1.0)
    if mode == "raise":
        raise ValueError("boom")
    if mode == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    if mode == "exit":
        os._exit(3)
    if mode == "hang":
        time.sleep(60)
    if mode == "sysexit":
        sys.exit(4)
    print("all good")
    return 0.5
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def objective_for(folder: Path, script: str, *, metric: str = "loss", time_limit: float | None = None):
    section = {"script": script}
    if time_limit is not None:
        section["time_limit"] = time_limit
    return make_script_objective({}, {}, section, metric=metric, direction="minimize", base_dir=folder)


def test_objective_script_runs_in_a_reused_child_with_live_reports_and_captured_output(tmp_path):
    write(
        tmp_path,
        "train.py",
        """\
        import os
        def objective(params, trial):
            print("pid", os.getpid(), "x =", params["x"])
            for step in range(3):
                trial.report(step, loss=(params["x"] - 0.3) ** 2 + 1 / (step + 1))
                if trial.should_stop():
                    break
            return {"loss": (params["x"] - 0.3) ** 2, "steps": 3}
        """,
    )
    objective = objective_for(tmp_path, "train.py")
    seen: list[StepReported] = []
    with Study.create(
        tmp_path / "s.db", "s", {"x": {"type": "float", "low": 0, "high": 1}}, "random", metric="loss"
    ) as study:
        try:
            done = study.optimize(objective, 3, callbacks=lambda e: seen.append(e))
        finally:
            objective.close()
        assert done.reason == "budget"
        trials = study.trials
        assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
        assert len([e for e in seen if isinstance(e, StepReported)]) == 9  # reports came back live
        full = study.trial(0)
        assert [s for s, _ in full.curves["loss"]] == [0, 1, 2]
        assert full.metrics["steps"] == 3
    pids = {t.attrs["log"].split()[1] for t in trials}
    assert len(pids) == 1  # one healthy child ran every trial
    assert objective.worker.starts == 1
    assert f"x = {trials[1].params['x']}" in trials[1].attrs["log"]


def test_each_way_a_script_breaks_fails_only_its_trial(tmp_path):
    write(tmp_path, "breaking.py", BREAKING)
    objective = objective_for(tmp_path, "breaking.py", time_limit=2.0)
    modes = ["raise", "segfault", "ok", "exit", "hang", "sysexit", "ok"]
    with Study.create(tmp_path / "s.db", "s", {"mode": MODES}, "random", metric="loss") as study:
        for mode in modes:
            study.enqueue({"mode": mode})
        try:
            done = study.optimize(objective, len(modes))
        finally:
            objective.close()
        assert done.reason == "budget"
        trials = study.trials
    by_mode = dict(zip(modes[:-1], trials))
    assert [t.state for t in trials] == [
        TrialState.FAILED,
        TrialState.FAILED,
        TrialState.COMPLETE,
        TrialState.FAILED,
        TrialState.FAILED,
        TrialState.FAILED,
        TrialState.COMPLETE,
    ]
    raised = by_mode["raise"]
    assert raised.error == "ValueError: boom (breaking.py, line 8)"
    assert 'File "' in raised.attrs["traceback"] and "boom" in raised.attrs["traceback"]
    assert "starting raise" in raised.attrs["log"]

    segv = by_mode["segfault"]
    assert "crashed with SIGSEGV (segmentation fault)" in segv.error
    assert "starting segfault" in segv.error  # the tail of its output
    assert "Fatal Python error" in segv.attrs["log"]  # faulthandler's report was captured

    assert "exited with code 3" in by_mode["exit"].error
    assert "timed out" in by_mode["hang"].error and "time limit of 2 s" in by_mode["hang"].error
    assert by_mode["sysexit"].error.startswith("SystemExit: the script called sys.exit(4)")
    assert trials[-1].attrs["log"].endswith("all good")
    # segfault, exit and hang each cost a process; raise and sys.exit did not
    assert objective.worker.starts == 4


def test_syntax_error_is_reported_before_the_first_trial_with_file_and_line(tmp_path):
    write(tmp_path, "broken.py", "def objective(params, trial):\n    return (1 +\n\nx = 2\n")
    with pytest.raises(ScriptError, match=r"broken\.py, line \d: SyntaxError"):
        objective_for(tmp_path, "broken.py")


def test_import_error_and_missing_function_are_reported_with_the_file(tmp_path):
    write(tmp_path, "imports.py", "import os\nimport no_such_module_here\n")
    with pytest.raises(ScriptError) as info:
        objective_for(tmp_path, "imports.py")
    assert "imports.py, line 2: importing the script raised ModuleNotFoundError" in str(info.value)
    write(tmp_path, "empty.py", "x = 1\n")
    with pytest.raises(ScriptError, match="empty.py: defines no function 'objective'"):
        objective_for(tmp_path, "empty.py")


def test_a_script_changed_after_it_was_trusted_is_refused(tmp_path):
    path = write(tmp_path, "train.py", "def objective(params, trial):\n    return 1.0\n")
    trusted = ScriptIdentity.of(path)
    path.write_text("def objective(params, trial):\n    return 2.0\n")
    with pytest.raises(ScriptError, match="changed since it was trusted"):
        make_script_objective(
            {},
            {},
            {"script": "train.py"},
            metric="loss",
            direction="minimize",
            base_dir=tmp_path,
            sha256=trusted.sha256,
        )


def test_cancel_reaches_the_script_between_reports(tmp_path):
    write(
        tmp_path,
        "forever.py",
        """\
        import time
        def objective(params, trial):
            step = 0
            while not trial.should_stop():
                trial.report(step, loss=1.0 / (step + 1))
                step += 1
                time.sleep(0.01)
            print("stopped at", step)
            return 1.0 / step
        """,
    )
    objective = objective_for(tmp_path, "forever.py")
    control = StudyControl()

    def cancel_after_a_few(event):
        if isinstance(event, StepReported) and event.step >= 3:
            control.cancel()

    with Study.create(tmp_path / "s.db", "s", {"mode": MODES}, "random", metric="loss") as study:
        try:
            done = study.optimize(objective, 5, control=control, callbacks=cancel_after_a_few)
        finally:
            objective.close()
        trial = study.trials[0]
    assert done.reason == "cancelled"
    assert trial.state == TrialState.INTERRUPTED
    assert trial.last_step is not None and trial.last_step < 10  # it stopped soon after the cancel
    assert "stopped at" in trial.attrs["log"]


def test_model_script_trains_with_our_trainer_on_its_own_data(tmp_path):
    write(
        tmp_path,
        "net.py",
        """\
        import numpy as np
        from torch import nn

        def load_data():
            rng = np.random.default_rng(0)
            X = rng.normal(size=(240, 4)).astype("float32")
            y = (X[:, 0] + X[:, 1] > 0).astype("int64")
            return X, y

        def build_model(params, input_shape, n_outputs):
            print("building", params["width"], input_shape, n_outputs)
            return nn.Sequential(nn.Linear(input_shape[0], params["width"]), nn.ReLU(),
                                 nn.Linear(params["width"], n_outputs))
        """,
    )
    objective = make_script_objective(
        {},
        {"script": "net.py", "epochs": 2, "device": "cpu"},
        None,
        metric="val_accuracy",
        direction="maximize",
        base_dir=tmp_path,
        space={"width": None},
    )
    assert "net.py load_data()" in objective.data_summary and objective.device_label
    space = {
        "width": {"type": "int", "low": 2, "high": 16},
        "learning_rate": {"type": "fixed", "value": 0.01},
    }
    with Study.create(
        tmp_path / "s.db", "s", space, "random", metric="val_accuracy", direction="maximize"
    ) as study:
        try:
            study.optimize(objective, 2)
        finally:
            objective.close()
        trial = study.trial(1)
    assert trial.state == TrialState.COMPLETE
    assert [s for s, _ in trial.curves["val_accuracy"]] == [1, 2]
    assert trial.metrics["epochs_run"] == 2 and trial.metrics["n_params"] > 0
    assert f"building {trial.params['width']} (4,) 2" in trial.attrs["log"]


def test_spec_sections_for_scripts_are_checked_with_key_and_line(tmp_path):
    write(tmp_path, "train.py", "def objective(params, trial):\n    return 1.0\n")
    head = '[study]\nmetric = "loss"\n\n[space]\nx = { type = "float", low = 0, high = 1 }\n\n'
    spec = tmp_path / "s.toml"
    spec.write_text(head + '[objective]\nscript = "train.py"\ntime_limit = 30\n')
    assert parse_spec(spec.read_text(), path=spec).script == "train.py"
    cases = {
        '[objective]\nscript = "train.py"\nlimit = 3\n': "line 9: [objective] unknown key 'limit'",
        '[objective]\nscript = "nope.py"\n': "line 8: [objective] script 'nope.py' not found",
        '[objective]\nscript = "train.py"\ntime_limit = -1\n': "line 9: [objective] time_limit must be a positive",
        '[model]\nscript = "train.py"\nkind = "cnn"\n': "line 9: [model] kind cannot be combined with script",
        "[model]\ntime_limit = 5\n": "line 8: [model] time_limit applies to a [model] script only",
        '[objective]\nscript = "train.py"\n[data]\ndataset = "iris"\n': "line 9: [data] is not used with [objective]",
        '[objective]\nscript = "train.py"\n[model]\nepochs = 3\n': "line 9: [model] is not used with [objective]",
    }
    for tail, message in cases.items():
        with pytest.raises(SpecError) as info:
            parse_spec(head + tail, source="s.toml", path=spec)
        assert message in str(info.value), (tail, str(info.value))


def test_read_tail_keeps_the_last_lines_within_the_byte_limit(tmp_path):
    log = tmp_path / "out.log"
    log.write_text("".join(f"line {i}\n" for i in range(1000)))
    tail = read_tail(log, max_lines=200, max_bytes=64_000)
    lines = tail.splitlines()
    assert lines[0] == "… (earlier output cut)" and lines[-1] == "line 999" and len(lines) == 201
    assert read_tail(tmp_path / "missing.log") == ""
