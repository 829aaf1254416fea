"""Study spec files: one TOML file describes a whole study.

The shape is a public contract (see docs/spec.md)::

    [study]     name, metric, direction, trials, seed, description
    [strategy]  kind = "grid" | "random" | "bayesian", plus that strategy's options
    [data]      what to train on (checked by hpo_desktop.training)
    [model]     what to train and fixed training values (checked by hpo_desktop.training)
    [space]     the search space, one inline table per parameter

Every problem is a :class:`SpecError` whose message names the section and key,
and the line when it can be found. This module reads data only: nothing in a
spec is executed.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .space import SearchSpace, SpaceError
from .strategies import STRATEGIES, StrategyError, make_strategy

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SECTIONS = ("study", "strategy", "data", "model", "space", "objective", "pruner", "execution")
#: Keys of ``[execution]`` (how trials run: docs/parallel.md). ``float`` keys take integers too.
EXECUTION_KEYS = {
    "workers": int,
    "backend": str,
    "address": str,
    "cpus_per_trial": float,
    "gpus_per_trial": float,
}
#: Where trials run: worker processes on this machine, or a Ray cluster.
BACKENDS = ("local", "ray")
#: ``[execution]`` keys that only the Ray backend takes.
RAY_KEYS = ("address", "cpus_per_trial", "gpus_per_trial")
#: The most worker processes a study may ask for.
MAX_WORKERS = 256
#: Keys of ``[objective]`` (a user objective script, see docs/scripts.md).
OBJECTIVE_KEYS = ("script", "time_limit")
STUDY_KEYS = {
    "name": str,
    "metric": str,
    "direction": str,
    "trials": int,
    "seed": int,
    "description": str,
    "max_failures_in_row": int,
}
MAX_SPEC_BYTES = 1_000_000


class SpecError(ValueError):
    """A problem in a spec file; the message names the key (and line where known)."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        self.source = source
        self.line = line
        where = source or "spec"
        if line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {message}")
        self.detail = message


@dataclass(frozen=True)
class StudySpec:
    """A validated study description (the [data] and [model] tables are passed on as they are)."""

    name: str
    metric: str
    direction: str
    trials: int
    space: SearchSpace
    strategy: dict[str, Any]
    seed: int | None = 0
    description: str = ""
    max_failures_in_row: int = 10
    data: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    pruner: dict[str, Any] = field(default_factory=dict)  # [pruner]: {"kind": ..., **options}; {} = none
    objective: dict[str, Any] = field(default_factory=dict)
    execution: dict[str, Any] = field(default_factory=dict)  # [execution]: {"workers": N, ...}; {} = 1

    @property
    def workers(self) -> int:
        """How many trials run at once ([execution] workers, default 1; with the Ray backend an
        unset value means "as many as the cluster holds", decided when the study starts)."""
        return int(self.execution.get("workers", 1))

    @property
    def backend(self) -> str:
        """Where trials run: "local" (this machine, the default) or "ray" (docs/parallel.md)."""
        return str(self.execution.get("backend", "local"))

    @property
    def base_dir(self) -> Path:
        """Relative paths in the spec are relative to the spec file's folder."""
        return self.path.parent if self.path else Path.cwd()

    def to_dict(self) -> dict[str, Any]:
        study: dict[str, Any] = {
            "name": self.name,
            "metric": self.metric,
            "direction": self.direction,
            "trials": self.trials,
        }
        if self.seed is not None:
            study["seed"] = self.seed
        if self.description:
            study["description"] = self.description
        if self.max_failures_in_row != 10:
            study["max_failures_in_row"] = self.max_failures_in_row
        out: dict[str, Any] = {"study": study, "strategy": dict(self.strategy)}
        if self.data:
            out["data"] = dict(self.data)
        if self.model:
            out["model"] = dict(self.model)
        if self.objective:
            out["objective"] = dict(self.objective)
        if self.pruner and self.pruner.get("kind", "none") != "none":
            out["pruner"] = dict(self.pruner)
        if self.execution:
            out["execution"] = dict(self.execution)
        out["space"] = self.space.to_dict()
        return out

    def to_toml(self) -> str:
        return dumps_toml(self.to_dict())

    @property
    def extra(self) -> dict[str, Any]:
        """What the study store keeps beside the space and strategy ([data], [model], description)."""
        out = {"data": dict(self.data), "model": dict(self.model), "description": self.description}
        if self.objective:
            out["objective"] = dict(self.objective)
        if self.execution:
            out["execution"] = dict(self.execution)
        return out

    @property
    def script(self) -> str | None:
        """The user script this study runs ([objective] or [model] ``script``), relative to
        :attr:`base_dir`; None for the built-in networks."""
        return script_of(self.model, self.objective)


def load_spec(path: str | Path) -> StudySpec:
    """Read and validate a spec file."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise SpecError("no such file", source=source)
    if path.is_dir():
        raise SpecError("is a folder, not a spec file", source=source)
    if path.stat().st_size > MAX_SPEC_BYTES:
        raise SpecError(
            f"is larger than {MAX_SPEC_BYTES // 1000} kB; a spec file is a short text file", source=source
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SpecError("is not a UTF-8 text file (is it a study .db file?)", source=source) from None
    except OSError as exc:
        raise SpecError(f"cannot be read: {exc.strerror or exc}", source=source) from None
    return parse_spec(text, source=source, path=path.resolve())


def parse_spec(text: str, *, source: str = "spec", path: Path | None = None) -> StudySpec:
    """Validate spec text; ``path`` anchors relative paths and the default study name."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", msg)
        line = int(m.group(1)) if m else None
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        raise SpecError(f"not valid TOML: {msg}", source=source, line=line) from None
    return spec_from_dict(doc, source=source, path=path, text=text)


def spec_from_dict(
    doc: Mapping[str, Any], *, source: str = "spec", path: Path | None = None, text: str = ""
) -> StudySpec:
    """Validate a spec given as a plain dict (the shape of :meth:`StudySpec.to_dict`).

    ``text`` (the TOML source, when there is one) lets messages give line numbers.
    """
    lines = _Lines(text)

    def fail(message: str, section: str | None = None, key: str | None = None) -> SpecError:
        return SpecError(message, source=source, line=lines.find(section, key))

    for section in doc:
        if section not in SECTIONS:
            raise fail(f"unknown section [{section}] (allowed: {', '.join(SECTIONS)})", section)
        if not isinstance(doc[section], Mapping):
            raise fail(f"'{section}' must be a [{section}] table", section)

    study = dict(doc.get("study", {}))
    for key, value in study.items():
        if key not in STUDY_KEYS:
            raise fail(f"[study] unknown key '{key}' (allowed: {', '.join(STUDY_KEYS)})", "study", key)
        _check_type("study", key, value, STUDY_KEYS[key], fail)
    default_name = path.stem if path else "study"
    name = study.get("name", default_name).strip()
    if not name:
        raise fail("[study] name must not be empty", "study", "name")
    if "metric" not in study:
        raise fail("[study] needs a 'metric' (e.g. metric = \"val_accuracy\")", "study")
    metric = study["metric"].strip()
    if not metric:
        raise fail("[study] metric must not be empty", "study", "metric")
    direction = study.get("direction", "minimize")
    if direction not in ("minimize", "maximize"):
        raise fail(
            f'[study] direction must be "minimize" or "maximize", got {direction!r}', "study", "direction"
        )
    trials = study.get("trials", 20)
    if trials < 1:
        raise fail(f"[study] trials must be at least 1, got {trials}", "study", "trials")
    seed = study.get("seed", 0)
    max_fail = study.get("max_failures_in_row", 10)
    if max_fail < 1:
        raise fail("[study] max_failures_in_row must be at least 1", "study", "max_failures_in_row")

    if "space" not in doc or not doc["space"]:
        raise fail("[space] is missing or empty: add at least one parameter", "space")
    try:
        space = SearchSpace.from_dict(doc["space"])
    except SpaceError as exc:
        first = exc.problems[0]
        key = first.param if first.param in doc["space"] else None
        detail = str(exc) if len(exc.problems) > 1 else str(first)
        raise fail(f"[space] {detail}", "space", key) from None

    strategy = dict(doc.get("strategy", {"kind": "bayesian"}))
    kind = strategy.get("kind", "bayesian")
    if kind not in STRATEGIES:
        raise fail(
            f"[strategy] kind must be one of {', '.join(STRATEGIES)}; got {kind!r}", "strategy", "kind"
        )
    strategy["kind"] = kind
    options = {k: v for k, v in strategy.items() if k != "kind"}
    try:
        make_strategy(kind, space, seed=seed, direction=direction, **options)
    except (StrategyError, SpaceError, ValueError) as exc:
        bad_key = next((k for k in options if f"'{k}'" in str(exc)), None)
        raise fail(f"[strategy] {exc}", "strategy", bad_key) from None

    return StudySpec(
        name=name,
        metric=metric,
        direction=direction,
        trials=trials,
        space=space,
        strategy=strategy,
        seed=seed,
        description=study.get("description", ""),
        max_failures_in_row=max_fail,
        data=dict(doc.get("data", {})),
        model=dict(doc.get("model", {})),
        path=path,
        pruner=_check_pruner(doc, seed, direction, fail),
        objective=_check_scripts(doc, path, fail),
        execution=_check_execution(doc, fail),
    )


def script_of(model: Mapping[str, Any], objective: Mapping[str, Any] | None) -> str | None:
    """The script named by an ``[objective]`` or ``[model]`` table (None: the built-in networks)."""
    if objective and objective.get("script"):
        return str(objective["script"])
    script = model.get("script") if isinstance(model, Mapping) else None
    return str(script) if script else None


def _check_scripts(doc: Mapping[str, Any], path: Path | None, fail: Any) -> dict[str, Any]:
    """Check ``[objective]`` and ``[model] script`` / ``time_limit`` (the file must exist when
    the spec has a path; nothing is read or run). Returns the [objective] table."""
    objective = dict(doc.get("objective", {}))
    model = doc.get("model", {})
    for key in objective:
        if key not in OBJECTIVE_KEYS:
            raise fail(
                f"[objective] unknown key '{key}' (allowed: {', '.join(OBJECTIVE_KEYS)})", "objective", key
            )
    if "objective" in doc and "script" not in objective:
        raise fail("[objective] needs a 'script' (e.g. script = \"train.py\")", "objective")
    if objective and "script" in model:
        raise fail(
            "[model] script cannot be combined with [objective]: use [objective] for a script that "
            "trains by itself, or [model] script for a network our trainer trains",
            "model",
            "script",
        )
    for unused in ("data", "model"):
        if objective and doc.get(unused):
            raise fail(
                f"[{unused}] is not used with [objective]: the objective script loads its own data and "
                f"builds its own model (leave [{unused}] out)",
                unused,
            )
    for section, table in (("objective", objective), ("model", model)):
        if section == "model" and "script" not in table:
            if "time_limit" in table:
                raise fail("[model] time_limit applies to a [model] script only", "model", "time_limit")
            continue
        if not table:
            continue
        script = table["script"]
        if not isinstance(script, str) or not script.strip():
            raise fail(
                f"[{section}] script must be the path of a .py file, got {script!r}", section, "script"
            )
        if not script.endswith(".py"):
            raise fail(f"[{section}] script must be a .py file, got {script!r}", section, "script")
        if section == "model" and "kind" in table:
            raise fail(
                "[model] kind cannot be combined with script: the script's build_model is the network",
                "model",
                "kind",
            )
        if path is not None:
            file = path.parent / script
            if not file.is_file():
                raise fail(f"[{section}] script '{script}' not found (looked for {file})", section, "script")
        if "time_limit" in table:
            limit = table["time_limit"]
            ok = isinstance(limit, (int, float)) and not isinstance(limit, bool)
            if not ok or not math.isfinite(limit) or limit <= 0:
                raise fail(
                    f"[{section}] time_limit must be a positive number of seconds, got {limit!r}",
                    section,
                    "time_limit",
                )
    return objective


def _check_pruner(doc: Mapping[str, Any], seed: Any, direction: str, fail: Any) -> dict[str, Any]:
    """Check ``[pruner]`` (kind + that pruner's options); returns it, or {} for none."""
    from .pruners import PRUNERS, PrunerError, make_pruner

    table = dict(doc.get("pruner", {}))
    if not table:
        return {}
    kind = table.get("kind")
    if kind is None:
        raise fail(f"[pruner] needs a 'kind' ({', '.join(PRUNERS)})", "pruner")
    if kind not in PRUNERS:
        raise fail(f"[pruner] kind must be one of {', '.join(PRUNERS)}; got {kind!r}", "pruner", "kind")
    try:
        make_pruner(table, direction=direction, seed=seed)
    except PrunerError as exc:
        bad_key = next((k for k in table if k != "kind" and f"'{k}'" in str(exc)), None)
        raise fail(f"[pruner] {exc}", "pruner", bad_key) from None
    return {} if kind == "none" else table


def _check_execution(doc: Mapping[str, Any], fail: Any) -> dict[str, Any]:
    """Check ``[execution]`` (docs/parallel.md); returns it ({} for the default: one trial at a
    time on this machine)."""
    table = dict(doc.get("execution", {}))
    for key, value in table.items():
        if key not in EXECUTION_KEYS:
            allowed = ", ".join(EXECUTION_KEYS)
            raise fail(f"[execution] unknown key '{key}' (allowed: {allowed})", "execution", key)
        typ = EXECUTION_KEYS[key]
        if typ is float and isinstance(value, int) and not isinstance(value, bool):
            table[key] = value = float(value)
        _check_type("execution", key, value, typ, fail)
    return check_execution(table, fail)


def check_execution(table: Mapping[str, Any], fail: Any = None) -> dict[str, Any]:
    """The checks of ``[execution]`` shared by specs, the CLI's ``--workers``/``--ray`` and the
    window; returns the table without its defaults ({} = one trial at a time, locally)."""
    fail = fail or (lambda message, *_where: ValueError(message))
    table = dict(table)
    backend = table.get("backend", "local")
    if backend not in BACKENDS:
        raise fail(
            f"[execution] backend must be one of {', '.join(map(repr, BACKENDS))}, got {backend!r}",
            "execution",
            "backend",
        )
    workers = table.get("workers", 1)
    if not 1 <= workers <= MAX_WORKERS:
        raise fail(
            f"[execution] workers must be between 1 and {MAX_WORKERS}, got {workers}", "execution", "workers"
        )
    if backend == "local":
        for key in RAY_KEYS:
            if key in table:
                raise fail(
                    f'[execution] {key} is for backend = "ray" only (this study runs locally)',
                    "execution",
                    key,
                )
    else:
        address = table.get("address", "auto")
        if not address.strip():
            raise fail(
                '[execution] address must be "auto", "local", "ray://host:port" or "host:port", got an empty string',
                "execution",
                "address",
            )
        cpus = table.get("cpus_per_trial", 1.0)
        if not 0 < cpus <= 1024:
            raise fail(
                f"[execution] cpus_per_trial must be above 0, got {cpus:g}", "execution", "cpus_per_trial"
            )
        gpus = table.get("gpus_per_trial", 0.0)
        if not 0 <= gpus <= 64:
            raise fail(
                f"[execution] gpus_per_trial must be 0 or more, got {gpus:g}", "execution", "gpus_per_trial"
            )
    if table.get("workers") == 1:
        del table["workers"]
    if table.get("backend") == "local":
        del table["backend"]
    return table


def _check_type(section: str, key: str, value: Any, typ: type, fail: Any) -> None:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    ok = isinstance(value, typ) and not (typ is int and isinstance(value, bool))
    if not ok:
        raise fail(f"[{section}] {key} must be {names[typ]}, got {value!r}", section, key)


class _Lines:
    """Find the line of ``[section]`` or of ``key =`` inside it, for messages."""

    def __init__(self, text: str):
        self.lines = text.splitlines()

    def find(self, section: str | None, key: str | None = None) -> int | None:
        if section is None:
            return None
        current = None
        header = None
        for i, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            m = re.match(r"^\[\s*([^\]\s]+)\s*\]", line)
            if m:
                current = m.group(1)
                if current == section and header is None:
                    header = i
                    if key is None:
                        return i
                continue
            if current == section and key is not None:
                km = re.match(r'^("?)([^"=]+?)\1\s*=', line)
                if km and km.group(2).strip() == key:
                    return i
        return header


# -- writing TOML ---------------------------------------------------------------------------

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _toml_str(key)  # not match + "$": "$" allows a final "\n"


def _toml_str(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    out = "".join(c if ord(c) >= 0x20 and ord(c) != 0x7F else f"\\u{ord(c):04x}" for c in out)
    return f'"{out}"'


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_toml_key(str(k))} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {v!r} to TOML")


def dumps_toml(doc: Mapping[str, Mapping[str, Any]]) -> str:
    """Write a two-level document (tables of scalars, lists and inline tables) as TOML."""
    parts: list[str] = []
    for section, table in doc.items():
        lines = [f"[{_toml_key(section)}]"]
        width = max((len(_toml_key(str(k))) for k in table), default=0)
        for k, v in table.items():
            if v is None:
                continue
            lines.append(f"{_toml_key(str(k)).ljust(width)} = {_toml_value(v)}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"
