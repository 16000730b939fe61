"""The book's experiments, one module per claim: on CIFAR-10 (Sections 3.1, 3.3, 3.4, 4.1, 4.2) and on
ImageNet photographs (Imagenette: Sections 3.2, 3.3, 3.4, 4.1, 6's ensembles, 6.1's Figure 3 and 7's depth;
:mod:`.imagenette`).

Every CIFAR-10 experiment trains small networks and writes
``results/<experiment>/<profile>.json`` with provenance (command, git commit, device, date, wall
time, data set), the mean and spread over seeds and an explicit ``agrees_with_paper`` verdict next
to the paper's words. The same runs are available from the command line::

    python -m alexnet experiment relu_tanh --profile ci
    python -m alexnet experiment lrn --profile full --device cuda --out results/lrn/full.json

Profiles: ``ci`` (minutes on two CPU cores; subsets of CIFAR-10, or generated data when no
CIFAR-10 is found -- said in the output and the JSON) and ``full`` (all of CIFAR-10). Every
finished training run is recorded beside the JSON (:mod:`.records`): a stopped experiment,
run again, continues where it stopped.
"""
from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from . import (dropout, ensemble, imagenette_depth, imagenette_lrn, imagenette_pca, imagenette_pooling, lrn,
               pca_lighting, pooling, relu_tanh, tower_colour, towers)
from .common import execute, load_result, result_path, summarise, verdict
from .result import DataUsed, ExperimentResult, Progress, Verdict, read_result

__all__ = ["EXPERIMENTS", "run", "get", "load_result", "read_result", "result_path", "summarise", "verdict",
           "ExperimentResult", "DataUsed", "Progress", "Verdict"]

#: Experiment name -> module (``NAME``, ``SECTION``, ``PAPER_CLAIM``, ``PROFILES``, ``compute``).
EXPERIMENTS: dict[str, ModuleType] = {m.NAME: m for m in (relu_tanh, lrn, pooling, pca_lighting, dropout,
                                                           towers, imagenette_lrn, ensemble, tower_colour,
                                                           imagenette_pooling, imagenette_pca, imagenette_depth)}


def get(name: str) -> ModuleType:
    """The experiment module called ``name``; a clear error for an unknown one."""
    from ..errors import AlexNetError

    if name not in EXPERIMENTS:
        raise AlexNetError(f"unknown experiment {name!r}; choose one of {sorted(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def run(name: str, profile: str = "ci", *, out: str | Path | None = None, device: str | None = "auto",
        data: str | Path | None = None, progress: bool = False, command: str | None = None,
        resume: bool | None = None, **overrides: Any) -> ExperimentResult:
    """Run experiment ``name`` under ``profile`` (settings overridden by ``overrides``); write its JSON and
    return it as an :class:`ExperimentResult`.

    Finished runs are recorded beside the JSON and reused by a rerun (``resume``; default: every
    profile but ``ci``), so a stopped experiment continues where it stopped.
    """
    return execute(get(name), profile, out=out, device=device, data=data, progress=progress, command=command,
                   resume=resume, **overrides)
