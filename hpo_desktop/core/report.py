"""The HTML report of a study: insights, best trials, charts and the spec, in one page.

Qt-free: the charts arrive as PNG file names drawn elsewhere (hpo_desktop.gui.report).
Every user-given string is escaped; the page needs no network and no script.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .insights import Insight
from .storage import StudyRecord
from .trial import FrozenTrial, TrialState


@dataclass(frozen=True)
class Figure:
    title: str
    filename: str  # relative to the report's folder


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return str(v) if not math.isfinite(v) else f"{v:.4g}"
    return str(v)


def best_trials(trials: Sequence[FrozenTrial], direction: str, n: int = 10) -> list[FrozenTrial]:
    done = [t for t in trials if t.state == TrialState.COMPLETE and t.has_finite_value]
    return sorted(done, key=lambda t: t.value, reverse=direction == "maximize")[:n]


def render_html(
    record: StudyRecord,
    trials: Sequence[FrozenTrial],
    insights: Sequence[Insight],
    figures: Sequence[Figure],
    spec_toml: str | None,
    *,
    generated_at: str,
    version: str,
) -> str:
    e = html.escape
    counts: dict[str, int] = {}
    for t in trials:
        counts[t.state.value] = counts.get(t.state.value, 0) + 1
    count_text = ", ".join(f"{n} {state}" for state, n in counts.items()) or "no trials yet"
    best = best_trials(trials, record.direction)
    params = list(dict.fromkeys(k for t in best for k in t.params))

    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(record.name)} — HPO Desktop report</title>",
        "<style>",
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}",
        "h1{margin-bottom:.2em} .sub{color:#666;margin-top:0}",
        "table{border-collapse:collapse;margin:1em 0;font-size:.92em}",
        "th,td{border:1px solid #ddd;padding:.3em .6em;text-align:right}",
        "th{background:#f3f5f8} td.l,th.l{text-align:left}",
        "figure{margin:1.5em 0} figure img{max-width:100%;border:1px solid #e3e3e3}",
        "figcaption{color:#555;font-size:.9em} pre{background:#f6f8fa;padding:1em;overflow:auto}",
        "li{margin:.3em 0}",
        "</style></head><body>",
        f"<h1>{e(record.name)}</h1>",
        f'<p class="sub">{e(record.direction)} <b>{e(record.metric)}</b> · '
        f"{e(str(record.strategy.get('kind', '?')))} search · {len(trials)} trials ({e(count_text)})"
        f" · generated {e(generated_at)} by HPO Desktop {e(version)}</p>",
        "<h2>Insights</h2>",
    ]
    if insights:
        parts.append("<ul>" + "".join(f"<li>{e(i.text)}</li>" for i in insights) + "</ul>")
    else:
        parts.append("<p>No insights yet: no trial has completed.</p>")

    parts.append("<h2>Best trials</h2>")
    if best:
        head = "".join(f"<th>{e(p)}</th>" for p in params)
        rows = []
        for t in best:
            cells = "".join(f"<td>{e(_fmt(t.params[p])) if p in t.params else ''}</td>" for p in params)
            secs = "" if t.seconds is None else f"{t.seconds:.1f}"
            rows.append(f"<tr><td>{t.number}</td><td>{e(_fmt(t.value))}</td>{cells}<td>{secs}</td></tr>")
        parts.append(
            f"<table><tr><th>#</th><th>{e(record.metric)}</th>{head}<th>seconds</th></tr>"
            + "".join(rows)
            + "</table>"
        )
    else:
        parts.append("<p>No trial has completed with a finite value yet.</p>")

    if figures:
        parts.append("<h2>Charts</h2>")
        for f in figures:
            parts.append(
                f'<figure><img src="{e(f.filename)}" alt="{e(f.title)}"><figcaption>{e(f.title)}</figcaption></figure>'
            )
    if spec_toml:
        parts.append("<h2>Study spec</h2>")
        parts.append("<p>Run it again with <code>hpo-desktop run spec.toml</code>.</p>")
        parts.append(f"<pre>{e(spec_toml)}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def spec_toml_for(record: StudyRecord) -> str | None:
    """The study as a spec file, when it was made from one (it has [data]/[model] extras)."""
    from .spec import dumps_toml

    extra = record.spec or {}
    doc: dict[str, Any] = {
        "study": {"name": record.name, "metric": record.metric, "direction": record.direction},
        "strategy": dict(record.strategy),
    }
    if record.budget:
        doc["study"]["trials"] = record.budget
    if record.seed is not None:
        doc["study"]["seed"] = record.seed
    if extra.get("description"):
        doc["study"]["description"] = extra["description"]
    if extra.get("data"):
        doc["data"] = dict(extra["data"])
    if extra.get("model"):
        doc["model"] = dict(extra["model"])
    doc["space"] = dict(record.space)
    return dumps_toml(doc)
