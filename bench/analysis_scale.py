"""Time of the analysis data functions on generated studies of 1,000 and 10,000 trials.

The study: a 6-parameter mixed space (log float, float, log int, int, a categorical and a float
that is active only for one choice of it), every trial COMPLETE with a synthetic metric that
depends strongly on the learning rate, a little on the rest, plus noise. For each size the
table shows the median wall time (ms) of a few calls of :func:`importance`, :func:`contour_data`
(GP and RF), :func:`parallel_data`, :func:`slice_data` (one parameter, and all six),
:func:`tradeoff_data` and :func:`insights`, and the ratio to the issue's targets (importance
under 1 s at 1,000 trials; redrawing a view under 100 ms), after a warm-up call (the first
call imports scikit-learn and scikit-optimize: its time is printed separately).

    python bench/analysis_scale.py            # 1,000 and 10,000 trials, 3 repeats
    python bench/analysis_scale.py --quick    # 1,000 trials, 1 repeat

The machines are shared and noisy: read the numbers as orders of magnitude.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from hpo_desktop.core.analysis import (  # noqa: E402
    contour_data,
    importance,
    parallel_data,
    slice_data,
    tradeoff_data,
)
from hpo_desktop.core.insights import insights  # noqa: E402
from hpo_desktop.core.space import Categorical, Float, Int, SearchSpace  # noqa: E402
from hpo_desktop.core.trial import FrozenTrial, TrialState  # noqa: E402


def make_space() -> SearchSpace:
    return SearchSpace(
        {
            "lr": Float(1e-5, 1e-1, log=True),
            "dropout": Float(0.0, 0.5),
            "batch_size": Int(16, 512, log=True),
            "layers": Int(1, 6),
            "optimizer": Categorical(("adam", "sgd", "rmsprop")),
            "momentum": Float(0.0, 0.99, when={"optimizer": "sgd"}),
        }
    )


def make_trials(space: SearchSpace, n: int, seed: int = 0) -> list[FrozenTrial]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        p = space.sample(rng)
        lr = math.log10(p["lr"])
        v = (lr + 2.5) ** 2 + 0.3 * (p["dropout"] - 0.2) ** 2 + 0.05 * abs(p["layers"] - 3)
        v += {"adam": 0.0, "sgd": 0.2 * (1 - p.get("momentum", 0.0)), "rmsprop": 0.1}[p["optimizer"]]
        v += 0.02 * rng.normal()
        out.append(
            FrozenTrial(
                study_id=1,
                trial_id=i + 1,
                number=i,
                state=TrialState.COMPLETE,
                params=p,
                value=float(v),
                metrics={"val_loss": float(v), "train_seconds": float(10 + p["layers"] * rng.uniform(1, 5))},
                seconds=float(rng.uniform(5, 60)),
            )
        )
    return out


def timed(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1,000 trials, 1 repeat")
    ap.add_argument("--sizes", type=int, nargs="*", default=None)
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args()
    sizes = args.sizes or ([1000] if args.quick else [1000, 10000])
    repeats = args.repeats or (1 if args.quick else 3)
    space = make_space()
    names = space.searchable()
    cases: list[tuple[str, Callable[[list[FrozenTrial]], Any], float | None]] = [
        ("importance (fANOVA, RF)", lambda ts: importance(space, ts, "minimize"), 1000.0),
        ("contour GP 40x40", lambda ts: contour_data(space, ts, "lr", "dropout", "minimize"), None),
        (
            "contour RF 40x40",
            lambda ts: contour_data(space, ts, "lr", "dropout", "minimize", estimator="RF"),
            None,
        ),
        ("parallel (all)", lambda ts: parallel_data(space, ts, "val_loss", "minimize"), 100.0),
        ("parallel (top 10 %)", lambda ts: parallel_data(space, ts, "val_loss", "minimize", 0.1), 100.0),
        ("slice (one param)", lambda ts: slice_data(space, ts, "lr"), 100.0),
        ("slice (all 6)", lambda ts: [slice_data(space, ts, n) for n in names], None),
        (
            "tradeoff + Pareto",
            lambda ts: tradeoff_data(ts, "val_loss", "train_seconds", ("minimize", "minimize")),
            100.0,
        ),
        ("insights (incl. importance)", lambda ts: insights(space, ts, "minimize", "val_loss"), None),
    ]
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}")
    print(f"median of {repeats} call(s), milliseconds; target = the issue's limit where it sets one\n")
    studies = {n: make_trials(space, n) for n in sizes}
    warm = make_trials(space, 50, seed=1)
    t0 = time.perf_counter()
    importance(space, warm, "minimize")  # the first call imports scikit-learn and scikit-optimize
    contour_data(space, warm, "lr", "dropout", "minimize")
    print(f"first calls (import sklearn/skopt, 50 trials): {1000 * (time.perf_counter() - t0):.0f} ms\n")
    head = f"{'function':<30}" + "".join(f"{f'{n:,} trials':>16}" for n in sizes) + f"{'target':>10}"
    print(head)
    print("-" * len(head))
    for label, fn, target in cases:
        row = f"{label:<30}"
        for n in sizes:
            ms = timed(lambda fn=fn, n=n: fn(studies[n]), repeats)
            row += f"{ms:>16.1f}"
        row += f"{(f'{target:.0f}' if target else '-'):>10}"
        print(row, flush=True)
    if 1000 in studies:
        ms = timed(lambda: importance(space, studies[1000], "minimize"), repeats)
        print(f"\nimportance at 1,000 trials: {ms:.0f} ms = {ms / 1000.0:.2f} x the 1 s target")


if __name__ == "__main__":
    main()
