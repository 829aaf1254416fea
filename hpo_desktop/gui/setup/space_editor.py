"""SpaceEditor: the search space as an editable table, with templates, undo and in-place marks.

Every edit (a cell, add, remove, duplicate, move, a template) is one QUndoCommand on the undo
stack the editor is given (the setup page shares one stack between all its panels). Invalid
cells get a red tint and the validator's message as their tooltip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QPainter, QPaintEvent, QResizeEvent, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hpo_desktop.training.params import ALL_PARAMS

from .look import set_tone
from .space_model import SpaceTableModel
from .space_rows import FIELDS, KINDS, rows_from_space
from .space_templates import TEMPLATES, help_text, next_unused_name, suggested_row, template_rows

_COLUMN_WIDTHS = {
    "name": 132,
    "kind": 96,
    "low": 70,
    "high": 70,
    "log": 36,
    "step": 54,
    "points": 54,
    "condition": 140,
}
#: The choices column takes the rest of the width, but never less than this.
VALUES_MIN_WIDTH = 150
PLACEHOLDER = "No parameters yet.\nAdd one with “+ Add” (Insert key) or start from a template."


class _ComboDelegate(QStyledItemDelegate):
    """A combo box editor; picking an item commits at once (no extra Enter needed)."""

    def __init__(
        self, items: list[str], *, editable: bool, tips: Mapping[str, str] | None = None, parent=None
    ):
        super().__init__(parent)
        self.items, self.editable, self.tips = items, editable, tips or {}

    def createEditor(
        self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QWidget:
        combo = QComboBox(parent)
        combo.setEditable(self.editable)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for i, item in enumerate(self.items):
            combo.addItem(item)
            if item in self.tips:
                combo.setItemData(i, self.tips[item], Qt.ItemDataRole.ToolTipRole)
        combo.activated.connect(lambda _i, c=combo: self._commit(c))
        return combo

    def _commit(self, combo: QComboBox) -> None:
        self.commitData.emit(combo)
        self.closeEditor.emit(combo)

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        assert isinstance(editor, QComboBox)
        text = str(index.data(Qt.ItemDataRole.EditRole) or "")
        pos = editor.findText(text)
        if pos >= 0:
            editor.setCurrentIndex(pos)
        if self.editable:
            editor.setEditText(text)

    def setModelData(
        self, editor: QWidget, model: QAbstractItemModel, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)


class _SpaceView(QTableView):
    """A table that says what to do when it is empty, and gives spare width to the choices column."""

    _fitting = False

    def fit_columns(self) -> None:
        header = self.horizontalHeader()
        values = FIELDS.index("values")
        others = sum(header.sectionSize(c) for c in range(len(FIELDS)) if c != values)
        if not self._fitting:
            self._fitting = True
            header.resizeSection(values, max(VALUES_MIN_WIDTH, self.viewport().width() - others))
            self._fitting = False

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().placeholderText().color())
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, PLACEHOLDER)
            painter.end()


class SpaceEditor(QWidget):
    """Edit a search space as a table. ``changed`` fires after every edit, undo and redo."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, undo_stack: QUndoStack | None = None) -> None:
        super().__init__(parent)
        self._undo = undo_stack if undo_stack is not None else QUndoStack(self)
        self.model = SpaceTableModel(self._undo, self)
        self.view = _SpaceView(self)
        self.view.setModel(self.model)
        self._setup_view()
        self._setup_actions()

        self.summary = QLabel(self)
        self.summary.setObjectName("spaceSummary")
        self.general = QLabel(self)
        self.general.setObjectName("spaceProblems")
        self.general.setWordWrap(True)
        set_tone(self.general, "error")
        self.general.hide()
        self.hint = QLabel(
            "Double-click or type to edit · Insert adds · Ctrl+D duplicates · Delete removes · "
            "Alt+↑/↓ moves · hover a cell for help",
            self,
        )
        self.hint.setWordWrap(True)
        set_tone(self.hint, "muted")

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(4)
        for button in (
            self.add_button,
            self.duplicate_button,
            self.remove_button,
            self.up_button,
            self.down_button,
        ):
            bar.addWidget(button)
        bar.addSpacing(12)
        bar.addWidget(self.templates_button)
        bar.addStretch(1)
        bar.addWidget(self.summary)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.general)
        layout.addWidget(self.hint)

        self.model.contents_changed.connect(self._on_contents_changed)
        self.model.row_focus.connect(self._focus)
        self.view.selectionModel().currentChanged.connect(lambda *_: self._update_actions())
        self._update_labels()
        self._update_actions()

    # -- construction ----------------------------------------------------------------------
    def _setup_view(self) -> None:
        v = self.view
        v.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        v.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        v.setEditTriggers(self._edit_triggers())
        v.setAlternatingRowColors(False)
        v.setWordWrap(False)
        v.setCornerButtonEnabled(False)
        v.verticalHeader().setDefaultSectionSize(max(26, v.fontMetrics().height() + 12))
        v.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = v.horizontalHeader()
        header.setHighlightSections(False)
        header.setMinimumSectionSize(36)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, name in enumerate(FIELDS):
            header.resizeSection(col, _COLUMN_WIDTHS.get(name, VALUES_MIN_WIDTH))
        header.sectionResized.connect(
            lambda col, _old, _new: col != FIELDS.index("values") and v.fit_columns()
        )
        tips = {name: help_text(name) for name in ALL_PARAMS}
        self._name_delegate = _ComboDelegate(list(ALL_PARAMS), editable=True, tips=tips, parent=self)
        self._kind_delegate = _ComboDelegate(list(KINDS), editable=False, parent=self)
        v.setItemDelegateForColumn(FIELDS.index("name"), self._name_delegate)
        v.setItemDelegateForColumn(FIELDS.index("kind"), self._kind_delegate)

    @staticmethod
    def _edit_triggers() -> QAbstractItemView.EditTrigger:
        t = QAbstractItemView.EditTrigger
        return t.DoubleClicked | t.EditKeyPressed | t.AnyKeyPressed | t.SelectedClicked

    def _action(self, text: str, shortcut: QKeySequence | str, tip: str, slot: Any) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.setToolTip(
            f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
        )
        action.triggered.connect(slot)
        self.view.addAction(action)
        return action

    def _button(self, action: QAction) -> QToolButton:
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    def _setup_actions(self) -> None:
        self.add_action = self._action("+ Add", "Insert", "Add a parameter", lambda: self.add_parameter())
        self.duplicate_action = self._action(
            "Duplicate", "Ctrl+D", "Duplicate the selected rows", self.duplicate_selected
        )
        self.remove_action = self._action(
            "Remove", "Delete", "Remove the selected rows", self.remove_selected
        )
        self.up_action = self._action("▲", "Alt+Up", "Move the parameter up", lambda: self.move_current(-1))
        self.down_action = self._action(
            "▼", "Alt+Down", "Move the parameter down", lambda: self.move_current(1)
        )
        self.add_button = self._button(self.add_action)
        self.add_menu = QMenu(self)
        self.add_menu.setToolTipsVisible(True)
        self.add_menu.aboutToShow.connect(self._fill_add_menu)
        self.add_button.setMenu(self.add_menu)
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.duplicate_button = self._button(self.duplicate_action)
        self.remove_button = self._button(self.remove_action)
        self.up_button = self._button(self.up_action)
        self.down_button = self._button(self.down_action)

        self.templates_menu = QMenu(self)
        for title in TEMPLATES:
            action = self.templates_menu.addAction(title)
            action.triggered.connect(lambda _=False, t=title: self.apply_template(t))
        self.templates_button = QToolButton(self)
        self.templates_button.setText("Templates")
        self.templates_button.setToolTip(
            "Add a group of common parameters (names already present are skipped)"
        )
        self.templates_button.setMenu(self.templates_menu)
        self.templates_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)

    def _fill_add_menu(self) -> None:
        self.add_menu.clear()
        present = self.model.names()
        for name in ALL_PARAMS:
            action = self.add_menu.addAction(name)
            action.setToolTip(help_text(name))
            action.setEnabled(name not in present)
            action.triggered.connect(lambda _=False, n=name: self.add_parameter(n))
        self.add_menu.addSeparator()
        other = self.add_menu.addAction("Other name…")
        other.triggered.connect(lambda: self.add_parameter("", edit=True))

    # -- public API ------------------------------------------------------------------------
    @property
    def undo_stack(self) -> QUndoStack:
        return self._undo

    def set_space(self, d: Mapping[str, Any]) -> None:
        """Show the space given in plain dict form; clears the undo history."""
        self.model.set_rows(rows_from_space(d or {}))
        self._undo.clear()

    def space_dict(self) -> dict[str, dict[str, Any]]:
        """The space in plain dict form, as typed (it may be invalid: see :meth:`problems`)."""
        return {name: dict(d) for name, d in self.model.check.space.items()}

    def problems(self) -> list[str]:
        """Every problem, in plain words naming the parameter; [] when the space is valid."""
        return list(self.model.check.problems)

    def set_read_only(self, read_only: bool) -> None:
        self.model.set_read_only(read_only)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.NoEditTriggers if read_only else self._edit_triggers()
        )
        self.templates_button.setEnabled(not read_only)
        self._update_actions()

    def is_read_only(self) -> bool:
        return self.model.read_only

    def add_parameter(self, name: str | None = None, *, edit: bool = False) -> int:
        """Add a row after the current one (the next unused hyperparameter by default); returns it."""
        if self.model.read_only:
            return -1
        present = self.model.names()
        if name is None:
            name = next_unused_name(present) or ""
        row = suggested_row(name, present) if name else suggested_row("", present)
        row["name"] = name
        pos = self._insert_position()
        self.model.insert_rows([(pos, row)], f"Add '{name}'" if name else "Add parameter")
        if edit:
            self.view.edit(self.model.index(pos, 0))
        return pos

    def apply_template(self, title: str) -> int:
        """Add a template's rows (skipping names present) as one undoable step; returns how many."""
        if self.model.read_only:
            return 0
        rows = template_rows(title, self.model.names())
        if rows:
            start = self.model.rowCount()
            self.model.insert_rows(
                [(start + k, r) for k, r in enumerate(rows)], f"Template: {title.split(' (')[0]}"
            )
        return len(rows)

    def selected_rows(self) -> list[int]:
        rows = {i.row() for i in self.view.selectionModel().selectedIndexes()}
        current = self.view.currentIndex()
        if not rows and current.isValid():
            rows = {current.row()}
        return sorted(rows)

    def duplicate_selected(self) -> None:
        if not self.model.read_only and self.selected_rows():
            self.model.duplicate_rows(self.selected_rows())

    def remove_selected(self) -> None:
        if not self.model.read_only:
            self.model.remove_rows(self.selected_rows())

    def move_current(self, delta: int) -> None:
        current = self.view.currentIndex()
        if not self.model.read_only and current.isValid():
            self.model.move_row(current.row(), delta)

    # -- reactions -------------------------------------------------------------------------
    def _insert_position(self) -> int:
        current = self.view.currentIndex()
        return current.row() + 1 if current.isValid() else self.model.rowCount()

    def _focus(self, row: int, column: int) -> None:
        if 0 <= row < self.model.rowCount():
            index = self.model.index(row, column)
            self.view.setCurrentIndex(index)
            self.view.scrollTo(index)

    def _on_contents_changed(self) -> None:
        self._update_labels()
        self._update_actions()
        self.changed.emit()

    def _update_labels(self) -> None:
        check = self.model.check
        n = self.model.rowCount()
        bad = len({r for r, _ in check.cells})
        text = f"{n} parameter{'s' if n != 1 else ''}"
        if bad:
            text += f" · {bad} with problems"
        self.summary.setText(text)
        general = [p for p in check.general if n or "no parameters" not in p]
        self.general.setText("\n".join(f"⚠ {p}" for p in general))
        self.general.setVisible(bool(general))

    def _update_actions(self) -> None:
        editable = not self.model.read_only
        has_rows = self.model.rowCount() > 0
        current = self.view.currentIndex()
        self.add_action.setEnabled(editable)
        self.add_button.setEnabled(editable)
        self.duplicate_action.setEnabled(editable and has_rows)
        self.remove_action.setEnabled(editable and has_rows)
        self.up_action.setEnabled(editable and current.isValid() and current.row() > 0)
        self.down_action.setEnabled(
            editable and current.isValid() and current.row() < self.model.rowCount() - 1
        )
