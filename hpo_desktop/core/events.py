"""Progress events the study loop hands out: plain frozen dataclasses, safe across threads.

The GUI's worker re-emits them as Qt signals; the CLI prints them. They carry
plain Python values only (no tensors, no database rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .trial import TrialState


@dataclass(frozen=True)
class StudyStarted:
    study: str
    budget: int | None
    n_finished: int


@dataclass(frozen=True)
class TrialStarted:
    study: str
    number: int
    params: dict[str, Any]
    seed: int


@dataclass(frozen=True)
class StepReported:
    study: str
    number: int
    step: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class TrialFinished:
    study: str
    number: int
    state: TrialState
    params: dict[str, Any]
    value: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float | None = None
    error: str | None = None
    is_best: bool = False
    #: What the trial keeps beside its results: e.g. pruned_at / pruned_by, a script's log, the
    #: worker and device it ran on.
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StudyFinished:
    """The loop ended. ``reason``: budget, exhausted, stopped, cancelled, failures or timeout."""

    study: str
    reason: str
    message: str
    n_finished: int
    best_number: int | None
    best_value: float | None


Event = StudyStarted | TrialStarted | StepReported | TrialFinished | StudyFinished
