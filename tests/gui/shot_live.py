"""Screenshots of the live page filled with a realistic fake study (not a test: run it).

    python tests/gui/shot_live.py [OUT_DIR]      # default /tmp: live.png, live_details.png,
                                                 # live_dark.png, live_train_val.png

The fake study looks like a digits MLP search: 29 finished trials (a few pruned, two diverged)
and one running at epoch 9 of 20. ``fake_events`` is shared with the tests.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import numpy as np

from hpo_desktop.core.events import StepReported, StudyStarted, TrialFinished, TrialStarted
from hpo_desktop.core.trial import TrialState

STUDY = "digits-mlp"


def guard_singleton_refcounts() -> None:
    """Work around PySide6 6.12.0 on CPython < 3.12: every call of a void Qt method (e.g.
    ``QWidget.update()``) drops one reference to ``None`` (and some paths drop ``True`` /
    ``False``), so after some 20,000 calls (a minute of live charts) Python aborts with
    "none_dealloc: deallocating None". PySide6 6.11.3 is fine, and CPython 3.12 makes these
    objects immortal. Until the project pins a fixed PySide6, give them a huge reference
    count, which is what 3.12 does."""
    import ctypes

    import PySide6

    if sys.version_info < (3, 12) and PySide6.__version__ == "6.12.0":
        for obj in (None, True, False):
            ctypes.c_ssize_t.from_address(id(obj)).value += 1 << 40


def fake_events(
    n_trials: int = 30, *, epochs: int = 20, running_epochs: int = 9, budget: int = 40, seed: int = 7
) -> list[object]:
    """Events of a digits-like search, metric val_accuracy (maximize); the last trial runs."""
    rng = np.random.default_rng(seed)
    events: list[object] = [StudyStarted(STUDY, budget, 0)]
    for number in range(n_trials):
        lr = float(10 ** rng.uniform(-4.0, -0.3))
        if number in (11, 23):
            lr = float(rng.uniform(0.4, 0.9))  # these two diverge
        units = int(rng.choice([32, 64, 128, 256]))
        dropout = round(float(rng.uniform(0.0, 0.5)), 2)
        optimizer = str(rng.choice(["adam", "adamw", "sgd"]))
        params = {"learning_rate": lr, "hidden_units": units, "dropout": dropout, "optimizer": optimizer}
        events.append(TrialStarted(STUDY, number, params, int(rng.integers(0, 2**31))))
        miss = abs(math.log10(lr) - math.log10(3e-3)) + (0.4 if optimizer == "sgd" else 0.0)
        floor = 0.06 + 0.16 * miss + 0.1 * dropout + rng.uniform(0, 0.04)
        speed = 0.55 / (1.0 + miss)
        overfit = 0.25 * (1.0 - dropout) * (units / 256)
        running = number == n_trials - 1
        diverges = lr > 0.3
        pruned = not diverges and not running and miss > 1.15 and number >= 6
        last = running_epochs if running else 3 if diverges else 6 if pruned else epochs
        history = []
        for epoch in range(1, last + 1):
            if diverges:
                train = 2.3 * 2.2 ** (epoch - 1)
                val = train * 1.1 if epoch < 3 else math.nan
                acc = 0.1
            else:
                decay = math.exp(-speed * epoch)
                train = 0.7 * floor + (2.3 - 0.7 * floor) * decay + rng.normal(0, 0.01)
                val = floor + (2.3 - floor) * decay + overfit * (epoch / epochs) ** 2 + rng.normal(0, 0.015)
                acc = min(0.995, max(0.05, 1.0 - 0.93 * (val / 2.3) ** 0.75 + rng.normal(0, 0.004)))
            m = {
                "train_loss": train,
                "val_loss": val,
                "val_accuracy": acc,
                "epoch_seconds": 0.35 + units / 600 + abs(rng.normal(0, 0.03)),
            }
            history.append(m)
            events.append(StepReported(STUDY, number, epoch, m))
        if running:
            continue
        seconds = sum(m["epoch_seconds"] for m in history) + 0.4
        if diverges:
            events.append(
                TrialFinished(
                    STUDY,
                    number,
                    TrialState.FAILED,
                    params,
                    None,
                    {},
                    seconds,
                    "diverged: validation loss became nan at epoch 3",
                )
            )
            continue
        best_epoch = int(np.argmax([m["val_accuracy"] for m in history])) + 1
        best = history[best_epoch - 1]
        final = {k: best[k] for k in ("train_loss", "val_loss", "val_accuracy")}
        final.update(
            best_epoch=float(best_epoch),
            epochs_run=float(last),
            n_params=float(64 * units + units * units + units * 10 + 2 * units + 10),
            train_seconds=seconds - 0.3,
        )
        state = TrialState.PRUNED if pruned else TrialState.COMPLETE
        value = history[-1]["val_accuracy"] if pruned else best["val_accuracy"]
        events.append(TrialFinished(STUDY, number, state, params, value, final, seconds))
    return events


def make_study(store_path: Path):
    """A study file with the fake study's record (no trials): what the window creates."""
    from hpo_desktop.core.storage import StudyStore

    store = StudyStore(store_path)
    record = store.create_study(
        STUDY,
        metric="val_accuracy",
        direction="maximize",
        space={},
        strategy={"kind": "bayesian"},
        budget=40,
        spec={"data": {"dataset": "digits"}, "model": {"kind": "mlp", "epochs": 20}},
    )
    return store, record.study_id


def _dark_palette():
    from PySide6.QtGui import QColor, QPalette

    pal = QPalette()
    roles = QPalette.ColorRole
    for role, value in {
        roles.Window: "#2b2d31",
        roles.WindowText: "#e6e6e6",
        roles.Base: "#1e1f22",
        roles.AlternateBase: "#26282c",
        roles.Text: "#e6e6e6",
        roles.Button: "#33353a",
        roles.ButtonText: "#e6e6e6",
        roles.Highlight: "#3d6fb6",
        roles.HighlightedText: "#ffffff",
        roles.ToolTipBase: "#33353a",
        roles.ToolTipText: "#e6e6e6",
        roles.PlaceholderText: "#8a8d93",
    }.items():
        pal.setColor(role, QColor(value))
    return pal


def main(out_dir: str = "/tmp") -> None:
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from hpo_desktop.gui.live.curves_chart import TRAIN_VAL
    from hpo_desktop.gui.live.live_page import LivePage

    guard_singleton_refcounts()
    app = QApplication.instance() or QApplication(sys.argv)
    app.setStyle("Fusion")
    out = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        store, study_id = make_study(Path(tmp) / "study.db")
        page = LivePage()
        page.resize(1280, 800)
        page.set_study(store, study_id)
        page.show()
        for event in fake_events():
            page.on_event(event)
        page.flush()
        app.processEvents()
        page.grab().save(str(out / "live.png"))
        best = page.trials.best
        page.select_trial(best)
        app.processEvents()
        page.details.grab().save(str(out / "live_details.png"))
        page.select_trial(11)  # a failed one
        app.processEvents()
        page.details.grab().save(str(out / "live_details_failed.png"))
        page.select_trial(best)
        page.curves.set_metric(TRAIN_VAL)
        app.processEvents()
        page.grab().save(str(out / "live_train_val.png"))
        page.curves.set_metric("val_accuracy")
        app.setPalette(_dark_palette())
        app.processEvents()
        page.grab().save(str(out / "live_dark.png"))
        print(f"redraws: {page.redraw_count}; wrote {out}/live*.png")
        page.close()
        store.close()


if __name__ == "__main__":
    main(*sys.argv[1:2])
