"""DataModelPanel: what to train on (a built-in data set or a CSV / .npz file) and what to train.

The panel edits the ``[data]`` table itself and the ``[model]`` table through its
:class:`~.model_group.ModelGroup`. Keys without a widget (``seed``, ``features``; fixed
hyperparameters in ``[model]``) are passed through untouched, and a key is written only if the
loaded table had it or its value differs from the default, so loading a spec and reading it
back gives the same tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hpo_desktop.training.datasets import DataError, _check_section
from hpo_desktop.training.sources import BUILTIN_DATASETS, DEFAULT_N_SAMPLES, DEFAULT_NOISE

from .data_preview import (
    CsvSample,
    NpzSample,
    TaskGuess,
    builtin_is_image,
    builtin_task,
    guess_task,
    read_csv_sample,
    read_npz_sample,
)
from .look import hbox, select, set_tone, shrinkable
from .model_group import ModelGroup
from .trainer_info import TrainerInfo, trainer_info_source

TASKS = ("auto", "classification", "regression")
DATA_DEFAULTS: dict[str, Any] = {"task": "auto", "validation": 0.15, "test": 0.15}
_DATA_MANAGED = (
    "dataset",
    "csv",
    "npz",
    "target",
    "task",
    "validation",
    "test",
    "n_samples",
    "noise",
    "features",
)
_FILE_FILTER = "Data files (*.csv *.tsv *.txt *.npz);;CSV files (*.csv *.tsv *.txt);;NumPy archives (*.npz);;All files (*)"
_TARGET_TINT = QColor(52, 120, 246, 40)


def _same_float(value: float, given: Any, decimals: int) -> bool:
    return (
        isinstance(given, (int, float))
        and not isinstance(given, bool)
        and abs(value - given) < 0.5 * 10**-decimals
    )


class DataModelPanel(QWidget):
    """The ``[data]`` and ``[model]`` sections. ``changed``: a user edit; ``status_changed``: new facts
    (the device was detected) that may change the problems without an edit."""

    changed = Signal()
    status_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base_dir = Path.cwd()
        self._data_given: dict[str, Any] = {}
        self._csv: CsvSample | None = None
        self._npz: NpzSample | None = None
        self._file_error = ""
        self._loaded: tuple[Path, float] | None = None
        self._asked_trainer = False
        self._loading = False
        self._build_data_box()
        self.model_box = ModelGroup(self)
        self.model_box.changed.connect(self._emit_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(self.data_box, 1)
        layout.addWidget(self.model_box)
        self.set_sections({"dataset": "digits"}, {"kind": "mlp"})

    # -- construction ----------------------------------------------------------------------
    def _build_data_box(self) -> None:
        box = self.data_box = QGroupBox("Data", self)
        form = self.data_form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.builtin_radio = QRadioButton("Built-in data set", box)
        self.file_radio = QRadioButton("CSV or .npz file", box)
        self._source_group = QButtonGroup(self)
        self._source_group.addButton(self.builtin_radio)
        self._source_group.addButton(self.file_radio)
        form.addRow("Source", self._hbox(self.builtin_radio, self.file_radio, stretch=True))

        self.dataset_combo = QComboBox(box)
        shrinkable(self.dataset_combo)
        for name, info in BUILTIN_DATASETS.items():
            self.dataset_combo.addItem(name, name)
            self.dataset_combo.setItemData(
                self.dataset_combo.count() - 1, info.description, Qt.ItemDataRole.ToolTipRole
            )
        form.addRow("Data set", self.dataset_combo)

        self.samples_spin = QSpinBox(box)
        self.samples_spin.setRange(20, 10_000_000)
        self.samples_spin.setGroupSeparatorShown(True)
        self.samples_spin.setToolTip("rows of the generated data set")
        self.noise_spin = QDoubleSpinBox(box)
        self.noise_spin.setRange(0.0, 10.0)
        self.noise_spin.setDecimals(3)
        self.noise_spin.setSingleStep(0.05)
        self.noise_spin.setToolTip("noise of the generated data set")
        form.addRow("Samples", self._hbox(self.samples_spin, QLabel("Noise"), self.noise_spin, stretch=True))

        self.path_edit = QLineEdit(box)
        self.path_edit.setPlaceholderText("path of a .csv or .npz file (relative to the study's folder)")
        self.browse_button = QPushButton("Browse…", box)
        form.addRow("File", self._hbox(self.path_edit, self.browse_button))

        self.target_combo = QComboBox(box)
        self.target_combo.setToolTip("the CSV column to predict")
        self.target_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        form.addRow("Target", self._hbox(self.target_combo, stretch=True))

        self.about_label = QLabel(box)
        self.about_label.setWordWrap(True)
        set_tone(self.about_label, "muted")
        form.addRow(self.about_label)

        self.preview = QTableWidget(box)
        self.preview.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.preview.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.preview.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.preview.setMinimumHeight(130)
        self.preview.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        form.addRow(self.preview)

        self.task_combo = QComboBox(box)
        self.task_combo.addItems(TASKS)
        self.task_combo.setToolTip(
            "auto: a text target, or at most 20 distinct whole numbers, is classification"
        )
        self.detected_label = QLabel(box)
        self.detected_label.setObjectName("detectedTask")
        form.addRow("Task", self._hbox(self.task_combo, self.detected_label, stretch=True))

        self.validation_spin = self._fraction(
            "fraction of rows for validation (what the search is judged on)"
        )
        self.validation_spin.setMinimum(0.01)
        self.test_spin = self._fraction(
            "fraction of rows held out for the final test (the search never sees it)"
        )
        form.addRow(
            "Validation",
            self._hbox(self.validation_spin, QLabel("Test"), self.test_spin, stretch=True),
        )

        self.builtin_radio.toggled.connect(self._on_source_toggled)
        self.dataset_combo.currentIndexChanged.connect(self._on_dataset_picked)
        self.browse_button.clicked.connect(self._browse)
        self.path_edit.editingFinished.connect(self._on_path_edited)
        self.target_combo.currentIndexChanged.connect(self._on_target_picked)
        for widget in (self.samples_spin, self.noise_spin, self.validation_spin, self.test_spin):
            widget.valueChanged.connect(self._emit_changed)
        self.task_combo.currentIndexChanged.connect(self._on_task_picked)

    def _fraction(self, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox(self.data_box)
        spin.setRange(0.0, 0.9)
        spin.setDecimals(2)
        spin.setSingleStep(0.05)
        spin.setToolTip(tip)
        return spin

    def _hbox(self, *widgets: QWidget, stretch: bool = False) -> QWidget:
        return hbox(self, *widgets, stretch=stretch)

    # -- public API ------------------------------------------------------------------------
    def set_base_dir(self, path: Path) -> None:
        """Folder that relative file paths are read from (the spec file's folder)."""
        self._base_dir = Path(path)
        if self.file_radio.isChecked():
            self._load_file(keep_target=True)
            self._refresh()

    def set_sections(self, data: Mapping[str, Any], model: Mapping[str, Any]) -> None:
        """Show a ``[data]`` and a ``[model]`` table (no ``changed`` signal)."""
        self._loading = True
        try:
            self._data_given = dict(data)
            file_key = "csv" if "csv" in data else "npz" if "npz" in data else None
            (self.file_radio if file_key else self.builtin_radio).setChecked(True)
            name = str(data.get("dataset", "digits"))
            if self.dataset_combo.findData(name) < 0:
                self.dataset_combo.addItem(name, name)
            self.dataset_combo.setCurrentIndex(self.dataset_combo.findData(name))
            self.samples_spin.setValue(int(data.get("n_samples", DEFAULT_N_SAMPLES)))
            self.noise_spin.setValue(float(data.get("noise", DEFAULT_NOISE.get(name, 0.0))))
            self.path_edit.setText(str(data.get(file_key, "")) if file_key else "")
            self._load_file(target=str(data.get("target", "")))
            select(self.task_combo, str(data.get("task", "auto")))
            self.validation_spin.setValue(float(data.get("validation", DATA_DEFAULTS["validation"])))
            self.test_spin.setValue(float(data.get("test", DATA_DEFAULTS["test"])))
            self.model_box.set_model(model)
        finally:
            self._loading = False
        self._refresh()

    def data_dict(self) -> dict[str, Any]:
        given = self._data_given
        out: dict[str, Any] = {}
        if self.builtin_radio.isChecked():
            name = self.dataset_combo.currentData()
            out["dataset"] = name
        else:
            text = self.path_edit.text().strip()
            key = "npz" if text.lower().endswith(".npz") else "csv"
            out[key] = text
            if key == "csv" and self.target_combo.currentText():
                out["target"] = self.target_combo.currentText()
        self._put(out, "task", self.task_combo.currentText(), given, DATA_DEFAULTS)
        self._put(out, "validation", self._float(self.validation_spin, "validation"), given, DATA_DEFAULTS)
        self._put(out, "test", self._float(self.test_spin, "test"), given, DATA_DEFAULTS)
        if "dataset" in out and self._generated():
            defaults = {"n_samples": DEFAULT_N_SAMPLES, "noise": DEFAULT_NOISE.get(out["dataset"], 0.0)}
            self._put(out, "n_samples", self.samples_spin.value(), given, defaults)
            self._put(out, "noise", self._float(self.noise_spin, "noise"), given, defaults)
        if "csv" in out and "features" in given and given.get("csv") == out["csv"]:
            out["features"] = given["features"]
        out.update({k: v for k, v in given.items() if k not in _DATA_MANAGED})
        return out

    def model_dict(self) -> dict[str, Any]:
        return self.model_box.model_dict()

    def task(self) -> str | None:
        """The task as the trainer will see it ("classification" / "regression"), or None while unknown."""
        return self._task_guess().task

    def is_image(self) -> bool:
        if self.builtin_radio.isChecked():
            return builtin_is_image(str(self.dataset_combo.currentData()))
        return self._npz is not None and self._npz.is_image

    def problems(self) -> list[str]:
        out: list[str] = []
        file_mode = self.file_radio.isChecked()
        if file_mode and not self.path_edit.text().strip():
            out.append("[data] choose a CSV or .npz file (Browse…), or a built-in data set")
        elif file_mode and self._file_error:
            out.append(f"[data] {self._file_error}")
        elif file_mode and self._csv is not None:
            target = self.target_combo.currentText()
            if not target:
                out.append("[data] choose the target column to predict")
            elif target not in self._csv.header:
                out.append(
                    f"[data] target column '{target}' is not in the file (columns: {', '.join(self._csv.header)})"
                )
            used = self._data_given.get("features") or self._csv.header
            for column in [c for c in self._csv.header if c in used or c == target]:
                if column in self._csv.first_missing:
                    out.append(
                        f"[data] column '{column}' has missing values (first at line "
                        f"{self._csv.first_missing[column]}); fill them in or leave the column out"
                    )
                    break
        guess = self._task_guess()
        if guess.task is None and not out and file_mode:
            out.append(f"[data] {guess.words}")
        if not out:
            try:
                _check_section(self.data_dict())
            except DataError as exc:
                out.append(str(exc))
        out.extend(self.model_box.problems())
        return out

    def set_read_only(self, read_only: bool) -> None:
        self.data_box.setEnabled(not read_only)
        self.model_box.setEnabled(not read_only)

    def set_trainer_info(self, info: TrainerInfo) -> None:
        self.model_box.set_trainer_info(info)
        self.status_changed.emit()

    # -- helpers ---------------------------------------------------------------------------
    @staticmethod
    def _put(
        out: dict[str, Any], key: str, value: Any, given: Mapping[str, Any], defaults: Mapping[str, Any]
    ) -> None:
        if key in given or value != defaults.get(key):
            out[key] = value

    def _float(self, spin: QDoubleSpinBox, key: str) -> float:
        value = spin.value()
        given = self._data_given.get(key)
        return given if _same_float(value, given, spin.decimals()) else value

    def _generated(self) -> bool:
        info = BUILTIN_DATASETS.get(str(self.dataset_combo.currentData()))
        return bool(info and info.generated)

    def _resolve(self, text: str) -> Path:
        path = Path(text).expanduser()
        return path if path.is_absolute() else self._base_dir / path

    def _load_file(self, *, target: str | None = None, keep_target: bool = False) -> None:
        """Read the file's first rows (CSV) or headers (.npz) and fill the target menu."""
        previous = self.target_combo.currentText() if keep_target else target
        self._csv, self._npz, self._file_error, self._loaded = None, None, "", None
        text = self.path_edit.text().strip()
        if self.file_radio.isChecked() and text:
            path = self._resolve(text)
            self._loaded = (path, path.stat().st_mtime if path.is_file() else 0.0)
            try:
                if not path.is_file():
                    raise ValueError(f"file not found: {path}")
                if path.suffix.lower() == ".npz":
                    self._npz = read_npz_sample(path)
                else:
                    self._csv = read_csv_sample(path)
            except ValueError as exc:
                self._file_error = str(exc)
        header = self._csv.header if self._csv else []
        was_loading = self._loading
        self._loading = True
        try:
            self.target_combo.clear()
            self.target_combo.addItems(header)
            if previous and previous not in header and self._csv is not None:
                self.target_combo.addItem(previous)  # shown, and named as a problem
            if previous:
                self.target_combo.setCurrentText(previous)
            elif header:
                self.target_combo.setCurrentIndex(len(header) - 1)
        finally:
            self._loading = was_loading

    def _task_guess(self) -> TaskGuess:
        requested = self.task_combo.currentText()
        if self.builtin_radio.isChecked():
            guess = builtin_task(str(self.dataset_combo.currentData()))
            if guess.task and requested not in ("auto", guess.task):
                return TaskGuess(
                    None, f"this data set is a {guess.task} task, not {requested}; set Task to auto"
                )
            return guess
        if self._csv is not None:
            column = self._csv.columns.get(self.target_combo.currentText())
            if column is None:
                return TaskGuess(None, "choose the target column")
            return guess_task(column, requested, complete=self._csv.complete)
        if self._npz is not None:
            return guess_task([str(v) for v in self._npz.y], requested)
        return TaskGuess(None, self._file_error or "no file chosen yet")

    # -- reactions -------------------------------------------------------------------------
    def _emit_changed(self, *_args: Any) -> None:
        if not self._loading:
            self._refresh()
            self.changed.emit()

    def _on_source_toggled(self, _checked: bool) -> None:
        if self._loading:
            return
        if self.builtin_radio.isChecked():
            self._loading = True
            self.task_combo.setCurrentText("auto")  # a built-in data set knows its task
            self._loading = False
        self._load_file(keep_target=True)
        self._emit_changed()
        if self.file_radio.isChecked() and not self.path_edit.text().strip():
            self.path_edit.setFocus()

    def _on_dataset_picked(self, _index: int) -> None:
        if self._loading:
            return
        name = str(self.dataset_combo.currentData())
        self._loading = True
        self.noise_spin.setValue(float(DEFAULT_NOISE.get(name, 0.0)))
        self._loading = False
        self._emit_changed()

    def _on_path_edited(self) -> None:
        if self._loading:
            return
        path = self._resolve(self.path_edit.text().strip())
        if self._loaded is not None and self._loaded == (
            path,
            path.stat().st_mtime if path.is_file() else 0.0,
        ):
            return  # focus left the field without a new path: nothing to read again
        self._load_file(keep_target=True)
        self._emit_changed()

    def _on_target_picked(self, _index: int) -> None:
        self._emit_changed()

    def _on_task_picked(self, _index: int) -> None:
        self._emit_changed()

    def _browse(self) -> None:
        start = (
            self._resolve(self.path_edit.text().strip()).parent
            if self.path_edit.text().strip()
            else self._base_dir
        )
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose a data file", str(start), _FILE_FILTER)
        if chosen:
            self.choose_file(Path(chosen))

    def choose_file(self, path: Path) -> None:
        """Switch to file mode with ``path`` (written relative to the base folder when inside it)."""
        path = Path(path)
        try:
            shown = str(path.resolve().relative_to(self._base_dir.resolve()))
        except ValueError:
            shown = str(path)
        self._loading = True
        self.file_radio.setChecked(True)
        self.path_edit.setText(shown)
        self._loading = False
        self._load_file(keep_target=True)
        self._emit_changed()

    # -- showing ---------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._asked_trainer:
            self._asked_trainer = True
            source = trainer_info_source()
            source.ready.connect(self.set_trainer_info)
            if source.info() is not None:
                self.set_trainer_info(source.info())
            else:
                source.request()

    def _refresh(self) -> None:
        """Bring every derived widget (visibility, preview, detected task, CNN item) up to date."""
        builtin = self.builtin_radio.isChecked()
        form = self.data_form
        for widget, visible in (
            (self.dataset_combo, builtin),
            (self.samples_spin.parentWidget(), builtin and self._generated()),
            (self.path_edit.parentWidget(), not builtin),
            (self.target_combo.parentWidget(), not builtin and self._npz is None),
            (self.preview, not builtin and self._csv is not None),
        ):
            form.setRowVisible(widget, visible)
        self._refresh_about()
        self._refresh_preview()
        guess = self._task_guess()
        self.detected_label.setText(guess.words if guess.task else f"⚠ {guess.words}")
        set_tone(self.detected_label, "normal" if guess.task else "error", bold=bool(guess.task))
        self.model_box.set_image_data(self.is_image())

    def _refresh_about(self) -> None:
        if self.builtin_radio.isChecked():
            info = BUILTIN_DATASETS.get(str(self.dataset_combo.currentData()))
            text, tone = (
                (info.description if info else "not a built-in data set"),
                "muted" if info else "error",
            )
        elif self._file_error:
            text, tone = self._file_error, "error"
        elif self._npz is not None:
            text, tone = self._npz.summary() + (" — images" if self._npz.is_image else ""), "muted"
        elif self._csv is not None:
            n = len(self._csv.columns[self._csv.header[0]]) if self._csv.header else 0
            rows = f"{n:,} rows" if self._csv.complete else f"first {n:,} rows read"
            text = f"{len(self._csv.header)} columns, {rows}; the first {len(self._csv.rows)} below"
            tone = "muted"
        else:
            text, tone = "", "muted"
        self.about_label.setText(text)
        set_tone(self.about_label, tone)
        self.data_form.setRowVisible(self.about_label, bool(text))

    def _refresh_preview(self) -> None:
        sample = self._csv
        table = self.preview
        if sample is None or not self.file_radio.isChecked():
            table.clear()
            table.setRowCount(0)
            table.setColumnCount(0)
            return
        target = self.target_combo.currentText()
        table.setColumnCount(len(sample.header))
        table.setRowCount(len(sample.rows))
        for j, name in enumerate(sample.header):
            head = QTableWidgetItem(name)
            if name == target:
                head.setToolTip("the target: what the network learns to predict")
                font = QFont(table.font())
                font.setBold(True)
                head.setFont(font)
            table.setHorizontalHeaderItem(j, head)
        tint = QBrush(_TARGET_TINT)
        for i, row in enumerate(sample.rows):
            for j, value in enumerate(row):
                item = QTableWidgetItem(value)
                if sample.header[j] == target:
                    item.setBackground(tint)
                table.setItem(i, j, item)
