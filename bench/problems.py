"""Benchmark problems shared by the bench scripts: spaces, objectives and known optima.

Every problem is *minimized*. ``Problem.f(params)`` takes the active parameters of a point of
``Problem.space`` (plain Python values, as our strategies hand them out) and returns a float;
``Problem.optimum`` is the known global minimum (None where it is unknown: the digits MLP,
whose score is the validation error itself).

- ``branin``   Branin-Hoo, 2-D, x1 in [-5, 10], x2 in [0, 15]; minimum 0.397887 (three minimizers).
- ``hartmann6`` Hartmann-6 on [0, 1]^6; minimum -3.32237.
- ``ackley5``  Ackley, 5-D, each x in [-32.768, 32.768] (the usual domain); minimum 0 at the origin.
- ``mixed``    a synthetic "training run" with two categoricals (optimizer, activation), a
  parameter active only for one of them (momentum, when optimizer = sgd), a log-scale float,
  a log-scale int and a float; minimum 0 (adam, relu, lr 1e-3, 256 units, dropout 0.2).
- ``digits``   a real task: an MLP on scikit-learn's 8x8 digits trained by HPO Desktop's trainer
  for a fixed 8 epochs (no early stopping, one torch thread, training seed 0 so a point always
  scores the same); 6 hyperparameters; the value is 1 - the best validation accuracy (270
  validation images, so one image is 0.0037).

``to_optuna(space, trial)`` draws a point of one of our spaces through an Optuna trial
(define-by-run, so conditional parameters are only asked for when active).
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from hpo_desktop.core.space import Categorical, Fixed, Float, Int, SearchSpace, space_of  # noqa: E402


@dataclass(frozen=True)
class Problem:
    name: str
    title: str
    make_space: Callable[[], SearchSpace]
    f: Callable[[Mapping[str, Any]], float]
    optimum: float | None
    grid_ok: bool = False  # a full grid of ~N points makes sense (low-dimensional, numeric)
    expensive: bool = False


# -- Branin ---------------------------------------------------------------------------------------
def branin_space(grid_points: int | None = None) -> SearchSpace:
    return space_of(
        x1=Float(-5.0, 10.0, grid_points=grid_points),
        x2=Float(0.0, 15.0, grid_points=grid_points),
    )


def branin(p: Mapping[str, Any]) -> float:
    x1, x2 = float(p["x1"]), float(p["x2"])
    return (
        (x2 - 5.1 / (4 * math.pi**2) * x1**2 + 5 / math.pi * x1 - 6) ** 2
        + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1)
        + 10
    )


# -- Hartmann-6 ----------------------------------------------------------------------------------
_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6_space() -> SearchSpace:
    return space_of(**{f"x{i}": Float(0.0, 1.0) for i in range(6)})


def hartmann6(p: Mapping[str, Any]) -> float:
    x = np.array([float(p[f"x{i}"]) for i in range(6)])
    inner = np.sum(_H6_A * (x - _H6_P) ** 2, axis=1)
    return float(-np.sum(_H6_ALPHA * np.exp(-inner)))


# -- Ackley 5-D ----------------------------------------------------------------------------------
def ackley5_space() -> SearchSpace:
    return space_of(**{f"x{i}": Float(-32.768, 32.768) for i in range(5)})


def ackley5(p: Mapping[str, Any]) -> float:
    x = np.array([float(p[f"x{i}"]) for i in range(5)])
    d = len(x)
    return float(
        -20 * math.exp(-0.2 * math.sqrt(np.sum(x**2) / d))
        - math.exp(np.sum(np.cos(2 * math.pi * x)) / d)
        + 20
        + math.e
    )


# -- mixed: two categoricals and a conditional ------------------------------------------------------
def mixed_space() -> SearchSpace:
    return space_of(
        optimizer=Categorical(("sgd", "adam", "rmsprop")),
        activation=Categorical(("relu", "tanh", "gelu", "sigmoid")),
        lr=Float(1e-5, 1e-1, log=True),
        momentum=Float(0.0, 0.99, when={"optimizer": "sgd"}),
        units=Int(8, 1024, log=True),
        dropout=Float(0.0, 0.7),
    )


_BEST_LR = {"sgd": -1.5, "adam": -3.0, "rmsprop": -3.5}
_OPT_OFFSET = {"sgd": 0.1, "adam": 0.0, "rmsprop": 0.05}
_ACT_OFFSET = {"relu": 0.0, "tanh": 0.08, "gelu": 0.02, "sigmoid": 0.3}


def mixed(p: Mapping[str, Any]) -> float:
    opt = p["optimizer"]
    value = (
        _OPT_OFFSET[opt]
        + _ACT_OFFSET[p["activation"]]
        + 0.5 * (math.log10(p["lr"]) - _BEST_LR[opt]) ** 2
        + 0.05 * (math.log2(p["units"]) - 8) ** 2
        + (p["dropout"] - 0.2) ** 2
    )
    if opt == "sgd":  # momentum matters (and exists) only for sgd
        value += 2 * (p["momentum"] - 0.9) ** 2
    return float(value)


# -- digits MLP (real training) -------------------------------------------------------------------
DIGITS_EPOCHS = 8


def digits_space() -> SearchSpace:
    return space_of(
        learning_rate=Float(1e-4, 1e-1, log=True),
        batch_size=Categorical((32, 64, 128)),
        hidden_layers=Int(1, 3),
        hidden_units=Int(16, 256, log=True),
        activation=Categorical(("relu", "tanh", "gelu")),
        dropout=Float(0.0, 0.5),
    )


_DIGITS: dict[str, Any] = {}


def digits_data() -> Any:
    """The digits split on the CPU, loaded once per process."""
    if "dd" not in _DIGITS:
        import torch

        from hpo_desktop.training.datasets import load_data
        from hpo_desktop.training.trainer import DeviceData

        torch.set_num_threads(1)
        _DIGITS["dd"] = DeviceData(load_data({"dataset": "digits"}), torch.device("cpu"))
    return _DIGITS["dd"]


def digits(p: Mapping[str, Any]) -> float:
    from hpo_desktop.training.params import resolve_params
    from hpo_desktop.training.trainer import QuietTrial, train

    params = resolve_params({**dict(p), "optimizer": "adam", "epochs": DIGITS_EPOCHS, "patience": 0})
    try:
        result = train(digits_data(), params, QuietTrial(seed=0), metric="val_accuracy", direction="maximize")
    except Exception:  # a diverged run scores as chance level
        return 0.9
    return 1.0 - float(result.metrics["val_accuracy"])


PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in (
        Problem("branin", "Branin (2-D)", branin_space, branin, 0.397887, grid_ok=True),
        Problem("hartmann6", "Hartmann-6", hartmann6_space, hartmann6, -3.32237),
        Problem("ackley5", "Ackley 5-D", ackley5_space, ackley5, 0.0),
        Problem("mixed", "mixed: 2 categoricals + conditional", mixed_space, mixed, 0.0),
        Problem("digits", "digits MLP, 6 hyperparameters", digits_space, digits, None, expensive=True),
    )
}


# -- Optuna ---------------------------------------------------------------------------------------
def to_optuna(space: SearchSpace, trial: Any) -> dict[str, Any]:
    """Suggest every active parameter of ``space`` through an Optuna trial (declaration order;
    a conditional parameter is suggested only when its parents' values make it active)."""
    out: dict[str, Any] = {}
    for name in space:
        param = space[name]
        if not space.is_active(name, out):
            continue
        if isinstance(param, Fixed):
            out[name] = param.value
        elif isinstance(param, Categorical):
            out[name] = trial.suggest_categorical(name, list(param.choices))
        elif isinstance(param, Int):
            out[name] = trial.suggest_int(name, int(param.low), int(param.high), log=param.log)
        elif isinstance(param, Float):
            out[name] = trial.suggest_float(name, param.low, param.high, log=param.log, step=param.step)
    return out


def optuna_distributions(space: SearchSpace) -> dict[str, Any]:
    """Optuna distributions for every parameter of a space without conditions (for ``create_trial``)."""
    import optuna.distributions as od

    out: dict[str, Any] = {}
    for name in space:
        p = space[name]
        if isinstance(p, Categorical):
            out[name] = od.CategoricalDistribution(list(p.choices))
        elif isinstance(p, Int):
            out[name] = od.IntDistribution(int(p.low), int(p.high), log=p.log)
        elif isinstance(p, Float):
            out[name] = od.FloatDistribution(p.low, p.high, log=p.log, step=p.step)
    return out


# -- plots (shared by the benchmark scripts) -------------------------------------------------------

#: One colour per contender, the same in every plot.
COLORS = {
    "random": (140, 140, 140),
    "grid": (90, 60, 30),
    "bayes-GP": (31, 119, 180),
    "bayes-RF": (44, 160, 44),
    "bayes-ET": (23, 190, 207),
    "optuna-TPE": (255, 127, 14),
    "optuna-GP": (214, 39, 40),
    "skopt-gp_minimize": (148, 103, 189),
}


def figure(width: int, height: int) -> Any:
    """An offscreen pyqtgraph layout on white, for a PNG."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    figure.app = QApplication.instance() or QApplication([])  # kept alive with the figure
    pg.setConfigOptions(antialias=True, background="w", foreground="k")
    win = pg.GraphicsLayoutWidget()
    win.resize(width, height)
    return win


def save_figure(win: Any, path: Path) -> None:
    from PySide6.QtWidgets import QApplication

    path.parent.mkdir(parents=True, exist_ok=True)
    win.show()
    QApplication.processEvents()
    win.grab().save(str(path))
    win.close()
    print(f"\nplot: {path}")
