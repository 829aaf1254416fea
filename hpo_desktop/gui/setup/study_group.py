"""StudyGroup: the ``[study]`` table — name, metric, direction, trials budget, seed, description —
and the ``[execution]`` table: workers, and where trials run (this machine or a Ray cluster)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QLabel, QLineEdit, QSpinBox, QWidget

from ...core.spec import MAX_WORKERS, RAY_KEYS, check_execution

DIRECTIONS = ("minimize", "maximize")
#: The "Run on" choices: label -> [execution] backend.
BACKEND_LABELS = {"This machine": "local", "Ray cluster": "ray"}
_SEED_MAX = 2**31 - 1


class StudyGroup(QGroupBox):
    """``changed`` fires on user edits only (not on :meth:`set_study`)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Study", parent)
        self._given: dict[str, Any] = {}
        self._given_execution: dict[str, Any] = {}
        self._directions: dict[str, str] = {}
        self._loading = False

        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText("a name for the study")
        self.metric_combo = QComboBox(self)
        self.metric_combo.setEditable(True)
        self.metric_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.metric_combo.setMinimumContentsLength(14)
        self.metric_combo.setToolTip("the metric the search optimizes (the trainer reports these per epoch)")
        self.direction_combo = QComboBox(self)
        self.direction_combo.addItems(DIRECTIONS)
        self.trials_spin = QSpinBox(self)
        self.trials_spin.setRange(1, 1_000_000)
        self.trials_spin.setGroupSeparatorShown(True)
        self.trials_spin.setToolTip("how many finished trials the study should hold (can grow while it runs)")
        self.seed_spin = QSpinBox(self)
        self.seed_spin.setRange(0, _SEED_MAX)
        self.seed_spin.setToolTip("the study's seed: the same seed and setup give the same trials")
        self.description_edit = QLineEdit(self)
        self.description_edit.setPlaceholderText("optional: what this study is about")
        self.workers_spin = QSpinBox(self)  # [execution] workers (docs/parallel.md)
        self.workers_spin.setRange(1, MAX_WORKERS)
        self.workers_spin.setToolTip(
            "trials run at once, each in its own worker process: CPU threads are divided between "
            "them, and with several GPUs each worker gets its own (used from the next Start)"
        )
        self.workers_spin.setSpecialValueText("as the cluster holds")  # 0, offered for Ray only
        self.backend_combo = QComboBox(self)
        self.backend_combo.addItems(list(BACKEND_LABELS))
        self.backend_combo.setToolTip(
            "where trials run: worker processes on this machine, or Ray actors on a Ray cluster "
            '(needs pip install "hpo-desktop[ray]"; see docs/parallel.md)'
        )
        self.address_edit = QLineEdit(self)
        self.address_edit.setPlaceholderText("auto")
        self.address_edit.setToolTip(
            'the Ray cluster: "auto" (the one this machine has joined), "ray://host:10001", or '
            '"local" to start Ray on this machine'
        )

        grid = QGridLayout(self)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)
        cells = [
            ("Name", self.name_edit),
            ("Metric", self.metric_combo),
            ("", self.direction_combo),
            ("Trials", self.trials_spin),
            ("Seed", self.seed_spin),
        ]
        col = 0
        for label, widget in cells:
            if label:
                grid.addWidget(self._label(label, widget), 0, col)
                col += 1
            grid.addWidget(widget, 0, col)
            col += 1
        grid.addWidget(self._label("Description", self.description_edit), 1, 0)
        grid.addWidget(self.description_edit, 1, 1, 1, col - 3)
        grid.addWidget(self._label("Workers", self.workers_spin), 1, col - 2)
        grid.addWidget(self.workers_spin, 1, col - 1)
        grid.addWidget(self._label("Run on", self.backend_combo), 2, 0)
        grid.addWidget(self.backend_combo, 2, 1)
        grid.addWidget(self._label("Ray address", self.address_edit), 2, 2)
        grid.addWidget(self.address_edit, 2, 3, 1, col - 3)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(3, 2)

        self.name_edit.textEdited.connect(self._emit)
        self.description_edit.textEdited.connect(self._emit)
        self.metric_combo.currentTextChanged.connect(self._emit)
        self.metric_combo.activated.connect(self._on_metric_picked)
        self.direction_combo.currentIndexChanged.connect(self._emit)
        self.trials_spin.valueChanged.connect(self._emit)
        self.seed_spin.valueChanged.connect(self._emit)
        self.workers_spin.valueChanged.connect(self._emit)
        self.backend_combo.currentIndexChanged.connect(self._on_backend)
        self.address_edit.textEdited.connect(self._emit)
        self._on_backend()

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return label

    # -- API ---------------------------------------------------------------------------------
    def set_study(self, d: Mapping[str, Any]) -> None:
        self._loading = True
        try:
            self._given = dict(d)
            self.name_edit.setText(str(d.get("name", "")))
            self.description_edit.setText(str(d.get("description", "")))
            self.metric_combo.setCurrentText(str(d.get("metric", "")))
            self.direction_combo.setCurrentText(str(d.get("direction", "minimize")))
            self.trials_spin.setValue(int(d.get("trials", 20)))
            self.seed_spin.setValue(int(d.get("seed", 0) or 0))
        finally:
            self._loading = False

    def _on_backend(self) -> None:
        ray = self.backend() == "ray"
        self.address_edit.setEnabled(ray)
        loading, self._loading = self._loading, True
        try:
            self.workers_spin.setMinimum(0 if ray else 1)  # 0 = as many as the cluster holds
            if ray and self.workers_spin.value() == 1 and not loading:
                self.workers_spin.setValue(0)
        finally:
            self._loading = loading
        self._emit()

    def backend(self) -> str:
        return BACKEND_LABELS[self.backend_combo.currentText()]

    def set_execution(self, d: Mapping[str, Any] | None) -> None:
        """Show an ``[execution]`` table (``workers``: 1 when absent, or the cluster's capacity
        with the Ray backend; ``backend`` and ``address``; the per-trial resources are kept)."""
        self._loading = True
        try:
            d = dict(d or {})
            self._given_execution = d
            ray = d.get("backend") == "ray"
            label = next(k for k, v in BACKEND_LABELS.items() if v == ("ray" if ray else "local"))
            self.backend_combo.setCurrentText(label)
            self.workers_spin.setMinimum(0 if ray else 1)
            self.workers_spin.setValue(int(d.get("workers", 0 if ray else 1)))
            self.address_edit.setText(str(d.get("address", "")) if ray else "")
            self.address_edit.setEnabled(ray)
        finally:
            self._loading = False

    def execution_dict(self) -> dict[str, Any]:
        """The ``[execution]`` table: ``{}`` for one worker on this machine (the default)."""
        n = self.workers_spin.value()
        if self.backend() == "local":
            return {} if n <= 1 else {"workers": n}
        out: dict[str, Any] = {"backend": "ray"}
        address = self.address_edit.text().strip()
        if address:
            out["address"] = address
        if n >= 1:
            out["workers"] = n
        out.update({k: v for k, v in self._given_execution.items() if k in RAY_KEYS and k != "address"})
        return check_execution(out)

    def study_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name_edit.text().strip(),
            "metric": self.metric_combo.currentText().strip(),
            "direction": self.direction_combo.currentText(),
            "trials": self.trials_spin.value(),
            "seed": self.seed_spin.value(),
        }
        description = self.description_edit.text().strip()
        if description:
            out["description"] = description
        for key, value in self._given.items():  # e.g. max_failures_in_row: no widget, passed on
            if key not in out and key != "description":
                out[key] = value
        return out

    def set_metrics(self, metrics: tuple[str, ...], directions: Mapping[str, str]) -> None:
        """Offer these metrics (validation metrics first), keeping whatever is typed."""
        self._directions = dict(directions)
        current = self.metric_combo.currentText()
        ordered = sorted(metrics, key=lambda m: (not m.startswith("val_"), metrics.index(m)))
        if [self.metric_combo.itemText(i) for i in range(self.metric_combo.count())] == ordered:
            return
        self._loading = True
        try:
            self.metric_combo.clear()
            for m in ordered:
                self.metric_combo.addItem(m)
                if m in directions:
                    self.metric_combo.setItemData(
                        self.metric_combo.count() - 1,
                        f"usually {directions[m]}d",
                        Qt.ItemDataRole.ToolTipRole,
                    )
            self.metric_combo.setCurrentText(current)
        finally:
            self._loading = False

    def set_locked(self, locked: bool) -> None:
        for widget in (
            self.name_edit,
            self.metric_combo,
            self.direction_combo,
            self.seed_spin,
            self.description_edit,
        ):
            widget.setEnabled(not locked)

    # -- reactions ---------------------------------------------------------------------------
    def _on_metric_picked(self, _index: int) -> None:
        natural = self._directions.get(self.metric_combo.currentText())
        if natural and not self._loading and natural != self.direction_combo.currentText():
            self.direction_combo.setCurrentText(natural)  # emits changed through the combo

    def _emit(self, *_args: Any) -> None:
        if not self._loading:
            self.changed.emit()
