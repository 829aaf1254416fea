"""The rows of the search-space table: cell text in, plain space dict and located problems out.

A row is a plain dict of cell texts (``name``, ``kind``, ``low``, ``high``, ``step``, ``points``,
``values``, ``condition``) plus ``log`` (a bool). Text is kept exactly as typed so that a bad
cell stays visible and can be marked; :func:`check_rows` parses every row, runs the core
validator and the built-in trainer's checks, and says which cell each problem belongs to.
Qt-free, so the rules are testable without a widget.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hpo_desktop.core.space import SearchSpace, SpaceError, param_from_dict
from hpo_desktop.training.params import ALL_PARAMS, ModelConfigError, check_value

FIELDS = ("name", "kind", "low", "high", "log", "step", "points", "values", "condition")
KINDS = ("float", "int", "categorical", "fixed")
_NUMERIC = frozenset({"low", "high", "log", "step", "points"})
#: The cells that mean something for each kind (name, kind and condition always do).
APPLIES: dict[str, frozenset[str]] = {
    "float": _NUMERIC,
    "int": _NUMERIC,
    "categorical": frozenset({"values"}),
    "fixed": frozenset({"values"}),
}
#: Core ``Problem.field`` -> table cell.
_CORE_FIELD = {
    "low": "low",
    "high": "high",
    "log": "log",
    "step": "step",
    "grid_points": "points",
    "choices": "values",
    "value": "values",
    "when": "condition",
    "name": "name",
    "type": "kind",
}
CONDITION_HINT = "write it like  optimizer = sgd  or  optimizer in sgd, rmsprop"

_INT_RE = re.compile(r"[+-]?\d+")
_FLOAT_RE = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")


class CellError(ValueError):
    """A cell whose text cannot be read (the message says why, without naming the parameter)."""


def new_row(name: str = "", kind: str = "float", **cells: Any) -> dict[str, Any]:
    """A row with every cell present; ``cells`` override the empty defaults."""
    row: dict[str, Any] = {f: "" for f in FIELDS}
    row.update(name=name, kind=kind, log=False)
    row.update(cells)
    return row


def applies(row: Mapping[str, Any], field_name: str) -> bool:
    """Whether a cell means something for the row's kind."""
    if field_name in ("name", "kind", "condition"):
        return True
    return field_name in APPLIES.get(row.get("kind", ""), frozenset())


# -- formatting: plain values -> cell text -----------------------------------------------------


def format_number(value: Any) -> str:
    """Numbers as short, exact text: 1e-6 rather than 1e-06, 0.5 rather than 0.50000."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    text = repr(value)
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + ("-" if m.group(1) == "-" else "") + m.group(2), text)


def format_scalar(value: Any) -> str:
    """One choice or fixed value; text that would read back as something else is quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return format_number(value)
    text = str(value)
    plain = (
        text
        and text == text.strip()
        and not any(c in text for c in ',"\\')
        and isinstance(parse_scalar(text), str)
        and not re.search(r"\s(and|in)\s|;", text)
    )
    if plain:
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_choices(values: Any) -> str:
    if not isinstance(values, (list, tuple)):
        return format_scalar(values)
    return ", ".join(format_scalar(v) for v in values)


def format_condition(when: Mapping[str, Any] | None) -> str:
    if not when:
        return ""
    parts = []
    for parent, values in when.items():
        if isinstance(values, (list, tuple)) and len(values) != 1:
            parts.append(f"{parent} in {format_choices(values)}")
        else:
            one = values[0] if isinstance(values, (list, tuple)) else values
            parts.append(f"{parent} = {format_scalar(one)}")
    return " and ".join(parts)


def row_from_param(name: str, d: Mapping[str, Any]) -> dict[str, Any]:
    """A row from one parameter's plain-dict form (``{"type": "float", "low": ...}``)."""
    if not isinstance(d, Mapping):
        return new_row(str(name))
    kind = d.get("type", "float")
    row = new_row(str(name), kind if kind in KINDS else "float")
    if kind in ("float", "int"):
        row.update(
            low=format_number(d.get("low")),
            high=format_number(d.get("high")),
            log=bool(d.get("log", False)),
            step=format_number(d.get("step")),
            points=format_number(d.get("grid_points")),
        )
    elif kind == "categorical":
        row["values"] = format_choices(d.get("choices", []))
    elif kind == "fixed":
        row["values"] = format_scalar(d.get("value", ""))
    row["condition"] = format_condition(d.get("when"))
    return row


def rows_from_space(space: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [row_from_param(name, d) for name, d in space.items()]


# -- parsing: cell text -> plain values --------------------------------------------------------


def parse_number(text: str, *, integer: bool) -> int | float:
    text = text.strip().replace("_", "")
    if not text:
        raise CellError("is empty")
    if _INT_RE.fullmatch(text):
        return int(text) if integer else float(int(text))
    if _FLOAT_RE.fullmatch(text) or text.lower().lstrip("+-") in ("inf", "infinity", "nan"):
        value = float(text)
        return int(value) if integer and math.isfinite(value) and value.is_integer() else value
    raise CellError(f"{text!r} is not a number")


def parse_scalar(token: str, quoted: bool = False) -> Any:
    """``32`` -> 32, ``0.5`` -> 0.5, ``true`` -> True, ``relu`` or ``"32"`` -> a string."""
    if quoted:
        return token
    low = token.lower()
    if low in ("true", "false"):
        return low == "true"
    if _INT_RE.fullmatch(token):
        return int(token)
    if _FLOAT_RE.fullmatch(token):
        return float(token)
    return token


def split_list(text: str) -> list[tuple[str, bool]]:
    """Comma-separated items as (text, was_quoted); double quotes keep commas and spaces."""
    items: list[tuple[str, bool]] = []
    buf: list[str] = []
    quoted = False
    in_quotes = False
    i = 0
    while i < len(text):
        c = text[i]
        if in_quotes:
            if c == "\\" and i + 1 < len(text):
                buf.append(text[i + 1])
                i += 1
            elif c == '"':
                in_quotes = False
            else:
                buf.append(c)
        elif c == '"' and not "".join(buf).strip():
            buf, quoted, in_quotes = [], True, True
        elif c == ",":
            items.append(("".join(buf) if quoted else "".join(buf).strip(), quoted))
            buf, quoted = [], False
        elif not (quoted and c.isspace()):
            if quoted:
                raise CellError("text after a closing quote; separate the items with commas")
            buf.append(c)
        i += 1
    if in_quotes:
        raise CellError("a quote is not closed")
    items.append(("".join(buf) if quoted else "".join(buf).strip(), quoted))
    return items


def parse_choices(text: str) -> tuple[list[Any], str | None]:
    """The choices that can be read, and a message about the rest (None when all are fine)."""
    if not text.strip():
        return [], "add the choices, separated by commas (e.g. 32, 64, 128 or relu, tanh)"
    try:
        items = split_list(text)
    except CellError as exc:
        return [], str(exc)
    values = [parse_scalar(t, q) for t, q in items if t or q]
    empty = [i + 1 for i, (t, q) in enumerate(items) if not t and not q]
    if empty:
        return values, f"choice {empty[0]} is empty (two commas in a row, or a trailing comma?)"
    return values, None


def parse_value(text: str) -> Any:
    """A fixed value: one scalar, read like a choice."""
    items = split_list(text)
    if len(items) != 1 or not (items[0][0] or items[0][1]):
        raise CellError("a fixed parameter takes exactly one value" if len(items) > 1 else "is empty")
    return parse_scalar(*items[0])


def parse_condition(text: str) -> dict[str, Any] | None:
    """``optimizer = sgd`` / ``optimizer in sgd, rmsprop`` (clauses joined by ``and``) -> a when table."""
    if not text.strip():
        return None
    when: dict[str, Any] = {}
    for clause in re.split(r"\s+and\s+|;", text.strip()):
        m = re.fullmatch(r"\s*([^\s=]+?)\s*(?:={1,2}|\s+in\s+)\s*(.*?)\s*", clause)
        if not m or not m.group(2):
            raise CellError(f"cannot read {clause.strip()!r}; {CONDITION_HINT}")
        parent, rest = m.group(1), m.group(2)
        values = [parse_scalar(t, q) for t, q in split_list(rest)]
        if parent in when:
            raise CellError(f"'{parent}' appears twice; list its values once: {parent} in a, b")
        when[parent] = values[0] if len(values) == 1 else values
    return when


def param_dict(row: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The row's plain parameter dict, and the cells that could not be read (field -> why).

    An unreadable number stays as its text (so the dict shows what was typed); an unreadable
    condition is left out; an unreadable choice list keeps the choices that could be read.
    """
    kind = row.get("kind", "")
    errors: dict[str, str] = {}
    d: dict[str, Any] = {"type": kind}
    if kind in ("float", "int"):
        integer = kind == "int"
        for key, cell, required in (
            ("low", "low", True),
            ("high", "high", True),
            ("step", "step", False),
            ("grid_points", "points", False),
        ):
            text = str(row.get(cell, "")).strip()
            if not text and not required:
                continue
            try:
                value = parse_number(text, integer=integer or key == "grid_points")
            except CellError as exc:
                errors[cell] = f"{'grid points' if cell == 'points' else cell} {exc}"
                value = text
            else:
                if key == "grid_points" and isinstance(value, float):
                    errors[cell] = f"grid points must be a whole number, got {text}"
            d[key] = value
        if row.get("log"):
            d["log"] = True
    elif kind == "categorical":
        choices, why = parse_choices(str(row.get("values", "")))
        if why:
            errors["values"] = why
        d["choices"] = choices
    elif kind == "fixed":
        try:
            d["value"] = parse_value(str(row.get("values", "")))
        except CellError as exc:
            errors["values"] = f"value {exc}" if str(exc) == "is empty" else str(exc)
            d["value"] = str(row.get("values", ""))
    else:
        errors["kind"] = f"type must be one of {', '.join(KINDS)}"
    try:
        when = parse_condition(str(row.get("condition", "")))
    except CellError as exc:
        errors["condition"] = str(exc)
    else:
        if when:
            d["when"] = when
    return d, errors


# -- checking a whole table --------------------------------------------------------------------


@dataclass
class RowCheck:
    """What :func:`check_rows` found: the plain space, problems per cell, and every problem in words."""

    space: dict[str, dict[str, Any]]
    cells: dict[tuple[int, str], str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    general: list[str] = field(default_factory=list)  # problems of the space as a whole

    def row_messages(self, row: int) -> list[str]:
        return [msg for (r, _f), msg in self.cells.items() if r == row]


def label_of(name: str, index: int) -> str:
    return f"parameter '{name}'" if name.strip() else f"row {index + 1}"


def unknown_name_message(name: str) -> str:
    close = difflib.get_close_matches(name, list(ALL_PARAMS), n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(ALL_PARAMS)})"
    return f"not a hyperparameter of the built-in trainer{hint}"


#: Which trainer checks the names and values of a space: the built-in networks (every name must
#: be one of their hyperparameters), a [model] script (our trainer's names are checked, other names
#: are the script's own), or an [objective] script (its own names only: nothing of ours to check).
TRAINER_MODES = ("builtin", "model-script", "objective-script")


def check_rows(rows: list[Mapping[str, Any]], trainer: str = "builtin") -> RowCheck:
    """Parse every row, run the core validator and the trainer's checks, locate every problem."""
    result = RowCheck(space={})
    owner: dict[str, int] = {}  # name -> first row using it
    parse_errors: dict[int, dict[str, str]] = {}

    def mark(i: int, cell: str, message: str) -> None:
        if (i, cell) not in result.cells:  # the first reason per cell is the one shown
            result.cells[(i, cell)] = message

    for i, row in enumerate(rows):
        name = str(row.get("name", ""))
        d, errors = param_dict(row)
        parse_errors[i] = errors
        for cell, msg in errors.items():
            mark(i, cell, msg)
        if not name.strip():
            mark(i, "name", "a parameter needs a name")
        elif name in owner:
            mark(i, "name", f"the name '{name}' is already used in row {owner[name] + 1}")
        else:
            owner[name] = i
            result.space[name] = d

    params = {}
    for name, d in result.space.items():
        i = owner[name]
        try:
            params[name] = param_from_dict(name, d)
        except SpaceError as exc:  # only for shapes the table cannot produce; kept for safety
            for p in exc.problems:
                mark(i, _CORE_FIELD.get(p.field or "", "name"), p.message)
    for p in SearchSpace(params, validate=False).problems():
        if p.param is None or p.param not in owner:
            result.general.append(str(p))
            continue
        i = owner[p.param]
        cell = _CORE_FIELD.get(p.field or "", "name")
        if cell in parse_errors[i]:
            continue  # the cell's own reading error says it better
        mark(i, cell, p.message)

    for name, i in owner.items():
        if any(r == i for r, _ in result.cells):
            continue
        if trainer == "objective-script" or (trainer == "model-script" and name not in ALL_PARAMS):
            continue
        _check_trainer(name, rows[i], params.get(name), lambda cell, msg, i=i: mark(i, cell, msg))

    for i, row in enumerate(rows):
        label = label_of(str(row.get("name", "")), i)
        for cell in FIELDS:
            if (i, cell) in result.cells:
                result.problems.append(f"{label}: {result.cells[(i, cell)]}")
    result.problems.extend(result.general)
    return result


def _check_trainer(name: str, row: Mapping[str, Any], param: Any, mark: Any) -> None:
    """The built-in trainer's view: is the name a hyperparameter, and can it take these values?"""
    spec = ALL_PARAMS.get(name)
    if spec is None:
        mark("name", unknown_name_message(name))
        return
    kind = row.get("kind")
    if kind in ("float", "int") and spec.kind in ("choice", "bool"):
        allowed = ", ".join(spec.choices) if spec.kind == "choice" else "true, false"
        mark("kind", f"'{name}' takes one of {allowed}: make it categorical")
        return
    if kind == "float" and spec.kind == "int":
        mark("kind", f"'{name}' takes whole numbers: make it int (or categorical)")
        return
    if param is None:
        return
    if kind in ("float", "int"):
        cells = [("low", param.low), ("high", param.high)]
    elif kind == "categorical":
        cells = [("values", v) for v in param.choices]
    else:
        cells = [("values", param.value)]
    for cell, value in cells:
        try:
            check_value(name, value, spec, where="parameter")
        except ModelConfigError as exc:
            why = str(exc).split(": ", 1)[-1]
            if not why.startswith("'"):
                subject = cell if cell != "values" else ("value" if kind == "fixed" else "a choice")
                why = f"{subject}: {why}" if why.startswith("expected") else f"{subject} {why}"
            mark(cell, f"{why} (for the built-in trainer)")
            return
