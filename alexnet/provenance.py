"""Where a number was made: the checkout's git commit, the machine, the device, one record of a run.

Every training run, experiment, benchmark and export records where it ran, so that no number in the
book stands without its machine and its code. Each fact is read here, once:

* :func:`git_commit`: the checkout's commit (``<hash>-dirty`` with uncommitted changes);
* :func:`cpu_model`, :func:`usable_cores`, :func:`load_average`: the machine;
* :func:`resolve_device`: the device a ``--device``/``device`` setting asks for, one clear error
  when it names a device this machine lacks; :func:`device_label`, :func:`device_description`:
  how records and pages name it;
* :class:`Provenance`, made by :func:`record`: the one shape in which every run folder, experiment,
  benchmark and export records where it ran (command, commit, device, date, wall time, host,
  versions).
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping

import torch

from .errors import AlexNetError

__all__ = ["ROOT", "git_commit", "is_dirty", "cpu_model", "usable_cores", "load_average", "resolve_device",
           "device_label", "device_description", "Provenance", "record", "command_line", "utc_now"]

#: The repository checkout holding the package (results/, runs/, notebooks/ live here).
ROOT = Path(__file__).resolve().parent.parent
#: The package's version (``alexnet.__version__``; pyproject.toml gives the same), recorded in every provenance.
PACKAGE_VERSION = "0.1.0"


def git_commit(root: Path = ROOT) -> str:
    """``git rev-parse HEAD`` of the checkout, ``-dirty`` appended when tracked files outside
    ``results/`` have changes.

    Without git (a copy of the working tree on another machine) ``$ALEXNET_GIT_COMMIT``, else
    ``unknown``.
    """
    fallback = os.environ.get("ALEXNET_GIT_COMMIT", "unknown")
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10)
        if head.returncode != 0 or not head.stdout.strip():
            return fallback
        # results/ is left out: an experiment rewrites its own committed result while it runs
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--", ".",
                                ":(exclude)results"], capture_output=True, text=True, timeout=10).stdout.strip()
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
    setting ``what`` when the name is no device, asks for CUDA and there is none, or for a CUDA
    index beyond the machine's devices.
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
        count = torch.cuda.device_count()
        if dev.index is None:
            dev = torch.device("cuda", local_rank % count)
        elif dev.index >= count:
            raise AlexNetError(f"{what} {name}: this machine has {count} CUDA device{'s' if count != 1 else ''} "
                               f"(cuda:0{f' to cuda:{count - 1}' if count > 1 else ''})")
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


def utc_now() -> str:
    """The current date and time in UTC, ISO 8601 to the second (how every record dates itself)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def command_line(argv: list[str] | None = None) -> str:
    """This process's command as a user would type it: ``python -m alexnet ...`` for the package's
    command line (however it was started), ``python -m PACKAGE ...`` for another package run with
    ``-m``, else the program's name and its arguments."""
    argv = list(sys.argv if argv is None else argv)
    if not argv:
        return ""
    prog = Path(argv[0])
    if prog.name == "__main__.py":  # python -m PACKAGE
        return " ".join([f"python -m {prog.parent.name}", *argv[1:]])
    if prog.name == "alexnet":  # the installed script
        return " ".join(["python -m alexnet", *argv[1:]])
    return " ".join([prog.name, *argv[1:]])


def _versions() -> dict[str, str]:
    import numpy
    import torchvision

    return {"alexnet": PACKAGE_VERSION, "python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "numpy": numpy.__version__}


@dataclasses.dataclass
class Provenance:
    """Where and with what a result was made: the one provenance record of the project.

    A run folder's ``config.json``, an experiment's ``results/<name>/<profile>.json``, a benchmark's
    JSON and an exported results folder's ``provenance.json`` all hold this shape under the key
    ``provenance`` (an export holds two: the training run's and the export's own).
    """

    command: str                      # the command line that made the result
    git_commit: str                   # the checkout's commit, ``-dirty`` with uncommitted changes
    device: str                       # the device in words (:func:`device_description`)
    date: str                         # when it started, UTC, ISO 8601
    host: str = ""
    versions: dict[str, str] = dataclasses.field(default_factory=dict)  # alexnet, python, torch, ...
    wall_seconds: float | None = None  # how long it took (``None`` while it runs)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def finished(self, wall_seconds: float) -> Provenance:
        """This record with its wall time filled in."""
        return dataclasses.replace(self, wall_seconds=round(float(wall_seconds), 2))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], source: str = "provenance") -> Provenance:
        """Read a record back; raises :class:`AlexNetError` naming ``source`` and the missing key."""
        missing = [k for k in ("command", "git_commit", "device", "date") if k not in values]
        if missing:
            raise AlexNetError(f"{source}: the provenance record lacks {', '.join(missing)} "
                               f"(it has {sorted(values)})")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def record(device: torch.device | str, command: str | None = None) -> Provenance:
    """The provenance of a result being made now on ``device`` by ``command`` (default: this
    process's command line); :meth:`Provenance.finished` adds the wall time at the end."""
    return Provenance(command=command_line() if command is None else command, git_commit=git_commit(),
                      device=device_description(torch.device(device)), date=utc_now(), host=socket.gethostname(),
                      versions=_versions())
