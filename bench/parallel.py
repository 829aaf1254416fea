"""Wall time of a 12-trial CPU study with ``workers = 2`` against ``workers = 1`` (issue 12).

The study: the built-in MLP (2 hidden layers of 384-640 units, batch 32, no early stopping: about
2.5-4 s a trial here) on the digits data set, random strategy with a fixed seed (both runs
train the same 12 configurations), every trial single-threaded (``torch.set_num_threads(1)``;
the two worker processes get ``cores // workers`` = 1 thread each as on a 2-core machine). The
``workers = 1`` run is today's default: the objective in this process, one trial after another
(its time includes importing torch and loading the data, as `hpo-desktop run` does). The
``workers = 2`` run is two spawned worker processes (training/pool.py); its time includes
starting them (spawn, importing torch, loading the data in each). Both runs are in the same
invocation, one after the other; the goal is a ratio of at most 0.65.

    python bench/parallel.py            # 12 trials of 30 epochs (1.5-2 minutes here)
    python bench/parallel.py --ray      # and the same with 2 Ray actors on a local Ray instance
                                        # (needs the ray extra; its start-up is shown apart)
    python bench/parallel.py --quick    # 12 trials of 3 epochs: checks it runs; start-up
                                        # dominates, so its ratio says little

The machines are shared and noisy: the load average (uptime) is printed before and after.
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
    from hpo_desktop.training.pool import LocalProcessExecutor, builtin_task

    start = time.perf_counter()
    data, model = sections(epochs)
    task = builtin_task(data, model, metric="val_loss", direction="minimize", base_dir=folder)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 epochs per trial")
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, help="epochs per trial (default 30, --quick 3)")
    parser.add_argument("--ray", action="store_true", help="also run workers = 2 as Ray actors")
    args = parser.parse_args()
    epochs = args.epochs or (3 if args.quick else 30)
    print(f"cores: {os.cpu_count()}; before: {load()}")
    with tempfile.TemporaryDirectory(prefix="hpo-bench-parallel-") as tmp:
        folder = Path(tmp)
        t1, s1 = run_serial(folder, args.trials, epochs)
        t2, s2 = run_pool(folder, args.trials, epochs, 2)
        done1 = sum(t.state.is_finished for t in s1.trials)
        done2 = sum(t.state.is_finished for t in s2.trials)
        configs1 = sorted(str(t.params) for t in s1.trials)
        same = configs1 == sorted(str(t.params) for t in s2.trials)
        s1.close()
        s2.close()
        if args.ray:
            (folder / "ray").mkdir()  # the job's working_dir: only what the trials need
            t3, t3_warm, s3 = run_ray(folder / "ray", args.trials, epochs, 2)
            done3 = sum(t.state.is_finished for t in s3.trials)
            same3 = configs1 == sorted(str(t.params) for t in s3.trials)
            s3.close()
    print(f"after: {load()}")
    print(f"\n{args.trials} trials x {epochs} epochs, digits MLP, 1 thread per trial")
    print(f"{'run':<28}{'wall s':>10}{'trials done':>14}")
    print(f"{'workers = 1 (in-process)':<28}{t1:>10.1f}{done1:>14}")
    print(f"{'workers = 2 (processes)':<28}{t2:>10.1f}{done2:>14}")
    if args.ray:
        print(f"{'workers = 2 (Ray actors)':<28}{t3:>10.1f}{done3:>14}")
        print(f"{'  … without ray.init':<28}{t3_warm:>10.1f}")
    ratio = t2 / t1
    verdict = "meets" if ratio <= GOAL else "misses"
    print(f"\nratio workers=2 / workers=1: {ratio:.2f} ({verdict} the goal of <= {GOAL})")
    print(f"same configurations trained: {'yes' if same else 'no'}")
    if args.ray:
        print(f"ratio Ray (2 actors) / workers=1: {t3 / t1:.2f}; without ray.init: {t3_warm / t1:.2f}")
        print(f"Ray trained the same configurations: {'yes' if same3 else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
