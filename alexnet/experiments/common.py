"""What every experiment shares: settings, data, provenance, statistics over seeds, verdicts, JSON.

An experiment module defines ``NAME``, ``SECTION``, ``PAPER_CLAIM`` (the paper's words),
``PROFILES`` (``ci``: minutes on two CPU cores; ``full``: all of CIFAR-10), ``CHECKS`` and
``compute(settings, data, device, records, progress) -> dict``, which trains each of its runs
through ``records.run(key, train)`` (:mod:`.records`). :func:`execute` resolves the settings,
loads CIFAR-10 (or, under ``ci`` only, a generated stand-in when none is found -- said plainly in
the JSON), runs ``compute`` and writes ``results/<experiment>/<profile>.json`` with provenance:
command, git commit, device, date, wall time, data set. The JSON is rewritten after every finished
run with ``progress.complete = false`` and the summaries of the runs done so far, so a stopped
experiment leaves a partial result, and running it again continues where it stopped.
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from ..files import atomic_write
from ..profiles import resolve
from ..provenance import ROOT, record, resolve_device
from .records import Records, records_path
from .result import DataUsed, ExperimentResult, Progress, Verdict, read_result
from ..data.tensors import load_cifar10

__all__ = ["execute", "summarise", "verdict", "t_interval", "result_path", "load_result", "COMMON_CHECKS"]

#: Checks every profile shares (settings each experiment has).
COMMON_CHECKS = {
    "seeds": lambda v: isinstance(v, int) and v >= 1,
    "train_per_class": lambda v: v is None or v >= 1,
    "test_per_class": lambda v: v is None or v >= 1,
}

#: Two-sided 95% quantiles of Student's t distribution for 1..30 degrees of freedom.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def summarise(values: list[float | None]) -> dict[str, Any]:
    """Mean, sample standard deviation, min, max and count of the finite ``values``."""
    vals = [float(v) for v in values if v is not None and math.isfinite(v)]
    n = len(vals)
    if n == 0:
        return {"mean": None, "std": None, "min": None, "max": None, "n": 0, "values": list(values)}
    mean = sum(vals) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else 0.0
    return {"mean": mean, "std": std, "min": min(vals), "max": max(vals), "n": n, "values": list(values)}


def t_interval(values: list[float], level: float = 0.95) -> tuple[float, float] | None:
    """The 95% confidence interval of the mean of ``values`` (Student's t; ``None`` for fewer than 2)."""
    if level != 0.95:
        raise ValueError("only the 95% interval is tabulated")
    s = summarise(values)
    if s["n"] < 2:
        return None
    t = _T95[s["n"] - 2] if s["n"] - 1 <= len(_T95) else 1.96
    half = t * s["std"] / math.sqrt(s["n"])
    return (s["mean"] - half, s["mean"] + half)


def verdict(improvements: list[float], claim: str, what: str, min_effect: float = 0.0,
            paper_effect: float | None = None) -> dict[str, Any]:
    """Does the paper's claimed improvement show up? ``improvements`` > 0 means "as the paper says".

    One improvement per seed (paired differences). The 95% confidence interval of their mean
    decides: "agrees" when the whole interval lies above ``min_effect`` (the resolution of the
    measurement, e.g. three test images' worth of error), "disagrees" when it lies below
    ``-min_effect``; otherwise "equivalent" when the interval lies inside
    ``+-paper_effect`` (the effect the paper reports: whatever the true difference is, it is smaller
    than the paper's), else "inconclusive": our scale cannot tell. With one seed there is no
    interval and the verdict is "inconclusive". ``agrees_with_paper`` is true only for "agrees";
    ``half_width`` is the interval's half-width, to set beside ``paper_effect``.
    """
    s = summarise(improvements)
    interval = t_interval(improvements)
    half = (interval[1] - interval[0]) / 2 if interval is not None else None
    if s["n"] == 0:
        word = "inconclusive"
        text = f"no finished runs, so nothing to compare for {what}"
    else:
        word = _verdict_word(interval, min_effect, paper_effect)
        ci = (f"95% interval [{interval[0]:+.4f}, {interval[1]:+.4f}]" if interval is not None
              else "no interval from one seed")
        text = (f"{what}: mean {s['mean']:+.4f} over {s['n']} seed(s), {ci}; positive = as the paper says -> {word}"
                + (f" (the interval does not clear +/-{min_effect:.4f})" if word == "inconclusive" and interval
                   else "")
                + (f" (it lies inside the paper's effect +/-{paper_effect:.4f})" if word == "equivalent" else ""))
    return {"paper_claim": claim, "verdict": word, "agrees_with_paper": word == "agrees", "explanation": text,
            "improvement": s, "interval": list(interval) if interval is not None else None,
            "min_effect": min_effect, "paper_effect": paper_effect, "half_width": half}


def _verdict_word(interval: tuple[float, float] | None, min_effect: float, paper_effect: float | None) -> str:
    """The verdict rule of :func:`verdict` on a 95% interval."""
    if interval is None:
        return "inconclusive"
    lo, hi = interval
    if lo > min_effect:
        return "agrees"
    if hi < -min_effect:
        return "disagrees"
    if paper_effect is not None and -paper_effect <= lo and hi <= paper_effect:
        return "equivalent"
    return "inconclusive"


def result_path(name: str, profile: str, root: Path = ROOT) -> Path:
    """``results/<experiment>/<profile>.json`` under the repository root."""
    return root / "results" / name / f"{profile}.json"


def load_result(name: str, profile: str = "full", root: Path = ROOT) -> ExperimentResult | None:
    """The committed result of an experiment (``None`` when there is none yet)."""
    path = result_path(name, profile, root)
    return read_result(path) if path.exists() else None


def execute(exp: ModuleType, profile: str = "ci", *, out: str | Path | None = None, device: str | None = "auto",
            data: str | Path | None = None, progress: bool = False, command: str | None = None,
            resume: bool | None = None, **overrides: Any) -> ExperimentResult:
    """Run experiment ``exp`` under ``profile`` and write its JSON; returns the result.

    ``out``: the JSON file (default ``results/<experiment>/<profile>.json``); a folder means
    ``<folder>/<experiment>/<profile>.json``. ``overrides`` replace profile settings (``None`` =
    keep). Under ``ci`` a missing CIFAR-10 falls back to generated data; under ``full`` it is an
    error. ``resume`` (default: every profile but ``ci``) reuses the finished runs recorded beside
    the JSON (:mod:`.records`); ``resume=False`` starts afresh.
    """
    shared = {k: ok for k, ok in COMMON_CHECKS.items() if k in exp.PROFILES.get(profile, {})}  # settings it has
    settings = resolve(exp.PROFILES, profile, {**shared, **getattr(exp, "CHECKS", {})}, **overrides)
    dev = resolve_device(device, what="device")
    start = time.perf_counter()
    path = Path(out) if out is not None else result_path(exp.NAME, profile)
    if path.suffix != ".json":
        path = path / exp.NAME / f"{profile}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = _load_data(exp, data, settings, profile, path)
    if tensors.synthetic:
        print(f"NOTE: {exp.NAME} runs on GENERATED data: {tensors.description}", file=sys.stderr)
    load_seconds = time.perf_counter() - start
    tensors = tensors.to(dev)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if command is None:
        given = " ".join(f"--set {k}={json.dumps(v)}" for k, v in overrides.items() if v is not None)
        command = f"python -m alexnet experiment {exp.NAME} --profile {profile}" + (f" {given}" if given else "")
    made = record(dev, command)
    commit = made.git_commit
    n_train, n_test = _sizes(tensors)
    context = {"experiment": exp.NAME, "data": tensors.description.split(" from ")[0], "synthetic": tensors.synthetic,
               "train_images": n_train, "test_images": n_test, "device_type": dev.type}
    records = Records(records_path(path), context, fresh=not (profile != "ci" if resume is None else resume),
                      stamp={"git_commit": commit, "device": made.device})

    def result(complete: bool) -> dict:
        records.replay = not complete
        try:
            body = exp.compute(settings, tensors, dev, records, progress=progress and complete)
        finally:
            records.replay = False
        res = ExperimentResult(
            experiment=exp.NAME, profile=profile, paper_section=exp.SECTION, paper_claim=exp.PAPER_CLAIM,
            setting_note=settings.get("note", ""), settings=settings,
            data=DataUsed(description=tensors.description, synthetic=tensors.synthetic, root=_shown(tensors.root),
                          train_images=n_train, test_images=n_test,
                          decoded_from_cache=bool(tensors.stats.get("from_cache", False)),
                          load_seconds=round(load_seconds, 2)),
            progress=Progress(complete=complete and not records.skipped, **records.provenance()),
            claim=Verdict.from_dict(body, exp.NAME),
            findings={k: v for k, v in body.items() if k not in (*Verdict.FIELDS, *Verdict.OPTIONAL, "paper_claim")},
            provenance=made.finished(time.perf_counter() - start), path=path)
        _write_json(path, res.to_dict())
        return res

    records.on_new = lambda: result(complete=False)
    res = result(complete=True)
    if records.skipped:  # runs that other processes were training: wait for them, train any they left
        n = records.skipped
        print(f"{exp.NAME}: waiting for {n} run{'s' if n != 1 else ''} that another process is training",
              file=sys.stderr)
        records.wait = True
        res = result(complete=True)
    return res


def _load_data(exp: ModuleType, data: str | Path | None, settings: dict, profile: str, path: Path):
    """The experiment's data: its own ``load_data`` (the Imagenette claims' image folder), else CIFAR-10
    as tensors (under ``ci`` a generated stand-in when none is found)."""
    if hasattr(exp, "load_data"):
        return exp.load_data(data, settings, profile, path)
    return load_cifar10(data, train_per_class=settings["train_per_class"], test_per_class=settings["test_per_class"],
                        allow_synthetic=(profile == "ci"))


def _sizes(data) -> tuple[int, int]:
    """Training and test images of the loaded data (tensors, or a described folder)."""
    if hasattr(data, "train_y"):
        return len(data.train_y), len(data.test_y)
    return data.train_images, data.test_images


def _shown(root: Any) -> str | None:
    return None if root is None else str(root)


def _write_json(path: Path, payload: dict) -> None:
    """Write ``payload`` to ``path`` atomically (a kill never leaves half a file)."""
    atomic_write(path, json.dumps(payload, indent=1, default=_jsonable) + "\n")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, (tuple, set)):
        return list(obj)
    if isinstance(obj, torch.Tensor):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)

