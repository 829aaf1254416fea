"""The median stopping rule.

At step s, a trial whose best value so far is worse than the median (``percentile``) of the
best-so-far values that the *completed* trials had at step s is stopped. Completed trials only
(as Optuna's MedianPruner and Google Vizier's rule do): as the study goes on they are the
survivors, so the bar rises with the study. Nothing is stopped before ``n_startup_trials``
trials have completed, before step ``n_warmup_steps``, or off the ``interval_steps`` grid.
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
    help = "Stop a trial whose best so far is worse than the median of completed trials at the same epoch."
    options_schema = {
        "n_startup_trials": (int, 5, "completed trials needed before anything is stopped"),
        "n_warmup_steps": (int, 0, "never stop a trial before this step (epoch)"),
        "interval_steps": (int, 1, "decide only every this many steps after the warm-up"),
        "percentile": (float, 50.0, "the bar: 50 = the median; lower stops more trials"),
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
        return None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._at: dict[int, list[float]] = {}  # step -> sorted best-so-far of completed trials
        self._n_complete = 0

    def _learn(self, number: int, state: TrialState, points: list[tuple[int, float]]) -> None:
        if state != TrialState.COMPLETE:
            return
        self._n_complete += 1
        for s, best in running_best(points):
            bisect.insort(self._at.setdefault(s, []), best)

    def check(self, number: int, curve: Curve) -> str | None:
        o = self.options
        if not curve or self._n_complete < max(1, o["n_startup_trials"]):
            return None
        step = int(curve[-1][0])
        if step < o["n_warmup_steps"] or (step - o["n_warmup_steps"]) % o["interval_steps"]:
            return None
        others = self._at.get(step)
        if not others:
            return None
        best = min(self.signed(v) for _s, v in curve)
        bar = percentile_of(others, o["percentile"])
        if best <= bar:
            return None
        what = "median" if o["percentile"] == 50.0 else f"{o['percentile']:g}th percentile"
        return (
            f"median: best {self.fmt(best)} at step {step} worse than the {what} "
            f"{self.fmt(bar)} of {len(others)} completed trials"
        )
