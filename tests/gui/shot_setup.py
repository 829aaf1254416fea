"""Screenshots of the setup page (run by hand, not collected by pytest).

    QT_QPA_PLATFORM=offscreen python tests/gui/shot_setup.py [OUT_DIR]

Writes setup.png (the digits example), setup_invalid.png (a broken space, grid search),
setup_csv.png (the houses CSV on the data tab), setup_new.png (an empty new study) and
setup_small.png (the moons grid at 1000×640) to OUT_DIR (/tmp).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from hpo_desktop.core.spec import load_spec
from hpo_desktop.gui.setup.setup_page import SetupPage
from hpo_desktop.gui.setup.trainer_info import trainer_info_source

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def settle(app: QApplication, page: SetupPage, wait_ms: int = 20000) -> None:
    """Let the page lay itself out and the trainer probe answer (torch import).

    An event loop with a polling timer, not a processEvents() loop: PySide6 6.12 on Python < 3.12
    loses a reference to None on every processEvents() call and aborts after a few thousand.
    """
    loop = QEventLoop()
    poll = QTimer()
    poll.timeout.connect(lambda: trainer_info_source().info() is not None and loop.quit())
    poll.start(50)
    QTimer.singleShot(wait_ms, loop.quit)
    loop.exec()
    poll.stop()
    QTimer.singleShot(100, loop.quit)  # one more turn for the layout after the answer
    loop.exec()


def shot(app: QApplication, page: SetupPage, path: Path) -> None:
    settle(app, page)
    page.grab().save(str(path))
    print(f"wrote {path}")


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp")
    app = QApplication.instance() or QApplication(sys.argv)

    page = SetupPage()
    page.resize(1280, 800)
    page.set_spec(load_spec(EXAMPLES / "digits_mlp.toml"))
    page.show()
    shot(app, page, out / "setup.png")

    bad = SetupPage()
    bad.resize(1280, 800)
    bad.set_spec(load_spec(EXAMPLES / "digits_mlp.toml"))
    bad.show()
    model = bad.space_editor.model
    model.setData(model.index(0, 2), "0.5")  # learning_rate low > high
    model.setData(model.index(4, 7), "relu, tanh,, gelu")  # an empty choice
    model.setData(model.index(7, 8), "solver = sgd")  # a condition on a missing parent
    bad.space_editor.add_parameter("lr")
    bad.strategy_panel.combo.setCurrentIndex(bad.strategy_panel.combo.findData("grid"))
    shot(app, bad, out / "setup_invalid.png")

    csv_page = SetupPage()
    csv_page.resize(1280, 800)
    csv_page.set_spec(load_spec(EXAMPLES / "csv_regression.toml"))
    csv_page.tabs.setCurrentIndex(1)
    csv_page.show()
    shot(app, csv_page, out / "setup_csv.png")

    new = SetupPage()
    new.resize(1280, 800)
    new.show()
    shot(app, new, out / "setup_new.png")

    small = SetupPage()
    small.resize(1000, 640)
    small.set_spec(load_spec(EXAMPLES / "moons_grid.toml"))
    small.show()
    shot(app, small, out / "setup_small.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
