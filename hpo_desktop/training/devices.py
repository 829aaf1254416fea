"""Where training runs: pick CUDA, Apple MPS or the CPU, and say which in plain words."""

from __future__ import annotations

import re

import torch

from .params import ModelConfigError

DEVICE_SETTINGS = ("auto", "cpu", "cuda", "mps")


class DeviceError(ModelConfigError):
    """The ``[model] device`` asked for is not usable on this machine."""


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(setting: str = "auto") -> torch.device:
    """The torch device for a ``[model] device`` setting: auto, cpu, cuda, cuda:N or mps.

    ``auto`` prefers CUDA, then MPS, then the CPU. Forcing a device that is absent raises
    :class:`DeviceError` rather than silently training somewhere else.
    """
    if not isinstance(setting, str) or not (setting in DEVICE_SETTINGS or re.fullmatch(r"cuda:\d+", setting)):
        raise DeviceError(f"[model] 'device' must be one of auto, cpu, cuda, cuda:N, mps; got {setting!r}")
    if setting == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if setting.startswith("cuda"):
        if not torch.cuda.is_available():
            built = torch.version.cuda is not None
            why = "no CUDA GPU is visible" if built else "this PyTorch build has no CUDA support"
            raise DeviceError(f"[model] device = {setting!r}, but {why}; use device = 'auto' or 'cpu'")
        index = int(setting.split(":")[1]) if ":" in setting else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise DeviceError(
                f"[model] device = {setting!r}, but only {torch.cuda.device_count()} CUDA device(s) are visible"
            )
        return torch.device("cuda", index)
    if setting == "mps":
        if not _mps_available():
            raise DeviceError("[model] device = 'mps', but Apple's Metal (MPS) backend is not available here")
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(setting: str | torch.device = "auto") -> str:
    """A short label for the GUI and logs, e.g. "CUDA: NVIDIA H100 80GB HBM3" or "CPU (2 threads)"."""
    device = setting if isinstance(setting, torch.device) else resolve_device(setting)
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS (Metal)"
    n = torch.get_num_threads()
    return f"CPU ({n} thread{'s' if n != 1 else ''})"
