"""What runs a study's trials, from its sections: one function for the CLI and the window.

* ``[execution]`` with ``workers > 1`` or ``backend = "ray"``: an executor (worker processes on
  this machine, training/pool.py, or Ray actors, training/ray_backend.py);
* else a ``[model]``/``[objective]`` script: a :class:`~hpo_desktop.training.scripts.ScriptObjective`
  (one child process);
* else the built-in trainer in this process (:class:`~hpo_desktop.training.objective.Objective`).

Every runner has ``device_label`` and ``data_summary``; each is checked and started here (the
data loaded, the script's pre-flight check run), so bad input fails before the first trial.
Importing this module does not import torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def runs_in_workers(execution: Mapping[str, Any]) -> bool:
    """Whether ``[execution]`` asks for an executor (several workers, or a Ray cluster)."""
    return execution.get("backend") == "ray" or int(execution.get("workers") or 1) > 1


def make_runner(
    data: Mapping[str, Any],
    model: Mapping[str, Any],
    objective: Mapping[str, Any] | None,
    *,
    execution: Mapping[str, Any],
    metric: str,
    direction: str,
    base_dir: Path,
    space: Any,
    sha256: str | None = None,
) -> Any:
    """The objective or executor for these sections. A script must have been trusted already
    (``sha256``: the hash the child checks before running it)."""
    if runs_in_workers(execution):
        from .pool import make_executor

        return make_executor(
            data,
            model,
            objective,
            metric=metric,
            direction=direction,
            base_dir=base_dir,
            workers=execution.get("workers"),
            space=space,
            sha256=sha256,
            execution=execution,
        )
    from .scripts import make_script_objective, script_path

    if script_path(model, objective, base_dir) is not None:
        return make_script_objective(
            data,
            model,
            objective,
            metric=metric,
            direction=direction,
            base_dir=base_dir,
            space=space,
            sha256=sha256,
        )
    from .objective import make_objective
    from .params import check_space

    check_space(space)
    return make_objective(data, model, metric=metric, direction=direction, base_dir=base_dir)
