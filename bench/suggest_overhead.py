"""Seconds per suggestion at 50/100/200/500 trials: ours against Optuna (TPE, GP) and scikit-optimize.

Every contender is first given the same N completed trials (a seeded random design on the
6-parameter mixed space of bench/optimizer_overhead.py: log floats, floats, a log int, a
categorical), then timed over a few consecutive ask + tell rounds (the objective is a formula,
so this is the optimizer's own cost):

- ours: ``bayesian`` with each surrogate (GP, RF, ET) and ``random``, via ``Strategy.ask/tell``;
- Optuna: ``TPESampler`` and ``GPSampler`` on an in-memory study (``study.ask`` + ``study.tell``),
  the history added with ``study.add_trials``;
- scikit-optimize's default ``Optimizer(base_estimator="GP")`` (what ``gp_minimize`` runs).

Each contender gets one untimed warm-up suggestion, then ``--reps`` timed ones. Our GP re-fits its
kernel hyper-parameters only when the trials have grown by ~10 % (docs/strategies.md) and reuses them
in between, so one of its suggestions in ~N/10 is much slower than the rest; the row
"bayes-GP, one re-fit interval" times every suggestion of one whole interval (the first one re-fits)
and its mean is the amortized cost. Optuna's GP sampler and skopt re-fit on every suggestion.
All on one BLAS/OpenMP/torch thread (set before numpy is imported). The goal: our GP's amortized
cost per suggestion <= the mean of Optuna's GP sampler at every size. A PNG (``--plot``, default
docs/benchmarks/suggest_overhead.png) shows the means (and our median, dashed).

    python bench/suggest_overhead.py --quick     # 50 and 100 trials, 3 suggestions each (< 1 minute)
    python bench/suggest_overhead.py             # 50/100/200/500 trials (~10 minutes on 2 cores)
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optimizer_overhead import history, time_skopt, timing_objective, timing_space  # noqa: E402
from problems import COLORS as PEER_COLORS  # noqa: E402
from problems import figure, optuna_distributions, save_figure, to_optuna  # noqa: E402

from hpo_desktop.core.space import SearchSpace  # noqa: E402
from hpo_desktop.core.strategies import make_strategy  # noqa: E402
from hpo_desktop.core.strategies.bayesian import schedule_point  # noqa: E402

warnings.filterwarnings("ignore")

AMORTIZED = "bayes-GP, one re-fit interval"
COLORS = {
    **PEER_COLORS,
    AMORTIZED: PEER_COLORS["bayes-GP"],
    "bayes-GP": (120, 170, 220),  # its median, drawn dashed beside the amortized line
    "skopt GP": PEER_COLORS["skopt-gp_minimize"],
}


def time_optuna(sampler_name: str, space: SearchSpace, n: int, reps: int) -> list[float]:
    """ms-level cost of ``study.ask`` (with the suggestions) + ``study.tell`` after n trials."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    sampler = (
        optuna.samplers.TPESampler(seed=0) if sampler_name == "TPE" else optuna.samplers.GPSampler(seed=0)
    )
    study = optuna.create_study(sampler=sampler, direction="minimize")
    dists = optuna_distributions(space)
    study.add_trials(
        [optuna.trial.create_trial(params=p, distributions=dists, value=v) for p, v in history(space, n)]
    )
    times = []
    for i in range(reps + 1):  # one untimed warm-up, as for ours
        t0 = time.perf_counter()
        trial = study.ask()
        p = to_optuna(space, trial)
        study.tell(trial, timing_objective(p))
        if i:
            times.append(time.perf_counter() - t0)
    return times


def time_strategy(kind: str, space: SearchSpace, n: int, reps: int, **options: Any) -> list[float]:
    """Our strategy told n trials, then ``reps`` timed ask + tell after one untimed warm-up."""
    strat = make_strategy(kind, space, seed=0, **options)
    for p, v in history(space, n):
        strat.tell(p, v)
    times = []
    for i in range(reps + 1):
        t0 = time.perf_counter()
        [p] = strat.ask()
        strat.tell(p, timing_objective(p))
        if i:
            times.append(time.perf_counter() - t0)
    return times


def time_refit_interval(space: SearchSpace, n: int) -> list[float]:
    """Every suggestion of one whole kernel re-fit interval of our GP, near n trials.

    The strategy is told m = schedule_point(n) trials (the last re-fit point at or below n, within
    10 % of it); its first ask re-optimizes the kernel (what a study does at m), and the following
    asks reuse it until the next re-fit point. The mean over the interval is the amortized cost.
    """
    m = schedule_point(n)
    nxt = m + 1
    while schedule_point(nxt) == m:
        nxt += 1
    strat = make_strategy("bayesian", space, seed=0)
    for p, v in history(space, m):
        strat.tell(p, v)
    times = []
    for _ in range(nxt - m):
        t0 = time.perf_counter()
        [p] = strat.ask()
        strat.tell(p, timing_objective(p))
        times.append(time.perf_counter() - t0)
    return times


def measure(sizes: list[int], reps: int, skopt_reps: dict[int, int], contenders: list[str]) -> dict:
    space = timing_space()
    out: dict[str, dict[int, list[float]]] = {c: {} for c in contenders}
    for n in sizes:
        for c in contenders:
            if c == AMORTIZED:
                t = time_refit_interval(space, n)
            elif c == "bayes-GP":
                t = time_strategy("bayesian", space, n, reps)
            elif c.startswith("bayes-"):
                t = time_strategy("bayesian", space, n, reps, estimator=c.split("-")[1])
            elif c == "random":
                t = time_strategy("random", space, n, reps)
            elif c.startswith("optuna-"):
                t = time_optuna(c.split("-")[1], space, n, reps)
            elif c == "skopt GP":
                k = skopt_reps.get(n, reps)
                if k <= 0:
                    continue
                t = time_skopt(space, n, k, one_thread=True)
            else:
                raise ValueError(c)
            out[c][n] = t
            print(
                f"  {c:<11} {n:>4} trials: median {1000 * statistics.median(t):9.1f} ms, "
                f"mean {1000 * statistics.fmean(t):9.1f} ms, max {1000 * max(t):9.1f} ms",
                file=sys.stderr,
                flush=True,
            )
    return out


def ms(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else (f"{x:.1f}" if x >= 1 else f"{x:.2f}")


def print_table(res: dict, sizes: list[int]) -> bool:
    print(
        "\n## Milliseconds per suggestion (ask + tell): median / mean / max over the suggestions timed (x count)\n"
    )
    print("| contender | " + " | ".join(f"{n} trials" for n in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for c, by_n in res.items():
        cells = []
        for n in sizes:
            t = by_n.get(n)
            if not t:
                cells.append("-")
                continue
            med, mean, top = (ms(1000 * x) for x in (statistics.median(t), statistics.fmean(t), max(t)))
            cells.append(f"{med} / {mean} / {top} (x{len(t)})")
        print(f"| {c} | " + " | ".join(cells) + " |")
    ours = res.get(AMORTIZED, {})
    met = True
    if ours:
        print(
            f"\n## Mean per suggestion against ours amortized ({AMORTIZED}): theirs / ours, > 1: ours is cheaper\n"
        )
        print("| contender | " + " | ".join(f"{n} trials" for n in sizes) + " |")
        print("|---|" + "---:|" * len(sizes))
        for c, by_n in res.items():
            if c == AMORTIZED:
                continue
            cells = []
            for n in sizes:
                t, o = by_n.get(n), ours.get(n)
                if not t or not o:
                    cells.append("-")
                    continue
                r = statistics.fmean(t) / statistics.fmean(o)
                cells.append(f"{r:.3g}x")
                if c == "optuna-GP" and r < 1:
                    met = False
            print(f"| {c} | " + " | ".join(cells) + " |")
        if "optuna-GP" in res:
            print(
                "\ngoal: our GP's amortized ms per suggestion <= optuna-GP's mean at every size: "
                f"{'met' if met else 'NOT met'}"
            )
            worst = [
                f"{n}: {ms(1000 * max(ours[n]))} vs {ms(1000 * max(res['optuna-GP'][n]))}"
                for n in sizes
                if n in ours and n in res["optuna-GP"]
            ]
            print("slowest single suggestion, ours (a kernel re-fit) vs optuna-GP, ms: " + "; ".join(worst))
    return met


def plot(res: dict, sizes: list[int], path: Path) -> None:
    import pyqtgraph as pg
    from PySide6.QtCore import Qt

    win = figure(900, 480)
    plt = win.addPlot(
        row=0, col=0, title="Mean ms per suggestion (ours: amortized over a kernel re-fit interval)"
    )
    plt.setLogMode(x=True, y=True)
    plt.showGrid(x=True, y=True, alpha=0.25)
    plt.setLabel("bottom", "completed trials")
    plt.setLabel("left", "ms per suggestion")
    plt.getAxis("bottom").setTicks([[(math.log10(n), str(n)) for n in sizes]])
    box = win.addViewBox(row=0, col=1)
    box.setMouseEnabled(False, False)
    win.ci.layout.setColumnFixedWidth(1, 230)
    legend = pg.LegendItem(offset=(10, 40), labelTextSize="9pt")
    legend.setParentItem(box)
    for c, by_n in res.items():
        ns = [n for n in sizes if by_n.get(n)]
        if not ns:
            continue
        xs = [float(n) for n in ns]
        stat = statistics.median if c == "bayes-GP" else statistics.fmean
        ys = [max(1000 * stat(by_n[n]), 1e-3) for n in ns]
        color = COLORS[c]
        label = "bayes-GP, median (no re-fit)" if c == "bayes-GP" else c
        style = Qt.PenStyle.DashLine if c == "bayes-GP" else Qt.PenStyle.SolidLine
        item = plt.plot(
            xs, ys, pen=pg.mkPen(color, width=2, style=style), symbol="o", symbolSize=6, symbolBrush=color
        )
        legend.addItem(item, label)
    save_figure(win, path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50 and 100 trials, 3 suggestions each")
    ap.add_argument("--sizes", default=None, help="comma list of trial counts (default 50,100,200,500)")
    ap.add_argument("--reps", type=int, default=None, help="consecutive suggestions timed (default 10)")
    ap.add_argument(
        "--skopt-reps-500", type=int, default=None, help="skopt suggestions at 500 trials (default 2)"
    )
    ap.add_argument(
        "--plot", type=Path, default=None, help="PNG (default docs/benchmarks/suggest_overhead.png)"
    )
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    import numpy
    import optuna
    import sklearn
    import skopt
    import torch

    torch.set_num_threads(1)
    print(
        f"# suggestion overhead - {time.strftime('%Y-%m-%d %H:%M')} - {platform.machine()}, {os.cpu_count()} cores; "
        f"python {platform.python_version()}, numpy {numpy.__version__}, scikit-learn {sklearn.__version__}, "
        f"scikit-optimize {skopt.__version__}, optuna {optuna.__version__}, torch {torch.__version__}; "
        "one BLAS/OpenMP/torch thread"
    )
    print(f"# command: python bench/suggest_overhead.py {' '.join(sys.argv[1:] if argv is None else argv)}")
    contenders = [
        AMORTIZED,
        "bayes-GP",
        "bayes-RF",
        "bayes-ET",
        "random",
        "optuna-TPE",
        "optuna-GP",
        "skopt GP",
    ]
    if args.quick:
        sizes, reps = [50, 100], 3
        skopt_reps = {100: 1}
    else:
        sizes, reps = [50, 100, 200, 500], 10
        skopt_reps = {200: 5, 500: 2 if args.skopt_reps_500 is None else args.skopt_reps_500}
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]
    reps = args.reps or reps
    res = measure(sizes, reps, skopt_reps, contenders)
    print_table(res, sizes)
    if not args.no_plot:
        if args.plot:
            path = args.plot
        elif args.quick:  # a smoke run never overwrites the published plot
            path = Path(tempfile.gettempdir()) / "suggest_overhead_quick.png"
        else:
            path = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "suggest_overhead.png"
        plot(res, sizes, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
