"""Train one network for one trial, fast: the whole data set lives on the device as tensors.

No DataLoader and no per-sample work: each epoch draws one ``torch.randperm`` on the device,
gathers the shuffled rows once and slices mini-batches from them. Losses are summed on the device
and read back once per epoch, so the GPU is never made to wait on the Python side mid-epoch.
Validation runs in large batches under ``torch.inference_mode``.
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hpo_desktop.core.trial import TrialFailed

from .cuda_graphs import WARMUP_STEPS, GraphedStep
from .datasets import PreparedData
from .models import build_model, count_parameters
from .optim import LeanOptimizer

#: Metrics the trainer reports every epoch, per task (besides ``epoch_seconds``).
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "classification": ("train_loss", "val_loss", "val_accuracy"),
    "regression": ("train_loss", "val_loss", "val_rmse", "val_r2"),
}
#: The natural direction of each metric (the GUI's default when the user picks one).
METRIC_DIRECTIONS: dict[str, str] = {
    "train_loss": "minimize",
    "val_loss": "minimize",
    "val_accuracy": "maximize",
    "val_rmse": "minimize",
    "val_r2": "maximize",
}
#: Rows per forward pass when evaluating.
EVAL_CHUNK = 16384
#: How often (seconds) the trainer asks ``trial.should_stop()`` in the middle of a long epoch.
STOP_CHECK_INTERVAL = 0.5

#: ``model_fn(params, input_shape, n_outputs) -> nn.Module``: a network other than the built-in ones
#: (a user's ``build_model``, see :mod:`hpo_desktop.training.scripts`).
ModelFn = Callable[[Mapping[str, Any], tuple[int, ...], int], nn.Module]


class TrialHandle(Protocol):
    """What the study loop hands to an objective (the trainer only uses these members)."""

    number: int
    seed: int
    params: dict[str, Any]

    def report(self, step: int, **metrics: float) -> None: ...

    def should_stop(self) -> bool: ...


@dataclass
class QuietTrial:
    """A trial handle that records reports and never stops: for final evaluations and benchmarks."""

    seed: int = 0
    number: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    reports: list[tuple[int, dict[str, float]]] = field(default_factory=list)

    def report(self, step: int, **metrics: float) -> None:
        self.reports.append((step, metrics))

    def should_stop(self) -> bool:
        return False


class DeviceData:
    """The prepared splits as tensors on one device, made once and shared by every trial.

    Regression targets are standardized with the training mean and std for training; metrics
    in original units (``val_rmse``) are computed after undoing it.
    """

    def __init__(self, data: PreparedData, device: torch.device, *, with_test: bool = False) -> None:
        self.device = device
        self.task = data.task
        self.input_shape = data.input_shape
        self.n_outputs = data.n_outputs
        classification = data.task == "classification"
        y_dtype = torch.int64 if classification else torch.float32

        def put(array: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
            return torch.tensor(np.ascontiguousarray(array), dtype=dtype, device=device)

        self.X_train = put(data.X_train, torch.float32)
        self.X_val = put(data.X_val, torch.float32)
        self.y_train = put(data.y_train, y_dtype)
        self.y_val = put(data.y_val, y_dtype)
        self.X_test = put(data.X_test, torch.float32) if with_test else None
        self.y_test = put(data.y_test, y_dtype) if with_test else None
        if classification:
            self.y_mean, self.y_std = 0.0, 1.0
        else:
            self.y_mean = float(np.mean(data.y_train))
            std = float(np.std(data.y_train))
            self.y_std = std if std > 1e-12 else 1.0
            self.y_train = (self.y_train - self.y_mean) / self.y_std

    @property
    def has_validation(self) -> bool:
        return len(self.y_val) > 0


@dataclass
class TrainResult:
    """Final metrics (the values at the best epoch, plus bookkeeping) and, when asked for, the model."""

    metrics: dict[str, float]
    model: nn.Module | None = None
    cuda_graph: bool = False  # True when full batches replayed a captured CUDA graph


@dataclass
class _Progress:
    """What the failure paths need to know about a run that broke off."""

    n_params: int | None = None
    batch_size: int | None = None


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)


def scheduled_lr(base: float, schedule: str, epoch: int, epochs: int) -> float:
    """Learning rate for ``epoch`` (0-based): constant, cosine to 0 over the run, or x0.1 per third."""
    if schedule == "cosine":
        return base * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
    if schedule == "step":
        return base * 0.1 ** (epoch // max(1, epochs // 3))
    return base


def amp_dtype_for(device: torch.device, amp: bool) -> torch.dtype | None:
    """bfloat16 where the GPU has it (no loss scaling needed), else float16; None when off."""
    if not amp or device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _loss(out: torch.Tensor, y: torch.Tensor, task: str) -> torch.Tensor:
    if task == "classification":
        return F.cross_entropy(out.float(), y)
    return F.mse_loss(out.float().squeeze(-1), y)


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    dd: DeviceData,
    X: torch.Tensor,
    y: torch.Tensor,
    amp_dtype: torch.dtype | None = None,
    prefix: str = "val_",
) -> dict[str, float]:
    """Loss and accuracy (or RMSE and R²) of ``model`` on ``X``/``y``, computed on the device and
    read back in one transfer. Names start with ``prefix`` ("val_loss", "test_rmse", ...)."""
    model.train(False)  # eval mode
    with torch.autocast(dd.device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
        out = torch.cat([model(X[i : i + EVAL_CHUNK]) for i in range(0, len(X), EVAL_CHUNK)])
    out = out.float()
    if dd.task == "classification":
        loss = F.cross_entropy(out, y)
        acc = (out.argmax(dim=1) == y).float().mean()
        values = torch.stack([loss, acc]).tolist()
        return {f"{prefix}loss": values[0], f"{prefix}accuracy": values[1]}
    pred_std = out.squeeze(-1)
    loss = F.mse_loss(pred_std, (y - dd.y_mean) / dd.y_std)
    pred = pred_std * dd.y_std + dd.y_mean
    sse = torch.sum((pred - y) ** 2)
    sst = torch.sum((y - y.mean()) ** 2)
    values = torch.stack([loss, sse, sst]).tolist()
    rmse = math.sqrt(values[1] / len(y))
    r2 = 1.0 - values[1] / values[2] if values[2] > 0 else math.nan
    return {f"{prefix}loss": values[0], f"{prefix}rmse": rmse, f"{prefix}r2": r2}


def _better(value: float, best: float | None, direction: str) -> bool:
    if not math.isfinite(value):
        return False
    if best is None:
        return True
    return value < best if direction == "minimize" else value > best


def _fit(
    dd: DeviceData,
    p: Mapping[str, Any],
    trial: TrialHandle,
    kind: str,
    amp: bool,
    metric: str,
    direction: str,
    keep_model: bool,
    cuda_graphs: bool,
    progress: _Progress,
    model_fn: ModelFn | None = None,
) -> TrainResult:
    started = time.perf_counter()
    device = dd.device
    n = len(dd.y_train)
    batch = max(1, min(int(p["batch_size"]), n))
    progress.batch_size = batch
    clip = float(p["grad_clip"])
    patience = int(p["patience"])
    if metric != "train_loss" and not dd.has_validation:
        raise ValueError(f"metric {metric!r} needs a validation split")

    _seed_everything(int(trial.seed))
    if model_fn is None:
        with torch.device("meta"):  # the size first, for the out-of-memory message, at no cost
            progress.n_params = count_parameters(build_model(kind, p, dd.input_shape, dd.n_outputs))
        with device:  # weights are created (and initialized) on the device itself
            model = build_model(kind, p, dd.input_shape, dd.n_outputs)
    else:  # a user's network: built as written (no meta-device pass), then moved
        model = model_fn(p, dd.input_shape, dd.n_outputs)
        if not isinstance(model, nn.Module):
            raise TrialFailed(f"build_model returned {type(model).__name__}, not a torch.nn.Module")
        model = model.to(device)
        progress.n_params = count_parameters(model)
    n_params = progress.n_params
    amp_dtype = amp_dtype_for(device, amp)
    scaler = torch.amp.GradScaler("cuda") if amp_dtype == torch.float16 else None
    opt = LeanOptimizer(model.parameters(), p, fast=scaler is None)
    generator = torch.Generator(device=device)
    generator.manual_seed(int(trial.seed))
    params = list(model.parameters())
    total = torch.zeros((), device=device)  # the epoch's summed training loss, never read mid-epoch

    def step(xb: torch.Tensor, yb: torch.Tensor) -> None:
        """One eager training step on a batch (also what a CUDA graph captures)."""
        if amp_dtype is None:
            loss = _loss(model(xb), yb, dd.task)
        else:
            with torch.autocast(device.type, dtype=amp_dtype, cache_enabled=False):
                loss = _loss(model(xb), yb, dd.task)
        opt.zero_grad()
        if scaler is not None:
            scaler.scale(loss).backward()
            if clip > 0:
                scaler.unscale_(opt.torch)
                nn.utils.clip_grad_norm_(params, clip)
            scaler.step(opt.torch)
            scaler.update()
        else:
            loss.backward()
            if clip > 0:
                nn.utils.clip_grad_norm_(params, clip)
            opt.step()
        total.add_(loss.detach(), alpha=len(xb))

    graphed: GraphedStep | None = None
    if cuda_graphs and device.type == "cuda" and scaler is None and opt.is_fast and n // batch > WARMUP_STEPS:
        opt.use_tensor_lr()
        graphed = GraphedStep(batch, dd.X_train, dd.y_train, params)

    best: dict[str, float] | None = None
    best_value: float | None = None
    best_epoch = 0
    best_state: dict[str, torch.Tensor] | None = None
    since_best = 0
    epochs_run = 0
    next_check = time.perf_counter() + STOP_CHECK_INTERVAL

    epochs = int(p["epochs"])
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        opt.set_lr(scheduled_lr(float(p["learning_rate"]), str(p["lr_schedule"]), epoch - 1, epochs))
        model.train()
        perm = torch.randperm(n, device=device, generator=generator)
        X, y = dd.X_train[perm], dd.y_train[perm]
        total.zero_()
        seen = 0
        stopped = False
        for start in range(0, n, batch):
            stop = min(start + batch, n)
            if stop - start == 1 and start > 0:
                break  # a last batch of one row breaks batch norm and adds only noise: skip it
            xb, yb = X[start:stop], y[start:stop]
            if graphed is None:
                step(xb, yb)
            elif stop - start < batch:  # the partial batch at the end of the epoch
                step(xb, yb)
                if graphed.ready:
                    graphed.restore_grads()
            elif graphed.ready:
                graphed.replay(xb, yb)
            elif graphed.warmups < WARMUP_STEPS:
                graphed.warm_up(step, xb, yb)
            elif graphed.capture(step):
                graphed.replay(xb, yb)
            else:
                graphed = None
                step(xb, yb)
            seen += stop - start
            if time.perf_counter() >= next_check:
                next_check = time.perf_counter() + STOP_CHECK_INTERVAL
                if trial.should_stop():  # cancel or pause while a long epoch runs
                    stopped = True
                    break
        if stopped:
            break  # the unfinished epoch is not reported

        train_loss = total.item() / seen
        if not math.isfinite(train_loss):
            raise TrialFailed(f"diverged: training loss became {_word(train_loss)} at epoch {epoch}")
        metrics = {"train_loss": train_loss}
        if dd.has_validation:
            metrics.update(evaluate(model, dd, dd.X_val, dd.y_val, amp_dtype))
            if not math.isfinite(metrics["val_loss"]):
                raise TrialFailed(
                    f"diverged: validation loss became {_word(metrics['val_loss'])} at epoch {epoch}"
                )
        epochs_run = epoch
        trial.report(epoch, **metrics, epoch_seconds=time.perf_counter() - t0)

        if _better(metrics[metric], best_value, direction):
            best, best_value, best_epoch, since_best = metrics, metrics[metric], epoch, 0
            if keep_model:
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            since_best += 1
        if patience and since_best >= patience:
            break
        if trial.should_stop():
            break
        next_check = time.perf_counter() + STOP_CHECK_INTERVAL

    final = dict(best or {})
    final.update(
        best_epoch=best_epoch,
        epochs_run=epochs_run,
        n_params=n_params,
        train_seconds=time.perf_counter() - started,
    )
    used_graph = graphed is not None and graphed.ready
    del graphed  # the graph's private memory pool goes with it
    if keep_model:
        if best_state is not None:
            model.load_state_dict(best_state)
        model.train(False)  # eval mode
        return TrainResult(final, model, cuda_graph=used_graph)
    return TrainResult(final, cuda_graph=used_graph)


def _word(value: float) -> str:
    return "nan" if math.isnan(value) else "inf"


def _release(device: torch.device) -> None:
    """Give cached accelerator memory back so the next trial (or another program) can use it."""
    if device.type == "cuda":
        gc.collect()
        torch.cuda.empty_cache()
    elif device.type == "mps":
        gc.collect()
        torch.mps.empty_cache()


def train(
    data: DeviceData,
    params: Mapping[str, Any],
    trial: TrialHandle,
    *,
    kind: str = "mlp",
    amp: bool = False,
    metric: str = "val_loss",
    direction: str = "minimize",
    keep_model: bool = False,
    cuda_graphs: bool = True,
    model_fn: ModelFn | None = None,
) -> TrainResult:
    """Train one network and report every epoch through ``trial``.

    ``params`` holds every model and training hyperparameter (see
    :func:`hpo_desktop.training.params.resolve_params`). Returns the metrics at the best epoch by
    ``metric``/``direction`` plus ``best_epoch``, ``epochs_run``, ``n_params`` and
    ``train_seconds``; with ``keep_model`` also the network holding the best epoch's weights.
    On CUDA, full batches replay a captured CUDA graph unless ``cuda_graphs`` is False.
    ``model_fn(params, input_shape, n_outputs)`` replaces the built-in network of ``kind``.

    Raises :class:`TrialFailed` when the loss diverges or the GPU runs out of memory. When
    ``trial.should_stop()`` says so, it stops and returns what it reached.
    """
    progress = _Progress()
    failure: TrialFailed | None = None
    try:
        return _fit(
            data, params, trial, kind, amp, metric, direction, keep_model, cuda_graphs, progress, model_fn
        )
    except TrialFailed as exc:
        # Drop the traceback: its frames hold the model and optimizer, which must be freed first.
        failure = exc.with_traceback(None)
    except torch.cuda.OutOfMemoryError:
        failure = TrialFailed(_oom_message("CUDA", progress))
    except RuntimeError as exc:
        if "out of memory" not in str(exc):
            raise
        failure = TrialFailed(_oom_message(data.device.type.upper(), progress))
    finally:
        if failure is not None or not keep_model:
            _release(data.device)
    raise failure


def _oom_message(where: str, progress: _Progress) -> str:
    size = f"a model of {progress.n_params:,} parameters" if progress.n_params is not None else "the model"
    batch = f"batch_size={progress.batch_size}" if progress.batch_size is not None else "this batch size"
    return f"{where} out of memory with {batch} and {size}; try a smaller batch size or a smaller model"
