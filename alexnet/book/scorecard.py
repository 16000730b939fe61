"""The front page's scorecard: one row per quantitative claim of the paper, computed from ``results/``.

Each row gives the paper's number, ours with its 95% interval, the data, scale, seeds and device of
the committed run, the verdict and the chapter that shows it. Rows read the committed files only:

* the CIFAR-10 experiments and the experiments still to come, ``results/<name>/full.json``
  (:class:`alexnet.experiments.ExperimentResult`, read by :func:`alexnet.experiments.load_result`);
  a result whose ``progress.complete`` is false shows ``partial: n of m runs``, never a verdict;
* the Imagenette run exported by ``python -m alexnet export-run`` (``results/imagenette/``:
  ``evaluation.json``, ``summary.json``, ``provenance.json``, ``colour.json``, ``figure4.json``).

A claim without a committed file says ``not run``. Nothing here is typed by hand but the paper's
numbers (Sections 3-7, Tables 1 and 2) and which file answers which claim.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..experiments import load_result
from ..experiments.result import ExperimentResult
from ..provenance import ROOT
from .formatting import pct, points, short_device
from .results import devices_of, not_run_figure, status

__all__ = ["Row", "CLAIMS", "rows", "markdown_table", "binomial_interval", "short_device", "counts", "thumbnails"]

NOT_RUN = "not run"


@dataclass
class Row:
    """One claim of the paper beside what the committed results say about it."""

    claim: str
    section: str
    paper: str
    ours: str = "n/a"
    verdict: str = NOT_RUN
    data: str = ""
    scale: str = ""
    seeds: str = ""
    device: str = ""
    chapter: str = ""           # the chapter's document name, e.g. notebooks/03_3_lrn
    source: str = ""            # the committed file the row reads

    @property
    def run(self) -> str:
        """Data, scale, seeds and device in one cell."""
        seeds = f"{self.seeds} seed{'' if self.seeds == '1' else 's'}" if self.seeds else ""
        parts = [p for p in (self.data, self.scale, seeds, self.device) if p]
        return "; ".join(parts) if parts else "-"


def _claims() -> dict[str, tuple[str, str, str, str]]:
    """The paper's claims that a committed ``ExperimentResult`` answers, one row each in ``claims.csv``
    beside this module: experiment name -> (claim, section, the paper's number, chapter)."""
    with open(Path(__file__).with_name("claims.csv"), newline="", encoding="utf-8") as f:
        return {r["experiment"]: (r["claim"], r["section"], r["paper"], r["chapter"]) for r in csv.DictReader(f)}


#: The paper's claims that an experiment answers (``claims.csv``). The CIFAR-10 ones exist; the others are to come.
CLAIMS = _claims()
#: The scorecard's order: the paper's.
ORDER = ("relu_tanh", "towers", "imagenette_lrn", "lrn", "pooling", "imagenette_pooling", "pca_lighting",
         "imagenette_pca", "dropout", "ten_patches", "single_net", "ensemble", "imagenette_depth", "colour",
         "tower_colour", "figure4")


# ------------------------------------------------------------------------------------- numbers
def binomial_interval(rate: float, n: int) -> tuple[float, float]:
    """The 95% Wilson interval of an error rate ``rate`` measured on ``n`` independent images."""
    z = 1.959964
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _devices(r: ExperimentResult) -> str:
    return devices_of(r)


def _data(r: ExperimentResult) -> str:
    kind = "generated data" if r.data.synthetic else r.data.description.split(" from ")[0].split(": ")[0]
    return f"{kind}, {r.data.train_images:,} train / {r.data.test_images:,} test"  # the counts once


def _scale(r: ExperimentResult) -> str:
    s = r.settings
    if "epochs" in s:
        return f"{s['epochs']:g} epochs"
    if "max_epochs" in s:
        return f"to {pct(s.get('target_train_error'), 0)} training error (at most {s['max_epochs']:g} epochs)"
    return ""


# ---------------------------------------------------------------------------- experiment rows
def experiment_row(name: str, r: ExperimentResult | None) -> Row:
    """The row of the claim that experiment ``name`` answers, from its result ``r`` (``None``: not run)."""
    claim, section, paper, chapter = CLAIMS[name]
    row = Row(claim, section, paper, chapter=chapter, source=f"results/{name}/full.json")
    if r is None:
        return row
    state = status(r)
    row.verdict = r.verdict if state == "complete" else state
    row.data, row.scale, row.device = _data(r), _scale(r), _devices(r)
    row.seeds = str(r.settings.get("seeds", ""))
    if name == "relu_tanh":
        sp = r.findings["speedup"]
        iv = sp.get("interval")
        row.ours = (f"{sp['mean']:.2f}x" + (f" ({iv[0]:.2f}-{iv[1]:.2f})" if iv else " (no interval)")
                    if sp["n"] else "no seed finished")
        return row
    if name == "tower_colour":
        runs = r.findings.get("runs", [])
        level = r.findings.get("level", 0.01)
        row.ours = f"{r.findings.get('held', 0)} of {len(runs)} runs separate their towers at p < {level:g}"
        return row
    imp, iv = r.claim.improvement, r.claim.interval
    imagenet = ("towers", "imagenette_lrn", "ensemble", "imagenette_pooling", "imagenette_pca", "imagenette_depth")
    what = "overfitting gap narrower" if name == "dropout" else "top-1 error lower" if name in imagenet else \
        "test error lower"
    row.ours = (f"{what} by {points(imp['mean'])} points" + (f" ({points(iv[0])} to {points(iv[1])})" if iv
                                                            else " (no interval: one seed)")
                if imp["n"] else "no paired runs yet")
    return row


# ---------------------------------------------------------------------------- Imagenette rows
def _read(folder: Path, name: str) -> Any:
    path = folder / name
    return json.loads(path.read_text()) if path.is_file() else None


def _imagenette_frame(folder: Path) -> dict[str, str] | None:
    """Data, scale, seeds and device of the committed Imagenette run (``None`` when not committed)."""
    prov, summary = _read(folder, "provenance.json"), _read(folder, "summary.json")
    config = _read(folder, "config.json")
    if prov is None or summary is None:
        return None
    d = prov["data"]
    seed = (config or {}).get("config", {}).get("seed", "")
    return {"data": f"Imagenette, {d['train_images']:,} train / {d['val_images']:,} val, {d['classes']} classes",
            "scale": f"{summary['epochs']} epochs, the full two-tower net", "seeds": "1" if seed != "" else "",
            "device": short_device(prov["training"]["provenance"]["device"])}


def _with_interval(rate: float, n: int) -> str:
    lo, hi = binomial_interval(rate, n)
    return f"{pct(rate)} ({100 * lo:.1f}-{100 * hi:.1f})"


def imagenette_rows(folder: Path) -> dict[str, Row]:
    """The rows the Imagenette run answers: ten patches, one network's error, Figures 3 and 4."""
    out = {
        "ten_patches": Row("ten patches at test time", "6, footnote", "top-1 / top-5 39.0 / 18.3% → 37.5 / 17.0%",
                           chapter="notebooks/06_results", source="results/imagenette/evaluation.json"),
        "single_net": Row("one network's error", "6, Tables 1-2", "top-1 / top-5 37.5 / 17.0% (2010 test), "
                          "40.7 / 18.2% (2012 val)", chapter="notebooks/06_results",
                          source="results/imagenette/evaluation.json"),
        "colour": Row("towers specialise (one run)", "6.1, Fig. 3", "GPU 1 colour-agnostic, GPU 2 colour-specific",
                      chapter="notebooks/06_1_qualitative", source="results/imagenette/colour.json"),
        "figure4": Row("fc7 neighbours are semantic", "6.1, Fig. 4", "fc7 neighbours of the same kind, not close "
                       "in pixels", chapter="notebooks/06_1_qualitative", source="results/imagenette/figure4.json"),
    }
    frame = _imagenette_frame(folder)
    evaluation, colour = _read(folder, "evaluation.json"), _read(folder, "colour.json")
    f4 = _read(folder, "figure4.json")
    if frame is None:
        return out
    if evaluation is not None:
        head = evaluation["headline"]
        n = head["data"]["images"]
        c, t = head["centre"], head["ten_crop"]
        gain = c["top1_error"] - t["top1_error"]
        out["ten_patches"].ours = (f"top-1 {_with_interval(c['top1_error'], n)} → {_with_interval(t['top1_error'], n)}"
                                   f", {points(-gain, 1)} points")
        out["ten_patches"].verdict = ("lower, no paired test" if gain > 0 else "not lower, no paired test")
        out["single_net"].ours = (f"top-1 / top-5 {_with_interval(t['top1_error'], n)} / "
                                  f"{_with_interval(t['top5_error'], n)}, ten patches, last epoch")
        out["single_net"].verdict = f"not comparable: {head['data']['classes']} classes, not 1,000"
        for key in ("ten_patches", "single_net"):
            vars(out[key]).update(frame)
    if colour is not None:
        import inspect

        from ..qualitative import colour_verdict  # its threshold is the scorecard's

        level = inspect.signature(colour_verdict).parameters["level"].default
        means = [t["mean"] for t in colour["towers"]]
        out["colour"].ours = (f"colour specificity of the towers {means[0]:.2f} and {means[1]:.2f} (random weights "
                              f"{colour['random_baseline']:.2f}); permutation p = {colour['pvalue']:.3f}")
        out["colour"].verdict = "agrees" if colour["pvalue"] < level else "inconclusive"
        vars(out["colour"]).update(frame)
    if f4 is not None:
        share = f4["same_class_share"]
        out["figure4"].ours = (f"same class: {pct(share['features'])} of fc7 neighbours, {pct(share['pixels'])} of "
                               f"pixel neighbours ({pct(share['chance'])} by chance)")
        # the rule of alexnet.qualitative.neighbour_verdict: a margin of 2 points either way
        diff = share["features"] - share["pixels"]
        out["figure4"].verdict = "agrees" if diff > 0.02 else "disagrees" if diff < -0.02 else "inconclusive"
        vars(out["figure4"]).update(frame)
    return out


# ------------------------------------------------------------------------------------- the table
def rows(root: Path = ROOT) -> list[Row]:
    """Every row of the scorecard, in the paper's order, from ``<root>/results``."""
    found = imagenette_rows(root / "results" / "imagenette")
    for name in CLAIMS:
        found[name] = experiment_row(name, load_result(name, "full", root))
    return [found[key] for key in ORDER]


def counts(table: list[Row]) -> dict[str, int]:
    """How many rows have each kind of verdict: agrees, disagrees, equivalent, inconclusive, partial, not
    run, other (measured without a verdict)."""
    out = {"agrees": 0, "disagrees": 0, "equivalent": 0, "inconclusive": 0, "partial": 0, "not run": 0, "other": 0}
    for row in table:
        kind = row.verdict.split(":")[0]
        out[kind if kind in out else "other"] += 1
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|") or "-"


def markdown_table(table: list[Row], from_doc: str = "book/intro") -> str:
    """The scorecard as a MyST table in a ``scorecard`` container (the page's CSS sets it compact); each
    claim's section links to its chapter, relative to the page ``from_doc``."""
    up = "../" * from_doc.count("/")
    lines = ["| claim (section) | verdict | the paper | ours (95% interval) | run: data; scale; seeds; device |",
             "| --- | --- | --- | --- | --- |"]
    for r in table:
        link = f"{{doc}}`{r.section} <{up}{r.chapter}>`" if r.chapter else r.section
        verdict = f"**{r.verdict}**" if r.verdict in ("agrees", "disagrees") else r.verdict
        cells = [f"{_cell(r.claim)} ({link})"] + [_cell(x) for x in (verdict, r.paper, r.ours, r.run)]
        lines.append("| " + " | ".join(cells) + " |")
    return "```{container} scorecard\n\n" + "\n".join(lines) + "\n```"


# ------------------------------------------------------------------------------------ thumbnails
def thumbnails(root: Path = ROOT) -> dict[str, Any]:
    """Figures 1, 3 and 4 (left) drawn from the committed results, for the front page
    (``thumb-figure1``, ``thumb-kernels``, ``thumb-figure4``); a missing file gives a "not run" panel."""
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from .. import viz
    from .relu import figure1

    out: dict[str, Any] = {}
    relu = load_result("relu_tanh", "full", root)
    out["thumb-figure1"] = figure1(relu) if relu is not None else not_run_figure("results/relu_tanh/full.json")
    folder = root / "results" / "imagenette"
    kernels = folder / "conv1_kernels.npz"
    if kernels.is_file():
        with np.load(kernels) as z:
            towers = [torch.from_numpy(z[name]) for name in sorted(z.files)]
        out["thumb-kernels"] = viz.filter_grid(towers, cols=16, title=None)
    else:
        out["thumb-kernels"] = not_run_figure("results/imagenette/conv1_kernels.npz")
    png = folder / "figure4_left.png"
    if png.is_file():
        image = plt.imread(png)
        fig, ax = plt.subplots(figsize=(7.8, 7.8 * image.shape[0] / image.shape[1]))
        ax.imshow(image)
        ax.set_axis_off()
        fig.subplots_adjust(0, 0, 1, 1)
        out["thumb-figure4"] = fig
    else:
        out["thumb-figure4"] = not_run_figure("results/imagenette/figure4_left.png")
    return out
