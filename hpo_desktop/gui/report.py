"""Write a study's HTML report: the analysis views drawn offscreen as PNG, plus core's page.

Used by ``hpo-desktop report`` (no window needed: the offscreen platform is used when there is
no display) and by the window's File ▸ Write Report…. The charts are the same views the
Analysis tab shows, so the report looks like the app.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
from pathlib import Path

from .. import __version__
from ..core.export import write_atomically
from ..core.insights import insights
from ..core.report import Figure, render_html, spec_toml_for
from ..core.space import SearchSpace
from ..core.storage import StudyStore


class ReportError(ValueError):
    """The report cannot be written (bad output folder); the message says why."""


def _ensure_app():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        if sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY")
            or os.environ.get("WAYLAND_DISPLAY")
            or os.environ.get("QT_QPA_PLATFORM")
        ):
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QApplication([])
        _quiet_offscreen_warnings()
    return app


def _quiet_offscreen_warnings() -> None:
    """The offscreen platform warns about window hints it cannot apply; that is noise here."""
    from PySide6.QtCore import qInstallMessageHandler

    previous = None

    def handler(mode, context, message):  # noqa: ANN001 - Qt's signature
        if "propagateSizeHints" in message:
            return
        if previous is not None:
            previous(mode, context, message)
        else:
            sys.stderr.write(message + "\n")

    previous = qInstallMessageHandler(handler)


def _settle(app, view) -> None:  # noqa: ANN001 - Qt objects
    """Let pyqtgraph finish its layout: axes resize to their tick labels after a first paint."""
    for _ in range(3):
        app.processEvents()
        view.grab()
    app.processEvents()


def prepare_folder(out_dir: Path) -> Path:
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"{out_dir} is a file; give a folder for the report")
    if not out_dir.parent.exists():
        raise ReportError(f"cannot write the report: the folder {out_dir.parent} does not exist")
    out_dir.mkdir(exist_ok=True)
    return out_dir


def write_report(
    store: StudyStore, study_id: int, out_dir: Path, *, width: int = 1200, height: int = 640
) -> Path:
    """Draw every analysis view of the study into ``out_dir`` and write ``index.html`` there."""
    from .analysis.analysis_page import AnalysisPage

    out_dir = prepare_folder(out_dir)
    app = _ensure_app()
    record = store.get_study_by_id(study_id)
    trials = store.get_trials(study_id)
    space = SearchSpace.from_dict(record.space)

    figures: list[Figure] = []
    page = AnalysisPage()
    try:
        page.resize(width, height)
        page.set_study(store, study_id)
        page.show()
        for view in page.views:
            page.show_view(view)
            page.wait_idle()
            _settle(app, view)
            name = f"{view.slug}.png"
            # A grab of the view as the Analysis tab shows it (axes, labels, colour bars).
            if view.grab().save(str(out_dir / name)):
                figures.append(Figure(view.title, name))
    finally:
        page.close()
        page.deleteLater()
        app.processEvents()

    found = insights(space, trials, record.direction, record.metric) if trials else []
    generated = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    text = render_html(
        record, trials, found, figures, spec_toml_for(record), generated_at=generated, version=__version__
    )
    index = out_dir / "index.html"
    write_atomically(index, text)
    return index
