# ruff: noqa: TID253 - a user script imports torch at the top, as usual
"""A convolutional network for scikit-learn's 8x8 digits, written by hand (form 1: build_model).

hpo-desktop's trainer trains it: batches, optimizer, metrics, early stopping and the device are
the trainer's; this file only says what the network is. See docs/scripts.md.
"""

from torch import nn


class DigitsCNN(nn.Module):
    def __init__(self, filters: int, kernel: int, dense: int, dropout: float, n_outputs: int):
        super().__init__()
        pad = kernel // 2
        self.features = nn.Sequential(
            nn.Conv2d(1, filters, kernel, padding=pad),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 8x8 -> 4x4
            nn.Conv2d(filters, 2 * filters, kernel, padding=pad),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 4x4 -> 2x2
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(2 * filters * 2 * 2, dense),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(dense, n_outputs),
        )

    def forward(self, x):
        # Rows arrive flat, (batch, 64): give them back their image shape.
        return self.head(self.features(x.view(-1, 1, 8, 8)))


def build_model(params, input_shape, n_outputs):
    """params: the trial's values ("filters", "kernel" are this file's own names) over the
    [model] values over the trainer's defaults; input_shape is (1, 8, 8) for digits."""
    assert tuple(input_shape) == (1, 8, 8), f"expected 8x8 images, got {input_shape}"
    return DigitsCNN(
        filters=int(params["filters"]),
        kernel=int(params["kernel"]),
        dense=int(params["hidden_units"]),
        dropout=float(params["dropout"]),
        n_outputs=n_outputs,
    )
