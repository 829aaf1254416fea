"""Random search: independent draws, or a quasi-random (Sobol / Latin hypercube) design.

Restart-consistent by construction: the k-th point handed out depends only on
``(seed, k)``, where k is the number of points already told or pending. A study
reopened tomorrow is rebuilt by telling it its stored trials; k then equals the
number of stored trials and the sequence goes on where it stopped instead of
starting over. If the k-th point happens to equal a point already told or
pending (only possible in small discrete spaces, or after an interrupted trial
released its slot) the strategy moves on to k+1, k+2, … (at most 100 steps,
then accepts a repeat: tiny discrete spaces do run out).

Designs (option ``design``):

* ``"random"`` — ``space.sample`` with a generator seeded by ``(seed, k)``;
  log-scaled parameters are drawn uniformly in log space.
* ``"sobol"`` — the k-th point of one scrambled Sobol' sequence seeded by
  ``seed`` (:class:`scipy.stats.qmc.Sobol`, which can jump straight to point k
  with ``fast_forward``; skopt's sampler can only generate a whole prefix).
* ``"lhs"`` — Latin hypercube blocks of ``design_size`` points: block
  ``k // design_size`` is an LHS seeded by ``(seed, block)``
  (:class:`scipy.stats.qmc.LatinHypercube`) and point k is its row
  ``k % design_size``. Each full block is stratified in every parameter.

Quasi-random points live in the unit cube (one coordinate per parameter, fixed
ones included, so adding a parameter never shifts the others) and are mapped
with :meth:`SearchSpace.from_unit` (log scales, steps and choices respected).
Conditional parameters are drawn like the others and dropped when inactive.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from hpo_desktop.core.space import SearchSpace
from hpo_desktop.core.strategies.base import Strategy, StrategyError
from hpo_desktop.core.strategies.grid import point_key
from hpo_desktop.core.trial import TrialState

DESIGNS = ("random", "sobol", "lhs")
_MAX_SKIP = 100


class RandomStrategy(Strategy):
    """Independent random draws (or a Sobol / LHS design), seeded and restart-consistent."""

    name = "random"
    label = "Random search"
    help = (
        "Draws parameter sets at random (log-scaled parameters in log space). A strong baseline; "
        "'sobol' and 'lhs' designs cover the space more evenly."
    )
    options_schema = {
        "design": (str, "random", "random, sobol or lhs"),
        "design_size": (int, 64, "points per Latin hypercube block (lhs design)"),
    }

    def __init__(
        self, space: SearchSpace, *, seed: int | None = None, direction: str = "minimize", **options: Any
    ) -> None:
        super().__init__(space, seed=seed, direction=direction, **options)
        self._entropy = self.seed % 2**63
        self._done: set[tuple] = set()
        self._n_told = 0
        self._pending: dict[tuple, int] = {}  # key -> how many times it is pending
        self._sobol: Any = None
        self._lhs_block: tuple[int, np.ndarray] | None = None

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        out = super().check_options(options)
        if out["design"] not in DESIGNS:
            raise StrategyError(
                f"option 'design' of the random strategy must be random, sobol or lhs, got {out['design']!r}"
            )
        if out["design_size"] is None or out["design_size"] < 1:
            raise StrategyError(
                f"option 'design_size' of the random strategy must be at least 1, got {out['design_size']!r}"
            )
        return out

    # -- the sequence -------------------------------------------------------------
    def point(self, k: int) -> dict[str, Any]:
        """The k-th point of this strategy's sequence (a pure function of seed and k)."""
        design = self.options["design"]
        if design == "random":
            rng = np.random.default_rng(np.random.SeedSequence([self._entropy, k]))
            return self.space.sample(rng)
        if design == "sobol":
            return self.space.from_unit(self._sobol_point(k))
        return self.space.from_unit(self._lhs_point(k))

    def _sobol_point(self, k: int) -> np.ndarray:
        from scipy.stats import qmc

        if self._sobol is None:
            self._sobol = qmc.Sobol(d=len(self.space), scramble=True, seed=self._entropy)
        eng = self._sobol
        if eng.num_generated != k:
            eng.reset()
            eng.fast_forward(k)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "balance properties need 2**m points": we go on forever
            return eng.random(1)[0]

    def _lhs_point(self, k: int) -> np.ndarray:
        from scipy.stats import qmc

        size = self.options["design_size"]
        block, row = divmod(k, size)
        if self._lhs_block is None or self._lhs_block[0] != block:
            rng = np.random.default_rng(np.random.SeedSequence([self._entropy, block]))
            pts = qmc.LatinHypercube(d=len(self.space), seed=rng).random(size)
            self._lhs_block = (block, pts)
        return self._lhs_block[1][row]

    # -- interface ------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for _ in range(n):
            k = self._n_told + sum(self._pending.values())
            first = self.point(k)
            p, key = first, point_key(self.space, first)
            for j in range(1, _MAX_SKIP + 1):
                if key not in self._done and key not in self._pending:
                    break
                p = self.point(k + j)
                key = point_key(self.space, p)
            else:
                p, key = first, point_key(self.space, first)  # a tiny discrete space: repeats are allowed
            self._pending[key] = self._pending.get(key, 0) + 1
            out.append(p)
        return out

    def tell(
        self, params: Mapping[str, Any], value: float | None, state: TrialState = TrialState.COMPLETE
    ) -> None:
        if state == TrialState.RUNNING:
            self.mark_pending(params)
            return
        key = point_key(self.space, params)
        self._release(key)
        if state != TrialState.INTERRUPTED:
            self._done.add(key)
            self._n_told += 1

    def _release(self, key: tuple) -> None:
        count = self._pending.get(key, 0)
        if count > 1:
            self._pending[key] = count - 1
        elif count:
            del self._pending[key]

    def mark_pending(self, params: Mapping[str, Any]) -> None:
        key = point_key(self.space, params)
        self._pending[key] = self._pending.get(key, 0) + 1
