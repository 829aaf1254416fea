"""Trial states and the immutable record of a stored trial."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any


class TrialState(str, enum.Enum):
    """Life cycle of a trial. Stored as the lowercase string value."""

    RUNNING = "running"
    COMPLETE = "complete"
    PRUNED = "pruned"
    FAILED = "failed"
    INTERRUPTED = "interrupted"

    @property
    def is_finished(self) -> bool:
        """Finished trials count toward the budget; interrupted ones are re-run."""
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED)

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.value


@dataclass(frozen=True)
class FrozenTrial:
    """One trial as stored: safe to hand across threads.

    ``value`` is the study's metric (``None`` while running or when the trial
    failed before producing one); ``metrics`` holds the final value of every
    metric the objective returned; ``curves`` maps metric name to a list of
    ``(step, value)`` pairs reported while it ran (filled only when asked for).
    """

    study_id: int
    trial_id: int
    number: int
    state: TrialState
    params: dict[str, Any]
    value: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    seed: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = None
    last_step: int | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)

    @property
    def has_finite_value(self) -> bool:
        return self.value is not None and math.isfinite(self.value)


class TrialFailed(Exception):
    """Raised by an objective to fail a trial with a plain reason (e.g. "diverged").

    The study loop stores ``str(exc)`` as the trial's error without a type prefix
    and goes on with the next trial.
    """


class TrialPruned(Exception):
    """Raised by an objective when it stopped early because a pruner said so."""
