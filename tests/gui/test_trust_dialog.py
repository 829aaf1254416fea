"""Trusting a script in the window: the question shows path, hash and first lines; the answer is
remembered per hash (a changed file asks again); Start runs the script only after "Trust and
Run", and the trial details show what it printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from hpo_desktop.core.events import StepReported
from hpo_desktop.core.spec import load_spec
from hpo_desktop.core.storage import StudyStore
from hpo_desktop.core.trial import TrialState
from hpo_desktop.gui.trust_dialog import TrustDialog, confirm_trust
from hpo_desktop.gui.worker import RunRequest, StudyRunner
from hpo_desktop.training.trust import ScriptIdentity, TrustStore

RUN_TIMEOUT = 90_000

MODEL_SCRIPT = """\
# A tiny network for the window test.
from pathlib import Path

from torch import nn

Path("ran.txt").write_text("imported")  # the child runs in this file's folder


def build_model(params, input_shape, n_outputs):
    print("building a model with", params["hidden_units"], "units")
    return nn.Sequential(nn.Linear(input_shape[0], params["hidden_units"]), nn.ReLU(),
                         nn.Linear(params["hidden_units"], n_outputs))
"""

SPEC = """\
[study]
name = "mine"
metric = "val_accuracy"
direction = "maximize"
trials = 1

[strategy]
kind = "random"

[data]
dataset = "iris"

[model]
script = "net.py"
epochs = 2
device = "cpu"

[space]
hidden_units = { type = "int", low = 4, high = 16 }
"""


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "config"
    monkeypatch.setenv("HPO_DESKTOP_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def script(tmp_path) -> Path:
    path = tmp_path / "net.py"
    path.write_text(MODEL_SCRIPT)
    return path


class Answer:
    """Clicks a button of the trust dialog once it shows (from inside its exec loop)."""

    def __init__(self, trust: bool) -> None:
        self.trust = trust
        self.seen: list[TrustDialog] = []
        QTimer.singleShot(0, self._click)

    def _click(self) -> None:
        shown = [w for w in QApplication.topLevelWidgets() if isinstance(w, TrustDialog) and w.isVisible()]
        if not shown:
            QTimer.singleShot(20, self._click)
            return
        dialog = shown[0]
        self.seen.append(dialog)
        (dialog.trust_button if self.trust else dialog.cancel_button).click()


def test_the_dialog_shows_the_path_the_hash_and_the_first_lines(qtbot, script):
    script.write_text(MODEL_SCRIPT + "".join(f"# line {i}\n" for i in range(30)))
    identity = ScriptIdentity.of(script)
    dialog = TrustDialog(identity)
    qtbot.addWidget(dialog)
    assert dialog.path_label.text() == str(script.resolve())
    assert identity.sha256 in dialog.hash_label.text()
    text = dialog.head.toPlainText()
    assert text.startswith("# A tiny network for the window test.")
    assert len(text.splitlines()) == 16 and "more lines" in text.splitlines()[-1]
    assert dialog.cancel_button.isDefault()  # Enter never trusts by accident


def test_the_answer_is_remembered_per_hash_and_a_changed_file_asks_again(qtbot, script, monkeypatch):
    declined = Answer(trust=False)
    assert confirm_trust(script) is None
    assert len(declined.seen) == 1 and not TrustStore().is_trusted(ScriptIdentity.of(script))

    trusted = Answer(trust=True)
    sha = confirm_trust(script)
    assert len(trusted.seen) == 1 and sha == ScriptIdentity.of(script).sha256

    def must_not_ask(self):
        raise AssertionError("asked again for a trusted script")

    with monkeypatch.context() as m:
        m.setattr(TrustDialog, "exec", must_not_ask)
        assert confirm_trust(script) == sha

    script.write_text(MODEL_SCRIPT + "print('changed')\n")
    again = Answer(trust=False)
    assert confirm_trust(script) is None
    assert len(again.seen) == 1


def test_start_asks_first_then_runs_the_script_and_shows_its_output(qtbot, main_window, tmp_path, script):
    spec = tmp_path / "mine.toml"
    spec.write_text(SPEC)
    assert main_window.open_path(spec)
    assert main_window.act_start.isEnabled(), main_window.act_start.toolTip()
    assert not (tmp_path / "ran.txt").exists()  # opening a spec never runs its script

    Answer(trust=False)
    assert not main_window.start_study()  # declined: nothing ran, no study file
    assert not main_window.runner.running and not spec.with_suffix(".db").exists()
    assert not (tmp_path / "ran.txt").exists()

    answer = Answer(trust=True)
    with qtbot.waitSignal(
        main_window.runner.running_changed, timeout=RUN_TIMEOUT, check_params_cb=lambda running: not running
    ):
        assert main_window.start_study()
    assert len(answer.seen) == 1
    assert main_window.runner.last_result.reason == "budget"
    with StudyStore(spec.with_suffix(".db"), readonly=True) as store:
        trial = store.get_trials(store.get_study("mine").study_id)[0]
    assert trial.state == TrialState.COMPLETE
    assert "building a model with" in trial.attrs["log"]
    assert (tmp_path / "ran.txt").exists()

    main_window.live.flush()
    main_window.live.select_trial(0)
    details = main_window.live.details
    assert details.output_box.isVisibleTo(details)
    assert "building a model with" in details.output.toPlainText()
    log = "\n".join(main_window.log.lines())
    assert "Script: net.py" in log


LOOP = """\
import time

def objective(params, trial):
    step = 0
    while not trial.should_stop():
        trial.report(step, score=params["x"] + step)
        step += 1
        time.sleep(0.02)
    print("asked to stop at step", step)
    return params["x"]
"""

LOOP_SPEC = """\
[study]
name = "loop"
metric = "score"
trials = 3

[strategy]
kind = "random"

[objective]
script = "loop.py"

[space]
x = { type = "float", low = 0, high = 1 }
"""


def loop_request(tmp_path: Path, sha256: str | None) -> RunRequest:
    (tmp_path / "loop.py").write_text(LOOP)
    path = tmp_path / "loop.toml"
    path.write_text(LOOP_SPEC)
    spec = load_spec(path)
    return RunRequest(
        db_path=tmp_path / "loop.db", spec=spec, n_trials=3, base_dir=tmp_path, script_sha256=sha256
    )


def test_the_worker_runs_an_objective_script_and_stop_now_reaches_it(qtbot, tmp_path):
    runner = StudyRunner()
    try:
        untrusted = loop_request(tmp_path, None)
        with qtbot.waitSignal(runner.failed, timeout=30_000) as blocker:
            runner.start(untrusted)
        qtbot.waitUntil(lambda: not runner.running, timeout=10_000)
        assert "has not been trusted" in blocker.args[0] and not untrusted.db_path.exists()

        req = loop_request(tmp_path, ScriptIdentity.of(tmp_path / "loop.py").sha256)
        with qtbot.waitSignal(
            runner.event,
            timeout=60_000,
            check_params_cb=lambda e: isinstance(e, StepReported) and e.step >= 3,
        ):
            runner.start(req)
        with qtbot.waitSignal(runner.running_changed, timeout=30_000, check_params_cb=lambda r: not r):
            runner.cancel()
    finally:
        runner.stop_and_wait(10_000)
    assert runner.last_result.reason == "cancelled"
    with StudyStore(req.db_path, readonly=True) as store:
        record = store.get_study("loop")
        trial = store.get_trials(record.study_id)[0]
    assert record.spec["objective"] == {"script": "loop.py"}  # kept for resume
    assert trial.state == TrialState.INTERRUPTED
    assert "asked to stop at step" in trial.attrs["log"]  # should_stop reached the child
