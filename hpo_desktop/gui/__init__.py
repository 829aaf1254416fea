"""The desktop application (PySide6 + pyqtgraph).

Nothing here is imported by the CLI: ``hpo_desktop.app`` imports ``gui.app`` only on the GUI
path, so ``hpo-desktop --help`` and the headless commands start without Qt.
"""
