"""``run_gui(argv)``: the QApplication, its look, and the main window on what the command line asked."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication

from .. import __version__
from .settings import APPLICATION, ORGANIZATION

DISPLAY_NAME = "HPO Desktop"
#: Milliseconds after which the window quits by itself (packaging smoke tests set it).
SMOKE_QUIT_ENV = "HPO_DESKTOP_QUIT_AFTER_MS"
DESKTOP_FILE = (
    "org.hpodesktop.HPODesktop"  # packaging/linux/<this>.desktop: docks and task bars match the window
)


def configure_application(app: QApplication) -> None:
    """Names (QSettings uses them), icon, desktop file and chart colours."""
    from .theme import ThemeFollower, app_icon

    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(__version__)
    app.setApplicationDisplayName(DISPLAY_NAME)
    app.setDesktopFileName(DESKTOP_FILE)
    app.setWindowIcon(app_icon())
    if app.property("_hpo_theme") is None:
        ThemeFollower(app)
        app.setProperty("_hpo_theme", True)


def application(argv: list[str] | None = None) -> QApplication:
    """The running QApplication, made and configured if there is none yet."""
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0], *(argv or [])])
    assert isinstance(app, QApplication)
    configure_application(app)
    return app


def open_arguments(window, args: list[str]) -> None:
    """Open what the command line named: ``--demo``, one file, or the last file / welcome page.

    A missing or unreadable file gives a dialog and the welcome page, never a traceback.
    """
    paths = [Path(a) for a in args if a != "--demo"]
    if "--demo" in args:
        window.open_demo()
    elif paths:
        window.open_path(paths[0])
        for extra in paths[1:]:
            window.log.warning(f"Only one file opens at a time; {extra} was not opened.")
    else:
        window.open_last_or_welcome()


def _warm_up() -> None:
    """Import the heavy libraries (torch, scikit-optimize) ahead of need, off the GUI thread,
    so the first Start or the first Bayesian spec does not stall the window for seconds."""
    for name in ("torch", "skopt"):
        try:
            __import__(name)
        except Exception:  # missing or broken: the code that needs it reports it in context
            pass


def run_gui(args: list[str]) -> int:
    """Show the main window on what ``args`` name and run the event loop until it closes."""
    app = application()
    from .main_window import MainWindow

    window = MainWindow()
    window.show()

    def start() -> None:
        open_arguments(window, args)
        threading.Thread(target=_warm_up, name="hpo-warm-up", daemon=True).start()

    # After the window is on screen, so that an error dialog has a parent to sit on.
    QTimer.singleShot(0, start)
    quit_after = os.environ.get(SMOKE_QUIT_ENV, "")
    if quit_after.isdigit():  # smoke tests of installed/frozen builds: show, then quit cleanly
        QTimer.singleShot(int(quit_after), app.quit)
    app.aboutToQuit.connect(window.shutdown)
    return app.exec()
