"""The median stopping rule.

At step s, a trial whose best value so far is worse than the median (``percentile``) of the
best-so-far values that *earlier trials* had at step s is stopped. The earlier trials are the
``n_recent_trials`` latest finished trials (highest trial numbers) that reached step s, complete
or pruned (0: every one of them). A window, not every trial since the start: an adaptive
strategy's proposals improve as the study goes on, and a trial should be held to what the search
proposes now, not to the random initial design; with random search the latest trials are a sample
of the same population, so the rule means the same there. Nothing is stopped before
``n_startup_trials`` trials have completed, before step ``n_warmup_steps``, or off the
``interval_steps`` grid.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from typing import Any

from ..trial import TrialState
from .base import Curve, Pruner, percentile_of, running_best


class MedianPruner(Pruner):
    name = "median"
    label = "Median stopping rule"
    help = "Stop a trial whose best so far is worse than the median of the latest trials at the same epoch."
    options_schema = {
        "n_startup_trials": (int, 5, "completed trials needed before anything is stopped"),
        "n_warmup_steps": (int, 0, "never stop a trial before this step (epoch)"),
        "interval_steps": (int, 1, "decide only every this many steps after the warm-up"),
        "percentile": (float, 50.0, "the bar: 50 = the median; lower stops more trials"),
        "n_recent_trials": (int, 5, "compare with this many latest trials that reached the step (0: all)"),
    }

    @classmethod
    def validate(cls, o: Mapping[str, Any]) -> tuple[str, str] | None:
        if o["n_startup_trials"] < 0:
            return "n_startup_trials", f"must be 0 or more, got {o['n_startup_trials']}"
        if o["n_warmup_steps"] < 0:
            return "n_warmup_steps", f"must be 0 or more, got {o['n_warmup_steps']}"
        if o["interval_steps"] < 1:
            return "interval_steps", f"must be at least 1, got {o['interval_steps']}"
        if not 0.0 < o["percentile"] < 100.0:
            return "percentile", f"must be between 0 and 100 (exclusive), got {o['percentile']:g}"
        if o["n_recent_trials"] < 0:
            return "n_recent_trials", f"must be 0 (all trials) or more, got {o['n_recent_trials']}"
        return None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # step -> (trial number, best-so-far) of the finished trials that reached it, by number
        self._by_number: dict[int, list[tuple[int, float]]] = {}
        self._sorted: dict[int, list[float]] = {}  # step -> the same values, sorted (window 0)
        self._n_complete = 0

    def _learn(self, number: int, state: TrialState, points: list[tuple[int, float]]) -> None:
        if state == TrialState.COMPLETE:
            self._n_complete += 1
        for s, best in running_best(points):
            bisect.insort(self._by_number.setdefault(s, []), (number, best))
            bisect.insort(self._sorted.setdefault(s, []), best)

    def reference(self, step: int) -> list[float]:
        """The best-so-far values (plain, ascending) at ``step`` that the bar is taken from."""
        return sorted(self.plain(v) for v in self._reference(step))

    def _reference(self, step: int) -> list[float]:
        k = self.options["n_recent_trials"]
        if k == 0:
            return self._sorted.get(step, [])
        return sorted(best for _n, best in self._by_number.get(step, [])[-k:])

    def check(self, number: int, curve: Curve) -> str | None:
        o = self.options
        if not curve or self._n_complete < max(1, o["n_startup_trials"]):
            return None
        step = int(curve[-1][0])
        if step < o["n_warmup_steps"] or (step - o["n_warmup_steps"]) % o["interval_steps"]:
            return None
        others = self._reference(step)
        if not others:
            return None
        best = min(self.signed(v) for _s, v in curve)
        bar = percentile_of(others, o["percentile"])
        if best <= bar:
            return None
        what = "median" if o["percentile"] == 50.0 else f"{o['percentile']:g}th percentile"
        which = "earlier trials" if o["n_recent_trials"] == 0 else "latest trials"
        return (
            f"median: best {self.fmt(best)} at step {step} worse than the {what} "
            f"{self.fmt(bar)} of the {len(others)} {which} at that step"
        )
