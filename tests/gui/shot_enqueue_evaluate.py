"""Screenshots of Enqueue Trial, Evaluate on Test Set and the Test Set dock (not a test: run it).

    python tests/gui/shot_enqueue_evaluate.py [OUT_DIR]    # default docs/screenshots

Writes enqueue.png (clone and edit of an sgd trial: the conditional momentum row shows),
enqueue-error.png (out-of-range values named inline), evaluate-running.png (seed 2 of 3),
evaluate.png (the result) and test-set-dock.png (the main window with the Test Set dock).
A digits study with 16 made-up finished trials is written to a temporary folder; the
evaluations are real (3 seeds x 3 epochs, some seconds on two CPU cores).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[2]

SPEC = """
[study]
name = "digits-mlp"
metric = "val_accuracy"
direction = "maximize"
trials = 30
seed = 0

[strategy]
kind = "bayesian"

[data]
dataset = "digits"
validation = 0.15
test = 0.15

[model]
kind = "mlp"
epochs = 3

[space]
learning_rate = { type = "float", low = 1e-4, high = 1e-1, log = true }
batch_size    = { type = "categorical", choices = [32, 64, 128] }
hidden_units  = { type = "int", low = 16, high = 256, log = true }
dropout       = { type = "float", low = 0.0, high = 0.5 }
optimizer     = { type = "categorical", choices = ["adam", "sgd"] }
momentum      = { type = "float", low = 0.0, high = 0.99, when = { optimizer = "sgd" } }
"""


def make_study(folder: Path) -> tuple[Path, int]:
    from hpo_desktop.core.spec import load_spec
    from hpo_desktop.core.storage import StudyStore
    from hpo_desktop.core.study import create_from_spec
    from hpo_desktop.core.trial import TrialState

    spec_path = folder / "digits.toml"
    spec_path.write_text(SPEC)
    db = folder / "digits.db"
    study = create_from_spec(db, load_spec(spec_path))
    sid = study.study_id
    space = study.space
    study.close()
    rng = np.random.default_rng(4)
    with StudyStore(db) as store:
        for _ in range(16):
            params = space.sample(rng)
            miss = abs(np.log10(params["learning_rate"]) - np.log10(3e-3))
            value = float(
                np.clip(0.97 - 0.12 * miss - 0.05 * params["dropout"] + rng.normal(0, 0.01), 0.1, 0.99)
            )
            t = store.create_trial(sid, params)
            for step in range(1, 4):
                store.report(t.trial_id, step, {"val_accuracy": value * (0.7 + 0.1 * step)})
            store.finish_trial(t.trial_id, TrialState.COMPLETE, value=value, metrics={"val_accuracy": value})
    return db, sid


def main(out_dir: str | None = None) -> int:
    out = Path(out_dir) if out_dir else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="hpo-shots-"))
    os.environ["HPO_DESKTOP_DATA_DIR"] = str(scratch / "data")

    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings"))

    from hpo_desktop.gui.app import application
    from hpo_desktop.gui.main_window import MainWindow
    from hpo_desktop.training.evaluation import evaluate_and_store

    app = application()

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait_until(condition, timeout_ms: int = 120_000) -> None:
        waited = 0
        while not condition() and waited < timeout_ms:
            wait(50)
            waited += 50

    def save(widget, name: str) -> None:
        app.processEvents()
        path = out / f"{name}.png"
        widget.grab().save(str(path))
        print(f"wrote {path}")

    db, sid = make_study(scratch)
    window = MainWindow()
    window.resize(1440, 900)
    window.show()
    window.open_path(db)
    wait(300)

    # Clone and edit a trial that used sgd (its momentum row is shown).
    sgd = next(t for t in window.reader.get_trials(sid) if t.params.get("optimizer") == "sgd")
    dialog = window.enqueue_dialog(sgd.number)
    wait(200)
    save(dialog, "enqueue")
    dialog.editors["learning_rate"].editor.setText("0.5")
    dialog.editors["hidden_units"].editor.setValue(512)
    dialog.submit()
    wait(100)
    save(dialog, "enqueue-error")
    dialog.reject()

    # One stored evaluation first (trained on train + validation), for the dock's table.
    evaluate_and_store(db, sid, sgd.number, seeds=3, include_validation=True)
    evaluate = window.evaluate_dialog()
    wait(200)
    evaluate.start()
    wait_until(lambda: evaluate.progress_bar.value() >= 1)
    save(evaluate, "evaluate-running")
    wait_until(lambda: not evaluate.running)
    wait(200)
    save(evaluate, "evaluate")
    evaluate.reject()
    wait(300)
    window.live.flush()
    window.evaluations_dock.raise_()
    wait(300)
    save(window, "test-set-dock")
    window.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
