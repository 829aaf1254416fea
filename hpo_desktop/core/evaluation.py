"""Final evaluations on the test split: the stored record and its summary (no torch, no Qt).

An evaluation retrains one trial's configuration with several seeds and scores the held-out
test split; it is stored apart from the search (table ``evaluations``, see ``docs/schema.md``),
so the search never sees a test metric. The training itself is in
:mod:`hpo_desktop.training.evaluation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["EvaluationError", "EvaluationRecord", "format_summary", "mean_std"]


class EvaluationError(ValueError):
    """An evaluation cannot be made as asked (no such trial, no complete trial, bad seeds)."""


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1; 0.0 for a single value)."""
    n = len(values)
    if n == 0:
        return math.nan, math.nan
    mean = math.fsum(values) / n
    if n == 1:
        return mean, 0.0
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var)


@dataclass(frozen=True)
class EvaluationRecord:
    """One row of the ``evaluations`` table: a trial's configuration retrained with ``seeds``.

    ``per_seed[i]`` holds the metrics of the run with ``seeds[i]`` (``test_accuracy`` or
    ``test_rmse``/``test_r2``, ``test_loss``, and bookkeeping such as ``epochs_run``).
    """

    id: int
    study_id: int
    trial_number: int
    params: dict[str, Any]
    seeds: list[int]
    include_validation: bool
    per_seed: list[dict[str, float]]
    created_at: str  # ISO-8601, UTC
    device: str

    @property
    def summary(self) -> dict[str, tuple[float, float]]:
        """Metric name -> (mean, sample std; 0.0 with one seed) over the seeds that report it."""
        names: list[str] = []
        for row in self.per_seed:
            names += [n for n in row if n not in names]
        return {
            n: mean_std([float(row[n]) for row in self.per_seed if row.get(n) is not None]) for n in names
        }

    @property
    def test_metrics(self) -> list[str]:
        """The ``test_*`` metric names: the task's scores first, ``test_loss`` last."""
        names = [n for n in self.summary if n.startswith("test_")]
        return sorted(names, key=lambda n: n == "test_loss")


def _num(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    return f"{x:.3f}" if abs(x) >= 1e-3 or x == 0 else f"{x:.3g}"


def format_summary(record: EvaluationRecord) -> str:
    """One line such as ``"test_accuracy 0.962 ± 0.004, test_loss 0.121 ± 0.010 (3 seeds)"``."""
    summary = record.summary
    parts = [f"{n} {_num(summary[n][0])} ± {_num(summary[n][1])}" for n in record.test_metrics]
    n = len(record.per_seed)
    seeds = f"{n} seed{'s' if n != 1 else ''}"
    return f"{', '.join(parts) or 'no test metrics'} ({seeds})"
