"""Grid search: every combination of the space's grid values, each exactly once.

The order is the space's own deterministic grid order (:meth:`SearchSpace.grid`,
last parameter varying fastest), or a seeded shuffle of it with
``shuffle=true``. Points already told (complete, pruned *or failed*) or pending
are skipped, so a study rebuilt from its stored trials continues with the first
combination not yet run. An INTERRUPTED outcome releases its point: it is
handed out again by the next ask.

Points are compared as plain Python values, floats after rounding to 12
significant digits (see :func:`point_key`), so ``0.1 + 0.2`` and ``0.3`` are
the same grid point while ``True``, ``1`` and ``"1"`` stay different choices.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterator, Mapping
from typing import Any

import numpy as np

from hpo_desktop.core.space import DEFAULT_GRID_LIMIT, Categorical, SearchSpace
from hpo_desktop.core.strategies.base import Strategy, StrategyError
from hpo_desktop.core.trial import TrialState


def _norm_value(v: Any, categorical: bool) -> Hashable:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, str):
        return ("s", v)
    if isinstance(v, (int, float)):
        f = float(v)
        r = float(f"{f:.12g}") if f == f else f
        # A categorical keeps 1 and 1.0 apart (the space does); a number does not.
        return ("i" if categorical and isinstance(v, int) else "n", r)
    return ("o", repr(v))


def point_key(space: SearchSpace, params: Mapping[str, Any]) -> tuple[Hashable, ...]:
    """A hashable identity for a parameter set (plain values, floats rounded to 12 digits)."""
    items = []
    for name in sorted(params):
        p = space.get(name)
        items.append((name, _norm_value(params[name], isinstance(p, Categorical))))
    return tuple(items)


class GridStrategy(Strategy):
    """Every combination of the grid values, in a fixed (or seeded shuffled) order."""

    name = "grid"
    label = "Grid search"
    help = (
        "Tries every combination of the grid values once. Floats need a step or a number "
        "of grid points. Good for small spaces; the number of combinations grows fast."
    )
    options_schema = {
        "limit": (int, DEFAULT_GRID_LIMIT, "refuse grids with more combinations than this"),
        "shuffle": (bool, False, "visit the combinations in a seeded random order"),
    }

    def __init__(
        self, space: SearchSpace, *, seed: int | None = None, direction: str = "minimize", **options: Any
    ) -> None:
        super().__init__(space, seed=seed, direction=direction, **options)
        limit = self.options["limit"]
        # Raises SpaceError (floats without step/grid_points) or GridTooLarge (with the size) now.
        self._size = space.grid_size()
        source = space.grid(limit)
        first = next(source, None)  # the generator checks the limit on its first step
        self._source: Iterator[dict[str, Any]] = self._chain(first, source)
        if self.options["shuffle"]:
            points = list(self._source)
            rng = np.random.default_rng(np.random.SeedSequence([self.seed % 2**63, 0x67726964]))
            order = rng.permutation(len(points))
            self._source = iter([points[i] for i in order])
        self._done: set[tuple] = set()
        self._pending: dict[tuple, dict[str, Any]] = {}
        self._released: deque[dict[str, Any]] = deque()
        self._peeked: dict[str, Any] | None = None

    @staticmethod
    def _chain(first: dict[str, Any] | None, rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        if first is not None:
            yield first
            yield from rest

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        out = super().check_options(options)
        if out["limit"] is None or out["limit"] < 1:
            raise StrategyError(
                f"option 'limit' of the grid strategy must be at least 1, got {out['limit']!r}"
            )
        if out["shuffle"] is None:
            out["shuffle"] = False
        return out

    # -- bookkeeping ------------------------------------------------------------
    def _key(self, params: Mapping[str, Any]) -> tuple:
        return point_key(self.space, params)

    def _taken(self, key: tuple) -> bool:
        return key in self._done or key in self._pending

    def _next_fresh(self) -> dict[str, Any] | None:
        """The next grid point not told or pending (kept as a peek until handed out)."""
        while self._peeked is None:
            p = next(self._source, None)
            if p is None:
                return None
            if not self._taken(self._key(p)):
                self._peeked = p
        if self._taken(self._key(self._peeked)):  # told or marked since it was peeked
            self._peeked = None
            return self._next_fresh()
        return self._peeked

    def _next_released(self) -> dict[str, Any] | None:
        while self._released:
            p = self._released[0]
            if not self._taken(self._key(p)):
                return p
            self._released.popleft()
        return None

    # -- interface ----------------------------------------------------------------
    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while len(out) < n:
            p = self._next_released()
            if p is not None:
                self._released.popleft()
            else:
                p = self._next_fresh()
                if p is None:
                    break
                self._peeked = None
            self._pending[self._key(p)] = p
            out.append(dict(p))
        return out

    def tell(
        self, params: Mapping[str, Any], value: float | None, state: TrialState = TrialState.COMPLETE
    ) -> None:
        key = self._key(params)
        if state == TrialState.INTERRUPTED:
            p = self._pending.pop(key, None)
            if p is not None and key not in self._done:
                self._released.append(p)
            return
        if state == TrialState.RUNNING:
            self.mark_pending(params)
            return
        self._pending.pop(key, None)
        self._done.add(key)

    def mark_pending(self, params: Mapping[str, Any]) -> None:
        key = self._key(params)
        if key not in self._done:
            self._pending[key] = dict(params)

    @property
    def exhausted(self) -> bool:
        return self._next_released() is None and self._next_fresh() is None

    def size(self) -> int:
        return self._size
