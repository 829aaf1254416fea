"""Data for the built-in trainer: the ``[data]`` section of a study, loaded, encoded and split.

Everything here works offline: the built-in data sets are scikit-learn's on-disk ones or are
generated with numpy. Features are standardized (and text columns one-hot encoded) with
statistics learned from the training split only; the test split is kept apart for one final
evaluation and never shown to the search. No torch here: the GUI may list the data sets without
paying for it.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .sources import (
    BUILTIN_DATASETS,
    DEFAULT_N_SAMPLES,
    DEFAULT_NOISE,
    DataError,
    DatasetInfo,
    RawData,
    did_you_mean,
    load_builtin,
    load_csv,
    load_npz,
    parse_numbers,
    resolve_path,
)

__all__ = ["BUILTIN_DATASETS", "DataError", "DatasetInfo", "PreparedData", "load_data"]

TASKS = ("auto", "classification", "regression")
#: A numeric target with at most this many distinct whole values is taken as class labels.
MAX_AUTO_CLASSES = 20
#: A text column with more distinct values than this is refused rather than one-hot encoded.
MAX_CATEGORIES = 100

_SOURCE_KEYS = ("dataset", "csv", "npz")
_DATA_KEYS: dict[str, str] = {
    "dataset": "a built-in data set name",
    "csv": "path of a CSV file",
    "npz": "path of a .npz file with arrays X and y",
    "target": "the CSV column to predict",
    "task": "auto, classification or regression",
    "validation": "fraction of rows for validation",
    "test": "fraction of rows held out for the final test",
    "seed": "seed of the split (and of generated data)",
    "n_samples": "rows of a generated data set",
    "noise": "noise of a generated data set",
    "features": "CSV columns to use as features",
}


@dataclass(frozen=True)
class PreparedData:
    """Encoded, split data ready for training.

    Features are float32 of shape ``(n, prod(input_shape))``; the CNN reshapes them to
    ``input_shape``. Targets are int64 class indices (classification) or float32 values
    (regression). ``indices`` maps "train"/"validation"/"test" to the 0-based source rows of each
    split, so a result can be traced back to the file.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    n_classes: int | None
    input_shape: tuple[int, ...]
    feature_names: list[str]
    class_names: list[str] | None
    name: str
    description: str
    target_name: str | None = None
    indices: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_outputs(self) -> int:
        """Width of the network's output layer."""
        return int(self.n_classes) if self.task == "classification" else 1

    @property
    def is_image(self) -> bool:
        return len(self.input_shape) == 3

    def summary(self) -> str:
        """One line for logs and the GUI: name, task, sizes."""
        kind = f"{self.n_classes} classes" if self.task == "classification" else "regression"
        return (
            f"{self.name}: {kind}, {self.n_features} features, "
            f"{len(self.y_train)} train / {len(self.y_val)} validation / {len(self.y_test)} test rows"
        )

    def with_validation_in_training(self) -> PreparedData:
        """A copy whose training split also holds the validation rows (and whose validation is empty)."""
        return replace(
            self,
            X_train=np.concatenate([self.X_train, self.X_val]),
            y_train=np.concatenate([self.y_train, self.y_val]),
            X_val=self.X_val[:0],
            y_val=self.y_val[:0],
            indices={
                **self.indices,
                "train": np.concatenate([self.indices["train"], self.indices["validation"]]),
                "validation": self.indices["validation"][:0],
            },
        )


# --------------------------------------------------------------------------- the [data] section


def _check_section(section: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the ``[data]`` keys and fill the defaults. Every error names the key."""
    if not isinstance(section, Mapping):
        raise DataError(f"[data] must be a table of keys, got {type(section).__name__}")
    for key in section:
        if key not in _DATA_KEYS:
            allowed = ", ".join(sorted(_DATA_KEYS))
            raise DataError(
                f"[data] unknown key '{key}' (allowed: {allowed}){did_you_mean(str(key), list(_DATA_KEYS))}"
            )

    sources = [k for k in _SOURCE_KEYS if k in section]
    if len(sources) != 1:
        got = " and ".join(f"'{k}'" for k in sources) if sources else "none"
        raise DataError(f"[data] needs exactly one of 'dataset', 'csv' or 'npz' (got {got})")
    source = sources[0]

    def text(key: str) -> str | None:
        value = section.get(key)
        if value is None:
            return None
        if key in ("csv", "npz") and isinstance(value, os.PathLike):
            return os.fspath(value)
        if not isinstance(value, str) or not value.strip():
            raise DataError(f"[data] '{key}' must be a non-empty string, got {value!r}")
        return value.strip()

    def number(
        key: str, default: float, low: float, high: float | None, *, low_open: bool, integer: bool
    ) -> Any:
        value = section.get(key, default)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise DataError(f"[data] '{key}' must be a number, got {value!r}")
        if integer and not (isinstance(value, numbers.Integral) or float(value).is_integer()):
            raise DataError(f"[data] '{key}' must be a whole number, got {value!r}")
        if not math.isfinite(float(value)):
            raise DataError(f"[data] '{key}' must be finite, got {value!r}")
        value = int(value) if integer else float(value)
        if (value <= low if low_open else value < low) or (high is not None and value >= high):
            bounds = f"{'>' if low_open else '>='} {low:g}" + (f" and < {high:g}" if high is not None else "")
            raise DataError(f"[data] '{key}' must be {bounds}, got {value!r}")
        return value

    out: dict[str, Any] = {"source": source, "ref": text(source)}
    task = section.get("task", "auto")
    if task not in TASKS:
        raise DataError(f"[data] 'task' must be one of {', '.join(TASKS)}, got {task!r}")
    out["task"] = task
    out["validation"] = number("validation", 0.15, 0.0, 1.0, low_open=True, integer=False)
    out["test"] = number("test", 0.15, 0.0, 1.0, low_open=False, integer=False)
    if out["validation"] + out["test"] > 0.9:
        raise DataError(
            f"[data] 'validation' + 'test' = {out['validation'] + out['test']:g} leaves too little for "
            "training (keep the sum at most 0.9)"
        )
    out["seed"] = number("seed", 0, 0, None, low_open=False, integer=True)
    out["target"] = text("target")
    features = section.get("features")
    if features is not None:
        if (
            isinstance(features, str)
            or not isinstance(features, Sequence)
            or not features
            or not all(isinstance(f, str) and f for f in features)
        ):
            raise DataError(f"[data] 'features' must be a non-empty list of column names, got {features!r}")
        dupes = sorted({f for f in features if list(features).count(f) > 1})
        if dupes:
            raise DataError(f"[data] 'features' lists column '{dupes[0]}' twice")
        features = list(features)
    out["features"] = features

    if source != "csv":
        for key in ("target", "features"):
            if key in section:
                raise DataError(f"[data] '{key}' applies only to csv files (this study uses '{source}')")
    elif out["target"] is None:
        raise DataError("[data] 'target' is required with 'csv': name the column to predict")

    generated = (
        source == "dataset" and out["ref"] in BUILTIN_DATASETS and BUILTIN_DATASETS[out["ref"]].generated
    )
    for key in ("n_samples", "noise"):
        if key in section and not generated:
            names = ", ".join(n for n, info in BUILTIN_DATASETS.items() if info.generated)
            raise DataError(f"[data] '{key}' applies only to generated data sets ({names})")
    out["n_samples"] = number("n_samples", DEFAULT_N_SAMPLES, 20, 10_000_001, low_open=False, integer=True)
    out["noise"] = number(
        "noise", DEFAULT_NOISE.get(out["ref"], 0.0), 0.0, None, low_open=False, integer=False
    )
    return out


# --------------------------------------------------------------------------- target, split, encoding


def _is_text(y: np.ndarray) -> bool:
    return y.dtype == object


def _infer_task(raw: RawData, requested: str) -> str:
    where = (
        f"target column '{raw.target_name}'" if raw.target_name not in (None, "y", "target") else "the target"
    )
    if raw.task is not None:
        if requested not in ("auto", raw.task):
            raise DataError(f"[data] 'task': the data set '{raw.name}' is a {raw.task} task, not {requested}")
        return raw.task
    if requested == "regression":
        if _is_text(raw.y):
            example = next(v for v in raw.y if parse_numbers([v]) is None)
            raise DataError(
                f"{where} holds text (e.g. {example!r}), so it cannot be a regression target; "
                "use task = 'classification'"
            )
        return "regression"
    if requested == "classification" or _is_text(raw.y):
        return "classification"
    whole = np.all(np.equal(np.mod(raw.y, 1), 0))
    return "classification" if whole and len(np.unique(raw.y)) <= MAX_AUTO_CLASSES else "regression"


def _encode_target(raw: RawData, task: str) -> tuple[np.ndarray, list[str] | None]:
    if task == "regression":
        return raw.y.astype(np.float32), None
    values, labels = np.unique(raw.y.astype(str) if _is_text(raw.y) else raw.y, return_inverse=True)
    if len(values) < 2:
        raise DataError(f"the target has a single class ({values[0]!r}); classification needs at least two")
    if raw.class_names is not None:
        names = [raw.class_names[int(v)] for v in values]
    elif _is_text(raw.y):
        names = [str(v) for v in values]
    else:
        names = [str(int(v)) if float(v).is_integer() else f"{v:g}" for v in values]
    return labels.astype(np.int64), names


def _split(
    n: int, labels: np.ndarray | None, validation: float, test: float, seed: int
) -> dict[str, np.ndarray]:
    from sklearn.model_selection import train_test_split

    index = np.arange(n)
    try:
        if test > 0:
            rest, test_idx = train_test_split(index, test_size=test, random_state=seed, stratify=labels)
        else:
            rest, test_idx = index, index[:0]
        strat = labels[rest] if labels is not None else None
        train_idx, val_idx = train_test_split(
            rest, test_size=validation / (1.0 - test), random_state=seed, stratify=strat
        )
    except ValueError as exc:
        detail = ""
        if labels is not None:
            counts = np.bincount(labels)
            detail = (
                f" (smallest class has {int(counts.min())} rows; stratified splitting needs a few per class)"
            )
        raise DataError(f"cannot split {n} rows into train/validation/test{detail}: {exc}") from None
    if len(train_idx) < 2 or len(val_idx) < 1:
        raise DataError(f"too few rows ({n}) to split into training and validation sets")
    return {"train": np.sort(train_idx), "validation": np.sort(val_idx), "test": np.sort(test_idx)}


def _encode_features(raw: RawData, train: np.ndarray) -> tuple[Callable[[np.ndarray], np.ndarray], list[str]]:
    """Fit the encoding on the training rows; return ``encode(rows) -> float32 matrix`` and the feature names."""
    mean = raw.numeric[train].mean(axis=0) if raw.numeric.shape[1] else np.zeros(0)
    std = raw.numeric[train].std(axis=0) if raw.numeric.shape[1] else np.ones(0)
    std = np.where(std > 1e-12, std, 1.0)
    names = list(raw.numeric_names)
    vocab: list[tuple[np.ndarray, dict[str, int]]] = []
    for name, values in raw.categorical:
        cats = sorted(set(values[train].tolist()))
        if len(cats) > MAX_CATEGORIES:
            raise DataError(
                f"column '{name}' is text with {len(cats)} distinct values, too many to one-hot encode "
                f"(limit {MAX_CATEGORIES}); leave it out with [data] 'features'"
            )
        vocab.append((values, {c: i for i, c in enumerate(cats)}))
        names.extend(f"{name}={c}" for c in cats)

    def encode(rows: np.ndarray) -> np.ndarray:
        parts = [((raw.numeric[rows] - mean) / std).astype(np.float32)]
        for values, index in vocab:
            onehot = np.zeros((len(rows), len(index)), dtype=np.float32)
            cols = np.array([index.get(v, -1) for v in values[rows]], dtype=np.int64)
            seen = cols >= 0  # categories never seen in training stay all zeros
            onehot[np.flatnonzero(seen), cols[seen]] = 1.0
            parts.append(onehot)
        return np.ascontiguousarray(np.concatenate(parts, axis=1), dtype=np.float32)

    return encode, names


def load_data(section: Mapping[str, Any], base_dir: Path | None = None) -> PreparedData:
    """Load, encode and split the data a ``[data]`` section describes.

    Raises :class:`DataError` with a message that names the key, column or file at fault.
    """
    cfg = _check_section(section)
    source, ref = cfg["source"], cfg["ref"]
    if source == "dataset":
        raw = load_builtin(ref, cfg["n_samples"], cfg["noise"], cfg["seed"])
    elif source == "csv":
        raw = load_csv(resolve_path(ref, base_dir), cfg["target"], cfg["features"])
    else:
        raw = load_npz(resolve_path(ref, base_dir))

    task = _infer_task(raw, cfg["task"])
    y, class_names = _encode_target(raw, task)
    split = _split(
        len(y), y if task == "classification" else None, cfg["validation"], cfg["test"], cfg["seed"]
    )
    encode, feature_names = _encode_features(raw, split["train"])
    if raw.input_shape is not None and raw.categorical:
        raise DataError("image data cannot have text columns")  # pragma: no cover - sources never mix them
    input_shape = raw.input_shape or (len(feature_names),)
    return PreparedData(
        X_train=encode(split["train"]),
        y_train=y[split["train"]],
        X_val=encode(split["validation"]),
        y_val=y[split["validation"]],
        X_test=encode(split["test"]),
        y_test=y[split["test"]],
        task=task,
        n_classes=len(class_names) if class_names is not None else None,
        input_shape=tuple(int(s) for s in input_shape),
        feature_names=feature_names,
        class_names=class_names,
        name=raw.name,
        description=raw.description,
        target_name=raw.target_name,
        indices=split,
    )
