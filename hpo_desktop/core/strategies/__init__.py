"""Search strategies and their registry.

Add a strategy = add one module with a :class:`Strategy` subclass + one line in
:data:`STRATEGIES`. The GUI's strategy combo box and the spec loader read the
registry (``name``, ``label``, ``help`` and ``options_schema`` of each class).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hpo_desktop.core.space import SearchSpace
from hpo_desktop.core.strategies.base import Strategy, StrategyError
from hpo_desktop.core.strategies.bayesian import BayesianStrategy
from hpo_desktop.core.strategies.grid import GridStrategy, point_key
from hpo_desktop.core.strategies.random import RandomStrategy

STRATEGIES: dict[str, type[Strategy]] = {
    "grid": GridStrategy,
    "random": RandomStrategy,
    "bayesian": BayesianStrategy,
}


def make_strategy(
    kind: str,
    space: SearchSpace | Mapping[str, Any],
    *,
    seed: int | None = None,
    direction: str = "minimize",
    **options: Any,
) -> Strategy:
    """Build the strategy registered as ``kind`` (options checked; StrategyError names the bad one)."""
    cls = STRATEGIES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        names = list(STRATEGIES)
        choices = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
        raise StrategyError(f"unknown strategy {kind!r}; choose {choices}")
    return cls(SearchSpace.coerce(space), seed=seed, direction=direction, **options)


__all__ = [
    "STRATEGIES",
    "BayesianStrategy",
    "GridStrategy",
    "RandomStrategy",
    "Strategy",
    "StrategyError",
    "make_strategy",
    "point_key",
]
