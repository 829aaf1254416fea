# ruff: noqa: TID253 - a user script imports torch at the top, as usual
"""A hand-written training loop (form 2: objective(params, trial)); see docs/scripts.md.

It trains a small network on scikit-learn's 8x8 digits with its own loop, reports
val_loss / val_accuracy each epoch, stops when trial.should_stop() says so, and returns the
best epoch's metrics. hpo-desktop runs it in a separate process and keeps what it prints.
"""

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn


def load():
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    cut = int(0.8 * len(y))
    train, val = order[:cut], order[cut:]
    t = torch.from_numpy
    return (t(X[train]), t(y[train])), (t(X[val]), t(y[val]))


def objective(params, trial):
    torch.manual_seed(trial.seed)
    (x_train, y_train), (x_val, y_val) = load()
    width = int(params["width"])
    model = nn.Sequential(nn.Linear(64, width), nn.ReLU(), nn.Linear(width, 10))
    opt = torch.optim.SGD(model.parameters(), lr=params["learning_rate"], momentum=params["momentum"])
    batch = 64
    best = {"val_loss": float("inf")}
    for epoch in range(1, int(params["epochs"]) + 1):
        model.train()
        order = torch.randperm(len(y_train))
        for i in range(0, len(order), batch):
            idx = order[i : i + batch]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            out = model(x_val)
            val_loss = nn.functional.cross_entropy(out, y_val).item()
            val_accuracy = (out.argmax(1) == y_val).float().mean().item()
        trial.report(epoch, train_loss=loss.item(), val_loss=val_loss, val_accuracy=val_accuracy)
        print(f"epoch {epoch}: val_loss {val_loss:.4f}  val_accuracy {val_accuracy:.3f}")
        if val_loss < best["val_loss"]:
            best = {"val_loss": val_loss, "val_accuracy": val_accuracy, "best_epoch": epoch}
        if trial.should_stop():
            break
    return best
