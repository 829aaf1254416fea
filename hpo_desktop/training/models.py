"""Networks the built-in trainer can tune: an MLP for tables and a small CNN for images.

Both take flat float32 rows (``(batch, prod(input_shape))``) so the trainer handles every data
set the same way; the CNN reshapes to ``input_shape`` itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from .params import MODEL_KINDS, MODEL_PARAMS, ModelConfigError, check_value

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "leaky_relu": nn.LeakyReLU,
}


def _param(params: Mapping[str, Any], name: str) -> Any:
    spec = MODEL_PARAMS[name]
    return check_value(name, params[name], spec) if name in params else spec.default


class MLP(nn.Sequential):
    """Fully connected layers: Linear -> [BatchNorm] -> activation -> [Dropout], then a linear head."""

    def __init__(
        self,
        n_inputs: int,
        n_outputs: int,
        *,
        hidden_layers: int = 2,
        hidden_units: int = 64,
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        layers: list[nn.Module] = []  # inputs are already flat rows
        width = n_inputs
        for _ in range(hidden_layers):
            layers.append(nn.Linear(width, hidden_units))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden_units))
            layers.append(_ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = hidden_units
        layers.append(nn.Linear(width, n_outputs))
        super().__init__(*layers)


class SmallCNN(nn.Module):
    """``conv_layers`` blocks of Conv -> [BatchNorm] -> activation -> MaxPool(2) (while the image is
    at least 2 pixels wide), channels doubling per block, then a dense head of ``hidden_units``."""

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        n_outputs: int,
        *,
        channels: int = 16,
        kernel_size: int = 3,
        conv_layers: int = 2,
        hidden_units: int = 64,
        activation: str = "relu",
        dropout: float = 0.0,
        batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.input_shape = tuple(input_shape)
        c, h, w = self.input_shape
        blocks: list[nn.Module] = []
        for i in range(conv_layers):
            out_c = channels * 2 ** min(i, 3)
            if kernel_size % 2:
                blocks.append(nn.Conv2d(c, out_c, kernel_size, padding=kernel_size // 2))
            else:  # "same" size for an even kernel: pad one more on the right and bottom
                lo, hi = (kernel_size - 1) // 2, kernel_size // 2
                blocks.extend([nn.ZeroPad2d((lo, hi, lo, hi)), nn.Conv2d(c, out_c, kernel_size)])
            if batch_norm:
                blocks.append(nn.BatchNorm2d(out_c))
            blocks.append(_ACTIVATIONS[activation]())
            if min(h, w) >= 2:
                blocks.append(nn.MaxPool2d(2))
                h, w = h // 2, w // 2
            c = out_c
        self.features = nn.Sequential(*blocks)
        head: list[nn.Module] = [nn.Flatten(), nn.Linear(c * h * w, hidden_units), _ACTIVATIONS[activation]()]
        if dropout > 0:
            head.append(nn.Dropout(dropout))
        head.append(nn.Linear(hidden_units, n_outputs))
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.view(x.shape[0], *self.input_shape)))


def build_model(
    kind: str, params: Mapping[str, Any], input_shape: tuple[int, ...], n_outputs: int
) -> nn.Module:
    """The network ``kind`` ("mlp" or "cnn") with the model params in ``params`` (others are ignored).

    Raises :class:`ModelConfigError` for an unknown kind, a bad value, or a CNN on non-image data.
    """
    if kind not in MODEL_KINDS:
        raise ModelConfigError(f"[model] 'kind' must be one of {', '.join(MODEL_KINDS)}, got {kind!r}")
    common = {name: _param(params, name) for name in ("hidden_units", "activation", "dropout", "batch_norm")}
    if kind == "mlp":
        return MLP(math.prod(input_shape), n_outputs, hidden_layers=_param(params, "hidden_layers"), **common)
    if len(input_shape) != 3:
        raise ModelConfigError(
            f"[model] kind = 'cnn' needs image data (channels x height x width), but this data set has "
            f"{math.prod(input_shape)} tabular features; use kind = 'mlp'"
        )
    return SmallCNN(
        (int(input_shape[0]), int(input_shape[1]), int(input_shape[2])),
        n_outputs,
        channels=_param(params, "channels"),
        kernel_size=_param(params, "kernel_size"),
        conv_layers=_param(params, "conv_layers"),
        **common,
    )


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
