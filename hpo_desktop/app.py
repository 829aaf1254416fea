"""Entry point of ``hpo-desktop`` and ``python -m hpo_desktop``.

Subcommands (run, resume, show, export), ``--help`` and ``--version`` go to the headless
command line (:mod:`hpo_desktop.cli`), which never imports Qt. Everything else opens the
desktop window::

    hpo-desktop                  the last file, or the welcome page
    hpo-desktop FILE.db          a study file
    hpo-desktop SPEC.toml        a spec, as a new study that has not run yet
    hpo-desktop --demo           the built-in digits example, ready to start

PySide6 is imported only on that path (in :mod:`hpo_desktop.gui.app`).
"""

from __future__ import annotations

import importlib.resources
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import cli


def _resources() -> Path:
    """Icons and examples: the top-level resources/ folder, installed as the package data
    ``hpo_desktop.resources`` (setup.py maps it), so a wheel and a checkout find them alike."""
    if getattr(sys, "frozen", False):  # a PyInstaller build: the data lies beside the program
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent)) / "hpo_desktop" / "resources"
    return Path(str(importlib.resources.files("hpo_desktop.resources")))


RESOURCES = _resources()

#: Set this to keep the demo's and the templates' study files somewhere else (tests do).
DATA_DIR_ENV = "HPO_DESKTOP_DATA_DIR"


def example_path(name: str = "digits_mlp.toml") -> Path:
    """A spec shipped in resources/examples/."""
    return RESOURCES / "examples" / name


def data_dir() -> Path:
    """The user's data folder for study files the program names itself (demo, templates).

    ``$HPO_DESKTOP_DATA_DIR`` overrides the platform's folder (platformdirs).
    """
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        folder = Path(override)
    else:
        from platformdirs import user_data_dir

        folder = Path(user_data_dir("hpo-desktop", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def demo_db() -> Path:
    return data_dir() / "demo.db"


def _wants_cli(args: list[str]) -> bool:
    """Subcommands and the CLI's own options go to the command line; the rest opens the window."""
    for arg in args:
        if arg in cli.COMMANDS or arg in ("-h", "--help", "--version", "--debug"):
            return True
        if arg.startswith("-") and arg != "--demo":
            return True  # an unknown option: let argparse say so
    return False


def _print_help() -> int:
    cli.build_parser().print_help()
    return cli.EXIT_OK


def _no_display() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["-h"], ["--help"]):
        return _print_help()
    if _wants_cli(args):
        return cli.main(args)
    if _no_display():
        print(
            "error: no display found (DISPLAY / WAYLAND_DISPLAY are not set), so the window cannot open.\n"
            "Run a study in the terminal instead:  hpo-desktop run SPEC.toml   (see hpo-desktop --help)",
            file=sys.stderr,
        )
        return cli.EXIT_USAGE
    from .gui.app import run_gui

    return run_gui(args)
