"""The interface every search strategy implements.

A strategy is built from the space and then told every trial already stored,
so a study reopened tomorrow continues where it stopped; its state is never
pickled. Internally every strategy *minimizes*: the study loop passes the
study's direction and strategies flip the sign for "maximize" themselves.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from ..space import SearchSpace
from ..trial import FrozenTrial, TrialState


class StrategyError(ValueError):
    """Bad strategy options (the message names the option)."""


class Strategy(ABC):
    """Propose parameter sets and learn from outcomes.

    Subclasses set ``name``, ``label`` and ``help`` (shown by the GUI), declare
    their options in ``options_schema`` (name -> (type, default, help)), and
    implement :meth:`ask` and :meth:`tell`.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    help: ClassVar[str] = ""
    options_schema: ClassVar[dict[str, tuple[type | tuple[type, ...], Any, str]]] = {}

    def __init__(
        self,
        space: SearchSpace,
        *,
        seed: int | None = None,
        direction: str = "minimize",
        **options: Any,
    ) -> None:
        if direction not in ("minimize", "maximize"):
            raise StrategyError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
        self.space = space
        self.seed = 0 if seed is None else int(seed)
        self.direction = direction
        self.options = self.check_options(options)

    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """Fill defaults and reject unknown or mistyped options with a clear message."""
        out: dict[str, Any] = {}
        unknown = sorted(set(options) - set(cls.options_schema))
        if unknown:
            allowed = ", ".join(sorted(cls.options_schema)) or "none"
            raise StrategyError(
                f"unknown option {unknown[0]!r} for the {cls.name} strategy (allowed: {allowed})"
            )
        for key, (typ, default, _help) in cls.options_schema.items():
            value = options.get(key, default)
            types = typ if isinstance(typ, tuple) else (typ,)
            if float in types:
                types = (*types, int)
            wrong_bool = isinstance(value, bool) and bool not in types
            if value is not None and (not isinstance(value, types) or wrong_bool):
                raise StrategyError(
                    f"option {key!r} of the {cls.name} strategy must be {_type_name(typ)}, got {value!r}"
                )
            out[key] = value
        return out

    # -- the interface ---------------------------------------------------------
    @abstractmethod
    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        """Up to ``n`` new parameter sets (plain Python values, active params only).

        Returns fewer (possibly none) when the strategy is exhausted (grid).
        Points handed out and not yet told are *pending*: a batch never repeats
        them.
        """

    @abstractmethod
    def tell(
        self, params: Mapping[str, Any], value: float | None, state: TrialState = TrialState.COMPLETE
    ) -> None:
        """Record an outcome.

        ``state`` is COMPLETE (``value`` is the metric), PRUNED (``value`` is the
        last reported metric, or None) or FAILED (``value`` ignored). INTERRUPTED
        outcomes release a pending point without teaching anything.
        """

    @property
    def exhausted(self) -> bool:
        """True when ask() can hand out nothing more (only grid ever is)."""
        return False

    def size(self) -> int | None:
        """The total number of distinct points, where finite (grid), else None."""
        return None

    # -- helpers -----------------------------------------------------------------
    def tell_trials(self, trials: Iterable[FrozenTrial]) -> None:
        """Warm start from stored trials (running ones are treated as pending)."""
        for t in trials:
            if t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED):
                self.tell(t.params, t.value, t.state)
            elif t.state == TrialState.RUNNING:
                self.mark_pending(t.params)

    def mark_pending(self, params: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        """Note a point being evaluated elsewhere (so batches avoid it)."""

    def signed(self, value: float) -> float:
        """The value to minimize."""
        return -value if self.direction == "maximize" else value

    @staticmethod
    def is_finite(value: float | None) -> bool:
        return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def _type_name(typ: type | tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false", dict: "a table"}
    if isinstance(typ, tuple):
        return " or ".join(names.get(t, t.__name__) for t in typ)
    return names.get(typ, typ.__name__)
