"""Where a number was made: the checkout's git commit, the machine, the device, one record of a run.

Every training run, experiment, benchmark and export records where it ran, so that no number in the
book stands without its machine and its code. Each fact is read here, once:

* :func:`git_commit`: the checkout's commit (``<hash>-dirty`` with uncommitted changes);
* :func:`cpu_model`, :func:`usable_cores`, :func:`load_average`: the machine;
* :func:`resolve_device`: the device a ``--device``/``device`` setting asks for, one clear error
  when it names a device this machine lacks; :func:`device_label`, :func:`device_description`:
  how records and pages name it;
* :func:`record`: the provenance a run folder's ``config.json`` carries.
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import torch

from .errors import AlexNetError

__all__ = ["ROOT", "git_commit", "is_dirty", "cpu_model", "usable_cores", "load_average", "resolve_device",
           "device_label", "device_description", "record"]

#: The repository checkout holding the package (results/, runs/, notebooks/ live here).
ROOT = Path(__file__).resolve().parent.parent


def git_commit(root: Path = ROOT) -> str:
    """``git rev-parse HEAD`` of the checkout, ``-dirty`` appended when tracked files have changes.

    Without git (a copy of the working tree on another machine) ``$ALEXNET_GIT_COMMIT``, else
    ``unknown``.
    """
    fallback = os.environ.get("ALEXNET_GIT_COMMIT", "unknown")
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10)
        if head.returncode != 0 or not head.stdout.strip():
            return fallback
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return fallback
    return head.stdout.strip() + ("-dirty" if dirty else "")


def is_dirty(commit: str | None) -> bool:
    """Whether a recorded commit says the checkout had uncommitted changes (``-dirty``, or ``+dirty``
    in results written before the format was unified)."""
    return bool(commit) and commit.endswith(("-dirty", "+dirty"))


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


def resolve_device(name: str | None, what: str = "--device", local_rank: int = 0) -> torch.device:
    """``"auto"``/``None``: CUDA when present, else the CPU; otherwise the named device.

    A CUDA device without an index is the one of this process's ``local_rank`` (several processes
    on one machine, :mod:`alexnet.training.distributed`). Raises :class:`AlexNetError` naming the
    setting ``what`` when the name is no device, or asks for CUDA and there is none.
    """
    if name in (None, "auto"):
        if not torch.cuda.is_available():
            return torch.device("cpu")
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    try:
        dev = torch.device(name)
    except RuntimeError as err:
        raise AlexNetError(f"{what} {name!r} is not a device name ({err})") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise AlexNetError(f"{what} {name}: CUDA is not available on this machine")
        if dev.index is None:
            dev = torch.device("cuda", local_rank % torch.cuda.device_count())
    return dev


def device_label(device: torch.device | str) -> str:
    """The device as records name it: ``cpu``, or ``cuda:0 (NVIDIA H100 80GB HBM3)``."""
    label = str(device)
    if label.startswith("cuda") and torch.cuda.is_available():
        label += f" ({torch.cuda.get_device_name(torch.device(device))})"
    return label


def device_description(device: torch.device) -> str:
    """The machine part that ran an experiment, in words: GPU and CUDA, or CPU model, cores and threads."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda}, torch {torch.__version__})"
    return (f"CPU {cpu_model()} ({usable_cores()} cores), {torch.get_num_threads()} thread(s) "
            f"(torch {torch.__version__})")


def record(device: torch.device | str) -> dict[str, Any]:
    """Where and with what a run was made: commit, versions, machine, command line, date."""
    import numpy
    import torchvision

    from . import __version__

    return {
        "git_commit": git_commit(),
        "versions": {"alexnet": __version__, "python": platform.python_version(), "torch": torch.__version__,
                     "torchvision": torchvision.__version__, "numpy": numpy.__version__},
        "device": device_label(device),
        "cpu_threads": torch.get_num_threads(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "",
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
