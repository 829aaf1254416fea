"""Strategy overhead per suggestion, and the quality of the Bayesian strategy, against skopt.

Part 1 - overhead. For each strategy (grid on a gridable variant of the space), the time of one
``ask`` + one ``tell`` after 25, 50, 100 and 200 completed trials on a 6-parameter mixed space
(log floats, floats, a log int, a categorical), side by side with scikit-optimize's default
``Optimizer(dims, base_estimator="GP")`` measured in the same run: median ms per suggestion over
a few consecutive suggestions, the mean over the same suggestions (the Bayesian strategy re-fits
its kernel hyper-parameters only every ~10 % more trials, so its mean is above its median), and
the ratios of the medians (skopt / ours), against skopt as it comes and against skopt under the
same one-BLAS-thread limit that our Bayesian strategy sets for itself.

Part 2 - quality. Best value reached after the same number of evaluations by the Bayesian
strategy (defaults), skopt's default Optimizer and random search, on two toy problems: a
Branin function with four extra parameters (minimum 0.397887) and a mixed "training run"
surface with a categorical whose best learning rate depends on the choice (minimum 0),
averaged over seeds.

    python bench/optimizer_overhead.py            # sizes 25/50/100/200, 5 seeds (several minutes)
    python bench/optimizer_overhead.py --quick    # sizes 25/50, 1 seed (under a minute)
    python bench/optimizer_overhead.py --no-overhead --seeds 12   # the quality table on 12 seeds

The machines are shared and noisy: compare the ratio, not absolute milliseconds.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from hpo_desktop.core.space import Categorical, Float, Int, SearchSpace, space_of  # noqa: E402
from hpo_desktop.core.strategies import make_strategy  # noqa: E402

warnings.filterwarnings("ignore")


# -- the timing space --------------------------------------------------------------------------
def timing_space(gridable: bool = False) -> SearchSpace:
    g: dict[str, Any] = {"grid_points": 5} if gridable else {}
    return space_of(
        lr=Float(1e-5, 1e-1, log=True, **g),
        momentum=Float(0.0, 0.99, **g),
        dropout=Float(0.0, 0.6, **g),
        units=Int(16, 512, log=True, **({"grid_points": 4} if gridable else {})),
        optimizer=Categorical(("sgd", "adam", "rmsprop")),
        weight_decay=Float(1e-6, 1e-2, log=True, **g),
    )


def timing_objective(p: dict[str, Any]) -> float:
    best_lr = {"sgd": -1.5, "adam": -3.0, "rmsprop": -3.5}[p["optimizer"]]
    return (
        (math.log10(p["lr"]) - best_lr) ** 2
        + (p["momentum"] - 0.9) ** 2
        + 2 * (p["dropout"] - 0.2) ** 2
        + 0.3 * (math.log2(p["units"]) - 7) ** 2 / 4
        + 0.1 * (math.log10(p["weight_decay"]) + 4) ** 2
    )


def history(space: SearchSpace, n: int, seed: int = 12345) -> list[tuple[dict[str, Any], float]]:
    """n completed trials from a seeded random design (the same for every contender)."""
    rnd = make_strategy("random", space, seed=seed)
    out = []
    for _ in range(n):
        [p] = rnd.ask()
        out.append((p, timing_objective(p)))
    return out


def time_ours(kind: str, space: SearchSpace, n: int, reps: int, **options: Any) -> list[float]:
    strat = make_strategy(kind, space, seed=0, **options)
    for p, v in history(space, n):
        strat.tell(p, v)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        [p] = strat.ask()
        strat.tell(p, timing_objective(p))
        times.append(time.perf_counter() - t0)
    return times


def time_skopt(space: SearchSpace, n: int, reps: int, *, one_thread: bool = False) -> list[float]:
    """skopt's default Optimizer; ``one_thread``: under the BLAS limit our strategy sets for itself."""
    from skopt import Optimizer
    from threadpoolctl import threadpool_limits

    opt = Optimizer(space.to_skopt_dimensions(), base_estimator="GP", random_state=0)
    hist = history(space, n)
    opt.tell([space.to_skopt_point(p) for p, _ in hist], [v for _, v in hist])
    times = []
    with threadpool_limits(limits=1, user_api="blas") if one_thread else contextlib.nullcontext():
        for _ in range(reps):
            t0 = time.perf_counter()
            x = opt.ask()
            opt.tell(x, timing_objective(space.from_skopt_point(x)))
            times.append(time.perf_counter() - t0)
    return times


def overhead_table(sizes: list[int], reps: int, contenders: list[tuple[str, str, dict[str, Any]]]) -> None:
    print(f"\n## Overhead of one ask + tell (ms; median / mean of {reps} consecutive suggestions)\n")
    print(
        "skopt 1T: skopt's default under the one-BLAS-thread limit that our Bayesian strategy sets for "
        "itself, so the ratio is not just threading.\n"
    )
    print(
        "| strategy | trials | ours median | ours mean | skopt median | skopt mean | skopt 1T median "
        "| skopt/ours | skopt 1T/ours |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    space = timing_space()
    grid_space = timing_space(gridable=True)
    for n in sizes:
        sk = time_skopt(space, n, reps)
        sk1 = time_skopt(space, n, reps, one_thread=True)
        skm, ska = 1000 * statistics.median(sk), 1000 * statistics.fmean(sk)
        sk1m = 1000 * statistics.median(sk1)
        for label, kind, options in contenders:
            sp = grid_space if kind == "grid" else space
            ours = time_ours(kind, sp, n, reps, **options)
            om, oa = 1000 * statistics.median(ours), 1000 * statistics.fmean(ours)
            print(
                f"| {label} | {n} | {om:.1f} | {oa:.1f} | {skm:.0f} | {ska:.0f} | {sk1m:.0f} "
                f"| {skm / om:.1f}x | {sk1m / om:.1f}x |",
                flush=True,
            )
        # Storage overhead is measured by bench/storage_write.py; another column may join here.


# -- quality -----------------------------------------------------------------------------------
def branin_space() -> SearchSpace:
    return space_of(
        x1=Float(-5.0, 10.0),
        x2=Float(0.0, 15.0),
        a=Float(0.0, 1.0),
        b=Float(1e-3, 1.0, log=True),
        c=Int(0, 20),
        d=Float(-1.0, 1.0),
    )


def branin_plus(p: dict[str, Any]) -> float:
    x1, x2 = p["x1"], p["x2"]
    br = (
        (x2 - 5.1 / (4 * math.pi**2) * x1**2 + 5 / math.pi * x1 - 6) ** 2
        + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1)
        + 10
    )
    return (
        br
        + 2 * (p["a"] - 0.25) ** 2
        + 0.5 * math.log10(p["b"] / 0.03) ** 2
        + 0.02 * (p["c"] - 7) ** 2
        + p["d"] ** 2
    )


def mixed_space() -> SearchSpace:
    return space_of(
        lr=Float(1e-5, 1e-1, log=True),
        optimizer=Categorical(("sgd", "adam", "rmsprop")),
        units=Int(8, 1024, log=True),
        dropout=Float(0.0, 0.7),
        batch=Categorical((32, 64, 128, 256)),
        weight_decay=Float(1e-6, 1e-2, log=True),
    )


def mixed(p: dict[str, Any]) -> float:
    best_lr = {"sgd": -1.5, "adam": -3.0, "rmsprop": -3.5}[p["optimizer"]]
    offset = {"sgd": 0.15, "adam": 0.0, "rmsprop": 0.05}[p["optimizer"]]
    return (
        offset
        + 0.5 * (math.log10(p["lr"]) - best_lr) ** 2
        + 0.05 * (math.log2(p["units"]) - 8) ** 2
        + (p["dropout"] - 0.25) ** 2
        + 0.03 * abs(math.log2(p["batch"]) - 6)
        + 0.05 * (math.log10(p["weight_decay"]) + 4) ** 2
    )


PROBLEMS: list[tuple[str, Callable[[], SearchSpace], Callable[[dict[str, Any]], float], float]] = [
    ("branin+4 (min 0.3979)", branin_space, branin_plus, 0.397887),
    ("mixed with categorical (min 0)", mixed_space, mixed, 0.0),
]


def best_ours(kind: str, space: SearchSpace, f: Callable, budget: int, seed: int, **options: Any) -> float:
    strat = make_strategy(kind, space, seed=seed, **options)
    best = math.inf
    for _ in range(budget):
        [p] = strat.ask()
        v = f(p)
        strat.tell(p, v)
        best = min(best, v)
    return best


def best_skopt(space: SearchSpace, f: Callable, budget: int, seed: int) -> float:
    from skopt import Optimizer

    opt = Optimizer(space.to_skopt_dimensions(), base_estimator="GP", random_state=seed)
    best = math.inf
    for _ in range(budget):
        x = opt.ask()
        v = f(space.from_skopt_point(x))
        opt.tell(x, v)
        best = min(best, v)
    return best


def quality_table(budget: int, seeds: list[int]) -> None:
    print(f"\n## Best value after {budget} evaluations (mean ± sd over seeds {seeds}; lower is better)\n")
    print(
        "| problem | bayesian (ours, defaults: GP, gp_hedge) | skopt default (GP, gp_hedge, lbfgs) | random (ours) | time ours / skopt (s) |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, make_space, f, _fmin in PROBLEMS:
        space = make_space()
        res: dict[str, list[float]] = {"ours": [], "skopt": [], "random": []}
        t_ours = t_sk = 0.0
        for seed in seeds:
            t0 = time.perf_counter()
            res["ours"].append(best_ours("bayesian", space, f, budget, seed))
            t1 = time.perf_counter()
            res["skopt"].append(best_skopt(space, f, budget, seed))
            t2 = time.perf_counter()
            res["random"].append(best_ours("random", space, f, budget, seed))
            t_ours += t1 - t0
            t_sk += t2 - t1

        def fmt(xs: list[float]) -> str:
            sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
            return f"{statistics.fmean(xs):.4f} ± {sd:.4f}"

        print(
            f"| {name} | {fmt(res['ours'])} | {fmt(res['skopt'])} | {fmt(res['random'])} "
            f"| {t_ours:.0f} / {t_sk:.0f} |",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sizes 25/50 and one seed (under a minute)")
    ap.add_argument("--no-quality", action="store_true", help="only the overhead table")
    ap.add_argument("--no-overhead", action="store_true", help="only the quality table")
    ap.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 for the quality table (default 5)")
    args = ap.parse_args(argv)
    import numpy
    import sklearn
    import skopt

    print(
        f"# optimizer overhead - {time.strftime('%Y-%m-%d')} - {platform.machine()}, {os.cpu_count()} cores; "
        f"python {platform.python_version()}, numpy {numpy.__version__}, scikit-learn {sklearn.__version__}, "
        f"scikit-optimize {skopt.__version__}"
    )
    if args.quick:
        sizes, reps, seeds, budget = [25, 50], 3, [0], 20
        contenders = [("grid", "grid", {}), ("random", "random", {}), ("bayesian GP", "bayesian", {})]
    else:
        sizes, reps, seeds, budget = [25, 50, 100, 200], 9, [0, 1, 2, 3, 4], 40
        contenders = [
            ("grid", "grid", {}),
            ("random", "random", {}),
            ("random sobol", "random", {"design": "sobol"}),
            ("bayesian GP", "bayesian", {}),
            ("bayesian RF", "bayesian", {"estimator": "RF"}),
            ("bayesian ET", "bayesian", {"estimator": "ET"}),
        ]
    if args.seeds is not None:
        seeds = list(range(args.seeds))
    if not args.no_overhead:
        overhead_table(sizes, reps, contenders)
    if not args.no_quality:
        quality_table(budget, seeds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
