"""The hyperparameters the built-in trainer understands: names, types, defaults, allowed values.

One table serves three readers: the trainer (defaults for anything a trial does not set), the
spec loader and ``[model]`` validation (clear errors that name the key), and the GUI (help text).
Pure Python: importing it pulls in no torch.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ModelConfigError(ValueError):
    """A bad ``[model]`` key or hyperparameter value; the message names the key."""


@dataclass(frozen=True)
class ParamSpec:
    """One hyperparameter: its kind ("int", "float", "bool", "choice"), default, bounds and help."""

    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # True: the value must be > low, not >= low
    high_open: bool = False  # True: the value must be < high
    choices: tuple[str, ...] = ()


ACTIVATIONS = ("relu", "tanh", "gelu", "silu", "leaky_relu")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
LR_SCHEDULES = ("none", "cosine", "step")
MODEL_KINDS = ("mlp", "cnn")

MODEL_PARAMS: dict[str, ParamSpec] = {
    "hidden_layers": ParamSpec("int", 2, "number of hidden layers (MLP; 0 = a linear model)", 0, 64),
    "hidden_units": ParamSpec(
        "int", 64, "units per hidden layer (MLP), units of the CNN's dense head", 1, 65536
    ),
    "activation": ParamSpec("choice", "relu", "activation function", choices=ACTIVATIONS),
    "dropout": ParamSpec("float", 0.0, "dropout after each hidden layer", 0.0, 1.0, high_open=True),
    "batch_norm": ParamSpec("bool", False, "batch normalization after each hidden / conv layer"),
    "channels": ParamSpec("int", 16, "channels of the first conv layer (CNN; doubled per layer)", 1, 4096),
    "kernel_size": ParamSpec("int", 3, "convolution kernel size (CNN)", 1, 15),
    "conv_layers": ParamSpec("int", 2, "number of conv layers (CNN)", 1, 8),
}

TRAINING_PARAMS: dict[str, ParamSpec] = {
    "optimizer": ParamSpec("choice", "adam", "optimizer", choices=OPTIMIZERS),
    "learning_rate": ParamSpec("float", 1e-3, "learning rate", 0.0, None, low_open=True),
    "momentum": ParamSpec("float", 0.9, "momentum (used by sgd only)", 0.0, 1.0, high_open=True),
    "weight_decay": ParamSpec("float", 0.0, "weight decay (L2; decoupled for adamw)", 0.0, None),
    "batch_size": ParamSpec("int", 64, "mini-batch size", 1, 1 << 24),
    "epochs": ParamSpec("int", 20, "maximum number of epochs", 1, 100_000),
    "lr_schedule": ParamSpec(
        "choice",
        "none",
        "learning-rate schedule: none, cosine (to 0 over the epochs), step (x0.1 after each third of the epochs)",
        choices=LR_SCHEDULES,
    ),
    "grad_clip": ParamSpec("float", 0.0, "clip the gradient norm to this value (0 = off)", 0.0, None),
    "patience": ParamSpec(
        "int", 0, "stop after this many epochs without improving the study metric (0 = off)", 0, None
    ),
}

#: Every hyperparameter a trial (or ``[model]``) may set for the built-in trainer.
ALL_PARAMS: dict[str, ParamSpec] = {**MODEL_PARAMS, **TRAINING_PARAMS}


def check_value(name: str, value: Any, spec: ParamSpec, *, where: str = "parameter") -> Any:
    """Return ``value`` converted to the parameter's Python type, or raise ModelConfigError naming it."""

    def fail(why: str) -> ModelConfigError:
        return ModelConfigError(f"{where} '{name}': {why}")

    if spec.kind == "bool":
        if isinstance(value, bool) or (type(value).__name__ == "bool_"):
            return bool(value)
        raise fail(f"expected true or false, got {value!r}")
    if spec.kind == "choice":
        if isinstance(value, str) and value in spec.choices:
            return str(value)
        raise fail(f"{value!r} is not one of {', '.join(spec.choices)}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise fail(f"expected a number, got {value!r}")
    if spec.kind == "int":
        if isinstance(value, numbers.Integral):
            out: float = int(value)
        elif math.isfinite(float(value)) and float(value).is_integer():
            out = int(value)
        else:
            raise fail(f"expected a whole number, got {value!r}")
    else:
        out = float(value)
        if not math.isfinite(out):
            raise fail(f"expected a finite number, got {value!r}")
    if spec.low is not None and (out <= spec.low if spec.low_open else out < spec.low):
        raise fail(f"must be {'>' if spec.low_open else '>='} {spec.low:g}, got {value!r}")
    if spec.high is not None and (out >= spec.high if spec.high_open else out > spec.high):
        raise fail(f"must be {'<' if spec.high_open else '<='} {spec.high:g}, got {value!r}")
    return out


def check_params(values: Mapping[str, Any], *, where: str = "parameter") -> dict[str, Any]:
    """Validate a set of hyperparameters (unknown names are an error) and return them converted."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        spec = ALL_PARAMS.get(name)
        if spec is None:
            raise ModelConfigError(
                f"unknown {where} '{name}' for the built-in trainer (known: {', '.join(ALL_PARAMS)})"
            )
        out[name] = check_value(name, value, spec, where=where)
    return out


def resolve_params(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every hyperparameter: the given (already checked) values over the documented defaults."""
    return {name: values.get(name, spec.default) for name, spec in ALL_PARAMS.items()}


def check_space(space: Mapping[str, Any]) -> None:
    """Check a search space against the trainer before any trial runs.

    ``space`` maps names to parameter objects from ``hpo_desktop.core.space``. Every
    name must be a hyperparameter the trainer knows, and every value the space can
    produce (bounds and choices) must be acceptable; the error names the parameter.
    """
    for name, param in space.items():
        spec = ALL_PARAMS.get(name)
        if spec is None:
            raise ModelConfigError(
                f"[space] parameter '{name}' is not a hyperparameter of the built-in trainer "
                f"(known: {', '.join(ALL_PARAMS)})"
            )
        if hasattr(param, "choices"):
            values = list(param.choices)
        elif hasattr(param, "value"):
            values = [param.value]
        else:
            values = [param.low, param.high]
        for value in values:
            check_value(name, value, spec, where="[space] parameter")
