"""The welcome page: start from a template, open a file, or pick a recent one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCommandLinkButton,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..app import RESOURCES
from .theme import app_icon, icon


@dataclass(frozen=True)
class Template:
    title: str
    description: str
    path: Path


#: The examples in resources/examples, in the order a newcomer should meet them.
_TEMPLATES = (
    (
        "digits_mlp.toml",
        "Digits MLP",
        "Bayesian search over an MLP on 8×8 handwritten digits (classification).",
    ),
    (
        "moons_grid.toml",
        "Moons grid",
        "A small grid search on the two-moons toy problem: every combination once.",
    ),
    (
        "csv_regression.toml",
        "CSV regression",
        "Random search predicting house prices from your own CSV file.",
    ),
)


def templates() -> list[Template]:
    """The shipped example specs that exist in this installation."""
    folder = RESOURCES / "examples"
    return [Template(t, d, folder / f) for f, t, d in _TEMPLATES if (folder / f).exists()]


class WelcomePage(QWidget):
    """Shown when no study is open."""

    template_chosen = Signal(Path)
    open_requested = Signal()
    recent_chosen = Signal(Path)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        logo = QLabel()
        logo.setPixmap(app_icon().pixmap(QSize(72, 72)))
        title = QLabel("HPO Desktop")
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel(
            "Find good hyperparameters for a neural network on your own workstation.\n"
            "Every trial and every epoch is saved to a study file as it happens."
        )
        subtitle.setWordWrap(True)
        version = QLabel(f"version {__version__}")
        version.setEnabled(False)
        head_text = QVBoxLayout()
        head_text.addWidget(title)
        head_text.addWidget(subtitle)
        head_text.addWidget(version)
        head = QHBoxLayout()
        head.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        head.addSpacing(12)
        head.addLayout(head_text, 1)

        new_box = QGroupBox("New study from a template")
        new_layout = QVBoxLayout(new_box)
        self.template_buttons: list[QCommandLinkButton] = []
        for t in templates():
            button = QCommandLinkButton(t.title, t.description)
            button.setIcon(icon("new"))
            button.setToolTip(str(t.path))
            button.clicked.connect(lambda _=False, p=t.path: self.template_chosen.emit(p))
            new_layout.addWidget(button)
            self.template_buttons.append(button)
        new_layout.addStretch(1)

        open_box = QGroupBox("Open")
        open_layout = QVBoxLayout(open_box)
        self.open_button = QPushButton(icon("open"), "Open a study file or spec…")
        self.open_button.setToolTip(
            "A study file (.db) or a spec (.toml); you can also drop one on the window"
        )
        self.open_button.clicked.connect(self.open_requested)
        open_layout.addWidget(self.open_button)
        recent_label = QLabel("Recent files")
        recent_label.setContentsMargins(0, 8, 0, 0)
        open_layout.addWidget(recent_label)
        self.recent_list = QListWidget()
        self.recent_list.setFrameShape(QFrame.Shape.StyledPanel)
        self.recent_list.itemActivated.connect(self._on_recent_activated)
        open_layout.addWidget(self.recent_list, 1)
        self.no_recent = QLabel("No recent files yet.")
        self.no_recent.setEnabled(False)
        open_layout.addWidget(self.no_recent)

        grid = QGridLayout()
        grid.addWidget(new_box, 0, 0)
        grid.addWidget(open_box, 0, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

        hint = QLabel(
            "Tip: <b>F5</b> starts a study, <b>F6</b> pauses it, <b>F7</b> stops after the running trial. "
            "The same studies run headless with <code>hpo-desktop run SPEC.toml</code>."
        )
        hint.setWordWrap(True)
        hint.setEnabled(False)

        inner = QWidget()
        inner.setMaximumWidth(980)
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(24, 24, 24, 24)
        layout.addLayout(head)
        layout.addSpacing(16)
        layout.addLayout(grid, 1)
        layout.addWidget(hint)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(inner, 100)
        outer.addStretch(1)

    def set_recent(self, paths: list[Path]) -> None:
        self.recent_list.clear()
        for path in paths:
            item = QListWidgetItem(icon("open") if path.suffix == ".db" else icon("new"), path.name)
            item.setToolTip(str(path))
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setText(f"{path.name}    —  {path.parent}")
            self.recent_list.addItem(item)
        self.recent_list.setVisible(bool(paths))
        self.no_recent.setVisible(not paths)

    def _on_recent_activated(self, item: QListWidgetItem) -> None:
        self.recent_chosen.emit(Path(item.data(Qt.ItemDataRole.UserRole)))
