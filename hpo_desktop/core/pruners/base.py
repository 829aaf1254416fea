"""The interface every pruner implements.

A pruner decides, from reports only, whether a running trial should stop early. It is built
from its options and the study's direction, then *told* every finished trial's curve of the
study metric (:meth:`Pruner.observe`): first the stored trials when a study starts (so a study
reopened tomorrow decides exactly as before), then each trial as it finishes. :meth:`check`
looks at the running trial's own curve and returns the reason to stop it, or None.

Internally every pruner *minimizes*: values are signed (negated for "maximize"), and NaN counts
as the worst value. Decisions must take well under a millisecond (bench/pruning.py measures
them): state is kept in sorted lists, updated once per finished trial.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from ..trial import FrozenTrial, TrialState

Curve = Sequence[tuple[int, float]]


class PrunerError(ValueError):
    """Bad pruner options (the message names the option)."""


class Pruner(ABC):
    """Stop unpromising trials early.

    Subclasses set ``name``, ``label`` and ``help`` (one line, shown by the GUI), declare their
    options in ``options_schema`` (name -> (type, default, help)), check ranges in
    :meth:`validate`, and implement :meth:`check` (and :meth:`observe` when they learn from
    other trials).
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    help: ClassVar[str] = ""
    options_schema: ClassVar[dict[str, tuple[type | tuple[type, ...], Any, str]]] = {}

    def __init__(self, *, direction: str = "minimize", seed: int | None = 0, **options: Any) -> None:
        if direction not in ("minimize", "maximize"):
            raise PrunerError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
        self.direction = direction
        self.seed = 0 if seed is None else int(seed)
        self.options = self.check_options(options)
        self._observed: set[int] = set()

    # -- options -----------------------------------------------------------------------------
    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """Fill defaults; reject unknown, mistyped or out-of-range options with a clear message."""
        unknown = sorted(set(options) - set(cls.options_schema))
        if unknown:
            allowed = ", ".join(sorted(cls.options_schema)) or "none"
            raise PrunerError(f"unknown option {unknown[0]!r} for the {cls.name} pruner (allowed: {allowed})")
        out: dict[str, Any] = {}
        for key, (typ, default, _help) in cls.options_schema.items():
            value = options.get(key, default)
            types = typ if isinstance(typ, tuple) else (typ,)
            if float in types:
                types = (*types, int)
            wrong_bool = isinstance(value, bool) and bool not in types
            if value is not None and (not isinstance(value, types) or wrong_bool):
                raise PrunerError(
                    f"option {key!r} of the {cls.name} pruner must be {_type_name(typ)}, got {value!r}"
                )
            if value is None and default is not None:
                raise PrunerError(f"option {key!r} of the {cls.name} pruner must be {_type_name(typ)}")
            if typ is float and isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            out[key] = value
        problem = cls.validate(out)
        if problem:
            raise PrunerError(f"option {problem[0]!r} of the {cls.name} pruner {problem[1]}")
        return out

    @classmethod
    def validate(cls, options: Mapping[str, Any]) -> tuple[str, str] | None:
        """``(option, "must be …, got …")`` for the first out-of-range option, or None."""
        return None

    # -- the interface -----------------------------------------------------------------------
    def observe(self, number: int, state: TrialState, curve: Curve) -> None:
        """Learn from a finished trial (COMPLETE or PRUNED; other states are ignored).

        ``curve`` is the trial's ``(step, value)`` reports of the study metric, in any order.
        A trial already observed is ignored, so telling stored trials twice is harmless.
        """
        if number in self._observed or state not in (TrialState.COMPLETE, TrialState.PRUNED):
            return
        self._observed.add(number)
        points = sorted((int(s), self.signed(v)) for s, v in curve)
        if points:
            self._learn(number, state, points)

    def observe_trials(self, trials: Iterable[FrozenTrial], metric: str) -> None:
        """Observe stored trials (loaded with their curves)."""
        for t in trials:
            self.observe(t.number, t.state, t.curves.get(metric, ()))

    @abstractmethod
    def check(self, number: int, curve: Curve) -> str | None:
        """The reason to stop trial ``number`` now, or None to let it go on.

        ``curve`` holds the trial's reports so far as ``(step, value)`` pairs in step order
        (plain values of the study metric, not signed); the last pair is the report just made.
        """

    def _learn(self, number: int, state: TrialState, points: list[tuple[int, float]]) -> None:  # noqa: B027
        """Update the state from a finished trial's signed, step-sorted curve."""

    # -- helpers -----------------------------------------------------------------------------
    def signed(self, value: float) -> float:
        """The value to minimize (NaN is the worst value)."""
        v = float(value)
        if math.isnan(v):
            return math.inf
        return -v if self.direction == "maximize" else v

    def plain(self, signed: float) -> float:
        return -signed if self.direction == "maximize" else signed

    def fmt(self, signed: float) -> str:
        return f"{self.plain(signed):.4g}"


class NoPruner(Pruner):
    """Never stops a trial."""

    name = "none"
    label = "None"
    help = "Every trial runs all its epochs."

    def check(self, number: int, curve: Curve) -> str | None:
        return None


def running_best(points: Sequence[tuple[int, float]]) -> list[tuple[int, float]]:
    """``(step, best signed value so far)`` for a step-sorted signed curve."""
    out: list[tuple[int, float]] = []
    best = math.inf
    for s, v in points:
        if v < best:
            best = v
        out.append((s, best))
    return out


def percentile_of(sorted_values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of sorted values, linear interpolation (numpy's default)."""
    n = len(sorted_values)
    pos = (n - 1) * q / 100.0
    lo = int(math.floor(pos))
    hi = min(lo + 1, n - 1)
    a, b = sorted_values[lo], sorted_values[hi]
    if a == b or math.isinf(a) or math.isinf(b):
        return a if pos == lo else (a if a == b else (b if pos - lo > 0.5 else a))
    return a + (b - a) * (pos - lo)


def _type_name(typ: type | tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}
    if isinstance(typ, tuple):
        return " or ".join(names.get(t, t.__name__) for t in typ if t is not type(None))
    return names.get(typ, typ.__name__)
