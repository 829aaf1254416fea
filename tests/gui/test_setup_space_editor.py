"""The search-space editor, told as a user would use it: add, type, see the mark, fix, undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from hpo_desktop.core.space import SearchSpace
from hpo_desktop.core.spec import load_spec
from hpo_desktop.gui.setup.space_editor import SpaceEditor
from hpo_desktop.gui.setup.space_model import ERROR_TINT
from hpo_desktop.gui.setup.space_rows import (
    FIELDS,
    format_choices,
    format_condition,
    parse_choices,
    parse_condition,
)
from hpo_desktop.gui.setup.space_templates import SUGGESTED, TEMPLATES
from hpo_desktop.training.params import ALL_PARAMS, check_space

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
COL = {name: i for i, name in enumerate(FIELDS)}
ROLE = Qt.ItemDataRole


@pytest.fixture
def editor(qtbot):
    widget = SpaceEditor()
    qtbot.addWidget(widget)
    return widget


def type_into(editor: SpaceEditor, row: int, field: str, text: str) -> None:
    model = editor.model
    assert model.setData(model.index(row, COL[field]), text, ROLE.EditRole)


def is_marked(editor: SpaceEditor, row: int, field: str) -> bool:
    brush = editor.model.data(editor.model.index(row, COL[field]), ROLE.BackgroundRole)
    return brush is not None and brush.color() == ERROR_TINT


def tooltip(editor: SpaceEditor, row: int, field: str) -> str:
    return editor.model.data(editor.model.index(row, COL[field]), ROLE.ToolTipRole) or ""


def test_an_invalid_range_is_marked_in_place_and_fixing_it_clears_the_mark(editor):
    row = editor.add_parameter("learning_rate")
    assert editor.problems() == []
    type_into(editor, row, "low", "0.5")  # high is 0.1
    assert is_marked(editor, row, "low")
    assert "low (0.5) must be less than high (0.1)" in tooltip(editor, row, "low")
    assert editor.problems() == ["parameter 'learning_rate': low (0.5) must be less than high (0.1)"]
    type_into(editor, row, "low", "0.001")
    assert not is_marked(editor, row, "low")
    assert editor.problems() == []
    assert editor.space_dict()["learning_rate"] == {"type": "float", "low": 0.001, "high": 0.1, "log": True}


def test_text_that_is_not_a_number_is_marked_and_kept_as_typed(editor):
    row = editor.add_parameter("dropout")
    type_into(editor, row, "high", "half")
    assert is_marked(editor, row, "high")
    assert editor.model.data(editor.model.index(row, COL["high"]), ROLE.DisplayRole) == "half"
    assert editor.problems() == ["parameter 'dropout': high 'half' is not a number"]


def test_choices_are_read_as_numbers_text_or_booleans():
    assert parse_choices("32, 64") == ([32, 64], None)
    assert parse_choices("relu, tanh") == (["relu", "tanh"], None)
    assert parse_choices("true, False") == ([True, False], None)
    assert parse_choices('0.5, 1e-3, "32", none') == ([0.5, 0.001, "32", "none"], None)
    values, why = parse_choices("a,,b")
    assert values == ["a", "b"] and "choice 2 is empty" in why
    for choices in ([32, 64, 128], ["relu", "tanh"], [True, False], ["32", 1.0, 1, "a, b", 'say "hi"']):
        assert parse_choices(format_choices(choices)) == (choices, None)


def test_a_categorical_row_keeps_the_types_of_its_choices(editor):
    row = editor.add_parameter("batch_norm")
    type_into(editor, row, "values", "true, false")
    assert editor.space_dict()["batch_norm"]["choices"] == [True, False]
    row = editor.add_parameter("batch_size")
    type_into(editor, row, "values", "16, 32")
    assert editor.space_dict()["batch_size"]["choices"] == [16, 32]


def test_conditions_read_both_forms_and_write_back_the_same():
    assert parse_condition("optimizer = sgd") == {"optimizer": "sgd"}
    assert parse_condition("optimizer in sgd, rmsprop") == {"optimizer": ["sgd", "rmsprop"]}
    assert parse_condition("optimizer == sgd and batch_norm = true") == {
        "optimizer": "sgd",
        "batch_norm": True,
    }
    for when in ({"optimizer": "sgd"}, {"optimizer": ["sgd", "rmsprop"]}):
        assert parse_condition(format_condition(when)) == when


def test_a_condition_on_a_missing_parent_is_marked(editor):
    row = editor.add_parameter("momentum")
    type_into(editor, row, "condition", "optimizer = sgd")
    assert is_marked(editor, row, "condition")
    assert "refers to 'optimizer', which is not in the space" in tooltip(editor, row, "condition")
    type_into(editor, row, "condition", "optimizer is sgd")
    assert is_marked(editor, row, "condition")
    assert "optimizer = sgd" in tooltip(editor, row, "condition")  # says how to write it


def test_a_name_the_trainer_does_not_know_is_marked_with_the_known_names(editor):
    row = editor.add_parameter("learning_rate")
    type_into(editor, row, "name", "learning_rte")
    assert is_marked(editor, row, "name")
    tip = tooltip(editor, row, "name")
    assert "did you mean 'learning_rate'" in tip
    assert all(name in tip for name in ALL_PARAMS)
    assert editor.model.data(editor.model.index(row, 0), ROLE.DecorationRole) is not None


def test_hovering_a_name_shows_what_the_hyperparameter_does(editor):
    row = editor.add_parameter("weight_decay")
    assert ALL_PARAMS["weight_decay"].help in tooltip(editor, row, "name")


def test_values_the_trainer_refuses_are_marked_on_their_cell(editor):
    row = editor.add_parameter("dropout")
    type_into(editor, row, "high", "1.0")  # dropout must stay below 1
    assert is_marked(editor, row, "high")
    assert "built-in trainer" in tooltip(editor, row, "high")
    row = editor.add_parameter("hidden_units")
    type_into(editor, row, "kind", "float")
    assert is_marked(editor, row, "kind")
    assert "whole numbers" in tooltip(editor, row, "kind")


def test_switching_to_categorical_starts_from_the_usual_choices(editor):
    row = editor.add_parameter("activation")
    type_into(editor, row, "kind", "float")
    type_into(editor, row, "kind", "categorical")
    assert editor.space_dict()["activation"]["choices"] == ["relu", "tanh", "gelu"]
    type_into(editor, row, "kind", "fixed")
    assert editor.space_dict()["activation"] == {"type": "fixed", "value": "relu"}


def test_add_remove_edit_move_and_template_each_undo_and_redo(editor):
    stack = editor.undo_stack
    editor.add_parameter("learning_rate")
    editor.add_parameter("dropout")
    type_into(editor, 1, "high", "0.3")
    editor.model.move_row(1, -1)
    assert list(editor.space_dict()) == ["dropout", "learning_rate"]
    editor.apply_template(next(iter(TEMPLATES)))  # MLP: dropout already there, 3 rows added
    assert list(editor.space_dict()) == [
        "dropout",
        "learning_rate",
        "hidden_layers",
        "hidden_units",
        "activation",
    ]
    editor.model.remove_rows([1])
    states = []
    while stack.canUndo():
        states.append(editor.space_dict())
        stack.undo()
    assert editor.space_dict() == {}
    assert len(states) == 6  # add, add, edit, move, template, remove
    while stack.canRedo():
        stack.redo()
    assert editor.space_dict() == states[0]
    stack.undo()  # the remove
    assert "learning_rate" in editor.space_dict()
    stack.undo()  # the template, as one step
    assert list(editor.space_dict()) == ["dropout", "learning_rate"]
    stack.undo()  # the move
    assert list(editor.space_dict()) == ["learning_rate", "dropout"]
    stack.undo()  # the edit
    assert editor.space_dict()["dropout"]["high"] == 0.5


def test_duplicate_copies_the_selected_row_right_below_it(editor):
    editor.add_parameter("learning_rate")
    editor.add_parameter("dropout")
    editor.view.setCurrentIndex(editor.model.index(0, 0))
    editor.duplicate_action.trigger()
    assert list(editor.space_dict()) == ["learning_rate", "learning_rate_copy", "dropout"]
    assert editor.space_dict()["learning_rate_copy"] == editor.space_dict()["learning_rate"]
    editor.undo_stack.undo()
    assert list(editor.space_dict()) == ["learning_rate", "dropout"]


def test_the_keyboard_shortcuts_are_the_documented_ones(editor):
    assert editor.add_action.shortcut() == QKeySequence("Insert")
    assert editor.duplicate_action.shortcut() == QKeySequence("Ctrl+D")
    assert editor.remove_action.shortcut() == QKeySequence("Delete")
    assert editor.up_action.shortcut() == QKeySequence("Alt+Up")
    assert editor.down_action.shortcut() == QKeySequence("Alt+Down")


def test_alt_down_moves_the_current_row(qtbot, editor):
    editor.show()
    qtbot.waitExposed(editor)
    editor.add_parameter("learning_rate")
    editor.add_parameter("dropout")
    editor.view.setCurrentIndex(editor.model.index(0, 0))
    editor.view.setFocus()
    editor.activateWindow()
    qtbot.waitUntil(editor.view.hasFocus)
    qtbot.keyClick(editor.view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert list(editor.space_dict()) == ["dropout", "learning_rate"]
    assert editor.view.currentIndex().row() == 1  # the selection follows the row


def test_templates_add_their_rows_and_skip_names_already_present(editor):
    for title, names in TEMPLATES.items():
        added = editor.apply_template(title)
        assert added == len(names)
    assert editor.apply_template(next(iter(TEMPLATES))) == 0
    assert editor.problems() == []  # every suggested range is acceptable to the trainer
    space = SearchSpace.from_dict(editor.space_dict())
    assert space["momentum"].conditions == {"optimizer": ("sgd",)}
    assert set(space) == {n for names in TEMPLATES.values() for n in names}


def test_every_suggested_row_is_valid_alone(editor):
    for name in SUGGESTED:
        editor.set_space({})
        editor.add_parameter(name)
        assert editor.problems() == [], name


def test_renaming_an_untouched_row_takes_the_new_names_range(editor):
    row = editor.add_parameter("learning_rate")
    type_into(editor, row, "name", "batch_size")
    assert editor.space_dict()["batch_size"] == {"type": "categorical", "choices": [32, 64, 128]}
    type_into(editor, row, "values", "8, 16")
    type_into(editor, row, "name", "hidden_units")  # edited rows keep what was typed
    assert editor.space_dict()["hidden_units"]["choices"] == [8, 16]


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_set_space_shows_an_example_and_gives_it_back_unchanged(editor, example):
    spec = load_spec(EXAMPLES / example)
    space = spec.space.to_dict()
    editor.add_parameter("dropout")
    editor.set_space(space)
    assert editor.space_dict() == space
    if spec.script:  # a user script's own parameter names: checked for that trainer only
        assert editor.problems() and all("built-in trainer" in p for p in editor.problems())
        editor.model.set_trainer("objective-script" if spec.objective else "model-script")
    assert editor.problems() == []
    assert editor.undo_stack.count() == 0  # loading starts a fresh history


def test_a_model_script_space_still_checks_the_trainers_own_parameters(editor):
    editor.model.set_trainer("model-script")
    editor.set_space(
        {
            "filters": {"type": "categorical", "choices": [8, 16]},  # the script's own: free
            "learning_rate": {"type": "float", "low": -1.0, "high": 0.1},  # ours: checked
        }
    )
    (problem,) = editor.problems()
    assert problem.startswith("parameter 'learning_rate'") and "built-in trainer" in problem
    editor.model.set_trainer("objective-script")  # an [objective] script: every name is its own
    assert editor.problems() == []


def test_read_only_refuses_edits_and_disables_the_tools(editor):
    editor.set_space({"dropout": {"type": "float", "low": 0.0, "high": 0.5}})
    editor.set_read_only(True)
    index = editor.model.index(0, COL["high"])
    assert not editor.model.flags(index) & Qt.ItemFlag.ItemIsEditable
    assert not editor.model.setData(index, "0.3", ROLE.EditRole)
    assert not editor.add_action.isEnabled() and not editor.remove_action.isEnabled()
    assert editor.add_parameter("learning_rate") == -1
    editor.set_read_only(False)
    assert editor.model.flags(index) & Qt.ItemFlag.ItemIsEditable


def test_the_log_checkbox_is_an_undoable_edit(editor):
    row = editor.add_parameter("dropout")
    index = editor.model.index(row, COL["log"])
    assert editor.model.setData(index, Qt.CheckState.Checked, ROLE.CheckStateRole)
    assert editor.space_dict()["dropout"]["log"] is True
    assert is_marked(editor, row, "low")  # a log scale needs low > 0
    editor.undo_stack.undo()
    assert "log" not in editor.space_dict()["dropout"]


def test_changed_fires_after_edits_and_undo(qtbot, editor):
    with qtbot.waitSignal(editor.changed, timeout=1000):
        editor.add_parameter("dropout")
    with qtbot.waitSignal(editor.changed, timeout=1000):
        editor.undo_stack.undo()


def test_typing_into_a_cell_and_picking_a_type_edit_the_row(qtbot, editor):
    editor.show()
    qtbot.waitExposed(editor)
    row = editor.add_parameter("dropout")
    view = editor.view
    view.setCurrentIndex(editor.model.index(row, COL["high"]))
    view.setFocus()
    editor.activateWindow()
    qtbot.waitUntil(view.hasFocus)
    qtbot.keyClicks(view, "0")  # typing starts the editor, which takes the focus
    line = QApplication.focusWidget()
    assert line is not view
    qtbot.keyClicks(line, ".3")
    qtbot.keyClick(line, Qt.Key.Key_Return)  # Qt commits on the next event-loop turn
    qtbot.waitUntil(lambda: editor.space_dict()["dropout"]["high"] == 0.3)
    view.setCurrentIndex(editor.model.index(row, COL["kind"]))
    view.edit(view.currentIndex())
    combo = view.indexWidget(view.currentIndex()) or view.focusWidget()
    combo.setCurrentText("categorical")
    combo.activated.emit(combo.currentIndex())  # picking an item commits at once
    assert editor.space_dict()["dropout"]["type"] == "categorical"
    assert editor.undo_stack.count() == 3  # add, high, type


CELL_TEXTS = {
    "name": ["learning_rate", "dropout", "optimizer", "momentum", "", "lr", "dropout "],
    "kind": ["float", "int", "categorical", "fixed"],
    "low": ["0", "0.1", "-1", "1e-4", "abc", "", "3"],
    "high": ["1", "0.5", "0.05", "inf", "2", ""],
    "step": ["", "0.1", "0", "0.3", "1"],
    "points": ["", "3", "1", "2.5"],
    "values": ["sgd, adam", "1, 2", "true", "", "a,,b", '"x"', "0.5"],
    "condition": ["", "optimizer = sgd", "optimizer in sgd, adam", "dropout = 1", "nonsense"],
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(sorted(CELL_TEXTS)), st.integers(0, 6)),
        min_size=1,
        max_size=12,
    )
)
def test_whatever_is_typed_no_problems_means_a_space_the_trainer_accepts(editor, edits):
    editor.set_space({})
    for name in ("learning_rate", "dropout", "optimizer", "momentum"):
        editor.add_parameter(name)
    for row, field, pick_text in edits:
        texts = CELL_TEXTS[field]
        editor.model.setData(
            editor.model.index(row, COL[field]), texts[pick_text % len(texts)], ROLE.EditRole
        )
        if not editor.problems():
            space = SearchSpace.from_dict(editor.space_dict())  # raises if the editor missed something
            check_space(space)
    while editor.undo_stack.canUndo():
        editor.undo_stack.undo()
    assert editor.space_dict() == {}
