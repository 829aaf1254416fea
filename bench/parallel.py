"""Wall time of a 12-trial CPU study with ``workers = 2`` against ``workers = 1`` (issue 12).

The study: the built-in MLP (2 hidden layers of 384-640 units, batch 32, no early stopping: about
2.5-4 s a trial here) on the digits data set, random strategy with a fixed seed (both runs
train the same 12 configurations), every trial single-threaded (``torch.set_num_threads(1)``;
the two worker processes get ``cores // workers`` = 1 thread each as on a 2-core machine). The
``workers = 1`` run is today's default: the objective in the study's process, one trial after
another. The ``workers = 2`` run is two spawned worker processes (training/pool.py). Each run is
a fresh Python process timed from outside, as `hpo-desktop run` would be: its time includes
starting Python, importing torch, loading the data (and, for the pool, spawning the workers,
which import torch and load the data in each). The runs of a round are one after the other;
the goal is a ratio of at most 0.65.

    python bench/parallel.py            # 12 trials of 30 epochs (1.5-2 minutes here)
    python bench/parallel.py --ray      # and the same with 2 Ray actors on a local Ray instance
                                        # (needs the ray extra; its start-up is shown apart)
    python bench/parallel.py --quick    # 12 trials of 3 epochs: checks it runs; start-up
                                        # dominates, so its ratio says little

    python bench/parallel.py --repeat 3 # three rounds, alternating which run goes first;
                                        # the median ratio is the figure

The machines are shared and noisy: the load average (uptime) is printed before and after each
round.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from hpo_desktop.core.study import Study  # noqa: E402

GOAL = 0.65


def make_study(path: Path, name: str, n_trials: int) -> Study:
    space = {
        "learning_rate": {"type": "float", "low": 1e-3, "high": 3e-2, "log": True},
        "hidden_units": {"type": "int", "low": 384, "high": 640},
    }
    return Study.create(path, name, space, "random", metric="val_loss", n_trials=n_trials, seed=5)


def sections(epochs: int) -> tuple[dict, dict]:
    data = {"dataset": "digits"}
    model = {"kind": "mlp", "device": "cpu", "epochs": epochs, "patience": 0, "batch_size": 32}
    return data, model


def run_serial(folder: Path, n_trials: int, epochs: int) -> tuple[float, Study]:
    start = time.perf_counter()  # like `hpo-desktop run`: importing torch and loading data count
    import torch

    from hpo_desktop.training.objective import make_objective

    torch.set_num_threads(1)
    data, model = sections(epochs)
    objective = make_objective(data, model, metric="val_loss", direction="minimize", base_dir=folder)
    study = make_study(folder / "serial.db", "serial", n_trials)
    study.optimize(objective)
    return time.perf_counter() - start, study


def run_pool(folder: Path, n_trials: int, epochs: int, workers: int) -> tuple[float, Study]:
    from hpo_desktop.training.pool import LocalProcessExecutor

    start = time.perf_counter()
    data, model = sections(epochs)
    task = builtin_task_for(folder, data, model)
    with LocalProcessExecutor(task, workers, cores=workers, gpus=[]) as executor:
        executor.start()
        study = make_study(folder / f"pool{workers}.db", f"pool{workers}", n_trials)
        study.optimize(None, executor=executor)
    return time.perf_counter() - start, study


def run_ray(folder: Path, n_trials: int, epochs: int, workers: int) -> tuple[float, float, Study]:
    """Two Ray actors on a Ray instance started here (``address = "local"``): the wall time with
    and without starting Ray itself (``ray.init``, which a cluster user pays once, not per study)."""
    from hpo_desktop.training.ray_backend import RayExecutor

    start = time.perf_counter()
    data, model = sections(epochs)
    task = builtin_task_for(folder, data, model)
    executor = RayExecutor(task, workers=workers, address="local", cpus_per_trial=1)
    executor.connect()
    connected = time.perf_counter()
    with executor:
        executor.start()
        study = make_study(folder / f"ray{workers}.db", f"ray{workers}", n_trials)
        study.optimize(None, executor=executor)
    end = time.perf_counter()
    return end - start, end - connected, study


def builtin_task_for(folder: Path, data: dict, model: dict):
    from hpo_desktop.training.pool import builtin_task

    return builtin_task(data, model, metric="val_loss", direction="minimize", base_dir=folder)


def load() -> str:
    try:
        a, b, c = os.getloadavg()
        return f"load average {a:.2f} {b:.2f} {c:.2f}"
    except OSError:  # pragma: no cover - not on this platform
        return "load average unknown"


def measure(which: str, folder: Path, trials: int, epochs: int) -> dict:
    """One run in this (fresh) process: what ``--measure`` prints as JSON."""
    if which == "serial":
        wall, study = run_serial(folder, trials, epochs)
        out = {"wall": wall}
    elif which == "pool":
        wall, study = run_pool(folder, trials, epochs, 2)
        out = {"wall": wall}
    else:
        (folder / "ray").mkdir()  # the job's working_dir: only what the trials need
        wall, warm, study = run_ray(folder / "ray", trials, epochs, 2)
        out = {"wall": wall, "warm": warm}
    out["done"] = sum(t.state.is_finished for t in study.trials)
    out["configs"] = sorted(str(t.params) for t in study.trials)
    study.close()
    return out


def one_round(trials: int, epochs: int, ray: bool, pool_first: bool) -> dict:
    """Each run in a fresh process, as `hpo-desktop run` would be (so each pays its own Python
    start, imports and data loading), timed from outside."""
    import json
    import subprocess

    order = ["pool", "serial"] if pool_first else ["serial", "pool"]
    out: dict = {}
    got: dict = {}
    for which in [*order, *(["ray"] if ray else [])]:
        with tempfile.TemporaryDirectory(prefix="hpo-bench-parallel-") as tmp:
            cmd = [sys.executable, __file__, "--measure", which, "--folder", tmp]
            cmd += ["--trials", str(trials), "--epochs", str(epochs)]
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            out[which] = time.perf_counter() - start
        got[which] = json.loads(proc.stdout.strip().splitlines()[-1])
    if ray:
        out["ray_warm"] = got["ray"]["warm"]
    out["done"] = {k: v["done"] for k, v in got.items()}
    out["same"] = all(v["configs"] == got["serial"]["configs"] for v in got.values())
    return out


def main() -> int:
    import statistics

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 epochs per trial")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, help="epochs per trial (default 30, --quick 3)")
    parser.add_argument("--ray", action="store_true", help="also run workers = 2 as Ray actors")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds, alternating which run goes first (the median ratio is the figure: a shared "
        "machine's load drifts)",
    )
    parser.add_argument("--measure", choices=("serial", "pool", "ray"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    epochs = args.epochs or (3 if args.quick else 30)
    if args.measure:  # a child of one_round
        import json

        print(json.dumps(measure(args.measure, args.folder, args.trials, epochs)))
        return 0
    print(f"cores: {os.cpu_count()}; before: {load()}")
    rounds = []
    for r in range(args.repeat):
        rounds.append(one_round(args.trials, epochs, args.ray, pool_first=bool(r % 2)))
        print(f"round {r + 1}: {load()}", flush=True)
    print(f"\n{args.trials} trials x {epochs} epochs, digits MLP, 1 thread per trial")
    head = f"{'round':<7}{'workers=1 s':>12}{'workers=2 s':>12}{'ratio':>7}"
    if args.ray:
        head += f"{'Ray s':>8}{'w/o init':>9}{'ratio':>7}"
    print(head + f"{'trials done':>13}{'same configs':>14}")
    for r, m in enumerate(rounds, 1):
        line = f"{r:<7}{m['serial']:>12.1f}{m['pool']:>12.1f}{m['pool'] / m['serial']:>7.2f}"
        if args.ray:
            line += f"{m['ray']:>8.1f}{m['ray_warm']:>9.1f}{m['ray'] / m['serial']:>7.2f}"
        done = "/".join(str(v) for v in m["done"].values())
        print(line + f"{done:>13}{'yes' if m['same'] else 'no':>14}")
    ratio = statistics.median(m["pool"] / m["serial"] for m in rounds)
    verdict = "meets" if ratio <= GOAL else "misses"
    print(f"\nmedian ratio workers=2 / workers=1: {ratio:.2f} ({verdict} the goal of <= {GOAL})")
    if args.ray:
        ray_ratio = statistics.median(m["ray"] / m["serial"] for m in rounds)
        warm = statistics.median(m["ray_warm"] / m["serial"] for m in rounds)
        print(f"median ratio Ray (2 actors) / workers=1: {ray_ratio:.2f}; without ray.init: {warm:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
