"""Pruners (early stopping of unpromising trials) and their registry.

Add a pruner = one module with a :class:`Pruner` subclass + one line in :data:`PRUNERS`. The
GUI's strategy panel and the spec loader read the registry (``name``, ``label``, ``help`` and
``options_schema`` of each class). Qt-free and torch-free, like the rest of ``core``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .asha import ASHAPruner
from .base import NoPruner, Pruner, PrunerError
from .hyperband import HyperbandPruner
from .median import MedianPruner
from .patience import PatiencePruner

PRUNERS: dict[str, type[Pruner]] = {
    "none": NoPruner,
    "median": MedianPruner,
    "asha": ASHAPruner,
    "hyperband": HyperbandPruner,
    "patience": PatiencePruner,
}


def pruner_dict(pruner: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """The plain form ``{"kind": ..., **options}`` of a pruner name, table or None ("none")."""
    if pruner is None:
        return {"kind": "none"}
    if isinstance(pruner, str):
        return {"kind": pruner}
    if isinstance(pruner, Mapping):
        out = dict(pruner)
        out.setdefault("kind", "none")
        return out
    raise PrunerError(f"a pruner must be a name or a table, got {pruner!r}")


def make_pruner(
    kind: str | Mapping[str, Any] | None,
    *,
    direction: str = "minimize",
    seed: int | None = 0,
    **options: Any,
) -> Pruner:
    """Build the pruner registered as ``kind`` (or given as a table); PrunerError names a bad option."""
    d = pruner_dict(kind)
    d.update(options)
    name = d.pop("kind")
    cls = PRUNERS.get(name) if isinstance(name, str) else None
    if cls is None:
        names = list(PRUNERS)
        raise PrunerError(f"unknown pruner {name!r}; choose {', '.join(names[:-1])} or {names[-1]}")
    return cls(direction=direction, seed=seed, **d)


__all__ = [
    "PRUNERS",
    "ASHAPruner",
    "HyperbandPruner",
    "MedianPruner",
    "NoPruner",
    "PatiencePruner",
    "Pruner",
    "PrunerError",
    "make_pruner",
    "pruner_dict",
]
