"""Refine a study: propose a narrower (or, at an edge, wider) search space from its best trials.

Qt-free and torch-free. :func:`propose_refinement` looks at the top ``top`` fraction of the
complete trials (finite values) and, per parameter:

- numeric ranges are narrowed to the span of the top trials plus a margin (in log space for
  log parameters); ints are rounded outward and stepped ranges stay on the old lattice;
- a range whose best trials sit at one edge (the outer 5 %) is widened on that side by half the
  old span instead (never across zero for a non-negative range, never past 1 for a range
  inside [0, 1], and never below 1 for an int that started at 1 or more);
- categorical choices never seen among the top trials are dropped (at least one stays);
  a child whose condition named a dropped choice loses that value, and is removed when no
  value is left (its own children follow);
- fixed parameters stay; ``pin`` turns parameters into fixed values.

Only trials where a parameter is active count for it; trials tied with the last of the top ones
count too (a metric such as accuracy on a small validation set has many ties). With fewer than :data:`MIN_TRIALS`
complete trials (for a parameter: where it is active) nothing changes and the reason says so.
The proposed space always validates.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .space import Categorical, Fixed, Float, Int, Param, SearchSpace, _same_choice
from .trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from .storage import StudyRecord

MIN_TRIALS = 5
EDGE = 0.05  # the outer fraction of a range that counts as its edge
WIDEN = 0.5  # widen by this fraction of the old span


@dataclass(frozen=True)
class Change:
    """What happened to one parameter: old and new plain-dict forms (new is {} when removed)."""

    param: str
    old: dict[str, Any]
    new: dict[str, Any]
    reason: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class Refinement:
    """A proposed space and one :class:`Change` per parameter of the old space."""

    space: SearchSpace
    changes: list[Change]

    def table(self) -> str:
        """A plain-text old → new table with reasons."""
        rows = [
            (c.param, describe(c.old), describe(c.new) if c.new else "(removed)", c.reason)
            for c in self.changes
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        return "\n".join(
            f"{p.ljust(widths[0])}  {o.ljust(widths[1])} → {n.ljust(widths[2])}  {why}"
            for p, o, n, why in rows
        )


def describe(d: Mapping[str, Any]) -> str:
    """A short text for a parameter's plain-dict form."""
    kind = d.get("type")
    if kind in ("float", "int"):
        text = f"{d['low']:g}..{d['high']:g}"
        if d.get("log"):
            text += " log"
        if d.get("step") is not None:
            text += f" step {d['step']:g}"
    elif kind == "categorical":
        text = "{" + ", ".join(repr(c) for c in d["choices"]) + "}"
    elif kind == "fixed":
        text = f"= {d['value']!r}"
    else:
        text = str(dict(d))
    return text


def _pct(x: float) -> str:
    return f"{x * 100:g}"


def propose_refinement(
    space: SearchSpace,
    trials: Sequence[FrozenTrial],
    direction: str,
    *,
    top: float = 0.2,
    margin: float = 0.1,
    pin: Mapping[str, Any] | None = None,
) -> Refinement:
    """Propose a refined space from the best ``top`` fraction of the complete trials."""
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
    if not isinstance(top, (int, float)) or not 0 < top <= 1:
        raise ValueError(f"top must be a fraction in (0, 1], got {top!r}")
    if not isinstance(margin, (int, float)) or not 0 <= margin <= 10:
        raise ValueError(f"margin must be a fraction ≥ 0, got {margin!r}")
    pin = dict(pin or {})
    for name, value in pin.items():
        if name not in space:
            raise ValueError(f"cannot pin '{name}': it is not in the search space")
        if not space[name].contains(value):
            raise ValueError(f"cannot pin '{name}' to {value!r}: it is outside its domain")

    complete = [t for t in trials if t.state == TrialState.COMPLETE and t.has_finite_value]
    complete.sort(key=lambda t: t.value, reverse=direction == "maximize")
    enough = len(complete) >= MIN_TRIALS

    new_params: dict[str, Param] = {}
    reasons: dict[str, str] = {}
    removed: set[str] = set()
    for name in space.order:
        p = space[name]
        # 1. conditions, given what happened to the parents
        when, gone_reason = _new_conditions(p, space, new_params, removed)
        if gone_reason is not None:
            removed.add(name)
            reasons[name] = gone_reason
            continue
        if name in pin:
            new_params[name] = Fixed(pin[name], when=when or None)
            reasons[name] = f"pinned to {pin[name]!r}"
            continue
        if isinstance(p, Fixed):
            new_params[name] = dataclasses.replace(p, when=when or None)
            reasons[name] = "kept: fixed"
            continue
        if not enough:
            new_params[name] = dataclasses.replace(p, when=when or None)
            reasons[name] = f"kept: too few complete trials ({len(complete)}; at least {MIN_TRIALS} needed)"
            continue
        # 2. the trials where it is active (in the old space), best first
        active = [t for t in complete if name in t.params and p.contains(t.params[name])]
        if len(active) < MIN_TRIALS:
            new_params[name] = dataclasses.replace(p, when=when or None)
            reasons[name] = (
                f"kept: too few complete trials where it is active ({len(active)}; at least {MIN_TRIALS} needed)"
            )
            continue
        k = max(1, math.ceil(top * len(active)))
        while k < len(active) and active[k].value == active[k - 1].value:
            k += 1  # a tie at the cut-off: every trial as good as the last one counts
        best = [t.params[name] for t in active[:k]]
        what = f"the top {_pct(top)} % ({k} trial{'s' if k != 1 else ''})"
        if isinstance(p, Categorical):
            new_p, reason = _refine_categorical(p, best, what)
        else:
            new_p, reason = _refine_numeric(p, best, what, margin)
        new_params[name] = dataclasses.replace(new_p, when=when or None)
        reasons[name] = reason

    new_space = SearchSpace({n: new_params[n] for n in space if n in new_params})
    changes = [
        Change(n, space[n].to_dict(), new_space[n].to_dict() if n in new_space else {}, reasons[n])
        for n in space
    ]
    return Refinement(new_space, changes)


def refined_name(name: str, taken: Iterable[str]) -> str:
    """``NAME-refined``, or ``NAME-refined-2``, ``-3``, … when that name is taken."""
    taken = set(taken)
    candidate, n = f"{name}-refined", 2
    while candidate in taken:
        candidate, n = f"{name}-refined-{n}", n + 1
    return candidate


def refined_spec_doc(record: StudyRecord, refinement: Refinement, new_name: str) -> dict[str, Any]:
    """The spec document (plain dict, as TOML reads it) of a child study refining ``record``.

    Same metric, direction, strategy, budget, seed, [data] and [model] as the parent, the
    refined [space] and the study name ``new_name``. Relative data file paths were relative to
    the parent's spec folder (``base_dir``), so they are made absolute. Raises ValueError when
    the parent was not created from a spec file (no [data] to write).
    """
    from .report import spec_toml_for
    from .spec import tomllib

    extra = record.spec or {}
    if "data" not in extra:
        raise ValueError(
            f"study '{record.name}' was not created from a spec file, so there is no [data]/[model] to "
            "write; refine it from Python with hpo_desktop.core.refine.propose_refinement."
        )
    doc = tomllib.loads(spec_toml_for(record) or "")
    doc["study"]["name"] = new_name
    doc["space"] = refinement.space.to_dict()
    base_dir = extra.get("base_dir")
    if base_dir and isinstance(doc.get("data"), dict):
        for key in ("csv", "npz"):
            ref = doc["data"].get(key)
            if isinstance(ref, str) and not Path(ref).expanduser().is_absolute():
                doc["data"][key] = str(Path(base_dir) / ref)
    return doc


def in_space_count(trials: Iterable[FrozenTrial], space: SearchSpace) -> int:
    """How many finished trials lie inside ``space`` (what a child study warm-starts from)."""
    return sum(1 for t in trials if t.state.is_finished and space.contains(t.params))


def _new_conditions(
    p: Param, old_space: SearchSpace, new_params: Mapping[str, Param], removed: set[str]
) -> tuple[dict[str, Any], str | None]:
    """The child's new ``when`` (values the parents lost are dropped), or a reason to remove it."""
    out: dict[str, Any] = {}
    for parent, values in p.conditions.items():
        if parent in removed:
            return {}, f"removed: its parent '{parent}' was removed"
        new_parent = new_params[parent]
        if isinstance(new_parent, Fixed):
            if any(_same_choice(new_parent.value, v) for v in values):
                continue  # always active now: the condition is dropped
            return {}, f"removed: never active with {parent} pinned to {new_parent.value!r}"
        kept = [v for v in values if new_parent.contains(v)]
        if not kept:
            shown = ", ".join(repr(v) for v in values)
            return {}, f"removed: active only when {parent} is {shown}, which was dropped"
        out[parent] = kept if len(kept) > 1 else kept[0]
    return out, None


def _refine_categorical(p: Categorical, best: list[Any], what: str) -> tuple[Param, str]:
    kept = tuple(c for c in p.choices if any(_same_choice(c, b) for b in best))
    if not kept:  # cannot happen with active trials, but keep at least one
        kept = p.choices[:1]
    dropped = [c for c in p.choices if not any(_same_choice(c, k) for k in kept)]
    if not dropped:
        return p, f"kept: every choice is among {what}"
    shown = ", ".join(repr(c) for c in dropped)
    return Categorical(kept), f"dropped {shown}: never among {what}"


def _nice(v: float, up: bool) -> float:
    """Round outward to 3 significant digits (keeps zero and the sign)."""
    if v == 0 or not math.isfinite(v):
        return float(v)
    e = math.floor(math.log10(abs(v))) - 2
    scale = 10.0**e
    r = (math.ceil if up else math.floor)(v / scale - (1e-9 if up else -1e-9)) * scale
    return float(f"{r:.12g}")


def _refine_numeric(p: Int | Float, best: list[Any], what: str, margin: float) -> tuple[Param, str]:
    log = bool(p.log)
    fwd = math.log if log else float
    back = math.exp if log else float
    t_lo, t_hi = fwd(p.low), fwd(p.high)
    width = t_hi - t_lo
    tv = [fwd(float(v)) for v in best]
    lo, hi = min(tv), max(tv)
    at_low = lo <= t_lo + EDGE * width
    at_high = hi >= t_hi - EDGE * width
    if at_low and at_high:
        return p, f"kept: {what} spread over the whole range"
    span = hi - lo
    pad = margin * (span if span > 0 else width * 0.1)
    new_lo = max(lo - pad, t_lo)
    new_hi = min(hi + pad, t_hi)
    if at_low:
        new_lo = t_lo - WIDEN * width
    if at_high:
        new_hi = t_hi + WIDEN * width
    lo_v, hi_v = back(new_lo), back(new_hi)
    # keep the domain's natural limits
    floor = None
    if isinstance(p, Int) and p.low >= 1:
        floor = 1.0
    elif p.low >= 0:
        floor = 0.0
    if floor is not None:
        lo_v = max(lo_v, floor)
    if isinstance(p, Float) and p.low >= 0 and p.high <= 1:
        hi_v = min(hi_v, 1.0)
    if not at_low:
        lo_v = max(lo_v, p.low)
    if not at_high:
        hi_v = min(hi_v, p.high)
    lo_v, hi_v = _snap_outward(p, lo_v, hi_v, floor)
    if lo_v == p.low and hi_v == p.high:
        if at_low or at_high:
            side = "lower" if at_low else "upper"
            return p, f"kept: the best trials sit at the {side} edge, which cannot move further"
        return p, f"kept: {what} with a {_pct(margin)} % margin cover the whole range"
    new = dataclasses.replace(p, low=lo_v, high=hi_v)
    wider_low, wider_high = lo_v < p.low, hi_v > p.high
    if wider_low or wider_high:
        side = "lower" if wider_low else "upper"
        reason = f"widened at the {side} edge: the best trials sit there"
        if (wider_low and hi_v < p.high) or (wider_high and lo_v > p.low):
            reason += f"; narrowed at the other end to {what}"
        return new, reason
    if at_low or at_high:
        side, other = ("lower", "upper") if at_low else ("upper", "lower")
        return new, (
            f"narrowed at the {other} end to {what}; "
            f"the best trials sit at the {side} edge, which cannot move further"
        )
    return new, f"narrowed to the span of {what} with a {_pct(margin)} % margin"


def _snap_outward(p: Int | Float, lo: float, hi: float, floor: float | None) -> tuple[Any, Any]:
    """Round the new bounds outward: ints to whole numbers, steps onto the old lattice."""
    if p.step is not None:
        step = p.step
        k_lo = math.floor((lo - p.low) / step + 1e-9)
        k_hi = math.ceil((hi - p.low) / step - 1e-9)
        if floor is not None and p.low + k_lo * step < floor - 1e-12:
            k_lo += 1
        if k_hi <= k_lo:  # a single lattice point: give it one step of room, inside if possible
            k_hi = k_lo
            if k_lo >= p.n_steps and k_lo > 0:
                k_lo -= 1
            else:
                k_hi += 1
        new_lo, new_hi = p.low + k_lo * step, p.low + k_hi * step
        if isinstance(p, Int):
            return int(round(new_lo)), int(round(new_hi))
        return float(f"{new_lo:.12g}"), float(f"{new_hi:.12g}")
    if isinstance(p, Int):
        new_lo, new_hi = math.floor(lo + 1e-9), math.ceil(hi - 1e-9)
        if new_hi <= new_lo:
            if new_hi < p.high:
                new_hi = new_lo + 1
            else:
                new_lo = new_hi - 1
        return int(new_lo), int(new_hi)
    new_lo, new_hi = _nice(lo, up=False), _nice(hi, up=True)
    # rounding must not leave the old range where the old range was not widened
    if lo >= p.low:
        new_lo = max(new_lo, float(p.low))
    if hi <= p.high:
        new_hi = min(new_hi, float(p.high))
    if new_hi <= new_lo:  # a degenerate span: give it a little room
        new_lo, new_hi = float(lo), float(hi) if hi > lo else float(lo) + (p.high - p.low) * 0.01
    return new_lo, new_hi
