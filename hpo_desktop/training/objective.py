"""The built-in objective: a study's ``[data]`` and ``[model]`` sections turned into ``objective(params, trial)``.

The data are loaded, encoded and put on the device once; each call trains one network with the
trial's params over the ``[model]`` section's fixed values over the documented defaults
(:mod:`hpo_desktop.training.params`).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from hpo_desktop.core.trial import TrialFailed

from .datasets import PreparedData, load_data
from .devices import describe_device, resolve_device
from .models import build_model
from .params import ALL_PARAMS, MODEL_KINDS, ModelConfigError, check_params, resolve_params
from .trainer import (
    METRIC_DIRECTIONS,
    TASK_METRICS,
    DeviceData,
    QuietTrial,
    TrainResult,
    TrialHandle,
    amp_dtype_for,
    evaluate,
    train,
)

__all__ = [
    "METRIC_DIRECTIONS",
    "MODEL_SECTION_KEYS",
    "ModelConfigError",
    "Objective",
    "describe_device",
    "evaluate_test",
    "make_objective",
    "metrics_for_task",
]

#: ``[model]`` keys that set up the run rather than a hyperparameter.
SETUP_KEYS: dict[str, str] = {
    "kind": "network: mlp or cnn (cnn needs image data)",
    "device": "auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps",
    "amp": "mixed precision on CUDA (true/false, default false)",
    "cuda_graphs": "replay each training step as one CUDA graph on CUDA (true/false, default true)",
}
#: Every key a ``[model]`` section may hold: the setup keys plus a fixed value for any hyperparameter.
MODEL_SECTION_KEYS: tuple[str, ...] = (*SETUP_KEYS, *ALL_PARAMS)


def metrics_for_task(task: str) -> tuple[str, ...]:
    """Metric names the trainer can optimize for a task ("classification" or "regression")."""
    return TASK_METRICS[task]


def _check_model_section(model: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``[model]`` into setup values (kind, device, amp) and fixed hyperparameters, checked."""
    if not isinstance(model, Mapping):
        raise ModelConfigError(f"[model] must be a table of keys, got {type(model).__name__}")
    for key in model:
        if key not in MODEL_SECTION_KEYS:
            close = difflib.get_close_matches(str(key), MODEL_SECTION_KEYS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ModelConfigError(
                f"[model] unknown key '{key}' (allowed: {', '.join(MODEL_SECTION_KEYS)}){hint}"
            )
    kind = model.get("kind", "mlp")
    if kind not in MODEL_KINDS:
        raise ModelConfigError(f"[model] 'kind' must be one of {', '.join(MODEL_KINDS)}, got {kind!r}")
    for key in ("amp", "cuda_graphs"):
        if key in model and not isinstance(model[key], bool):
            raise ModelConfigError(f"[model] '{key}' must be true or false, got {model[key]!r}")
    device = model.get("device", "auto")
    if not isinstance(device, str):
        raise ModelConfigError(f"[model] 'device' must be a string, got {device!r}")
    setup = {
        "kind": kind,
        "amp": model.get("amp", False),
        "cuda_graphs": model.get("cuda_graphs", True),
        "device": device,
    }
    fixed = check_params({k: v for k, v in model.items() if k not in SETUP_KEYS}, where="[model]")
    return setup, fixed


def _check_metric(metric: str, direction: str, task: str) -> None:
    allowed = TASK_METRICS[task]
    if metric not in allowed:
        other = next((t for t, names in TASK_METRICS.items() if metric in names), None)
        why = (
            f"is not produced for a {task} task" if other else "is not a metric the built-in trainer reports"
        )
        raise ModelConfigError(f"metric '{metric}' {why} (available: {', '.join(allowed)})")
    if direction not in ("minimize", "maximize"):
        raise ModelConfigError(f"direction must be 'minimize' or 'maximize', got {direction!r}")


class Objective:
    """``objective(params, trial) -> metrics``: trains one network per call on data loaded once.

    Attributes for callers: ``data`` (the :class:`PreparedData`), ``device`` (a torch device),
    ``device_label`` (e.g. "CUDA: NVIDIA H100 80GB HBM3"), ``metric``, ``direction``, ``kind``.
    """

    def __init__(
        self,
        data: PreparedData,
        setup: Mapping[str, Any],
        fixed: Mapping[str, Any],
        *,
        metric: str,
        direction: str,
    ) -> None:
        self.data = data
        self.kind: str = setup["kind"]
        self.amp: bool = setup["amp"]
        self.cuda_graphs: bool = setup["cuda_graphs"]
        self.device = resolve_device(setup["device"])
        self.device_label = describe_device(self.device)
        self.fixed = dict(fixed)
        self.metric = metric
        self.direction = direction
        self._device_data: DeviceData | None = None

    @property
    def data_summary(self) -> str:
        """One line about the data (as the script and worker runners have)."""
        return self.data.summary()

    def params_for(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Every hyperparameter for a trial: its params over ``[model]`` over the defaults.

        Raises :class:`ModelConfigError` naming a parameter the trainer does not know or a bad value.
        """
        return resolve_params({**self.fixed, **check_params(params)})

    def __call__(self, params: Mapping[str, Any], trial: TrialHandle) -> dict[str, float]:
        try:
            resolved = self.params_for(params)
        except ModelConfigError as exc:
            raise TrialFailed(str(exc)) from None
        if self._device_data is None:
            self._device_data = DeviceData(self.data, self.device)
        result = train(
            self._device_data,
            resolved,
            trial,
            kind=self.kind,
            amp=self.amp,
            metric=self.metric,
            direction=self.direction,
            cuda_graphs=self.cuda_graphs,
        )
        return result.metrics

    def release(self) -> None:
        """Free the data's device copy (it is made again on the next call)."""
        self._device_data = None
        if self.device.type == "cuda":
            torch.cuda.empty_cache()


def make_objective(
    data: Mapping[str, Any],
    model: Mapping[str, Any],
    *,
    metric: str,
    direction: str,
    base_dir: Path | None = None,
) -> Objective:
    """Check ``[data]`` and ``[model]``, load the data once, and return the objective.

    Raises :class:`~hpo_desktop.training.datasets.DataError` for the data and
    :class:`ModelConfigError` for the model section, the device, or a metric the trainer cannot
    produce for this task; each message names the key.
    """
    setup, fixed = _check_model_section(model)
    prepared = load_data(data, base_dir)
    if setup["kind"] == "cnn" and not prepared.is_image:
        raise ModelConfigError(
            f"[model] kind = 'cnn' needs image data, but '{prepared.name}' is tabular "
            f"({prepared.n_features} features); use kind = 'mlp'"
        )
    _check_metric(metric, direction, prepared.task)
    return Objective(prepared, setup, fixed, metric=metric, direction=direction)


def evaluate_test(
    data: PreparedData,
    params: Mapping[str, Any],
    model_section: Mapping[str, Any],
    seed: int,
    *,
    include_validation: bool = False,
    metric: str = "val_loss",
    direction: str = "minimize",
) -> dict[str, float]:
    """Retrain once with ``params`` and score the held-out test split.

    By default it trains on the training split, keeps the weights of the best epoch on the
    validation split (by ``metric``), and scores those. With ``include_validation`` it trains on
    training + validation for the full ``epochs`` (no early stopping: there is nothing left to
    stop on) and scores the final weights. Returns ``test_loss`` and ``test_accuracy`` or
    ``test_rmse``/``test_r2``, plus ``n_params``, ``epochs_run``, ``train_seconds``, ``n_test``.
    """
    if len(data.y_test) == 0:
        raise ValueError("this data has no test split ([data] test = 0)")
    setup, fixed = _check_model_section(model_section)
    resolved = resolve_params({**fixed, **check_params(params)})
    device = resolve_device(setup["device"])
    build_model(setup["kind"], resolved, data.input_shape, data.n_outputs)  # fail early on a bad kind
    if include_validation:
        data = data.with_validation_in_training()
        resolved["patience"] = 0
        metric, direction = "train_loss", "minimize"
    else:
        _check_metric(metric, direction, data.task)
    dd = DeviceData(data, device, with_test=True)
    result: TrainResult = train(
        dd,
        resolved,
        QuietTrial(seed=seed, params=dict(params)),
        kind=setup["kind"],
        amp=setup["amp"],
        metric=metric,
        direction=direction,
        keep_model=True,
        cuda_graphs=setup["cuda_graphs"],
    )
    assert result.model is not None
    scores = evaluate(
        result.model, dd, dd.X_test, dd.y_test, amp_dtype_for(device, setup["amp"]), prefix="test_"
    )
    out = {
        **scores,
        "n_params": result.metrics["n_params"],
        "epochs_run": result.metrics["epochs_run"],
        "best_epoch": result.metrics["best_epoch"],
        "train_seconds": result.metrics["train_seconds"],
        "n_test": len(data.y_test),
    }
    del result, dd
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return out
