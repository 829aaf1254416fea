"""Asynchronous successive halving (ASHA).

Rungs sit at geometrically spaced steps: rung k at ``min_resource × reduction_factor^(k +
min_early_stopping_rate)`` (with the defaults 1, 3, 9, 27, … epochs). When a trial first
reports at or past a rung's step, its value there (the best so far) is compared with the
values every finished trial had at that rung: it goes on only when it ranks in the top
``1 / reduction_factor`` of them (the trial itself counted; with fewer than
``reduction_factor`` values only the best goes on, but the very first value always does).
Asynchronous: no trial waits for a rung to fill, so it works with one worker or several.
Rungs at or beyond ``max_resource`` (when given) are skipped: a trial that has reached its
last step is never stopped.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Any

from ..trial import TrialState
from .base import Curve, Pruner


class SuccessiveHalving:
    """Rung bookkeeping of one successive-halving run (ASHA, or one Hyperband bracket)."""

    def __init__(self, min_resource: int, eta: int, rate: int, max_resource: int) -> None:
        self.eta = eta
        self.steps: list[int] = []
        r = min_resource * eta**rate
        while (max_resource <= 0 or r < max_resource) and r <= 10**9:
            self.steps.append(r)
            r *= eta
        self.values: list[list[float]] = [[] for _ in self.steps]  # per rung, sorted

    @staticmethod
    def rung_values(steps: list[int], points: list[tuple[int, float]]) -> list[float]:
        """The best signed value up to (and including) the first report at or past each rung."""
        out: list[float] = []
        best = float("inf")
        k = 0
        for s, v in points:
            if v < best:
                best = v
            while k < len(steps) and s >= steps[k]:
                out.append(best)
                k += 1
            if k == len(steps):
                break
        return out

    def learn(self, points: list[tuple[int, float]]) -> None:
        for k, v in enumerate(self.rung_values(self.steps, points)):
            bisect.insort(self.values[k], v)

    def check(self, curve_signed: list[tuple[int, float]]) -> tuple[int, float, float] | None:
        """``(rung, value, cut-off)`` when the last report crosses a rung below its cut-off."""
        if not self.steps or not curve_signed:
            return None
        step = curve_signed[-1][0]
        prev = curve_signed[-2][0] if len(curve_signed) > 1 else -1
        best = min(v for _s, v in curve_signed)
        for k, r in enumerate(self.steps):
            if r > step:
                break
            if r <= prev:
                continue  # decided at an earlier report
            others = self.values[k]
            n = len(others) + 1
            keep = max(1, n // self.eta)
            pos = bisect.bisect_left(others, best)  # rank of this trial, ties in its favour
            if pos < keep:
                continue
            return k, best, others[keep - 1]
        return None


class ASHAPruner(Pruner):
    name = "asha"
    label = "Successive halving (ASHA)"
    help = "Rungs at 1, 3, 9, 27… epochs: only the top third of the trials at each rung go on."
    options_schema = {
        "min_resource": (int, 1, "the step (epoch) of the first rung"),
        "reduction_factor": (int, 3, "rungs are this factor apart; 1 in this many trials goes on"),
        "min_early_stopping_rate": (int, 0, "skip this many rungs at the start"),
        "max_resource": (
            int,
            0,
            "the steps (epochs) a full trial runs; no rung at or beyond it (0: unknown)",
        ),
    }

    @classmethod
    def validate(cls, o: Mapping[str, Any]) -> tuple[str, str] | None:
        return _check_halving(o)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        o = self.options
        self.halving = SuccessiveHalving(
            o["min_resource"], o["reduction_factor"], o["min_early_stopping_rate"], o["max_resource"]
        )

    def _learn(self, number: int, state: TrialState, points: list[tuple[int, float]]) -> None:
        self.halving.learn(points)

    def check(self, number: int, curve: Curve) -> str | None:
        return _halving_reason(self, self.halving, curve, "asha")


def _check_halving(o: Mapping[str, Any]) -> tuple[str, str] | None:
    if o["min_resource"] < 1:
        return "min_resource", f"must be at least 1, got {o['min_resource']}"
    if o["reduction_factor"] < 2:
        return "reduction_factor", f"must be at least 2, got {o['reduction_factor']}"
    if o.get("min_early_stopping_rate", 0) < 0:
        return "min_early_stopping_rate", f"must be 0 or more, got {o['min_early_stopping_rate']}"
    if o["max_resource"] < 0:
        return "max_resource", f"must be 0 (unknown) or more, got {o['max_resource']}"
    if 0 < o["max_resource"] <= o["min_resource"]:
        return (
            "max_resource",
            f"must be larger than min_resource ({o['min_resource']}), got {o['max_resource']}",
        )
    return None


def _halving_reason(pruner: Pruner, halving: SuccessiveHalving, curve: Curve, label: str) -> str | None:
    signed = [(int(s), pruner.signed(v)) for s, v in curve]
    hit = halving.check(signed)
    if hit is None:
        return None
    k, value, cut = hit
    return (
        f"{label}: below rung {k} (step {halving.steps[k]}) cut-off {pruner.fmt(cut)}, "
        f"best {pruner.fmt(value)}"
    )
