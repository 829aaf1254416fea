"""Screenshots of Refine…, the lineage tree in the navigator and Compare Studies (not a test: run it).

    QT_QPA_PLATFORM=offscreen python tests/gui/shot_refine.py [OUT_DIR]   # default docs/screenshots

Writes refine-dialog.png (the proposal for a 30-trial study, with one parameter pinned),
refine-child.png (the main window: the child on the Setup page, the navigator's tree) and
compare.png (a parent, its child and grandchild overlaid). The studies are written through
the Python API with a cheap objective: no training, a few seconds in all.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[2]
SPACE = {
    "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "hidden_units": {"type": "int", "low": 16, "high": 256},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5},
    "optimizer": {"type": "categorical", "choices": ["adam", "sgd", "rmsprop"]},
}


def objective(params, trial):
    miss = abs(math.log10(params["learning_rate"]) - math.log10(3e-3))
    miss += 0.4 if params["optimizer"] == "sgd" else 0.15 if params["optimizer"] == "rmsprop" else 0.0
    acc = 0.97 - 0.1 * miss - 0.06 * params["dropout"] - 0.0002 * abs(params["hidden_units"] - 120)
    acc += 0.004 * math.sin(trial.number * 1.7)
    return {"val_accuracy": acc, "val_loss": 1.0 - acc}


def make_lineage(db: Path) -> None:
    from hpo_desktop.core.refine import propose_refinement
    from hpo_desktop.core.space import SearchSpace
    from hpo_desktop.core.study import Study

    extra = {"data": {"dataset": "digits"}, "model": {"kind": "mlp", "epochs": 8}, "base_dir": str(db.parent)}
    kw = {"metric": "val_accuracy", "direction": "maximize", "spec": extra}
    with Study.create(db, "digits", SPACE, "random", seed=1, n_trials=30, **kw) as s:
        s.optimize(objective, 30)
        trials = s.trials
    ref = propose_refinement(SearchSpace.from_dict(SPACE), trials, "maximize")
    with Study.create(
        db, "digits-refined", ref.space, "bayesian", seed=2, n_trials=20, parent="digits", **kw
    ) as s:
        s.optimize(objective, 20)
        trials2 = s.trials
    ref2 = propose_refinement(ref.space, trials2, "maximize", top=0.3)
    with Study.create(
        db, "digits-refined-refined", ref2.space, "random", seed=3, n_trials=15, parent="digits-refined", **kw
    ) as s:
        s.optimize(objective, 15)
    with Study.create(db, "wide-net", SPACE, "random", seed=4, n_trials=12, **kw) as s:
        s.optimize(objective, 12)


def settle(ms: int = 300) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="hpo-refine-shots-"))
    os.environ["HPO_DESKTOP_DATA_DIR"] = str(scratch / "data")
    from PySide6.QtCore import QSettings, Qt

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings"))

    from hpo_desktop.gui.app import application
    from hpo_desktop.gui.main_window import MainWindow

    app = application()
    db = scratch / "digits.db"
    make_lineage(db)

    window = MainWindow()
    window.resize(1360, 820)
    window.show()
    window.resizeDocks([window.nav_dock], [330], Qt.Orientation.Horizontal)
    window.open_path(db)
    nav = window.navigator
    window.show_study(nav.summary_by_name("digits").record.study_id)
    settle()

    dialog = window.refine_dialog()
    dialog.pins["optimizer"].set_pinned(True)
    settle()
    dialog.grab().save(str(out / "refine-dialog.png"))
    print(f"wrote {out / 'refine-dialog.png'}")
    dialog.accept_button.click()
    settle(600)
    window.grab().save(str(out / "refine-child.png"))
    print(f"wrote {out / 'refine-child.png'}")

    window.show_study(nav.summary_by_name("digits-refined").record.study_id)
    compare = window.compare_dialog()
    compare.resize(1200, 760)
    settle(600)
    compare.grab().save(str(out / "compare.png"))
    print(f"wrote {out / 'compare.png'}")
    window.shutdown()
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"))
