"""Refine… a finished study into a child study, see the lineage in the navigator, compare studies."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpo_desktop.core.storage import StudyStore
from hpo_desktop.core.study import Study
from hpo_desktop.gui.navigator import NEW_ROW

RUN_TIMEOUT = 90_000  # ms: generous, for a loaded two-core machine

SPACE = {
    "learning_rate": {"type": "float", "low": 1e-3, "high": 1e-1, "log": True},
    "hidden_units": {"type": "int", "low": 4, "high": 64},
    "optimizer": {"type": "categorical", "choices": ["adam", "sgd"]},
}


def objective(params, trial):
    """Cheap and shaped: best near lr 0.01, 30 hidden units, adam."""
    import math

    score = (
        0.9 - 0.05 * abs(math.log10(params["learning_rate"]) + 2) - 0.002 * abs(params["hidden_units"] - 30)
    )
    score -= 0.0 if params["optimizer"] == "adam" else 0.1
    trial.report(1, val_accuracy=score - 0.05, val_loss=1.0 - score)
    return {"val_accuracy": score, "val_loss": 1.0 - score}


def make_file(
    path: Path, name: str = "quick", n: int = 15, *, spec: bool = True, parent=None, metric="val_accuracy"
):
    """A study written through the core API (no training); with ``spec`` it has [data]/[model]
    so the window can run a child of it."""
    extra = {
        "data": {"dataset": "moons", "n_samples": 200},
        "model": {"kind": "mlp", "epochs": 2, "batch_size": 32},
        "base_dir": str(path.parent),
    }
    direction = "maximize" if metric == "val_accuracy" else "minimize"
    with Study.create(
        path,
        name,
        SPACE,
        "random",
        metric=metric,
        direction=direction,
        n_trials=n,
        seed=3,
        spec=extra if spec else None,
        parent=parent,
    ) as study:
        study.optimize(objective, n)
    return path


def refine(main_window):
    assert main_window.act_refine in main_window.study_menu.actions()
    assert main_window.act_refine.shortcut().toString() == "Ctrl+R"
    assert main_window.act_refine.isEnabled()
    main_window.act_refine.trigger()
    dialog = main_window._refine
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_refine_shows_the_proposal_and_follows_top_and_pins(main_window, tmp_path):
    db = make_file(tmp_path / "s.db")
    assert main_window.open_path(db)
    dialog = refine(main_window)
    assert dialog.top_spin.value() == 20 and dialog.margin_spin.value() == 10
    current, proposed, why = dialog.row_texts("learning_rate")
    assert current == "0.001..0.1 log"
    assert proposed != current and dialog.is_highlighted("learning_rate")
    assert "top 20 %" in why
    _c, opt_new, opt_why = dialog.row_texts("optimizer")
    assert opt_new == "{'adam'}" and "dropped 'sgd'" in opt_why

    before = dialog.row_texts("hidden_units")
    dialog.set_top(100)  # every trial: the ranges cover (nearly) everything again
    after = dialog.row_texts("hidden_units")
    assert after != before and "top 100 %" in after[2]
    dialog.set_top(20)

    # Pinning: prefilled with the best trial's value, the row says so.
    pin = dialog.pins["optimizer"]
    assert pin.value() == dialog.best_params["optimizer"] == "adam"
    pin.set_pinned(True)
    _c, new, why = dialog.row_texts("optimizer")
    assert new == "= 'adam'" and why == "pinned to 'adam'"
    assert dialog.refinement().space["optimizer"].to_dict() == {"type": "fixed", "value": "adam"}

    # A bad pin value is refused until fixed, in plain words.
    lr_pin = dialog.pins["learning_rate"]
    lr_pin.set_pinned(True)
    lr_pin.editor.setText("5")
    assert dialog.refinement() is None and not dialog.accept_button.isEnabled()
    assert "cannot pin 'learning_rate'" in dialog.summary.text() and "outside" in dialog.summary.text()
    lr_pin.set_pinned(False)
    assert dialog.accept_button.isEnabled()
    dialog.reject()
    assert main_window.doc.study_name == "quick"  # cancel changes nothing


def test_accepting_puts_the_child_on_the_setup_page_with_its_parent(main_window, tmp_path):
    db = make_file(tmp_path / "s.db")
    main_window.open_path(db)
    dialog = refine(main_window)
    refinement = dialog.refinement()
    dialog.accept_button.click()
    setup = main_window.setup
    spec = setup.spec()
    assert spec.name == "quick-refined"
    assert spec.space.to_dict() == refinement.space.to_dict()
    assert spec.metric == "val_accuracy" and spec.strategy == {"kind": "random"}
    assert setup.parent_study() == "quick"
    assert setup.parent_label.isVisible()
    text = setup.parent_text()
    assert text.startswith("↳  Refines study 'quick' — warm start from its ") and "in-space trials" in text
    assert main_window.doc.is_new and main_window.doc.db_path == db.resolve()
    assert main_window.navigator.new_study_name() == "quick-refined"
    assert main_window.navigator.selected() == NEW_ROW
    assert main_window.navigator.shown_tree() == [("quick", 0), ("quick-refined", 1)]  # under its parent
    assert main_window.tabs.currentWidget() is setup
    assert not setup.is_locked()
    # Opening another study forgets the parent.
    main_window.show_study(main_window.navigator.summary_by_name("quick").record.study_id)
    assert setup.parent_study() is None and not setup.parent_label.isVisible()


def test_starting_the_child_records_its_parent_and_nests_it_in_the_navigator(qtbot, main_window, tmp_path):
    db = make_file(tmp_path / "s.db", n=8)
    main_window.open_path(db)
    refine(main_window).accept_button.click()
    main_window.setup.strategy_panel.set_strategy({"kind": "bayesian", "initial_points": 2})
    main_window.setup.set_trials(2)
    assert main_window.setup.parent_study() == "quick"
    with qtbot.waitSignal(
        main_window.runner.running_changed, timeout=RUN_TIMEOUT, check_params_cb=lambda r: not r
    ):
        assert main_window.start_study()
    with StudyStore(db, readonly=True) as store:
        parent, child = store.get_study("quick"), store.get_study("quick-refined")
        assert child.parent_id == parent.study_id
        assert child.strategy["kind"] == "bayesian"
        assert len(store.get_trials(child.study_id)) == 2
    nav = main_window.navigator
    assert nav.shown_tree() == [("quick", 0), ("quick-refined", 1)]
    assert nav.view.isExpanded(nav.index_of(parent.study_id))
    assert "refines study 'quick'" in nav._items[child.study_id][0].toolTip()

    # Reopened, the lineage is still a tree; selecting the child shows its parent on Setup.
    other = make_file(tmp_path / "other.db", "solo", 1)
    main_window.open_path(other)
    assert main_window.navigator.shown_tree() == [("solo", 0)]
    main_window.open_path(db)
    assert main_window.navigator.shown_tree() == [("quick", 0), ("quick-refined", 1)]
    assert main_window.doc.study_name == "quick-refined"
    assert main_window.setup.parent_study() == "quick"
    nav = main_window.navigator
    nav.view.setCurrentIndex(nav.index_of(parent.study_id))  # a click on the parent row
    assert main_window.doc.study_name == "quick"


def test_refine_explains_why_for_a_study_made_in_python(main_window, dialogs, tmp_path):
    db = make_file(tmp_path / "api.db", "api", spec=False)
    main_window.open_path(db)
    assert main_window.act_refine.isEnabled()
    assert main_window.refine_dialog() is None
    assert dialogs.kinds() == ["warning"]
    assert "created from Python" in dialogs.texts()


def test_compare_overlays_a_parent_and_its_child(qtbot, main_window, tmp_path, monkeypatch):
    db = make_file(tmp_path / "s.db", "parent", 10)
    make_file(db, "child", 6, parent="parent")
    make_file(db, "loss", 5, metric="val_loss")
    main_window.open_path(db)
    main_window.show_study(main_window.navigator.summary_by_name("child").record.study_id)
    assert main_window.act_compare.isEnabled()
    assert main_window.act_compare.shortcut().toString() == "Ctrl+Shift+C"
    main_window.act_compare.trigger()
    window = main_window.compare_window
    assert window.isVisible() and window.windowTitle() == "Compare Studies"
    assert [s.name for s in window.shown] == ["parent", "child"]  # the lineage, by default
    items = window.drawn_items()
    assert len(items) == 4  # points and a best-so-far line per study
    assert window.legend_names() == ["parent", "child"]
    assert sorted(len(i.getData()[0]) for i in items if i.opts["symbol"] == "o") == [6, 10]
    assert window.table.rowCount() == 2
    assert [window.table.item(r, 0).text() for r in range(2)] == ["parent", "child"]
    assert window.table.horizontalHeaderItem(2).text() == "val_accuracy"
    assert window.best_table.columns[4:] == ["learning_rate", "hidden_units", "optimizer"]

    # A study with another metric is left out, and the window says so.
    loss = main_window.navigator.summary_by_name("loss").record.study_id
    with qtbot.waitSignal(window.redrawn):
        window.set_checked([*window.checked_ids(), loss])
    assert [s.name for s in window.shown] == ["parent", "child"]
    assert window.note.isVisible() and "left out: 'loss'" in window.note.text()

    # Export like the analysis views.
    out = tmp_path / "compare.png"
    monkeypatch.setattr("hpo_desktop.gui.analysis.base.ask_export_path", lambda *_a: str(out))
    assert window.export_dialog() == str(out) and out.stat().st_size > 0
    svg = window.export_to(str(tmp_path / "compare.svg"))
    assert Path(svg).read_text().lstrip().startswith("<?xml")


def test_compare_follows_the_file_the_window_shows(qtbot, main_window, tmp_path):
    first = make_file(tmp_path / "a.db", "alpha", 5)
    second = make_file(tmp_path / "b.db", "beta", 5)
    main_window.open_path(first)
    window = main_window.compare_dialog()
    assert [s.name for s in window.shown] == ["alpha"]
    main_window.open_path(second)  # another file: the open window lists its studies instead
    assert [window.list.item(i).text() for i in range(window.list.count())] == ["● beta"]
    assert window.shown == [] and window.note.isVisible() and "Check one or more" in window.note.text()
    # A study written by another process shows up (unchecked) at the next poll.
    make_file(second, "gamma", 3)
    with qtbot.waitSignal(window.redrawn, timeout=5000):
        main_window.navigator.poll()
    assert window.list.count() == 2 and window.checked_ids() == []


def test_a_child_of_a_study_missing_from_the_file_is_refused_by_name(tmp_path, write_tiny_spec):
    from hpo_desktop.core.spec import load_spec
    from hpo_desktop.core.storage import StorageError
    from hpo_desktop.gui.worker import RunRequest, open_study_for_run, user_error_types

    spec = load_spec(write_tiny_spec())
    db = make_file(tmp_path / "s.db", "quick", 1)
    request = RunRequest(db_path=db, spec=spec, n_trials=1, base_dir=tmp_path, parent="nope")
    with pytest.raises(StorageError, match="nope") as caught:
        open_study_for_run(request)
    assert isinstance(caught.value, user_error_types())  # a message box, not a traceback
    with StudyStore(db, readonly=True) as store:
        assert [r.name for r in store.list_studies()] == ["quick"]  # nothing half-made
