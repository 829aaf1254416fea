"""The live page as the user sees a study run: table rows, best trial, curves, history,
selection, coalesced redraws, and a 10,000-trial table that stays incremental."""

from __future__ import annotations

import time

import pytest

from hpo_desktop.core.chartdata import LiveTrial, LiveTrials
from hpo_desktop.core.events import StepReported, StudyFinished, TrialFinished, TrialStarted
from hpo_desktop.core.storage import StudyStore
from hpo_desktop.core.trial import TrialState

from .shot_live import STUDY, fake_events, guard_singleton_refcounts, make_study

pytest.importorskip("pyqtgraph")
S = TrialState


@pytest.fixture(scope="module", autouse=True)
def _pyside_refcount_guard():
    guard_singleton_refcounts()  # PySide6 6.12.0 + CPython 3.11 bug, see shot_live.py


@pytest.fixture
def page(qtbot):
    from hpo_desktop.gui.live.live_page import LivePage

    p = LivePage()
    qtbot.addWidget(p)
    p.resize(1280, 800)
    p.show()
    return p


@pytest.fixture
def study(tmp_path):
    store, study_id = make_study(tmp_path / "study.db")
    yield store, study_id
    store.close()


def feed(page, events):
    for e in events:
        page.on_event(e)
    page.flush()


def small_study():
    """6 trials of 5 epochs; trial 5 still running at epoch 2."""
    return fake_events(6, epochs=5, running_epochs=2, budget=10)


def test_a_running_study_fills_table_curves_history_and_progress(page, study):
    page.set_study(*study)
    feed(page, small_study())
    model = page.table.model
    assert model.rowCount() == 6 and page.table.proxy.rowCount() == 6
    titles = [c.title for c in model.columns()]
    assert titles[:3] == ["#", "state", "val_accuracy"]
    assert {"learning_rate", "hidden_units", "dropout", "optimizer", "n_params", "seconds"} <= set(titles)
    assert page.curves.item_count() == 6  # one line per trial, the running one included
    assert page.history.point_count() == 5  # finished trials only
    assert page.progress.study_bar.text() == "5 / 10 trials"
    assert page.progress.epoch_bar.text() == "trial 5 · epoch 2 / 20"
    running_row = model.row_of(5)
    assert model.index(running_row, 1).data() == "running · epoch 2"


def test_the_best_trial_is_starred_bold_and_shaded(page, study):
    page.set_study(*study)
    feed(page, small_study())
    model = page.table.model
    best = page.trials.best
    finished = [t for t in page.trials.ordered() if t.state == S.COMPLETE]
    assert best == max(finished, key=lambda t: t.value).number  # val_accuracy is maximized
    index = model.index(model.row_of(best), 0)
    assert index.data() == f"★ {best}"
    assert index.data(pytest.importorskip("PySide6.QtCore").Qt.ItemDataRole.FontRole).bold()
    other = model.index(model.row_of(next(n for n in range(6) if n != best)), 0)
    assert "★" not in other.data()
    assert page.history.history().best_number == best


def test_selecting_a_table_row_emits_the_number_and_highlights_it(page, study, qtbot):
    from PySide6.QtCore import Qt

    from hpo_desktop.gui.live import chart_style as cs

    page.set_study(*study)
    feed(page, small_study())
    view = page.table.view
    proxy, number_role = page.table.proxy, page.table.model.NumberRole
    row = next(r for r in range(proxy.rowCount()) if proxy.index(r, 0).data(number_role) == 2)
    rect = view.visualRect(proxy.index(row, 2))
    with qtbot.waitSignal(page.trial_selected, timeout=2000) as sig:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert sig.args == [2]
    assert page.selected_trial() == 2 and page.table.selected_number() == 2
    assert page.curves.items_of(2)[0].opts["pen"].color().name() == cs.MAGENTA
    assert page.history.selected_ring.getData()[0].tolist() == [2]
    assert page.details.trial_number() == 2 and "Trial 2" in page.details.header.text()


def test_clicking_a_history_point_selects_that_trial(page, study, qtbot):
    page.set_study(*study)
    feed(page, small_study())
    scatter = page.history.complete.scatter
    point = next(p for p in scatter.points() if p.data() == 1)
    with qtbot.waitSignal(page.trial_selected, timeout=2000) as sig:
        scatter.sigClicked.emit(scatter, [point], None)
    assert sig.args == [1] and page.table.selected_number() == 1
    tip = page.history._tip(x=1.0, y=point.pos().y(), data=1)  # what hovering the point shows
    assert tip.startswith("Trial 1 · ") and "val_accuracy = " in tip and "learning_rate = " in tip


def test_history_log_scale_keeps_failed_markers_below_the_values(page, study):
    page.set_study(*study)
    feed(page, fake_events(14, epochs=5, running_epochs=2))
    history = page.history
    assert history.log_check.isEnabled()  # accuracies are all > 0
    history.log_check.setChecked(True)
    assert history.plot.getPlotItem().ctrl.logYCheck.isChecked()
    _x, log_y = history.failed.getData()  # in log mode the item holds log10 of the data
    lowest = min(history.history().values.min(), history.history().pruned_values.min())
    assert len(log_y) >= 1 and all(10**y < lowest for y in log_y)  # val_accuracy is maximized
    history.log_check.setChecked(False)
    assert all(y < lowest for y in history.failed.getData()[1])


def test_select_trial_from_the_window_does_not_echo_the_signal(page, study, qtbot):
    page.set_study(*study)
    feed(page, small_study())
    with qtbot.assertNotEmitted(page.trial_selected):
        page.select_trial(3)
    assert page.table.selected_number() == 3
    page.select_trial(None)
    assert page.table.selected_number() is None and page.selected_trial() is None


def test_a_burst_of_1000_epochs_is_drawn_a_handful_of_times(page, study, qtbot):
    page.set_study(*study)
    page.on_event(TrialStarted(STUDY, 0, {"lr": 0.01}, 1))
    page.flush()
    before = page.redraw_count, page.curves.redraws, page.table.model.changed_rows
    start = time.monotonic()
    for step in range(1, 1001):
        page.on_event(StepReported(STUDY, 0, step, {"val_accuracy": step / 1000, "val_loss": 1 / step}))
        if step % 100 == 0:
            qtbot.wait(5)  # the event loop runs between bursts, as it would with a real worker
    qtbot.waitUntil(lambda: not page.redraw_pending(), timeout=2000)
    elapsed_ms = (time.monotonic() - start) * 1000
    redraws = page.redraw_count - before[0]
    assert 1 <= redraws <= elapsed_ms / page.REDRAW_MS + 2  # ≤ 5 a second, however fast events come
    assert redraws <= 12
    assert page.curves.redraws - before[1] == redraws
    x, y = page.curves.items_of(0)[0].getData()
    assert len(x) == 1000 and y[-1] == 1.0  # every point arrived


def test_set_study_loads_stored_trials_and_their_curves(qtbot, tmp_path, monkeypatch):
    from hpo_desktop.gui.live.curves_chart import LearningCurvesChart
    from hpo_desktop.gui.live.live_page import LivePage

    monkeypatch.setattr(LearningCurvesChart, "MAX_CURVES", 2)  # older curves load on selection
    store = StudyStore(tmp_path / "s.db")
    record = store.create_study(
        "stored", metric="val_loss", direction="minimize", space={}, strategy={"kind": "random"}, budget=10
    )
    sid = record.study_id
    for number, final in enumerate([0.5, 0.3, None, 0.4]):
        t = store.create_trial(sid, {"lr": 0.1 * (number + 1), "units": 32})
        for epoch in (1, 2, 3):
            store.report(t.trial_id, epoch, {"val_loss": 1.0 / epoch + number, "train_loss": 0.9 / epoch})
        if final is None:
            store.finish_trial(t.trial_id, S.FAILED, error="diverged: training loss became nan at epoch 3")
        else:
            store.finish_trial(
                t.trial_id, S.COMPLETE, value=final, metrics={"val_loss": final, "best_epoch": 3}
            )
    running = store.create_trial(sid, {"lr": 0.9, "units": 64})
    store.report(running.trial_id, 1, {"val_loss": 2.0, "train_loss": 2.1})

    page = LivePage()
    qtbot.addWidget(page)
    page.set_study(store, sid)
    assert page.table.model.rowCount() == 5 and page.table.model.resets >= 1
    assert page.trials.best == 1 and page.trials.metric == "val_loss"
    assert page.history.point_count() == 4
    assert page.progress.study_bar.text() == "4 / 10 trials"
    # the two most recent trials, the best and the running one have their curves; trial 0 not yet
    assert not page.trials.trials[0].curves_loaded and page.trials.trials[1].curves_loaded
    assert page.curves.item_count() == 3  # trials 1, 3 and 4
    page.select_trial(0)
    assert page.trials.trials[0].curves_loaded
    assert [s for s, _v in page.trials.trials[0].curves["val_loss"]] == [1, 2, 3]
    assert page.curves.items_of(0) and page.details.trial_number() == 0
    page.select_trial(2)
    assert "diverged" in page.details.error.toPlainText()
    # the running trial goes on through events
    page.on_event(StepReported("stored", 4, 2, {"val_loss": 1.5, "train_loss": 1.6}))
    page.on_event(
        TrialFinished("stored", 4, S.COMPLETE, {"lr": 0.9, "units": 64}, 0.1, {"val_loss": 0.1}, 2.0)
    )
    page.flush()
    assert page.trials.best == 4 and page.table.model.index(page.table.model.row_of(4), 0).data() == "★ 4"
    store.close()


def test_events_of_another_study_are_ignored_and_clear_empties_the_page(page, study):
    page.set_study(*study)
    feed(page, [TrialStarted("someone-else", 0, {"x": 1}, 1)])
    assert page.table.model.rowCount() == 0
    feed(page, small_study())
    page.select_trial(1)
    page.clear()
    assert page.table.model.rowCount() == 0 and page.curves.item_count() == 0
    assert page.history.point_count() == 0 and page.selected_trial() is None
    assert page.progress.study_bar.text() == "no study"


def test_switching_the_curve_metric_reuses_the_lines(page, study):
    from hpo_desktop.gui.live.curves_chart import TRAIN_VAL

    page.set_study(*study)
    feed(page, small_study())
    chart = page.curves
    assert chart.current_metric() == "val_accuracy"  # the study's metric
    item = chart.items_of(0)[0]
    chart.set_metric("val_loss")
    assert chart.items_of(0)[0] is item  # same item, new data
    _x, y = item.getData()
    assert y.tolist() == [v for _s, v in page.trials.trials[0].curves["val_loss"]]
    chart.set_metric(TRAIN_VAL)
    main, train = chart.items_of(0)[:2]
    assert (
        train.isVisible()
        and train.getData()[1].tolist()[0] == page.trials.trials[0].curves["train_loss"][0][1]
    )
    assert chart.item_count() == 6


def test_pruned_and_failed_curves_are_dashed(page, study):
    from PySide6.QtCore import Qt

    page.set_study(*study)
    feed(page, fake_events(14, epochs=5, running_epochs=2))
    book = page.trials
    for n, t in book.trials.items():
        if t.state in (S.PRUNED, S.FAILED) and n != book.best:
            assert page.curves.items_of(n)[0].opts["pen"].style() == Qt.PenStyle.DashLine
    assert any(t.state == S.FAILED for t in book.trials.values())
    h = page.history.history()
    assert len(h.failed_numbers) == sum(t.state == S.FAILED for t in book.trials.values())


def test_the_study_end_message_shows_in_the_progress_row(page, study):
    page.set_study(*study)
    feed(page, small_study() + [StudyFinished(STUDY, "stopped", "stopped by the user", 5, 0, 0.9)])
    assert "stopped by the user" in page.progress.time_label.text()
    assert page.progress.epoch_bar.text() == "trial 5 · epoch 2 / 20"  # it never finished


# -- the table with 10,000 trials ----------------------------------------------------------------


def big_book(n=10_000):
    book = LiveTrials(name="big", metric="val_loss", direction="minimize")
    trials = []
    for i in range(n):
        state = S.FAILED if i % 97 == 0 else S.COMPLETE
        value = None if state == S.FAILED else ((i * 7919) % 10_007) / 1000.0
        trials.append(
            LiveTrial(
                number=i,
                state=state,
                params={"lr": 10 ** -(1 + i % 4), "units": 2 ** (4 + i % 5), "opt": ("adam", "sgd")[i % 2]},
                value=value,
                metrics={"val_loss": value, "best_epoch": float(i % 20)} if value is not None else {},
                seconds=1.0 + i % 10,
            )
        )
    book.load(trials)
    book.take_changes()
    return book


def test_ten_thousand_trials_build_once_and_grow_row_by_row(qtbot):
    from PySide6.QtCore import Qt

    from hpo_desktop.gui.live.trials_table import TrialsTable

    table = TrialsTable()
    qtbot.addWidget(table)
    table.resize(900, 400)
    table.show()
    book = big_book()
    t0 = time.perf_counter()
    table.model.set_book(book)
    build = time.perf_counter() - t0
    model = table.model
    assert model.rowCount() == table.proxy.rowCount() == 10_000 and model.resets == 1

    # a new trial with a new param: one inserted row, one inserted column, no reset
    book.apply(TrialStarted("big", 10_000, {"lr": 0.5, "units": 8, "opt": "adam", "momentum": 0.9}, 1))
    book.apply(TrialFinished("big", 10_000, S.COMPLETE, {"lr": 0.5}, -1.0, {"val_loss": -1.0}, 3.0))
    t0 = time.perf_counter()
    model.sync(book.take_changes())
    append = time.perf_counter() - t0
    assert model.resets == 1 and model.inserted_rows == 1 and model.inserted_columns == 1
    assert model.rowCount() == 10_001 and table.proxy.rowCount() == 10_001
    assert model.changed_rows == 1  # only the old best's row (the new one was inserted)
    assert book.best == 10_000

    # numeric sort on the value column: -1.0 first, failed (empty) rows last
    col = model.column_of("value")
    table.view.sortByColumn(col, Qt.SortOrder.AscendingOrder)
    firsts = [float(table.proxy.index(r, col).data()) for r in range(5)]
    assert firsts == sorted(firsts) and firsts[0] == -1.0
    assert table.proxy.index(10_000, col).data() == ""

    # filters: by state, then by text
    table.set_state_filter("failed")
    assert table.proxy.rowCount() == len(range(0, 10_000, 97))
    table.set_state_filter("")
    table.set_text_filter("sgd")
    assert table.proxy.rowCount() == 5_000
    assert table.count_label.text() == "5,000 of 10,001 trials"
    print(f"\n10,000-row table: build {build * 1000:.0f} ms, incremental append {append * 1000:.1f} ms")


def test_sorting_keeps_empty_cells_last_and_rows_in_order_as_trials_finish(qtbot):
    from PySide6.QtCore import Qt

    from hpo_desktop.gui.live.trials_table import TrialsTable

    book = LiveTrials(name="s", metric="loss", direction="minimize")
    values = [0.5, None, 0.1, 0.9, float("nan"), 0.3]
    book.load(
        [
            LiveTrial(i, S.FAILED if v is None else S.COMPLETE, {"opt": "ab"[i % 2], "lr": 10.0**-i}, v)
            for i, v in enumerate(values)
        ]
    )
    book.take_changes()
    table = TrialsTable()
    qtbot.addWidget(table)
    table.model.set_book(book)
    model, proxy = table.model, table.proxy

    def column(kind, key=""):
        c = model.column_of(kind, key)
        return [proxy.index(r, 0).data(model.NumberRole) for r in range(proxy.rowCount())], c

    table.view.sortByColumn(model.column_of("value"), Qt.SortOrder.AscendingOrder)
    assert column("value")[0] == [2, 5, 0, 3, 1, 4]  # 0.1 0.3 0.5 0.9, then empty and NaN
    table.view.sortByColumn(model.column_of("value"), Qt.SortOrder.DescendingOrder)
    assert column("value")[0] == [3, 0, 5, 2, 4, 1]  # empty cells stay at the bottom
    table.view.sortByColumn(model.column_of("param", "lr"), Qt.SortOrder.AscendingOrder)
    assert column("lr")[0] == [5, 4, 3, 2, 1, 0]  # 1e-5 < ... < 1, numerically
    table.view.sortByColumn(model.column_of("param", "opt"), Qt.SortOrder.DescendingOrder)
    assert column("opt")[0][:3] == [5, 3, 1]  # "b" rows first, newest first on a tie

    # selection follows its trial through a re-sort; a finishing trial moves to its place
    table.view.sortByColumn(model.column_of("value"), Qt.SortOrder.AscendingOrder)
    table.select_trial(3)
    book.apply(TrialStarted("s", 6, {"opt": "a", "lr": 0.5}, 1))
    model.sync(book.take_changes())
    assert column("value")[0][-1] == 6  # running: no value yet, at the bottom
    book.apply(TrialFinished("s", 6, S.COMPLETE, {"opt": "a", "lr": 0.5}, 0.2, {}, 1.0))
    model.sync(book.take_changes())
    assert column("value")[0] == [2, 6, 5, 0, 3, 1, 4] and model.moved_rows == 1
    assert table.selected_number() == 3
    table.view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    assert table.selected_number() == 3


def test_details_show_params_metrics_run_facts_and_the_error(page, study):
    from hpo_desktop.core.events import TrialFinished as Finished

    page.set_study(*study)
    feed(page, small_study())
    page.trials.trials[0].attrs["device"] = "CUDA: NVIDIA H100"
    page.select_trial(0)
    tree = page.details.tree
    rows = {
        tree.topLevelItem(i).text(0): {
            tree.topLevelItem(i).child(j).text(0): tree.topLevelItem(i).child(j).text(1)
            for j in range(tree.topLevelItem(i).childCount())
        }
        for i in range(tree.topLevelItemCount())
    }
    assert set(rows) == {"Result", "Parameters", "Final metrics", "Run"}
    assert set(rows["Parameters"]) == {"learning_rate", "hidden_units", "dropout", "optimizer"}
    assert "n_params" in rows["Final metrics"] and rows["Run"]["device"] == "CUDA: NVIDIA H100"
    assert rows["Run"]["seed"] and not page.details.error_box.isVisibleTo(page.details)
    feed(page, [Finished(STUDY, 5, S.FAILED, {}, None, {}, 1.0, "diverged: training loss became inf")])
    page.select_trial(5)
    assert page.details.error_box.isVisibleTo(page.details)
    assert "became inf" in page.details.error.toPlainText()
    assert len(page.details._curve_items) == 3  # train_loss, val_loss, val_accuracy
