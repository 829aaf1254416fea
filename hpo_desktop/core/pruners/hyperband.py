"""Hyperband: brackets of successive halving with different first rungs.

With ``s_max = floor(log_eta(max_resource / min_resource))`` there are ``s_max + 1`` brackets;
bracket b runs ASHA with its first rung at ``min_resource × eta^b`` (b = 0 is the most
aggressive, b = s_max has one rung at most). Each bracket compares its trials only with the
other trials of the same bracket.

**Which bracket a trial is in** is decided without any stored state: ``u`` =
``SeedSequence([seed, number, 0x4842])`` mapped to [0, 1), then the bracket whose cumulative
share contains ``u``. Shares follow Hyperband's trial counts, bracket b getting
``ceil((s_max + 1) / (s_max - b + 1) × eta^(s_max - b))`` parts, so aggressive brackets hold
more trials. The same study seed and trial number give the same bracket after a restart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..trial import TrialState
from .asha import SuccessiveHalving, _check_halving, _halving_reason
from .base import Curve, Pruner


class HyperbandPruner(Pruner):
    name = "hyperband"
    label = "Hyperband"
    help = "Several successive-halving brackets with different first rungs; each trial is in one bracket."
    options_schema = {
        "min_resource": (int, 1, "the step (epoch) of the most aggressive bracket's first rung"),
        "max_resource": (int, 30, "the steps (epochs) a full trial runs"),
        "reduction_factor": (int, 3, "rungs are this factor apart; 1 in this many trials goes on"),
    }

    @classmethod
    def validate(cls, o: Mapping[str, Any]) -> tuple[str, str] | None:
        if o["max_resource"] < 1:
            return "max_resource", f"must be at least 1, got {o['max_resource']}"
        return _check_halving(o)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        o = self.options
        eta, lo, hi = o["reduction_factor"], o["min_resource"], o["max_resource"]
        s_max = 0
        while lo * eta ** (s_max + 1) <= hi:
            s_max += 1
        self.brackets = [SuccessiveHalving(lo, eta, b, hi) for b in range(s_max + 1)]
        weights = [math.ceil((s_max + 1) / (s_max - b + 1) * eta ** (s_max - b)) for b in range(s_max + 1)]
        total = float(sum(weights))
        acc, self._edges = 0.0, []
        for w in weights:
            acc += w / total
            self._edges.append(acc)
        self._cache: dict[int, int] = {}

    def bracket_of(self, number: int) -> int:
        """The bracket of trial ``number`` (a pure function of the seed and the number)."""
        b = self._cache.get(number)
        if b is None:
            word = int(np.random.SeedSequence([self.seed, int(number), 0x4842]).generate_state(1)[0])
            u = word / 2**32
            b = next((i for i, edge in enumerate(self._edges) if u < edge), len(self._edges) - 1)
            self._cache[number] = b
        return b

    def _learn(self, number: int, state: TrialState, points: list[tuple[int, float]]) -> None:
        self.brackets[self.bracket_of(number)].learn(points)

    def check(self, number: int, curve: Curve) -> str | None:
        b = self.bracket_of(number)
        return _halving_reason(self, self.brackets[b], curve, f"hyperband bracket {b}")
