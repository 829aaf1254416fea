"""Plain data for the analysis views: slice plots, parallel coordinates, contour (response
surface), parameter importance and metric trade-offs. Qt-free; the GUI only draws what these
functions return.

Conventions (shared with :mod:`hpo_desktop.core.chartdata`):

* only COMPLETE trials with a finite value take part (NaN/±inf values and failed, pruned,
  running trials are left out); arrays come back sorted by trial number;
* a parameter that is inactive in a trial (a conditional parameter whose condition does not
  hold), or whose stored value is not in its domain's type, is NaN in matrices and left out
  of per-parameter point lists;
* numeric positions are "unit" positions where a chart needs them normalized: 0 at ``low``,
  1 at ``high``, measured in log space for log parameters; categoricals are the choice index.

Surrogates (contour, importance) reuse the Bayesian strategy's building blocks: skopt's
``cook_estimator`` for the models and the fast forest prediction of
:mod:`hpo_desktop.core.strategies.bayesian`. Their inputs are the same flat encoding the
strategy uses: every searchable parameter, numbers in unit space, inactive parameters at their
placeholder (the low end / the first choice).

Importance
----------
:func:`importance` is functional ANOVA (Hutter, Hoos & Leyton-Brown, "An Efficient Approach
for Assessing Hyperparameter Importance", ICML 2014) on a random forest, main effects only —
the method of Optuna's ``FanovaImportanceEvaluator``. Each tree of skopt's random forest (64
trees, leaves of ≥ 3 trials) is a piecewise-constant function on boxes of the unit cube
(categoricals: their index, each choice an equal cell). For each tree and parameter the
marginal function of that parameter (the tree's mean over every other parameter, uniformly)
is computed exactly from the leaf boxes; its variance divided by the tree's total variance is
the parameter's share in that tree. Shares are averaged over trees and rescaled to sum to 1
(as Optuna does). Interactions are not reported, and conditional parameters are judged with
inactive values at the placeholder, so a child parameter's share is diluted by the trials
where it was inactive.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .space import Categorical, Fixed, Float, Int, Param, SearchSpace
from .trial import FrozenTrial, TrialState

__all__ = [
    "Axis",
    "ContourData",
    "ParallelData",
    "SliceData",
    "TradeoffData",
    "complete_trials",
    "contour_data",
    "importance",
    "parallel_data",
    "pareto_front",
    "slice_data",
    "tradeoff_data",
    "unit_positions",
]

#: Most trials used to fit the GP's kernel hyper-parameters in :func:`contour_data` (the GP is
#: then refitted with those held fixed on up to :data:`GP_MAX_POINTS` trials).
GP_FIT_POINTS = 150
GP_MAX_POINTS = 1500
#: Trees of the importance forest.
IMPORTANCE_TREES = 64
#: Most trials a forest is fitted on (importance: a random subsample; contour: the best quarter
#: and a random rest). Fitting cost grows a little faster than linearly with the trials.
FOREST_MAX_POINTS = 3000


# --------------------------------------------------------------------------------------------
# helpers


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def complete_trials(trials: Iterable[FrozenTrial]) -> list[FrozenTrial]:
    """COMPLETE trials with a finite value, sorted by number."""
    out = [t for t in trials if t.state == TrialState.COMPLETE and _finite(t.value)]
    out.sort(key=lambda t: t.number)
    return out


def _signed(values: np.ndarray, direction: str) -> np.ndarray:
    """Values to minimize."""
    return -values if direction == "maximize" else values


def _best_order(values: np.ndarray, direction: str) -> np.ndarray:
    """Indices best first (stable: the earlier trial first on a tie)."""
    return np.argsort(_signed(values, direction), kind="stable")


def _number(v: Any) -> float:
    if isinstance(v, np.generic):
        v = v.item()
    return float(v) if _finite(v) else math.nan


def _choice_index(lookup: dict[tuple[type, Any], float], v: Any) -> float:
    if isinstance(v, np.generic):
        v = v.item()
    try:
        return lookup.get((type(v), v), math.nan)
    except TypeError:  # an unhashable stored value is no choice
        return math.nan


def _column(space: SearchSpace, name: str, trials: Sequence[FrozenTrial]) -> np.ndarray:
    """Natural values (numbers) or choice indices (categoricals, 0 for a fixed parameter) of one
    parameter; NaN where it is inactive, missing or not a valid value."""
    p = space[name]
    missing = object()
    vals = [t.params.get(name, missing) for t in trials]
    if isinstance(p, Categorical):
        # type-sensitive like Categorical.index: True is not 1, 1 is not 1.0
        lookup = {(type(c), c): float(i) for i, c in enumerate(p.choices)}
        col = [math.nan if v is missing else _choice_index(lookup, v) for v in vals]
    elif isinstance(p, Fixed):
        col = [math.nan if v is missing else 0.0 for v in vals]
    else:
        col = [math.nan if v is missing else _number(v) for v in vals]
    out = np.asarray(col, dtype=float)
    if p.conditions:
        inactive = np.asarray([not space.is_active(name, t.params) for t in trials], dtype=bool)
        out[inactive] = math.nan
    return out


def _raw_matrix(space: SearchSpace, trials: Sequence[FrozenTrial], names: Sequence[str]) -> np.ndarray:
    """n × len(names): natural values / choice indices, NaN where inactive or invalid."""
    out = np.empty((len(trials), len(names)))
    for j, name in enumerate(names):
        out[:, j] = _column(space, name, trials)
    return out


def unit_positions(p: Param, x: np.ndarray) -> np.ndarray:
    """Natural values (numbers) or choice indices (categoricals) → 0..1 (log-aware; NaN kept).

    Numbers are not clipped: a stored value outside the range lands outside 0..1."""
    x = np.asarray(x, dtype=float)
    if isinstance(p, (Float, Int)):
        lo, hi = float(p.low), float(p.high)
        if p.log:
            with np.errstate(divide="ignore", invalid="ignore"):
                return (np.log(x) - math.log(lo)) / (math.log(hi) - math.log(lo))
        return (x - lo) / (hi - lo)
    if isinstance(p, Categorical):
        k = len(p.choices)
        return x / (k - 1) if k > 1 else np.where(np.isnan(x), np.nan, 0.5)
    return np.where(np.isnan(x), np.nan, 0.5)


def _from_unit(p: Float | Int, u: np.ndarray) -> np.ndarray:
    lo, hi = float(p.low), float(p.high)
    if p.log:
        return np.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    return lo + u * (hi - lo)


def _kind(p: Param) -> str:
    return p.kind


def _categories(p: Param) -> tuple[str, ...] | None:
    if isinstance(p, Categorical):
        return tuple(str(c) for c in p.choices)
    if isinstance(p, Fixed):
        return (str(p.value),)
    return None


# --------------------------------------------------------------------------------------------
# slice plots


@dataclass(frozen=True)
class SliceData:
    """One parameter against the metric: complete trials with a finite value where it is active.

    ``x`` is the natural value for numbers, the choice index for categoricals and 0 for a fixed
    parameter (``categories`` then holds its one value)."""

    param: str
    kind: str  # "float" | "int" | "categorical" | "fixed"
    log: bool
    x: np.ndarray
    values: np.ndarray
    numbers: np.ndarray
    categories: tuple[str, ...] | None


def slice_data(space: SearchSpace, trials: Iterable[FrozenTrial], param: str) -> SliceData:
    p = space[param]
    done = complete_trials(trials)
    x = _column(space, param, done)
    keep = ~np.isnan(x)
    return SliceData(
        param=param,
        kind=_kind(p),
        log=bool(getattr(p, "log", False)),
        x=x[keep],
        values=np.asarray([t.value for t in done], dtype=float)[keep] if done else np.empty(0),
        numbers=np.asarray([t.number for t in done], dtype=np.int64)[keep] if done else np.empty(0, np.int64),
        categories=_categories(p),
    )


# --------------------------------------------------------------------------------------------
# parallel coordinates


@dataclass(frozen=True)
class Axis:
    """One axis of the parallel-coordinates chart. ``kind`` is the parameter's kind, or
    ``"metric"`` for the last axis; ``low``/``high`` are what 0 and 1 stand for (natural units;
    categoricals 0 and k−1)."""

    name: str
    kind: str
    log: bool
    low: float
    high: float
    categories: tuple[str, ...] | None


@dataclass(frozen=True)
class ParallelData:
    axes: list[Axis]  # one per non-fixed parameter, then the metric
    matrix: np.ndarray  # n_trials × n_axes, each column 0..1; NaN where inactive
    values: np.ndarray
    numbers: np.ndarray


def parallel_data(
    space: SearchSpace,
    trials: Iterable[FrozenTrial],
    metric: str,
    direction: str,
    top_fraction: float = 1.0,
) -> ParallelData:
    """Rows are complete trials with a finite value, by number; with ``top_fraction`` < 1 only the
    best ``ceil(top_fraction × n)`` of them (at least one) are kept. The metric column is scaled
    to the kept trials' min..max (0.5 when they are all equal)."""
    names = space.searchable()
    done = complete_trials(trials)
    values = np.asarray([t.value for t in done], dtype=float)
    if done and top_fraction < 1.0:
        k = max(1, math.ceil(max(0.0, top_fraction) * len(done) - 1e-9))
        keep = np.sort(_best_order(values, direction)[:k])
        done = [done[i] for i in keep]
        values = values[keep]
    raw = _raw_matrix(space, done, names)
    matrix = np.empty((len(done), len(names) + 1))
    axes: list[Axis] = []
    for j, name in enumerate(names):
        p = space[name]
        matrix[:, j] = unit_positions(p, raw[:, j])
        if isinstance(p, Categorical):
            axes.append(Axis(name, p.kind, False, 0.0, float(len(p.choices) - 1), _categories(p)))
        else:
            assert isinstance(p, (Float, Int))
            axes.append(Axis(name, p.kind, bool(p.log), float(p.low), float(p.high), None))
    if len(values):
        lo, hi = float(values.min()), float(values.max())
        matrix[:, -1] = (values - lo) / (hi - lo) if hi > lo else 0.5
    else:
        lo = hi = math.nan
    axes.append(Axis(metric, "metric", False, lo, hi, None))
    return ParallelData(
        axes=axes,
        matrix=matrix,
        values=values,
        numbers=np.asarray([t.number for t in done], dtype=np.int64),
    )


# --------------------------------------------------------------------------------------------
# the model encoding shared by contour and importance


class _Encoding:
    """Flat model rows for the searchable parameters, as the Bayesian strategy builds them:
    numbers in unit space, inactive parameters at their placeholder; categoricals one-hot
    (``onehot=True``, for the GP) or as their index (forests)."""

    def __init__(self, space: SearchSpace, onehot: bool):
        self.space = space
        self.names = space.searchable()
        self.onehot = onehot
        self.cols: list[tuple[int, int]] = []
        col = 0
        for n in self.names:
            p = space[n]
            size = len(p.choices) if (onehot and isinstance(p, Categorical)) else 1
            self.cols.append((col, col + size))
            col += size
        self.width = col

    def placeholders(self) -> np.ndarray:
        out = np.empty(len(self.names))
        for j, n in enumerate(self.names):
            p = self.space[n]
            out[j] = (
                0.0 if isinstance(p, Categorical) else float(unit_positions(p, np.array([p.placeholder]))[0])
            )
        return out

    def unit(self, raw: np.ndarray) -> np.ndarray:
        """Raw (natural / index, NaN inactive) → unit numbers / indices, placeholders filled."""
        out = np.empty_like(raw)
        ph = self.placeholders()
        for j, n in enumerate(self.names):
            p = self.space[n]
            col = raw[:, j] if isinstance(p, Categorical) else np.clip(unit_positions(p, raw[:, j]), 0.0, 1.0)
            out[:, j] = np.where(np.isnan(col), ph[j], col)
        return out

    def rows(self, u: np.ndarray) -> np.ndarray:
        """Unit numbers / indices → model rows."""
        if not self.onehot:
            return u
        out = np.zeros((u.shape[0], self.width))
        for j, n in enumerate(self.names):
            lo, hi = self.cols[j]
            if isinstance(self.space[n], Categorical):
                idx = u[:, j].astype(int)
                out[np.arange(u.shape[0]), lo + idx] = 1.0
            else:
                out[:, lo] = u[:, j]
        return out

    def canonicalize(self, u: np.ndarray) -> None:
        """Put parameters made inactive by their parents' values at their placeholder (in place)."""
        if not self.space.is_conditional:
            return
        index = {n: j for j, n in enumerate(self.names)}
        ph = self.placeholders()
        active = {n: np.ones(u.shape[0], dtype=bool) for n in self.names}
        for n in self.space.order:
            p = self.space[n]
            if n not in index or not p.conditions:
                continue
            mask = np.ones(u.shape[0], dtype=bool)
            for parent, values in p.conditions.items():
                pp = self.space[parent]
                if parent not in index or not isinstance(pp, Categorical):
                    continue
                allowed = [pp.index(v) for v in values]
                mask &= active[parent] & np.isin(u[:, index[parent]].astype(int), allowed)
            active[n] = mask
            u[~mask, index[n]] = ph[index[n]]


# --------------------------------------------------------------------------------------------
# contour / response surface


@dataclass(frozen=True)
class ContourData:
    x_param: str
    y_param: str
    x_log: bool
    y_log: bool
    xs: np.ndarray  # grid coordinates, natural units (categorical: indices)
    ys: np.ndarray
    mean: np.ndarray  # len(ys) × len(xs) predicted metric
    std: np.ndarray | None  # GP uncertainty, same shape; None for forests
    points_x: np.ndarray  # complete trials where both parameters are active
    points_y: np.ndarray
    point_values: np.ndarray
    numbers: np.ndarray

    @property
    def is_empty(self) -> bool:
        return self.mean.size == 0


def _grid_axis(p: Param, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """(natural coordinates, unit coordinates / indices) of one grid axis."""
    if isinstance(p, Categorical):
        idx = np.arange(len(p.choices), dtype=float)
        return idx, idx
    assert isinstance(p, (Float, Int))
    u = np.linspace(0.0, 1.0, max(2, resolution))
    return _from_unit(p, u), u


def _fit_gp(X: np.ndarray, y: np.ndarray, seed: int) -> Any:
    """skopt's GP (cook_estimator: constant × Matérn-5/2 ARD + white noise, y normalized); kernel
    hyper-parameters fitted on at most GP_FIT_POINTS rows (the best half and a random rest),
    then held fixed for the fit on every row given."""
    from sklearn.base import clone
    from skopt.learning.gaussian_process.kernels import Sum, WhiteKernel
    from skopt.space import Real, Space
    from skopt.utils import cook_estimator

    from .strategies.bayesian import _lbfgs

    rng = np.random.default_rng(seed)
    base = cook_estimator("GP", space=Space([Real(0.0, 1.0)] * X.shape[1]), noise="gaussian")
    if len(y) > GP_FIT_POINTS:
        order = np.argsort(y, kind="stable")
        half = GP_FIT_POINTS // 2
        rest = rng.choice(order[half:], size=GP_FIT_POINTS - half, replace=False)
        sub = np.concatenate([order[:half], rest])
    else:
        sub = np.arange(len(y))
    est = clone(base)
    est.set_params(n_restarts_optimizer=0, random_state=int(rng.integers(2**31 - 1)), optimizer=_lbfgs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X[sub], y[sub])
        if len(sub) == len(y):
            return est
        noise = est.noise_ if est.noise_ else 1e-5
        kernel = Sum(est.kernel_.k1, WhiteKernel(noise_level=noise, noise_level_bounds="fixed"))
        final = clone(base)
        final.set_params(kernel=kernel, optimizer=None)
        final.fit(X, y)
    return final


def _subsample(y: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """Indices of at most ``limit`` rows: every row, or the best ``limit // 4`` and a random rest
    (y is minimized)."""
    if len(y) <= limit:
        return np.arange(len(y))
    order = np.argsort(y, kind="stable")
    head = limit // 4
    rest = np.random.default_rng(seed).choice(order[head:], size=limit - head, replace=False)
    return np.sort(np.concatenate([order[:head], rest]))


def contour_data(
    space: SearchSpace,
    trials: Iterable[FrozenTrial],
    x_param: str,
    y_param: str,
    direction: str,
    *,
    resolution: int = 40,
    estimator: str = "GP",
) -> ContourData:
    """The surrogate's predicted metric over a grid of two parameters.

    The model (``"GP"``, ``"RF"`` or ``"ET"``, as the Bayesian strategy builds them) is fitted
    on every searchable parameter of the complete trials (a GP on at most
    :data:`GP_MAX_POINTS`, a forest on at most :data:`FOREST_MAX_POINTS`: the best quarter and a
    random rest); every other parameter is held at the best trial's value (its placeholder
    where inactive there, and parameters that the grid's values make inactive at theirs).
    Numeric axes have ``resolution`` points, evenly spaced in log space for log parameters;
    categorical axes one point per choice. With fewer than two trials (or all values equal)
    there is nothing to fit: ``mean`` is an empty (0, 0) array and ``std`` None, while the
    grid coordinates and the points are still filled in."""
    est_name = estimator.upper()
    if est_name not in ("GP", "RF", "ET"):
        raise ValueError(f"estimator must be GP, RF or ET, got {estimator!r}")
    px, py = space[x_param], space[y_param]
    done = complete_trials(trials)
    values = np.asarray([t.value for t in done], dtype=float)
    numbers = np.asarray([t.number for t in done], dtype=np.int64)
    enc = _Encoding(space, onehot=est_name == "GP")
    raw = _raw_matrix(space, done, enc.names)
    index = {n: j for j, n in enumerate(enc.names)}
    pts = np.column_stack(
        [raw[:, index[n]] if n in index else _column(space, n, done) for n in (x_param, y_param)]
    )
    both = ~np.isnan(pts).any(axis=1)
    xs, ux = _grid_axis(px, resolution) if not isinstance(px, Fixed) else (np.zeros(1), np.zeros(1))
    ys, uy = _grid_axis(py, resolution) if not isinstance(py, Fixed) else (np.zeros(1), np.zeros(1))
    empty = np.empty((0, 0))
    common = dict(
        x_param=x_param,
        y_param=y_param,
        x_log=bool(getattr(px, "log", False)),
        y_log=bool(getattr(py, "log", False)),
        xs=xs,
        ys=ys,
        points_x=pts[both, 0],
        points_y=pts[both, 1],
        point_values=values[both],
        numbers=numbers[both],
    )
    if len(done) < 2 or not enc.names or float(np.ptp(values)) == 0.0:
        return ContourData(mean=empty, std=None, **common)
    u = enc.unit(raw)
    y = _signed(values, direction)
    best = int(np.argmin(y))  # first best on a tie (done is sorted by number)
    # the grid: the best trial's row with the two parameters replaced
    grid = np.repeat(u[best : best + 1], len(ys) * len(xs), axis=0)
    gx, gy = np.meshgrid(ux, uy)  # len(ys) × len(xs)
    if x_param in index:
        grid[:, index[x_param]] = gx.ravel()
    if y_param in index:
        grid[:, index[y_param]] = gy.ravel()
    enc.canonicalize(grid)
    from .strategies.bayesian import _forest_predict, _one_blas_thread, gp_predict

    with _one_blas_thread():
        if est_name == "GP":
            sub = _subsample(y, GP_MAX_POINTS, 0)
            try:
                est = _fit_gp(enc.rows(u[sub]), y[sub], 0)
            except (np.linalg.LinAlgError, ValueError):
                return ContourData(mean=empty, std=None, **common)
            mu, sd = gp_predict(est, enc.rows(grid))
            std: np.ndarray | None = sd.reshape(len(ys), len(xs))
        else:
            from skopt.utils import cook_estimator

            sub = _subsample(y, FOREST_MAX_POINTS, 0)
            est = cook_estimator(est_name, random_state=0, n_jobs=1)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.fit(enc.rows(u[sub]), y[sub])
            mu, _ = _forest_predict(est, enc.rows(grid))
            std = None
    mean = _signed(mu, direction).reshape(len(ys), len(xs))
    return ContourData(mean=mean, std=std, **common)


# --------------------------------------------------------------------------------------------
# importance (functional ANOVA on a random forest)


def _leaf_boxes(tree: Any, lows: np.ndarray, highs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower corners, upper corners, values) of a fitted tree's leaves, within [lows, highs]."""
    t = tree.tree_
    left, right = t.children_left, t.children_right
    feat, thr = t.feature, t.threshold
    n = t.node_count
    lo = np.tile(lows, (n, 1))
    hi = np.tile(highs, (n, 1))
    frontier = np.array([0])
    while frontier.size:
        internal = frontier[left[frontier] != -1]
        if not internal.size:
            break
        lc, rc, f, th = left[internal], right[internal], feat[internal], thr[internal]
        lo[lc] = lo[internal]
        hi[lc] = hi[internal]
        lo[rc] = lo[internal]
        hi[rc] = hi[internal]
        hi[lc, f] = np.minimum(hi[lc, f], th)
        lo[rc, f] = np.maximum(lo[rc, f], th)
        frontier = np.concatenate([lc, rc])
    leaves = left == -1
    return lo[leaves], hi[leaves], t.value[leaves, 0, 0]


def _tree_main_effects(lo: np.ndarray, hi: np.ndarray, v: np.ndarray, span: np.ndarray) -> np.ndarray | None:
    """Each dimension's main-effect variance over the tree's total variance (None: constant)."""
    frac = np.clip((hi - lo) / span, 0.0, None)  # L × d, fraction of each dimension's domain
    vol = np.prod(frac, axis=1)
    mean = float(vol @ v)
    total = float(vol @ (v - mean) ** 2)
    if not total > 0.0:
        return None
    out = np.zeros(lo.shape[1])
    for i in range(lo.shape[1]):
        cuts = np.unique(np.concatenate([lo[:, i], hi[:, i]]))
        if len(cuts) < 3:  # never split on this dimension
            continue
        mids = 0.5 * (cuts[:-1] + cuts[1:])
        widths = np.diff(cuts) / span[i]
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(frac[:, i] > 0, v * vol / frac[:, i], 0.0)
        cover = (lo[None, :, i] <= mids[:, None]) & (hi[None, :, i] > mids[:, None])
        marginal = cover @ w
        out[i] = float(widths @ (marginal - mean) ** 2)
    return out / total


def importance(
    space: SearchSpace, trials: Iterable[FrozenTrial], direction: str, *, seed: int = 0
) -> list[tuple[str, float]]:
    """Share of the metric's variance explained by each searchable parameter alone (functional
    ANOVA main effects on a random forest, see the module docs), sorted descending (ties in
    space order), summing to 1.

    Beyond :data:`FOREST_MAX_POINTS` trials a seeded random subsample of that size is used.
    Returns [] with fewer than two complete trials with a finite value or no searchable
    parameter; equal shares when the forest finds no variance at all (every value equal)."""
    names = space.searchable()
    done = complete_trials(trials)
    if len(done) < 2 or not names:
        return []
    if len(done) > FOREST_MAX_POINTS:
        keep = np.random.default_rng(seed).choice(len(done), size=FOREST_MAX_POINTS, replace=False)
        done = [done[i] for i in np.sort(keep)]
    values = np.asarray([t.value for t in done], dtype=float)
    enc = _Encoding(space, onehot=False)
    u = enc.unit(_raw_matrix(space, done, names))
    y = _signed(values, direction)
    lows = np.zeros(len(names))
    highs = np.ones(len(names))
    for j, n in enumerate(names):
        p = space[n]
        if isinstance(p, Categorical):
            lows[j], highs[j] = -0.5, len(p.choices) - 0.5
    span = highs - lows
    shares = np.zeros(len(names))
    counted = 0
    if float(np.ptp(y)) > 0.0:
        from skopt.utils import cook_estimator

        forest = cook_estimator("RF", random_state=seed, n_jobs=1)
        forest.set_params(n_estimators=IMPORTANCE_TREES)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            forest.fit(u, y)
        for tree in forest.estimators_:
            eff = _tree_main_effects(*_leaf_boxes(tree, lows, highs), span)
            if eff is not None:
                shares += eff
                counted += 1
    total = float(shares.sum())
    if counted == 0 or not total > 0.0:
        shares = np.full(len(names), 1.0 / len(names))
    else:
        shares = shares / total
    ranked = sorted(range(len(names)), key=lambda j: (-shares[j], j))
    return [(names[j], float(shares[j])) for j in ranked]


# --------------------------------------------------------------------------------------------
# trade-offs


def pareto_front(points: np.ndarray, directions: tuple[str, str]) -> np.ndarray:
    """Boolean mask of the rows no other row dominates (at least as good in both columns and
    better in one). Equal rows on the front are all kept; rows with a NaN are never on it."""
    pts = np.asarray(points, dtype=float)
    if pts.size == 0:
        pts = pts.reshape(0, 2)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"points must be an n × 2 array, got shape {pts.shape}")
    mask = np.zeros(len(pts), dtype=bool)
    ok = ~np.isnan(pts).any(axis=1)
    if not ok.any():
        return mask
    s = pts[ok].copy()
    for j, d in enumerate(directions):
        if d == "maximize":
            s[:, j] = -s[:, j]
        elif d != "minimize":
            raise ValueError(f"a direction must be 'minimize' or 'maximize', got {d!r}")
    order = np.lexsort((s[:, 1], s[:, 0]))  # by x, then y
    xs, ys = s[order, 0], s[order, 1]
    front = np.zeros(len(order), dtype=bool)
    best_y = math.inf  # min y over strictly smaller x
    i = 0
    n = len(order)
    while i < n:
        j = i
        while j < n and xs[j] == xs[i]:
            j += 1
        group_min = ys[i]  # sorted by y within the group
        if group_min < best_y:
            front[i:j] = ys[i:j] == group_min
            best_y = group_min
        i = j
    sub = np.zeros(len(order), dtype=bool)
    sub[order] = front
    mask[np.flatnonzero(ok)] = sub
    return mask


@dataclass(frozen=True)
class TradeoffData:
    x_metric: str
    y_metric: str
    x: np.ndarray
    y: np.ndarray
    numbers: np.ndarray
    on_front: np.ndarray  # bool mask


def _metric_of(t: FrozenTrial, name: str) -> Any:
    if name in t.metrics:
        return t.metrics[name]
    if name == "value":
        return t.value
    if name == "seconds":
        return t.seconds
    return None


def tradeoff_data(
    trials: Iterable[FrozenTrial], x_metric: str, y_metric: str, directions: tuple[str, str]
) -> TradeoffData:
    """Two final metrics of the COMPLETE trials that have both as finite numbers (by number), and
    which are on their Pareto front. A metric is looked up in ``metrics``; ``"value"`` and
    ``"seconds"`` fall back to the trial's value and duration."""
    xs: list[float] = []
    ys: list[float] = []
    nums: list[int] = []
    for t in sorted(trials, key=lambda t: t.number):
        if t.state != TrialState.COMPLETE:
            continue
        a, b = _metric_of(t, x_metric), _metric_of(t, y_metric)
        if _finite(a) and _finite(b):
            xs.append(float(a))
            ys.append(float(b))
            nums.append(t.number)
    x = np.asarray(xs, dtype=float)
    y = np.asarray(ys, dtype=float)
    return TradeoffData(
        x_metric=x_metric,
        y_metric=y_metric,
        x=x,
        y=y,
        numbers=np.asarray(nums, dtype=np.int64),
        on_front=pareto_front(np.column_stack([x, y]), directions),
    )
