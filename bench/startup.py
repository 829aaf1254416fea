"""Start-up time: `hpo-desktop --help` and the main window, against a bare Python in the same run.

    python bench/startup.py [--quick] [--exe PATH]

* ``--help``: wall time of ``python -m hpo_desktop --help`` (heavy imports - Qt, torch, skopt,
  sklearn - are deferred, so this is little more than the interpreter's own start-up);
* window: from process start until the main window has been shown and painted once (offscreen),
  the welcome page or the built-in example (``--demo``), measured inside the process with the
  process's own start time, then quit;
* baseline: ``python -c pass`` (the interpreter alone).

Goals (issue "Packaging and desktop integration"): ``--help`` under 1 s, the main window under
3 s on this machine. ``--exe`` times a frozen build's executable instead of ``python -m``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

WINDOW = r"""
import os, sys, time
t0 = float(sys.argv[1])
from PySide6.QtCore import QTimer
from hpo_desktop.gui.app import application
from hpo_desktop.gui.main_window import MainWindow
app = application([])
w = MainWindow()
if sys.argv[2] == "demo":
    w.open_demo()
else:
    w.show_welcome()
w.show()
def done():
    app.processEvents()
    print(f"{time.time() - t0:.3f}")
    app.quit()
QTimer.singleShot(0, done)
app.exec()
"""


def _timed(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    return time.perf_counter() - t0


def _window(kind: str, env: dict[str, str]) -> float:
    out = subprocess.run(
        [sys.executable, "-c", WINDOW, repr(time.time()), kind],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    return float(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 repeats instead of 7")
    ap.add_argument("--exe", help="a frozen hpo-desktop executable to time instead of python -m hpo_desktop")
    args = ap.parse_args(argv)
    n = 3 if args.quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "HOME": tmp,
            "XDG_CONFIG_HOME": os.path.join(tmp, ".config"),
            "HPO_DESKTOP_DATA_DIR": os.path.join(tmp, "data"),
        }
        cmd = [args.exe] if args.exe else [sys.executable, "-m", "hpo_desktop"]
        _timed(cmd + ["--help"], env)  # warm the file cache
        base = [_timed([sys.executable, "-c", "pass"], env) for _ in range(n)]
        helps = [_timed(cmd + ["--help"], env) for _ in range(n)]
        versions = [_timed(cmd + ["--version"], env) for _ in range(n)]
        welcome = [_window("welcome", env) for _ in range(n)]
        demo = [_window("demo", env) for _ in range(n)]
    med = statistics.median
    print(f"# startup: median of {n}, {time.strftime('%Y-%m-%d')}, Python {sys.version.split()[0]}")
    print("| what | median s | max s | × bare python |")
    print("|---|---|---|---|")
    for name, xs in (
        ("python -c pass (baseline)", base),
        ("hpo-desktop --help", helps),
        ("hpo-desktop --version", versions),
        ("main window, welcome page", welcome),
        ("main window, digits example (--demo)", demo),
    ):
        print(f"| {name} | {med(xs):.2f} | {max(xs):.2f} | {med(xs) / med(base):.1f}× |")
    print()
    print(
        f"--help under 1 s: {'met' if med(helps) < 1 else 'NOT met'}; "
        f"window under 3 s: {'met' if max(med(welcome), med(demo)) < 3 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
