"""Epochs per second: HPO Desktop's trainer against the textbook PyTorch loop, in one run.

Both train the same MLP (2 x 64, ReLU, Adam lr 1e-3, batch 64) on the same digits split and
evaluate the validation split after every epoch. The textbook loop is the one from the PyTorch
tutorials: ``DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)``, batches moved to the
device one by one, ``loss.item()`` per batch. Goal: ours >= 3x.

    python bench/training_throughput.py --quick            # < 1 minute on a laptop CPU
    python bench/training_throughput.py --device cuda
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from hpo_desktop.training.datasets import load_data  # noqa: E402
from hpo_desktop.training.devices import describe_device, resolve_device  # noqa: E402
from hpo_desktop.training.models import build_model  # noqa: E402
from hpo_desktop.training.params import resolve_params  # noqa: E402
from hpo_desktop.training.trainer import DeviceData, QuietTrial, train  # noqa: E402

MODEL = {"hidden_layers": 2, "hidden_units": 64, "activation": "relu"}
TRAINING = {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": 64}


def textbook(data, device: torch.device, epochs: int, seed: int) -> tuple[float, float]:
    """The tutorial loop. Returns (seconds, final validation accuracy)."""
    torch.manual_seed(seed)
    started = time.perf_counter()
    model = build_model("mlp", MODEL, data.input_shape, data.n_outputs).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=TRAINING["learning_rate"])
    criterion = nn.CrossEntropyLoss()
    train_loader = DataLoader(
        TensorDataset(torch.from_numpy(data.X_train), torch.from_numpy(data.y_train)),
        batch_size=64,
        shuffle=True,
    )
    val_loader = DataLoader(
        TensorDataset(torch.from_numpy(data.X_val), torch.from_numpy(data.y_val)), batch_size=64
    )
    accuracy = 0.0
    for _ in range(epochs):
        model.train()
        running = 0.0
        for xb, yb in train_loader:
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            loss = criterion(model(xb), yb)
            loss.backward()
            opt.step()
            running += loss.item() * len(xb)
        model.eval()
        correct, total, val_loss = 0, 0, 0.0
        with torch.no_grad():
            for xb, yb in val_loader:
                xb, yb = xb.to(device), yb.to(device)
                out = model(xb)
                val_loss += criterion(out, yb).item() * len(xb)
                correct += (out.argmax(1) == yb).sum().item()
                total += len(xb)
        accuracy = correct / total
    return time.perf_counter() - started, accuracy


def ours(data, dd: DeviceData, epochs: int, seed: int, cuda_graphs: bool = True) -> tuple[float, float]:
    """HPO Desktop's trainer. Returns (seconds, final validation accuracy)."""
    params = resolve_params({**MODEL, **TRAINING, "epochs": epochs})
    started = time.perf_counter()
    trial = QuietTrial(seed=seed)
    train(dd, params, trial, metric="val_accuracy", direction="maximize", cuda_graphs=cuda_graphs)
    seconds = time.perf_counter() - started
    return seconds, trial.reports[-1][1]["val_accuracy"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and repeats (under a minute)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--epochs", type=int, default=0, help="epochs per run (default 10 quick, 30 full)")
    parser.add_argument(
        "--repeats", type=int, default=0, help="runs per loop, best kept (default 3 quick, 5 full)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    epochs = args.epochs or (10 if args.quick else 30)
    repeats = args.repeats or (3 if args.quick else 5)
    device = resolve_device(args.device)
    data = load_data({"dataset": "digits"})
    dd = DeviceData(data, device)

    # Warm up both paths (allocator, kernels, thread pools) before timing.
    textbook(data, device, 1, 0)
    ours(data, dd, 2, 0)

    results: dict[str, list[tuple[float, float]]] = {"textbook (DataLoader)": [], "hpo-desktop trainer": []}
    if device.type == "cuda":
        results["  same, no CUDA graph"] = []
        ours(data, dd, 1, 0, cuda_graphs=False)
    for r in range(repeats):  # interleaved, so drifting machine load hits all alike
        results["textbook (DataLoader)"].append(textbook(data, device, epochs, r))
        results["hpo-desktop trainer"].append(ours(data, dd, epochs, r))
        if device.type == "cuda":
            results["  same, no CUDA graph"].append(ours(data, dd, epochs, r, cuda_graphs=False))

    print(f"device: {describe_device(device)}   torch {torch.__version__}   data: {data.summary()}")
    print(f"model: MLP 2x64 relu, adam lr 1e-3, batch 64; {epochs} epochs per run, best of {repeats} runs")
    print()
    print(f"{'loop':<24}{'best s/run':>12}{'median s/run':>14}{'epochs/s':>11}{'val acc':>10}")
    rate: dict[str, float] = {}
    for name, runs in results.items():
        secs = [s for s, _ in runs]
        rate[name] = epochs / min(secs)
        acc = statistics.mean(a for _, a in runs)
        print(f"{name:<24}{min(secs):>12.3f}{statistics.median(secs):>14.3f}{rate[name]:>11.1f}{acc:>10.3f}")
    ratio = rate["hpo-desktop trainer"] / rate["textbook (DataLoader)"]
    print()
    print(
        f"ratio (ours / textbook, epochs per second): {ratio:.2f}x   goal >= 3x: {'met' if ratio >= 3 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
