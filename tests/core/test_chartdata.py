"""Chart data without drawing: what the live charts and the trials table are told to show."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpo_desktop.core.chartdata import (
    Column,
    LiveTrials,
    ProgressData,
    available_metrics,
    best_number,
    curve_series,
    format_cell,
    history_points,
    progress_data,
    sort_key,
    time_left,
    trial_rows,
)
from hpo_desktop.core.events import StepReported, StudyFinished, StudyStarted, TrialFinished, TrialStarted
from hpo_desktop.core.study import best_of
from hpo_desktop.core.trial import FrozenTrial, TrialState

S = TrialState
NAN, INF = math.nan, math.inf


def trial(number, state=S.COMPLETE, value=None, *, params=None, metrics=None, curves=None, seconds=None):
    return FrozenTrial(
        study_id=1,
        trial_id=number + 1,
        number=number,
        state=state,
        params=params if params is not None else {"lr": 0.1 * (number + 1)},
        value=value,
        metrics=metrics or {},
        seconds=seconds,
        curves=curves or {},
    )


MIXED = [
    trial(0, S.COMPLETE, 3.0),
    trial(1, S.FAILED, None),
    trial(2, S.COMPLETE, 1.0),
    trial(3, S.PRUNED, 5.0),
    trial(4, S.PRUNED, None),
    trial(5, S.COMPLETE, NAN),
    trial(6, S.COMPLETE, INF),
    trial(7, S.COMPLETE, 2.0),
    trial(8, S.INTERRUPTED, None),
    trial(9, S.RUNNING, None),
]


# -- history -----------------------------------------------------------------------------------


def test_history_groups_complete_pruned_failed_and_valueless_trials():
    h = history_points(MIXED, "minimize")
    assert h.numbers.tolist() == [0, 2, 7] and h.values.tolist() == [3.0, 1.0, 2.0]
    assert h.pruned_numbers.tolist() == [3] and h.pruned_values.tolist() == [5.0]
    assert h.failed_numbers.tolist() == [1]
    assert h.no_value_numbers.tolist() == [4, 5, 6]  # pruned without value, NaN, inf
    assert (h.best_number, h.best_value) == (2, 1.0)
    assert not h.is_empty


def test_running_and_interrupted_trials_are_not_in_the_history():
    h = history_points(MIXED, "minimize")
    drawn = {*h.numbers.tolist(), *h.pruned_numbers.tolist(), *h.failed_numbers.tolist()}
    drawn |= set(h.no_value_numbers.tolist())
    assert 8 not in drawn and 9 not in drawn


def test_best_so_far_is_a_step_line_when_minimizing():
    h = history_points(MIXED, "minimize")
    # best: 3 from trial 0, 1 from trial 2 on, drawn up to the last finished trial (7)
    assert h.best_x.tolist() == [0, 2, 2, 7, 7, 7]
    assert h.best_y.tolist() == [3, 3, 1, 1, 1, 1]


def test_best_so_far_when_maximizing():
    trials = [trial(0, value=0.5), trial(1, value=0.4), trial(2, value=0.8), trial(3, S.FAILED)]
    h = history_points(trials, "maximize")
    assert h.best_x.tolist() == [0, 1, 1, 2, 2, 3]
    assert h.best_y.tolist() == [0.5, 0.5, 0.5, 0.5, 0.8, 0.8]
    assert h.best_number == 2


def test_edge_markers_sit_beyond_the_worst_value():
    h_min = history_points(MIXED, "minimize")
    h_max = history_points(MIXED, "maximize")
    assert h_min.edge() > 5.0  # above the worst (highest) drawn value
    assert h_max.edge() < 1.0  # below the worst (lowest) drawn value
    assert h_min.edge(log=True) > 5.0 and h_max.edge(log=True) > 0  # log edge stays positive


def test_history_of_nothing_or_only_failures():
    empty = history_points([], "minimize")
    assert empty.is_empty and empty.best_number is None and len(empty.best_x) == 0
    only_failed = history_points([trial(0, S.FAILED), trial(1, S.FAILED)], "minimize")
    assert only_failed.failed_numbers.tolist() == [0, 1]
    assert only_failed.edge() == 0.0 and not only_failed.all_positive


def test_log_scale_is_possible_only_with_positive_values():
    assert history_points([trial(0, value=0.1), trial(1, value=2.0)], "minimize").all_positive
    assert not history_points([trial(0, value=-0.1), trial(1, value=2.0)], "minimize").all_positive


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_best_number_agrees_with_the_study_loop(direction):
    t = best_of(MIXED, direction)
    assert best_number(MIXED, direction) == (None if t is None else t.number)


def test_best_number_ignores_non_finite_values_and_keeps_the_first_on_a_tie():
    trials = [trial(0, value=NAN), trial(1, value=-INF), trial(2, value=1.0), trial(3, value=1.0)]
    assert best_number(trials, "minimize") == 2
    assert best_number([trial(0, S.FAILED)], "minimize") is None


# -- curves ------------------------------------------------------------------------------------


def test_curve_series_sorts_by_step_and_hides_non_finite_points():
    t = trial(0, curves={"val_loss": [(1, 1.0), (3, INF), (2, 0.5), (4, NAN), (5, 0.25)]})
    x, y = curve_series(t, "val_loss")
    assert x.tolist() == [1, 2, 3, 4, 5]
    assert y[0] == 1.0 and y[1] == 0.5 and y[4] == 0.25
    assert np.isnan(y[2]) and np.isnan(y[3])  # drawn as gaps
    x, y = curve_series(t, "missing")
    assert len(x) == len(y) == 0


def test_available_metrics_put_validation_metrics_first():
    t1 = trial(0, curves={"train_loss": [(1, 1.0)], "epoch_seconds": [(1, 0.1)], "zeta": [(1, 1.0)]})
    t2 = trial(1, curves={"val_accuracy": [(1, 0.5)], "val_loss": [(1, 1.0)]})
    assert available_metrics([t1, t2]) == ["val_loss", "val_accuracy", "train_loss", "epoch_seconds", "zeta"]


# -- table -------------------------------------------------------------------------------------


def test_trial_rows_have_number_state_value_params_metrics_and_seconds():
    trials = [
        trial(1, value=0.2, params={"lr": 0.01, "opt": "adam"}, metrics={"val_loss": 0.2, "n_params": 1e4}),
        trial(0, value=0.3, params={"lr": 0.1}, metrics={"val_loss": 0.3, "best_epoch": 4.0}, seconds=2.5),
    ]
    table = trial_rows(trials, metric="val_loss")
    assert [c.title for c in table.columns] == [
        "#",
        "state",
        "val_loss",
        "lr",
        "opt",
        "best_epoch",
        "n_params",
        "seconds",
    ]  # the study metric is the value column, not repeated among the metrics
    assert table.rows[0] == (0, "complete", 0.3, 0.1, None, 4.0, None, 2.5)
    assert table.rows[1][:5] == (1, "complete", 0.2, 0.01, "adam")


def test_cells_format_readably_and_sort_numerically():
    metric = Column("metric", "n_params")
    assert format_cell(12345.0, metric) == "12,345"
    assert format_cell(0.000123456) == "0.0001235"
    assert format_cell(None) == "" and format_cell(NAN) == "nan" and format_cell(-INF) == "-inf"
    assert format_cell(3.14159, Column("seconds")) == "3.1"
    assert format_cell(True) == "true" and format_cell("adam") == "adam"
    values = [10.0, 9.0, None, NAN, 100.0, -1.0]
    ordered = sorted(values, key=sort_key)
    assert ordered[:4] == [-1.0, 9.0, 10.0, 100.0]  # numbers, not text ("10" < "9")
    assert sort_key(None) == sort_key(NAN) == INF  # empty cells after every number


# -- progress ----------------------------------------------------------------------------------


def test_progress_counts_finished_trials_and_the_running_epoch():
    trials = [
        trial(0, value=1.0, seconds=10.0),
        trial(1, S.FAILED, seconds=2.0),
        trial(2, S.RUNNING, params={"epochs": 30}, curves={"val_loss": [(1, 1.0), (2, 0.9)]}),
    ]
    p = progress_data(trials, 10, study_running=True, default_epochs=20)
    assert (p.n_finished, p.budget, p.remaining) == (2, 10, 8)
    assert (p.running_number, p.running_epoch, p.max_epochs) == (2, 2, 30)
    assert p.mean_seconds == 6.0 and p.total_seconds == 12.0


def test_time_left_is_remaining_trials_times_the_mean_less_the_running_trial():
    p = ProgressData(2, 10, True, 2, 3, 20, 6.0, 12.0)
    assert time_left(p, running_seconds=4.0) == 8 * 6.0 - 4.0
    assert time_left(p, running_seconds=100.0) == 8 * 6.0 - 6.0  # at most one mean
    assert time_left(ProgressData(2, None, True, 2, 3, 20, 6.0, 12.0)) is None  # no budget
    assert time_left(ProgressData(0, 10, True, 0, 1, 20, None, 0.0)) is None  # nothing measured yet
    assert time_left(ProgressData(10, 10, False, None, None, None, 6.0, 60.0)) == 0.0


def test_with_pruning_the_time_left_follows_the_latest_trials_not_the_first_long_ones():
    """Early trials run in full (the pruner has nothing to compare with yet); later ones are
    mostly stopped early: the estimate uses the mean of the latest finished trials."""
    from hpo_desktop.core.chartdata import RECENT_TRIALS

    full = [trial(i, value=1.0, seconds=30.0) for i in range(5)]
    pruned = [trial(5 + i, S.PRUNED, value=2.0, seconds=3.0) for i in range(RECENT_TRIALS)]
    p = progress_data(full + pruned, 40)
    assert p.mean_seconds == (5 * 30.0 + RECENT_TRIALS * 3.0) / (5 + RECENT_TRIALS)
    assert p.recent_seconds == 3.0
    assert time_left(p) == (40 - 5 - RECENT_TRIALS) * 3.0  # not the overall mean (~11 s a trial)
    book = LiveTrials(name="s", metric="val_loss")
    book.load(full + pruned)
    assert book.progress().recent_seconds == 3.0 and book.progress().mean_seconds == p.mean_seconds


# -- the live record ---------------------------------------------------------------------------


def run_events(study="s"):
    return [
        StudyStarted(study, 5, 0),
        TrialStarted(study, 0, {"lr": 0.1}, 11),
        StepReported(study, 0, 1, {"val_loss": 1.0, "train_loss": 1.2}),
        StepReported(study, 0, 2, {"val_loss": 0.8, "train_loss": 0.9}),
        TrialFinished(study, 0, S.COMPLETE, {"lr": 0.1}, 0.8, {"val_loss": 0.8, "best_epoch": 2.0}, 3.0),
        TrialStarted(study, 1, {"lr": 0.5, "units": 64}, 12),
        StepReported(study, 1, 1, {"val_loss": 0.5}),
    ]


def test_live_trials_record_events_and_report_changes_once():
    book = LiveTrials(name="s", metric="val_loss", direction="minimize")
    assert all(book.apply(e) for e in run_events())
    ch = book.take_changes()
    assert ch.new == (0, 1) and ch.finished == (0,) and set(ch.curves) == {0, 1}
    assert ch.columns and ch.curve_metrics and ch.study and ch.best == 0 and ch.best_changed
    assert book.param_names == ["lr", "units"] and book.metric_names == ["best_epoch"]
    assert book.curve_metrics == ["val_loss", "train_loss"]
    assert book.trials[0].curves["val_loss"] == [(1, 1.0), (2, 0.8)]
    assert book.running_number == 1 and book.budget == 5
    assert not book.take_changes().any  # nothing new since


def test_live_trials_progress_matches_the_full_computation():
    book = LiveTrials(name="s", metric="val_loss", default_epochs=20)
    for e in run_events():
        book.apply(e)
    full = progress_data(book.trials.values(), 5, study_running=True, default_epochs=20)
    assert book.progress() == full
    book.apply(StudyFinished("s", "budget", "reached the budget of 5 trials", 5, 0, 0.8))
    assert not book.progress().study_running and book.progress().message.startswith("reached")


def test_live_trials_ignore_other_studies_and_replace_a_repeated_step():
    book = LiveTrials(name="s")
    assert not book.apply(TrialStarted("other", 0, {}, 1))
    book.apply(TrialStarted("s", 0, {}, 1))
    book.apply(StepReported("s", 0, 1, {"val_loss": 1.0}))
    book.apply(StepReported("s", 0, 1, {"val_loss": 0.7}))
    assert book.trials[0].curves["val_loss"] == [(1, 0.7)]


def test_a_better_finished_trial_becomes_best_and_changes_are_row_updates():
    book = LiveTrials(name="s", direction="maximize")
    book.load([trial(0, value=0.5), trial(1, value=0.7)])
    assert book.best == 1
    book.take_changes()
    book.apply(TrialStarted("s", 2, {"lr": 0.3}, 1))
    book.apply(TrialFinished("s", 2, S.COMPLETE, {"lr": 0.3}, 0.9, {}, 1.0))
    book.apply(TrialFinished("s", 1, S.COMPLETE, {"lr": 0.2}, 0.7, {"val_accuracy": 0.7}, 1.0))
    ch = book.take_changes()
    assert ch.new == (2,) and ch.updated == (1,) and (ch.best_before, ch.best) == (1, 2)
    assert book.n_finished == 3  # the re-finished trial is not counted twice


# -- comparing studies ---------------------------------------------------------------------


def _two_studies(tmp_path):
    """A parent (4 trials) and a child (3 trials) with a 'lr' parameter, plus an unrelated study
    optimizing another metric."""
    from hpo_desktop import Float, Study

    db = tmp_path / "c.db"
    space = {"lr": Float(0.0, 1.0)}
    values = iter([0.5, 0.3, 0.4, 0.2, 0.25, 0.1, 0.15, 7.0])
    with Study.create(db, "parent", space, "random", seed=0) as s:
        s.optimize(lambda p, t: next(values), 4)
    with Study.create(db, "child", space, "random", seed=1, parent="parent") as s:
        s.optimize(lambda p, t: next(values), 3)
    with Study.create(db, "other", space, "random", metric="acc", direction="maximize") as s:
        s.optimize(lambda p, t: next(values), 1)
    return db


def test_compare_series_gives_each_study_its_history_and_best_so_far(tmp_path):
    from hpo_desktop.core.chartdata import compare_series
    from hpo_desktop.core.storage import StudyStore

    db = _two_studies(tmp_path)
    with StudyStore(db, readonly=True) as store:
        ids = {r.name: r.study_id for r in store.list_studies()}
        parent, child = compare_series(store, [ids["parent"], ids["child"]])
    assert (parent.name, child.name) == ("parent", "child")
    assert child.parent_id == parent.study_id
    assert list(parent.numbers) == [0, 1, 2, 3] and list(parent.values) == [0.5, 0.3, 0.4, 0.2]
    assert list(child.numbers) == [0, 1, 2]  # numbered within the child
    assert child.best_number == 1 and child.best_value == 0.1 and child.n_finished == 3
    # best-so-far in steps: 0.5, 0.3, 0.3, 0.2
    assert list(parent.best_y) == [0.5, 0.5, 0.3, 0.3, 0.3, 0.3, 0.2, 0.2]
    assert set(child.best_params) == {"lr"}


def test_only_studies_with_the_first_ones_metric_are_compared(tmp_path):
    from hpo_desktop.core.chartdata import compare_series, same_metric
    from hpo_desktop.core.storage import StudyStore

    db = _two_studies(tmp_path)
    with StudyStore(db, readonly=True) as store:
        series = compare_series(store, [r.study_id for r in store.list_studies()])
    kept, left = same_metric(series)
    assert [s.name for s in kept] == ["parent", "child"]
    assert [s.name for s in left] == ["other"]
    kept, left = same_metric(series[::-1])
    assert [s.name for s in kept] == ["other"] and len(left) == 2
    assert same_metric([]) == ([], [])


def test_the_best_table_puts_the_best_trials_side_by_side(tmp_path):
    from hpo_desktop.core.chartdata import best_rows, compare_series, series_for
    from hpo_desktop.core.storage import StudyRecord, StudyStore

    db = _two_studies(tmp_path)
    with StudyStore(db, readonly=True) as store:
        ids = {r.name: r.study_id for r in store.list_studies()}
        series = compare_series(store, [ids["parent"], ids["child"]])
    table = best_rows(series)
    assert table.columns == ["study", "best trial", "value", "trials", "lr"]
    assert [r[:4] for r in table.rows] == [["parent", 3, 0.2, 4], ["child", 1, 0.1, 3]]
    assert table.rows[1][4] == series[1].best_params["lr"]
    # a study without a complete trial, with other params: empty cells, the union of params
    rec = StudyRecord(9, "empty", "value", "minimize", {}, {}, None, None, "2026-01-01T00:00:00")
    failed = FrozenTrial(9, 1, 0, S.FAILED, {"wd": 0.1}, None)
    table = best_rows([*series, series_for(rec, [failed])])
    assert table.rows[2] == ["empty", None, None, 1, None]


def test_lineage_ids_are_the_study_its_parent_and_its_children():
    from types import SimpleNamespace as R

    from hpo_desktop.core.chartdata import lineage_ids

    records = [
        R(study_id=1, parent_id=None),
        R(study_id=2, parent_id=1),
        R(study_id=3, parent_id=2),
        R(study_id=4, parent_id=None),
        R(study_id=5, parent_id=2),
    ]
    assert lineage_ids(records, 2) == [1, 2, 3, 5]
    assert lineage_ids(records, 4) == [4]
    assert lineage_ids(records, 1) == [1, 2]
    assert lineage_ids(records, 99) == []
