"""The live trials table with 10,000 trials: load, append, re-sort and filter, in milliseconds.

Compares the table as built (``TrialsTableModel`` keeps its rows sorted with one Python key per
row; ``TrialsFilterProxy`` only filters) against the textbook set-up over the same model: a
plain ``QSortFilterProxyModel`` sorting by ``SortRole`` and filtering with a fixed string in
every column (which calls ``data()`` twice per comparison and once per cell). Offscreen, shown
at 900x400, each step followed by a repaint.

    python bench/gui_table.py              # 10,000 trials
    python bench/gui_table.py --n 2000     # a quick look
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSortFilterProxyModel, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QTableView  # noqa: E402

from hpo_desktop.core.chartdata import LiveTrial, LiveTrials  # noqa: E402
from hpo_desktop.core.events import TrialFinished, TrialStarted  # noqa: E402
from hpo_desktop.core.trial import TrialState  # noqa: E402
from hpo_desktop.gui.live.trials_table import TrialsTable, TrialsTableModel  # noqa: E402


def book_of(n: int) -> LiveTrials:
    book = LiveTrials(name="bench", metric="val_loss", direction="minimize")
    book.load(
        LiveTrial(
            number=i,
            state=TrialState.FAILED if i % 97 == 0 else TrialState.COMPLETE,
            params={"lr": 10.0 ** -(1 + i % 4), "units": 2 ** (4 + i % 5), "opt": ("adam", "sgd")[i % 2]},
            value=None if i % 97 == 0 else ((i * 7919) % 10_007) / 1000.0,
            metrics={"best_epoch": float(i % 20), "n_params": float(1000 + i)},
            seconds=1.0 + i % 10,
        )
        for i in range(n)
    )
    book.take_changes()
    return book


def timed(app: QApplication, fn) -> float:
    t0 = time.perf_counter()
    fn()
    app.processEvents()
    return (time.perf_counter() - t0) * 1000


def append(book: LiveTrials, model: TrialsTableModel, n: int) -> None:
    book.apply(TrialStarted("bench", n, {"lr": 0.5, "units": 8, "opt": "adam"}, 1))
    book.apply(TrialFinished("bench", n, TrialState.COMPLETE, {"lr": 0.5}, 0.25, {}, 3.0))
    model.sync(book.take_changes())


def ours(app: QApplication, n: int) -> dict[str, float]:
    table = TrialsTable()
    table.resize(900, 400)
    table.show()
    app.processEvents()
    book = book_of(n)
    value = 2
    out = {"load (sorted by #)": timed(app, lambda: table.model.set_book(book))}
    out["append a finished trial"] = timed(app, lambda: append(book, table.model, n))
    out["sort by value"] = timed(app, lambda: table.view.sortByColumn(value, Qt.SortOrder.AscendingOrder))
    out["filter 'sgd'"] = timed(app, lambda: table.set_text_filter("sgd"))
    table.close()
    return out


def textbook(app: QApplication, n: int) -> dict[str, float]:
    model = TrialsTableModel()
    proxy = QSortFilterProxyModel()
    proxy.setSourceModel(model)
    proxy.setSortRole(TrialsTableModel.SortRole)
    proxy.setFilterKeyColumn(-1)
    proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    proxy.setDynamicSortFilter(True)
    view = QTableView()
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    view.resize(900, 400)
    view.show()
    app.processEvents()
    book = book_of(n)
    out = {"load (sorted by #)": timed(app, lambda: model.set_book(book))}
    out["append a finished trial"] = timed(app, lambda: append(book, model, n))
    out["sort by value"] = timed(app, lambda: view.sortByColumn(2, Qt.SortOrder.AscendingOrder))
    out["filter 'sgd'"] = timed(app, lambda: proxy.setFilterFixedString("sgd"))
    view.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of trials (default 10,000)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    try:  # PySide6 6.12.0 on CPython 3.11 loses references to None; see tests/gui/shot_live.py
        from tests.gui.shot_live import guard_singleton_refcounts

        guard_singleton_refcounts()
    except ImportError:
        pass
    a, b = ours(app, args.n), textbook(app, args.n)
    print(f"{args.n:,} trials, ms (lower is better)")
    print(f"{'step':<26}{'as built':>10}{'textbook':>10}{'ratio':>8}")
    for step in a:
        print(f"{step:<26}{a[step]:>10.1f}{b[step]:>10.1f}{b[step] / max(a[step], 1e-3):>7.1f}x")


if __name__ == "__main__":
    main()
