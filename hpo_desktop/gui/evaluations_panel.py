"""The "Test Set" dock: the shown study's stored test-set evaluations, apart from the search.

One row per evaluation: the trial, mean ± std of each test metric over the seeds, how many
seeds, which data it trained on, the device and the date. The window shows it in its own dock
(tabbed with the log) so that test scores never mix with the search's validation metrics in
the trials table or the charts. It only reads, through the window's read-only StudyStore.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.evaluation import EvaluationRecord, format_summary
from ..core.storage import StorageError, StudyStore

EMPTY_TEXT = (
    "No test-set evaluations yet. Study ▸ Evaluate on Test Set… (Ctrl+T) retrains a trial's "
    "configuration with several seeds and scores the held-out test split."
)


def _date(iso: str) -> str:
    """``2026-11-26T19:02:27+00:00`` -> ``2026-11-26 19:02`` (UTC, as stored)."""
    text = iso.replace("T", " ")
    return text[:16] if len(text) >= 16 else text


class EvaluationsPanel(QWidget):
    """Lists ``reader.get_evaluations(study_id)``; ``evaluate_requested`` asks for a new one."""

    evaluate_requested = Signal()
    trial_selected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluations-panel")
        self._store: StudyStore | None = None
        self._study_id: int | None = None
        self.records: list[EvaluationRecord] = []
        self.metrics: list[str] = []

        self.title = QLabel("<b>Test-set evaluations</b>")
        self.note = QLabel("retrained with several seeds, scored on the test split the search never saw")
        self.note.setEnabled(False)
        self.evaluate_button = QPushButton("Evaluate…")
        self.evaluate_button.setToolTip("Evaluate a trial on the test set (Ctrl+T)")
        self.evaluate_button.clicked.connect(self.evaluate_requested)

        self.table = QTableWidget(0, 0)
        self.table.setObjectName("evaluations-table")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellDoubleClicked.connect(self._on_double_clicked)
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setEnabled(False)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.table)

        bar = QHBoxLayout()
        bar.addWidget(self.title)
        bar.addWidget(self.note, 1)
        bar.addWidget(self.evaluate_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(3)
        lay.addLayout(bar)
        lay.addWidget(self.stack, 1)
        self.set_study(None, None)

    # -- public ----------------------------------------------------------------------------
    def set_study(self, store: StudyStore | None, study_id: int | None) -> None:
        """Show the evaluations of ``study_id`` in ``store`` (None: nothing)."""
        self._store, self._study_id = store, study_id
        self.evaluate_button.setEnabled(store is not None and study_id is not None)
        self.refresh()

    def refresh(self) -> None:
        """Read the evaluations again (after a new one was stored, or the file changed)."""
        records: list[EvaluationRecord] = []
        if self._store is not None and self._study_id is not None:
            try:
                records = self._store.get_evaluations(self._study_id)
            except StorageError:
                records = []
        self.records = records
        self._fill()

    def row_texts(self) -> list[list[str]]:
        """Every row's cell texts (for tests and the report)."""
        t = self.table
        return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]

    # -- internals -------------------------------------------------------------------------
    def _fill(self) -> None:
        metrics: list[str] = []
        for rec in self.records:
            metrics += [m for m in rec.test_metrics if m not in metrics]
        metrics.sort(key=lambda n: n == "test_loss")
        self.metrics = metrics
        headers = ["Trial", *(f"{m} (mean ± std)" for m in metrics), "Seeds", "Trained on", "Device", "Date"]
        t = self.table
        t.setSortingEnabled(False)
        t.clear()
        t.setColumnCount(len(headers))
        t.setHorizontalHeaderLabels(headers)
        t.setRowCount(len(self.records))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, rec in enumerate(reversed(self.records)):  # newest on top
            summary = rec.summary
            cells: list[tuple[str, bool]] = [(str(rec.trial_number), True)]
            for m in metrics:
                if m in summary:
                    mean, std = summary[m]
                    cells.append((f"{mean:.4f} ± {std:.4f}", True))
                else:
                    cells.append(("", True))
            cells += [
                (str(len(rec.per_seed)), True),
                ("training + validation" if rec.include_validation else "training", False),
                (rec.device, False),
                (_date(rec.created_at), False),
            ]
            tip = f"{format_summary(rec)}\nseeds: {', '.join(map(str, rec.seeds))}"
            for col, (text, numeric) in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(tip)
                item.setData(Qt.ItemDataRole.UserRole, rec.trial_number)
                if numeric:
                    item.setTextAlignment(right)
                t.setItem(row, col, item)
        hh = t.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)  # the column count changes
        t.resizeColumnsToContents()
        hh.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)  # the date: the rest
        self.stack.setCurrentWidget(self.table if self.records else self.empty)

    def _on_double_clicked(self, row: int, _col: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.trial_selected.emit(int(item.data(Qt.ItemDataRole.UserRole)))
