"""Pruning in the window: the strategy panel's pruner section round-trips into the spec, and a
pruned trial shows where and why it stopped (curve marker, table state text, history tooltip)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from hpo_desktop.core.spec import parse_spec
from hpo_desktop.core.storage import StudyStore
from hpo_desktop.core.trial import TrialState
from hpo_desktop.gui.setup.setup_page import SetupPage
from hpo_desktop.gui.setup.strategy_panel import StrategyPanel

from .shot_live import guard_singleton_refcounts
from .shot_pruning import EPOCHS, digits_like, pruned_study
from .test_setup_page import CPU_INFO, pick

pytest.importorskip("pyqtgraph")

SPEC = """\
[study]
name = "p"
metric = "val_accuracy"
direction = "maximize"
trials = 10

[strategy]
kind = "random"

[pruner]
kind = "asha"
reduction_factor = 4
max_resource = 20

[data]
dataset = "digits"

[model]
epochs = 20

[space]
learning_rate = { type = "float", low = 1e-4, high = 1e-1, log = true }
"""


@pytest.fixture(scope="module", autouse=True)
def _pyside_refcount_guard():
    guard_singleton_refcounts()  # PySide6 6.12.0 + CPython 3.11 bug, see shot_live.py


@pytest.fixture
def setup(qtbot):
    page = SetupPage()
    qtbot.addWidget(page)
    page.set_trainer_info(CPU_INFO)
    return page


def test_the_pruner_in_a_spec_is_shown_and_comes_back_unchanged(setup):
    setup.set_spec(parse_spec(SPEC))
    section = setup.strategy_panel.pruner_section
    assert section.combo.currentData() == "asha"
    assert section.option_widget("reduction_factor").value() == 4
    assert "Rungs at 1, 3, 9, 27" in section.help.text()
    assert setup.is_valid(), setup.problems()
    assert setup.spec().pruner == {"kind": "asha", "reduction_factor": 4, "max_resource": 20}
    assert "[pruner]" in setup.spec().to_toml()


def test_choosing_and_editing_a_pruner_reaches_the_spec(setup, qtbot):
    setup.set_spec(
        parse_spec(SPEC.replace('kind = "asha"\nreduction_factor = 4\nmax_resource = 20', 'kind = "none"'))
    )
    assert setup.spec().pruner == {}
    section = setup.strategy_panel.pruner_section
    with qtbot.waitSignal(setup.strategy_panel.changed):
        pick(section.combo, "median")
    assert "median of the latest trials" in section.help.text()
    section.option_widget("n_warmup_steps").setValue(4)
    assert setup.spec().pruner == {"kind": "median", "n_warmup_steps": 4}
    setup.undo_stack.undo()  # the warm-up edit
    assert setup.spec().pruner == {"kind": "median"}
    pick(section.combo, "none")
    assert setup.spec().pruner == {}
    assert "pruner" not in setup.spec().to_dict()


def test_a_bad_pruner_option_blocks_start_with_its_name(setup):
    setup.set_spec(parse_spec(SPEC))
    setup.strategy_panel.set_pruner({"kind": "patience", "patience": 0})
    setup.strategy_panel.changed.emit()
    assert not setup.is_valid()
    assert any("[pruner]" in p and "would never stop a trial" in p for p in setup.problems())
    panel = setup.strategy_panel
    assert panel.problem_label.isVisibleTo(panel) and "patience" in panel.problem_label.text()


def test_every_registered_pruner_has_a_form(qtbot):
    from hpo_desktop.core.pruners import PRUNERS

    panel = StrategyPanel()
    qtbot.addWidget(panel)
    for kind, cls in PRUNERS.items():
        pick(panel.pruner_section.combo, kind)
        assert panel.pruner_dict()["kind"] == kind
        assert panel.pruner_section.help.text() == cls.help
        assert all(panel.pruner_section.option_widget(k) is not None for k in cls.options_schema)
        assert not panel.pruner_section.problems() or kind == "patience"


@pytest.fixture
def live(qtbot):
    from hpo_desktop.gui.live.live_page import LivePage

    page = LivePage()
    qtbot.addWidget(page)
    page.resize(1280, 760)
    page.show()
    return page


def test_a_stored_pruned_trial_shows_its_marker_and_state_text(live, tmp_path):
    pruned_study(tmp_path / "s.db").close()
    store = StudyStore(tmp_path / "s.db", readonly=True)
    try:
        live.set_study(store, store.list_studies()[0].study_id)
        live.curves.set_metric("val_accuracy")
        live.flush()
        trials = {t.number: t for t in store.get_trials(1)}
        pruned = [n for n, t in trials.items() if t.state == TrialState.PRUNED]
        assert pruned
        n = pruned[-1]
        at = trials[n].attrs["pruned_at"]
        assert at < EPOCHS
        model = live.table.model
        state_col = model.column_of("state")
        cell = model.index(model.row_of(n), state_col)
        assert model.data(cell) == f"pruned at epoch {at} (asha)"
        assert "asha: below rung" in model.data(cell, Qt.ItemDataRole.ToolTipRole)  # the full reason
        marks = live.curves.pruned_marks()
        assert marks[n][0] == at
        assert marks[n][1] == pytest.approx(store.get_curves(trials[n].trial_id)["val_accuracy"][-1][1])
        xs, _ys = live.curves.stop_marks.getData()
        assert at in list(xs)
        complete = next(k for k, t in trials.items() if t.state == TrialState.COMPLETE)
        assert complete not in marks  # only pruned curves end in a marker
        assert "stopped at epoch" in live.history._tip(n, 0.5, n)
    finally:
        live.set_study(None, None)
        store.close()


def test_a_trial_pruned_while_watching_shows_the_rule(live, tmp_path):
    """Events from a running study: the page reads the pruned trial's rule from the store."""
    from hpo_desktop.core.space import Categorical, Float
    from hpo_desktop.core.study import Study

    study = Study.create(
        tmp_path / "w.db", "w",
        {"learning_rate": Float(1e-4, 1e-1, log=True), "optimizer": Categorical(["adam", "sgd"]),
         "dropout": Float(0.0, 0.5)},
        "random", metric="val_accuracy", direction="maximize", seed=2,
        pruner={"kind": "median", "n_startup_trials": 2},
    )  # fmt: skip
    store = StudyStore(tmp_path / "w.db", readonly=True)
    try:
        live.set_study(store, study.study_id)
        study.optimize(digits_like, n_trials=8, callbacks=live.on_event)
        live.flush()
        book = live.trials
        pruned = [t for t in book.ordered() if t.state == TrialState.PRUNED]
        assert pruned
        t = pruned[0]
        model = live.table.model
        text = model.data(model.index(model.row_of(t.number), model.column_of("state")))
        assert text == f"pruned at epoch {t.last_step} (median)"
        assert t.number in live.curves.pruned_marks()
    finally:
        live.set_study(None, None)
        store.close()
        study.close()
