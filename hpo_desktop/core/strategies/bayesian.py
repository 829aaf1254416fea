"""Bayesian optimization on top of scikit-optimize's surrogate models.

How a point is chosen
---------------------
1. **Initial design.** Until ``initial_points`` results have been told, the
   k-th point handed out (k = results told + points pending) is row k of an
   initial design drawn once from the seed: ``"random"`` (skopt's ``Space.rvs``)
   or one of skopt's initial point generators (``"sobol"``, ``"lhs"``,
   ``"halton"``, ``"grid"``). Asks beyond the design while results are still
   missing get seeded random points.
2. **Surrogate.** Afterwards a regression model is fitted to every result —
   skopt's ``GaussianProcessRegressor`` (``"GP"``: constant × Matérn-5/2 with
   one length scale per dimension, plus a fitted white-noise term, y
   normalized: exactly the kernel of skopt's default ``Optimizer``) or skopt's
   random forest / extra trees (``"RF"``, ``"ET"``: 100 trees, leaves of ≥ 3,
   spread of the trees as the uncertainty). Inputs live in skopt's normalized
   space: numbers mapped to [0, 1] (log scale where the parameter is log),
   categoricals one-hot. Fixed parameters are not given to the model.
3. **Acquisition.** ``n_candidates`` points are scored: three quarters drawn
   uniformly in that space, one quarter perturbations (several scales) of the
   five best results so far. The best few of each acquisition function are
   then polished by four rounds of shrinking random perturbations (in place of
   skopt's L-BFGS polish: no gradients needed, so it works for the forests
   too, and it costs a few hundred predictions). The candidate with the best
   acquisition value that is neither told nor pending is handed out.
   Acquisitions, as skopt defines them: ``"EI"`` expected improvement beyond
   ``xi``, ``"PI"`` probability of improving by more than ``xi``, ``"LCB"``
   mean − ``kappa`` × std, and ``"gp_hedge"`` (the default, as in skopt): each
   of the three proposes a point and one is picked at random with weights
   softmax(gains), where each acquisition's gain is lowered by the model's
   prediction at its previous proposal once the next model is fitted.

   Why gp_hedge by default: on our toy problems no single acquisition wins
   everywhere — PI (greedy) did well on the 6-parameter problems of
   ``bench/optimizer_overhead.py`` and worst on a 2-D bowl, LCB the reverse,
   EI in between — and the hedge was the best or close to it on each.

Why not ``skopt.Optimizer`` itself
----------------------------------
Its ``tell`` re-optimizes the GP kernel from scratch with 2 restarts on every
observation and polishes the acquisition with L-BFGS from 10 000 samples
(0.3-1.8 s per suggestion at 25 results, 1.5-2 s at 100 and 4-13 s at 200 on
the 2-core test machine, see docs/strategies.md); its GP
``predict(return_std=True)`` contracts with an unblocked einsum and its forests
validate their input once per tree; its constant liar copies and refits the
whole optimizer; and its random state advances with
every call, so a study rebuilt from storage would propose different points
than the run that was interrupted. So the building blocks are skopt's (space
and transforms, initial point generators, ``cook_estimator``, its GP and
forests) and the loop is ours:

* **Tells are buffered**: ``tell`` only records the observation; the model is
  fitted once, on the next ``ask``.
* **Kernel hyper-parameters are re-optimized on a schedule**: after each of
  the first 20 results, then whenever the number of results has grown by
  about 10 % (20, 22, 24, 26, 28, 30, 33, 36, …, 94, 103, 113, …). The
  optimization (skopt's settings: L-BFGS on the log marginal likelihood with
  2 random restarts, capped at 200 iterations each) always starts afresh on
  the first m results, m being the last schedule point reached; in between,
  the GP is refitted on all results with those hyper-parameters held fixed
  (one Cholesky factorization, milliseconds).
* **Predictions** for thousands of candidates go through a triangular solve
  (GP) or straight through each tree's arrays (forests): the same numbers as
  skopt's ``predict(X, return_std=True)``, 10-50x faster.
* **One BLAS thread** while the model works: its matrices are small, and
  OpenBLAS threads spin-waiting on a busy machine made kernel fits 3-5x slower.
* **Path independent**: every random draw is seeded by the seed and the
  counts of results and pending points, and the hyper-parameters depend only
  on the results, so a strategy rebuilt by ``tell_trials`` proposes exactly
  what the original would have — except with ``gp_hedge``, whose gains are
  learned along the way and start again at zero after a rebuild (still
  deterministic for a given seed and sequence of calls).

Outcomes that are not a finite number
-------------------------------------
skopt's models cannot learn from NaN or infinity, and a failed point must not
look attractive. So:

* A FAILED trial, and a COMPLETE or PRUNED trial whose value is missing, NaN
  or ±inf, is taught as a **penalty**: the worst finite (signed, i.e.
  minimized) value seen so far plus 10 % of the observed range of finite
  values (plus 1 when that range is 0). The penalty is recomputed from all
  finite values at every fit.
* While no finite value exists yet, such points are **held back** (the model
  does not see them; they still count as evaluated and are never proposed
  again) and are taught as soon as a finite value exists.
* A PRUNED trial with a finite value is taught that value: the metric it had
  reached when the pruner stopped it (see docs/pruning.md), usually worse than
  where it would have ended — which is why it was stopped.
* An INTERRUPTED trial only releases its pending point; nothing is learned.

Conditional parameters
----------------------
The model sees a flat space of all searchable parameters. An inactive
parameter is taught at its placeholder value (the low end, or the first
choice), and candidates are canonicalized the same way before they are
scored, so the model only ever sees inactive parameters at one value.
Points handed out contain the active parameters only.

Batches and pending points (constant liar)
------------------------------------------
Every point handed out and not yet told is *pending*. When choosing a point,
each pending point is added to the model's data with a lie — the minimum
(``liar="min"``, the default), maximum or mean of the results so far — so the
model stops seeing improvement there and the next point goes elsewhere.
``ask(n)`` hands out n points this way one after another (the GP refit for
each lie reuses the current hyper-parameters). Pending points are never
proposed again.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpo_desktop.core.space import Categorical, Float, Int, SearchSpace
from hpo_desktop.core.strategies.base import Strategy, StrategyError
from hpo_desktop.core.strategies.grid import point_key
from hpo_desktop.core.trial import TrialState

ESTIMATORS = ("GP", "RF", "ET")
ACQUISITIONS = ("EI", "PI", "LCB", "gp_hedge")
INITIAL_DESIGNS = ("random", "sobol", "lhs", "halton", "grid")
LIARS = ("min", "max", "mean")

_GP_RESTARTS = 2  # skopt's default for its GP
_GP_MAXITER = 200  # L-BFGS iterations per start (typically 30-100 are used)
_SCHEDULE_DENSE = 20  # re-optimize kernel hyper-parameters after each of the first 20 results
_SCHEDULE_GROWTH = 1.1  # then each time the results have grown by ~10 %
_LOCAL_FRACTION = 0.25
_N_ELITE = 5
_LOCAL_SCALES = (0.01, 0.04, 0.12)
_POLISH_SCALES = (0.1, 0.03, 0.01, 0.003)  # rounds of the acquisition polish (normalized units)
_POLISH_CENTRES = 5  # best candidates of each acquisition perturbed per round
_POLISH_SAMPLES = 40  # perturbations of each


def schedule_point(n: int) -> int:
    """The largest hyper-parameter schedule point ≤ n (n itself for n ≤ 20)."""
    if n <= _SCHEDULE_DENSE:
        return n
    m = _SCHEDULE_DENSE
    while True:
        nxt = max(m + 1, int(m * _SCHEDULE_GROWTH))
        if nxt > n:
            return m
        m = nxt


@dataclass
class _Obs:
    key: tuple
    row: np.ndarray | None  # the model's input row; None when the params do not fit the space
    value: float | None  # signed finite value; None: taught as the penalty


@dataclass
class _Pending:
    params: dict[str, Any]
    row: np.ndarray | None
    count: int = 1


def _one_blas_thread() -> Any:
    """Run the model on one BLAS thread: its matrices are small (a few hundred rows), and
    OpenBLAS threads spin-waiting on a busy machine (the trainer runs beside us) made the
    kernel fits 3-5x slower on the 2-core test machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _lbfgs(obj_func: Any, initial_theta: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, float]:
    """scikit-learn's default kernel optimizer (L-BFGS-B), with an iteration cap as a safety net."""
    from scipy.optimize import minimize

    res = minimize(
        obj_func, initial_theta, method="L-BFGS-B", jac=True, bounds=bounds, options={"maxiter": _GP_MAXITER}
    )
    return res.x, float(res.fun)


def gp_predict(est: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of a fitted skopt GP, as ``est.predict(X, return_std=True)`` gives them.

    skopt's predict contracts with an unblocked einsum (slow for thousands of candidates);
    this is the same formula through a triangular solve (BLAS).
    """
    from scipy.linalg import solve_triangular

    k_trans = est.kernel_(X, est.X_train_)
    mu = k_trans @ est.alpha_
    v = solve_triangular(est.L_, k_trans.T, lower=True, check_finite=False)
    var = est.kernel_.diag(X) - np.einsum("ij,ij->j", v, v)
    std = np.sqrt(np.maximum(var, 0.0))
    scale = float(np.asarray(est.y_train_std_).reshape(-1)[0])
    return mu * scale + float(np.asarray(est.y_train_mean_).reshape(-1)[0]), std * scale


def _forest_predict(est: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of a fitted skopt forest, as its ``predict(X, return_std=True)`` computes them.

    skopt walks the trees through scikit-learn's public ``predict``/``apply``, whose input
    validation costs ~0.5 ms per tree and call: ~100 ms per prediction for 100 trees, whatever
    the number of points. The same formula on each tree's ``tree_`` arrays takes a few ms.
    """
    Xf = np.ascontiguousarray(X, dtype=np.float32)
    mean = np.zeros(len(X))
    second = np.zeros(len(X))
    min_var = float(getattr(est, "min_variance", 0.0) or 0.0)
    for tree in est.estimators_:
        t = tree.tree_
        leaves = t.apply(Xf)
        m = t.value[leaves, 0, 0]
        var = np.maximum(t.impurity[leaves], min_var)
        mean += m
        second += var + m**2
    n = len(est.estimators_)
    mean /= n
    var = second / n - mean**2
    return mean, np.sqrt(np.maximum(var, 0.0))


def _finite_float(value: Any) -> float | None:
    if value is None or isinstance(value, (str, bytes)):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


class BayesianStrategy(Strategy):
    """Model-based search: a surrogate (GP, random forest or extra trees) and an acquisition function."""

    name = "bayesian"
    label = "Bayesian optimization"
    help = (
        "Fits a model of the metric to the results so far and tries the most promising point next. "
        "Uses fewer trials than random search on smooth problems; the first points come from an "
        "initial design."
    )
    options_schema = {
        "estimator": (
            str,
            "GP",
            "surrogate model: GP (Gaussian process), RF (random forest), ET (extra trees)",
        ),
        "acquisition": (str, "gp_hedge", "EI, PI, LCB or gp_hedge (a hedge over the three, skopt's default)"),
        "initial_points": (int, 10, "results gathered from the initial design before the model is used"),
        "initial_design": (str, "random", "random, sobol, lhs, halton or grid"),
        "n_candidates": (int, 2000, "points scored to choose each suggestion"),
        "xi": (float, 0.01, "exploration margin of EI and PI (units of the metric)"),
        "kappa": (float, 1.96, "exploration weight of LCB"),
        "liar": (str, "min", "value assumed for pending points: min, max or mean of the results"),
    }

    def __init__(
        self, space: SearchSpace, *, seed: int | None = None, direction: str = "minimize", **options: Any
    ) -> None:
        super().__init__(space, seed=seed, direction=direction, **options)
        self._entropy = self.seed % 2**63
        self._names = space.searchable()
        self._obs: list[_Obs] = []
        self._told_keys: set[tuple] = set()
        self._pending: dict[tuple, _Pending] = {}
        self._theta: dict[int, Any] = {}  # schedule point m -> fitted kernel (hyper-parameters fixed)
        self._gains = np.zeros(3)
        self._hedge_rows: np.ndarray | None = None
        self._hedge_n = -1
        self._gp_base: Any = None
        self._design: list[dict[str, Any]] = []
        if self._names:
            self._build_encoding()
            self._design = self._initial_design()

    # -- options ------------------------------------------------------------------------
    @classmethod
    def check_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        out = super().check_options(options)

        def choice(opt: str, allowed: tuple[str, ...]) -> None:
            v = out[opt]
            if isinstance(v, str):
                for a in allowed:
                    if v.lower() == a.lower():
                        out[opt] = a
                        return
            raise StrategyError(
                f"option {opt!r} of the bayesian strategy must be one of {', '.join(allowed)}, got {v!r}"
            )

        est = out["estimator"]
        if isinstance(est, str) and est.upper() == "GBRT":
            raise StrategyError(
                "option 'estimator' of the bayesian strategy: 'GBRT' is not offered (scikit-optimize "
                "0.10.2's gradient-boosting model is broken with current numpy and scikit-learn); "
                "choose GP, RF or ET"
            )
        choice("estimator", ESTIMATORS)
        choice("acquisition", ACQUISITIONS)
        choice("initial_design", INITIAL_DESIGNS)
        choice("liar", LIARS)
        for opt, low in (("initial_points", 0), ("n_candidates", 10)):
            v = out[opt]
            if v is None or v < low:
                raise StrategyError(
                    f"option {opt!r} of the bayesian strategy must be at least {low}, got {v!r}"
                )
        for opt in ("xi", "kappa"):
            v = out[opt]
            if v is None or not math.isfinite(v) or v < 0:
                raise StrategyError(
                    f"option {opt!r} of the bayesian strategy must be a finite number ≥ 0, got {v!r}"
                )
            out[opt] = float(v)
        return out

    # -- encoding: params <-> model rows --------------------------------------------------
    def _build_encoding(self) -> None:
        from skopt.space import Space
        from skopt.utils import normalize_dimensions

        self._sk = Space(normalize_dimensions(self.space.to_skopt_dimensions()))
        self._dims = list(self._sk.dimensions)
        index = {name: j for j, name in enumerate(self._names)}
        self._num: list[int] = []  # dims that are numeric
        self._cat: list[int] = []  # dims that are categorical
        self._cols: list[tuple[int, int]] = []  # column span of each dim in a model row
        self._onehot: dict[int, np.ndarray] = {}
        col = 0
        for j, (name, dim) in enumerate(zip(self._names, self._dims, strict=True)):
            size = dim.transformed_size
            self._cols.append((col, col + size))
            col += size
            if isinstance(self.space[name], Categorical):
                self._cat.append(j)
                n = len(self.space[name].choices)
                table = np.asarray(dim.transform([str(i) for i in range(n)]), dtype=float)
                self._onehot[j] = table.reshape(n, size)
            else:
                self._num.append(j)
        self._width = col
        # Conditions: child dim -> [(parent dim, allowed choice indices)], in topological order.
        self._conditions: list[tuple[int, list[tuple[int, np.ndarray]]]] = []
        for name in self.space.order:
            p = self.space[name]
            if name not in index or not p.conditions:
                continue
            conds = []
            for parent, values in p.conditions.items():
                parent_p = self.space[parent]
                assert isinstance(parent_p, Categorical)
                conds.append((index[parent], np.array([parent_p.index(v) for v in values])))
            self._conditions.append((index[name], conds))
        # Placeholder of each numeric dim in the normalized space.
        self._placeholder_t = {
            j: float(self._dims[j].transform([self._sk_value(j, self.space[self._names[j]].placeholder)])[0])
            for j in self._num
        }

    def _sk_value(self, j: int, v: Any) -> Any:
        p = self.space[self._names[j]]
        if isinstance(p, Int):
            return int(min(max(int(round(v)), int(p.low)), int(p.high)))
        return float(min(max(float(v), float(p.low)), float(p.high)))

    def _rows_from(self, t: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Model rows from numeric coordinates t (N, len(num)) and choice indices idx (N, len(cat))."""
        out = np.empty((t.shape[0], self._width))
        for a, j in enumerate(self._num):
            out[:, self._cols[j][0]] = t[:, a]
        for b, j in enumerate(self._cat):
            lo, hi = self._cols[j]
            out[:, lo:hi] = self._onehot[j][idx[:, b]]
        return out

    def _encode(self, params: Mapping[str, Any]) -> np.ndarray | None:
        try:
            point = self.space.to_skopt_point(params)
            t = np.array(
                [[float(self._dims[j].transform([self._sk_value(j, point[j])])[0]) for j in self._num]]
            ).reshape(1, len(self._num))
            idx = np.array([[int(point[j]) for j in self._cat]], dtype=int).reshape(1, len(self._cat))
        except (ValueError, TypeError, KeyError, IndexError):
            return None
        return self._rows_from(t, idx)[0]

    def _canonicalize(self, t: np.ndarray, idx: np.ndarray) -> None:
        """Put inactive dims at their placeholder (in place), parents before children."""
        if not self._conditions:
            return
        n = t.shape[0]
        active = {j: np.ones(n, dtype=bool) for j in range(len(self._names))}
        num_pos = {j: a for a, j in enumerate(self._num)}
        cat_pos = {j: b for b, j in enumerate(self._cat)}
        for j, conds in self._conditions:
            mask = np.ones(n, dtype=bool)
            for parent, allowed in conds:
                mask &= active[parent] & np.isin(idx[:, cat_pos[parent]], allowed)
            active[j] = mask
            if j in num_pos:
                t[~mask, num_pos[j]] = self._placeholder_t[j]
            else:
                idx[~mask, cat_pos[j]] = 0

    def _snap(self, t: np.ndarray) -> None:
        """Move numeric coordinates onto integers / steps (in place), as the handed-out point will be."""
        for a, j in enumerate(self._num):
            p = self.space[self._names[j]]
            dim = self._dims[j]
            col = np.clip(t[:, a], 0.0, 1.0)
            if isinstance(p, Int) or (isinstance(p, Float) and p.step is not None):
                v = np.asarray(dim.inverse_transform(col), dtype=float)
                if isinstance(p, Float):
                    k = np.clip(np.round((v - p.low) / p.step), 0, p.n_steps)
                    v = np.clip(p.low + k * p.step, p.low, p.high)
                else:
                    v = np.clip(v, p.low, p.high)
                col = np.asarray(dim.transform(v.astype(int) if isinstance(p, Int) else v), dtype=float)
            t[:, a] = col

    def _decode(self, t_row: np.ndarray, idx_row: np.ndarray) -> dict[str, Any]:
        point: list[Any] = [None] * len(self._names)
        for a, j in enumerate(self._num):
            point[j] = self._dims[j].inverse_transform(np.array([float(t_row[a])]))[0]
        for b, j in enumerate(self._cat):
            point[j] = str(int(idx_row[b]))
        return self.space.from_skopt_point(point)

    # -- initial design ----------------------------------------------------------------------
    def _rng(self, *stream: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self._entropy, *stream]))

    def _initial_design(self) -> list[dict[str, Any]]:
        n = self.options["initial_points"]
        if n == 0:
            return []
        from skopt.utils import cook_initial_point_generator

        rs = int(self._rng(1).integers(2**31 - 1))
        name = self.options["initial_design"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if name == "random":
                points = self._sk.rvs(n_samples=n, random_state=rs)
            else:
                transformer = self._sk.get_transformer()
                points = cook_initial_point_generator(name).generate(self._sk.dimensions, n, random_state=rs)
                self._sk.set_transformer(transformer)
        return [self.space.from_skopt_point(list(p)) for p in points]

    def _taken(self, key: tuple) -> bool:
        return key in self._told_keys or key in self._pending

    def _random_point(self, k: int) -> dict[str, Any]:
        for attempt in range(100):
            p = self.space.sample(self._rng(2, k, attempt))
            if not self._taken(point_key(self.space, p)):
                return p
        return p

    # -- data for the model --------------------------------------------------------------------
    def _resolve(self, obs: list[_Obs]) -> tuple[np.ndarray, np.ndarray]:
        """Rows and values to fit: penalties filled in, held back while no finite value exists."""
        finite = [o.value for o in obs if o.row is not None and o.value is not None]
        if finite:
            worst, best = max(finite), min(finite)
            spread = worst - best
            penalty = worst + (0.1 * spread if spread > 0 else 1.0)
        rows, ys = [], []
        for o in obs:
            if o.row is None:
                continue
            if o.value is not None:
                rows.append(o.row)
                ys.append(o.value)
            elif finite:
                rows.append(o.row)
                ys.append(penalty)
        if not rows:
            return np.empty((0, 0 if not self._names else self._width)), np.empty(0)
        return np.vstack(rows), np.asarray(ys, dtype=float)

    def _n_finite(self) -> int:
        return sum(1 for o in self._obs if o.row is not None and o.value is not None)

    # -- models ---------------------------------------------------------------------------------
    def _gp_template(self) -> Any:
        if self._gp_base is None:
            from skopt.utils import cook_estimator

            self._gp_base = cook_estimator("GP", space=self._sk.dimensions, noise="gaussian")
        return self._gp_base

    def _fixed_kernel(self, X: np.ndarray, y: np.ndarray, m: int) -> Any:
        """Kernel hyper-parameters fitted on the first m results (cached by m), as a fixed kernel."""
        if m in self._theta:
            return self._theta[m]
        from sklearn.base import clone
        from skopt.learning.gaussian_process.kernels import Sum, WhiteKernel

        est = clone(self._gp_template())
        est.set_params(
            n_restarts_optimizer=_GP_RESTARTS,
            random_state=int(self._rng(3, m).integers(2**31 - 1)),
            optimizer=_lbfgs,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        kernel = est.kernel_
        noise = est.noise_ if est.noise_ else 1e-5
        fixed = Sum(kernel.k1, WhiteKernel(noise_level=noise, noise_level_bounds="fixed"))
        self._theta[m] = fixed
        return fixed

    def _fit(self, X: np.ndarray, y: np.ndarray) -> Any:
        """Fit the surrogate to X, y (results, then lies for pending points)."""
        from sklearn.base import clone

        if self.options["estimator"] == "GP":
            n_results = len(self._obs)
            m = schedule_point(n_results)
            Xm, ym = self._resolve(self._obs[:m])
            if len(ym) < 2:  # too little in that prefix (failures): optimize on every result
                m = -n_results
                Xm, ym = self._resolve(self._obs)
            kernel = self._fixed_kernel(Xm, ym, m)
            est = clone(self._gp_template())
            est.set_params(kernel=kernel, optimizer=None)
        else:
            from skopt.utils import cook_estimator

            est = cook_estimator(
                self.options["estimator"], random_state=int(self._rng(4).integers(2**31 - 1)), n_jobs=1
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        return est

    def _predict(self, est: Any, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.options["estimator"] != "GP":
            return _forest_predict(est, X)
        return gp_predict(est, X)

    def _acquisitions(self, mu: np.ndarray, std: np.ndarray, y_opt: float) -> dict[str, np.ndarray]:
        """Values to minimize, as skopt defines them."""
        from scipy.stats import norm

        xi, kappa = self.options["xi"], self.options["kappa"]
        names = (
            ("EI", "LCB", "PI")
            if self.options["acquisition"] == "gp_hedge"
            else (self.options["acquisition"],)
        )
        out: dict[str, np.ndarray] = {}
        safe = np.where(std > 0, std, 1.0)
        z = (y_opt - xi - mu) / safe
        for name in names:
            if name == "LCB":
                out[name] = mu - kappa * std
            elif name == "EI":
                ei = (y_opt - xi - mu) * norm.cdf(z) + std * norm.pdf(z)
                out[name] = -np.where(std > 0, ei, 0.0)
            else:
                out[name] = -np.where(std > 0, norm.cdf(z), 0.0)
        return out

    # -- candidates --------------------------------------------------------------------------------
    def _candidates(
        self, rng: np.random.Generator, X: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        total = self.options["n_candidates"]
        n_num, n_cat = len(self._num), len(self._cat)
        n_local = int(total * _LOCAL_FRACTION) if len(y) else 0
        n_rand = total - n_local
        t = rng.random((total, n_num))
        idx = np.empty((total, n_cat), dtype=int)
        for b, j in enumerate(self._cat):
            idx[:, b] = rng.integers(0, len(self._onehot[j]), size=total)
        if n_local:
            elite = np.argsort(y, kind="stable")[:_N_ELITE]
            # The best point is the centre of half the local candidates.
            centre = np.where(rng.random(n_local) < 0.5, elite[0], rng.choice(elite, size=n_local))
            ct, cidx = self._split_rows(X[centre])
            scales = rng.choice(np.array(_LOCAL_SCALES), size=(n_local, 1))
            move = rng.random((n_local, n_num + n_cat)) < max(0.5, 1.0 / max(1, n_num + n_cat))
            move[np.arange(n_local), rng.integers(0, n_num + n_cat, size=n_local)] = True
            step = rng.normal(size=(n_local, n_num)) * scales
            t[n_rand:] = np.clip(ct + np.where(move[:, :n_num], step, 0.0), 0.0, 1.0)
            resample = move[:, n_num:] & (rng.random((n_local, n_cat)) < 0.3)
            idx[n_rand:] = np.where(resample, idx[n_rand:], cidx)
        self._snap(t)
        self._canonicalize(t, idx)
        return t, idx

    def _split_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Numeric coordinates and choice indices of model rows."""
        t = np.empty((rows.shape[0], len(self._num)))
        idx = np.empty((rows.shape[0], len(self._cat)), dtype=int)
        for a, j in enumerate(self._num):
            t[:, a] = rows[:, self._cols[j][0]]
        for b, j in enumerate(self._cat):
            lo, hi = self._cols[j]
            table = self._onehot[j]
            # nearest one-hot code (exact for the rows we encoded)
            idx[:, b] = np.argmin(((rows[:, None, lo:hi] - table[None, :, :]) ** 2).sum(-1), axis=1)
        return t, idx

    # -- choosing a point -----------------------------------------------------------------------------
    def _model_point(self) -> dict[str, Any] | None:
        X, y = self._resolve(self._obs)
        if self._n_finite() < 2 or len(y) < 2:
            return None
        n_pending = sum(pe.count for pe in self._pending.values())
        lie_rows = [pe.row for pe in self._pending.values() for _ in range(pe.count) if pe.row is not None]
        y_fit, X_fit = y, X
        if lie_rows:
            liar = self.options["liar"]
            lie = float(np.min(y) if liar == "min" else np.max(y) if liar == "max" else np.mean(y))
            X_fit = np.vstack([X, *lie_rows])
            y_fit = np.concatenate([y, np.full(len(lie_rows), lie)])
        try:
            est = self._fit(X_fit, y_fit)
        except (np.linalg.LinAlgError, ValueError):
            return None
        rng = self._rng(5, len(self._obs), n_pending)
        t, idx = self._candidates(rng, X, y)
        y_opt = float(np.min(y_fit))
        mu, std = self._predict(est, self._rows_from(t, idx))
        t, idx, mu, std = self._polish(est, rng, t, idx, mu, std, y_opt)
        rows = self._rows_from(t, idx)
        acqs = self._acquisitions(mu, std, y_opt)

        if self.options["acquisition"] == "gp_hedge":
            if self._hedge_rows is not None and len(self._obs) > self._hedge_n:
                self._gains -= self._predict(est, self._hedge_rows)[0]
                self._hedge_rows = None
            picks = [self._best_free(acqs[name], t, idx) for name in ("EI", "LCB", "PI")]
            logits = self._gains - np.max(self._gains)
            probs = np.exp(logits)
            probs /= probs.sum()
            choice = int(np.argmax(rng.multinomial(1, probs)))
            found = [p for p in picks if p is not None]
            if not found:
                return None
            picks = [p or found[0] for p in picks]
            self._hedge_rows = np.vstack([rows[p[1]] for p in picks])  # one row per acquisition
            self._hedge_n = len(self._obs)
            return picks[choice][0]
        pick = self._best_free(acqs[self.options["acquisition"]], t, idx)
        return None if pick is None else pick[0]

    def _polish(
        self,
        est: Any,
        rng: np.random.Generator,
        t: np.ndarray,
        idx: np.ndarray,
        mu: np.ndarray,
        std: np.ndarray,
        y_opt: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Refine the acquisition's best candidates by shrinking random perturbations.

        Stands in for skopt's L-BFGS polish, works for every estimator (no gradients), and
        costs a few hundred extra predictions per round.
        """
        for scale in _POLISH_SCALES:
            acqs = self._acquisitions(mu, std, y_opt)
            centres = np.unique(
                np.concatenate([np.argsort(v, kind="stable")[:_POLISH_CENTRES] for v in acqs.values()])
            )
            reps = np.repeat(centres, _POLISH_SAMPLES)
            n = len(reps)
            nt = np.clip(t[reps] + rng.normal(size=(n, t.shape[1])) * scale, 0.0, 1.0)
            nidx = idx[reps].copy()
            if idx.shape[1] and scale == _POLISH_SCALES[0]:
                flip = rng.random(nidx.shape) < 0.1
                for b, j in enumerate(self._cat):
                    nidx[flip[:, b], b] = rng.integers(0, len(self._onehot[j]), size=int(flip[:, b].sum()))
            self._snap(nt)
            self._canonicalize(nt, nidx)
            nmu, nstd = self._predict(est, self._rows_from(nt, nidx))
            t, idx = np.vstack([t, nt]), np.vstack([idx, nidx])
            mu, std = np.concatenate([mu, nmu]), np.concatenate([std, nstd])
        return t, idx, mu, std

    def _best_free(
        self, values: np.ndarray, t: np.ndarray, idx: np.ndarray
    ) -> tuple[dict[str, Any], int] | None:
        """The best-scoring candidate whose point is neither told nor pending."""
        order = np.argsort(values, kind="stable")
        for i in order[:200]:
            params = self._decode(t[i], idx[i])
            if not self._taken(point_key(self.space, params)):
                return params, int(i)
        return None

    # -- interface ---------------------------------------------------------------------------------
    def ask(self, n: int = 1) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for _ in range(n):
            if not self._names:  # only fixed parameters: there is one point
                p = self.space.from_skopt_point([])
            else:
                k = len(self._obs) + sum(pe.count for pe in self._pending.values())
                p = None
                if len(self._obs) < self.options["initial_points"]:
                    if k < len(self._design) and not self._taken(point_key(self.space, self._design[k])):
                        p = dict(self._design[k])
                else:
                    with _one_blas_thread():
                        p = self._model_point()
                if p is None:
                    p = self._random_point(k)
            self.mark_pending(p)
            out.append(p)
        return out

    def tell(
        self, params: Mapping[str, Any], value: float | None, state: TrialState = TrialState.COMPLETE
    ) -> None:
        if state == TrialState.RUNNING:
            self.mark_pending(params)
            return
        key = point_key(self.space, params)
        pe = self._pending.get(key)
        if pe is not None:
            pe.count -= 1
            if pe.count <= 0:
                del self._pending[key]
        if state == TrialState.INTERRUPTED:
            return
        v = None if state == TrialState.FAILED else _finite_float(value)
        if v is not None:
            v = self.signed(v)
        row = self._encode(params) if self._names else None
        self._obs.append(_Obs(key, row, v))
        self._told_keys.add(key)

    def mark_pending(self, params: Mapping[str, Any]) -> None:
        key = point_key(self.space, params)
        pe = self._pending.get(key)
        if pe is not None:
            pe.count += 1
        else:
            row = self._encode(params) if self._names else None
            self._pending[key] = _Pending(dict(params), row)
