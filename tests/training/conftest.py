"""Shared set-up for the trainer's tests: one CPU thread, a fake trial handle, data loaded once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import torch

from hpo_desktop.training.datasets import PreparedData, load_data

# The test machines have 2 shared cores; one thread keeps tiny networks fast and timings steady.
torch.set_num_threads(1)


@dataclass
class FakeTrial:
    """The study loop's trial handle, reduced to what the trainer uses.

    ``stop_after``: should_stop() turns True once that many epochs were reported.
    """

    seed: int = 0
    number: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    stop_after: int | None = None
    reports: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    stop_calls: int = 0

    def report(self, step: int, **metrics: float) -> None:
        self.reports.append((step, dict(metrics)))

    def should_stop(self) -> bool:
        self.stop_calls += 1
        return self.stop_after is not None and len(self.reports) >= self.stop_after

    def curve(self, name: str) -> list[float]:
        return [m[name] for _, m in self.reports]


@pytest.fixture
def make_trial():
    return FakeTrial


@pytest.fixture(scope="session")
def digits() -> PreparedData:
    return load_data({"dataset": "digits"})


@pytest.fixture(scope="session")
def diabetes() -> PreparedData:
    return load_data({"dataset": "diabetes"})
