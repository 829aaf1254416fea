"""The study setup page: load a spec, edit it, see why Start would be disabled, get a valid spec back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel

from hpo_desktop.core.space import SearchSpace
from hpo_desktop.core.spec import SpecError, load_spec
from hpo_desktop.core.strategies.bayesian import ESTIMATORS
from hpo_desktop.gui.setup.data_panel import DataModelPanel
from hpo_desktop.gui.setup.setup_page import SetupPage
from hpo_desktop.gui.setup.space_rows import FIELDS
from hpo_desktop.gui.setup.strategy_panel import StrategyPanel
from hpo_desktop.gui.setup.trainer_info import TrainerInfo

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
COL = {name: i for i, name in enumerate(FIELDS)}
#: What the trainer would say on a CPU-only machine, without importing torch in every test.
CPU_INFO = TrainerInfo(
    metrics={
        "classification": ("train_loss", "val_loss", "val_accuracy"),
        "regression": ("train_loss", "val_loss", "val_rmse", "val_r2"),
    },
    directions={"train_loss": "minimize", "val_loss": "minimize", "val_accuracy": "maximize"},
    device="CPU (2 threads)",
)


@pytest.fixture
def page(qtbot):
    widget = SetupPage()
    qtbot.addWidget(widget)
    widget.set_trainer_info(CPU_INFO)
    return widget


def edit_cell(page: SetupPage, row: int, field: str, text: str) -> None:
    model = page.space_editor.model
    assert model.setData(model.index(row, COL[field]), text, Qt.ItemDataRole.EditRole)


def pick(combo, data) -> None:
    """Choose an item the way a user does (currentIndexChanged fires)."""
    combo.setCurrentIndex(combo.findData(data))


@pytest.mark.parametrize(
    "example",
    [
        "digits_mlp.toml",
        "moons_grid.toml",
        "csv_regression.toml",
        "digits_cnn_script.toml",
        "custom_loop.toml",
    ],
)
def test_a_loaded_spec_comes_back_unchanged(page, example):
    spec = load_spec(EXAMPLES / example)
    page.set_spec(spec)
    assert page.problems() == []
    assert page.is_valid()
    assert page.spec().to_dict() == spec.to_dict()
    assert page.undo_stack.count() == 0


def test_a_new_page_says_what_to_do_first(page):
    assert not page.is_valid()
    assert page.problems()[0].startswith("[space] add at least one parameter")
    with pytest.raises(SpecError, match="add at least one parameter"):
        page.spec()


def test_an_invalid_range_disables_start_with_the_parameter_named_and_fixing_it_enables_it(qtbot, page):
    with qtbot.waitSignal(page.validity_changed, timeout=1000) as blocker:
        page.space_editor.add_parameter("learning_rate")
    assert blocker.args == [True, ""]
    with qtbot.waitSignal(page.validity_changed, timeout=1000) as blocker:
        edit_cell(page, 0, "high", "0.00001")
    ok, reason = blocker.args
    assert not ok
    assert "learning_rate" in reason and "must be less than high" in reason
    with pytest.raises(SpecError, match="learning_rate"):
        page.spec()
    assert "learning_rate" in page.status_label.text()
    with qtbot.waitSignal(page.validity_changed, timeout=1000) as blocker:
        edit_cell(page, 0, "high", "0.3")
    assert blocker.args == [True, ""]
    assert page.spec().space["learning_rate"].high == 0.3


def test_validity_is_reported_after_every_change(qtbot, page):
    page.set_spec(load_spec(EXAMPLES / "digits_mlp.toml"))
    seen = []
    page.validity_changed.connect(lambda ok, reason: seen.append(ok))
    page.study_group.trials_spin.setValue(30)
    page.study_group.name_edit.selectAll()
    qtbot.keyClick(page.study_group.name_edit, Qt.Key.Key_Backspace)  # the user clears the name
    assert seen == [True, False]
    assert page.problems() == ["[study] give the study a name"]


def test_the_grid_size_follows_the_space_as_it_is_edited(page):
    page.set_spec(load_spec(EXAMPLES / "moons_grid.toml"))
    label = page.strategy_panel.grid_label
    assert label.text() == "Grid: 36 combinations"
    edit_cell(page, 1, "values", "8, 16, 32, 64, 128, 256")  # hidden_units: 3 -> 6 choices
    assert label.text() == "Grid: 72 combinations"
    row = page.space_editor.add_parameter("weight_decay")  # a float without step or points
    assert label.text() == "Grid needs a step or grid points for: weight_decay"
    assert not page.is_valid()
    edit_cell(page, row, "points", "100000")
    size = SearchSpace.from_dict(page.space_editor.space_dict()).grid_size()
    assert size == 7_200_000
    assert label.text() == "Grid too large: 7,200,000 combinations (limit 100,000)"
    assert "Grid too large: 7,200,000" in page.problems()[0]
    page.undo_stack.undo()
    assert label.text() == "Grid needs a step or grid points for: weight_decay"


def test_switching_to_grid_search_names_the_floats_that_need_steps(page):
    page.set_spec(load_spec(EXAMPLES / "digits_mlp.toml"))
    pick(page.strategy_panel.combo, "grid")
    assert page.strategy_panel.grid_label.text() == (
        "Grid needs a step or grid points for: learning_rate, dropout, momentum"
    )
    assert not page.is_valid()
    page.undo_stack.undo()
    assert page.strategy_panel.kind() == "bayesian"
    assert page.is_valid()
    assert page.spec().strategy == {
        "kind": "bayesian",
        "initial_points": 8,
        "estimator": "GP",
        "acquisition": "EI",
    }


def test_strategy_options_come_from_the_registry_with_their_allowed_values(qtbot):
    panel = StrategyPanel()
    qtbot.addWidget(panel)
    panel.set_strategy({"kind": "bayesian"})
    estimator = panel._widgets["estimator"]
    assert [estimator.itemData(i) for i in range(estimator.count())] == list(ESTIMATORS)
    pick(panel._widgets["acquisition"], "EI")
    assert not panel._widgets["kappa"].isEnabled()  # EI does not use kappa
    pick(panel._widgets["acquisition"], "LCB")
    assert panel._widgets["kappa"].isEnabled() and not panel._widgets["xi"].isEnabled()
    assert panel.strategy_dict() == {"kind": "bayesian", "acquisition": "LCB"}
    pick(panel.combo, "random")
    assert panel.strategy_dict() == {"kind": "random"}
    pick(panel.combo, "bayesian")  # switching back restores what was set
    assert panel.strategy_dict() == {"kind": "bayesian", "acquisition": "LCB"}


def test_typing_a_name_is_one_undo_step(qtbot, page):
    page.set_spec(load_spec(EXAMPLES / "digits_mlp.toml"))
    name = page.study_group.name_edit
    name.selectAll()
    qtbot.keyClicks(name, "dig")
    assert page.undo_stack.count() == 1
    page.undo_stack.undo()
    assert name.text() == "digits-mlp"
    page.undo_stack.redo()
    assert page.spec().name == "dig"


def test_csv_preview_shows_the_columns_and_the_detected_task(qtbot, tmp_path):
    panel = DataModelPanel()
    qtbot.addWidget(panel)
    panel.set_base_dir(EXAMPLES)
    panel.choose_file(EXAMPLES / "houses.csv")
    table = panel.preview
    headers = [table.horizontalHeaderItem(j).text() for j in range(table.columnCount())]
    assert headers == ["size_m2", "rooms", "age_years", "district", "price"]
    assert table.rowCount() == 20
    assert panel.data_dict() == {"csv": "houses.csv", "target": "price"}  # relative to the base folder
    panel.target_combo.setCurrentText("rooms")
    assert panel.task() == "classification"
    assert panel.detected_label.text().startswith("classification, ")
    panel.target_combo.setCurrentText("price")
    assert panel.task() == "regression"
    assert panel.detected_label.text() == "regression"
    assert panel.problems() == []


def test_a_csv_read_only_in_part_still_previews(qtbot, tmp_path):
    big = tmp_path / "big.csv"
    big.write_text("x,y\n" + "".join(f"{i},{i % 3}\n" for i in range(60_000)))
    panel = DataModelPanel()
    qtbot.addWidget(panel)
    panel.set_sections({"csv": str(big), "target": "y"}, {})
    assert panel.preview.rowCount() == 20
    assert "first 50,000 rows read" in panel.about_label.text()
    assert panel.task() == "classification"


def test_a_missing_file_and_a_cnn_on_tabular_data_are_problems(qtbot, tmp_path):
    panel = DataModelPanel()
    qtbot.addWidget(panel)
    panel.set_base_dir(tmp_path)
    panel.set_sections({"csv": "nowhere.csv", "target": "y"}, {"kind": "mlp"})
    assert any("file not found" in p for p in panel.problems())
    panel.set_sections({"dataset": "iris"}, {"kind": "cnn"})
    assert any("CNN needs image data" in p for p in panel.problems())
    panel.set_sections({"dataset": "iris"}, {"kind": "mlp"})
    kinds = panel.model_box.kind_combo
    item_model = kinds.model()
    assert isinstance(item_model, QStandardItemModel)
    assert not item_model.item(kinds.findData("cnn")).isEnabled()  # only for images
    panel.set_sections({"dataset": "digits"}, {"kind": "mlp"})
    assert item_model.item(kinds.findData("cnn")).isEnabled()


def test_the_metric_must_be_one_the_trainer_reports_for_the_task(page):
    page.set_spec(load_spec(EXAMPLES / "csv_regression.toml"))
    combo = page.study_group.metric_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "val_loss",
        "val_rmse",
        "val_r2",
        "train_loss",
    ]
    combo.setCurrentText("val_accuracy")
    assert page.problems()[0].startswith(
        "[study] metric 'val_accuracy' is not reported for a regression task"
    )


def test_set_locked_keeps_only_the_trials_budget_editable(page):
    page.set_spec(load_spec(EXAMPLES / "digits_mlp.toml"))
    page.space_editor.add_parameter("weight_decay")
    page.set_locked(True)
    assert page.undo_stack.count() == 0
    editor = page.space_editor
    assert editor.is_read_only()
    assert not editor.model.flags(editor.model.index(0, COL["low"])) & Qt.ItemFlag.ItemIsEditable
    assert not page.strategy_panel.combo.isEnabled()
    assert not page.data_panel.data_box.isEnabled() and not page.data_panel.model_box.isEnabled()
    assert not page.study_group.name_edit.isEnabled()
    assert page.study_group.trials_spin.isEnabled()
    page.study_group.trials_spin.setValue(50)
    assert page.trials() == 50
    assert page.spec().trials == 50
    page.set_trials(60)
    assert page.spec().trials == 60
    page.set_locked(False)
    assert not editor.is_read_only() and page.strategy_panel.combo.isEnabled()


def test_the_device_is_detected_after_the_panel_is_shown(qtbot):
    panel = DataModelPanel()
    qtbot.addWidget(panel)
    label = panel.model_box.device_label
    assert label.text() == "Detecting the device…"
    panel.show()
    qtbot.waitUntil(lambda: label.text() != "Detecting the device…", timeout=60_000)
    assert label.text().startswith("will use ")


def test_an_npz_of_images_allows_a_cnn(qtbot, tmp_path):
    import numpy as np

    path = tmp_path / "tiny.npz"
    np.savez(path, X=np.zeros((30, 8, 8), dtype=np.float32), y=np.arange(30) % 3)
    panel = DataModelPanel()
    qtbot.addWidget(panel)
    panel.set_base_dir(tmp_path)
    panel.choose_file(path)
    assert panel.data_dict() == {"npz": "tiny.npz"}
    assert panel.is_image()
    assert panel.task() == "classification"
    assert "X: 30 × 8 × 8" in panel.about_label.text()
    pick(panel.model_box.kind_combo, "cnn")
    assert panel.model_dict() == {"kind": "cnn"}
    assert panel.problems() == []


def test_building_the_page_does_not_import_torch():
    code = (
        "import os, sys; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication; app = QApplication([])\n"
        "from hpo_desktop.core.spec import load_spec\n"
        "from hpo_desktop.gui.setup.setup_page import SetupPage\n"
        f"page = SetupPage(); page.set_spec(load_spec({str(EXAMPLES / 'csv_regression.toml')!r}))\n"
        "assert page.is_valid(), page.problems()\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_an_objective_script_spec_needs_no_data_or_model_and_keeps_its_own_metric(page):
    """[objective] script: the script loads and trains; the Data & model tab does not apply."""
    spec = load_spec(EXAMPLES / "custom_loop.toml")
    page.set_spec(spec)
    assert page.is_valid(), page.problems()
    assert not page.tabs.isTabEnabled(1) and "custom_loop.py" in page.tabs.tabToolTip(1)
    back = page.spec()
    assert back.objective["script"] == "custom_loop.py" and not back.data and not back.model
    assert set(back.space) == {"width", "learning_rate", "momentum", "epochs"}  # the script's own names
    page.set_spec(load_spec(EXAMPLES / "digits_mlp.toml"))  # a built-in spec again: the tab is back
    assert page.tabs.isTabEnabled(1) and page.spec().objective == {}
