"""A quick look at the data a study points to: the first rows, the target's task, image or not.

Qt-free and cheap: a CSV file is read only up to :data:`SCAN_ROWS` rows or :data:`SCAN_CHARS`
characters (enough to tell regression from classification; the trainer reads it all when the
study starts), and an .npz file only has its array headers read, plus ``y``.
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpo_desktop.training.datasets import MAX_AUTO_CLASSES
from hpo_desktop.training.sources import BUILTIN_DATASETS, MISSING_TOKENS, csv_reader

PREVIEW_ROWS = 20
SCAN_ROWS = 50_000
SCAN_CHARS = 4_000_000  # wide files stop sooner: the scan stays well under a second


@dataclass(frozen=True)
class CsvSample:
    """The header, the first rows, and each column's values over the scanned rows."""

    header: list[str]
    rows: list[list[str]]  # the first PREVIEW_ROWS rows
    columns: dict[str, list[str]] = field(default_factory=dict)
    complete: bool = True  # False: the file has more rows than were scanned
    first_missing: dict[str, int] = field(default_factory=dict)  # column -> line of its first missing value


@dataclass(frozen=True)
class TaskGuess:
    task: str | None  # "classification" | "regression" | None when it cannot be told
    words: str  # "classification, 10 classes" / "regression" / why not


def read_csv_sample(path: Path, *, scan_rows: int = SCAN_ROWS, scan_chars: int = SCAN_CHARS) -> CsvSample:
    """Read the header and the first rows (see the module docstring); raises ValueError in plain words."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv_reader(fh)
            header: list[str] | None = None
            rows: list[list[str]] = []
            lines: list[int] = []
            complete = True
            chars = 0
            for row in reader:
                if not row or (len(row) <= 1 and not row[0].strip()):
                    continue
                if header is None:
                    header = [f.strip() for f in row]
                    continue
                if len(rows) >= scan_rows or chars >= scan_chars:
                    complete = False
                    break
                chars += sum(len(f) + 1 for f in row)
                if len(row) != len(header):
                    raise ValueError(
                        f"{path.name} line {reader.line_num} has {len(row)} fields, the header has {len(header)}"
                    )
                rows.append([f.strip() for f in row])
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise ValueError(f"{path.name} is not UTF-8 text") from None
    except csv.Error as exc:
        raise ValueError(f"{path.name} is not a readable CSV file: {exc}") from None
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    if header is None:
        raise ValueError(f"{path.name} is empty")
    columns = {name: [r[j] for r in rows] for j, name in enumerate(header)}
    first_missing: dict[str, int] = {}
    for name, values in columns.items():
        for k, v in enumerate(values):
            if v.lower() in MISSING_TOKENS:
                first_missing[name] = lines[k]
                break
    return CsvSample(header, rows[:PREVIEW_ROWS], columns, complete, first_missing)


def _numbers(values: list[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def guess_task(values: list[str], requested: str = "auto", *, complete: bool = True) -> TaskGuess:
    """The task the trainer will infer for a target column (same rule as the data loader)."""
    present = [v for v in values if v.lower() not in MISSING_TOKENS]
    if not present:
        return TaskGuess(None, "the target column is empty")
    numbers = _numbers(present)
    if requested == "regression":
        if numbers is None:
            return TaskGuess(None, "the target holds text, so it cannot be a regression target")
        return TaskGuess("regression", "regression (as set)")
    distinct = len(set(present) if numbers is None else set(numbers))
    more = "" if complete else "+"
    if requested == "classification":
        return TaskGuess("classification", f"classification, {distinct}{more} classes (as set)")
    if numbers is None or (all(float(x).is_integer() for x in numbers) and distinct <= MAX_AUTO_CLASSES):
        return TaskGuess("classification", f"classification, {distinct}{more} classes")
    return TaskGuess("regression", "regression")


def builtin_task(name: str) -> TaskGuess:
    info = BUILTIN_DATASETS.get(name)
    if info is None:
        return TaskGuess(None, f"unknown data set '{name}'")
    if info.task == "classification":
        m = re.search(r"(\d+) classes", info.description)
        return TaskGuess("classification", f"classification, {m.group(1)} classes" if m else "classification")
    return TaskGuess(info.task, info.task)


def builtin_is_image(name: str) -> bool:
    """Built-in image data sets say so in their description ("8x8 images of handwritten digits")."""
    info = BUILTIN_DATASETS.get(name)
    return info is not None and "image" in info.description.lower()


@dataclass(frozen=True)
class NpzSample:
    x_shape: tuple[int, ...]
    x_dtype: str
    y: list[Any]

    @property
    def is_image(self) -> bool:
        return len(self.x_shape) in (3, 4)

    def summary(self) -> str:
        shape = " × ".join(str(s) for s in self.x_shape)
        return f"X: {shape} ({self.x_dtype}), y: {len(self.y)} values"


def read_npz_sample(path: Path) -> NpzSample:
    """X's shape from its header (X is not loaded) and y; raises ValueError with a plain message."""
    import numpy as np
    from numpy.lib import format as npformat

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "X.npy" not in names or "y.npy" not in names:
                held = ", ".join(sorted(n.removesuffix(".npy") for n in names)) or "none"
                raise ValueError(f"{path.name} must hold arrays named 'X' and 'y' (it holds: {held})")
            with archive.open("X.npy") as fh:
                version = npformat.read_magic(fh)
                reader = (
                    npformat.read_array_header_1_0 if version == (1, 0) else npformat.read_array_header_2_0
                )
                shape, _fortran, dtype = reader(fh)
        with np.load(path, allow_pickle=False) as data:
            y = data["y"]
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{path.name} is not a readable .npz file: {exc}") from None
    except ValueError as exc:
        raise ValueError(str(exc) if str(exc).startswith(path.name) else f"{path.name}: {exc}") from None
    if y.ndim != 1:
        raise ValueError(f"{path.name}: 'y' must be 1-D, got shape {y.shape}")
    return NpzSample(tuple(int(s) for s in shape), str(dtype), y.tolist())
