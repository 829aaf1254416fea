"""Screenshots of user scripts in the window (not a test: run it).

    QT_QPA_PLATFORM=offscreen python tests/gui/shot_scripts.py [OUT_DIR]   # default docs/screenshots

Writes trust-dialog.png (the question before a script's first run, for the digits CNN example)
and script-output.png (the trial details of a study whose objective script printed as it
trained: the trial that crashed with a segfault, its reason, then the captured output).
The study runs a cheap pure-Python objective in a child process: a few seconds in all.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """\
import math, os, signal

def objective(params, trial):
    lr, width = params["learning_rate"], params["width"]
    print(f"trial {trial.number}: learning_rate={lr:.4g} width={width}")
    loss = 2.0
    for epoch in range(1, 13):
        loss = loss * (0.75 + 0.2 * abs(math.log10(lr) + 2.2) / 3) + 0.002 * abs(width - 48) / 48
        trial.report(epoch, val_loss=loss, train_loss=loss * 0.9)
        print(f"  epoch {epoch:2d}  val_loss {loss:.4f}")
        if width > 110 and epoch == 5:
            print("  calling into a C extension that crashes...", flush=True)
            os.kill(os.getpid(), signal.SIGSEGV)
        if trial.should_stop():
            break
    return {"val_loss": loss}
"""

SPACE = {
    "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "width": {"type": "int", "low": 8, "high": 128},
}


def settle(ms: int = 300) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def make_study(folder: Path) -> tuple[Path, int]:
    from hpo_desktop.core.study import Study
    from hpo_desktop.core.trial import TrialState
    from hpo_desktop.training.scripts import make_script_objective

    (folder / "train.py").write_text(SCRIPT)
    objective = make_script_objective(
        {}, {}, {"script": "train.py"}, metric="val_loss", direction="minimize", base_dir=folder
    )
    extra = {"data": {}, "model": {}, "objective": {"script": "train.py"}, "base_dir": str(folder)}
    db = folder / "train.db"
    with Study.create(db, "my-loop", SPACE, "random", metric="val_loss", seed=3, n_trials=8, spec=extra) as s:
        s.enqueue({"learning_rate": 0.01, "width": 120})  # the crash, to show
        try:
            s.optimize(objective, 8)
        finally:
            objective.close()
        crashed = next(t.number for t in s.trials if t.state == TrialState.FAILED)
    return db, crashed


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="hpo-script-shots-"))
    os.environ["HPO_DESKTOP_DATA_DIR"] = str(scratch / "data")
    os.environ["HPO_DESKTOP_CONFIG_DIR"] = str(scratch / "config")
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings"))

    from hpo_desktop.gui.app import application
    from hpo_desktop.gui.trust_dialog import TrustDialog
    from hpo_desktop.training.trust import ScriptIdentity

    app = application()
    dialog = TrustDialog(ScriptIdentity.of(ROOT / "resources" / "examples" / "digits_cnn.py"))
    dialog.show()
    settle()
    dialog.grab().save(str(out / "trust-dialog.png"))
    print(f"wrote {out / 'trust-dialog.png'}")
    dialog.close()

    db, crashed = make_study(scratch)
    from hpo_desktop.core.chartdata import LiveTrial
    from hpo_desktop.core.storage import StudyStore
    from hpo_desktop.gui.live.trial_details import TrialDetails

    with StudyStore(db, readonly=True) as store:
        trial = store.get_trial_by_number(store.get_study("my-loop").study_id, crashed)
    details = TrialDetails()
    details.resize(620, 900)
    details.show_trial(LiveTrial.from_frozen(trial), metric="val_loss", direction="minimize")
    details.show()
    settle(600)
    details.grab().save(str(out / "script-output.png"))
    print(f"wrote {out / 'script-output.png'}")
    details.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"))
