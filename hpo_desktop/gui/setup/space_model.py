"""The search-space table model: one row dict per parameter, every change an undoable command.

The view edits through :meth:`SpaceTableModel.setData`, which pushes a command onto the undo
stack instead of changing the row itself; the commands call the model's private mutators. After
every change the whole table is checked again (:func:`~.space_rows.check_rows`, a few
milliseconds for a realistic space) so that marks and tooltips never lag behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QApplication, QStyle

from hpo_desktop.training.params import ALL_PARAMS

from .space_rows import FIELDS, KINDS, RowCheck, applies, check_rows, format_scalar, parse_choices
from .space_templates import SUGGESTED, help_text, suggested_row

HEADERS: dict[str, tuple[str, str]] = {
    "name": ("Name", "The trainer hyperparameter this row searches (hover a name for its meaning)"),
    "kind": (
        "Type",
        "float: a real range · int: a whole-number range · categorical: a list · fixed: one value",
    ),
    "low": ("Low", "Smallest value (included)"),
    "high": ("High", "Largest value (included)"),
    "log": ("Log", "Search on a log scale: for values spanning decades, like a learning rate"),
    "step": (
        "Step",
        "Only multiples of this step from Low (optional; a grid needs a step or points for floats)",
    ),
    "points": ("Points", "Number of evenly spaced grid points (optional; for grid search)"),
    "values": (
        "Choices / value",
        'Categorical: the choices, comma-separated (32, 64 · relu, tanh · true, false; quote "32" for text)\n'
        "Fixed: the one value",
    ),
    "condition": (
        "Active when",
        "Only search this parameter when a categorical parent has one of these values,\n"
        "e.g.  optimizer = sgd  or  optimizer in sgd, rmsprop",
    ),
}
ERROR_TINT = QColor(220, 53, 69, 72)
UNUSED_TINT = QColor(128, 128, 128, 30)
_RIGHT = {"low", "high", "step", "points"}
_ROLE = Qt.ItemDataRole


def _checked(value: Any) -> bool:
    raw = getattr(value, "value", value)
    try:
        return int(raw) == Qt.CheckState.Checked.value
    except (TypeError, ValueError):
        return bool(value)


class SpaceTableModel(QAbstractTableModel):
    """Rows of cell text; see :mod:`.space_rows` for the row format."""

    contents_changed = Signal()
    #: (row, column) worth selecting after a change, so undo shows what it touched
    row_focus = Signal(int, int)

    def __init__(self, undo_stack: QUndoStack, parent: Any = None) -> None:
        super().__init__(parent)
        self.undo_stack = undo_stack
        self.read_only = False
        self._rows: list[dict[str, Any]] = []
        self._trainer = "builtin"
        self._check: RowCheck = check_rows([])

    # -- reading ---------------------------------------------------------------------------
    @property
    def check(self) -> RowCheck:
        return self._check

    def rows(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._rows]

    def row(self, i: int) -> dict[str, Any]:
        return dict(self._rows[i])

    def names(self) -> set[str]:
        return {str(r["name"]) for r in self._rows}

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(FIELDS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _ROLE.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(FIELDS):
            title, tip = HEADERS[FIELDS[section]]
            if role == _ROLE.DisplayRole:
                return title
            if role == _ROLE.ToolTipRole:
                return tip
        elif orientation == Qt.Orientation.Vertical and role == _ROLE.DisplayRole:
            return str(section + 1)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _ROLE.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        field = FIELDS[index.column()]
        used = applies(row, field)
        error = self._check.cells.get((index.row(), field))
        if role in (_ROLE.DisplayRole, _ROLE.EditRole):
            if field == "log" or not used:
                return None if role == _ROLE.DisplayRole else ""
            return row[field]
        if role == _ROLE.CheckStateRole and field == "log" and used:
            return Qt.CheckState.Checked if row["log"] else Qt.CheckState.Unchecked
        if role == _ROLE.BackgroundRole:
            if error:
                return QBrush(ERROR_TINT)
            if not used:
                return QBrush(UNUSED_TINT)
            return None
        if role == _ROLE.ToolTipRole:
            return self._tooltip(index.row(), field, error, used)
        if role == _ROLE.DecorationRole and field == "name" and self._check.row_messages(index.row()):
            return QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        if role == _ROLE.TextAlignmentRole:
            if field in _RIGHT:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _tooltip(self, i: int, field: str, error: str | None, used: bool) -> str | None:
        row = self._rows[i]
        parts = [error] if error else []
        if field == "name":
            name = str(row["name"])
            about = help_text(name)
            if about:
                parts.append(about)
            if error and "hyperparameter of the built-in trainer" in error:
                parts.append("Known hyperparameters:\n" + "\n".join(f"  {help_text(n)}" for n in ALL_PARAMS))
        elif not used:
            parts.append(f"not used by a {row['kind']} parameter")
        elif not error:
            parts.append(HEADERS[field][1])
        return "\n".join(parts) if parts else None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        field = FIELDS[index.column()]
        if self.read_only or not applies(self._rows[index.row()], field):
            return base
        if field == "log":
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base | Qt.ItemFlag.ItemIsEditable

    # -- editing (through the undo stack) ----------------------------------------------------
    def setData(
        self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = _ROLE.EditRole
    ) -> bool:
        if not index.isValid() or self.read_only:
            return False
        i, field = index.row(), FIELDS[index.column()]
        old = self._rows[i]
        if field == "log" and role == _ROLE.CheckStateRole:
            new = {**old, "log": _checked(value)}
        elif role == _ROLE.EditRole and field != "log":
            text = "" if value is None else str(value)
            if field == "kind":
                new = self._with_kind(old, text)
            elif field == "name":
                new = self._with_name(old, text.strip())
            else:
                new = {**old, field: text}
        else:
            return False
        if new == old:
            return False
        what = HEADERS[field][0].lower()
        self.edit_row(i, new, f"Change {what} of '{old['name'] or f'row {i + 1}'}'", column=index.column())
        return True

    def _with_kind(self, old: dict[str, Any], kind: str) -> dict[str, Any]:
        """Switch kind, carrying over what makes sense (a choice list becomes a fixed value, …)."""
        if kind not in KINDS or kind == old["kind"]:
            return old
        new = {**old, "kind": kind}
        hint = SUGGESTED.get(str(old["name"]), {})
        if kind in ("float", "int") and not (old["low"] or old["high"]):
            numeric_hint = hint.get("kind") in ("float", "int")
            new["low"] = hint["low"] if numeric_hint else "0"
            new["high"] = hint["high"] if numeric_hint else "1"
        elif kind == "categorical" and not old["values"].strip():
            if hint.get("kind") == "categorical":
                new["values"] = hint["values"]
            elif old["low"] and old["high"]:
                new["values"] = f"{old['low']}, {old['high']}"
        elif kind == "fixed" and old["kind"] == "categorical":
            choices, _ = parse_choices(old["values"])
            if len(choices) > 1:
                new["values"] = format_scalar(choices[0])
        elif kind == "fixed" and not old["values"].strip() and old["low"]:
            new["values"] = old["low"]
        return new

    def _with_name(self, old: dict[str, Any], name: str) -> dict[str, Any]:
        """Rename; a row still holding the suggested range of its old name takes the new name's."""
        old_name = str(old["name"])
        untouched = old_name in SUGGESTED and {**old, "condition": ""} == {
            **SUGGESTED[old_name],
            "condition": "",
        }
        if untouched and name in SUGGESTED:
            return {**suggested_row(name, self.names()), "name": name}
        return {**old, "name": name}

    def edit_row(self, i: int, new: Mapping[str, Any], text: str, column: int = 0) -> None:
        self.undo_stack.push(_EditRow(self, i, dict(self._rows[i]), dict(new), text, column))

    def insert_rows(self, placed: Iterable[tuple[int, Mapping[str, Any]]], text: str) -> None:
        """Insert rows at their final positions (ascending), as one undoable step."""
        placed = [(pos, dict(r)) for pos, r in placed]
        if placed:
            self.undo_stack.push(_InsertRows(self, placed, text))

    def remove_rows(self, indices: Iterable[int]) -> None:
        indices = sorted({i for i in indices if 0 <= i < len(self._rows)})
        if not indices:
            return
        names = [str(self._rows[i]["name"]) or f"row {i + 1}" for i in indices]
        text = f"Remove '{names[0]}'" if len(names) == 1 else f"Remove {len(names)} parameters"
        self.undo_stack.push(_RemoveRows(self, [(i, dict(self._rows[i])) for i in indices], text))

    def duplicate_rows(self, indices: Iterable[int]) -> list[int]:
        """Copy each row right below itself; returns the copies' positions."""
        indices = sorted({i for i in indices if 0 <= i < len(self._rows)})
        taken = self.names()
        placed = []
        for k, i in enumerate(indices):
            copy = dict(self._rows[i])
            base = f"{copy['name']}_copy"
            name, n = base, 2
            while name in taken:
                name, n = f"{base}{n}", n + 1
            taken.add(name)
            copy["name"] = name
            placed.append((i + 1 + k, copy))
        text = "Duplicate parameter" if len(placed) == 1 else f"Duplicate {len(placed)} parameters"
        self.insert_rows(placed, text)
        return [pos for pos, _ in placed]

    def move_row(self, i: int, delta: int) -> int:
        """Move row ``i`` by ``delta`` places (clamped); returns where it ends up."""
        j = max(0, min(len(self._rows) - 1, i + delta))
        if 0 <= i < len(self._rows) and j != i:
            name = self._rows[i]["name"] or f"row {i + 1}"
            self.undo_stack.push(_MoveRow(self, i, j, f"Move '{name}' {'up' if j < i else 'down'}"))
        return j

    # -- mutators used by the commands (and by set_rows) -----------------------------------
    def set_rows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Replace every row without an undo entry (loading a study)."""
        self.beginResetModel()
        self._rows = [dict(r) for r in rows]
        self.endResetModel()
        self._changed()

    def set_read_only(self, read_only: bool) -> None:
        self.read_only = read_only
        self._changed(emit=False)

    def _replace(self, i: int, row: dict[str, Any], column: int) -> None:
        self._rows[i] = dict(row)
        self._changed()
        self.row_focus.emit(i, column)

    def _insert(self, placed: list[tuple[int, dict[str, Any]]]) -> None:
        for pos, row in placed:
            self.beginInsertRows(QModelIndex(), pos, pos)
            self._rows.insert(pos, dict(row))
            self.endInsertRows()
        self._changed()
        self.row_focus.emit(placed[-1][0], 0)

    def _remove(self, positions: list[int]) -> None:
        for pos in sorted(positions, reverse=True):
            self.beginRemoveRows(QModelIndex(), pos, pos)
            del self._rows[pos]
            self.endRemoveRows()
        self._changed()
        if self._rows:
            self.row_focus.emit(min(min(positions), len(self._rows) - 1), 0)

    def _move(self, src: int, dst: int) -> None:
        self.beginMoveRows(QModelIndex(), src, src, QModelIndex(), dst + 1 if dst > src else dst)
        self._rows.insert(dst, self._rows.pop(src))
        self.endMoveRows()
        self._changed()
        self.row_focus.emit(dst, 0)

    def set_trainer(self, trainer: str) -> None:
        """Whose names and values the space is checked against (see space_rows.TRAINER_MODES)."""
        if trainer != self._trainer:
            self._trainer = trainer
            self._changed()

    def _changed(self, emit: bool = True) -> None:
        self._check = check_rows(self._rows, self._trainer)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(FIELDS) - 1))
        if emit:
            self.contents_changed.emit()


class _EditRow(QUndoCommand):
    def __init__(self, model: SpaceTableModel, i: int, old: dict, new: dict, text: str, column: int) -> None:
        super().__init__(text)
        self.model, self.i, self.old, self.new, self.column = model, i, old, new, column

    def redo(self) -> None:
        self.model._replace(self.i, self.new, self.column)

    def undo(self) -> None:
        self.model._replace(self.i, self.old, self.column)


class _InsertRows(QUndoCommand):
    def __init__(self, model: SpaceTableModel, placed: list[tuple[int, dict]], text: str) -> None:
        super().__init__(text)
        self.model, self.placed = model, placed

    def redo(self) -> None:
        self.model._insert(self.placed)

    def undo(self) -> None:
        self.model._remove([pos for pos, _ in self.placed])


class _RemoveRows(QUndoCommand):
    def __init__(self, model: SpaceTableModel, removed: list[tuple[int, dict]], text: str) -> None:
        super().__init__(text)
        self.model, self.removed = model, removed

    def redo(self) -> None:
        self.model._remove([pos for pos, _ in self.removed])

    def undo(self) -> None:
        self.model._insert(self.removed)


class _MoveRow(QUndoCommand):
    def __init__(self, model: SpaceTableModel, src: int, dst: int, text: str) -> None:
        super().__init__(text)
        self.model, self.src, self.dst = model, src, dst

    def redo(self) -> None:
        self.model._move(self.src, self.dst)

    def undo(self) -> None:
        self.model._move(self.dst, self.src)
