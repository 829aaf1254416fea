"""Plain data for the live charts and the trials table: Qt-free, testable without drawing.

The GUI's charts only draw what these functions return (``setData``); nothing here knows about
widgets. :class:`LiveTrials` is the live page's record of a study: loaded from stored trials,
kept up to date by the study loop's events, and asked for what changed since the last redraw.

Non-finite numbers, everywhere in this module:

* a NaN or ±inf point of a learning curve becomes NaN, which the charts draw as a gap (an
  infinite loss has no place on a linear axis, and one point must not squash the rest);
* a trial whose value is NaN or ±inf is not drawn at a value: it is listed among the markers
  drawn at the chart's worse edge, and it never counts toward the best-so-far line (the same
  rule as :func:`hpo_desktop.core.study.best_of`);
* the table shows ``nan`` / ``inf`` as text and sorts them (and empty cells) after every number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .events import StepReported, StudyFinished, StudyStarted, TrialFinished, TrialStarted
from .trial import FrozenTrial, TrialState

__all__ = [
    "BestTable",
    "Changes",
    "Column",
    "CompareSeries",
    "HistoryData",
    "LiveTrial",
    "LiveTrials",
    "ProgressData",
    "TableData",
    "TrialLike",
    "available_metrics",
    "best_number",
    "best_rows",
    "cell_value",
    "compare_series",
    "curve_series",
    "points_series",
    "format_cell",
    "history_points",
    "lineage_ids",
    "metric_names",
    "param_names",
    "progress_data",
    "same_metric",
    "series_for",
    "sort_key",
    "table_columns",
    "time_left",
    "trial_rows",
]

#: Per-epoch metrics first in this order, any others after them alphabetically.
CURVE_ORDER = ("val_loss", "val_accuracy", "val_rmse", "val_r2", "train_loss", "epoch_seconds")
#: Final metrics in the table: the validation metrics, then the trainer's bookkeeping.
METRIC_ORDER = (
    "val_loss",
    "val_accuracy",
    "val_rmse",
    "val_r2",
    "train_loss",
    "best_epoch",
    "epochs_run",
    "n_params",
    "train_seconds",
)
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAILED)


class TrialLike(Protocol):
    """What the functions here read from a trial: a :class:`FrozenTrial` or a :class:`LiveTrial`."""

    number: int
    state: TrialState
    params: dict[str, Any]
    value: float | None
    metrics: dict[str, float]
    seconds: float | None
    curves: dict[str, list[tuple[int, float]]]


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def _better(a: float, b: float, direction: str) -> bool:
    return a > b if direction == "maximize" else a < b


def _ordered(names: Iterable[str], order: Sequence[str]) -> list[str]:
    rank = {n: i for i, n in enumerate(order)}
    return sorted(set(names), key=lambda n: (rank.get(n, len(rank)), n))


# --------------------------------------------------------------------------------------------
# the history chart


@dataclass(frozen=True)
class HistoryData:
    """Every finished trial's value by trial number, grouped the way the chart draws them.

    ``best_x``/``best_y`` are the vertices of the best-so-far line, already in step form
    (horizontal until a better trial, then vertical), ending at the last finished trial.
    """

    direction: str
    numbers: np.ndarray  # complete trials with a finite value
    values: np.ndarray
    pruned_numbers: np.ndarray  # pruned trials with a finite (partial) value
    pruned_values: np.ndarray
    failed_numbers: np.ndarray  # failed trials: drawn at the worse edge
    no_value_numbers: np.ndarray  # complete/pruned without a finite value: at the worse edge
    best_x: np.ndarray
    best_y: np.ndarray
    best_number: int | None
    best_value: float | None

    @property
    def is_empty(self) -> bool:
        groups = (self.numbers, self.pruned_numbers, self.failed_numbers, self.no_value_numbers)
        return not any(len(g) for g in groups)

    @property
    def all_positive(self) -> bool:
        """Whether a log scale can show every value (no value ≤ 0)."""
        vals = np.concatenate([self.values, self.pruned_values])
        return bool(len(vals)) and bool(np.all(vals > 0))

    def edge(self, log: bool = False) -> float:
        """Where edge markers sit: a little beyond the worst drawn value (above it when
        minimizing, below it when maximizing), in data units; with ``log`` the padding is
        measured in decades."""
        vals = np.concatenate([self.values, self.pruned_values])
        if log:
            vals = np.log10(vals[vals > 0])
        if not len(vals):
            return 1.0 if log else 0.0
        lo, hi = float(vals.min()), float(vals.max())
        pad = 0.08 * (hi - lo) or 0.08 * abs(hi) or 0.1
        y = hi + pad if self.direction != "maximize" else lo - pad
        return float(10.0**y) if log else y


def _ints(xs: list[int]) -> np.ndarray:
    return np.asarray(xs, dtype=np.int64)


def _floats(xs: list[float]) -> np.ndarray:
    return np.asarray(xs, dtype=np.float64)


def history_points(trials: Iterable[TrialLike], direction: str) -> HistoryData:
    """Group finished trials for the history chart; running and interrupted ones are left out."""
    nums: list[int] = []
    vals: list[float] = []
    p_nums: list[int] = []
    p_vals: list[float] = []
    failed: list[int] = []
    no_value: list[int] = []
    last = None
    for t in sorted(trials, key=lambda t: t.number):
        if t.state not in _FINISHED:
            continue
        last = t.number
        if t.state == TrialState.FAILED:
            failed.append(t.number)
        elif not _finite(t.value):
            no_value.append(t.number)
        elif t.state == TrialState.PRUNED:
            p_nums.append(t.number)
            p_vals.append(float(t.value))  # type: ignore[arg-type]
        else:
            nums.append(t.number)
            vals.append(float(t.value))  # type: ignore[arg-type]
    x, y = _floats(nums), _floats(vals)
    best_num: int | None = None
    best_val: float | None = None
    if len(y):
        run = np.maximum.accumulate(y) if direction == "maximize" else np.minimum.accumulate(y)
        end = float(last) if last is not None else float(x[-1])
        best_x = np.concatenate([np.repeat(x, 2)[1:], [end]])
        best_y = np.repeat(run, 2)
        i = int(np.argmax(y) if direction == "maximize" else np.argmin(y))
        best_num, best_val = nums[i], vals[i]
    else:
        best_x = best_y = _floats([])
    return HistoryData(
        direction=direction,
        numbers=_ints(nums),
        values=y,
        pruned_numbers=_ints(p_nums),
        pruned_values=_floats(p_vals),
        failed_numbers=_ints(failed),
        no_value_numbers=_ints(no_value),
        best_x=best_x,
        best_y=best_y,
        best_number=best_num,
        best_value=best_val,
    )


def best_number(trials: Iterable[TrialLike], direction: str) -> int | None:
    """The complete trial with the best finite value (the first one on a tie), or None."""
    best: TrialLike | None = None
    for t in sorted(trials, key=lambda t: t.number):
        if t.state == TrialState.COMPLETE and _finite(t.value):
            if best is None or _better(t.value, best.value, direction):  # type: ignore[arg-type]
                best = t
    return None if best is None else best.number


# --------------------------------------------------------------------------------------------
# learning curves


def curve_series(trial: TrialLike, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of one reported metric, sorted by step; non-finite values become NaN."""
    return points_series(trial.curves.get(metric) or [])


def points_series(points: Sequence[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of [(step, value), ...]: sorted by step, non-finite values as NaN."""
    if not points:
        return _floats([]), _floats([])
    arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(arr) > 1 and np.any(np.diff(arr[:, 0]) < 0):
        arr = arr[np.argsort(arr[:, 0], kind="stable")]
    values = arr[:, 1].copy()
    values[~np.isfinite(values)] = np.nan
    return arr[:, 0].copy(), values


def available_metrics(trials: Iterable[TrialLike]) -> list[str]:
    """Every per-epoch metric any trial reported, in the order of :data:`CURVE_ORDER`."""
    names: set[str] = set()
    for t in trials:
        names.update(t.curves)
    return _ordered(names, CURVE_ORDER)


# --------------------------------------------------------------------------------------------
# the trials table


@dataclass(frozen=True)
class Column:
    """One table column: ``kind`` is number, state, value, param, metric or seconds."""

    kind: str
    key: str = ""
    title: str = ""


@dataclass(frozen=True)
class TableData:
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]  # raw cell values, one tuple per trial in number order


def param_names(trials: Iterable[TrialLike]) -> list[str]:
    """Every parameter name, in the order they first appear."""
    seen: dict[str, None] = {}
    for t in trials:
        for k in t.params:
            seen.setdefault(k, None)
    return list(seen)


def metric_names(trials: Iterable[TrialLike], exclude: Iterable[str] = ()) -> list[str]:
    """Every final metric name (but ``exclude``), in the order of :data:`METRIC_ORDER`."""
    names: set[str] = set()
    for t in trials:
        names.update(t.metrics)
    return _ordered(names - set(exclude), METRIC_ORDER)


def table_columns(params: Sequence[str], metrics: Sequence[str], metric: str | None) -> list[Column]:
    """#, state, the study's metric, each param, each other final metric, seconds."""
    cols = [Column("number", "", "#"), Column("state", "", "state"), Column("value", "", metric or "value")]
    cols += [Column("param", p, p) for p in params]
    cols += [Column("metric", m, m) for m in metrics if m != metric]
    cols.append(Column("seconds", "", "seconds"))
    return cols


def cell_value(trial: TrialLike, column: Column) -> Any:
    """The raw value in one cell (a number, a string, a bool or None)."""
    kind = column.kind
    if kind == "number":
        return trial.number
    if kind == "state":
        return trial.state.value
    if kind == "value":
        return trial.value
    if kind == "param":
        return trial.params.get(column.key)
    if kind == "metric":
        return trial.metrics.get(column.key)
    if kind == "seconds":
        return trial.seconds
    raise ValueError(f"unknown column kind {kind!r}")


def format_cell(value: Any, column: Column | None = None) -> str:
    """Text for a cell: 4 significant digits; whole floats as integers with thousands commas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}" if column is not None and column.kind == "metric" else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if column is not None and column.kind == "seconds":
            return f"{value:.1f}"
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:.4g}"
    return str(value)


def sort_key(value: Any) -> float | str:
    """A key that sorts numbers numerically; None, NaN and non-numbers after every number.

    Strings are returned lower-cased: a column mixing strings and numbers should be sorted by
    ``format_cell`` text instead (the table model does that)."""
    if value is None:
        return math.inf
    if isinstance(value, (bool, int, float)):
        v = float(value)
        return math.inf if math.isnan(v) else v
    return str(value).lower()


def trial_rows(trials: Sequence[TrialLike], metric: str | None = None) -> TableData:
    """The whole table at once (the GUI model builds the same cells incrementally)."""
    ordered = sorted(trials, key=lambda t: t.number)
    cols = tuple(table_columns(param_names(ordered), metric_names(ordered), metric))
    return TableData(cols, [tuple(cell_value(t, c) for c in cols) for t in ordered])


# --------------------------------------------------------------------------------------------
# progress


@dataclass(frozen=True)
class ProgressData:
    """What the progress bars show, apart from the clocks (those the GUI keeps)."""

    n_finished: int
    budget: int | None
    study_running: bool
    running_number: int | None
    running_epoch: int | None  # the last epoch the running trial reported
    max_epochs: int | None  # its epoch budget, when known
    mean_seconds: float | None  # mean duration of the finished trials
    total_seconds: float  # summed duration of the finished trials
    message: str = ""  # why the study ended, once it has
    #: Mean duration of the latest RECENT_TRIALS finished trials: what the next ones will likely
    #: take once a pruner stops most of them early (the first, unpruned ones weigh on the mean).
    recent_seconds: float | None = None

    @property
    def remaining(self) -> int | None:
        return None if self.budget is None else max(0, self.budget - self.n_finished)


def time_left(data: ProgressData, running_seconds: float = 0.0) -> float | None:
    """Seconds until the budget is reached: the trials still to finish times the mean duration
    so far, less what the running trial has already spent (at most one mean). None when there
    is no budget or no finished trial to measure."""
    if data.remaining is None or data.mean_seconds is None:
        return None
    if data.remaining == 0:
        return 0.0
    per_trial = data.recent_seconds if data.recent_seconds is not None else data.mean_seconds
    spent = min(max(running_seconds, 0.0), per_trial) if data.running_number is not None else 0.0
    return max(0.0, data.remaining * per_trial - spent)


#: How many of the latest finished trials the time-left estimate averages (see ProgressData).
RECENT_TRIALS = 10


def _recent_mean(by_number: Mapping[int, float]) -> float | None:
    latest = sorted(by_number)[-RECENT_TRIALS:]
    return sum(by_number[n] for n in latest) / len(latest) if latest else None


def progress_data(
    trials: Iterable[TrialLike],
    budget: int | None,
    *,
    study_running: bool = False,
    running_number: int | None = None,
    default_epochs: int | None = None,
    message: str = "",
) -> ProgressData:
    """Progress of a study from its trials (O(n); :class:`LiveTrials` keeps the same numbers
    incrementally)."""
    n = 0
    secs: list[float] = []
    by_number: dict[int, float] = {}
    running: TrialLike | None = None
    for t in trials:
        if t.state in _FINISHED:
            n += 1
            if _finite(t.seconds):
                secs.append(float(t.seconds))  # type: ignore[arg-type]
                by_number[t.number] = float(t.seconds)  # type: ignore[arg-type]
        elif t.state == TrialState.RUNNING and (running_number is None or t.number == running_number):
            running = t
    epochs = _max_epochs(running, default_epochs) if running is not None else None
    return ProgressData(
        n_finished=n,
        budget=budget,
        study_running=study_running,
        running_number=None if running is None else running.number,
        running_epoch=None if running is None else _last_step(running),
        max_epochs=epochs,
        mean_seconds=(sum(secs) / len(secs)) if secs else None,
        total_seconds=float(sum(secs)),
        message=message,
        recent_seconds=_recent_mean(by_number),
    )


def _last_step(t: TrialLike) -> int | None:
    steps = [pts[-1][0] for pts in t.curves.values() if pts]
    return max(steps) if steps else getattr(t, "last_step", None)


def _max_epochs(t: TrialLike, default: int | None) -> int | None:
    e = t.params.get("epochs")
    if isinstance(e, int) and not isinstance(e, bool) and e > 0:
        return e
    return default


# --------------------------------------------------------------------------------------------
# the live record of a study


@dataclass(eq=False)
class LiveTrial:
    """A trial as the live page knows it: like :class:`FrozenTrial`, but updated in place as
    events arrive (on the GUI thread only; it never crosses a thread)."""

    number: int
    state: TrialState
    params: dict[str, Any] = field(default_factory=dict)
    value: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    seconds: float | None = None
    curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    error: str | None = None
    seed: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    last_step: int | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    trial_id: int | None = None  # known for stored trials; None for one seen only in events
    curves_loaded: bool = True  # False: stored curves not read yet (see LiveTrials.load)

    @classmethod
    def from_frozen(cls, t: FrozenTrial, *, curves_loaded: bool = True) -> LiveTrial:
        return cls(
            number=t.number,
            state=t.state,
            params=dict(t.params),
            value=t.value,
            metrics=dict(t.metrics),
            seconds=t.seconds,
            curves={k: list(v) for k, v in t.curves.items()},
            error=t.error,
            seed=t.seed,
            started_at=t.started_at,
            finished_at=t.finished_at,
            last_step=t.last_step,
            attrs=dict(t.attrs),
            trial_id=t.trial_id,
            curves_loaded=curves_loaded,
        )

    def set_curves(self, curves: Mapping[str, list[tuple[int, float]]]) -> None:
        self.curves = {k: list(v) for k, v in curves.items()}
        self.curves_loaded = True


@dataclass(frozen=True)
class Changes:
    """What :meth:`LiveTrials.take_changes` found since the previous call."""

    new: tuple[int, ...] = ()  # trials seen for the first time, in arrival order
    updated: tuple[int, ...] = ()  # known trials whose row changed
    curves: tuple[int, ...] = ()  # trials with new curve points (new ones included)
    finished: tuple[int, ...] = ()
    best_before: int | None = None
    best: int | None = None
    columns: bool = False  # a new param or final metric appeared
    curve_metrics: bool = False  # a new per-epoch metric appeared
    study: bool = False  # budget, running flag or end message changed

    @property
    def best_changed(self) -> bool:
        return self.best != self.best_before

    @property
    def any(self) -> bool:
        return self.best_changed or bool(
            self.new or self.updated or self.curves or self.finished or self.columns or self.study
        )


class LiveTrials:
    """The live page's record of one study: stored trials plus what the events said since.

    :meth:`apply` is cheap (a few dict operations per event) so it can run for every event;
    :meth:`take_changes` hands the accumulated changes to the redraw, which runs far less often.
    Events of another study (by name, once the name is known) are ignored.
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        metric: str | None = None,
        direction: str = "minimize",
        budget: int | None = None,
        default_epochs: int | None = None,
    ) -> None:
        self.name = name
        self.metric = metric
        self.direction = direction
        self.budget = budget
        self.default_epochs = default_epochs
        self.trials: dict[int, LiveTrial] = {}
        self.order: list[int] = []  # trial numbers in the order they were first seen
        self.param_names: list[str] = []
        self.metric_names: list[str] = []  # final metrics, the study's metric excluded
        self.curve_metrics: list[str] = []
        self.best: int | None = None
        self.study_running = False
        self.running_number: int | None = None
        self.message = ""
        self.n_finished = 0
        self._seconds_sum = 0.0
        self._seconds_n = 0
        self._seconds_of: dict[int, float] = {}  # finished trial -> its duration
        self._reset_changes()

    # -- loading ---------------------------------------------------------------------------
    def load(self, trials: Iterable[FrozenTrial | LiveTrial], *, curves_loaded: bool = True) -> None:
        """Add stored trials (e.g. from ``StudyStore.get_trials``), replacing known numbers."""
        for t in trials:
            lt = t if isinstance(t, LiveTrial) else LiveTrial.from_frozen(t, curves_loaded=curves_loaded)
            old = self.trials.get(lt.number)
            if old is not None:
                self._count_out(old)
            else:
                self.order.append(lt.number)
                self._new.append(lt.number)
            self.trials[lt.number] = lt
            self._count_in(lt)
            self._note_names(lt)
            if lt.state == TrialState.RUNNING:
                self.running_number = lt.number
        self.best = best_number(self.trials.values(), self.direction)
        self._study = True

    def set_curves(self, number: int, curves: Mapping[str, list[tuple[int, float]]]) -> None:
        """Give a trial its stored curves (read when it was selected)."""
        t = self.trials[number]
        t.set_curves(curves)
        self._note_names(t)
        self._curves.add(number)

    def _count_in(self, t: LiveTrial) -> None:
        if t.state in _FINISHED:
            self.n_finished += 1
            if _finite(t.seconds):
                self._seconds_sum += float(t.seconds)  # type: ignore[arg-type]
                self._seconds_n += 1
                self._seconds_of[t.number] = float(t.seconds)  # type: ignore[arg-type]

    def _count_out(self, t: LiveTrial) -> None:
        if t.state in _FINISHED:
            self.n_finished -= 1
            if _finite(t.seconds):
                self._seconds_sum -= float(t.seconds)  # type: ignore[arg-type]
                self._seconds_n -= 1
                self._seconds_of.pop(t.number, None)

    def _note_names(self, t: LiveTrial) -> None:
        for p in t.params:
            if p not in self.param_names:
                self.param_names.append(p)
                self._columns = True
        for m in t.metrics:
            if m != self.metric and m not in self.metric_names:
                self.metric_names = _ordered([*self.metric_names, m], METRIC_ORDER)
                self._columns = True
        for c in t.curves:
            if c not in self.curve_metrics:
                self.curve_metrics = _ordered([*self.curve_metrics, c], CURVE_ORDER)
                self._curve_metrics = True

    # -- events ----------------------------------------------------------------------------
    def apply(self, event: object) -> bool:
        """Record one event; True when it was for this study and changed something."""
        study = getattr(event, "study", None)
        if self.name is not None and study is not None and study != self.name:
            return False
        if isinstance(event, StepReported):
            return self._on_step(event)
        if isinstance(event, TrialStarted):
            return self._on_started(event)
        if isinstance(event, TrialFinished):
            return self._on_finished(event)
        if isinstance(event, StudyStarted):
            if self.name is None:
                self.name = event.study
            if event.budget is not None:
                self.budget = event.budget
            self.study_running, self.message, self._study = True, "", True
            return True
        if isinstance(event, StudyFinished):
            self.study_running, self.message, self._study = False, event.message, True
            if self.running_number is not None:
                t = self.trials.get(self.running_number)
                if t is None or t.state != TrialState.RUNNING:
                    self.running_number = None
            return True
        return False

    def _trial(self, number: int) -> LiveTrial:
        t = self.trials.get(number)
        if t is None:
            t = self.trials[number] = LiveTrial(number, TrialState.RUNNING)
            self.order.append(number)
            self._new.append(number)
        else:
            self._updated.add(number)
        return t

    def _on_started(self, e: TrialStarted) -> bool:
        t = self._trial(e.number)
        if t.state in _FINISHED:
            self._count_out(t)
        t.state, t.params, t.seed = TrialState.RUNNING, dict(e.params), e.seed
        self.running_number = e.number
        self._note_names(t)
        self._study = True
        return True

    def _on_step(self, e: StepReported) -> bool:
        t = self._trial(e.number)
        step = int(e.step)
        for name, v in e.metrics.items():
            pts = t.curves.get(name)
            if pts is None:
                t.curves[name] = [(step, float(v))]
                if name not in self.curve_metrics:
                    self.curve_metrics = _ordered([*self.curve_metrics, name], CURVE_ORDER)
                    self._curve_metrics = True
            elif pts[-1][0] < step:
                pts.append((step, float(v)))
            else:  # the same step again replaces it, as in the store
                d = dict(pts)
                d[step] = float(v)
                pts[:] = sorted(d.items())
        t.last_step = step if t.last_step is None else max(t.last_step, step)
        self._curves.add(e.number)
        if t.state == TrialState.RUNNING:
            self.running_number = e.number
        return True

    def _on_finished(self, e: TrialFinished) -> bool:
        t = self._trial(e.number)
        self._count_out(t)
        t.state, t.value, t.metrics = e.state, e.value, dict(e.metrics)
        t.params = dict(e.params) or t.params
        t.seconds, t.error = e.seconds, e.error
        t.attrs.update(e.attrs)
        self._count_in(t)
        self._note_names(t)
        self._finished.append(e.number)
        if self.running_number == e.number:
            self.running_number = None
        if e.state == TrialState.COMPLETE and _finite(e.value):
            cur = self.trials.get(self.best) if self.best is not None else None
            if cur is None or _better(e.value, cur.value, self.direction):  # type: ignore[arg-type]
                self.best = e.number
        self._study = True
        return True

    # -- reading -----------------------------------------------------------------------------
    def _reset_changes(self) -> None:
        self._new: list[int] = []
        self._updated: set[int] = set()
        self._curves: set[int] = set()
        self._finished: list[int] = []
        self._columns = False
        self._curve_metrics = False
        self._study = False
        self._best_before = getattr(self, "best", None)

    def take_changes(self) -> Changes:
        """What changed since the previous call (and forget it)."""
        new = tuple(self._new)
        ch = Changes(
            new=new,
            updated=tuple(sorted(self._updated - set(new))),
            curves=tuple(sorted(self._curves)),
            finished=tuple(self._finished),
            best_before=self._best_before,
            best=self.best,
            columns=self._columns,
            curve_metrics=self._curve_metrics,
            study=self._study,
        )
        self._reset_changes()
        return ch

    def __len__(self) -> int:
        return len(self.trials)

    def get(self, number: int | None) -> LiveTrial | None:
        return None if number is None else self.trials.get(number)

    def ordered(self) -> list[LiveTrial]:
        return [self.trials[n] for n in sorted(self.trials)]

    def progress(self) -> ProgressData:
        """The progress bars' data (O(1) but for the latest-trials mean, a sort of the durations)."""
        running = self.get(self.running_number)
        if running is not None and running.state != TrialState.RUNNING:
            running = None
        return ProgressData(
            n_finished=self.n_finished,
            budget=self.budget,
            study_running=self.study_running,
            running_number=None if running is None else running.number,
            running_epoch=None if running is None else running.last_step,
            max_epochs=None if running is None else _max_epochs(running, self.default_epochs),
            mean_seconds=(self._seconds_sum / self._seconds_n) if self._seconds_n else None,
            total_seconds=self._seconds_sum,
            message=self.message,
            recent_seconds=_recent_mean(self._seconds_of),
        )


# --------------------------------------------------------------------------------------------
# comparing studies (a parent and its children, or any studies of one file)


@dataclass(frozen=True)
class CompareSeries:
    """One study's history for the Compare window: complete trials by the study's own trial
    number, the best-so-far step line, and its best trial."""

    study_id: int
    name: str
    metric: str
    direction: str
    parent_id: int | None
    numbers: np.ndarray  # complete trials with a finite value
    values: np.ndarray
    best_x: np.ndarray
    best_y: np.ndarray
    n_finished: int  # complete + pruned + failed
    best_number: int | None
    best_value: float | None
    best_params: dict[str, Any]


def series_for(record: Any, trials: Iterable[TrialLike]) -> CompareSeries:
    """A :class:`CompareSeries` from a study record and its trials (no store needed)."""
    trials = list(trials)
    h = history_points(trials, record.direction)
    best = next((t for t in trials if t.number == h.best_number), None)
    return CompareSeries(
        study_id=record.study_id,
        name=record.name,
        metric=record.metric,
        direction=record.direction,
        parent_id=record.parent_id,
        numbers=h.numbers,
        values=h.values,
        best_x=h.best_x,
        best_y=h.best_y,
        n_finished=sum(1 for t in trials if t.state in _FINISHED),
        best_number=h.best_number,
        best_value=h.best_value,
        best_params=dict(best.params) if best is not None else {},
    )


def compare_series(store: Any, study_ids: Iterable[int]) -> list[CompareSeries]:
    """One :class:`CompareSeries` per study id (in the order given), read from ``store``."""
    out = []
    for sid in study_ids:
        record = store.get_study_by_id(sid)
        out.append(series_for(record, store.get_trials(sid)))
    return out


def same_metric(series: Sequence[CompareSeries]) -> tuple[list[CompareSeries], list[CompareSeries]]:
    """(the studies with the first one's metric and direction, the others): only studies that
    optimize the same thing the same way can share an axis."""
    if not series:
        return [], []
    first = series[0]
    kept = [s for s in series if (s.metric, s.direction) == (first.metric, first.direction)]
    left = [s for s in series if (s.metric, s.direction) != (first.metric, first.direction)]
    return kept, left


def lineage_ids(records: Iterable[Any], study_id: int) -> list[int]:
    """The study, its parent and its children (the Compare window's default), in file order."""
    records = list(records)
    me = next((r for r in records if r.study_id == study_id), None)
    if me is None:
        return []
    wanted = {study_id, me.parent_id} | {r.study_id for r in records if r.parent_id == study_id}
    return [r.study_id for r in records if r.study_id in wanted]


@dataclass(frozen=True)
class BestTable:
    """The best trials of several studies side by side: one row per study."""

    columns: list[str]  # "study", "best trial", the metric, "trials", then every parameter
    rows: list[list[Any]]  # None where a study has no best trial or lacks the parameter


def best_rows(series: Sequence[CompareSeries]) -> BestTable:
    """The Compare window's table: study, best trial #, best value, finished trials, each param
    (the union of the studies' parameters, in order of first appearance)."""
    params: list[str] = []
    for s in series:
        params.extend(p for p in s.best_params if p not in params)
    metric = (
        series[0].metric if series and all(s.metric == series[0].metric for s in series) else "best value"
    )
    rows = [
        [s.name, s.best_number, s.best_value, s.n_finished, *(s.best_params.get(p) for p in params)]
        for s in series
    ]
    return BestTable(["study", "best trial", metric, "trials", *params], rows)
