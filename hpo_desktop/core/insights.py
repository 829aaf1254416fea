"""A short, plain-language summary of a study: the bridge from "analyze" to "refine the space".

:func:`insights` reads the complete trials with a finite value and says, one sentence each:

* ``best`` — the best value and its configuration;
* ``importance`` — which parameters matter most (:func:`hpo_desktop.core.analysis.importance`);
* ``edge`` — a numeric parameter whose best trials (the top 20 %, at least 3) crowd one end of
  its range: their mean position (0 at ``low``, 1 at ``high``, on the log scale for log
  parameters) is at least 0.75 — or at most 0.25 — and further from 0.5 than 2.5 standard
  deviations of the mean of that many uniform positions (so a parameter that does not matter
  is rarely flagged, and a handful of trials must be clear-cut), and at least one of them lies
  in the outer 10 % at that end. Suggests widening the range on that side;
* ``weak_choice`` — a categorical choice tried in at least :data:`MIN_CHOICE_TRIALS` trials
  (where its parameter is active) none of which is among the top 20 %, when that is unlikely
  by luck alone (:data:`WEAK_CHANCE`);
* ``progress`` — whether the best value still improved during the last third of the trials
  (in trial-number order), or since when it has not;
* ``note`` — what is missing: no finished trial yet, or fewer than :data:`MIN_TRIALS` of them
  (then only the best configuration and the note are given).

Everything here is a heuristic meant to prompt a look at the charts, not a statistical test.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .analysis import _best_order, _raw_matrix, complete_trials, importance, unit_positions
from .space import Categorical, Float, Int, SearchSpace
from .trial import FrozenTrial

__all__ = ["Insight", "insights", "MIN_TRIALS", "MIN_CHOICE_TRIALS", "TOP_FRACTION", "EDGE_BAND"]

#: Fewer complete trials than this: only the best configuration and a note.
MIN_TRIALS = 5
#: A choice must have been tried this often before it is called weak ...
MIN_CHOICE_TRIALS = 5
#: ... and missing every top place must be this unlikely for a choice no better than the rest
#: (hypergeometric: tried of n trials, none among the k best).
WEAK_CHANCE = 0.05
#: The "best trials" are this fraction of the complete ones (at least MIN_TOP of them).
TOP_FRACTION = 0.2
MIN_TOP = 3
#: The outer part of a range (in unit space) where at least one of the best trials must lie.
EDGE_BAND = 0.1
#: The best trials' mean unit position must be at least this far from 0.5 (and, for few
#: trials, 2.5 standard deviations of the mean of that many uniform positions).
EDGE_MEAN = 0.25
_UNIFORM_SD = math.sqrt(1.0 / 12.0)
#: Importance shares shown in the summary: at most this many, and those at least this share.
MAX_IMPORTANT = 3
MIN_SHARE = 0.1


@dataclass(frozen=True)
class Insight:
    kind: str  # "best" | "importance" | "edge" | "weak_choice" | "progress" | "note"
    text: str
    param: str | None = None


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def insights(space: SearchSpace, trials: Iterable[FrozenTrial], direction: str, metric: str) -> list[Insight]:
    done = complete_trials(trials)
    n = len(done)
    if n == 0:
        return [
            Insight("note", "No trial has completed with a value yet — insights appear as trials finish.")
        ]
    values = np.asarray([t.value for t in done], dtype=float)
    order = _best_order(values, direction)
    best = done[int(order[0])]
    shown = [name for name in space.searchable() if name in best.params] or list(best.params)
    config = ", ".join(f"{name} = {_fmt(best.params[name])}" for name in shown)
    out = [
        Insight(
            "best",
            f"The best {metric} is {_fmt(float(best.value))} (trial #{best.number})"
            + (f", with {config}." if config else "."),
        )
    ]
    if n < MIN_TRIALS:
        out.append(
            Insight(
                "note",
                f"Only {n} trial{'s have' if n > 1 else ' has'} completed — too few to judge which "
                f"parameters matter or where the good values lie; run at least {MIN_TRIALS}.",
            )
        )
        return out
    out.extend(_importance(space, done, direction, metric))
    k = max(MIN_TOP, math.ceil(TOP_FRACTION * n - 1e-9))
    top = np.zeros(n, dtype=bool)
    top[order[:k]] = True
    names = space.searchable()
    raw = _raw_matrix(space, done, names)
    for j, name in enumerate(names):
        p = space[name]
        if isinstance(p, (Float, Int)):
            ins = _edge(name, p, raw[:, j], top)
        elif isinstance(p, Categorical):
            ins = _weak_choices(name, p, raw[:, j], top)
        else:  # pragma: no cover - searchable() holds only these kinds
            ins = []
        out.extend(ins)
    out.append(_progress(values, [t.number for t in done], direction, metric))
    return out


def _importance(space: SearchSpace, done: list[FrozenTrial], direction: str, metric: str) -> list[Insight]:
    if len(space.searchable()) < 2:
        return []
    ranked = importance(space, done, direction)
    if not ranked:
        return []
    shown = [ranked[0]] + [(nm, s) for nm, s in ranked[1:MAX_IMPORTANT] if s >= MIN_SHARE]
    head = f"{shown[0][0]} matters most for {metric} ({_pct(shown[0][1])} of the variation explained)"
    rest = ", ".join(f"{nm} ({_pct(s)})" for nm, s in shown[1:])
    text = head + (f", then {rest}" if rest else "") + "."
    if len(done) < 20:
        text += " With so few trials this ranking is rough."
    return [Insight("importance", text, shown[0][0])]


def _edge_threshold(k: int) -> float:
    """How far from the middle (in unit positions) the mean of k best trials must be."""
    return max(EDGE_MEAN, 2.5 * _UNIFORM_SD / math.sqrt(k))


def _edge(name: str, p: Float | Int, x: np.ndarray, top: np.ndarray) -> list[Insight]:
    u = unit_positions(p, x[top])
    u = np.clip(u[~np.isnan(u)], 0.0, 1.0)
    if len(u) < MIN_TOP:
        return []
    shift = float(np.mean(u)) - 0.5
    need = _edge_threshold(len(u))
    scale = " on its log scale" if p.log else ""
    if shift >= need and bool(np.any(u >= 1.0 - EDGE_BAND)):
        hint = f", e.g. up to {_fmt(p.high * 10)}" if p.log else ""
        return [
            Insight(
                "edge",
                f"The best trials have {name} at the upper bound ({_fmt(p.high)}) of its range — on "
                f"average {_pct(0.5 + shift)} of the way up{scale}; widen the range upward{hint}.",
                name,
            )
        ]
    if -shift >= need and bool(np.any(u <= EDGE_BAND)):
        hint = f", e.g. down to {_fmt(p.low / 10)}" if p.log else ""
        return [
            Insight(
                "edge",
                f"The best trials have {name} at the lower bound ({_fmt(p.low)}) of its range — on "
                f"average {_pct(0.5 + shift)} of the way up{scale}; widen the range downward{hint}.",
                name,
            )
        ]
    return []


def _weak_choices(name: str, p: Categorical, x: np.ndarray, top: np.ndarray) -> list[Insight]:
    active = ~np.isnan(x)
    n_active = int(active.sum())
    k = int((top & active).sum())
    if k < MIN_TOP:
        return []
    out = []
    for i, choice in enumerate(p.choices):
        chosen = active & (x == i)
        tried = int(chosen.sum())
        if tried < MIN_CHOICE_TRIALS or (chosen & top).any():
            continue
        # chance that a choice no better than the others misses all k top places by luck
        chance = math.comb(n_active - tried, k) / math.comb(n_active, k)
        if chance <= WEAK_CHANCE:
            out.append(
                Insight(
                    "weak_choice",
                    f"{name} = {_fmt(choice)} was tried in {tried} trials and never reached the top "
                    f"{_pct(TOP_FRACTION)} — consider dropping it.",
                    name,
                )
            )
    return out


def _progress(values: np.ndarray, numbers: list[int], direction: str, metric: str) -> Insight:
    n = len(values)
    signed = -values if direction == "maximize" else values
    cut = math.ceil(2 * n / 3)
    before = float(np.min(signed[:cut]))
    i_best = int(np.argmin(signed))  # the first trial reaching the best value
    if i_best >= cut and float(signed[i_best]) < before:
        sign = -1.0 if direction == "maximize" else 1.0
        return Insight(
            "progress",
            f"Still improving: the best {metric} moved from {_fmt(sign * before)} to "
            f"{_fmt(float(values[i_best]))} (trial #{numbers[i_best]}) in the last third of the "
            "trials — more trials are likely to help.",
        )
    since = n - 1 - i_best
    return Insight(
        "progress",
        f"The best {metric} has not improved in the last {since} trial{'s' if since != 1 else ''} "
        f"(best at trial #{numbers[i_best]}) — the search looks settled; refine the space or stop.",
    )
