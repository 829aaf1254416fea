"""SetupPage: everything a study needs before it starts, checked as the user types.

Contract (docs/gui-contract.md): ``set_spec`` fills the page, ``spec()`` returns a validated
StudySpec (or raises SpecError), ``validity_changed(ok, reason)`` fires after every change with the
first problem in plain words, and ``undo_stack`` holds every edit: the space editor's own commands
and snapshots of the other panels (consecutive edits of one field merge into one step).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QLabel,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hpo_desktop.core.refine import in_space_count
from hpo_desktop.core.space import SearchSpace, SpaceError
from hpo_desktop.core.spec import SpecError, StudySpec, spec_from_dict
from hpo_desktop.core.strategies import STRATEGIES
from hpo_desktop.core.trial import FrozenTrial
from hpo_desktop.training.params import ModelConfigError, check_space
from hpo_desktop.training.scripts import check_script_space

from .data_panel import DataModelPanel
from .look import set_tone
from .space_editor import SpaceEditor
from .strategy_panel import StrategyPanel
from .study_group import StudyGroup
from .trainer_info import TrainerInfo, trainer_info_source

SOURCE = "study setup"
#: What a new, empty setup starts from.
NEW_STUDY: dict[str, dict[str, Any]] = {
    "study": {"name": "study", "metric": "val_loss", "direction": "minimize", "trials": 20, "seed": 0},
    "strategy": {"kind": "bayesian"},
    "data": {"dataset": "digits"},
    "model": {"kind": "mlp"},
    "space": {},
}
_MERGE_ID = 0x5E7


class _PanelsEdit(QUndoCommand):
    """A change of the study / strategy / data / model panels, as before-and-after snapshots."""

    def __init__(self, page: SetupPage, before: dict, after: dict) -> None:
        self.keys = frozenset(
            (section, key)
            for section in after
            for key in set(before[section]) | set(after[section])
            if before[section].get(key) != after[section].get(key)
        )
        names = ", ".join(sorted({k for _s, k in self.keys}))
        super().__init__(f"Change {names}" if names else "Change setup")
        self.page, self.before, self.after = page, before, after
        self._applied = True  # pushed after the widgets already show "after"

    def id(self) -> int:
        return _MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, _PanelsEdit) or other.keys != self.keys:
            return False
        self.after = other.after  # typing a name letter by letter is one step
        return True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.page._apply_panels(self.after)

    def undo(self) -> None:
        self.page._apply_panels(self.before)


class SetupPage(QWidget):
    """Study, search space, strategy, data and model on one page (see the module docstring)."""

    changed = Signal()
    validity_changed = Signal(bool, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self._objective: dict[str, Any] = {}
        self._path: Path | None = None
        self._locked = False
        self._applying = False
        self._spec: StudySpec | None = None
        self._problems: list[str] = []
        self._info: TrainerInfo | None = None
        self._asked_trainer = False
        self._panels: dict[str, dict[str, Any]] = {}
        self._parent: str | None = None
        self._parent_trials: list[FrozenTrial] = []

        self.study_group = StudyGroup(self)
        self.space_editor = SpaceEditor(self, undo_stack=self.undo_stack)
        self.strategy_panel = StrategyPanel(self)
        self.data_panel = DataModelPanel(self)

        space_box = QGroupBox("Search space", self)
        space_layout = QVBoxLayout(space_box)
        space_layout.setContentsMargins(6, 6, 6, 6)
        space_layout.addWidget(self.space_editor)

        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(False)
        self.tabs.addTab(self._scrolled(self.strategy_panel), "Strategy")
        self.tabs.addTab(self._scrolled(self.data_panel), "Data && model")

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(space_box)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([890, 380])

        self.locked_label = QLabel(
            "This study already has trials: only the trials budget can change. "
            "Save a copy as a new study to change the rest.",
            self,
        )
        self.locked_label.setWordWrap(True)
        set_tone(self.locked_label, "muted")
        self.locked_label.hide()
        # A child study made by Refine…: which study it refines and what it warm-starts from.
        self.parent_label = QLabel(self)
        self.parent_label.setObjectName("setupParent")
        self.parent_label.setWordWrap(True)
        set_tone(self.parent_label, "normal", bold=True)
        self.parent_label.hide()
        self.status_label = QLabel(self)
        self.status_label.setObjectName("setupStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 8)
        layout.setSpacing(8)
        layout.addWidget(self.locked_label)
        layout.addWidget(self.parent_label)
        layout.addWidget(self.study_group)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.status_label)

        self.study_group.changed.connect(self._on_panel_edited)
        self.strategy_panel.changed.connect(self._on_panel_edited)
        self.data_panel.changed.connect(self._on_panel_edited)
        self.data_panel.status_changed.connect(self._revalidate)
        self.space_editor.changed.connect(self._on_space_edited)

        self._load(NEW_STUDY, None)

    def _scrolled(self, widget: QWidget) -> QScrollArea:
        area = QScrollArea(self)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setWidget(widget)
        widget.setContentsMargins(8, 8, 8, 8)
        return area

    # -- the contract ----------------------------------------------------------------------
    def set_spec(self, spec: StudySpec) -> None:
        """Fill every panel from a spec; the undo history starts afresh. A study parent set
        before is forgotten (set it again with :meth:`set_parent`)."""
        self._parent, self._parent_trials = None, []
        self._load(spec.to_dict(), spec.path)

    def set_parent(self, name: str | None, trials: list[FrozenTrial] | None = None) -> None:
        """Set up a child of study ``name`` (None: no parent). ``trials`` are the parent's; the
        page says how many of them lie inside the space shown (the child's warm start)."""
        self._parent, self._parent_trials = name, list(trials or [])
        self._revalidate()

    def parent_study(self) -> str | None:
        """The study a new study set up here refines (Start creates it as that study's child)."""
        return self._parent

    def parent_trials(self) -> list[FrozenTrial]:
        return list(self._parent_trials)

    def parent_text(self) -> str:
        return self.parent_label.text() if self._parent is not None else ""

    def spec(self) -> StudySpec:
        """The validated study; raises SpecError naming the first problem."""
        if self._problems or self._spec is None:
            raise SpecError(
                self._problems[0] if self._problems else "the setup is not complete", source=SOURCE
            )
        return self._spec

    def problems(self) -> list[str]:
        return list(self._problems)

    def is_valid(self) -> bool:
        return not self._problems

    def set_locked(self, locked: bool, *, strategy_editable: bool = False) -> None:
        """Read-only space/strategy/data/model while running or once trials exist; trials stay editable.

        ``strategy_editable`` (a stopped study with trials): the strategy and the pruner may change
        between runs too - the stored trials are kept and the new strategy is rebuilt from them.
        Locking clears the undo history: undoing an edit made before the study ran would change a
        setup that trials were already run with.
        """
        self._locked = locked
        self.study_group.set_locked(locked)
        self.space_editor.set_read_only(locked)
        self.strategy_panel.set_read_only(locked and not strategy_editable)
        self.data_panel.set_read_only(locked)
        self.locked_label.setText(
            "This study already has trials: its search space, data and model are fixed. The trials "
            "budget, the strategy and the pruner can change between runs (the history is kept). "
            "Save a copy as a new study to change the rest."
            if strategy_editable
            else "This study already has trials: only the trials budget can change. "
            "Save a copy as a new study to change the rest."
        )
        self.locked_label.setVisible(locked)
        if locked:
            self.undo_stack.clear()

    def is_locked(self) -> bool:
        return self._locked

    def set_trials(self, n: int) -> None:
        self._applying = True
        try:
            self.study_group.trials_spin.setValue(int(n))
        finally:
            self._applying = False
        self._panels = self._panels_state()
        self._revalidate()

    def trials(self) -> int:
        return self.study_group.trials_spin.value()

    def set_trainer_info(self, info: TrainerInfo) -> None:
        """Use known trainer facts (metrics per task, device) instead of probing when first shown."""
        self._asked_trainer = True
        self._on_trainer_info(info)

    def document(self) -> dict[str, Any]:
        """The plain spec dict as the page shows it (may be invalid)."""
        state = self._panels_state()
        return {**state, "space": self.space_editor.space_dict()}

    # -- loading and snapshots -------------------------------------------------------------
    def _load(self, doc: dict[str, Any], path: Path | None) -> None:
        self._path = path
        # A user's own training loop: kept as it is (docs/scripts.md); [data]/[model] do not apply.
        self._objective = dict(doc.get("objective") or {})
        self.tabs.setTabEnabled(1, not self._objective)
        self.tabs.setTabToolTip(
            1,
            f"The objective script {self._objective.get('script')} loads its data and trains its model itself."
            if self._objective
            else "",
        )
        model = doc.get("model") or {}
        self.space_editor.model.set_trainer(
            "objective-script" if self._objective else "model-script" if model.get("script") else "builtin"
        )
        self._applying = True
        try:
            self.data_panel.set_base_dir(path.parent if path else Path.cwd())
            self.study_group.set_study(doc.get("study", {}))
            self.study_group.set_execution(doc.get("execution"))
            self.strategy_panel.set_strategy(doc.get("strategy", {"kind": "bayesian"}))
            self.strategy_panel.set_pruner(doc.get("pruner"))
            self.data_panel.set_sections(doc.get("data", {}), doc.get("model", {}))
            self.space_editor.set_space(doc.get("space", {}))
        finally:
            self._applying = False
        self._panels = self._panels_state()
        self.undo_stack.clear()
        self._revalidate()

    def _panels_state(self) -> dict[str, dict[str, Any]]:
        return {
            "study": self.study_group.study_dict(),
            "strategy": self.strategy_panel.strategy_dict(),
            "pruner": self.strategy_panel.pruner_dict(),
            "data": self.data_panel.data_dict(),
            "model": self.data_panel.model_dict(),
            "execution": self.study_group.execution_dict(),
        }

    def _apply_panels(self, state: dict[str, dict[str, Any]]) -> None:
        """Show a snapshot (undo/redo of a panel edit)."""
        self._applying = True
        try:
            self.study_group.set_study(state["study"])
            self.study_group.set_execution(state.get("execution"))
            self.strategy_panel.set_strategy(state["strategy"])
            self.strategy_panel.set_pruner(state.get("pruner"))
            self.data_panel.set_sections(state["data"], state["model"])
        finally:
            self._applying = False
        self._panels = self._panels_state()
        self._revalidate()
        self.changed.emit()

    # -- reactions -------------------------------------------------------------------------
    def _on_panel_edited(self) -> None:
        if self._applying:
            return
        before, after = self._panels, self._panels_state()
        if after != before:
            self._panels = after
            self.undo_stack.push(_PanelsEdit(self, before, after))
        self._revalidate()
        self.changed.emit()

    def _on_space_edited(self) -> None:
        if self._applying:
            return
        self._revalidate()
        self.changed.emit()

    def _on_trainer_info(self, info: TrainerInfo) -> None:
        self._info = info
        self.data_panel.set_trainer_info(info)  # re-validates through status_changed

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._asked_trainer:
            self._asked_trainer = True
            source = trainer_info_source()
            source.ready.connect(self._on_trainer_info)
            if source.info() is not None:
                self._on_trainer_info(source.info())
            else:
                source.request()

    # -- validation ------------------------------------------------------------------------
    def _revalidate(self) -> None:
        task = self.data_panel.task()
        if self._info is not None and not self._info.error:
            self.study_group.set_metrics(self._info.metrics_for(task), self._info.directions)
        space_problems = self.space_editor.problems()
        space = None
        if not space_problems:
            try:
                space = SearchSpace.from_dict(self.space_editor.space_dict())
            except SpaceError as exc:  # the editor saw it already; kept for safety
                space_problems = [str(exc)]
        self.strategy_panel.set_space(space)

        study = self.study_group.study_dict()
        problems: list[str] = []
        if not study["name"]:
            problems.append("[study] give the study a name")
        if not study["metric"]:
            problems.append("[study] choose the metric to optimize")
        elif self._objective:
            pass  # the metric is whatever the objective script reports
        elif self._info is not None and task and self._info.metrics.get(task):
            allowed = self._info.metrics[task]
            if study["metric"] not in allowed:
                problems.append(
                    f"[study] metric '{study['metric']}' is not reported for a {task} task "
                    f"(choose {', '.join(allowed)})"
                )
        if not self.space_editor.model.rowCount():
            problems.append("[space] add at least one parameter (+ Add, or Templates)")
        else:
            problems.extend(space_problems)
        strategy_problems = self.strategy_panel.problems()
        data_problems = [] if self._objective else self.data_panel.problems()
        problems.extend(strategy_problems)
        problems.extend(data_problems)

        spec = None
        if not problems:
            doc = {**self._panels_state(), "space": self.space_editor.space_dict()}
            if self._objective:
                doc["objective"] = dict(self._objective)
                doc.pop("data", None)
                doc.pop("model", None)
            try:
                spec = spec_from_dict(doc, source=SOURCE, path=self._path)
                if spec.objective:
                    pass  # the script's own parameters: nothing of ours to check
                elif spec.model.get("script"):
                    check_script_space(spec.space)  # trainer values checked; other names are the script's
                else:
                    check_space(spec.space)
            except SpecError as exc:
                problems.append(exc.detail)
                spec = None
            except ModelConfigError as exc:
                problems.append(str(exc))
                spec = None
        self._spec, self._problems = spec, problems
        self._show_parent(space)
        self._show_status(space, strategy_problems, data_problems)
        ok = not problems
        self.validity_changed.emit(ok, "" if ok else problems[0])

    def _show_parent(self, space: SearchSpace | None) -> None:
        if self._parent is None:
            self.parent_label.hide()
            return
        if space is None:
            start = "warm start once the search space is valid"
        else:
            n = in_space_count(self._parent_trials, space)
            start = f"warm start from its {n} in-space trial{'s' if n != 1 else ''}"
        self.parent_label.setText(f"↳  Refines study '{self._parent}' — {start}")
        self.parent_label.setToolTip(
            "Start creates this study as a child of the refined one, in the same study file. "
            "Its strategy is first told the parent's finished trials that lie inside this search space."
        )
        self.parent_label.show()

    def _show_status(
        self, space: SearchSpace | None, strategy_problems: list[str], data_problems: list[str]
    ) -> None:
        self.tabs.setTabText(0, "Strategy  ⚠" if strategy_problems else "Strategy")
        self.tabs.setTabText(1, "Data && model  ⚠" if data_problems else "Data && model")
        problems = self._problems
        if problems:
            more = len(problems) - 1
            extra = f"   (+{more} more problem{'s' if more > 1 else ''}; hover to see all)" if more else ""
            self.status_label.setText(f"⚠  Cannot start yet: {problems[0]}{extra}")
            self.status_label.setToolTip("\n".join(f"• {p}" for p in problems))
            set_tone(self.status_label, "error")
            return
        n = len(space) if space is not None else 0
        cls = STRATEGIES.get(self.strategy_panel.kind())
        label = cls.label if cls else self.strategy_panel.kind()
        self.status_label.setText(
            f"✓  Ready to start: {n} parameter{'s' if n != 1 else ''} · {label} · {self.trials():,} trials"
        )
        self.status_label.setToolTip("")
        set_tone(self.status_label, "ok")
