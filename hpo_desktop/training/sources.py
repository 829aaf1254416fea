"""Where the rows come from: the built-in data sets, CSV files and .npz files, read into raw columns.

Everything works offline: the built-in data sets are scikit-learn's on-disk ones or are generated
with numpy. Nothing is encoded or split here (see :mod:`hpo_desktop.training.datasets`). No torch.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np


class DataError(ValueError):
    """The ``[data]`` section or the data it points to is unusable; the message says where."""


class DatasetInfo(NamedTuple):
    """What the GUI shows for a built-in data set."""

    description: str
    task: str  # "classification" | "regression"
    generated: bool  # True: n_samples and noise apply


#: Built-in data sets, all available offline: name -> (description, task, generated).
BUILTIN_DATASETS: dict[str, DatasetInfo] = {
    "digits": DatasetInfo(
        "8x8 images of handwritten digits, 1,797 samples, 10 classes", "classification", False
    ),
    "iris": DatasetInfo("iris flowers, 150 samples, 4 features, 3 classes", "classification", False),
    "wine": DatasetInfo("wine cultivars, 178 samples, 13 features, 3 classes", "classification", False),
    "breast_cancer": DatasetInfo(
        "breast cancer diagnosis, 569 samples, 30 features, 2 classes", "classification", False
    ),
    "diabetes": DatasetInfo(
        "diabetes progression, 442 samples, 10 features (regression)", "regression", False
    ),
    "moons": DatasetInfo(
        "two interleaving half circles, 2 features, 2 classes (generated)", "classification", True
    ),
    "circles": DatasetInfo(
        "a circle inside a circle, 2 features, 2 classes (generated)", "classification", True
    ),
    "spirals": DatasetInfo(
        "two intertwined spirals, 2 features, 2 classes (generated)", "classification", True
    ),
    "regression": DatasetInfo(
        "a smooth nonlinear function of 4 of 6 features plus noise (generated)", "regression", True
    ),
}

DEFAULT_N_SAMPLES = 1000
DEFAULT_NOISE = {"moons": 0.2, "circles": 0.1, "spirals": 0.05, "regression": 0.1}
#: Largest CSV file read (it is parsed in memory); bigger ones are refused with their size.
MAX_CSV_BYTES = 512 * 2**20
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})


def did_you_mean(word: str, options: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


@dataclass
class RawData:
    """A data set before encoding: numeric and text feature columns and the raw target."""

    name: str
    description: str
    numeric: np.ndarray  # (n, d) float64
    numeric_names: list[str]
    y: np.ndarray  # numbers or strings
    categorical: list[tuple[str, np.ndarray]] = field(default_factory=list)
    task: str | None = None  # fixed by the source (built-ins), else inferred
    input_shape: tuple[int, ...] | None = None
    class_names: list[str] | None = None  # names of the sorted class values, when the source has them
    target_name: str | None = None


def load_builtin(name: str, n_samples: int, noise: float, seed: int) -> RawData:
    if name not in BUILTIN_DATASETS:
        raise DataError(
            f"[data] 'dataset': unknown data set {name!r} (built-in: {', '.join(BUILTIN_DATASETS)})"
            f"{did_you_mean(name, list(BUILTIN_DATASETS))}"
        )
    info = BUILTIN_DATASETS[name]
    if info.generated:
        X, y, names = generate(name, n_samples, noise, seed)
        desc = f"{info.description}, {n_samples} samples, noise {noise:g}"
        return RawData(name, desc, X, names, y, task=info.task, target_name="y")

    from sklearn import datasets as skd

    loader = {
        "digits": skd.load_digits,
        "iris": skd.load_iris,
        "wine": skd.load_wine,
        "breast_cancer": skd.load_breast_cancer,
        "diabetes": skd.load_diabetes,
    }[name]
    bunch = loader()
    X = np.asarray(bunch.data, dtype=np.float64)
    names = [str(n) for n in getattr(bunch, "feature_names", [f"x{i}" for i in range(X.shape[1])])]
    target_names = getattr(bunch, "target_names", None)
    class_names = (
        [str(c) for c in target_names] if info.task == "classification" and target_names is not None else None
    )
    shape = (1, 8, 8) if name == "digits" else None
    return RawData(
        name,
        info.description,
        X,
        names,
        np.asarray(bunch.target),
        task=info.task,
        input_shape=shape,
        class_names=class_names,
        target_name="target",
    )


def generate(name: str, n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if name == "moons":
        from sklearn.datasets import make_moons

        X, y = make_moons(n_samples=n, noise=noise, random_state=seed)
        return X, y, ["x1", "x2"]
    if name == "circles":
        from sklearn.datasets import make_circles

        X, y = make_circles(n_samples=n, noise=noise, factor=0.5, random_state=seed)
        return X, y, ["x1", "x2"]
    rng = np.random.default_rng(seed)
    if name == "spirals":
        # Two arms, 1.5 turns each, half a turn apart; radius grows from 0 to 1 along the arm.
        y = np.arange(n) % 2
        t = np.sqrt(rng.uniform(0.0, 1.0, n)) * 3.0 * np.pi
        r = t / (3.0 * np.pi)
        angle = t + np.pi * y
        X = np.column_stack([r * np.cos(angle), r * np.sin(angle)]) + rng.normal(0.0, noise, (n, 2))
        return X, y, ["x1", "x2"]
    # "regression": a smooth nonlinear function of x1..x4; x5 and x6 are irrelevant.
    X = rng.uniform(-2.0, 2.0, (n, 6))
    y = np.sin(1.5 * X[:, 0]) + 0.5 * X[:, 1] ** 2 - 0.5 * X[:, 2] * X[:, 3] + np.tanh(X[:, 3])
    y = y + rng.normal(0.0, noise, n)
    return X, y, [f"x{i + 1}" for i in range(6)]


def resolve_path(ref: str, base_dir: Path | None) -> Path:
    path = Path(ref).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if not path.is_file():
        raise DataError(f"[data] file not found: {path}")
    return path


def _is_missing(value: str) -> bool:
    return value.strip().lower() in MISSING_TOKENS


def csv_reader(fh: Any) -> Any:
    """A csv reader for an open text file, its dialect sniffed from the first 64 kB (, ; or tab)."""
    sample = fh.read(65536)
    fh.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return csv.reader(fh, dialect)


def read_csv(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows (fields stripped) and each row's line number in the file.

    The whole file is read into memory (a table's strings take several times its size), so files
    over :data:`MAX_CSV_BYTES` are refused with their size before anything is read.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if size > MAX_CSV_BYTES:
        raise DataError(
            f"{path.name} is {_size_text(size)}; CSV files up to {_size_text(MAX_CSV_BYTES)} are read into "
            "memory. Sample it down, or save it as an .npz of arrays (X, y), which loads without parsing text"
        )
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv_reader(fh)
            header: list[str] | None = None
            rows: list[list[str]] = []
            lines: list[int] = []
            for row in reader:
                if not row or all(not f.strip() for f in row) and len(row) <= 1:
                    continue
                if header is None:
                    header = [f.strip() for f in row]
                    continue
                if len(row) != len(header):
                    raise DataError(
                        f"{path.name} line {reader.line_num} has {len(row)} fields, the header has {len(header)}"
                    )
                rows.append([f.strip() for f in row])
                lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise DataError(f"{path.name} is not a readable CSV file: {exc}") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if header is None:
        raise DataError(f"{path.name} is empty")
    for i, name in enumerate(header):
        if not name:
            raise DataError(f"{path.name}: column {i + 1} of the header has no name")
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise DataError(f"{path.name}: the header names column '{name}' twice")
        seen.add(name)
    if not rows:
        raise DataError(f"{path.name} has a header but no data rows")
    return header, rows, lines


def _size_text(n: int) -> str:
    if n >= 2**30:
        return f"{n / 2**30:.1f} GiB"
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n:,} bytes"


def _stray_text(values: list[str]) -> int | None:
    """In a column of numbers with a few stray words, the index of the first word; else None."""
    bad = []
    for i, v in enumerate(values):
        try:
            float(v)
        except ValueError:
            bad.append(i)
            if len(bad) > max(1, len(values) // 10):
                return None
    return bad[0] if bad and len(values) >= 10 else None


def parse_numbers(values: list[str]) -> np.ndarray | None:
    """The column as float64, or None when some value is not a number."""
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except ValueError:
        return None


def load_csv(path: Path, target: str, features: list[str] | None) -> RawData:
    header, rows, lines = read_csv(path)
    if target not in header:
        raise DataError(
            f"{path.name}: target column '{target}' not found (columns: {', '.join(header)})"
            f"{did_you_mean(target, header)}"
        )
    if features is None:
        features = [c for c in header if c != target]
    else:
        for name in features:
            if name not in header:
                raise DataError(
                    f"[data] 'features': column '{name}' not found in {path.name} (columns: {', '.join(header)})"
                )
            if name == target:
                raise DataError(f"[data] 'features' lists the target column '{target}'")
    if not features:
        raise DataError(f"{path.name} has no feature columns besides the target '{target}'")

    used = [*features, target]
    pos = {name: header.index(name) for name in used}
    missing: list[str] = []
    for name in used:
        j = pos[name]
        for i, row in enumerate(rows):
            if _is_missing(row[j]):
                missing.append(f"'{name}' (first at row {i + 1}, line {lines[i]})")
                break
    if missing:
        raise DataError(
            f"{path.name}: missing values in column{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            "fill them in, drop those rows, or leave the column out with [data] 'features'"
        )

    numeric_cols: list[np.ndarray] = []
    numeric_names: list[str] = []
    categorical: list[tuple[str, np.ndarray]] = []
    for name in features:
        values = [row[pos[name]] for row in rows]
        parsed = parse_numbers(values)
        if parsed is not None:
            bad = np.flatnonzero(~np.isfinite(parsed))
            if bad.size:
                raise DataError(
                    f"{path.name}: column '{name}' has the non-finite value '{values[bad[0]]}' at line {lines[bad[0]]}"
                )
            numeric_cols.append(parsed)
            numeric_names.append(name)
        else:
            stray = _stray_text(values)
            if stray is not None:
                raise DataError(
                    f"{path.name}: column '{name}' holds numbers but also the text '{values[stray]}' at line "
                    f"{lines[stray]}; fix or drop those rows, or leave the column out with [data] 'features'"
                )
            categorical.append((name, np.array(values, dtype=object)))

    y_text = [row[pos[target]] for row in rows]
    y_num = parse_numbers(y_text)
    if y_num is not None and not np.all(np.isfinite(y_num)):
        bad = int(np.flatnonzero(~np.isfinite(y_num))[0])
        raise DataError(
            f"{path.name}: target column '{target}' has the non-finite value '{y_text[bad]}' at line {lines[bad]}"
        )
    y = y_num if y_num is not None else np.array(y_text, dtype=object)
    numeric = np.column_stack(numeric_cols) if numeric_cols else np.zeros((len(rows), 0))
    return RawData(
        path.stem,
        f"{path.name}: {len(rows)} rows, target '{target}'",
        numeric,
        numeric_names,
        y,
        categorical=categorical,
        target_name=target,
    )


def load_npz(path: Path) -> RawData:
    try:
        with np.load(path, allow_pickle=False) as archive:
            names = list(archive.files)
            if "X" not in names or "y" not in names:
                raise DataError(
                    f"{path.name} must hold arrays named 'X' and 'y' (it holds: {', '.join(names) or 'none'})"
                )
            X = archive["X"]
            y = archive["y"]
    except DataError:
        raise
    except ValueError as exc:
        raise DataError(
            f"{path.name}: cannot read its arrays without unpickling ({exc}); store plain arrays"
        ) from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path.name} is not a readable .npz file: {exc}") from None
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise DataError(f"{path.name}: array 'X' must be numeric, got dtype {X.dtype}")
    if X.ndim == 0 or y.ndim != 1:
        raise DataError(
            f"{path.name}: 'X' must have one row per sample and 'y' must be 1-D (got {X.shape} and {y.shape})"
        )
    if len(X) != len(y):
        raise DataError(f"{path.name}: 'X' has {len(X)} rows but 'y' has {len(y)}")
    shape: tuple[int, ...] | None = None
    if X.ndim == 3:
        shape = (1, *X.shape[1:])
    elif X.ndim == 4:
        shape = tuple(X.shape[1:])
    elif X.ndim > 4:
        raise DataError(
            f"{path.name}: 'X' has {X.ndim} dimensions; use (n, features), (n, h, w) or (n, c, h, w)"
        )
    flat = X.reshape(len(X), -1).astype(np.float64)
    bad = np.argwhere(~np.isfinite(flat))
    if bad.size:
        row, col = (int(v) for v in bad[0])
        raise DataError(f"{path.name}: 'X' has a missing or non-finite value in column {col}, row {row}")
    if np.issubdtype(y.dtype, np.number) or y.dtype == bool:
        y = y.astype(np.float64)
        if not np.all(np.isfinite(y)):
            raise DataError(
                f"{path.name}: 'y' has a missing or non-finite value at row {int(np.flatnonzero(~np.isfinite(y))[0])}"
            )
    elif y.dtype.kind in "US":
        y = y.astype(str).astype(object)
    else:
        raise DataError(f"{path.name}: 'y' must hold numbers or strings, got dtype {y.dtype}")
    names = [f"x{i}" for i in range(flat.shape[1])]
    return RawData(
        path.stem, f"{path.name}: {len(flat)} rows", flat, names, y, input_shape=shape, target_name="y"
    )
