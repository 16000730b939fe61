"""The machine a number was measured on, and the device a run asks for.

Every benchmark and experiment records where it ran (CPU model, usable cores, load, GPU), so that no
number in the book stands without its machine.
"""
from __future__ import annotations

import os
import platform
from pathlib import Path

import torch

from .errors import AlexNetError

__all__ = ["cpu_model", "usable_cores", "load_average", "resolve_device"]


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def usable_cores() -> int:
    """Cores this process may run on (its affinity), not the machine's total."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, rounded; ``None`` where the system has none."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def resolve_device(name: str | None, what: str = "--device") -> torch.device:
    """``"auto"``/``None``: CUDA when present, else the CPU; otherwise the named device.

    Raises :class:`AlexNetError` naming the setting ``what`` when it asks for CUDA and there is none.
    """
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError as err:
        raise AlexNetError(f"{what} {name!r} is not a device name ({err})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise AlexNetError(f"{what} {name}: CUDA is not available on this machine")
    return dev
