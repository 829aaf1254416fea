"""Screenshots of the analysis page on a realistic finished study (not a test: run it).

    python tests/gui/shot_analysis.py [OUT_DIR]     # default /tmp: analysis_<view>.png

(and ``analysis_<view>_brushed.png`` of slice, trade-offs and all curves with a brush on the
parallel coordinates' metric axis).

``make_analysis_study`` (shared with the tests) writes a finished study of a 4-parameter mixed
space (a log float, an int, a float, a categorical) with complete, pruned and failed trials and
per-epoch curves.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np

SPACE = {
    "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "hidden_units": {"type": "int", "low": 16, "high": 256},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5},
    "optimizer": {"type": "categorical", "choices": ["adam", "sgd", "rmsprop"]},
}


def make_analysis_study(path: Path, n_trials: int = 30, epochs: int = 8, seed: int = 3):
    """A finished study: returns (store, study_id). val_accuracy (maximize) depends mostly on
    the learning rate (best near 3e-3), then the optimizer (sgd is worse), a little on dropout."""
    from hpo_desktop.core.storage import StudyStore
    from hpo_desktop.core.trial import TrialState

    rng = np.random.default_rng(seed)
    store = StudyStore(path)
    record = store.create_study(
        "mixed",
        metric="val_accuracy",
        direction="maximize",
        space=SPACE,
        strategy={"kind": "random"},
        budget=n_trials,
        spec={"data": {"dataset": "digits"}, "model": {"kind": "mlp", "epochs": epochs}},
    )
    sid = record.study_id
    for i in range(n_trials):
        params = {
            "learning_rate": float(10 ** rng.uniform(-4, -1)),
            "hidden_units": int(rng.integers(16, 257)),
            "dropout": round(float(rng.uniform(0, 0.5)), 3),
            "optimizer": str(rng.choice(["adam", "sgd", "rmsprop"])),
        }
        t = store.create_trial(sid, params, seed=i)
        miss = abs(math.log10(params["learning_rate"]) - math.log10(3e-3))
        miss += 0.5 if params["optimizer"] == "sgd" else 0.0
        final = 0.97 - 0.12 * miss - 0.08 * params["dropout"] + rng.normal(0, 0.006)
        failed = i in (7, 19)
        pruned = not failed and miss > 1.4 and i > 4
        last = 2 if failed else 3 if pruned else epochs
        acc = 0.0
        for e in range(1, last + 1):
            acc = final * (1 - math.exp(-0.6 * e)) + rng.normal(0, 0.004)
            loss = (1.0 - acc) * 2.0 if not (failed and e == 2) else math.nan
            store.report(t.trial_id, e, {"val_accuracy": acc, "val_loss": loss, "train_loss": loss * 0.8})
        if failed:
            store.finish_trial(t.trial_id, TrialState.FAILED, error="diverged: val_loss became nan")
            continue
        metrics = {
            "val_accuracy": acc,
            "val_loss": (1 - acc) * 2,
            "n_params": float(64 * params["hidden_units"] + params["hidden_units"] * 10),
            "train_seconds": 2.0 + params["hidden_units"] / 40 + rng.uniform(0, 1) * last / epochs,
        }
        state = TrialState.PRUNED if pruned else TrialState.COMPLETE
        store.finish_trial(t.trial_id, state, value=acc, metrics=metrics)
    return store, sid


def main(out_dir: str = "/tmp") -> None:
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from hpo_desktop.gui.analysis.analysis_page import AnalysisPage

    app = QApplication.instance() or QApplication(sys.argv)
    app.setStyle("Fusion")
    out = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        store, sid = make_analysis_study(
            Path(tmp) / "study.db", n_trials=int(os.environ.get("N_TRIALS", "40"))
        )
        page = AnalysisPage()
        page.resize(1280, 800)
        page.show()
        page.set_study(store, sid)
        for view in page.views:
            page.show_view(view)
            for _ in range(3):
                app.processEvents()
                page.wait_idle()
            app.processEvents()
            if view is page.parallel:
                page.parallel.set_brush(0, 0.45, 0.85)
            if view is page.contour:
                page.select_trial(int(page.ctx.trials[3].number))
            app.processEvents()
            path = out / f"analysis_{view.slug}.png"
            page.grab().save(str(path))
            print("wrote", path, page.compute_ms.get(view.slug))
            if view is page.parallel:
                page.parallel.clear_brushes()  # the other views' shots show every trial
        # a brush on the metric's better half: the other views fade the trials outside it
        page.show_view(page.parallel)
        app.processEvents()
        page.parallel.set_brush(len(page.parallel._data.axes) - 1, 0.55, 1.0)
        for view in (page.slice, page.tradeoffs, page.curves):
            page.show_view(view)
            for _ in range(3):
                app.processEvents()
                page.wait_idle()
            app.processEvents()
            path = out / f"analysis_{view.slug}_brushed.png"
            page.grab().save(str(path))
            print("wrote", path)
        page.parallel.clear_brushes()
        from shot_live import _dark_palette  # noqa: PLC0415 - run as a script from tests/gui

        app.setPalette(_dark_palette())
        page.show_view(page.parallel)
        app.processEvents()
        page.grab().save(str(out / "analysis_parallel_dark.png"))
        page.show_view(page.slice)
        app.processEvents()
        page.grab().save(str(out / "analysis_slice_dark.png"))
        print("wrote", out / "analysis_*_dark.png")
        page.close()
        store.close()


if __name__ == "__main__":
    main(*sys.argv[1:2])
