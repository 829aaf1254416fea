"""The optimizer of one training run, with a lean per-batch step.

For a small network most of ``torch.optim``'s step time is Python around the arithmetic: hooks,
profiler records, regrouping the tensors by device and dtype on every call. For Adam, AdamW and
SGD this module calls torch's own fused kernel directly, with the state lists built once: the same
update (a test compares it with ``torch.optim`` step by step) at a tenth of the overhead. RMSprop,
a torch without the kernel for this device, and float16 AMP (whose loss scaler needs the
optimizer object) use ``torch.optim`` as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch

_BETAS = (0.9, 0.999)
_EPS = 1e-8


class LeanOptimizer:
    """``step()``, ``zero_grad()`` and ``set_lr()`` over a ``torch.optim`` optimizer (``.torch``).

    ``p`` holds ``optimizer`` (sgd, adam, adamw, rmsprop), ``learning_rate``, ``weight_decay``
    and ``momentum`` (sgd only). Adam and RMSprop apply weight decay as an L2 term, AdamW decoupled.
    """

    def __init__(
        self, parameters: Iterable[torch.nn.Parameter], p: Mapping[str, Any], *, fast: bool = True
    ) -> None:
        self.params = [q for q in parameters if q.requires_grad]
        self.name = str(p["optimizer"])
        self.lr = float(p["learning_rate"])
        self.weight_decay = float(p["weight_decay"])
        self.momentum = float(p["momentum"]) if self.name == "sgd" else 0.0
        self.torch = self._torch_optimizer()
        self._kernel = self._fused_kernel() if fast else None
        self._steps: list[torch.Tensor] = []
        self._buffers: tuple[list[torch.Tensor], ...] = ()
        self._lr_tensor: torch.Tensor | None = None

    @property
    def is_fast(self) -> bool:
        """True when steps go straight to torch's fused kernel."""
        return self._kernel is not None

    def _torch_optimizer(self) -> torch.optim.Optimizer:
        lr, wd = self.lr, self.weight_decay
        if self.name == "sgd":
            return torch.optim.SGD(self.params, lr=lr, momentum=self.momentum, weight_decay=wd)
        if self.name == "adam":
            return torch.optim.Adam(self.params, lr=lr, betas=_BETAS, eps=_EPS, weight_decay=wd)
        if self.name == "adamw":
            return torch.optim.AdamW(self.params, lr=lr, betas=_BETAS, eps=_EPS, weight_decay=wd)
        if self.name == "rmsprop":
            return torch.optim.RMSprop(self.params, lr=lr, weight_decay=wd)
        raise ValueError(f"unknown optimizer {self.name!r}")

    def _fused_kernel(self) -> Any:
        """torch's fused kernel for this optimizer, if it runs on these parameters' device and dtype."""
        kernel = {"adam": "_fused_adam_", "adamw": "_fused_adamw_", "sgd": "_fused_sgd_"}.get(self.name)
        if kernel is None or not self.params or not hasattr(torch, kernel):
            return None
        first = self.params[0]
        if any(q.device != first.device or q.dtype != first.dtype for q in self.params):
            return None
        if not first.dtype.is_floating_point:
            return None
        # Probe on a one-element tensor: older torch builds have no CPU (or MPS) fused kernels.
        try:
            probe = torch.zeros(1, device=first.device, dtype=first.dtype)
            if self.name == "sgd":
                torch._fused_sgd_(
                    [probe], [probe.clone()], [probe.clone()], weight_decay=0.0, momentum=0.9, lr=0.1,
                    dampening=0.0, nesterov=False, maximize=False, is_first_step=True,
                )  # fmt: skip
            else:
                getattr(torch, kernel)(
                    [probe], [probe.clone()], [probe.clone()], [probe.clone()], [],
                    [torch.ones((), device=first.device, dtype=torch.float32)],
                    lr=0.1, beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8, amsgrad=False, maximize=False,
                )  # fmt: skip
        except (RuntimeError, NotImplementedError, TypeError):
            return None
        return getattr(torch, kernel)

    def use_tensor_lr(self) -> None:
        """Keep the learning rate in a device tensor, so a captured CUDA graph sees schedule changes."""
        if self._kernel is not None and self._lr_tensor is None:
            self._lr_tensor = torch.tensor(self.lr, dtype=torch.float32, device=self.params[0].device)

    def set_lr(self, lr: float) -> None:
        """Set the learning rate (the trainer's schedule calls this once per epoch)."""
        self.lr = float(lr)
        for group in self.torch.param_groups:
            group["lr"] = self.lr
        if self._lr_tensor is not None:
            self._lr_tensor.fill_(self.lr)

    def zero_grad(self) -> None:
        for q in self.params:
            q.grad = None

    def step(self) -> None:
        if self._kernel is None:
            self.torch.step()
            return
        # A parameter the batch did not reach has no gradient: the fused kernel takes it as zero.
        grads = [q.grad if q.grad is not None else torch.zeros_like(q) for q in self.params]
        lr: float | torch.Tensor = self._lr_tensor if self._lr_tensor is not None else self.lr
        if self.name == "sgd":
            first = not self._buffers
            if first:
                self._buffers = ([torch.empty_like(g) for g in grads] if self.momentum else [],)
            self._kernel(
                self.params, grads, self._buffers[0], weight_decay=self.weight_decay, momentum=self.momentum,
                lr=lr, dampening=0.0, nesterov=False, maximize=False, is_first_step=first and self.momentum > 0,
            )  # fmt: skip
            return
        if not self._buffers:
            self._buffers = (
                [torch.zeros_like(q) for q in self.params],
                [torch.zeros_like(q) for q in self.params],
            )
            self._steps = [torch.zeros((), device=q.device, dtype=torch.float32) for q in self.params]
        torch._foreach_add_(self._steps, 1)
        self._kernel(
            self.params, grads, self._buffers[0], self._buffers[1], [], self._steps,
            lr=lr, beta1=_BETAS[0], beta2=_BETAS[1], weight_decay=self.weight_decay, eps=_EPS,
            amsgrad=False, maximize=False,
        )  # fmt: skip
