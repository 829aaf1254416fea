"""Starting files for ``hpo-desktop init --template custom-model|custom-objective DIR``.

Plain text only (no torch): a commented script and a spec that runs it. See docs/scripts.md.
"""

from __future__ import annotations

from pathlib import Path

CUSTOM_MODEL_SCRIPT = '''\
"""Your own network, trained by hpo-desktop's trainer (form 1, see docs/scripts.md).

hpo-desktop calls build_model() once per trial, with that trial's params. Our trainer does the rest: batches, optimizer, learning-rate schedule, early stopping,
metrics (train_loss, val_loss, val_accuracy or val_rmse/val_r2), the device and the live charts.

This file runs in a separate process. Whatever it prints is kept with the trial (the trial
details in the app show it). Run a quick check first: python model.py
"""

import torch
from torch import nn


def build_model(params, input_shape, n_outputs):
    """Return a torch.nn.Module for one trial.

    params       every value of this trial: the [space] parameters (your own names, like
                 "width", and trainer ones, like "learning_rate"), over the fixed values in
                 [model], over the trainer's defaults.
    input_shape  the shape of one sample, e.g. (64,) for a table or (1, 8, 8) for an image.
                 Rows arrive flat: (batch, 64); reshape them yourself for convolutions.
    n_outputs    classes for classification, 1 for regression.
    """
    n_inputs = 1
    for size in input_shape:
        n_inputs *= int(size)
    width = int(params.get("width", 64))
    layers = []
    for _ in range(int(params.get("depth", 2))):
        layers += [nn.Linear(n_inputs, width), nn.ReLU()]
        n_inputs = width
    layers.append(nn.Linear(n_inputs, n_outputs))
    return nn.Sequential(*layers)


# Optional: your own data instead of a [data] section. Return (X, y) as numpy arrays or tensors:
# X with one row (or one image) per sample, y the targets. hpo-desktop splits, scales and
# encodes them as it does a [data] file. Remove [data] from the spec to use it.
#
# def load_data():
#     import numpy as np
#     X = np.load("features.npy")
#     y = np.load("labels.npy")
#     return X, y


if __name__ == "__main__":  # a quick check outside hpo-desktop
    model = build_model({"width": 32, "depth": 2}, (64,), 10)
    print(model)
    print(model(torch.zeros(4, 64)).shape)
'''

CUSTOM_MODEL_SPEC = """\
# A study that tunes your own network (model.py). Run it with:
#   hpo-desktop run custom_model.toml --trust
# (--trust once: the script is code; hpo-desktop asks before it runs a new or changed script.)

[study]
name = "custom-model"
metric = "val_accuracy"        # what our trainer reports: val_accuracy, val_loss, ...
direction = "maximize"
trials = 12

[strategy]
kind = "bayesian"

[data]
dataset = "digits"             # or csv = "my.csv" with target = "column", or use load_data()

[model]
script = "model.py"            # defines build_model(params, input_shape, n_outputs)
epochs = 10
patience = 3
device = "auto"
time_limit = 300               # seconds per trial; a trial running longer is stopped

[space]
width = { type = "int", low = 16, high = 256, log = true }     # your own parameter
depth = { type = "int", low = 1, high = 3 }                    # your own parameter
learning_rate = { type = "float", low = 1e-4, high = 1e-1, log = true }
batch_size = { type = "categorical", choices = [32, 64, 128] }
"""

CUSTOM_OBJECTIVE_SCRIPT = '''\
"""Your own training loop (form 2, see docs/scripts.md).

hpo-desktop calls objective(params, trial) once per trial, in a separate process. Train however
you like; along the way call trial.report(step, name=value, ...) so the live charts follow, and
stop early when trial.should_stop() says so (the user pressed Stop, or a pruner gave up on the
trial). Return the final metrics: a number (the study's metric) or a dict that holds it.

Whatever this prints is kept with the trial. An exception, a crash or a hang past the time
limit fails only this trial; the study goes on.
"""

import math

import torch
from torch import nn


def make_data(seed=0, n=600):
    """A small regression problem: y = sin(3x) + noise. Replace it with your own data."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, generator=g) * 2 - 1
    y = torch.sin(3 * x) + 0.1 * torch.randn(n, 1, generator=g)
    cut = int(0.8 * n)
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def objective(params, trial):
    """params: this trial's values from [space]. trial: report(), should_stop(), number, seed."""
    torch.manual_seed(trial.seed)
    (x_train, y_train), (x_val, y_val) = make_data()
    width = int(params["width"])
    model = nn.Sequential(nn.Linear(1, width), nn.Tanh(), nn.Linear(width, 1))
    opt = torch.optim.Adam(model.parameters(), lr=params["learning_rate"])
    best = math.inf
    for epoch in range(1, int(params.get("epochs", 30)) + 1):
        for i in range(0, len(x_train), 32):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x_train[i : i + 32]), y_train[i : i + 32])
            loss.backward()
            opt.step()
        with torch.no_grad():
            val_loss = nn.functional.mse_loss(model(x_val), y_val).item()
        best = min(best, val_loss)
        trial.report(epoch, val_loss=val_loss, train_loss=loss.item())
        if trial.should_stop():
            break
    print(f"trial {trial.number}: best val_loss {best:.4f}")
    return {"val_loss": best}
'''

CUSTOM_OBJECTIVE_SPEC = """\
# A study that runs your own training loop (train.py). Run it with:
#   hpo-desktop run custom_objective.toml --trust
# (--trust once: the script is code; hpo-desktop asks before it runs a new or changed script.)

[study]
name = "custom-objective"
metric = "val_loss"            # a name your objective reports / returns
direction = "minimize"
trials = 12

[strategy]
kind = "bayesian"

[objective]
script = "train.py"            # defines objective(params, trial)
time_limit = 120               # seconds per trial; a trial running longer is stopped

[space]
width = { type = "int", low = 4, high = 128, log = true }
learning_rate = { type = "float", low = 1e-4, high = 1e-1, log = true }
epochs = { type = "fixed", value = 30 }
"""

#: template name -> {file name: text}
TEMPLATES: dict[str, dict[str, str]] = {
    "custom-model": {"model.py": CUSTOM_MODEL_SCRIPT, "custom_model.toml": CUSTOM_MODEL_SPEC},
    "custom-objective": {"train.py": CUSTOM_OBJECTIVE_SCRIPT, "custom_objective.toml": CUSTOM_OBJECTIVE_SPEC},
}


def write_template(name: str, folder: Path) -> list[Path]:
    """Write template ``name`` into ``folder`` (made if missing); returns the files, the spec last.

    Raises FileExistsError naming the first file that exists already (nothing is written then).
    """
    files = TEMPLATES[name]
    targets = [folder / file for file in files]
    for target in targets:
        if target.exists():
            raise FileExistsError(str(target))
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for target, text in zip(targets, files.values()):
        with open(target, "x", encoding="utf-8") as fh:  # "x": never overwrite, even in a race
            fh.write(text)
        written.append(target)
    return written
