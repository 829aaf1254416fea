"""Study ▸ Enqueue Trial…: type a configuration (or clone and edit a trial's) to run next.

One editor row per parameter of the study's space: a combo box for a categorical, a spin box
for an int, a line edit for a float (any notation Python reads: ``0.003``, ``3e-3``), a plain
label for a fixed value. A conditional parameter's row is shown only while its parents' values
make it active. The dialog opens prefilled with a trial's parameters ("clone and edit") or the
best trial's; with no finished trial, with the middle of each range.

OK checks the configuration with :meth:`SearchSpace.check_config` (pure Python, on the GUI
thread) and shows every problem inline; a valid one is written to the study file's queue by a
:class:`~.background.BackgroundJob` with its own writer StudyStore (the GUI thread never writes
SQL; a study running in this window's worker pops the queue before its next trial, so the
configuration runs next). The dialog also lists the trials already queued, each removable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.space import Categorical, ConfigError, Fixed, Float, Int, Param, SearchSpace
from ..core.storage import StorageError, StudyRecord, StudyStore
from .background import BackgroundJob

_INT_LIMIT = 2**31 - 1
_ERROR_STYLE = "color: #c0392b;"


def format_value(value: Any) -> str:
    """A parameter value as the dialog and the queue list show it (floats round-trip exactly)."""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


def describe_config(params: Mapping[str, Any]) -> str:
    """``learning_rate=0.01, hidden_units=8`` (the queue list's text)."""
    return ", ".join(f"{k}={format_value(v)}" for k, v in params.items()) or "(no parameters)"


def read_queue(reader: StudyStore | None, study_id: int) -> list[dict[str, Any]]:
    """The study's queued configurations in run order (empty when the file cannot say)."""
    if reader is None:
        return []
    try:
        return reader.queued_trials(study_id)
    except StorageError:
        return []


def default_value(param: Param) -> Any:
    """What a row shows with no trial to copy: the middle of the range, the first choice."""
    if isinstance(param, Fixed):
        return param.value
    if isinstance(param, Categorical):
        return param.choices[0]
    if isinstance(param, (Int, Float)):
        lo, hi = param.low, param.high
        mid = math.sqrt(lo * hi) if param.log and lo > 0 else (lo + hi) / 2
        if isinstance(param, Int) or param.step is not None:
            step = param.step or 1
            mid = lo + round((mid - lo) / step) * step
        if isinstance(param, Int):
            return int(mid)
        return float(f"{mid:.6g}")
    return None


def _range_hint(param: Param) -> str:
    if isinstance(param, (Int, Float)):
        text = f"{format_value(param.low)} … {format_value(param.high)}"
        if param.log:
            text += ", log"
        if param.step is not None:
            text += f", step {format_value(param.step)}"
        return text
    if isinstance(param, Categorical):
        return f"{len(param.choices)} choices"
    if isinstance(param, Fixed):
        return "fixed"
    return ""


class ParamEditor(QWidget):
    """The editor of one parameter, with its range as a grey hint on the right."""

    changed = Signal()

    def __init__(self, name: str, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name, self.param = name, param
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        if isinstance(param, Categorical):
            editor = QComboBox()
            for i, c in enumerate(param.choices):
                editor.addItem(format_value(c), i)
            editor.currentIndexChanged.connect(lambda _i: self.changed.emit())
        elif isinstance(param, Int):
            editor = QSpinBox()
            # Wider than the space on purpose: a value out of range gets a message naming the
            # range, rather than being clamped silently.
            editor.setRange(-_INT_LIMIT, _INT_LIMIT)
            editor.setSingleStep(int(param.step or 1))
            editor.setAccelerated(True)
            editor.valueChanged.connect(lambda _v: self.changed.emit())
        elif isinstance(param, Float):
            editor = QLineEdit()
            editor.setPlaceholderText("a number, e.g. 0.003 or 3e-3")
            editor.textChanged.connect(lambda _t: self.changed.emit())
        else:  # Fixed (or a kind this dialog does not edit): shown, never changed
            editor = QLabel()
            editor.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        editor.setObjectName(f"edit-{name}")
        editor.setToolTip(f"{name}: {_range_hint(param)}")
        self.editor = editor
        self.hint = QLabel(_range_hint(param))
        self.hint.setEnabled(False)  # greyed
        lay.addWidget(editor, 1)
        lay.addWidget(self.hint)
        self.set_value(default_value(param))

    def set_value(self, value: Any) -> None:
        e, p = self.editor, self.param
        if isinstance(p, Categorical):
            try:
                e.setCurrentIndex(p.index(value))
            except ValueError:
                pass  # a value the space no longer has: keep the first choice
        elif isinstance(p, Int):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                e.setValue(int(max(-_INT_LIMIT, min(_INT_LIMIT, round(value)))))
        elif isinstance(p, Float):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                e.setText(format_value(float(value)))
            elif isinstance(value, str):
                e.setText(value)
        elif isinstance(p, Fixed):
            e.setText(format_value(p.value))

    def value(self) -> Any:
        """The typed value; a float field that is not a number raises ValueError naming it."""
        e, p = self.editor, self.param
        if isinstance(p, Categorical):
            return p.choices[int(e.currentData())]
        if isinstance(p, Int):
            return int(e.value())
        if isinstance(p, Float):
            text = e.text().strip()
            try:
                return float(text)
            except ValueError:
                raise ValueError(
                    f"{self.name}: {text!r} is not a number"
                    if text
                    else f"{self.name}: missing (type a number)"
                ) from None
        if isinstance(p, Fixed):
            return p.value
        return None


class EnqueueDialog(QDialog):
    """Edit one configuration of ``record``'s space and queue it in ``store_path``.

    ``enqueued(params)`` is emitted once the configuration is in the file; the dialog then
    closes. ``reader`` (the window's read-only store) lists the queue.
    """

    enqueued = Signal(dict)
    queue_changed = Signal()

    def __init__(
        self,
        store_path: Path,
        record: StudyRecord,
        *,
        params: Mapping[str, Any] | None = None,
        source: str = "",
        reader: StudyStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("enqueue-dialog")
        self.setWindowTitle(f"Enqueue Trial — {record.name}")
        self.store_path = Path(store_path)
        self.record = record
        self.study_id = record.study_id
        self.reader = reader
        self.space = SearchSpace.from_dict(record.space, validate=False)
        self.job: BackgroundJob | None = None
        self._queue: list[dict[str, Any]] = []

        intro = QLabel(
            (f"{source}. " if source else "")
            + "Edit the values; the trial runs before any the strategy proposes, and its result "
            "is told to the strategy like any other."
        )
        intro.setWordWrap(True)
        self.source_label = intro

        self.error_label = QLabel()
        self.error_label.setObjectName("enqueue-errors")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(_ERROR_STYLE)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.hide()

        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.editors: dict[str, ParamEditor] = {}
        for name, param in self.space.items():
            ed = ParamEditor(name, param)
            ed.changed.connect(self._on_edited)
            self.editors[name] = ed
            self.form.addRow(f"{name}:", ed)
        hint_width = max((ed.hint.sizeHint().width() for ed in self.editors.values()), default=0)
        for ed in self.editors.values():  # the editors line up however long their hints are
            ed.hint.setFixedWidth(hint_width)
        if params:
            self.set_params(params)
        self._update_visibility()

        # -- the queue ---------------------------------------------------------------------
        self.queue_list = QListWidget()
        self.queue_list.setObjectName("queued-trials")
        self.queue_list.setAlternatingRowColors(True)
        self.queue_list.setMaximumHeight(90)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Take the selected configuration off the queue")
        self.remove_button.clicked.connect(self.remove_selected)
        self.queue_list.currentRowChanged.connect(lambda _r: self._update_buttons())
        queue_box = QGroupBox("Queued trials (run first, in this order)")
        qlay = QHBoxLayout(queue_box)
        qlay.addWidget(self.queue_list, 1)
        qlay.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Enqueue")
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(self.form)
        lay.addWidget(self.error_label)
        lay.addWidget(queue_box)
        lay.addWidget(self.buttons)
        self.refresh_queue()
        self.resize(520, self.sizeHint().height())

    # -- factory ---------------------------------------------------------------------------
    @classmethod
    def for_trial(
        cls,
        reader: StudyStore,
        study_id: int,
        number: int | None = None,
        parent: QWidget | None = None,
    ) -> EnqueueDialog:
        """Prefilled with trial ``number``'s parameters (clone and edit), else the best trial's."""
        from ..core.study import best_of

        record = reader.get_study_by_id(study_id)
        trials = reader.get_trials(study_id)
        params: dict[str, Any] | None = None
        source = ""
        if number is not None:
            chosen = next((t for t in trials if t.number == number), None)
            if chosen is not None:
                params, source = dict(chosen.params), f"A copy of trial {number}"
        else:
            best = best_of(trials, record.direction)
            if best is not None:
                params, source = dict(best.params), f"Prefilled with the best trial, {best.number}"
        return cls(reader.path, record, params=params, source=source, reader=reader, parent=parent)

    # -- values ----------------------------------------------------------------------------
    def set_params(self, params: Mapping[str, Any]) -> None:
        for name, value in params.items():
            if name in self.editors:
                self.editors[name].set_value(value)
        self._update_visibility()

    def active_names(self) -> list[str]:
        """The parameters active for the values shown now (conditional rows follow parents)."""
        assigned: dict[str, Any] = {}
        for name in self.space.order:
            if self.space.is_active(name, assigned):
                try:
                    assigned[name] = self.editors[name].value()
                except ValueError:
                    assigned[name] = None
        return [n for n in self.space if n in assigned]

    def params(self) -> dict[str, Any]:
        """The active parameters' typed values; raises ConfigError for a float that is no number."""
        out: dict[str, Any] = {}
        problems: list[str] = []
        for name in self.active_names():
            try:
                out[name] = self.editors[name].value()
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise ConfigError(problems)
        return out

    def is_marked(self, name: str) -> bool:
        """Whether the row of ``name`` is marked as having a problem (its label in red)."""
        label = self.form.labelForField(self.editors[name])
        return label is not None and bool(label.styleSheet())

    def is_row_visible(self, name: str) -> bool:
        return self.form.isRowVisible(self.editors[name])

    # -- actions ---------------------------------------------------------------------------
    @Slot()
    def submit(self) -> bool:
        """OK: check the configuration; show the problems, or write it in the background."""
        if self.job is not None and self.job.running:
            return False
        try:
            config = self.space.check_config(self.params())
        except ConfigError as exc:
            self.show_problems(list(exc.problems) or [str(exc)])
            return False
        self.show_problems([])
        self._set_busy(True)
        path, study_id = self.store_path, self.study_id

        def write() -> dict[str, Any]:
            with StudyStore(path) as store:
                store.enqueue_trial(study_id, config)
            return config

        job = self.job = BackgroundJob()
        job.succeeded.connect(self._on_enqueued)
        job.failed.connect(self._on_write_failed)
        job.start(write)
        return True

    def show_problems(self, problems: list[str]) -> None:
        for name, ed in self.editors.items():
            bad = any(p.startswith(f"{name}:") for p in problems)
            label = self.form.labelForField(ed)
            if label is not None:
                label.setStyleSheet(_ERROR_STYLE if bad else "")
            ed.setToolTip(next((p for p in problems if p.startswith(f"{name}:")), ""))
        self.error_label.setText("\n".join(f"• {p}" for p in problems))
        self.error_label.setVisible(bool(problems))

    def problems_text(self) -> str:
        return self.error_label.text() if self.error_label.isVisibleTo(self) else ""

    @Slot()
    def remove_selected(self) -> bool:
        row = self.queue_list.currentRow()
        if row < 0 or (self.job is not None and self.job.running):
            return False
        path, study_id = self.store_path, self.study_id
        self._set_busy(True)

        def remove() -> None:
            with StudyStore(path) as store:
                store.remove_queued(study_id, row)

        job = self.job = BackgroundJob()
        job.succeeded.connect(self._on_removed)
        job.failed.connect(self._on_write_failed)
        job.start(remove)
        return True

    def refresh_queue(self) -> None:
        self._queue = read_queue(self.reader, self.study_id)
        self.queue_list.clear()
        for i, params in enumerate(self._queue, 1):
            item = QListWidgetItem(f"{i}. {describe_config(params)}")
            item.setToolTip(describe_config(params).replace(", ", "\n"))
            self.queue_list.addItem(item)
        if not self._queue:
            item = QListWidgetItem("Nothing queued: the strategy chooses every trial.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.queue_list.addItem(item)
        self._update_buttons()

    def queued(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self._queue]

    # -- internals -------------------------------------------------------------------------
    def _on_edited(self) -> None:
        self._update_visibility()
        if self.error_label.isVisibleTo(self):
            self.show_problems([])

    def _update_visibility(self) -> None:
        active = set(self.active_names())
        for name, ed in self.editors.items():
            self.form.setRowVisible(ed, name in active)

    def _set_busy(self, busy: bool) -> None:
        self.ok_button.setEnabled(not busy)
        for ed in self.editors.values():
            ed.setEnabled(not busy)
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.job is not None and self.job.running
        self.remove_button.setEnabled(bool(self._queue) and self.queue_list.currentRow() >= 0 and not busy)

    @Slot(object)
    def _on_enqueued(self, config: dict) -> None:
        self._set_busy(False)
        self.enqueued.emit(dict(config))
        self.queue_changed.emit()
        self.accept()

    @Slot(object)
    def _on_removed(self, _result: object) -> None:
        self._set_busy(False)
        self.refresh_queue()
        self.queue_changed.emit()

    @Slot(object, str)
    def _on_write_failed(self, exc: BaseException, _details: str) -> None:
        self._set_busy(False)
        if isinstance(exc, ConfigError):
            self.show_problems(list(exc.problems) or [str(exc)])
            return
        if isinstance(exc, (StorageError, ValueError, OSError)):
            message = str(exc)
        else:
            message = f"Unexpected error: {type(exc).__name__}: {exc}"
        QMessageBox.warning(self, "Not enqueued", f"The configuration was not queued:\n\n{message}")

    def reject(self) -> None:
        if self.job is not None and self.job.running:
            return  # a write is under way; the dialog closes when it has ended
        super().reject()
