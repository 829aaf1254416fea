"""The insights panel: the plain-language summary of :func:`hpo_desktop.core.insights.insights`."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from ..live import chart_style as cs
from . import base

#: The colour of each kind of insight's dot (unknown kinds: grey).
COLOURS = {
    "best": cs.GREEN,
    "importance": cs.BLUE,
    "edge": cs.ORANGE,
    "weak_choice": cs.RED,
    "progress": cs.MAGENTA,
    "note": cs.GREY,
}


class InsightsPanel(base.AnalysisView):
    title = "Insights"
    slug = "insights"
    heavy = True

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.export_button.hide()
        self.holder = QWidget()
        self.rows = QVBoxLayout(self.holder)
        self.rows.setContentsMargins(2, 2, 2, 2)
        self.rows.setSpacing(8)
        self.rows.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.holder)
        self.body.addWidget(self.scroll, 1)
        self.items: list[Any] = []
        self.labels: list[QLabel] = []

    def request(self) -> Callable[[], Any] | None:
        ctx = self.ctx
        if ctx is None:
            return None
        from ...core.insights import insights

        space, trials, direction, metric = ctx.space, list(ctx.trials), ctx.direction, ctx.metric
        return lambda: insights(space, trials, direction, metric)

    def draw(self, data: list[Any]) -> None:
        self.items = list(data)
        self.draw_count += 1
        for lab in self.labels:
            self.rows.removeWidget(lab)
            lab.deleteLater()
        self.labels = []
        texts = [(getattr(i, "kind", ""), i.text) for i in self.items]
        if not texts:
            texts = [("note", "No insights yet: they appear as trials finish.")]
        for kind, text in texts:
            colour = COLOURS.get(kind, cs.GREY)
            lab = QLabel(
                f'<table><tr><td style="color:{colour}; padding-right:6px">●</td>'
                f"<td>{html.escape(text)}</td></tr></table>"
            )
            lab.setTextFormat(Qt.TextFormat.RichText)
            lab.setWordWrap(True)
            lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            lab.setToolTip(kind)
            self.rows.insertWidget(self.rows.count() - 1, lab)
            self.labels.append(lab)

    def _paint(self) -> None:
        self.status.setText("from all trials" if self.brush_filter is not None else "")
        self.status.setToolTip("The insights do not follow the parallel-coordinates brush")

    def texts(self) -> list[str]:
        return [getattr(i, "text", "") for i in self.items]

    def export_target(self) -> Any:  # pragma: no cover - nothing to export
        return None
