"""The analysis page on a finished study: every view opens and draws, clicks select trials,
charts export to PNG and SVG, and heavy views are computed only when shown."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from hpo_desktop.core.events import TrialFinished
from hpo_desktop.core.trial import TrialState

from .shot_analysis import make_analysis_study

pytest.importorskip("pyqtgraph")
pytest.importorskip("skopt")


@pytest.fixture(scope="module")
def study_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("analysis") / "study.db"
    store, sid = make_analysis_study(path, n_trials=30)
    store.close()
    return path, sid


@pytest.fixture
def study(study_file):
    from hpo_desktop.core.storage import StudyStore

    path, sid = study_file
    store = StudyStore(path)
    yield store, sid
    store.close()


@pytest.fixture
def page(qtbot):
    from hpo_desktop.gui.analysis.analysis_page import AnalysisPage

    p = AnalysisPage()
    qtbot.addWidget(p)
    p.resize(1280, 800)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.wait_idle(prefetch=True)


def settle(qtbot, page, view=None):
    """Show ``view`` (default: the current one) and wait until it and the insights are drawn."""
    view = view or page.current_view()
    page.show_view(view)
    qtbot.waitUntil(lambda: view not in page._stale and not page.busy(), timeout=30_000)
    return view


def shown_numbers(scatter):
    """The trial numbers a scatter item shows (a brush hides points instead of removing them)."""
    from hpo_desktop.gui.analysis.base import shown_numbers as shown

    return shown(scatter)


def complete_numbers(store, sid):
    return sorted(t.number for t in store.get_trials(sid) if t.state == TrialState.COMPLETE)


def test_every_view_opens_on_a_finished_study(page, study, qtbot):
    store, sid = study
    page.set_study(store, sid)
    done = complete_numbers(store, sid)
    assert len(done) >= 15

    settle(qtbot, page, page.slice)
    assert [p.titleLabel.text for p in page.slice.plots()] == [
        "learning_rate  (log)",
        "hidden_units",
        "dropout",
        "optimizer",
    ]
    assert page.slice.point_count() == 4 * len(done)
    optimizer_axis = page.slice.plots()[3].getAxis("bottom")
    assert [t for _x, t in optimizer_axis._tickLevels[0]] == ["adam", "sgd", "rmsprop"]
    assert page.slice.plots()[0].getAxis("bottom").logMode

    settle(qtbot, page, page.parallel)
    assert page.parallel.line_count() == len(done)
    ticks = page.parallel.plot.getPlotItem().getAxis("bottom")._tickLevels[0]
    assert [t for _x, t in ticks] == ["learning_rate", "hidden_units", "dropout", "optimizer", "val_accuracy"]

    settle(qtbot, page, page.contour)
    data = page.contour._data
    assert (data.x_param, data.y_param) == ("learning_rate", "hidden_units")
    assert data.mean.shape == (40, 40) and page.contour.image.image is not None
    assert page.contour.std_check.isEnabled()  # a GP gives an uncertainty
    page.contour.std_check.setChecked(True)
    assert "std" in page.contour.bar.axis.labelText

    settle(qtbot, page, page.importance)
    names = [n for n, _s in page.importance.ranking]
    assert sorted(names) == ["dropout", "hidden_units", "learning_rate", "optimizer"]
    assert names[0] == "learning_rate"  # the synthetic study depends on it most
    assert sum(s for _n, s in page.importance.ranking) == pytest.approx(1.0)

    settle(qtbot, page, page.tradeoffs)
    assert page.tradeoffs.y_combo.currentText() == "val_accuracy"
    assert page.tradeoffs.x_combo.currentText() == "train_seconds"
    assert 1 <= len(page.tradeoffs.front.data) < len(done)
    assert len(page.tradeoffs.others.data) + len(page.tradeoffs.front.data) == len(done)

    settle(qtbot, page, page.curves)
    assert page.curves.metric_combo.currentText() == "val_accuracy"
    finished = [t for t in store.get_trials(sid) if t.state.is_finished]
    assert page.curves.curve_count() == len(finished)

    assert page.insights.draw_count >= 1
    assert any("val_accuracy" in t for t in page.insights.texts())


def test_clicking_a_point_emits_trial_selected_and_selection_links_views(page, study, qtbot):
    page.set_study(*study)
    view = settle(qtbot, page, page.slice)
    plot = view.plots()[1]  # hidden_units: a linear axis
    scatter = view._scatters[1]
    x, y = scatter.getData()
    number = int(scatter.data["data"][0])
    qtbot.wait(50)
    scene_pos = plot.vb.mapViewToScene(QPointF(float(x[0]), float(y[0])))
    widget_pos = view.layout_widget.mapFromScene(scene_pos)
    with qtbot.waitSignal(page.trial_selected, timeout=3000) as sig:
        qtbot.mouseClick(view.layout_widget.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos)
    assert sig.args == [number]
    assert page.selected_trial() == number
    assert len(view._rings[1].data) == 1  # the ring marks the clicked trial

    tip = view._tip(float(x[0]), float(y[0]), number)
    assert tip.startswith(f"Trial {number} · complete") and "val_accuracy = " in tip and "optimizer = " in tip

    for other in (page.tradeoffs, page.parallel):
        settle(qtbot, page, other)
        scatter = other.front if other is page.tradeoffs else other.points
        point = scatter.points()[0]
        with qtbot.waitSignal(page.trial_selected, timeout=2000) as sig:
            scatter.sigClicked.emit(scatter, [point], None)
        assert sig.args == [int(point.data())]
    # a click on a line of the "All curves" view picks the curve nearest to it
    curves = settle(qtbot, page, page.curves)
    number_c, _state, steps, vals = curves._series[5]
    assert curves.nearest_curve(float(steps[1]), float(vals[1])) == number_c
    point = curves.ends.points()[0]
    with qtbot.waitSignal(page.trial_selected, timeout=2000) as sig:
        curves.ends.sigClicked.emit(curves.ends, [point], None)
    assert sig.args == [int(point.data())]
    # select_trial from outside (the live page) highlights without a signal
    with qtbot.assertNotEmitted(page.trial_selected):
        page.select_trial(number)
    assert len(page.parallel.selected_line.getData()[0]) > 0


def test_parallel_brushing_and_top_k_filter(page, study, qtbot):
    store, sid = study
    page.set_study(store, sid)
    view = settle(qtbot, page, page.parallel)
    total = view.line_count()
    with qtbot.waitSignal(page.filtered, timeout=2000) as sig:
        view.set_brush(4, 0.5, 1.0)  # the metric's upper half
    kept = sig.args[0]
    assert 0 < len(kept) < total and view.line_count() == len(kept)
    values = {t.number: t.value for t in store.get_trials(sid)}
    lo, hi = view._data.axes[4].low, view._data.axes[4].high
    assert all(values[n] >= lo + 0.5 * (hi - lo) - 1e-9 for n in kept)

    # a drag along an axis brushes it (the view box's drag handler)
    class Drag:
        def __init__(self, a, b, start, finish):
            self.a, self.b, self.start, self.finish = a, b, start, finish

        def button(self):
            return Qt.MouseButton.LeftButton

        def accept(self):
            pass

        def ignore(self):
            pass

        def buttonDownScenePos(self):  # noqa: N802
            return self.a

        def scenePos(self):  # noqa: N802
            return self.b

        def isStart(self):  # noqa: N802
            return self.start

        def isFinish(self):  # noqa: N802
            return self.finish

    vb = view.viewbox
    a, b = vb.mapViewToScene(QPointF(3.05, 0.9)), vb.mapViewToScene(QPointF(3.05, 1.0))
    vb.mouseDragEvent(Drag(a, a, True, False))
    with qtbot.waitSignal(view.filtered, timeout=2000):
        vb.mouseDragEvent(Drag(a, b, False, True))
    assert 3 in view.brushes and view.brushes[3][1] == pytest.approx(1.0)
    view.clear_brushes()
    assert view.line_count() == total

    view.top.setValue(20)
    qtbot.waitUntil(lambda: view.line_count() == int(np.ceil(0.2 * total)), timeout=5000)


def test_brushing_the_parallel_view_fades_the_other_views_and_clearing_restores_them(page, study, qtbot):
    store, sid = study
    page.set_study(store, sid)
    for view in (page.slice, page.contour, page.tradeoffs, page.curves):
        settle(qtbot, page, view)  # computed once, before any brush
    computed = dict(page.compute_counts)
    parallel = settle(qtbot, page, page.parallel)
    axis = len(parallel._data.axes) - 1
    with qtbot.waitSignal(page.brush_changed, timeout=2000) as sig:
        parallel.set_brush(axis, 0.5, 1.0)  # the better half of the metric
    kept = sig.args[0]
    assert isinstance(kept, frozenset) and 0 < len(kept) < parallel._data.numbers.size
    assert kept == frozenset(parallel.filtered_numbers()) == page.brush_filter

    # slice: the passing trials in colour, the others faded, in every parameter's plot
    settle(qtbot, page, page.slice)
    for sc, faded in zip(page.slice._scatters, page.slice._faded, strict=True):
        shown, grey = set(shown_numbers(sc)), set(shown_numbers(faded))
        assert shown and shown <= kept and not grey & kept
    n_slice = len(page.slice._points[0][2])
    n_pass = len(shown_numbers(page.slice._scatters[0]))
    assert 0 < n_pass < n_slice
    assert page.slice.status.text() == f"{n_pass} of {n_slice} trials pass the brush"

    # contour: the same surface (not refitted), the points outside the brush faded
    settle(qtbot, page, page.contour)
    assert set(shown_numbers(page.contour.points)) <= kept
    assert shown_numbers(page.contour.faded)
    assert "pass the brush" in page.contour.status.text()

    # trade-offs: the front of all trials stays; points outside the brush are faded
    settle(qtbot, page, page.tradeoffs)
    t = page.tradeoffs
    passing = set(shown_numbers(t.others)) | set(shown_numbers(t.front))
    assert passing and passing <= kept and not set(shown_numbers(t.faded)) & kept
    assert len(passing) + len(shown_numbers(t.faded)) == len(t._data.numbers)
    assert t.status.text().endswith(f"{len(passing)} of {len(t._data.numbers)} trials pass the brush")

    # all curves: only the passing trials' curves in colour
    settle(qtbot, page, page.curves)
    c = page.curves
    assert c.passing_curve_count() == len(kept & set(c.shown_numbers())) > 0
    assert c.passing_curve_count() < c.curve_count()
    assert f"{c.passing_curve_count()} of {c.curve_count()} trials pass the brush" in c.status.text()

    assert "brush does not apply" in settle(qtbot, page, page.importance).status.text()
    for slug in ("slice", "contour", "tradeoffs", "curves"):
        assert page.compute_counts[slug] == computed[slug], slug  # a redraw, nothing recomputed

    # clearing the brushes restores every view
    settle(qtbot, page, page.parallel)
    with qtbot.waitSignal(page.brush_changed, timeout=2000) as sig:
        parallel.clear_brushes()
    assert sig.args == [None] and page.brush_filter is None
    settle(qtbot, page, page.slice)
    assert page.slice.faded_count() == 0 and page.slice.point_count() == 4 * n_slice
    assert "brush" not in page.slice.status.text()
    settle(qtbot, page, page.tradeoffs)
    assert not shown_numbers(t.faded)
    assert len(shown_numbers(t.others)) + len(shown_numbers(t.front)) == len(t._data.numbers)
    settle(qtbot, page, page.curves)
    assert c.passing_curve_count() == c.curve_count() and "brush" not in c.status.text()
    assert page.compute_counts["slice"] == computed["slice"]


def spy_curve_reads(store, monkeypatch) -> list[tuple[list[int], str | None]]:
    """Record every ``get_curves_many`` call on ``store`` (ids, metric)."""
    reads: list[tuple[list[int], str | None]] = []
    real = store.get_curves_many

    def spy(trial_ids, metric=None):
        reads.append((list(trial_ids), metric))
        return real(trial_ids, metric)

    monkeypatch.setattr(store, "get_curves_many", spy)
    return reads


def test_all_curves_reads_only_the_curves_it_shows_then_the_rest_in_the_background(
    page, study, qtbot, monkeypatch
):
    from hpo_desktop.gui.analysis import simple_views

    store, sid = study
    monkeypatch.setattr(simple_views, "MAX_CURVES", 10)
    monkeypatch.setattr(simple_views, "PREFETCH_CHUNK", 7)
    reads = spy_curve_reads(store, monkeypatch)
    at_first_draw: list[list] = []
    real_draw = page.curves.draw
    monkeypatch.setattr(
        page.curves, "draw", lambda result: (at_first_draw.append(list(reads)), real_draw(result))
    )
    page.set_study(store, sid)
    view = settle(qtbot, page, page.curves)
    trials = store.get_trials(sid)
    finished = [t for t in trials if t.state.is_finished]
    assert len(finished) > 10
    # the best two (a fifth of 10) and the latest eight, in number order
    best = sorted((t for t in finished if t.state == TrialState.COMPLETE), key=lambda t: -t.value)[:2]
    latest = [t.number for t in finished if t.number not in {b.number for b in best}][-8:]
    assert view.shown_numbers() == sorted({b.number for b in best} | set(latest))
    assert "10 of" in view.status.text() and "the best and the latest" in view.status.text()
    # the first draw waited only for the shown trials' curves
    shown_ids = {t.trial_id for t in finished if t.number in set(view.shown_numbers())}
    assert {i for ids, _m in at_first_draw[0] for i in ids} <= shown_ids
    assert {m for _ids, m in at_first_draw[0]} <= {None, "val_accuracy"}
    assert view.metric_combo.currentText() == "val_accuracy"
    items = {view.metric_combo.itemText(i) for i in range(view.metric_combo.count())}
    assert items == {"val_accuracy", "val_loss", "train_loss"}

    # then the other finished trials' curves of that metric, in the background, in chunks
    page.wait_idle(prefetch=True)
    later = reads[len(at_first_draw[0]) :]
    assert later and all(m == "val_accuracy" and len(ids) <= 7 for ids, m in later)
    assert {i for ids, _m in reads for i in ids} == {t.trial_id for t in finished}
    assert view.curves_in_memory()
    assert view.shown_numbers() == sorted({b.number for b in best} | set(latest))  # unchanged

    # a brush: the passing trials' curves come first, chosen and drawn without a read or a
    # computation on the pool
    reads.clear()
    computed = page.compute_counts["curves"]
    parallel = settle(qtbot, page, page.parallel)
    parallel.set_brush(len(parallel._data.axes) - 1, 0.5, 1.0)
    kept = page.brush_filter
    view = settle(qtbot, page, page.curves)
    shown = set(view.shown_numbers())
    assert shown <= kept if len(kept) >= 10 else kept <= shown
    expected = simple_views._curves_to_show(finished, "maximize", 10, kept)
    assert view.shown_numbers() == [t.number for t in expected]
    assert "curves, passing first · " in view.status.text()
    assert f"{view.passing_curve_count()} of {view.curve_count()} trials pass the brush" in view.status.text()
    assert page.compute_counts["curves"] == computed and not reads
    # a second brush and clearing it: still no read
    parallel.set_brush(len(parallel._data.axes) - 1, 0.7, 1.0)
    assert page.brush_filter != kept
    settle(qtbot, page, page.curves)
    assert set(view.shown_numbers()) <= page.brush_filter or page.brush_filter <= set(view.shown_numbers())
    parallel.clear_brushes()
    settle(qtbot, page, page.curves)
    assert view.shown_numbers() == sorted({b.number for b in best} | set(latest))
    assert "brush" not in view.status.text() and not reads
    assert page.compute_counts["curves"] == computed

    # another metric: read for the shown trials first, then the rest of that metric
    drawn = view.draw_count
    view.metric_combo.setCurrentText("val_loss")
    qtbot.waitUntil(lambda: view.draw_count > drawn, timeout=10_000)
    page.wait_idle(prefetch=True)
    assert reads and all(m == "val_loss" for _ids, m in reads)
    assert view.curves_in_memory()
    number, _state, steps, vals = view._series[-1]
    tid = next(t.trial_id for t in finished if t.number == number)
    assert list(zip(steps.tolist(), vals.tolist(), strict=True))[:2] == store.get_curves(tid)["val_loss"][:2]


def test_all_curves_brushed_before_its_curves_are_in_memory_reads_the_passing_ones(
    page, study, qtbot, monkeypatch
):
    from hpo_desktop.gui.analysis import simple_views

    store, sid = study
    monkeypatch.setattr(simple_views, "MAX_CURVES", 10)
    monkeypatch.setattr(simple_views, "PREFETCH_MAX", 5)  # a study too big to keep in memory
    reads = spy_curve_reads(store, monkeypatch)
    page.set_study(store, sid)
    view = settle(qtbot, page, page.curves)
    page.wait_idle()
    shown_first = set(view.shown_numbers())
    assert not view.curves_in_memory()
    finished = [t for t in store.get_trials(sid) if t.state.is_finished]
    assert {i for ids, _m in reads for i in ids} <= {t.trial_id for t in finished if t.number in shown_first}
    computed = page.compute_counts["curves"]
    parallel = settle(qtbot, page, page.parallel)
    parallel.set_brush(len(parallel._data.axes) - 1, 0.5, 1.0)
    kept = page.brush_filter
    view = settle(qtbot, page, page.curves)
    assert page.compute_counts["curves"] == computed + 1  # chosen again on the pool
    expected = [t.number for t in simple_views._curves_to_show(finished, "maximize", 10, kept)]
    assert view.shown_numbers() == expected != sorted(shown_first)
    assert "curves, passing first · " in view.status.text()


def test_flipping_back_to_a_drawn_view_paints_it_from_a_pixmap_until_it_changes(page, study, qtbot):
    from PySide6.QtCore import QCoreApplication

    page.set_study(*study)
    view = settle(qtbot, page, page.tradeoffs)
    cache = view.paint_caches[0]
    before = view.plot.grab().toImage()
    settle(qtbot, page, page.slice)
    hits = cache.hits
    page.show_view(view)
    qtbot.waitUntil(lambda: cache.hits > hits, timeout=5000)  # a blit, not 10,000 points again
    assert view.plot.grab().toImage() == before

    # a brush applied while the view was hidden is drawn when it is shown again
    settle(qtbot, page, page.slice)
    parallel = page.parallel
    settle(qtbot, page, parallel)
    parallel.set_brush(len(parallel._data.axes) - 1, 0.5, 1.0)
    page.show_view(view)
    QCoreApplication.processEvents()
    assert shown_numbers(view.faded)
    assert view.plot.grab().toImage() != before


def test_a_chart_changed_by_a_brush_is_drawn_once(page, study, qtbot):
    """A brush changes the chart's items, and the scene reports those updates later (a queued
    call): the paint that follows draws the chart once, not a second time when the report
    arrives (at 10,000 trials each full paint of the slice view is ~25-50 ms)."""
    page.set_study(*study)
    view = settle(qtbot, page, page.slice)
    cache = view.paint_caches[0]
    qtbot.waitUntil(lambda: cache.pixmap is not None and not cache._refill.isActive(), timeout=5000)
    renders = cache.renders
    view.brush_filter = frozenset(view._points[0][2][::2].tolist())
    view._apply_brush()  # as on show: the items change, the pixmap is dropped
    view.layout_widget.viewport().repaint()  # a full paint before the scene reports the updates
    assert cache.renders == renders + 1
    qtbot.waitUntil(lambda: not cache._refill.isActive(), timeout=5000)
    process_events()
    assert cache.renders == renders + 1 and cache.pixmap is not None


def test_a_long_status_is_elided_and_never_widens_the_page(page, study, qtbot):
    page.set_study(*study)
    view = settle(qtbot, page, page.tradeoffs)
    hints = view.minimumSizeHint(), page.minimumSizeHint()
    note = "13 of 31 trials pass the brush"
    view.set_status("a very long explanation " * 12, note)
    process_events()
    assert (view.minimumSizeHint(), page.minimumSizeHint()) == hints
    shown = view.status.shown_text()
    assert shown.startswith("…") and shown.endswith(note) and len(shown) < len(view.status.text())
    assert view.status.toolTip() == view.status.text()  # the whole text on hover
    view.set_status("short")
    assert view.status.shown_text() == "short"


def process_events() -> None:
    from PySide6.QtCore import QCoreApplication

    for _ in range(5):
        QCoreApplication.processEvents()


def test_every_chart_exports_png_and_svg(page, study, qtbot, tmp_path, monkeypatch):
    from hpo_desktop.gui.analysis import base

    page.set_study(*study)
    for view in page.views:
        settle(qtbot, page, view)
        for suffix in ("png", "svg"):
            target = tmp_path / f"{view.slug}.{suffix}"
            monkeypatch.setattr(base, "ask_export_path", lambda _parent, _name, t=target: str(t))
            view.export_button.click()
            assert target.exists() and target.stat().st_size > 500, target
        assert target.read_text().lstrip().startswith(("<?xml", "<svg"))
    monkeypatch.setattr(base, "ask_export_path", lambda _parent, _name: "")  # cancelled
    assert page.slice.export_dialog() == ""


def test_heavy_views_are_not_computed_while_hidden(qtbot, study):
    from hpo_desktop.gui.analysis.analysis_page import AnalysisPage

    page = AnalysisPage()
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.set_study(*study)  # not shown yet: nothing is computed
    qtbot.wait(50)
    assert page.compute_counts == {}
    page.show()
    qtbot.waitUntil(lambda: "slice" in page.compute_counts and not page.busy(), timeout=30_000)
    assert "contour" not in page.compute_counts and "importance" not in page.compute_counts
    page.show_view(page.importance)
    qtbot.waitUntil(lambda: page.importance.draw_count == 1, timeout=30_000)
    assert "contour" not in page.compute_counts
    page.wait_idle()


def test_finished_trials_recompute_at_most_once_a_second(page, study, qtbot):
    store, sid = study
    page.REFRESH_MS = 1000
    page._timer.setInterval(200)  # keep the test short; the coalescing is the same
    page.set_study(store, sid)
    settle(qtbot, page, page.slice)
    before = page.reload_count
    slices = page.compute_counts["slice"]
    for n in range(20):
        page.on_event(TrialFinished("mixed", 100 + n, TrialState.COMPLETE, {}, 0.5))
    qtbot.waitUntil(lambda: page.reload_count == before + 1, timeout=3000)
    qtbot.wait(300)
    assert page.reload_count == before + 1  # twenty events, one reload
    assert page.compute_counts["slice"] == slices + 1  # only the visible view recomputed
    assert page.compute_counts.get("contour", 0) == 0


@pytest.mark.parametrize("space", [{}, None])
def test_views_open_on_a_study_without_finished_trials(page, tmp_path, qtbot, space):
    from hpo_desktop.core.storage import StudyStore

    from .shot_analysis import SPACE

    store = StudyStore(tmp_path / "empty.db")
    sid = store.create_study(
        "empty", metric="val_loss", direction="minimize", space=SPACE if space is None else space, strategy={}
    ).study_id
    store.create_trial(sid, {"learning_rate": 0.01, "hidden_units": 32, "dropout": 0.1, "optimizer": "adam"})
    page.set_study(store, sid)
    for view in page.views:
        settle(qtbot, page, view)
        assert not view.status.text().startswith("cannot draw"), (view.slug, view.status.text())
    assert page.insights.labels  # a note that insights come with finished trials
    page.wait_idle()
    store.close()


def test_the_pareto_front_is_drawn_as_a_staircase():
    from hpo_desktop.gui.analysis.simple_views import front_steps

    x, y = front_steps(np.array([3.0, 1.0, 2.0]), np.array([0.9, 0.5, 0.7]), "minimize")
    assert x.tolist() == [1.0, 2.0, 2.0, 3.0, 3.0] and y.tolist() == [0.5, 0.5, 0.7, 0.7, 0.9]
    x, _y = front_steps(np.array([1.0, 2.0]), np.array([0.5, 0.7]), "maximize")
    assert x.tolist() == [2.0, 1.0, 1.0]


def test_a_result_computed_for_a_study_no_longer_shown_is_dropped(page, study, qtbot):
    page.set_study(*study)
    page.show_view(page.contour)
    qtbot.waitUntil(lambda: page.busy(), timeout=5000)  # the contour job is on the pool
    page.set_study(None, None)
    page.wait_idle()
    qtbot.waitUntil(lambda: not page.busy(), timeout=5000)
    assert page.contour.draw_count == 0
