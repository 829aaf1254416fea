"""Ready-made rows: a sensible range for each trainer hyperparameter, and the template groups.

Qt-free. The ranges are starting points a user would pick for a first study on a small data set;
every one passes the trainer's own checks (a test asserts it).
"""

from __future__ import annotations

from typing import Any

from hpo_desktop.training.params import ALL_PARAMS

from .space_rows import new_row

#: name -> the row a new parameter of that name starts as.
SUGGESTED: dict[str, dict[str, Any]] = {
    "learning_rate": new_row("learning_rate", "float", low="0.0001", high="0.1", log=True),
    "batch_size": new_row("batch_size", "categorical", values="32, 64, 128"),
    "hidden_units": new_row("hidden_units", "int", low="16", high="256", log=True),
    "hidden_layers": new_row("hidden_layers", "int", low="1", high="3"),
    "dropout": new_row("dropout", "float", low="0.0", high="0.5"),
    "activation": new_row("activation", "categorical", values="relu, tanh, gelu"),
    "optimizer": new_row("optimizer", "categorical", values="adam, sgd, adamw"),
    "momentum": new_row("momentum", "float", low="0.5", high="0.99", condition="optimizer = sgd"),
    "weight_decay": new_row("weight_decay", "float", low="1e-6", high="0.01", log=True),
    "batch_norm": new_row("batch_norm", "categorical", values="false, true"),
    "channels": new_row("channels", "int", low="8", high="64", log=True),
    "kernel_size": new_row("kernel_size", "categorical", values="3, 5"),
    "conv_layers": new_row("conv_layers", "int", low="1", high="3"),
    "epochs": new_row("epochs", "int", low="10", high="50", step="10"),
    "lr_schedule": new_row("lr_schedule", "categorical", values="none, cosine, step"),
    "grad_clip": new_row("grad_clip", "float", low="0.5", high="5.0"),
    "patience": new_row("patience", "int", low="3", high="10"),
}

#: Menu text -> the names it adds, in order.
TEMPLATES: dict[str, tuple[str, ...]] = {
    "MLP (layers, units, activation, dropout)": ("hidden_layers", "hidden_units", "activation", "dropout"),
    "CNN (channels, kernel size, conv layers)": ("channels", "kernel_size", "conv_layers"),
    "Optimizer settings (optimizer, learning rate, momentum when sgd, weight decay)": (
        "optimizer",
        "learning_rate",
        "momentum",
        "weight_decay",
    ),
    "Training (batch size, epochs, lr schedule)": ("batch_size", "epochs", "lr_schedule"),
}


def suggested_row(name: str, existing: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """A fresh row for ``name``; a condition on a parent that is not in ``existing`` is left out."""
    row = dict(SUGGESTED.get(name) or new_row(name, "float", low="0.0", high="1.0"))
    parent = row["condition"].split("=")[0].strip() if row["condition"] else ""
    if parent and parent not in existing:
        row["condition"] = ""
    return row


def next_unused_name(existing: set[str]) -> str | None:
    """The first hyperparameter (in the order of :data:`SUGGESTED`) not yet in the space."""
    for name in [*SUGGESTED, *ALL_PARAMS]:
        if name not in existing:
            return name
    return None


def template_rows(title: str, existing: set[str]) -> list[dict[str, Any]]:
    """The rows a template adds, skipping names already present."""
    names = [n for n in TEMPLATES[title] if n not in existing]
    present = set(existing) | set(names)
    return [suggested_row(n, present) for n in names]


def help_text(name: str) -> str:
    """One line about a hyperparameter for tooltips: what it is, its kind and default."""
    spec = ALL_PARAMS.get(name)
    if spec is None:
        return ""
    kind = {"choice": "one of " + ", ".join(spec.choices), "bool": "true or false"}.get(spec.kind, spec.kind)
    default = spec.default
    if isinstance(default, bool):
        default = "true" if default else "false"
    return f"{name}: {spec.help} ({kind}; default {default})"
