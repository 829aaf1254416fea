"""Patience / threshold: stop a trial that stopped improving, or that is worse than a bar.

Looks only at the trial's own curve (no other trial matters, so a restart changes nothing):

* **patience**: stop when the best value has not improved by more than ``min_delta`` for
  ``patience`` steps (0 turns this off);
* **threshold**: stop when the best value so far is worse than ``threshold`` (below it when
  maximizing, above it when minimizing; unset turns this off).

Neither rule acts before step ``n_warmup_steps``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .base import Curve, Pruner


class PatiencePruner(Pruner):
    name = "patience"
    label = "Patience / threshold"
    help = "Stop a trial with no improvement for N epochs, or whose best is still worse than a bar."
    options_schema = {
        "patience": (int, 5, "steps (epochs) without improvement before stopping; 0: off"),
        "min_delta": (float, 0.0, "a smaller change does not count as an improvement"),
        "threshold": ((float, type(None)), None, "stop when the best so far is worse than this (unset: off)"),
        "n_warmup_steps": (int, 0, "never stop a trial before this step (epoch)"),
    }

    @classmethod
    def validate(cls, o: Mapping[str, Any]) -> tuple[str, str] | None:
        if o["patience"] < 0:
            return "patience", f"must be 0 (off) or more, got {o['patience']}"
        if o["min_delta"] < 0 or not math.isfinite(o["min_delta"]):
            return "min_delta", f"must be a finite number ≥ 0, got {o['min_delta']:g}"
        if o["threshold"] is not None and not math.isfinite(o["threshold"]):
            return "threshold", f"must be a finite number, got {o['threshold']:g}"
        if o["n_warmup_steps"] < 0:
            return "n_warmup_steps", f"must be 0 or more, got {o['n_warmup_steps']}"
        if o["patience"] == 0 and o["threshold"] is None:
            return "patience", "is 0 and no threshold is set: this pruner would never stop a trial"
        return None

    def check(self, number: int, curve: Curve) -> str | None:
        o = self.options
        if not curve:
            return None
        step = int(curve[-1][0])
        if step < o["n_warmup_steps"]:
            return None
        best, best_step = math.inf, None
        for s, v in curve:
            sv = self.signed(v)
            if best_step is None or sv < best - o["min_delta"]:
                best, best_step = sv, int(s)
            elif sv < best:
                best = sv  # a little better, but not by more than min_delta
        threshold = o["threshold"]
        if threshold is not None and best > self.signed(threshold):
            return f"patience: best {self.fmt(best)} at step {step} worse than the threshold {threshold:g}"
        if o["patience"] and best_step is not None and step - best_step >= o["patience"]:
            return (
                f"patience: no improvement for {step - best_step} steps "
                f"(best {self.fmt(best)} at step {best_step})"
            )
        return None
