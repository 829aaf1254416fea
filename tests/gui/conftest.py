"""GUI test set-up: settings and user data in tmp_path, no blocking dialogs, no leaked threads.

* QSettings (INI format) and the program's data folder (``$HPO_DESKTOP_DATA_DIR``) point into
  the test's tmp_path, so no test reads or writes the user's real settings or demo study.
* ``QMessageBox`` static dialogs never block: they are recorded in ``dialogs`` and answer
  Yes (or Discard/Ok). A test that needs another answer patches the method itself.
* Any test that leaves a QThread running fails (as napari's ``dangling_qthreads`` does).
"""

from __future__ import annotations

import os
import sys
import traceback
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    from PySide6.QtCore import QSettings

    folder = tmp_path / "settings"
    folder.mkdir()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    monkeypatch.setenv("HPO_DESKTOP_DATA_DIR", str(tmp_path / "data"))
    yield folder


@dataclass
class DialogLog:
    """Every message box a test raised: (kind, title, text)."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [c[0] for c in self.calls]

    def texts(self) -> str:
        return "\n".join(f"{k}: {t}: {x}" for k, t, x in self.calls)


@pytest.fixture(autouse=True)
def dialogs(monkeypatch) -> DialogLog:
    from PySide6.QtWidgets import QMessageBox

    log = DialogLog()
    SB = QMessageBox.StandardButton

    def answer(kind: str, default):
        def box(parent, title, text, buttons=None, default_button=None, *args, **kwargs):
            log.calls.append((kind, str(title), str(text)))
            if kind != "question":
                return default
            offered = buttons if buttons is not None else (SB.Yes | SB.No)
            for choice in (SB.Yes, SB.Discard, SB.Ok):
                if offered & choice:
                    return choice
            return default

        return box

    monkeypatch.setattr(QMessageBox, "question", staticmethod(answer("question", SB.Yes)))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(answer("warning", SB.Ok)))
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(answer("critical", SB.Ok)))
    monkeypatch.setattr(QMessageBox, "information", staticmethod(answer("information", SB.Ok)))
    monkeypatch.setattr(
        QMessageBox, "about", staticmethod(lambda *a, **k: log.calls.append(("about", "", "")))
    )
    return log


def _calling_place() -> str:
    frames = traceback.extract_stack(sys._getframe(2), limit=6)
    return "".join(traceback.format_list(frames))


@pytest.fixture(autouse=True)
def _no_dangling_qthreads(monkeypatch, qapp):
    """Fail a test that leaves a QThread running (it would abort the process at exit)."""
    from PySide6.QtCore import QThread

    started: WeakKeyDictionary = WeakKeyDictionary()
    base_start = QThread.start

    def start(self, *args, **kwargs):
        started[self] = _calling_place()
        return base_start(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", start)
    yield
    dangling = []
    for thread, where in list(started.items()):
        try:
            running = thread.isRunning()
        except RuntimeError:  # the C++ object is gone: it cannot be running
            continue
        if running:
            dangling.append(where)
            thread.quit()
            thread.wait(10_000)
    if dangling:
        pytest.fail("a test left QThread(s) running; started at:\n" + "\n".join(dangling))


# -- the main window ------------------------------------------------------------------------

TINY_SPEC = """
[study]
name = "tiny"
metric = "val_accuracy"
direction = "maximize"
trials = {trials}
seed = 1

[strategy]
kind = "random"

[data]
dataset = "moons"
n_samples = 200

[model]
kind = "mlp"
epochs = {epochs}
batch_size = 32

[space]
learning_rate = {{ type = "float", low = 1e-3, high = 1e-1, log = true }}
hidden_units  = {{ type = "int", low = 4, high = 16 }}
"""


@pytest.fixture
def write_tiny_spec(tmp_path):
    """``write_tiny_spec(trials=2, epochs=2, name="tiny")`` -> the path of a small, quick spec."""

    def write(trials: int = 2, epochs: int = 2, name: str = "tiny"):
        path = tmp_path / f"{name}.toml"
        text = TINY_SPEC.format(trials=trials, epochs=epochs).replace('name = "tiny"', f'name = "{name}"')
        path.write_text(text)
        return path

    return write


@pytest.fixture
def main_window(qtbot):
    """A MainWindow, shown; closed (and its run stopped) when the test ends."""
    from PySide6.QtWidgets import QApplication

    from hpo_desktop.gui.app import configure_application
    from hpo_desktop.gui.main_window import MainWindow

    configure_application(QApplication.instance())
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()
    window.shutdown()
