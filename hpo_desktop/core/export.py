"""Export studies as CSV (one row per trial) or JSON (trials with their curves).

JSON shape (documented in docs/export.md)::

    {"format": "hpo-desktop-export", "version": 1,
     "studies": [{"name": ..., "metric": ..., "direction": ..., "space": {...},
                  "strategy": {...}, "trials": [
         {"number": 0, "state": "complete", "params": {...}, "value": 0.97,
          "metrics": {...}, "curves": [{"step": 0, "val_loss": 0.4, ...}, ...],
          "error": null, "seed": 123, "started_at": "...", "finished_at": "...",
          "seconds": 1.2}]}]}

Non-finite numbers are written as the strings "nan", "inf" and "-inf" so the
file stays valid JSON for every reader.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .storage import StudyRecord, StudyStore
from .trial import FrozenTrial

FORMATS = ("csv", "json")


def _json_number(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def _curve_records(trial: FrozenTrial) -> list[dict[str, Any]]:
    by_step: dict[int, dict[str, Any]] = {}
    for name, points in trial.curves.items():
        for step, value in points:
            by_step.setdefault(step, {"step": step})[name] = _json_number(value)
    return [by_step[s] for s in sorted(by_step)]


def trial_record(trial: FrozenTrial) -> dict[str, Any]:
    return {
        "number": trial.number,
        "state": trial.state.value,
        "params": {k: _json_number(v) for k, v in trial.params.items()},
        "value": _json_number(trial.value),
        "metrics": {k: _json_number(v) for k, v in trial.metrics.items()},
        "curves": _curve_records(trial),
        "error": trial.error,
        "seed": trial.seed,
        "started_at": trial.started_at,
        "finished_at": trial.finished_at,
        "seconds": _json_number(trial.seconds),
        "worker": trial.attrs.get("worker"),  # which worker process ran it (docs/parallel.md)
        "device": trial.attrs.get("device"),
    }


def study_record(store: StudyStore, record: StudyRecord) -> dict[str, Any]:
    trials = store.get_trials(record.study_id, with_curves=True)
    return {
        "name": record.name,
        "metric": record.metric,
        "direction": record.direction,
        "space": record.space,
        "strategy": record.strategy,
        "seed": record.seed,
        "budget": record.budget,
        "created_at": record.created_at,
        "trials": [trial_record(t) for t in trials],
    }


def export_json(store: StudyStore, records: Iterable[StudyRecord]) -> str:
    doc = {
        "format": "hpo-desktop-export",
        "version": 1,
        "studies": [study_record(store, r) for r in records],
    }
    return json.dumps(doc, indent=2, allow_nan=False)


def export_csv(store: StudyStore, records: Iterable[StudyRecord]) -> str:
    """One row per trial: study, number, state, value, params, final metrics, times, error."""
    rows: list[dict[str, Any]] = []
    param_cols: list[str] = []
    metric_cols: list[str] = []
    for record in records:
        for t in store.get_trials(record.study_id):
            for k in t.params:
                if k not in param_cols:
                    param_cols.append(k)
            for k in t.metrics:
                if k not in metric_cols:
                    metric_cols.append(k)
            row = {
                "study": record.name,
                "number": t.number,
                "state": t.state.value,
                "value": t.value,
                "seconds": t.seconds,
                "started_at": t.started_at,
                "finished_at": t.finished_at,
                "seed": t.seed,
                "worker": t.attrs.get("worker"),
                "device": t.attrs.get("device"),
                "error": t.error,
            }
            row.update({f"param.{k}": v for k, v in t.params.items()})
            row.update({f"metric.{k}": v for k, v in t.metrics.items()})
            rows.append(row)
    head = ["study", "number", "state", "value"]
    tail = ["seconds", "started_at", "finished_at", "seed", "worker", "device", "error"]
    columns = head + [f"param.{c}" for c in param_cols] + [f"metric.{c}" for c in metric_cols] + tail
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buf.getvalue()


def export_text(store: StudyStore, records: Iterable[StudyRecord], fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose csv or json")
    return export_csv(store, records) if fmt == "csv" else export_json(store, records)


def _default_mode(path: Path) -> int:
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file, so a failure never leaves half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp, _default_mode(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


CONFIG_FORMATS = ("json", "toml", "python")


def format_config(params: dict[str, Any], fmt: str) -> str:
    """A configuration as text to paste elsewhere: JSON, a TOML table, or a Python dict literal."""
    if fmt == "json":
        return json.dumps({k: _json_number(v) for k, v in params.items()}, indent=2)
    if fmt == "toml":
        from .spec import dumps_toml

        return dumps_toml({"params": dict(params)})
    if fmt == "python":
        body = ",\n".join(f"    {k!r}: {v!r}" for k, v in params.items())
        return "{\n" + body + ",\n}" if params else "{}"
    raise ValueError(f"unknown format {fmt!r}; choose json, toml or python")
