"""What every experiment shares: settings, data, provenance, statistics over seeds, verdicts, JSON.

An experiment module defines ``NAME``, ``SECTION``, ``PAPER_CLAIM`` (the paper's words),
``PROFILES`` (``ci``: minutes on two CPU cores; ``full``: the real setting, for a GPU), ``CHECKS``
and ``compute(settings, data, device, progress, deadline) -> dict``. :func:`execute` resolves the
settings, loads CIFAR-10 (or, under ``ci`` only, a generated stand-in when none is found -- said
plainly in the JSON), runs ``compute`` and writes ``results/<experiment>/<profile>.json`` with
provenance: command, git commit, device, date, wall time, data set.
"""
from __future__ import annotations

import json
import math
import os
import platform
import shlex
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from .. import machine
from ..profiles import resolve
from .tensors import load_cifar10

__all__ = ["ROOT", "execute", "hard_deadline", "summarise", "verdict", "resolve_device", "device_name", "git_commit",
           "result_path", "load_result", "COMMON_CHECKS"]

ROOT = Path(__file__).resolve().parent.parent.parent

#: Checks every profile shares (settings each experiment has).
COMMON_CHECKS = {
    "seeds": lambda v: isinstance(v, int) and v >= 1,
    "train_per_class": lambda v: v is None or v >= 1,
    "test_per_class": lambda v: v is None or v >= 1,
    "max_seconds": lambda v: v is None or v > 0,
}


def resolve_device(device: str | None = "auto") -> torch.device:
    """``"auto"`` (or ``None``): CUDA when available, else the CPU; otherwise ``device`` itself."""
    return machine.resolve_device(device, what="device")


def device_name(device: torch.device) -> str:
    """A human-readable name of the machine part that ran the experiment."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda}, torch {torch.__version__})"
    threads = torch.get_num_threads()
    return f"CPU {platform.processor() or platform.machine()}, {threads} thread(s) (torch {torch.__version__})"


def git_commit(root: Path = ROOT) -> str:
    """``git rev-parse HEAD`` of the checkout (``+dirty`` if it has uncommitted changes).

    Without git (a copy of the working tree on a GPU machine) ``$ALEXNET_GIT_COMMIT``, else ``unknown``.
    """
    fallback = os.environ.get("ALEXNET_GIT_COMMIT", "unknown")
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return fallback
    return (head + ("+dirty" if dirty else "")) if head else fallback


def summarise(values: list[float | None]) -> dict[str, Any]:
    """Mean, sample standard deviation, min, max and count of the finite ``values``."""
    vals = [float(v) for v in values if v is not None and math.isfinite(v)]
    n = len(vals)
    if n == 0:
        return {"mean": None, "std": None, "min": None, "max": None, "n": 0, "values": list(values)}
    mean = sum(vals) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "std": std, "min": min(vals), "max": max(vals), "n": n, "values": list(values)}


def verdict(improvements: list[float], claim: str, what: str, min_effect: float = 0.0) -> dict[str, Any]:
    """Does the paper's claimed improvement show up? ``improvements`` > 0 means "as the paper says".

    "agrees": the mean improvement is positive and larger than both one standard error over seeds
    and ``min_effect`` (the resolution of the measurement, e.g. three test images' worth of error);
    "disagrees": negative by as much; else "inconclusive" (within the noise).
    ``agrees_with_paper`` is true only for "agrees".
    """
    s = summarise(improvements)
    if s["n"] == 0:
        word = "inconclusive"
        text = f"no finished runs, so nothing to compare for {what}"
    else:
        se = max(s["std"] / math.sqrt(s["n"]) if s["n"] > 1 else 0.0, min_effect)
        if s["mean"] > se:
            word = "agrees"
        elif s["mean"] < -se:
            word = "disagrees"
        else:
            word = "inconclusive"
        text = (f"{what}: mean {s['mean']:+.4f} (std {s['std']:.4f} over {s['n']} seed(s); positive = as the paper "
                f"says) -> {word}" + (f" (within max(one standard error, {min_effect:.4f}) of zero)" if word == "inconclusive" else ""))
    return {"paper_claim": claim, "verdict": word, "agrees_with_paper": word == "agrees", "explanation": text,
            "improvement": s}


def hard_deadline(deadline: float | None, s: dict) -> float | None:
    """Where a run is cut short: the soft ``deadline`` (no new seed after it) plus 30% of ``max_seconds``."""
    return None if deadline is None else deadline + 0.3 * s["max_seconds"]


def result_path(name: str, profile: str, root: Path = ROOT) -> Path:
    """``results/<experiment>/<profile>.json`` under the repository root."""
    return root / "results" / name / f"{profile}.json"


def load_result(name: str, profile: str = "full", root: Path = ROOT) -> dict | None:
    """The committed result of an experiment (``None`` when there is none yet)."""
    path = result_path(name, profile, root)
    return json.loads(path.read_text()) if path.exists() else None


def execute(exp: ModuleType, profile: str = "ci", *, out: str | Path | None = None, device: str | None = "auto",
            data: str | Path | None = None, progress: bool = False, command: str | None = None,
            **overrides: Any) -> dict:
    """Run experiment module ``exp`` under ``profile`` and write its JSON; returns the result.

    ``out``: the JSON file (default ``results/<experiment>/<profile>.json``); a folder means
    ``<folder>/<experiment>/<profile>.json``. ``overrides`` replace profile settings (``None`` =
    keep). Under ``ci`` a missing CIFAR-10 falls back to generated data; under ``full`` it is an error.
    """
    settings = resolve(exp.PROFILES, profile, {**COMMON_CHECKS, **getattr(exp, "CHECKS", {})}, **overrides)
    dev = resolve_device(device)
    wall = time.time()
    start = time.perf_counter()
    tensors = load_cifar10(data, train_per_class=settings["train_per_class"], test_per_class=settings["test_per_class"],
                           allow_synthetic=(profile == "ci"))
    if tensors.synthetic:
        print(f"NOTE: no CIFAR-10 found; {exp.NAME} runs on GENERATED data: {tensors.description}", file=sys.stderr)
    load_seconds = time.perf_counter() - start
    tensors = tensors.to(dev)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    deadline = start + settings["max_seconds"] if settings.get("max_seconds") else None
    body = exp.compute(settings, tensors, dev, progress=progress, deadline=deadline)
    if command is None:
        given = " ".join(f"--set {k}={json.dumps(v)}" for k, v in overrides.items() if v is not None)
        command = f"python -m alexnet experiment {exp.NAME} --profile {profile}" + (f" {given}" if given else "")
    result = {
        "experiment": exp.NAME,
        "profile": profile,
        "paper_section": exp.SECTION,
        "paper_claim": exp.PAPER_CLAIM,
        "setting_note": settings.get("note", ""),
        "settings": settings,
        "data": {"description": tensors.description, "synthetic": tensors.synthetic, "root": tensors.root,
                 "train_images": len(tensors.train_y), "test_images": len(tensors.test_y),
                 "decoded_from_cache": bool(tensors.stats.get("from_cache", False)), "load_seconds": round(load_seconds, 2)},
        **body,
        "provenance": {
            "command": command,
            "git_commit": git_commit(),
            "device": device_name(dev),
            "date": datetime.fromtimestamp(wall, timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": round(time.perf_counter() - start, 2),
            "python": sys.version.split()[0],
            "host": platform.node(),
        },
    }
    path = Path(out) if out is not None else result_path(exp.NAME, profile)
    if path.suffix != ".json":
        path = path / exp.NAME / f"{profile}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, default=_jsonable) + "\n")
    result["path"] = str(path)
    return result


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, (tuple, set)):
        return list(obj)
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)


def shell_join(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)
