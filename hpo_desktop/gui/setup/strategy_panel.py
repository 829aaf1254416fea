"""StrategyPanel: pick a search strategy, set its options, and see the grid's size as you edit.

The combo box and the option form are generated from the strategy registry
(:data:`hpo_desktop.core.strategies.STRATEGIES`: ``label``, ``help``, ``options_schema``), so a
new strategy shows up here without touching this file; the tables below only add nicer labels.
Below it, the pruning section (:class:`PrunerSection`) does the same from the pruner registry
(:data:`hpo_desktop.core.pruners.PRUNERS`): a combo, a one-line explanation and the options of
the chosen pruner; it becomes the spec's ``[pruner]`` table.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hpo_desktop.core.pruners import PRUNERS, PrunerError
from hpo_desktop.core.space import GridTooLarge, SearchSpace, SpaceError
from hpo_desktop.core.strategies import STRATEGIES, StrategyError
from hpo_desktop.core.strategies.bayesian import ACQUISITIONS, ESTIMATORS, INITIAL_DESIGNS, LIARS
from hpo_desktop.core.strategies.random import DESIGNS

from .look import set_tone, shrinkable

#: The trade-off in one sentence, shown above each strategy's own help.
TRADE_OFFS = {
    "grid": "Exhaustive but expensive: every combination once, and the count multiplies with each parameter.",
    "random": "Cheap and broad: independent draws, easy to scale to many parameters; a strong baseline.",
    "bayesian": "Learns as it goes: a model of past results picks each next trial, so it usually needs "
    "fewer trials on smooth problems.",
}
#: Allowed values of string options, with a short explanation for the menu.
OPTION_CHOICES: dict[tuple[str, str], dict[str, str]] = {
    ("bayesian", "estimator"): dict.fromkeys(ESTIMATORS, "")
    | {"GP": "Gaussian process", "RF": "random forest", "ET": "extra trees"},
    ("bayesian", "acquisition"): dict.fromkeys(ACQUISITIONS, "")
    | {
        "EI": "expected improvement",
        "PI": "probability of improvement",
        "LCB": "lower confidence bound",
        "gp_hedge": "all three, hedged",
    },
    ("bayesian", "initial_design"): dict.fromkeys(INITIAL_DESIGNS, "")
    | {"sobol": "Sobol' sequence", "lhs": "Latin hypercube", "halton": "Halton sequence"},
    ("bayesian", "liar"): dict.fromkeys(LIARS, ""),
    ("random", "design"): dict.fromkeys(DESIGNS, "") | {"sobol": "Sobol' sequence", "lhs": "Latin hypercube"},
}
OPTION_MINIMUM: dict[tuple[str, str], int] = {
    ("bayesian", "initial_points"): 0,
    ("bayesian", "n_candidates"): 10,
    ("random", "design_size"): 1,
    ("grid", "limit"): 1,
}
#: Options that only matter for some settings of the others (greyed out otherwise).
RELEVANT: dict[tuple[str, str], Callable[[Mapping[str, Any]], bool]] = {
    ("bayesian", "xi"): lambda o: o.get("acquisition") in ("EI", "PI", "gp_hedge"),
    ("bayesian", "kappa"): lambda o: o.get("acquisition") in ("LCB", "gp_hedge"),
    ("random", "design_size"): lambda o: o.get("design") == "lhs",
}
OPTION_LABELS: dict[str, str] = {
    "n_candidates": "Candidates per pick",
    "initial_points": "Initial points",
    "xi": "ξ (xi)",
    "kappa": "κ (kappa)",
    "liar": "Pending points as",
    "limit": "Largest grid",
    "shuffle": "Shuffle order",
    # pruners
    "n_startup_trials": "Startup trials",
    "n_warmup_steps": "Warm-up epochs",
    "interval_steps": "Every n epochs",
    "n_recent_trials": "Compare with latest",
    "min_resource": "First rung (epoch)",
    "max_resource": "Epochs per trial",
    "reduction_factor": "Reduction factor",
    "min_early_stopping_rate": "Skip rungs",
    "patience": "Patience (epochs)",
    "min_delta": "Min. improvement",
    "threshold": "Threshold",
}
#: Smallest values of the pruners' integer options (the spin boxes' minimum).
PRUNER_MINIMUM: dict[tuple[str, str], int] = {
    ("median", "interval_steps"): 1,
    ("asha", "min_resource"): 1,
    ("asha", "reduction_factor"): 2,
    ("hyperband", "min_resource"): 1,
    ("hyperband", "max_resource"): 2,
    ("hyperband", "reduction_factor"): 2,
}
_INT_MAX = 2**31 - 1


def _title(option: str) -> str:
    return OPTION_LABELS.get(option) or option.replace("_", " ").capitalize()


def grid_summary(space: SearchSpace | None, limit: int) -> tuple[str, bool]:
    """The grid's size in words, and whether it is a problem for a grid search."""
    if space is None:
        return "Grid size: fix the search space first", False
    missing = [p.param for p in space.grid_problems()]
    if missing:
        return f"Grid needs a step or grid points for: {', '.join(str(m) for m in missing)}", True
    try:
        size = space.grid_size()
    except (SpaceError, GridTooLarge, ValueError) as exc:  # pragma: no cover - a valid space has a size
        return f"Grid size unknown: {exc}", True
    if size > limit:
        return f"Grid too large: {size:,} combinations (limit {limit:,})", True
    return f"Grid: {size:,} combination{'s' if size != 1 else ''}", False


def _set_field(widget: QWidget, value: Any) -> None:
    """Show ``value`` in a spin box or line edit (the strategy options and the pruner section)."""
    if isinstance(widget, QSpinBox):
        widget.setValue(int(value) if isinstance(value, (int, float)) else widget.minimum())
    elif isinstance(widget, QDoubleSpinBox):
        widget.setValue(float(value) if isinstance(value, (int, float)) else 0.0)
    elif isinstance(widget, QLineEdit):
        widget.setText("" if value is None else str(value))


def _spin_value(widget: QSpinBox | QDoubleSpinBox, given: Any) -> Any:
    """A spin box's value; the loaded ``given`` when the box only rounded it for display."""
    value = widget.value()
    if isinstance(widget, QDoubleSpinBox) and isinstance(given, (int, float)):
        if abs(value - given) < 0.5 * 10 ** -widget.decimals():
            return given
    return value


class StrategyPanel(QWidget):
    """Strategy combo, its trade-off, its options form and the live grid size."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._kind = next(iter(STRATEGIES))
        self._given: dict[str, Any] = {}  # the options loaded for the current kind (kept as given)
        self._memory: dict[str, dict[str, Any]] = {}  # options per kind, so switching back restores them
        self._widgets: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}
        self._space: SearchSpace | None = None
        self._loading = False

        self.combo = QComboBox(self)
        shrinkable(self.combo)
        for name, cls in STRATEGIES.items():
            self.combo.addItem(cls.label or name, name)
            self.combo.setItemData(self.combo.count() - 1, cls.help, Qt.ItemDataRole.ToolTipRole)
        self.help = QLabel(self)
        self.help.setWordWrap(True)
        self.help.setTextFormat(Qt.TextFormat.RichText)
        self.help.setObjectName("strategyHelp")
        self.grid_label = QLabel(self)
        self.grid_label.setObjectName("gridSize")
        self.grid_label.setWordWrap(True)
        self.problem_label = QLabel(self)
        self.problem_label.setWordWrap(True)
        set_tone(self.problem_label, "error")
        self.problem_label.hide()

        self.options_box = QGroupBox("Options", self)
        self.form = QFormLayout(self.options_box)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        top = QFormLayout()
        top.addRow("Strategy", self.combo)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.help)
        layout.addWidget(self.grid_label)
        layout.addWidget(self.options_box)
        self.pruner_section = PrunerSection(self)
        layout.addWidget(self.pruner_section)
        layout.addWidget(self.problem_label)
        layout.addStretch(1)

        self.pruner_section.changed.connect(self._on_pruner_edited)
        self.combo.currentIndexChanged.connect(self._on_kind_picked)
        self._show_kind(self._kind, {})

    # -- public API ------------------------------------------------------------------------
    def set_strategy(self, d: Mapping[str, Any]) -> None:
        """Show a strategy table (``{"kind": ..., option: value}``) without emitting ``changed``."""
        kind = str(d.get("kind", "bayesian"))
        options = {k: v for k, v in d.items() if k != "kind"}
        self._memory = {}
        self._show_kind(kind, options)

    def strategy_dict(self) -> dict[str, Any]:
        """``{"kind": ..., **options}``: options as loaded, plus those set away from their default."""
        schema = self._schema()
        out: dict[str, Any] = {"kind": self._kind}
        for key, value in self._given.items():
            if key not in schema:
                out[key] = value  # unknown to the form: passed on (the validator will name it)
        for key, (_typ, default, _help) in schema.items():
            value = self._read(key)
            given = self._given.get(key, default)
            if isinstance(value, str) and isinstance(given, str) and value.lower() == given.lower():
                value = given  # keep the spelling the file used ("gp" stays "gp")
            if key in self._given or value != default:
                out[key] = value
        return out

    def kind(self) -> str:
        return self._kind

    def set_pruner(self, d: Mapping[str, Any] | None) -> None:
        """Show a pruner table (``{"kind": ..., option: value}``; empty or None: no pruning)."""
        self.pruner_section.set_pruner(d or {})
        self._update_grid()

    def pruner_dict(self) -> dict[str, Any]:
        """The spec's ``[pruner]`` table: ``{"kind": ..., **options}`` ({"kind": "none"} for none)."""
        return self.pruner_section.pruner_dict()

    def set_space(self, space: SearchSpace | None) -> None:
        """The current (valid) space, or None while it has problems; updates the grid size."""
        self._space = space
        self._update_grid()

    def problems(self) -> list[str]:
        """Problems of the options, and of the grid when grid search is chosen."""
        out: list[str] = []
        cls = STRATEGIES.get(self._kind)
        if cls is None:
            return [f"unknown strategy '{self._kind}' (choose {', '.join(STRATEGIES)})"]
        options = {k: v for k, v in self.strategy_dict().items() if k != "kind"}
        try:
            cls.check_options(options)
        except StrategyError as exc:
            out.append(str(exc))
        if self._kind == "grid" and self._space is not None:
            text, bad = grid_summary(self._space, self._limit())
            if bad:
                out.append(text)
        out.extend(self.pruner_section.problems())
        return out

    def set_read_only(self, read_only: bool) -> None:
        self.combo.setEnabled(not read_only)
        self.options_box.setEnabled(not read_only)
        self.pruner_section.set_read_only(read_only)

    # -- building the form -----------------------------------------------------------------
    def _schema(self) -> dict[str, tuple[Any, Any, str]]:
        cls = STRATEGIES.get(self._kind)
        return dict(cls.options_schema) if cls else {}

    def _show_kind(self, kind: str, options: Mapping[str, Any]) -> None:
        self._loading = True
        try:
            self._kind = kind
            self._given = dict(options)
            pos = self.combo.findData(kind)
            if pos < 0:
                self.combo.addItem(kind, kind)
                pos = self.combo.count() - 1
            self.combo.setCurrentIndex(pos)
            cls = STRATEGIES.get(kind)
            trade = TRADE_OFFS.get(kind, "")
            body = html.escape(cls.help if cls else "This strategy is not known to this version.")
            self.help.setText(f"<b>{html.escape(trade)}</b><br>{body}" if trade else body)
            self._build_form()
        finally:
            self._loading = False
        self._update_relevance()
        self._update_grid()

    def _build_form(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self._widgets.clear()
        self._labels.clear()
        schema = self._schema()
        self.options_box.setVisible(bool(schema))
        for key, (typ, default, help_text) in schema.items():
            widget = self._make_widget(key, typ, default)
            self._write(key, widget, self._given.get(key, default))
            widget.setToolTip(help_text)
            label = QLabel(_title(key), self.options_box)
            label.setToolTip(help_text)
            self.form.addRow(label, widget)
            self._widgets[key] = widget
            self._labels[key] = label

    def _make_widget(self, key: str, typ: Any, default: Any) -> QWidget:
        types = typ if isinstance(typ, tuple) else (typ,)
        choices = OPTION_CHOICES.get((self._kind, key))
        if choices:
            combo = QComboBox(self.options_box)
            shrinkable(combo)
            for value, about in choices.items():
                combo.addItem(f"{value} — {about}" if about else value, value)
            combo.currentIndexChanged.connect(self._on_option_edited)
            return combo
        if bool in types:
            box = QCheckBox(self.options_box)
            box.toggled.connect(self._on_option_edited)
            return box
        if int in types and float not in types and str not in types:
            spin = QSpinBox(self.options_box)
            spin.setRange(OPTION_MINIMUM.get((self._kind, key), 0), _INT_MAX)
            spin.setGroupSeparatorShown(True)
            spin.valueChanged.connect(self._on_option_edited)
            return spin
        if float in types and str not in types:
            dspin = QDoubleSpinBox(self.options_box)
            dspin.setDecimals(4)
            dspin.setRange(0.0, 1e6)
            dspin.setSingleStep(0.01 if isinstance(default, float) and default < 1 else 0.1)
            dspin.valueChanged.connect(self._on_option_edited)
            return dspin
        line = QLineEdit(self.options_box)
        line.textEdited.connect(self._on_option_edited)
        return line

    def _write(self, key: str, widget: QWidget, value: Any) -> None:
        if isinstance(widget, QComboBox):
            pos = next(
                (i for i in range(widget.count()) if str(widget.itemData(i)).lower() == str(value).lower()),
                -1,
            )
            if pos < 0:  # a value the menu does not know: show it, the validator will name it
                widget.addItem(str(value), value)
                pos = widget.count() - 1
            widget.setCurrentIndex(pos)
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        else:
            _set_field(widget, value)

    def _read(self, key: str) -> Any:
        widget = self._widgets.get(key)
        if isinstance(widget, QComboBox):
            return widget.currentData()
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            return _spin_value(widget, self._given.get(key, self._schema()[key][1]))
        if isinstance(widget, QLineEdit):
            return widget.text()
        return self._given.get(key)

    # -- reactions -------------------------------------------------------------------------
    def _on_kind_picked(self, _index: int) -> None:
        if self._loading:
            return
        kind = self.combo.currentData()
        if kind == self._kind:
            return
        self._memory[self._kind] = {k: v for k, v in self.strategy_dict().items() if k != "kind"}
        self._show_kind(kind, self._memory.get(kind, {}))
        self.changed.emit()

    def _on_option_edited(self, *_args: Any) -> None:
        if self._loading:
            return
        self._update_relevance()
        self._update_grid()
        self.changed.emit()

    def _on_pruner_edited(self) -> None:
        self._update_grid()  # shows the problems
        self.changed.emit()

    def _update_relevance(self) -> None:
        options = {key: self._read(key) for key in self._widgets}
        for key, widget in self._widgets.items():
            rule = RELEVANT.get((self._kind, key))
            on = rule is None or rule(options)
            widget.setEnabled(on)
            self._labels[key].setEnabled(on)

    def _limit(self) -> int:
        if self._kind == "grid" and "limit" in self._widgets:
            value = self._read("limit")
            if isinstance(value, int) and value > 0:
                return value
        return int(STRATEGIES["grid"].options_schema["limit"][1]) if "grid" in STRATEGIES else 100_000

    def _update_grid(self) -> None:
        text, bad = grid_summary(self._space, self._limit())
        if self._kind == "grid":
            tone = "error" if bad else "muted" if self._space is None else "normal"
            set_tone(self.grid_label, tone, bold=self._space is not None)
            self.grid_label.setText(text)
        else:
            set_tone(self.grid_label, "muted")
            self.grid_label.setText(
                f"As a grid search: {text[len('Grid: ') :]}" if text.startswith("Grid: ") else ""
            )
        self.grid_label.setVisible(bool(self.grid_label.text()))
        problems = self.problems()
        self.problem_label.setText("\n".join(f"⚠ {p}" for p in problems if not p.startswith("Grid")))
        self.problem_label.setVisible(bool(self.problem_label.text()))


class PrunerSection(QGroupBox):
    """Pruning: a combo of the registered pruners, the chosen one's one-line explanation and its
    options (a form built from ``options_schema``). Emits ``changed`` on every user edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Pruning: stop bad trials early", parent)
        self.setObjectName("prunerSection")
        self._kind = "none"
        self._given: dict[str, Any] = {}
        self._memory: dict[str, dict[str, Any]] = {}
        self._widgets: dict[str, QWidget] = {}
        self._loading = False

        self.combo = QComboBox(self)
        shrinkable(self.combo)
        for name, cls in PRUNERS.items():
            self.combo.addItem(cls.label or name, name)
            self.combo.setItemData(self.combo.count() - 1, cls.help, Qt.ItemDataRole.ToolTipRole)
        self.help = QLabel(self)
        self.help.setObjectName("prunerHelp")
        self.help.setWordWrap(True)
        set_tone(self.help, "muted")
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        top = QFormLayout()
        top.addRow("Pruner", self.combo)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.help)
        lay.addLayout(self.form)
        self.combo.currentIndexChanged.connect(self._on_kind_picked)
        self._show("none", {})

    # -- public ----------------------------------------------------------------------------------
    def set_pruner(self, d: Mapping[str, Any]) -> None:
        kind = str(d.get("kind", "none")) if d else "none"
        self._memory = {}
        self._show(kind, {k: v for k, v in d.items() if k != "kind"} if d else {})

    def kind(self) -> str:
        return self._kind

    def pruner_dict(self) -> dict[str, Any]:
        """``{"kind": ..., **options}``: options as loaded, plus those set away from their default."""
        schema = self._schema()
        out: dict[str, Any] = {"kind": self._kind}
        for key, value in self._given.items():
            if key not in schema:
                out[key] = value  # unknown to the form: passed on (the validator will name it)
        for key, (_typ, default, _help) in schema.items():
            value = self._read(key)
            if key in self._given or value != default:
                out[key] = value
        return out

    def problems(self) -> list[str]:
        cls = PRUNERS.get(self._kind)
        if cls is None:
            return [f"[pruner] unknown pruner '{self._kind}' (choose {', '.join(PRUNERS)})"]
        try:
            cls.check_options({k: v for k, v in self.pruner_dict().items() if k != "kind"})
        except PrunerError as exc:
            return [f"[pruner] {exc}"]
        return []

    def set_read_only(self, read_only: bool) -> None:
        self.combo.setEnabled(not read_only)
        for w in self._widgets.values():
            w.setEnabled(not read_only)

    def option_widget(self, key: str) -> QWidget | None:
        return self._widgets.get(key)

    # -- the form ------------------------------------------------------------------------------------
    def _schema(self) -> dict[str, tuple[Any, Any, str]]:
        cls = PRUNERS.get(self._kind)
        return dict(cls.options_schema) if cls else {}

    def _show(self, kind: str, options: Mapping[str, Any]) -> None:
        self._loading = True
        try:
            self._kind, self._given = kind, dict(options)
            pos = self.combo.findData(kind)
            if pos < 0:
                self.combo.addItem(kind, kind)
                pos = self.combo.count() - 1
            self.combo.setCurrentIndex(pos)
            cls = PRUNERS.get(kind)
            self.help.setText(cls.help if cls else "This pruner is not known to this version.")
            while self.form.rowCount():
                self.form.removeRow(0)
            self._widgets.clear()
            for key, (typ, default, help_text) in self._schema().items():
                widget = self._make(key, typ, default)
                self._write(widget, self._given.get(key, default))
                widget.setToolTip(help_text)
                label = QLabel(_title(key), self)
                label.setToolTip(help_text)
                self.form.addRow(label, widget)
                self._widgets[key] = widget
        finally:
            self._loading = False

    def _make(self, key: str, typ: Any, default: Any) -> QWidget:
        types = typ if isinstance(typ, tuple) else (typ,)
        if types == (int,):
            spin = QSpinBox(self)
            spin.setRange(PRUNER_MINIMUM.get((self._kind, key), 0), _INT_MAX)
            spin.valueChanged.connect(self._on_edited)
            return spin
        if types == (float,):
            dspin = QDoubleSpinBox(self)
            dspin.setDecimals(4)
            dspin.setRange(0.0, 100.0 if key == "percentile" else 1e6)
            dspin.setSingleStep(5.0 if key == "percentile" else 0.001)
            dspin.valueChanged.connect(self._on_edited)
            return dspin
        line = QLineEdit(self)  # an optional number: empty = unset
        line.setPlaceholderText("unset")
        line.textEdited.connect(self._on_edited)
        return line

    def _write(self, widget: QWidget, value: Any) -> None:
        _set_field(widget, value)

    def _read(self, key: str) -> Any:
        widget = self._widgets.get(key)
        if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            return _spin_value(widget, self._given.get(key, self._schema()[key][1]))
        if isinstance(widget, QLineEdit):
            text = widget.text().strip()
            if not text:
                return None
            try:
                return float(text)
            except ValueError:
                return text  # the validator names it
        return self._given.get(key)

    def _on_kind_picked(self, _index: int) -> None:
        if self._loading:
            return
        kind = self.combo.currentData()
        if kind == self._kind:
            return
        self._memory[self._kind] = {k: v for k, v in self.pruner_dict().items() if k != "kind"}
        self._show(kind, self._memory.get(kind, {}))
        self.changed.emit()

    def _on_edited(self, *_args: Any) -> None:
        if not self._loading:
            self.changed.emit()
