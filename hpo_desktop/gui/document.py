"""What the window has open: a study file and one of its studies, or a new study not started yet.

Qt-free helpers: where a new study's file goes, a free study name, and a spec rebuilt from a
stored study (so the Setup page can show it and a run can continue it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..app import RESOURCES, data_dir
from ..core.spec import StudySpec, spec_from_dict
from ..core.storage import StudyRecord

#: Suffixes opened as study files (anything but .toml is tried as one).
STUDY_SUFFIXES = (".db", ".sqlite", ".sqlite3", ".hpo")
SPEC_SUFFIXES = (".toml",)


@dataclass
class Document:
    """The open thing. ``study_name`` None means a new study that has not run yet.

    ``db_path`` is the study file (for a new study: where it will be written when it starts);
    ``spec_path`` the TOML the setup came from, if any (Save writes there); ``base_dir`` anchors
    relative paths in [data]; ``template`` marks a spec shipped with the program (never
    overwritten by Save).
    """

    db_path: Path | None
    base_dir: Path
    study_name: str | None = None
    study_id: int | None = None
    spec_path: Path | None = None
    template: bool = False
    #: Why this study cannot run from the window (a Python-API study, an unreadable spec), or None.
    not_runnable: str | None = None

    @property
    def is_new(self) -> bool:
        return self.study_name is None


def is_shipped(path: Path) -> bool:
    """Whether ``path`` is one of the program's own files (examples are templates, never saved over)."""
    try:
        Path(path).resolve().relative_to(RESOURCES.resolve())
    except ValueError:
        return False
    return True


def default_study_file(spec: StudySpec, *, template: bool) -> Path:
    """Where a new study is written: beside its spec (as ``hpo-desktop run`` does), or in the
    user data folder for templates and for specs in folders we cannot write to."""
    if not template and spec.path is not None:
        folder = spec.path.parent
        if os.access(folder, os.W_OK):
            return spec.path.with_suffix(".db")
    stem = spec.path.stem if spec.path is not None else spec.name
    return data_dir() / f"{stem}.db"


def unique_name(name: str, taken: list[str] | set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``… when a study of that name is already in the file."""
    taken = set(taken)
    if name not in taken:
        return name
    n = 2
    while f"{name}-{n}" in taken:
        n += 1
    return f"{name}-{n}"


def spec_for_record(record: StudyRecord, db_path: Path) -> tuple[StudySpec, Path]:
    """The spec a stored study was made from, and the folder its [data] paths are relative to.

    Raises SpecError when the stored study cannot be expressed as a spec.
    """
    extra = record.spec or {}
    study: dict = {
        "name": record.name,
        "metric": record.metric,
        "direction": record.direction,
        "trials": record.budget or 20,
    }
    if record.seed is not None:
        study["seed"] = record.seed
    if extra.get("description"):
        study["description"] = extra["description"]
    doc: dict = {"study": study, "strategy": dict(record.strategy)}
    if extra.get("data"):
        doc["data"] = dict(extra["data"])
    if extra.get("model"):
        doc["model"] = dict(extra["model"])
    if extra.get("objective"):  # a user's own training loop (docs/scripts.md)
        doc["objective"] = dict(extra["objective"])
    if extra.get("execution"):  # workers = N (docs/parallel.md)
        doc["execution"] = dict(extra["execution"])
    if isinstance(record.attrs.get("pruner"), dict):  # kept in the study's attrs (docs/pruning.md)
        doc["pruner"] = dict(record.attrs["pruner"])
    doc["space"] = record.space
    base_dir = Path(extra.get("base_dir") or Path(db_path).resolve().parent)
    spec = spec_from_dict(doc, source=f"study '{record.name}'", path=base_dir / f"{record.name}.toml")
    return spec, base_dir


def why_not_runnable(record: StudyRecord) -> str | None:
    """A reason when the window has no objective for a stored study (made from Python, say)."""
    extra = record.spec or {}
    if not extra.get("data") and not extra.get("objective"):
        return (
            f"Study '{record.name}' was created from Python, without a [data] section, so the window "
            "has nothing to train; continue it with Study.open(...).optimize(objective)."
        )
    return None


def with_absolute_data_paths(spec: StudySpec, base_dir: Path) -> StudySpec:
    """The spec with relative csv/npz paths made absolute (for saving it in another folder)."""
    from dataclasses import replace

    data = dict(spec.data)
    changed = False
    for key in ("csv", "npz"):
        value = data.get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            data[key] = str((base_dir / value).resolve())
            changed = True
    return replace(spec, data=data) if changed else spec
