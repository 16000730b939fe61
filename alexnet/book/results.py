"""The committed experiment results a chapter shows, and the quick rerun that checks the code runs.

A chapter reads ``results/<experiment>/full.json`` (written by ``python -m alexnet experiment
<experiment> --profile full``, :mod:`alexnet.experiments`) with :func:`load`; a rerun under ``ci``
(:func:`rerun`) trains into a temporary folder and leaves nothing behind. :func:`status` and
:func:`provenance_line` say what a result is and where it came from, for the page.
"""
from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path
from typing import Any

from ..errors import AlexNetError
from ..experiments.result import ExperimentResult, read_result
from ..provenance import ROOT
from .formatting import count, day, duration, short_commit, short_device

__all__ = ["RESULTS", "result_file", "load", "rerun", "status", "provenance_line", "device_of", "devices_of",
           "glue_values", "not_run_figure"]

#: The repository's committed results.
RESULTS = ROOT / "results"


def result_file(name: str, profile: str = "full") -> str:
    """The result's name in the repository, as a page writes it: ``results/<name>/<profile>.json``."""
    return f"results/{name}/{profile}.json"


def load(name: str, profile: str = "full", results_dir: str | Path | None = None) -> ExperimentResult | None:
    """The result ``<results_dir>/<name>/<profile>.json`` (default: the repository's ``results/``).

    ``None`` when there is none; a file that is not that experiment's result is an error naming it.
    """
    folder = Path(results_dir) if results_dir is not None else RESULTS
    if results_dir is not None and not folder.is_dir():
        raise AlexNetError(f"results_dir {results_dir} is not a folder")
    path = folder / name / f"{profile}.json"
    if not path.exists():
        return None
    r = read_result(path)
    if r.experiment != name:
        raise AlexNetError(f"{path}: a result of experiment {r.experiment!r}, not {name!r}")
    return r


def rerun(name: str, profile: str = "ci", *, results_dir: str | Path | None = None, device: str | None = None,
          data: str | Path | None = None, progress: bool = False, **overrides: Any) -> ExperimentResult:
    """Run experiment ``name`` for the page.

    Under ``ci`` (and any profile but ``full``) the run is a check that the code still runs: it
    trains on one CPU thread into a temporary folder and leaves no file behind. Under ``full`` it
    is the experiment itself, written to ``<results_dir>/<name>/full.json`` and continuing the runs
    recorded there (nothing is trained when the result is complete).
    """
    import torch

    from .. import experiments

    device = device or "auto"
    if profile == "full":
        folder = Path(results_dir) if results_dir is not None else RESULTS
        return experiments.run(name, "full", out=folder / name / "full.json", device=device, data=data,
                               progress=progress, **overrides)
    torch.set_num_threads(1)  # small networks gain little from more threads; one is robust on a shared machine
    said = io.StringIO()  # progress bars pass through; other messages are filtered below
    with tempfile.TemporaryDirectory() as tmp, (contextlib.nullcontext() if progress else
                                                contextlib.redirect_stderr(said)):
        r = experiments.run(name, profile, out=Path(tmp) / f"{name}.json", device=device, data=data,
                            progress=progress, **overrides)
    for line in said.getvalue().splitlines():  # generated data is said on the page (alexnet.book.say_data)
        if not (line.startswith("NOTE:") and ("GENERATED data" in line or "no CIFAR-10 found" in line)):
            print(line, file=sys.stderr)
    r.path = None  # the temporary file is gone
    return r


def status(r: ExperimentResult | None) -> str:
    """``"not run"``, ``"complete"``, or for an unfinished experiment ``"partial: 2 of 5 seeds"`` (the
    seeds every variant has finished, of those the profile asks for; ``"partial: 7 runs so far"``
    when the result names no number of seeds)."""
    if r is None:
        return "not run"
    if r.progress.complete:
        return "complete"
    seeds = r.settings.get("seeds")
    if isinstance(seeds, int):
        return f"partial: {r.claim.improvement.get('n', 0)} of {seeds} seeds"
    return f"partial: {count(r.progress.records, 'run')} so far"


def device_of(r: ExperimentResult) -> str:
    """The device that made result ``r``, as its provenance names it (for :func:`alexnet.book.say_data`)."""
    return r.provenance.device


def devices_of(r: ExperimentResult) -> str:
    """The devices that trained result ``r``, each in a few words (``"2-core CPU"``)."""
    found = {short_device(d) for d in (r.progress.devices or [r.provenance.device])}
    if len(found) > 1:  # a record that named no core count adds nothing beside one that did
        found.discard("CPU")
    return ", ".join(sorted(found))


def provenance_line(r: ExperimentResult) -> str:
    """One line under a result: its file, devices, dates, commits and compute (no prose)."""
    p, prov = r.progress, r.provenance
    commits = ", ".join(short_commit(c) for c in (p.git_commits or [prov.git_commit]))
    first, last = day(p.first or prov.date), day(p.last or prov.date)
    when = first if first == last else f"{first} to {last}"
    file = f"`{result_file(r.experiment, r.profile)}`" if r.path is not None else f"a `{r.profile}` run of this build"
    return (f"*Provenance: {file}; {devices_of(r)}; {when}; commit {commits}; "
            f"{count(p.records, 'training run')}, {duration(p.train_seconds)} of training.*")


def glue_values(prefix: str, values: dict[str, Any]) -> dict[str, Any]:
    """Glue every value as ``<prefix>_<key>`` for a chapter's ``{glue:text}`` roles; returns ``values``."""
    from myst_nb import glue

    for key, value in values.items():
        glue(f"{prefix}_{key}", value, display=False)
    return values


def not_run_figure(what: str):
    """A small figure that says "not run" and what is missing, in place of a figure with no committed result."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3.0, 2.0))
    ax.text(0.5, 0.5, f"not run:\n{what}", ha="center", va="center", fontsize=12)
    ax.set_axis_off()
    return fig
