"""Sample efficiency against peers: simple regret after 25, 50 and 100 evaluations.

Problems (bench/problems.py): Branin (2-D), Hartmann-6, Ackley 5-D, a mixed space with two
categoricals and a conditional parameter, and a real task (digits MLP, 6 hyperparameters,
8 epochs per evaluation). Contenders, each with its defaults and its own seed:

- ``random``            our random search
- ``grid``              our grid (Branin only): for a budget B, the full k x k grid with k = floor(sqrt(B))
- ``bayes-GP/RF/ET``    our Bayesian strategy with each surrogate it offers (acquisition gp_hedge)
- ``optuna-TPE``        Optuna's TPESampler (ask-and-tell, define-by-run)
- ``optuna-GP``         Optuna's GPSampler
- ``skopt-gp_minimize`` scikit-optimize's ``gp_minimize`` (its defaults; conditionals flattened:
  momentum is always drawn and ignored unless optimizer = sgd)

Every contender runs on one BLAS / OpenMP / torch thread (set before numpy is imported). The table
gives, per problem and budget, the median [first quartile, third quartile] over the seeds of the
simple regret (best value found minus the known minimum; for digits the best validation error),
then the ratios the goals are stated in. One PNG per run is written (``--plot``, default
docs/benchmarks/sample_efficiency.png): median best-so-far regret against evaluations, quartile band.

    python bench/sample_efficiency.py --quick          # < 1 minute: branin, mixed (2 seeds x 25), digits (1 x 12)
    python bench/sample_efficiency.py --runs /tmp/se.jsonl   # full: 10 seeds x 100 (digits 5 x 50), > 1 hour
    python bench/sample_efficiency.py --runs /tmp/se.jsonl --report-only   # tables + plot from saved runs

``--runs FILE`` appends every finished run as a JSON line and skips runs already in the file, so a
long run can be resumed, split over processes (``--problems``, ``--contenders``) and reported at once.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
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

import numpy as np  # noqa: E402
from problems import COLORS, PROBLEMS, Problem, branin_space, figure, save_figure, to_optuna  # noqa: E402

from hpo_desktop.core.strategies import make_strategy  # noqa: E402

warnings.filterwarnings("ignore")

CHECKPOINTS = (25, 50, 100)
CONTENDERS = (
    "random",
    "grid",
    "bayes-GP",
    "bayes-RF",
    "bayes-ET",
    "optuna-TPE",
    "optuna-GP",
    "skopt-gp_minimize",
)


# -- one run of one contender: the list of values, in evaluation order ----------------------------
def run_ours(kind: str, problem: Problem, budget: int, seed: int, **options: Any) -> list[float]:
    space = problem.make_space()
    strat = make_strategy(kind, space, seed=seed, **options)
    values = []
    for _ in range(budget):
        [p] = strat.ask()
        v = problem.f(p)
        strat.tell(p, v)
        values.append(v)
    return values


def run_optuna(sampler_name: str, problem: Problem, budget: int, seed: int) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    sampler = (
        optuna.samplers.TPESampler(seed=seed)
        if sampler_name == "TPE"
        else optuna.samplers.GPSampler(seed=seed)
    )
    study = optuna.create_study(sampler=sampler, direction="minimize")
    space = problem.make_space()
    values = []
    for _ in range(budget):
        trial = study.ask()
        v = problem.f(to_optuna(space, trial))
        study.tell(trial, v)
        values.append(v)
    return values


def run_gp_minimize(problem: Problem, budget: int, seed: int) -> list[float]:
    from skopt import gp_minimize

    space = problem.make_space()
    values: list[float] = []

    def f(x: list[Any]) -> float:
        v = problem.f(space.from_skopt_point(x))
        values.append(v)
        return v

    gp_minimize(f, space.to_skopt_dimensions(), n_calls=budget, random_state=seed)
    return values


def grid_best(problem: Problem, budget: int) -> float:
    """Best value of the full k x k grid that fits the budget (Branin only)."""
    k = max(2, math.isqrt(budget))
    space = branin_space(grid_points=k)
    strat = make_strategy("grid", space)
    best = math.inf
    while not strat.exhausted:
        got = strat.ask()
        if not got:
            break
        v = problem.f(got[0])
        strat.tell(got[0], v)
        best = min(best, v)
    return best


def run_one(contender: str, problem: Problem, budget: int, seed: int) -> list[float]:
    if contender == "random":
        return run_ours("random", problem, budget, seed)
    if contender.startswith("bayes-"):
        return run_ours("bayesian", problem, budget, seed, estimator=contender.split("-", 1)[1])
    if contender.startswith("optuna-"):
        return run_optuna(contender.split("-", 1)[1], problem, budget, seed)
    if contender == "skopt-gp_minimize":
        return run_gp_minimize(problem, budget, seed)
    raise ValueError(contender)


# -- summaries ------------------------------------------------------------------------------------
def regret_curve(problem: Problem, values: list[float]) -> np.ndarray:
    best = np.minimum.accumulate(np.asarray(values, dtype=float))
    return best - (problem.optimum if problem.optimum is not None else 0.0)


def quartiles(xs: list[float]) -> tuple[float, float, float]:
    q1, med, q3 = np.percentile(np.asarray(xs, dtype=float), [25, 50, 75])
    return float(med), float(q1), float(q3)


def fmt(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 0.01:
        return f"{x:.3g}"
    return f"{x:.2e}"


def summarize(runs: list[dict[str, Any]], problems: list[str], contenders: list[str]) -> dict:
    """{problem: {contender: {checkpoint: (median, q1, q3, n)}}} plus the grid's values."""
    out: dict[str, dict[str, dict[int, tuple[float, float, float, int]]]] = {}
    for pname in problems:
        problem = PROBLEMS[pname]
        out[pname] = {}
        for c in contenders:
            if c == "grid":
                continue
            rs = [r for r in runs if r["problem"] == pname and r["contender"] == c]
            if not rs:
                continue
            cells = {}
            # The fixed checkpoints, plus the budget of a shorter run (--quick, --skopt-evals).
            for k in sorted(
                {k for k in CHECKPOINTS if k <= max(len(r["values"]) for r in rs)}
                | {len(r["values"]) for r in rs}
            ):
                finals = [
                    float(regret_curve(problem, r["values"])[k - 1]) for r in rs if len(r["values"]) >= k
                ]
                if finals:
                    med, q1, q3 = quartiles(finals)
                    cells[k] = (med, q1, q3, len(finals))
            out[pname][c] = cells
        grid_rs = [r for r in runs if r["problem"] == pname and r["contender"] == "grid"]
        if grid_rs and "grid" in contenders:
            # A grid run's "seed" is its budget; its one value is the best of the grid.
            regrets = {int(r["seed"]): float(regret_curve(problem, r["values"])[-1]) for r in grid_rs}
            out[pname]["grid"] = {k: (v, v, v, 1) for k, v in regrets.items()}
    return out


def print_tables(summary: dict, runs: list[dict[str, Any]], contenders: list[str]) -> dict[str, Any]:
    verdict: dict[str, Any] = {"vs_tpe": {}, "vs_random": {}}
    for pname, by_c in summary.items():
        problem = PROBLEMS[pname]
        what = "best validation error" if problem.optimum is None else "simple regret"
        ks = sorted({k for c, cells in by_c.items() if c != "grid" for k in cells})
        print(f"\n## {problem.title}: {what}, median [q1, q3] over seeds (lower is better)\n")
        print("| contender | seeds | " + " | ".join(f"after {k}" for k in ks) + " | s per run |")
        print("|---|---:|" + "---:|" * len(ks) + "---:|")
        for c in contenders:
            if c not in by_c:
                continue
            cells = by_c[c]
            rs = [r for r in runs if r["problem"] == pname and r["contender"] == c]
            n = max((cell[3] for cell in cells.values()), default=0)
            if c == "grid":
                row = [
                    f"{fmt(cells[k][0])} ({math.isqrt(k)}x{math.isqrt(k)})" if k in cells else "" for k in ks
                ]
                secs = ""
                n_txt = "-"
            else:
                row = [
                    f"{fmt(cells[k][0])} [{fmt(cells[k][1])}, {fmt(cells[k][2])}]" if k in cells else ""
                    for k in ks
                ]
                secs = f"{statistics.median(r['seconds'] for r in rs):.1f}" if rs else ""
                n_txt = str(n)
            print(f"| {c} | {n_txt} | " + " | ".join(row) + f" | {secs} |", flush=True)
        # Ratios at 50 evaluations (or the largest budget run, when below 50).
        k = 50 if 50 in ks else (max(ks) if ks else None)
        ours = by_c.get("bayes-GP", {}).get(k) if k else None
        if ours:
            tpe = by_c.get("optuna-TPE", {}).get(k)
            rnd = by_c.get("random", {}).get(k)
            parts = []
            if tpe:
                verdict["vs_tpe"][pname] = ours[0] <= tpe[0]
                parts.append(f"bayes-GP / optuna-TPE = {ratio(ours[0], tpe[0])}")
            if rnd:
                verdict["vs_random"][pname] = ours[0] <= 0.5 * rnd[0]
                parts.append(f"bayes-GP / random = {ratio(ours[0], rnd[0])}")
            for c in ("bayes-RF", "bayes-ET"):
                other = by_c.get(c, {}).get(k)
                if other and tpe:
                    parts.append(f"{c} / optuna-TPE = {ratio(other[0], tpe[0])}")
            print(f"\nmedians after {k}: " + "; ".join(parts))
    return verdict


def print_compact(summary: dict, contenders: list[str], k: int) -> None:
    """One table: the median after k evaluations, contenders x problems."""
    names = [p for p in summary if any(k in cells for cells in summary[p].values())]
    if not names:
        return
    print(f"\n## Median after {k} evaluations (simple regret; digits: best validation error)\n")
    print("| contender | " + " | ".join(PROBLEMS[p].title for p in names) + " |")
    print("|---|" + "---:|" * len(names))
    for c in contenders:
        cells = []
        for p in names:
            cell = summary[p].get(c, {}).get(k)
            cells.append(fmt(cell[0]) if cell else "")
        if any(cells):
            print(f"| {c} | " + " | ".join(cells) + " |")


def ratio(a: float, b: float) -> str:
    if b == 0:
        return "inf" if a > 0 else "1.00x"
    return f"{a / b:.3g}x"


def print_goals(verdict: dict[str, Any]) -> None:
    vt, vr = verdict["vs_tpe"], verdict["vs_random"]
    print("\n## Goals (medians after 50 evaluations; ours = bayes-GP, the default)\n")
    if vt:
        wins = sum(vt.values())
        print(
            f"- bayes-GP <= optuna-TPE on {wins} of {len(vt)} problems "
            f"({', '.join(p for p, ok in vt.items() if not ok) or 'none'} missed): "
            f"{'met' if wins >= 4 else 'NOT met'} (goal: at least 4 of 5)"
        )
    if vr:
        ok = all(vr.values())
        print(
            f"- bayes-GP <= 0.5 x random on {sum(vr.values())} of {len(vr)} problems "
            f"({', '.join(p for p, good in vr.items() if not good) or 'none'} missed): "
            f"{'met' if ok else 'NOT met'} (goal: all)"
        )


# -- the plot -------------------------------------------------------------------------------------
def plot(runs: list[dict[str, Any]], problems: list[str], contenders: list[str], path: Path) -> None:
    import pyqtgraph as pg

    cols = 3 if len(problems) > 2 else len(problems) + 1
    rows = math.ceil((len(problems) + 1) / cols)  # one more cell for the legend
    win = figure(460 * cols, 320 * rows + 40)
    win.addLabel(
        "Median best-so-far simple regret (digits: best validation error) against evaluations; "
        "band: quartiles over the seeds; squares: full grids",
        row=0,
        col=0,
        colspan=cols,
    )
    legend_items: dict[str, Any] = {}
    for i, pname in enumerate(problems):
        problem = PROBLEMS[pname]
        log = problem.optimum is not None
        plt = win.addPlot(row=1 + i // cols, col=i % cols, title=problem.title)
        plt.setLogMode(y=log)
        plt.showGrid(x=True, y=True, alpha=0.25)
        plt.setLabel("bottom", "evaluations")
        plt.setLabel("left", "simple regret" if log else "validation error")
        plt.getAxis("left").enableAutoSIPrefix(False)
        plt.getAxis("left").setWidth(70)
        y_range = [math.inf, -math.inf]
        for c in contenders:
            rs = [r for r in runs if r["problem"] == pname and r["contender"] == c]
            if not rs:
                continue
            color = COLORS[c]
            if c == "grid":
                rs = sorted(rs, key=lambda r: int(r["seed"]))
                xs = np.array([int(r["seed"]) for r in rs], dtype=float)
                ys = np.array([r["values"][0] for r in rs]) - (problem.optimum or 0.0)
                legend_items[c] = plt.plot(
                    xs, np.maximum(ys, 1e-8), pen=None, symbol="s", symbolSize=9, symbolBrush=color
                )
                continue
            n = min(len(r["values"]) for r in rs)
            curves = np.array([regret_curve(problem, r["values"][:n]) for r in rs])
            q1, med, q3 = (np.maximum(a, 1e-8) for a in np.percentile(curves, [25, 50, 75], axis=0))
            xs = np.arange(1, n + 1, dtype=float)
            lo = pg.PlotDataItem(xs, q1, pen=pg.mkPen((*color, 0)))
            hi = pg.PlotDataItem(xs, q3, pen=pg.mkPen((*color, 0)))
            plt.addItem(lo)
            plt.addItem(hi)
            plt.addItem(pg.FillBetweenItem(lo, hi, brush=(*color, 40)))
            legend_items[c] = plt.plot(xs, med, pen=pg.mkPen(color, width=2))
            if not log:  # linear scale: leave out the first few (very bad) evaluations
                y_range[0] = min(y_range[0], float(q1[-1]))
                y_range[1] = max(y_range[1], float(med[min(n, 10) - 1]))
        if not log and y_range[1] > y_range[0]:
            pad = 0.1 * (y_range[1] - y_range[0])
            plt.setYRange(y_range[0] - pad, y_range[1] + pad, padding=0)
    k = len(problems)
    box = win.addViewBox(row=1 + k // cols, col=k % cols)
    box.setMouseEnabled(False, False)
    legend = pg.LegendItem(offset=(30, 30), labelTextSize="10pt")
    legend.setParentItem(box)
    for c in contenders:
        if c in legend_items:
            legend.addItem(legend_items[c], c)
    save_figure(win, path)


# -- main -----------------------------------------------------------------------------------------
def load_runs(path: Path | None) -> list[dict[str, Any]]:
    if path is None or not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="3 problems, 2 seeds, 25 evaluations (under a minute)"
    )
    ap.add_argument("--problems", default=None, help=f"comma list of {','.join(PROBLEMS)}")
    ap.add_argument("--contenders", default=None, help=f"comma list of {','.join(CONTENDERS)}")
    ap.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 (default 10)")
    ap.add_argument("--evals", type=int, default=None, help="evaluations per run (default 100)")
    ap.add_argument("--digits-seeds", type=int, default=None, help="seeds for digits (default 5)")
    ap.add_argument("--digits-evals", type=int, default=None, help="evaluations for digits (default 50)")
    ap.add_argument(
        "--skopt-evals", type=int, default=None, help="evaluations for gp_minimize (default --evals)"
    )
    ap.add_argument("--skopt-seeds", type=int, default=None, help="seeds for gp_minimize (default --seeds)")
    ap.add_argument("--runs", type=Path, default=None, help="JSON-lines file: append runs, skip those done")
    ap.add_argument("--report-only", action="store_true", help="no new runs: tables and plot from --runs")
    ap.add_argument(
        "--plot", type=Path, default=None, help="PNG (default docs/benchmarks/sample_efficiency.png)"
    )
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)

    if args.quick:
        problems = ["branin", "mixed", "digits"]
        contenders = ["random", "grid", "bayes-GP", "optuna-TPE", "optuna-GP", "skopt-gp_minimize"]
        seeds, evals, d_seeds, d_evals, sk_evals, sk_seeds = 2, 25, 1, 12, 15, 1
    else:
        problems = list(PROBLEMS)
        contenders = list(CONTENDERS)
        seeds, evals, d_seeds, d_evals, sk_evals, sk_seeds = 10, 100, 5, 50, None, None
    if args.problems:
        problems = [p.strip() for p in args.problems.split(",") if p.strip()]
    if args.contenders:
        contenders = [c.strip() for c in args.contenders.split(",") if c.strip()]
    bad = [p for p in problems if p not in PROBLEMS] + [c for c in contenders if c not in CONTENDERS]
    if bad:
        print(f"unknown problem or contender: {', '.join(bad)}", file=sys.stderr)
        return 2
    seeds = args.seeds or seeds
    evals = args.evals or evals
    d_seeds = args.digits_seeds or d_seeds
    d_evals = args.digits_evals or d_evals
    sk_evals = args.skopt_evals or sk_evals or evals
    sk_seeds = args.skopt_seeds or sk_seeds or seeds

    import optuna
    import sklearn
    import skopt
    import torch

    torch.set_num_threads(1)
    print(
        f"# sample efficiency - {time.strftime('%Y-%m-%d %H:%M')} - {platform.machine()}, {os.cpu_count()} cores; "
        f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"scikit-optimize {skopt.__version__}, optuna {optuna.__version__}, torch {torch.__version__}; "
        "one BLAS/OpenMP/torch thread"
    )
    print(f"# command: python bench/sample_efficiency.py {' '.join(sys.argv[1:] if argv is None else argv)}")

    runs = load_runs(args.runs)
    done = {(r["problem"], r["contender"], int(r["seed"])) for r in runs}
    sink = args.runs.open("a") if (args.runs and not args.report_only) else None
    plans: list[tuple[str, str, int, int]] = []
    for pname in problems:
        problem = PROBLEMS[pname]
        p_seeds, p_evals = (d_seeds, d_evals) if problem.expensive else (seeds, evals)
        for c in contenders:
            if c == "grid":
                if problem.grid_ok:
                    plans += [(pname, c, k, k) for k in CHECKPOINTS if k <= p_evals]
                continue
            n_seeds, n_evals = (
                (min(sk_seeds, p_seeds), min(sk_evals, p_evals))
                if c.startswith("skopt")
                else (
                    p_seeds,
                    p_evals,
                )
            )
            plans += [(pname, c, s, n_evals) for s in range(n_seeds)]
    # Seed by seed, so a run stopped early still has every contender on the first seeds.
    plans.sort(key=lambda t: (t[1] != "grid", t[2], problems.index(t[0]), contenders.index(t[1])))
    if not args.report_only:
        for pname, c, seed, n_evals in plans:
            if (pname, c, seed) in done:
                continue
            problem = PROBLEMS[pname]
            t0 = time.perf_counter()
            values = [grid_best(problem, n_evals)] if c == "grid" else run_one(c, problem, n_evals, seed)
            rec = {
                "problem": pname,
                "contender": c,
                "seed": seed,
                "values": [float(v) for v in values],
                "seconds": time.perf_counter() - t0,
            }
            runs.append(rec)
            if sink:
                sink.write(json.dumps(rec) + "\n")
                sink.flush()
            print(
                f"  {pname:<10} {c:<18} seed {seed:<3} {rec['seconds']:7.1f} s", file=sys.stderr, flush=True
            )
    if sink:
        sink.close()

    summary = summarize(runs, problems, contenders)
    verdict = print_tables(summary, runs, contenders)
    for k in CHECKPOINTS:
        print_compact(summary, contenders, k)
    print_goals(verdict)
    if not args.no_plot:
        if args.plot:
            path = args.plot
        elif args.quick:  # a smoke run never overwrites the published plot
            path = Path(tempfile.gettempdir()) / "sample_efficiency_quick.png"
        else:
            path = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "sample_efficiency.png"
        plot(runs, problems, contenders, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
