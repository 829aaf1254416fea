"""Trust a script before it runs: the path, the SHA-256 and the first lines, and a question.

A study with ``[model] script`` or ``[objective] script`` runs the user's Python file. Before
Start runs a file this machine has not trusted in this exact version, :func:`confirm_trust`
shows :class:`TrustDialog`; "Trust and Run" is remembered per SHA-256 (and path) in the trust
store (:mod:`hpo_desktop.training.trust`), so an edited file asks again. Opening a spec or a
study file never runs its script: only Start does, after this.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..training.trust import HEAD_LINES, ScriptIdentity, TrustStore
from .setup.look import set_tone


class TrustDialog(QDialog):
    """Asks whether to run one script; ``exec()`` returns Accepted for "Trust and Run"."""

    def __init__(self, script: ScriptIdentity, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.script = script
        self.setWindowTitle("Run this script?")
        self.setObjectName("trustDialog")
        self.setModal(True)

        intro = QLabel(
            "<b>This study runs your own Python file.</b><br>"
            "A script can do anything your user account can: read and change files, use the "
            "network. Run it only if you wrote it or know where it came from."
        )
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        self.path_label = QLabel(str(script.path))
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setWordWrap(True)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.hash_label = QLabel(f"SHA-256  {script.sha256}")
        self.hash_label.setFont(mono)
        self.hash_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_tone(self.hash_label, "muted")
        self.head = QPlainTextEdit(script.head(HEAD_LINES))
        self.head.setReadOnly(True)
        self.head.setFont(mono)
        self.head.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.head.setMinimumHeight(self.head.fontMetrics().lineSpacing() * (HEAD_LINES + 2))
        note = QLabel(
            "It runs in a separate process: a crash or a hang fails only its trial. "
            "Your answer is remembered for this version of the file; if the file changes, you are asked again."
        )
        note.setWordWrap(True)
        set_tone(note, "muted")

        self.buttons = QDialogButtonBox()
        self.trust_button = self.buttons.addButton("Trust and Run", QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setDefault(True)  # Enter does not trust by accident
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(self.path_label)
        lay.addWidget(self.hash_label)
        lay.addWidget(QLabel(f"The first {HEAD_LINES} lines:"))
        lay.addWidget(self.head, 1)
        lay.addWidget(note)
        lay.addWidget(self.buttons)
        self.resize(720, 520)


def confirm_trust(path: Path, parent: QWidget | None = None, store: TrustStore | None = None) -> str | None:
    """The script's SHA-256 when it may run (trusted before, or the user trusts it now); None
    when the user declines or the file cannot be read (a message says why)."""
    try:
        script = ScriptIdentity.of(path)
    except OSError as exc:
        QMessageBox.warning(
            parent,
            "Cannot read the script",
            f"The study's script {path} cannot be read: {exc.strerror or exc}",
        )
        return None
    store = store or TrustStore()
    if store.is_trusted(script):
        return script.sha256
    dialog = TrustDialog(script, parent)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
    finally:
        dialog.deleteLater()
    try:
        store.trust(script)
    except OSError as exc:  # it may still run this time; it will be asked again next time
        QMessageBox.warning(
            parent,
            "Cannot remember the answer",
            f"The script runs now, but the answer could not be saved ({exc.strerror or exc}); "
            "you will be asked again next time.",
        )
    return script.sha256
