"""Screenshots of pruning (not a test: run it). ``pruned_study`` is shared with the tests.

    python tests/gui/shot_pruning.py [OUT_DIR]   # default docs/screenshots:
                                                 # pruner-panel.png, pruner-panel-median.png,
                                                 # live-pruned.png

``pruned_study`` runs a real study (the core loop, ASHA) on a digits-like synthetic objective:
accuracy curves that climb to a ceiling set by the learning rate, 30 epochs each.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

from hpo_desktop.core.space import Categorical, Float
from hpo_desktop.core.study import Study

EPOCHS = 30


def digits_like(params, trial):
    """Val accuracy climbing to a ceiling that depends on the learning rate and optimizer."""
    miss = abs(math.log10(params["learning_rate"]) - math.log10(3e-3))
    miss += 0.5 if params["optimizer"] == "sgd" else 0.0
    top = 0.985 - 0.06 * miss**1.5 - 0.04 * params["dropout"]
    speed = 0.45 / (1.0 + miss)
    acc = loss = 0.0
    for epoch in range(1, EPOCHS + 1):
        acc = max(0.1, top * (1.0 - 0.8 * math.exp(-speed * epoch)))
        loss = 2.3 * (1.0 - acc) + 0.05
        trial.report(epoch, val_accuracy=acc, val_loss=loss, train_loss=0.8 * loss)
        if trial.should_stop():
            break
    return {"val_accuracy": acc, "val_loss": loss}


def pruned_study(path: Path, pruner: str | dict = "asha", n_trials: int = 30, seed: int = 2) -> Study:
    """A finished random-search study with ``pruner`` (default ASHA, 30 epochs)."""
    study = Study.create(
        path,
        "digits-pruned",
        {
            "learning_rate": Float(1e-4, 1e-1, log=True),
            "optimizer": Categorical(["adam", "sgd"]),
            "dropout": Float(0.0, 0.5),
        },
        "random",
        metric="val_accuracy",
        direction="maximize",
        seed=seed,
        pruner=pruner if pruner != "asha" else {"kind": "asha", "max_resource": EPOCHS},
        spec={"data": {"dataset": "digits"}, "model": {"epochs": EPOCHS}, "description": ""},
    )
    study.optimize(digits_like, n_trials=n_trials)
    return study


def main(out_dir: str | None = None) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from hpo_desktop.core.storage import StudyStore
    from hpo_desktop.gui.live.live_page import LivePage
    from hpo_desktop.gui.setup.strategy_panel import StrategyPanel
    from hpo_desktop.gui.theme import apply_chart_theme

    out = Path(out_dir) if out_dir else Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_chart_theme()

    panel = StrategyPanel()
    panel.set_strategy({"kind": "bayesian", "initial_points": 8})
    panel.set_pruner({"kind": "asha", "max_resource": 30})
    panel.resize(460, 900)
    panel.show()
    app.processEvents()
    panel.grab().save(str(out / "pruner-panel.png"))
    panel.set_pruner({"kind": "median"})
    app.processEvents()
    panel.grab().save(str(out / "pruner-panel-median.png"))

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        pruned_study(Path(tmp) / "s.db").close()
        store = StudyStore(Path(tmp) / "s.db", readonly=True)
        page = LivePage()
        page.resize(1280, 760)
        page.set_study(store, store.list_studies()[0].study_id)
        page.curves.set_metric("val_accuracy")
        page.show()
        page.flush()
        for _ in range(5):
            app.processEvents()
        page.grab().save(str(out / "live-pruned.png"))
        page.close()
        store.close()
    print(f"saved {out / 'pruner-panel.png'} and {out / 'live-pruned.png'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
