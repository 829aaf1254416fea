"""Refine…: propose a narrower search space from a study's best trials, shown old → new.

The proposal comes from :func:`hpo_desktop.core.refine.propose_refinement` (pure Python, fast
for a few thousand trials, so it is recomputed on the GUI thread whenever the top %, the margin
or a pin changes). The caller reads the trials; accepting ("Open as Child Study") leaves the
proposal in :meth:`RefineDialog.refinement` for the main window, which puts the child's spec
on the Setup page.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.refine import Refinement, describe, in_space_count, propose_refinement
from ..core.space import Categorical, Fixed, Int, Param, SearchSpace
from ..core.storage import StudyRecord
from ..core.study import best_of
from ..core.trial import FrozenTrial, TrialState
from .setup.look import set_tone

#: A tint for the rows whose range changes: readable on light and dark tables.
CHANGED = QColor(240, 140, 0, 60)
COLUMNS = ("Parameter", "Current", "Proposed", "Why", "Pin to")


class PinEditor(QWidget):
    """A checkbox and a value editor for one parameter: pin it to one value in the child."""

    changed = Signal()

    def __init__(self, param: Param, value: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self.check = QCheckBox()
        self.check.setToolTip("Pin this parameter to one value in the child study")
        self.editor: QWidget
        if isinstance(param, Categorical):
            combo = QComboBox()
            for i, choice in enumerate(param.choices):
                combo.addItem(repr(choice) if not isinstance(choice, str) else choice, i)
            idx = next((i for i, c in enumerate(param.choices) if c == value), 0)
            combo.setCurrentIndex(idx)
            combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
            self.editor = combo
        elif isinstance(param, Int) and param.step is None:
            spin = QSpinBox()
            spin.setRange(int(param.low), int(param.high))
            spin.setValue(int(value) if value is not None else int(param.low))
            spin.valueChanged.connect(lambda _v: self.changed.emit())
            self.editor = spin
        else:
            line = QLineEdit(_fmt(value if value is not None else param.placeholder))
            line.setMaximumWidth(110)
            line.textChanged.connect(lambda _t: self.changed.emit())
            self.editor = line
        self.editor.setEnabled(False)
        self.check.toggled.connect(self.editor.setEnabled)
        self.check.toggled.connect(lambda _on: self.changed.emit())
        lay = QHBoxLayout(self)
        lay.setContentsMargins(4, 0, 4, 0)
        lay.setSpacing(4)
        lay.addWidget(self.check)
        lay.addWidget(self.editor, 1)

    def pinned(self) -> bool:
        return self.check.isChecked()

    def set_pinned(self, on: bool, value: Any = None) -> None:
        if value is not None:
            self.set_value(value)
        self.check.setChecked(on)

    def set_value(self, value: Any) -> None:
        ed = self.editor
        if isinstance(ed, QComboBox):
            assert isinstance(self.param, Categorical)
            idx = next((i for i, c in enumerate(self.param.choices) if c == value), -1)
            if idx >= 0:
                ed.setCurrentIndex(idx)
        elif isinstance(ed, QSpinBox):
            ed.setValue(int(value))
        elif isinstance(ed, QLineEdit):
            ed.setText(_fmt(value))

    def value(self) -> Any:
        """The value to pin to; raises ValueError with a plain message when it is not valid."""
        ed, p = self.editor, self.param
        if isinstance(ed, QComboBox):
            assert isinstance(p, Categorical)
            return p.choices[ed.currentData()]
        if isinstance(ed, QSpinBox):
            return ed.value()
        assert isinstance(ed, QLineEdit)
        text = ed.text().strip()
        try:
            v: Any = float(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a number") from None
        if isinstance(p, Int):
            if not float(v).is_integer():
                raise ValueError(f"'{text}' is not a whole number")
            v = int(v)
        if not math.isfinite(v) or not p.contains(v):
            raise ValueError(f"{text} is outside {describe(p.to_dict())}")
        return v


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


class RefineDialog(QDialog):
    """The proposed space next to the current one, one row per parameter; see the module doc."""

    proposal_changed = Signal()

    def __init__(
        self,
        record: StudyRecord,
        space: SearchSpace,
        trials: Sequence[FrozenTrial],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Refine study '{record.name}'")
        self.record, self.space, self.trials = record, space, list(trials)
        self.n_complete = sum(1 for t in self.trials if t.state == TrialState.COMPLETE and t.has_finite_value)
        self._refinement: Refinement | None = None
        self._problem = ""
        best = best_of(self.trials, record.direction)
        self.best_params: dict[str, Any] = dict(best.params) if best is not None else {}

        intro = QLabel(
            f"A new search space from the best trials of <b>{record.name}</b> "
            f"({self.n_complete} complete trial{'s' if self.n_complete != 1 else ''}, "
            f"{record.direction} {record.metric}). Ranges narrow to the span of the top trials plus "
            "a margin; a range whose best trials sit at its edge is widened there; choices never "
            "among the top are dropped. The child study warm-starts from the trials inside the new space."
        )
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)

        self.top_spin = QSpinBox()
        self.top_spin.setRange(1, 100)
        self.top_spin.setValue(20)
        self.top_spin.setSuffix(" %")
        self.top_spin.setToolTip("The share of the complete trials (best first) the new ranges are fitted to")
        self.margin_spin = QSpinBox()
        self.margin_spin.setRange(0, 200)
        self.margin_spin.setValue(10)
        self.margin_spin.setSuffix(" %")
        self.margin_spin.setToolTip(
            "Room added on each side of the top trials' span, as a share of that span"
        )
        form = QHBoxLayout()
        for text, spin in (("&Top trials:", self.top_spin), ("&Margin:", self.margin_spin)):
            label = QLabel(text)
            label.setBuddy(spin)
            spin.setMinimumWidth(80)
            form.addWidget(label)
            form.addWidget(spin)
            form.addSpacing(16)
        form.addStretch(1)

        self.table = QTableWidget(len(space), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(4, 170)
        self.pins: dict[str, PinEditor] = {}
        for row, name in enumerate(space.order):
            p = space[name]
            name_item = QTableWidgetItem(name)
            font = QFont(name_item.font())
            font.setBold(True)
            name_item.setFont(font)
            self.table.setItem(row, 0, name_item)
            for col in (1, 2, 3):
                self.table.setItem(row, col, QTableWidgetItem())
            if isinstance(p, Fixed):
                self.table.setItem(row, 4, QTableWidgetItem("(fixed)"))
                continue
            editor = PinEditor(p, self.best_params.get(name))
            editor.setToolTip(
                "Pin to one value (prefilled with the best trial's)"
                if name in self.best_params
                else "Pin to one value"
            )
            editor.changed.connect(self.recompute)
            self.pins[name] = editor
            self.table.setCellWidget(row, 4, editor)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.accept_button = QPushButton("Open as Child Study")
        self.accept_button.setDefault(True)
        self.accept_button.setToolTip(
            "Put the refined study on the Setup page: change its strategy or budget there, then Start"
        )
        self.buttons.addButton(self.accept_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.summary)
        lay.addWidget(self.buttons)
        self.resize(980, min(760, 230 + 40 * len(space)))

        self.top_spin.valueChanged.connect(self.recompute)
        self.margin_spin.valueChanged.connect(self.recompute)
        self.recompute()

    # -- the proposal -------------------------------------------------------------------------
    def refinement(self) -> Refinement | None:
        """The proposal as shown (None while a pin value is invalid)."""
        return self._refinement

    def problem(self) -> str:
        return self._problem

    def pinned(self) -> dict[str, Any]:
        """{name: value} of the pinned parameters; raises ValueError for a bad value."""
        out = {}
        for name, editor in self.pins.items():
            if editor.pinned():
                try:
                    out[name] = editor.value()
                except ValueError as exc:
                    raise ValueError(f"cannot pin '{name}': {exc}") from None
        return out

    def set_top(self, percent: int) -> None:
        self.top_spin.setValue(percent)

    def set_margin(self, percent: int) -> None:
        self.margin_spin.setValue(percent)

    def recompute(self) -> None:
        try:
            pin = self.pinned()
            ref = propose_refinement(
                self.space,
                self.trials,
                self.record.direction,
                top=self.top_spin.value() / 100,
                margin=self.margin_spin.value() / 100,
                pin=pin,
            )
        except ValueError as exc:
            self._refinement, self._problem = None, str(exc)
            self.summary.setText(f"⚠  {exc}")
            set_tone(self.summary, "error")
            self.accept_button.setEnabled(False)
            self.proposal_changed.emit()
            return
        self._refinement, self._problem = ref, ""
        by_name = {c.param: c for c in ref.changes}
        for row, name in enumerate(self.space.order):
            c = by_name[name]
            old = describe(c.old)
            new = describe(c.new) if c.new else "(removed)"
            texts = (old, new, c.reason)
            for col, text in zip((1, 2, 3), texts):
                item = self.table.item(row, col)
                item.setText(text)
                item.setToolTip(text)
            brush = QBrush(CHANGED) if c.changed else QBrush()
            for col in range(4):
                self.table.item(row, col).setBackground(brush)
            font = QFont(self.table.item(row, 2).font())
            font.setBold(c.changed)
            self.table.item(row, 2).setFont(font)
        self.table.resizeRowsToContents()
        n_changed = sum(1 for c in ref.changes if c.changed)
        n_in = in_space_count(self.trials, ref.space)
        self.summary.setText(
            f"{n_changed} of {len(ref.changes)} parameter{'s' if len(ref.changes) != 1 else ''} change "
            f"(highlighted). {n_in} of the parent's trials lie inside the new space: the child starts "
            "from them."
        )
        set_tone(self.summary, "normal")
        self.accept_button.setEnabled(True)
        self.proposal_changed.emit()

    # -- reading the table (tests, screenshots) ------------------------------------------------
    def row_texts(self, name: str) -> tuple[str, str, str]:
        """(current, proposed, why) as shown for parameter ``name``."""
        row = self.space.order.index(name)
        return tuple(self.table.item(row, c).text() for c in (1, 2, 3))  # type: ignore[return-value]

    def is_highlighted(self, name: str) -> bool:
        row = self.space.order.index(name)
        return self.table.item(row, 2).background().style() != Qt.BrushStyle.NoBrush


__all__ = ["PinEditor", "RefineDialog"]
