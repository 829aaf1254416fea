"""The window's Analysis tab: Ctrl+3 shows it, and a trial picked on the Run page or on the
Analysis page is highlighted on both."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from .shot_analysis import make_analysis_study

pytest.importorskip("pyqtgraph")
pytest.importorskip("skopt")


@pytest.fixture
def study_db(tmp_path):
    path = tmp_path / "mixed.hpo.db"
    store, _sid = make_analysis_study(path, n_trials=16, epochs=4)
    store.close()
    return path


def test_analysis_tab_opens_with_ctrl_3_and_links_selection(main_window, study_db, qtbot):
    w = main_window
    assert w.open_path(study_db)
    assert w.tabs.tabText(w.tabs.indexOf(w.analysis)) == "Analysis"
    assert "contour" not in w.analysis.compute_counts  # hidden pages compute nothing
    qtbot.keyClick(w, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert w.tabs.currentWidget() is w.analysis
    page = w.analysis
    qtbot.waitUntil(lambda: page.slice.draw_count >= 1 and not page.busy(), timeout=30_000)
    number = int(page.slice._scatters[0].data["data"][0])

    page.slice.trial_clicked.emit(number)  # a click in a chart
    assert w.live.selected_trial() == number and page.selected_trial() == number

    other = next(t.number for t in w.live.trials.ordered() if t.number != number)
    w.live.trial_selected.emit(other)  # picked in the trials table
    assert page.selected_trial() == other
    page.wait_idle()


def test_copy_best_configuration_and_write_a_report(main_window, study_db, tmp_path):
    import json

    from PySide6.QtWidgets import QApplication

    from hpo_desktop.core.storage import StudyStore
    from hpo_desktop.core.study import best_of

    w = main_window
    assert w.open_path(study_db)
    with StudyStore(study_db, readonly=True) as store:
        rec = store.list_studies()[0]
        best = best_of(store.get_trials(rec.study_id), rec.direction)
    text = w.copy_best_config("json")
    assert json.loads(text) == best.params
    assert QApplication.clipboard().text() == text
    assert "{" in w.copy_best_config("python") and "[params]" in w.copy_best_config("toml")

    index = w.write_report_to(tmp_path / "report")
    assert index is not None and index.exists()
    page = index.read_text()
    assert rec.name in page and "Insights" in page
    assert len(list((tmp_path / "report").glob("*.png"))) >= 5


def test_brushing_parallel_coordinates_filters_the_trials_table(main_window, study_db, qtbot):
    w = main_window
    assert w.open_path(study_db)
    w._show_tab(w.analysis)
    page = w.analysis
    page.show_view(page.parallel)
    qtbot.waitUntil(lambda: page.parallel.draw_count >= 1 and not page.busy(), timeout=30_000)
    table = w.live.table
    total = table.proxy.rowCount()
    metric_axis = len(page.parallel._data.axes) - 1
    page.parallel.set_brush(metric_axis, 0.5, 1.0)  # the better half of the metric's range
    kept = page.parallel.filtered_numbers()
    assert 0 < len(kept) < total
    assert table.proxy.rowCount() == len(kept)
    assert table.brush_button.isVisibleTo(table)
    # the Run page's history fades the trials outside the brush; every other view follows it
    history = w.live.history

    def numbers(item):  # the history's x is the trial number
        x, _y = item.getData()
        return set() if x is None else {int(n) for n in x}

    shown, faded = numbers(history.complete), numbers(history.faded)
    assert shown and shown <= set(kept) and faded and not faded & set(kept)
    assert page.brush_filter == frozenset(kept)
    assert all(v.brush_filter == page.brush_filter for v in page.views if v is not page.parallel)
    page.parallel.clear_brushes()
    assert table.proxy.rowCount() == total
    assert not table.brush_button.isVisibleTo(table)
    assert not numbers(history.faded) and page.brush_filter is None
    assert len(numbers(history.complete)) == len(history.history().numbers)
