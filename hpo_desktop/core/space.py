"""Search spaces: parameter kinds, validation, sampling, grids and plain-dict round trips.

A space is an ordered mapping of names to parameters. A parameter may carry a
``when`` condition on categorical parents (``{"optimizer": "sgd"}`` or
``{"optimizer": ["sgd", "rmsprop"]}``); when a condition does not hold the
parameter is *inactive* and absent from a trial's params.

The module is pure Python + numpy; skopt is imported only by
:meth:`SearchSpace.to_skopt_dimensions`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

Scalar = str | int | float | bool
DEFAULT_GRID_LIMIT = 100_000


class SpaceError(ValueError):
    """An invalid search space. ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = [str(p) for p in self.problems]
        if len(lines) == 1:
            msg = lines[0]
        else:
            msg = f"{len(lines)} problems in the search space:\n" + "\n".join(f"- {s}" for s in lines)
        super().__init__(msg)


class ConfigError(ValueError):
    """A typed configuration does not fit the space. ``problems`` lists every problem, each
    starting with the parameter's name (``"learning_rate: 2.0 is above the upper bound 0.1"``)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class GridTooLarge(ValueError):
    """The grid would have more combinations than the allowed limit."""

    def __init__(self, size: int, limit: int):
        self.size = size
        self.limit = limit
        super().__init__(
            f"the grid has {size:,} combinations, more than the limit of {limit:,}; "
            "give float parameters fewer grid points, use larger steps, or choose the "
            "random or Bayesian strategy"
        )


@dataclass(frozen=True)
class Problem:
    """One validation problem: the parameter it concerns (or None) and a message."""

    param: str | None
    message: str
    field: str | None = None  # "low", "high", "step", "choices", "when", "name", ...

    def __str__(self) -> str:
        return f"parameter '{self.param}': {self.message}" if self.param else self.message


#: A parameter that others depend on (a condition's parent) is walked value by value.
_MAX_BRANCH_VALUES = 100_000


def _normalize_when(when: Mapping[str, Any] | None) -> dict[str, tuple[Any, ...]]:
    if not when:
        return {}
    out: dict[str, tuple[Any, ...]] = {}
    for parent, values in dict(when).items():
        if isinstance(values, (list, tuple, set, frozenset)):
            out[parent] = tuple(values)
        else:
            out[parent] = (values,)
    return out


def _same_choice(a: Any, b: Any) -> bool:
    """Equality that keeps True apart from 1 and 1 apart from "1"."""
    return type(a) is type(b) and a == b


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _plain(x: Any) -> Any:
    """Convert numpy scalars to the matching plain Python type."""
    if isinstance(x, np.generic):
        return x.item()
    return x


@dataclass(frozen=True)
class Param:
    """Base of all parameter kinds."""

    kind: ClassVar[str] = ""
    when: Mapping[str, Any] | None = field(default=None, kw_only=True)

    @property
    def conditions(self) -> dict[str, tuple[Any, ...]]:
        return _normalize_when(self.when)

    def problems(self, name: str) -> list[Problem]:
        return []

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.kind}
        d.update(self._fields_dict())
        if self.conditions:
            d["when"] = {k: (list(v) if len(v) > 1 else v[0]) for k, v in self.conditions.items()}
        return d

    def _fields_dict(self) -> dict[str, Any]:  # pragma: no cover - overridden
        return {}

    # Numeric interface, overridden where it applies.
    def sample(self, rng: np.random.Generator) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def grid_count(self) -> int:
        """How many values :meth:`grid_values` gives (overridden where listing them is costly)."""
        return len(self.grid_values())

    def grid_values(self) -> list[Any]:  # pragma: no cover - overridden
        raise NotImplementedError

    def contains(self, value: Any) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def placeholder(self) -> Any:
        """A value in the domain used where a flat representation needs the inactive param."""
        raise NotImplementedError  # pragma: no cover


@dataclass(frozen=True)
class _Numeric(Param):
    low: float
    high: float
    log: bool = False
    step: float | None = None
    grid_points: int | None = None

    def _bounds_problems(self, name: str) -> list[Problem]:
        out: list[Problem] = []
        for fname in ("low", "high"):
            v = getattr(self, fname)
            if not _is_number(v):
                out.append(Problem(name, f"{fname} must be a number, got {v!r}", fname))
            elif not math.isfinite(v):
                out.append(Problem(name, f"{fname} must be finite, got {v}", fname))
        if out:
            return out
        if self.low >= self.high:
            out.append(Problem(name, f"low ({self.low:g}) must be less than high ({self.high:g})", "low"))
        if self.log and self.low <= 0:
            out.append(Problem(name, f"a log scale needs low > 0, got low = {self.low:g}", "low"))
        if not isinstance(self.log, bool):
            out.append(Problem(name, f"log must be true or false, got {self.log!r}", "log"))
        if self.step is not None:
            if not _is_number(self.step) or not math.isfinite(self.step) or self.step <= 0:
                out.append(Problem(name, f"step must be a positive number, got {self.step!r}", "step"))
            elif self.log:
                out.append(Problem(name, "step cannot be combined with a log scale", "step"))
            elif self.low < self.high:
                n = (self.high - self.low) / self.step
                if abs(n - round(n)) > 1e-9 * max(1.0, abs(n)):
                    out.append(
                        Problem(
                            name,
                            f"step {self.step:g} does not fit the range {self.low:g}..{self.high:g} "
                            f"({self.high - self.low:g} is not a multiple of {self.step:g})",
                            "step",
                        )
                    )
        if self.grid_points is not None and (
            not isinstance(self.grid_points, int)
            or isinstance(self.grid_points, bool)
            or self.grid_points < 2
        ):
            out.append(
                Problem(name, f"grid_points must be an integer ≥ 2, got {self.grid_points!r}", "grid_points")
            )
        return out

    def _fields_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            d["log"] = True
        if self.step is not None:
            d["step"] = self.step
        if self.grid_points is not None:
            d["grid_points"] = self.grid_points
        return d

    @property
    def n_steps(self) -> int | None:
        if self.step is None:
            return None
        return int(round((self.high - self.low) / self.step))

    def contains(self, value: Any) -> bool:
        if not _is_number(value) or not math.isfinite(value):
            return False
        tol = 1e-9 * max(1.0, abs(self.high - self.low))
        if not (self.low - tol <= value <= self.high + tol):
            return False
        if self.step is not None:
            k = (value - self.low) / self.step
            return abs(k - round(k)) <= 1e-6
        return True

    @property
    def placeholder(self) -> Any:
        return self.low


@dataclass(frozen=True)
class Float(_Numeric):
    """A real number in [low, high], optionally on a log scale or on a step lattice.

    A grid needs either ``step`` or ``grid_points`` (points spaced evenly, in log
    space for log parameters).
    """

    kind: ClassVar[str] = "float"

    def problems(self, name: str) -> list[Problem]:
        return self._bounds_problems(name)

    def _snap(self, v: float) -> float:
        if self.step is not None:
            k = round((v - self.low) / self.step)
            k = min(max(k, 0), self.n_steps)
            v = self.low + k * self.step
            # Avoid 0.30000000000000004-style noise from the lattice arithmetic.
            v = float(f"{v:.12g}")
        return float(min(max(v, self.low), self.high))

    def sample(self, rng: np.random.Generator) -> float:
        if self.step is not None:
            return self._snap(self.low + int(rng.integers(0, self.n_steps + 1)) * self.step)
        if self.log:
            return float(
                min(max(math.exp(rng.uniform(math.log(self.low), math.log(self.high))), self.low), self.high)
            )
        return float(rng.uniform(self.low, self.high))

    def grid_values(self) -> list[float]:
        if self.grid_points is not None:
            if self.log:
                vals = np.geomspace(self.low, self.high, self.grid_points)
            else:
                vals = np.linspace(self.low, self.high, self.grid_points)
            return [float(f"{v:.12g}") for v in vals]
        if self.step is not None:
            return [self._snap(self.low + k * self.step) for k in range(self.n_steps + 1)]
        raise ValueError("a float parameter needs a step or grid_points to be used in a grid")

    @property
    def grid_ready(self) -> bool:
        return self.step is not None or self.grid_points is not None

    def grid_count(self) -> int:
        """How many grid values, without listing them (a tiny step may mean billions)."""
        if self.grid_points is not None:
            return int(self.grid_points)
        if self.step is not None:
            return self.n_steps + 1
        raise ValueError("a float parameter needs a step or grid_points to be used in a grid")

    def from_unit(self, u: float) -> float:
        """Map u in [0, 1] to the domain (used by quasi-random designs)."""
        if self.log:
            v = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            v = self.low + u * (self.high - self.low)
        return self._snap(v)


@dataclass(frozen=True)
class Int(_Numeric):
    """An integer in [low, high] (both included), optionally log-scaled or stepped."""

    kind: ClassVar[str] = "int"

    def problems(self, name: str) -> list[Problem]:
        out = self._bounds_problems(name)
        for fname in ("low", "high"):
            v = getattr(self, fname)
            if _is_number(v) and math.isfinite(v) and v != int(v):
                out.append(Problem(name, f"{fname} must be a whole number for an int, got {v!r}", fname))
        if (
            self.step is not None
            and _is_number(self.step)
            and math.isfinite(self.step)
            and self.step != int(self.step)
        ):
            out.append(Problem(name, f"step must be a whole number for an int, got {self.step!r}", "step"))
        return out

    def _snap(self, v: float) -> int:
        step = int(self.step or 1)
        k = round((v - self.low) / step)
        k = min(max(k, 0), (int(self.high) - int(self.low)) // step)
        return int(self.low) + k * step

    def sample(self, rng: np.random.Generator) -> int:
        if self.log and self.step is None:
            lo, hi = math.log(self.low - 0.5 if self.low > 0.5 else self.low), math.log(self.high + 0.5)
            return self._snap(math.exp(rng.uniform(lo, hi)))
        step = int(self.step or 1)
        n = (int(self.high) - int(self.low)) // step
        return int(self.low) + int(rng.integers(0, n + 1)) * step

    def grid_values(self) -> list[int]:
        if self.grid_points is not None:
            if self.log:
                vals = np.geomspace(self.low, self.high, self.grid_points)
            else:
                vals = np.linspace(self.low, self.high, self.grid_points)
            return sorted({self._snap(float(v)) for v in vals})
        step = int(self.step or 1)
        return list(range(int(self.low), int(self.high) + 1, step))

    @property
    def grid_ready(self) -> bool:
        return True

    def grid_count(self) -> int:
        """How many grid values, without listing them when there are many."""
        if self.grid_points is not None and self.grid_points > 100_000:
            return min(int(self.grid_points), int(self.high) - int(self.low) + 1)  # an upper bound
        if self.grid_points is not None:
            return len(self.grid_values())  # rounding to integers may merge points
        return (int(self.high) - int(self.low)) // int(self.step or 1) + 1

    def contains(self, value: Any) -> bool:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return isinstance(value, int) and not isinstance(value, bool) and super().contains(value)

    def from_unit(self, u: float) -> int:
        if self.log:
            lo, hi = math.log(self.low), math.log(self.high)
            return self._snap(math.exp(lo + u * (hi - lo)))
        return self._snap(self.low + u * (self.high - self.low))

    @property
    def placeholder(self) -> int:
        return int(self.low)


@dataclass(frozen=True)
class Categorical(Param):
    """One of a list of choices (str, int, float or bool)."""

    choices: tuple[Scalar, ...]
    kind: ClassVar[str] = "categorical"

    def __post_init__(self) -> None:
        if isinstance(self.choices, (list, tuple)):
            object.__setattr__(self, "choices", tuple(_plain(c) for c in self.choices))

    def problems(self, name: str) -> list[Problem]:
        if not isinstance(self.choices, tuple):
            return [Problem(name, f"choices must be a list, got {self.choices!r}", "choices")]
        if not self.choices:
            return [Problem(name, "choices must not be empty", "choices")]
        out: list[Problem] = []
        for c in self.choices:
            if not isinstance(c, (str, int, float, bool)):
                out.append(Problem(name, f"choice {c!r} is not a string, number or boolean", "choices"))
            elif isinstance(c, float) and not math.isfinite(c):
                out.append(Problem(name, f"choice {c} is not a finite number", "choices"))
        seen: list[Any] = []
        for c in self.choices:
            if any(_same_choice(c, s) for s in seen):
                out.append(Problem(name, f"choice {c!r} appears more than once", "choices"))
            seen.append(c)
        return out

    def _fields_dict(self) -> dict[str, Any]:
        return {"choices": list(self.choices)}

    def sample(self, rng: np.random.Generator) -> Scalar:
        return self.choices[int(rng.integers(0, len(self.choices)))]

    def grid_values(self) -> list[Scalar]:
        return list(self.choices)

    grid_ready: ClassVar[bool] = True

    def grid_count(self) -> int:
        return len(self.choices)

    def contains(self, value: Any) -> bool:
        return any(_same_choice(_plain(value), c) for c in self.choices)

    def index(self, value: Any) -> int:
        value = _plain(value)
        for i, c in enumerate(self.choices):
            if _same_choice(value, c):
                return i
        raise ValueError(f"{value!r} is not one of the choices {list(self.choices)!r}")

    @property
    def placeholder(self) -> Scalar:
        return self.choices[0]

    def from_unit(self, u: float) -> Scalar:
        return self.choices[min(int(u * len(self.choices)), len(self.choices) - 1)]


@dataclass(frozen=True)
class Fixed(Param):
    """A constant: recorded in every trial's params but never searched."""

    value: Scalar
    kind: ClassVar[str] = "fixed"

    def problems(self, name: str) -> list[Problem]:
        if not isinstance(self.value, (str, int, float, bool)):
            return [
                Problem(
                    name, f"a fixed value must be a string, number or boolean, got {self.value!r}", "value"
                )
            ]
        if isinstance(self.value, float) and not math.isfinite(self.value):
            return [Problem(name, f"a fixed value must be finite, got {self.value}", "value")]
        return []

    def _fields_dict(self) -> dict[str, Any]:
        return {"value": self.value}

    def sample(self, rng: np.random.Generator) -> Scalar:
        return self.value

    def grid_values(self) -> list[Scalar]:
        return [self.value]

    grid_ready: ClassVar[bool] = True

    def contains(self, value: Any) -> bool:
        return _same_choice(_plain(value), self.value) or (
            _is_number(value) and _is_number(self.value) and value == self.value
        )

    @property
    def placeholder(self) -> Scalar:
        return self.value

    def from_unit(self, u: float) -> Scalar:
        return self.value


PARAM_KINDS: dict[str, type[Param]] = {"float": Float, "int": Int, "categorical": Categorical, "fixed": Fixed}
_ALLOWED_KEYS: dict[str, set[str]] = {
    "float": {"type", "low", "high", "log", "step", "grid_points", "when"},
    "int": {"type", "low", "high", "log", "step", "grid_points", "when"},
    "categorical": {"type", "choices", "when"},
    "fixed": {"type", "value", "when"},
}


def param_from_dict(name: str, d: Any) -> Param:
    """Build one parameter from its plain-dict form; raises SpaceError naming the key."""
    if not isinstance(d, Mapping):
        raise SpaceError(
            [Problem(name, f'must be a table like {{ type = "float", low = 0, high = 1 }}, got {d!r}')]
        )
    kind = d.get("type")
    if kind not in PARAM_KINDS:
        raise SpaceError(
            [Problem(name, f"type must be one of {', '.join(PARAM_KINDS)}; got {kind!r}", "type")]
        )
    unknown = sorted(set(d) - _ALLOWED_KEYS[kind])
    if unknown:
        allowed = ", ".join(sorted(_ALLOWED_KEYS[kind] - {"type"}))
        raise SpaceError(
            [
                Problem(name, f"unknown key {k!r} for a {kind} parameter (allowed: {allowed})", k)
                for k in unknown
            ]
        )
    when = d.get("when")
    if when is not None and not isinstance(when, Mapping):
        raise SpaceError(
            [Problem(name, f'when must be a table like {{ optimizer = "sgd" }}, got {when!r}', "when")]
        )
    try:
        if kind in ("float", "int"):
            missing = [k for k in ("low", "high") if k not in d]
            if missing:
                raise SpaceError([Problem(name, f"missing key {k!r}", k) for k in missing])
            return PARAM_KINDS[kind](
                d["low"],
                d["high"],
                log=d.get("log", False),
                step=d.get("step"),
                grid_points=d.get("grid_points"),
                when=when,
            )
        if kind == "categorical":
            if "choices" not in d:
                raise SpaceError([Problem(name, "missing key 'choices'", "choices")])
            choices = d["choices"]
            return Categorical(tuple(choices) if isinstance(choices, list) else choices, when=when)
        if "value" not in d:
            raise SpaceError([Problem(name, "missing key 'value'", "value")])
        return Fixed(d["value"], when=when)
    except TypeError as exc:  # pragma: no cover - defensive
        raise SpaceError([Problem(name, str(exc))]) from exc


class SearchSpace(Mapping[str, Param]):
    """An ordered, validated mapping of parameter names to parameters."""

    def __init__(self, params: Mapping[str, Param], *, validate: bool = True):
        self._params: dict[str, Param] = dict(params)
        if validate:
            problems = self.problems()
            if problems:
                raise SpaceError(problems)
        self._order = self._topological_order() if validate else list(self._params)

    # -- Mapping -------------------------------------------------------------
    def __getitem__(self, name: str) -> Param:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __repr__(self) -> str:
        return f"SearchSpace({self._params!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SearchSpace):
            return self.to_dict() == other.to_dict()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    # -- construction --------------------------------------------------------
    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, validate: bool = True) -> SearchSpace:
        """Build from the plain form used in TOML/JSON: ``{name: {type: ..., ...}}``."""
        if not isinstance(d, Mapping):
            raise SpaceError([Problem(None, f"the search space must be a table of parameters, got {d!r}")])
        params: dict[str, Param] = {}
        problems: list[Problem] = []
        for name, pd in d.items():
            try:
                params[name] = param_from_dict(name, pd)
            except SpaceError as exc:
                problems.extend(exc.problems)
        if problems:
            raise SpaceError(problems)
        return cls(params, validate=validate)

    @classmethod
    def coerce(cls, space: SearchSpace | Mapping[str, Any]) -> SearchSpace:
        """Accept a SearchSpace, a mapping of Param objects, or the plain dict form."""
        if isinstance(space, SearchSpace):
            return space
        if isinstance(space, Mapping) and all(isinstance(v, Param) for v in space.values()):
            return cls(space)
        return cls.from_dict(space)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {name: p.to_dict() for name, p in self._params.items()}

    # -- validation ----------------------------------------------------------
    def problems(self) -> list[Problem]:
        """Every problem in the space, each naming its parameter; [] when valid."""
        out: list[Problem] = []
        if not self._params:
            out.append(Problem(None, "the search space has no parameters"))
        for name, p in self._params.items():
            if not isinstance(name, str) or not name.strip():
                out.append(Problem(str(name), "a parameter needs a non-empty name", "name"))
                continue
            if name != name.strip():
                out.append(Problem(name, "a name must not start or end with spaces", "name"))
            if not isinstance(p, Param):
                out.append(Problem(name, f"is not a parameter: {p!r}"))
                continue
            out.extend(p.problems(name))
            for parent, values in p.conditions.items():
                if parent == name:
                    out.append(Problem(name, "a parameter cannot be conditional on itself", "when"))
                elif parent not in self._params:
                    out.append(
                        Problem(
                            name, f"the condition refers to '{parent}', which is not in the space", "when"
                        )
                    )
                elif not isinstance(self._params[parent], Categorical):
                    out.append(
                        Problem(
                            name,
                            f"the condition's parent '{parent}' must be categorical, "
                            f"but it is {self._params[parent].kind}",
                            "when",
                        )
                    )
                else:
                    parent_p = self._params[parent]
                    if not values:
                        out.append(Problem(name, f"the condition on '{parent}' lists no values", "when"))
                    for v in values:
                        if isinstance(parent_p.choices, tuple) and not parent_p.contains(v):
                            out.append(
                                Problem(
                                    name,
                                    f"the condition needs {parent} = {v!r}, which is not one of its choices "
                                    f"{list(parent_p.choices)!r}",
                                    "when",
                                )
                            )
        if not out:
            try:
                self._topological_order()
            except ValueError as exc:
                out.append(Problem(None, str(exc)))
        return out

    def _topological_order(self) -> list[str]:
        """Parents before children, otherwise declaration order. Raises on cycles."""
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(n: str, path: list[str]) -> None:
            if state.get(n) == 2:
                return
            if state.get(n) == 1:
                cycle = " → ".join([*path[path.index(n) :], n])
                raise ValueError(f"conditions form a cycle: {cycle}")
            state[n] = 1
            for parent in self._params[n].conditions:
                if parent in self._params:
                    visit(parent, [*path, n])
            state[n] = 2
            order.append(n)

        for n in self._params:
            visit(n, [])
        return order

    # -- conditions ----------------------------------------------------------
    @property
    def order(self) -> list[str]:
        """Names with every parent before its children."""
        return list(self._order)

    @property
    def is_conditional(self) -> bool:
        return any(p.conditions for p in self._params.values())

    def is_active(self, name: str, params: Mapping[str, Any]) -> bool:
        """Whether ``name`` is active given the (partial) assignment ``params``."""
        for parent, values in self._params[name].conditions.items():
            if parent not in params:
                return False
            if not any(_same_choice(_plain(params[parent]), v) for v in values):
                return False
        return True

    def active(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Drop inactive parameters (and anything not in the space) from a full assignment."""
        out: dict[str, Any] = {}
        for name in self._order:
            if name in params and self.is_active(name, out):
                out[name] = _plain(params[name])
        return {n: out[n] for n in self._params if n in out}

    def contains(self, params: Mapping[str, Any]) -> bool:
        """True when ``params`` has exactly the active parameters, each inside its domain."""
        expected: dict[str, Any] = {}
        for name in self._order:
            if self.is_active(name, expected):
                if name not in params or not self._params[name].contains(params[name]):
                    return False
                expected[name] = params[name]
        return set(params) == set(expected)

    def check_config(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check a configuration typed by a user (an enqueued trial) and return it normalized.

        Every active parameter must be given and lie inside its range or be one of its choices;
        an int parameter takes a whole float such as ``3.0`` (stored as ``3``), a float parameter
        takes an int (stored as a float). Strings are never parsed as numbers. Names not in the
        space are refused. Parameters made inactive by their condition are dropped silently;
        a fixed parameter left out is filled with its value. The result is in the space's order.
        Raises :class:`ConfigError` listing every problem.
        """
        if not isinstance(params, Mapping):
            raise ConfigError([f"a configuration must be a table of parameter values, got {params!r}"])
        problems: list[str] = []
        known = ", ".join(self._params)
        for name in params:
            if name not in self._params:
                problems.append(f"{name}: not a parameter of this search space (parameters: {known})")
        out: dict[str, Any] = {}
        for name in self._order:
            if not self.is_active(name, out):
                continue
            p = self._params[name]
            if name not in params:
                if isinstance(p, Fixed):
                    out[name] = p.value
                else:
                    problems.append(f"{name}: missing (every active parameter needs a value)")
                continue
            value, problem = _check_value(name, p, _plain(params[name]))
            if problem:
                problems.append(problem)
            else:
                out[name] = value
        if problems:
            raise ConfigError(problems)
        return {n: out[n] for n in self._params if n in out}

    def fill_inactive(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A full assignment: inactive parameters take their placeholder value."""
        return {n: (_plain(params[n]) if n in params else p.placeholder) for n, p in self._params.items()}

    # -- sampling ------------------------------------------------------------
    def sample(self, rng: np.random.Generator | int | None = None) -> dict[str, Any]:
        """One random configuration (active parameters only), in declaration order."""
        if not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(rng)
        out: dict[str, Any] = {}
        for name in self._order:
            if self.is_active(name, out):
                out[name] = _plain(self._params[name].sample(rng))
        return {n: out[n] for n in self._params if n in out}

    def from_unit(self, u: np.ndarray) -> dict[str, Any]:
        """Map a point of the unit cube (one coordinate per parameter) into the space."""
        full = {name: _plain(p.from_unit(float(u[i]))) for i, (name, p) in enumerate(self._params.items())}
        return self.active(full)

    # -- grid ----------------------------------------------------------------
    def grid_problems(self) -> list[Problem]:
        return [
            Problem(name, "a float needs a step or grid_points to be part of a grid", "step")
            for name, p in self._params.items()
            if not getattr(p, "grid_ready", True)
        ]

    def _branch_params(self) -> set[str]:
        return {parent for p in self._params.values() for parent in p.conditions}

    def grid_size(self) -> int:
        """Number of grid combinations, computed without enumerating them."""
        problems = self.grid_problems()
        if problems:
            raise SpaceError(problems)
        counts = {n: p.grid_count() for n, p in self._params.items()}
        branch = self._branch_params()
        if any(counts[n] > _MAX_BRANCH_VALUES for n in branch):
            return math.prod(counts.values())  # absurd for a condition's parent: refused by size
        values = {n: self._params[n].grid_values() for n in branch}
        order = self._order

        def count(i: int, assigned: dict[str, Any]) -> int:
            if i == len(order):
                return 1
            name = order[i]
            if not self.is_active(name, assigned):
                return count(i + 1, assigned)
            if name in branch:
                return sum(count(i + 1, {**assigned, name: v}) for v in values[name])
            return counts[name] * count(i + 1, assigned)

        return count(0, {})

    def grid(self, limit: int | None = DEFAULT_GRID_LIMIT) -> Iterator[dict[str, Any]]:
        """Every grid combination in a deterministic order (the last parameter varies fastest).

        Raises GridTooLarge before yielding anything if the grid exceeds ``limit``.
        """
        size = self.grid_size()
        if limit is not None and size > limit:
            raise GridTooLarge(size, limit)
        values = {n: p.grid_values() for n, p in self._params.items()}
        names = list(self._params)
        if not self.is_conditional:
            for combo in itertools.product(*(values[n] for n in names)):
                yield dict(zip(names, combo))
            return

        order = self._order

        def walk(j: int, assigned: dict[str, Any]) -> Iterator[dict[str, Any]]:
            if j == len(order):
                yield {n: assigned[n] for n in names if n in assigned}
                return
            name = order[j]
            if not self.is_active(name, assigned):
                yield from walk(j + 1, assigned)
                return
            for v in values[name]:
                yield from walk(j + 1, {**assigned, name: v})

        yield from walk(0, {})

    # -- skopt -------------------------------------------------------------
    def searchable(self) -> list[str]:
        """Names of the parameters a model-based strategy searches (not fixed)."""
        return [n for n, p in self._params.items() if not isinstance(p, Fixed)]

    def to_skopt_dimensions(self) -> list[Any]:
        """skopt dimensions for the searchable parameters, in declaration order.

        Categorical choices become their index as a string ("0", "1", …) so that
        mixed-type choices survive skopt's encoders; use :meth:`from_skopt_point`
        and :meth:`to_skopt_point` to convert.
        """
        from skopt.space import Categorical as SkCategorical
        from skopt.space import Integer as SkInteger
        from skopt.space import Real as SkReal

        dims: list[Any] = []
        for name in self.searchable():
            p = self._params[name]
            prior = "log-uniform" if getattr(p, "log", False) else "uniform"
            if isinstance(p, Categorical):
                dims.append(SkCategorical([str(i) for i in range(len(p.choices))], name=name))
            elif isinstance(p, Int):
                dims.append(SkInteger(int(p.low), int(p.high), prior=prior, name=name))
            elif isinstance(p, Float):
                dims.append(SkReal(float(p.low), float(p.high), prior=prior, name=name))
        return dims

    def to_skopt_point(self, params: Mapping[str, Any]) -> list[Any]:
        """A flat skopt point; inactive parameters take their placeholder value."""
        full = self.fill_inactive(params)
        out: list[Any] = []
        for name in self.searchable():
            p = self._params[name]
            v = full[name]
            if isinstance(p, Categorical):
                out.append(str(p.index(v)))
            elif isinstance(p, Int):
                out.append(int(v))
            else:
                out.append(float(v))
        return out

    def from_skopt_point(self, point: list[Any]) -> dict[str, Any]:
        """Active params from a skopt point, as plain Python values snapped to steps."""
        full: dict[str, Any] = {}
        for name, v in zip(self.searchable(), point):
            p = self._params[name]
            v = _plain(v)
            if isinstance(p, Categorical):
                full[name] = p.choices[int(v)]
            elif isinstance(p, (Int, Float)):
                full[name] = p._snap(float(v))
        for name, p in self._params.items():
            if isinstance(p, Fixed):
                full[name] = p.value
        return self.active(full)


def _check_value(name: str, p: Param, v: Any) -> tuple[Any, str | None]:
    """(normalized value, None) when ``v`` fits ``p``, else (None, a message naming ``name``)."""
    if isinstance(p, Categorical):
        for c in p.choices:
            if _same_choice(v, c) or (_is_number(v) and _is_number(c) and v == c):
                return c, None
        shown = ", ".join(repr(c) for c in p.choices)
        return None, f"{name}: {v!r} is not one of the choices {shown}"
    if isinstance(p, Fixed):
        if p.contains(v):
            return p.value, None
        return None, f"{name}: {v!r} differs from its fixed value {p.value!r}"
    assert isinstance(p, _Numeric)
    if not _is_number(v):
        what = "a string" if isinstance(v, str) else type(v).__name__
        return None, f"{name}: {v!r} is {what}; expected a number"
    if not math.isfinite(v):
        return None, f"{name}: {v!r} is not a finite number"
    if isinstance(p, Int):
        if isinstance(v, float):
            if not v.is_integer():
                return None, f"{name}: {v!r} is not a whole number"
            v = int(v)
    else:
        v = float(v)
    tol = 1e-9 * max(1.0, abs(p.high - p.low))
    if v < p.low - tol:
        return None, f"{name}: {v!r} is below the lower bound {p.low!r}"
    if v > p.high + tol:
        return None, f"{name}: {v!r} is above the upper bound {p.high!r}"
    if not p.contains(v):
        return None, f"{name}: {v!r} is not on its step grid ({p.low!r}, {p.low + p.step!r}, ...)"
    return v, None


def space_of(**params: Param) -> SearchSpace:
    """Convenience: ``space_of(lr=Float(1e-4, 1e-1, log=True), ...)``."""
    return SearchSpace(params)
