"""Write throughput of the study store: trials/s, reports/s and ms per trial.

One "trial" here is what the study loop does for a real trial: ``create_trial``, N calls to
``report`` with M metrics each, then ``finish_trial`` with final metrics - every call its own
committed transaction. Runs the same workload with ``synchronous=NORMAL`` (what the store uses,
WAL mode) and ``synchronous=FULL`` (an fsync per commit) side by side and prints the ratio.
"ms/trial" is the mean, which includes SQLite's periodic WAL checkpoints (each one fsyncs, also
under NORMAL); "ms/trial p50" is the median trial, i.e. the store's own overhead without them.

    python bench/storage_write.py            # 300 trials x 10 reports x 3 metrics
    python bench/storage_write.py --quick    # 30 trials, for CI / a smoke check
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from hpo_desktop.core.storage import StudyStore  # noqa: E402
from hpo_desktop.core.trial import TrialState  # noqa: E402


def run(path: str, *, trials: int, reports: int, metrics: int, synchronous: str) -> dict[str, float]:
    store = StudyStore(path)
    store._conn().execute(f"PRAGMA synchronous = {synchronous}")  # bench-only override
    study = store.create_study(
        f"bench-{synchronous}",
        metric="val_loss",
        direction="minimize",
        space={"lr": {"kind": "float", "low": 1e-5, "high": 1e-1, "log": True}},
        strategy={"kind": "random"},
    )
    names = [f"m{i}" for i in range(metrics)]
    t_create = t_report = t_finish = 0.0
    per_trial: list[float] = []
    t0 = time.perf_counter()
    for i in range(trials):
        a = time.perf_counter()
        trial = store.create_trial(study.study_id, {"lr": 1e-3 * (i + 1), "layers": i % 4, "act": "relu"})
        b = time.perf_counter()
        for step in range(reports):
            store.report(trial.trial_id, step, {n: 1.0 / (step + 1 + k) for k, n in enumerate(names)})
        c = time.perf_counter()
        store.finish_trial(
            trial.trial_id, TrialState.COMPLETE, value=0.5 / (i + 1), metrics={n: 0.1 for n in names}
        )
        d = time.perf_counter()
        t_create += b - a
        t_report += c - b
        t_finish += d - c
        per_trial.append(d - a)
    total = time.perf_counter() - t0
    store.close()
    return {
        "trials/s": trials / total,
        "reports/s": trials * reports / t_report if reports else math.nan,
        "ms/trial": 1000 * total / trials,
        "ms/trial p50": 1000 * statistics.median(per_trial),
        "ms create": 1000 * t_create / trials,
        "ms/report": 1000 * t_report / max(1, trials * reports),
        "ms finish": 1000 * t_finish / trials,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small run (30 trials)")
    ap.add_argument("--trials", type=int, default=None)
    ap.add_argument("--reports", type=int, default=10, help="reports per trial (default 10)")
    ap.add_argument("--metrics", type=int, default=3, help="metrics per report (default 3)")
    ap.add_argument("--dir", default=None, help="folder for the temporary study files (default: system temp)")
    args = ap.parse_args(argv)
    trials = args.trials or (30 if args.quick else 300)
    results = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for sync in ("NORMAL", "FULL"):
            results[sync] = run(
                os.path.join(tmp, f"bench-{sync}.db"),
                trials=trials,
                reports=args.reports,
                metrics=args.metrics,
                synchronous=sync,
            )
    print(f"{trials} trials x {args.reports} reports x {args.metrics} metrics (each call one commit)")
    print(f"{'':12s} {'NORMAL (used)':>14s} {'FULL':>14s} {'FULL/NORMAL':>12s}")
    for key in results["NORMAL"]:
        n, f = results["NORMAL"][key], results["FULL"][key]
        ratio = f / n if n else math.nan
        print(f"{key:12s} {n:14.3f} {f:14.3f} {ratio:12.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
