"""Pruners: decision time, and epochs saved against accuracy lost on the digits MLP study.

Part 1 - decision time. Each pruner is told 1,000 finished trials of 30 steps, then asked about
the reports of fresh trials: median and 99th percentile microseconds per ``check`` (the goal is
under a millisecond), and the time to rebuild the pruner from those stored curves.

Part 2 - the study. The built-in digits example (resources/examples/digits_mlp.toml: an MLP on
8x8 digits, 8 hyperparameters) with 40 trials of 30 epochs (the trainer's own early stopping
off), Bayesian and random search, 5 seeds, each without a pruner, with ASHA and with the median
rule (their defaults; ASHA told ``max_resource`` = the epochs). Printed per strategy and pruner:
the best validation accuracy of the complete trials and the total epochs trained, as the median
over the seeds, and the ratio of epochs against the unpruned study of the same seed. The peer,
in the same run: Optuna's TPE sampler with its MedianPruner (defaults) on the same objective
(skipped with a message when optuna is not installed: ``pip install -e .[bench]``).

    python bench/pruning.py            # 40 trials x 30 epochs, 5 seeds (10-20 minutes on 2 cores)
    python bench/pruning.py --quick    # 10 trials x 6 epochs, 1 seed, random only (under a minute)
    python bench/pruning.py --seeds 5-9  # held-out seeds (the default is 0-4)

The issue's goal: ASHA and the median rule each within 0.5 percentage points of the unpruned
study's best accuracy while training at least 2.5x fewer epochs (median over the seeds).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

EXAMPLE = Path(__file__).resolve().parents[1] / "resources" / "examples" / "digits_mlp.toml"
PRUNERS = ("none", "asha", "median")
warnings.filterwarnings("ignore")


# -- part 1: decision time ---------------------------------------------------------------------
def decision_times(
    n_trials: int = 1000, steps: int = 30, n_checks: int = 3000
) -> list[tuple[str, float, float, float]]:
    from hpo_desktop.core.pruners import make_pruner
    from hpo_desktop.core.trial import TrialState

    rng = random.Random(0)

    def curve() -> list[tuple[int, float]]:
        top, speed = rng.uniform(0.5, 1.0), rng.uniform(0.05, 0.5)
        return [(s, top * (1 - math.exp(-speed * s)) + rng.gauss(0, 0.01)) for s in range(1, steps + 1)]

    stored = [curve() for _ in range(n_trials)]
    fresh = [curve() for _ in range(n_checks // steps + 1)]
    out = []
    for kind, options in (
        ("median", {}),
        ("asha", {"max_resource": steps}),
        ("hyperband", {"max_resource": steps}),
        ("patience", {"patience": 5}),
    ):
        t0 = time.perf_counter()
        p = make_pruner(kind, direction="maximize", **options)
        for i, c in enumerate(stored):
            p.observe(i, TrialState.COMPLETE, c)
        build_ms = (time.perf_counter() - t0) * 1e3
        times = []
        for j, c in enumerate(fresh):
            for k in range(1, len(c) + 1):
                t = time.perf_counter()
                p.check(n_trials + j, c[:k])
                times.append((time.perf_counter() - t) * 1e6)
        times.sort()
        out.append((kind, statistics.median(times), times[int(0.99 * (len(times) - 1))], build_ms))
    return out


# -- part 2: the study ---------------------------------------------------------------------------
def load_example(epochs: int, seed: int, strategy: str, pruner: str) -> Any:
    from hpo_desktop.core.spec import load_spec

    spec = load_spec(EXAMPLE)
    d = spec.to_dict()
    d["study"].update(seed=seed, name=f"{strategy}-{pruner}-{seed}")
    d["model"].update(epochs=epochs, patience=0)
    if strategy != "bayesian":
        d["strategy"] = {"kind": strategy}
    if pruner != "none":
        kind, *pairs = pruner.split("/")  # e.g. "median/percentile=25": options after slashes
        options = {k: _number(v) for k, v in (p.split("=", 1) for p in pairs)}
        if kind in ("asha", "hyperband"):
            options.setdefault("max_resource", epochs)
        d["pruner"] = {"kind": kind, **options}
    from hpo_desktop.core.spec import spec_from_dict

    return spec_from_dict(d, path=EXAMPLE)


def _number(text: str) -> int | float:
    return float(text) if any(c in text for c in ".e") else int(text)


def run_ours(db: Path, spec: Any, objective: Any, n_trials: int) -> tuple[float, int]:
    from hpo_desktop.core.study import create_from_spec

    with create_from_spec(db, spec, n_trials=n_trials) as study:
        study.optimize(objective, n_trials)
        epochs = sum(t.last_step or 0 for t in study.trials)
        best = study.best_value
        return (float("nan") if best is None else float(best)), epochs


def run_optuna(spec: Any, objective: Any, n_trials: int, seed: int) -> tuple[float, int]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = spec.space.to_dict()
    epochs_run = [0]

    class Handle:
        def __init__(self, ot: Any, params: dict[str, Any]) -> None:
            self.ot, self.params, self.number = ot, params, ot.number
            self.seed = seed * 100_003 + ot.number

        def report(self, step: int, **metrics: float) -> None:
            epochs_run[0] += 1
            self.ot.report(metrics["val_accuracy"], step)

        def should_stop(self) -> bool:
            return self.ot.should_prune()

    def suggest(ot: Any) -> dict[str, Any]:
        params: dict[str, Any] = {}
        for name, d in space.items():
            when = d.get("when")
            if when and any(params.get(k) != v for k, v in when.items()):
                continue
            if d["type"] == "float":
                params[name] = ot.suggest_float(name, d["low"], d["high"], log=d.get("log", False))
            elif d["type"] == "int":
                params[name] = ot.suggest_int(name, d["low"], d["high"], log=d.get("log", False))
            else:
                params[name] = ot.suggest_categorical(name, d["choices"])
        return params

    def fn(ot: Any) -> float:
        params = suggest(ot)
        handle = Handle(ot, params)
        metrics = objective(params, handle)
        if ot.should_prune():
            raise optuna.TrialPruned()
        return metrics["val_accuracy"]

    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(),
    )
    study.optimize(fn, n_trials=n_trials)
    complete = [t.value for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    return (max(complete) if complete else float("nan")), epochs_run[0]


def parse_seeds(text: str) -> list[int]:
    """``"5"`` -> seeds 0-4; ``"5-9"`` -> seeds 5-9."""
    lo, sep, hi = text.partition("-")
    if not sep:
        return list(range(int(lo)))
    return list(range(int(lo), int(hi) + 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="10 trials x 6 epochs, 1 seed, random only")
    ap.add_argument("--seeds", default="5", help='a count N (seeds 0..N-1) or a range "A-B" (e.g. 5-9)')
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--strategies", default="bayesian,random")
    ap.add_argument(
        "--pruners",
        default=",".join(PRUNERS),
        help='comma-separated; options after slashes, e.g. "none,median/percentile=25"',
    )
    ap.add_argument("--no-peer", action="store_true", help="skip Optuna")
    args = ap.parse_args()
    if args.quick:
        args.seeds, args.trials, args.epochs, args.strategies = "1", 10, 6, "random"
    seeds = parse_seeds(args.seeds)

    import torch

    torch.set_num_threads(1)
    from hpo_desktop.training.objective import make_objective

    print(
        f"# bench/pruning.py - {time.strftime('%Y-%m-%d')} - Python {platform.python_version()}, "
        f"torch {torch.__version__}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    print("\n## Decision time (1,000 stored trials x 30 steps)\n")
    print("| pruner | median µs / decision | p99 µs | rebuild from 1,000 trials (ms) |")
    print("|---|---:|---:|---:|")
    for kind, med, p99, build in decision_times():
        print(f"| {kind} | {med:.1f} | {p99:.1f} | {build:.1f} |")
    sys.stdout.flush()

    strategies = [s for s in args.strategies.split(",") if s]
    pruners = [p for p in args.pruners.split(",") if p]
    results: dict[tuple[str, str], list[tuple[float, int, float]]] = {}
    base = load_example(args.epochs, 0, "random", "none")
    objective = make_objective(
        base.data, base.model, metric=base.metric, direction=base.direction, base_dir=base.base_dir
    )
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for strategy in strategies:
                for pruner in pruners:
                    spec = load_example(args.epochs, seed, strategy, pruner)
                    t0 = time.perf_counter()
                    best, epochs = run_ours(Path(tmp) / f"s{seed}.db", spec, objective, args.trials)
                    secs = time.perf_counter() - t0
                    results.setdefault((strategy, pruner), []).append((best, epochs, secs))
                    print(
                        f"  seed {seed} {strategy:8s} {pruner:6s} best {best:.4f} epochs {epochs:5d} "
                        f"({secs:.0f} s)",
                        file=sys.stderr,
                        flush=True,
                    )
            if not args.no_peer:
                try:
                    import optuna  # noqa: F401
                except ImportError:
                    if seed == seeds[0]:
                        print("  optuna is not installed: the peer is skipped (pip install -e .[bench])")
                else:
                    spec = load_example(args.epochs, seed, "random", "none")
                    t0 = time.perf_counter()
                    best, epochs = run_optuna(spec, objective, args.trials, seed)
                    secs = time.perf_counter() - t0
                    results.setdefault(("optuna TPE", "optuna median"), []).append((best, epochs, secs))
                    print(
                        f"  seed {seed} optuna TPE + MedianPruner best {best:.4f} epochs {epochs:5d} ({secs:.0f} s)",
                        file=sys.stderr,
                        flush=True,
                    )

    full = args.trials * args.epochs
    print(
        f"\n## Digits MLP: {args.trials} trials x {args.epochs} epochs ({full} epochs unpruned), "
        f"seeds {seeds[0]}-{seeds[-1]}, medians over seeds\n"
    )
    print(
        "| strategy | pruner | best val. accuracy | Δ vs unpruned (pp) | epochs trained | "
        "fewer epochs than unpruned | minutes per study |"
    )
    print("|---|---|---:|---:|---:|---:|---:|")
    verdicts = []
    for (strategy, pruner), rows in results.items():
        best = statistics.median(r[0] for r in rows)
        epochs = statistics.median(r[1] for r in rows)
        mins = statistics.median(r[2] for r in rows) / 60
        ref = results.get((strategy, "none")) or results.get(("bayesian", "none"))
        if ref and pruner != "none":
            deltas = [100 * (r[0] - q[0]) for r, q in zip(rows, ref, strict=False)]
            ratios = [q[1] / max(1, r[1]) for r, q in zip(rows, ref, strict=False)]
            delta, ratio = statistics.median(deltas), statistics.median(ratios)
            d_txt, r_txt = f"{delta:+.2f}", f"{ratio:.2f}×"
            if not strategy.startswith("optuna"):
                verdicts.append((strategy, pruner, delta >= -0.5 and ratio >= 2.5, delta, ratio))
        else:
            d_txt, r_txt = "—", "—"
        print(f"| {strategy} | {pruner} | {best:.4f} | {d_txt} | {epochs:.0f} | {r_txt} | {mins:.1f} |")
    if any(k[0].startswith("optuna") for k in results):
        print("\n(The Optuna row's Δ and ratio are against our Bayesian study without a pruner.)")
    print("\nPer seed (best accuracy / epochs):\n")
    names = [f"{strategy} {pruner}" for strategy, pruner in results]
    print("| seed | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for i, seed in enumerate(seeds):
        cells = [f"{rows[i][0]:.4f} / {rows[i][1]}" if i < len(rows) else "" for rows in results.values()]
        print(f"| {seed} | " + " | ".join(cells) + " |")
    print()
    for strategy, pruner, ok, delta, ratio in verdicts:
        print(
            f"- {strategy} + {pruner}: {'goal met' if ok else 'goal NOT met'} "
            f"({delta:+.2f} pp, {ratio:.2f}× fewer epochs; goal ≥ -0.5 pp and ≥ 2.5×)"
        )


if __name__ == "__main__":
    main()
