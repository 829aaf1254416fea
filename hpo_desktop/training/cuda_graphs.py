"""One training step captured as a CUDA graph and replayed for every full batch.

A small network's batch is a few dozen tiny kernels; launched one by one from Python, the GPU
spends most of its time waiting for the next launch. Captured once, the whole step (forward,
loss, backward, clipping, optimizer update, loss sum) replays as a single launch. This follows
PyTorch's "whole network capture" recipe: a few real warm-up steps on a side stream, gradients
set to None before capture so backward allocates them from the graph's private pool, and the
learning rate kept in a device tensor so a schedule can change it between replays.

Partial batches (the end of an epoch) run eagerly with the same optimizer state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch

log = logging.getLogger(__name__)

#: Eager steps on a side stream before capture (PyTorch's recipe uses three).
WARMUP_STEPS = 3


class GraphedStep:
    """Capture ``step(x, y)`` (one full training step on a batch of ``batch`` rows) and replay it."""

    def __init__(
        self, batch: int, X: torch.Tensor, y: torch.Tensor, params: list[torch.nn.Parameter]
    ) -> None:
        self.static_x = torch.zeros((batch, *X.shape[1:]), dtype=X.dtype, device=X.device)
        self.static_y = torch.zeros((batch, *y.shape[1:]), dtype=y.dtype, device=y.device)
        self.params = params
        self.graph: torch.cuda.CUDAGraph | None = None
        self.warmups = 0
        self._grads: list[torch.Tensor | None] = []
        self._side = torch.cuda.Stream(device=X.device)

    @property
    def ready(self) -> bool:
        return self.graph is not None

    def warm_up(
        self, step: Callable[[torch.Tensor, torch.Tensor], None], xb: torch.Tensor, yb: torch.Tensor
    ) -> None:
        """One real training step on the side stream (it counts: it trains on this batch)."""
        current = torch.cuda.current_stream(xb.device)
        self._side.wait_stream(current)
        with torch.cuda.stream(self._side):
            step(xb, yb)
        current.wait_stream(self._side)
        self.warmups += 1

    def capture(self, step: Callable[[torch.Tensor, torch.Tensor], None]) -> bool:
        """Record ``step`` on the static batch (nothing runs yet). False if this step cannot be captured."""
        for p in self.params:
            p.grad = None
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                step(self.static_x, self.static_y)
        except Exception as exc:  # an op that cannot be captured: train eagerly instead
            log.warning("CUDA graph capture failed, training without it: %s", exc)
            for p in self.params:
                p.grad = None
            return False
        self.graph = graph
        self._grads = [p.grad for p in self.params]
        return True

    def replay(self, xb: torch.Tensor, yb: torch.Tensor) -> None:
        """Train on one full batch: copy it into the static inputs and replay the captured step."""
        self.static_x.copy_(xb)
        self.static_y.copy_(yb)
        assert self.graph is not None
        self.graph.replay()

    def restore_grads(self) -> None:
        """After an eager step, point ``.grad`` back at the graph's own gradient buffers."""
        for p, g in zip(self.params, self._grads, strict=True):
            p.grad = g
