"""HPO Desktop: find good hyperparameters for a neural network, on your own workstation.

The public Python API::

    from hpo_desktop import Study, Float, Int, Categorical, Fixed

Names are imported on first use so that ``hpo-desktop --help`` starts fast.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Categorical": "hpo_desktop.core.space",
    "Fixed": "hpo_desktop.core.space",
    "Float": "hpo_desktop.core.space",
    "Int": "hpo_desktop.core.space",
    "SearchSpace": "hpo_desktop.core.space",
    "Study": "hpo_desktop.core.study",
    "StudyControl": "hpo_desktop.core.study",
    "FrozenTrial": "hpo_desktop.core.trial",
    "TrialState": "hpo_desktop.core.trial",
    "TrialFailed": "hpo_desktop.core.trial",
    "TrialPruned": "hpo_desktop.core.trial",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hpo_desktop' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
