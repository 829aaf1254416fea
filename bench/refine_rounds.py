"""Two rounds with a refine step against one study of the same total budget, on the digits example.

For each seed, in one run:

* **one study** - the built-in digits example (resources/examples/digits_mlp.toml: Bayesian,
  8 hyperparameters) with a budget of ``2 × N`` trials;
* **two rounds** - the same study with ``N`` trials, then ``propose_refinement`` (top 20 %,
  the defaults of ``hpo-desktop refine``) and a child study of ``N`` trials in the refined
  space that warm-starts from the parent's trials inside it (exactly what ``hpo-desktop run
  refined.toml --parent NAME`` does).

It prints the best validation accuracy of each workflow per seed, the median over the seeds,
how many of the two-round runs were at least as good, and how much narrower the refined spaces
are (the fraction of each numeric range kept - in log space for log parameters - and the
categorical choices kept).

    python bench/refine_rounds.py             # N = 20, 5 seeds (several minutes on 2 cores)
    python bench/refine_rounds.py --quick     # N = 5, 1 seed, 3 epochs (under a minute)

The issue's goal: the two-round workflow reaches a validation accuracy at least as good as one
study of 40 trials, median over 5 seeds, and the refined space is visibly narrower.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

EXAMPLE = Path(__file__).resolve().parents[1] / "resources" / "examples" / "digits_mlp.toml"


def _width(d: dict[str, Any]) -> float | None:
    """The width of a numeric parameter's range, in log10 units for log parameters."""
    if d.get("type") not in ("float", "int"):
        return None
    lo, hi = float(d["low"]), float(d["high"])
    if d.get("log"):
        return math.log10(hi) - math.log10(lo)
    return hi - lo


def narrowing(old: dict[str, dict], new: dict[str, dict]) -> dict[str, str]:
    """Per parameter: the fraction of the old range kept, or 'k of n choices'."""
    out: dict[str, str] = {}
    for name, o in old.items():
        n = new.get(name)
        if n is None:
            out[name] = "removed"
        elif n.get("type") == "fixed":
            out[name] = f"pinned {n['value']!r}"
        elif o.get("type") == "categorical":
            out[name] = f"{len(n['choices'])}/{len(o['choices'])} choices"
        else:
            wo, wn = _width(o), _width(n)
            out[name] = f"{wn / wo:.2f}" if wo and wn is not None else "?"
    return out


def run_study(db: Path, spec: Any, objective: Any, n_trials: int, parent: str | None = None) -> float:
    from hpo_desktop.core.study import create_from_spec

    with create_from_spec(db, spec, n_trials=n_trials, parent=parent) as study:
        study.optimize(objective, n_trials)
        return float(study.best_value) if study.best_value is not None else float("nan")


def one_seed(seed: int, n: int, epochs: int | None, folder: Path) -> dict[str, Any]:
    from hpo_desktop.core.refine import propose_refinement
    from hpo_desktop.core.spec import load_spec
    from hpo_desktop.core.storage import StudyStore
    from hpo_desktop.training.objective import make_objective

    base = load_spec(EXAMPLE)
    model = dict(base.model)
    if epochs is not None:
        model["epochs"] = epochs
    spec = dataclasses.replace(base, seed=seed, model=model)
    objective = make_objective(
        spec.data, spec.model, metric=spec.metric, direction=spec.direction, base_dir=spec.base_dir
    )

    t0 = time.perf_counter()
    single_db = folder / f"single-{seed}.db"
    single = run_study(single_db, dataclasses.replace(spec, name="single"), objective, 2 * n)
    t_single = time.perf_counter() - t0

    t0 = time.perf_counter()
    db = folder / f"rounds-{seed}.db"
    first = run_study(db, dataclasses.replace(spec, name="round-1"), objective, n)
    with StudyStore(db, readonly=True) as store:
        rec = store.get_study("round-1")
        trials = store.get_trials(rec.study_id)
    refinement = propose_refinement(spec.space, trials, spec.direction, top=0.2)
    child_spec = dataclasses.replace(spec, name="round-2", space=refinement.space, seed=seed + 10_000)
    second = run_study(db, child_spec, objective, n, parent="round-1")
    t_rounds = time.perf_counter() - t0
    with StudyStore(db, readonly=True) as store:
        child = store.get_study("round-2")
        warm = sum(1 for t in trials if t.state.is_finished and refinement.space.contains(t.params))
        assert child.parent_id == rec.study_id
    return {
        "seed": seed,
        "single": single,
        "round1": first,
        "round2": second,
        "rounds": max(first, second),
        "warm": warm,
        "narrow": narrowing(spec.space.to_dict(), refinement.space.to_dict()),
        "t_single": t_single,
        "t_rounds": t_rounds,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="N = 5, 1 seed, 3 epochs")
    ap.add_argument("--seeds", type=int, default=None, help="number of seeds (default 5; 1 with --quick)")
    ap.add_argument("-n", type=int, default=None, help="trials per round (default 20; 5 with --quick)")
    args = ap.parse_args(argv)
    n = args.n or (5 if args.quick else 20)
    seeds = list(range(args.seeds or (1 if args.quick else 5)))
    epochs = 3 if args.quick else None

    import torch

    torch.set_num_threads(1)
    print(f"# refine_rounds: {2 * n} trials in one study vs {n} + refine + {n} (child, warm start)")
    print(
        f"# {platform.node()} {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
        f"torch {torch.__version__}, {time.strftime('%Y-%m-%d')}, 1 torch thread"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            r = one_seed(seed, n, epochs, Path(tmp))
            rows.append(r)
            print(
                f"seed {seed}: one study {r['single']:.4f} ({r['t_single']:.0f} s) | round 1 {r['round1']:.4f}, "
                f"round 2 {r['round2']:.4f} (warm start from {r['warm']} trials) -> {r['rounds']:.4f} "
                f"({r['t_rounds']:.0f} s)",
                flush=True,
            )
            print("         refined space kept: " + ", ".join(f"{k} {v}" for k, v in r["narrow"].items()))
    single = statistics.median(r["single"] for r in rows)
    rounds = statistics.median(r["rounds"] for r in rows)
    wins = sum(1 for r in rows if r["rounds"] >= r["single"])
    print()
    print("| workflow | median best val_accuracy | min | max |")
    print("|---|---|---|---|")
    for label, key in ((f"one study, {2 * n} trials", "single"), (f"{n} + refine + {n}", "rounds")):
        vals = [r[key] for r in rows]
        print(f"| {label} | {statistics.median(vals):.4f} | {min(vals):.4f} | {max(vals):.4f} |")
    print()
    print(
        f"two rounds at least as good as one study in {wins} of {len(rows)} seeds; "
        f"median difference {rounds - single:+.4f} ({'met' if rounds >= single else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
