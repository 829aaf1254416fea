"""Screenshots of the main window's states for the README: welcome, setup, running, finished.

    python scripts/make_screenshots.py [OUT_DIR]        # default: docs/screenshots

Runs offscreen (no display needed) with settings and study files in a temporary folder, and
runs a real study: the built-in digits example shrunk to 16 trials x 12 epochs (about a
minute on two CPU cores). Also writes a dark-theme shot of the running study.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SIZE = (1440, 900)
TRIALS, EPOCHS = 16, 12
SHOOT_AT = (14, 6)  # the running shot: trial 14 at epoch 6


def dark_palette():
    """A dark palette like the system's dark scheme gives (the offscreen platform has none)."""
    from PySide6.QtGui import QColor, QPalette

    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colors = {
        role.Window: "#2b2b2b",
        role.WindowText: "#e6e6e6",
        role.Base: "#1f1f1f",
        role.AlternateBase: "#262626",
        role.ToolTipBase: "#3a3a3a",
        role.ToolTipText: "#e6e6e6",
        role.Text: "#e6e6e6",
        role.Button: "#353535",
        role.ButtonText: "#e6e6e6",
        role.BrightText: "#ff6b6b",
        role.Highlight: "#3d7bd9",
        role.HighlightedText: "#ffffff",
        role.Link: "#74a7ff",
        role.PlaceholderText: "#8a8a8a",
        role.Mid: "#444444",
        role.Dark: "#1a1a1a",
        role.Light: "#505050",
        role.Midlight: "#404040",
        role.Shadow: "#000000",
    }
    for r, c in colors.items():
        p.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, QColor("#7a7a7a"))
    return p


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="hpo-screens-"))
    os.environ["HPO_DESKTOP_DATA_DIR"] = str(scratch / "data")

    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(scratch / "settings"))

    from hpo_desktop.app import example_path
    from hpo_desktop.core.events import StepReported
    from hpo_desktop.core.spec import load_spec
    from hpo_desktop.gui import settings
    from hpo_desktop.gui.app import application
    from hpo_desktop.gui.main_window import MainWindow
    from hpo_desktop.gui.theme import apply_chart_theme

    app = application()
    app.setFont(app.font())  # the platform default, for stable metrics
    import torch  # noqa: F401 - loaded before the window, as the app's warm-up does

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def shoot(window: MainWindow, name: str) -> None:
        wait(300)  # let coalesced redraws and layouts settle
        window.navigator.poll()
        window.live.flush()
        app.processEvents()
        path = out / f"{name}.png"
        window.grab().save(str(path))
        print(f"wrote {path}")

    # Recent files for the welcome page (they must exist to be listed).
    studies = scratch / "studies"
    studies.mkdir()
    for name in ("moons-grid.db", "house-prices.toml", "digits.db"):
        (studies / name).write_bytes(b"")
        settings.add_recent_file(studies / name)

    window = MainWindow()
    window.resize(*SIZE)
    window.show()
    wait(500)

    window.show_welcome()
    shoot(window, "welcome")

    window.open_demo()
    spec = load_spec(example_path())
    window.setup.set_spec(replace(spec, trials=TRIALS, model={**spec.model, "epochs": EPOCHS}))
    window.setup.undo_stack.clear()
    wait(1500)  # the trainer probe fills the metric and device fields
    shoot(window, "setup")

    loop = QEventLoop()
    window.runner.running_changed.connect(lambda running: None if running else loop.quit())
    if not window.start_study():
        print("could not start the study:", window.state_label.text(), file=sys.stderr)
        return 1
    worker = window.runner._worker
    assert worker is not None

    shots_taken = threading.Event()

    def hold_for_the_shot(event: object) -> None:
        # Runs in the worker thread as the event is emitted: hold the worker right there until
        # the GUI has caught up and shown exactly this moment.
        if isinstance(event, StepReported) and (event.number, event.step) == SHOOT_AT:
            QTimer.singleShot(0, app, take_running_shots)
            shots_taken.wait(60)

    def take_running_shots() -> None:
        shoot(window, "running")
        dark = dark_palette()
        light = app.palette()
        app.setPalette(dark)
        apply_chart_theme(dark)
        shoot(window, "running-dark")
        app.setPalette(light)
        apply_chart_theme(light)
        shots_taken.set()

    worker.event.connect(hold_for_the_shot, Qt.ConnectionType.DirectConnection)
    loop.exec()
    window.tabs.setCurrentWidget(window.live)
    window.live.select_trial(window.navigator.summaries[0].best_number)
    shoot(window, "finished")
    window.close()
    return 0


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    raise SystemExit(main(target))
