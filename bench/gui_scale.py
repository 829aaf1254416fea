"""Open and draw big studies: 10,000 trials × 50 epochs against a 1,000-trial baseline.

    python bench/gui_scale.py [--quick]

Generates the study files first (bulk SQL into the documented schema, docs/schema.md; that part
is not timed), then in one run measures for each size:

* open: StudyStore + LivePage.set_study + the first redraw (table, curves, history);
* analysis: AnalysisPage.set_study until its first view is drawn (usable) and until the insights
  are computed too, then each view's compute + draw (heavy ones off the GUI thread); "All
  curves" then reads the other trials' curves in the background (timed apart, not in its draw);
* switch: showing a view that is already computed (the user flipping tabs);
* brush: a brush on the parallel view's metric axis (its redraw), then each other view shown
  with it, until its final picture: the show, the pool's work, the paint, and any further full
  paint of the chart in the next second (pyqtgraph settling, a pixmap drawn again) counts up to
  the end of the last one ("All curves" chooses its curves from memory, or reads them on the
  pool if the background read has not finished).

After each first draw the event loop runs for a second, untimed (a user looking at the view:
the views keep a pixmap of a chart once it is still and prepare the faded copies of its points
for a brush, see hpo_desktop/gui/analysis/base.py).
Prints per-view details on stderr, then a table and the ratio of the big study to the baseline. The issue's goals: the file opens
and the views are usable in under 2 s; switching or redrawing a view takes under 100 ms.
Runs offscreen.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SPACE = {
    "learning_rate": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
    "hidden_units": {"type": "int", "low": 16, "high": 256, "log": True},
    "hidden_layers": {"type": "int", "low": 1, "high": 3},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5},
    "activation": {"type": "categorical", "choices": ["relu", "tanh", "gelu"]},
    "batch_size": {"type": "categorical", "choices": [32, 64, 128]},
}


def generate(path: Path, n_trials: int, epochs: int, seed: int = 0) -> None:
    """A finished study of ``n_trials`` with curves, written through the store's schema."""
    import numpy as np

    from hpo_desktop.core.space import SearchSpace
    from hpo_desktop.core.storage import StudyStore

    rng = np.random.default_rng(seed)
    space = SearchSpace.from_dict(SPACE)
    with StudyStore(path) as store:
        rec = store.create_study(
            "scale",
            metric="val_accuracy",
            direction="maximize",
            space=SPACE,
            strategy={"kind": "random"},
            seed=seed,
            budget=n_trials,
            spec={"data": {"dataset": "digits"}, "model": {"epochs": epochs}, "description": ""},
        )
    con = sqlite3.connect(path)
    trials, metrics, values = [], [], []
    for n in range(n_trials):
        p = space.sample(rng)
        quality = 0.97 - 0.5 * abs(math.log10(p["learning_rate"]) + 2.5) / 2.5 - 0.1 * p["dropout"]
        final = float(np.clip(quality + rng.normal(0, 0.02), 0.05, 0.99))
        tid = n + 1
        trials.append(
            (tid, rec.study_id, n, "complete", json.dumps(p), final, 0, n, epochs, 1.5 + rng.random())
        )
        for e in range(1, epochs + 1):
            frac = 1 - math.exp(-e / (epochs / 5))
            acc = 0.1 + (final - 0.1) * frac
            loss = 2.3 * (1 - frac) + 0.1
            metrics += [
                (tid, "val_accuracy", e, acc),
                (tid, "val_loss", e, loss),
                (tid, "train_loss", e, loss * 0.8),
            ]
        values += [(tid, "val_accuracy", final), (tid, "n_params", float(rng.integers(1000, 100000)))]
    with con:
        con.executemany(
            "INSERT INTO trials (id, study_id, number, state, params, value, value_is_nan, seed, last_step, "
            "seconds, attrs, change_seq) VALUES (?,?,?,?,?,?,?,?,?,?,'{}',0)",
            trials,
        )
        con.executemany("INSERT INTO trial_metrics (trial_id, name, step, value) VALUES (?,?,?,?)", metrics)
        con.executemany("INSERT INTO trial_values (trial_id, name, value) VALUES (?,?,?)", values)
    con.close()


def look(app, seconds: float = 1.0) -> None:
    """Let the event loop run (not timed), as while a user looks at a view after it is drawn:
    the views keep a pixmap of a chart once it has been still for a moment (base.PaintCache)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.01)


def until_drawn(app, page, view, draws: int) -> None:
    """Run the event loop until ``view`` has drawn a new result and nothing it waits for is in
    flight (a background prefetch may still run), then paint."""
    t0 = time.perf_counter()
    while (page.computing() or view.draw_count <= draws) and time.perf_counter() - t0 < 120:
        app.processEvents()
        time.sleep(0.001)
    app.processEvents()


def full_paints(view) -> int:
    """Full paints of the view's charts so far (not the blits of a kept pixmap)."""
    return sum(c.renders for c in view.paint_caches)


def last_paint(app, view, t0: float, renders: int, seconds: float = 1.0) -> tuple[float, int]:
    """Keep the event loop running for ``seconds`` (a user looking at the view) and return the
    seconds from ``t0`` (a time.monotonic()) to the end of the view's last full chart paint
    since then (0: none), and how many full paints there were since ``renders``."""
    caches = view.paint_caches
    latest = -1.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        latest = max([latest, *(c.rendered_at for c in caches)])
        time.sleep(0.002)
    count = full_paints(view) - renders
    return (max(latest - t0, 0.0) if latest >= t0 else 0.0), count


def measure(path: Path) -> dict[str, float]:
    from PySide6.QtWidgets import QApplication

    from hpo_desktop.core.storage import StudyStore
    from hpo_desktop.gui.analysis.analysis_page import AnalysisPage
    from hpo_desktop.gui.live.live_page import LivePage

    app = QApplication.instance() or QApplication([])
    out: dict[str, float] = {}
    detail: list[str] = []
    t0 = time.perf_counter()
    store = StudyStore(path, readonly=True)
    study_id = store.list_studies()[0].study_id
    live = LivePage()
    live.resize(1280, 800)
    live.show()
    live.set_study(store, study_id)
    live.flush()
    app.processEvents()
    out["open + Run page drawn"] = time.perf_counter() - t0

    page = AnalysisPage()
    page.resize(1280, 800)
    page.show()
    t0 = time.perf_counter()
    page.set_study(store, study_id)
    while page.current_view().draw_count == 0 and time.perf_counter() - t0 < 120:
        app.processEvents()  # the snapshot is read on the pool; the first view draws on arrival
        time.sleep(0.001)
    out["Analysis page: first view drawn"] = time.perf_counter() - t0
    page.wait_idle(120_000)
    app.processEvents()
    out["Analysis page ready (+ insights)"] = time.perf_counter() - t0
    look(app)
    for view in page.views:
        t0 = time.perf_counter()
        draws = view.draw_count
        page.show_view(view)
        if view.draw_count == draws and page.computing():  # a heavy view, computing
            until_drawn(app, page, view, draws)
        app.processEvents()
        out[f"first {view.slug}"] = time.perf_counter() - t0
        page.wait_idle(120_000, prefetch=True)  # "All curves" reads the other curves (not drawn)
        if view is page.curves:
            out["… all curves read into memory (background)"] = time.perf_counter() - t0
        look(app)
    switches = []
    for _ in range(2):
        for view in page.views:
            t0 = time.perf_counter()
            page.show_view(view)
            page.wait_idle(120_000)
            app.processEvents()
            switches.append(time.perf_counter() - t0)
            detail.append(f"switch: {view.slug} {switches[-1] * 1000:.0f} ms")
    out["switch view (median)"] = statistics.median(switches)
    out["switch view (max)"] = max(switches)

    parallel = page.parallel
    page.show_view(parallel)
    page.wait_idle(120_000)
    app.processEvents()
    t0 = time.perf_counter()
    parallel.set_brush(len(parallel._data.axes) - 1, 0.5, 1.0)  # the better half of the metric
    app.processEvents()
    out["brush the parallel view"] = time.perf_counter() - t0
    look(app)
    redraws = []
    for view in page.views:
        if view is parallel:
            continue
        t0 = time.monotonic()
        computed, renders = page.compute_counts.get(view.slug, 0), full_paints(view)
        page.show_view(view)
        page.wait_idle(120_000)
        app.processEvents()
        shown = time.monotonic() - t0
        painted, paints = last_paint(app, view, t0, renders)
        redraws.append(max(shown, painted))
        again = page.compute_counts.get(view.slug, 0) - computed
        detail.append(
            f"redrawn for the brush: {view.slug} {redraws[-1] * 1000:.0f} ms "
            f"({paints} full paint(s), {again} computation(s) on the pool)"
        )
        out[f"… {view.slug}"] = redraws[-1]
    out["view redrawn for the brush (median)"] = statistics.median(redraws)
    out["view redrawn for the brush (max)"] = max(redraws)
    page.close()
    live.close()
    store.close()
    print(f"{path.name}: " + "; ".join(detail), file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 vs 200 trials × 20 epochs")
    args = ap.parse_args(argv)
    big, small, epochs = (1000, 200, 20) if args.quick else (10_000, 1000, 50)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for n in (small, big):
            paths[n] = Path(tmp) / f"s{n}.db"
            t0 = time.perf_counter()
            generate(paths[n], n, epochs)
            print(
                f"generated {n:,} trials × {epochs} epochs in {time.perf_counter() - t0:.1f} s",
                file=sys.stderr,
            )
        base = measure(paths[small])
        result = measure(paths[big])
    print(f"\n{'step':<46}{f'{small:,} trials':>14}{f'{big:,} trials':>14}{'ratio':>8}")
    for key in result:
        print(
            f"{key:<46}{base[key] * 1000:>12.0f}ms{result[key] * 1000:>12.0f}ms{result[key] / base[key]:>7.1f}x"
        )
    print("\ngoals: open and usable < 2 s; switching or redrawing a view < 100 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
