"""What the with/without ablation chapters share (Sections 3.3, 3.4, 4.1, 4.2): the chapter's opening
call, the values its prose glues in, its tables and figure, the code that judges its claims, and the
folded check that the code runs.

A chapter (``notebooks/03_3_lrn.md`` and the others) calls :func:`open_chapter` once, shows its
claims' code with :func:`judging_code`, glues the committed result's numbers with :func:`glue_result`
for the sentences of its Markdown, shows :func:`result_tables` and ends with :func:`check_code_runs`
in one folded cell. Needs pandas and matplotlib (the ``[book]`` extra).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..experiments import EXPERIMENTS
from ..experiments.result import ExperimentResult, Verdict
from .formatting import count, pct, points
from .page import PAGE_INCHES
from . import schedule
from .results import glue_values, load, not_run_figure, provenance_line, rerun, status

__all__ = ["VARIANTS", "SPECS", "Spec", "open_chapter", "claims", "glue_result", "summary_table", "verdict_table",
           "ablation_figure", "result_tables", "judging_code", "check_code_runs", "result_values", "scaling_values",
           "regime_tables"]

#: Variant names of the experiments' JSON, as the pages write them.
VARIANTS = {
    "with_lrn": "with LRN", "without_lrn": "without LRN",
    "overlapping": "overlapping (z = 3, s = 2)", "non_overlapping": "non-overlapping (z = 2, s = 2)",
    "with_pca": "with PCA lighting", "without_pca": "without PCA lighting",
    "none": "no dropout", "paper": "paper's dropout", "inverted": "inverted dropout",
    "relu": "ReLU", "tanh": "tanh",
}


@dataclass(frozen=True)
class Spec:
    """An ablation as its chapter shows it: the glue prefix, its variants and its claims.

    ``claims``: ``key -> (label, verdict name, the paper's effect in points)``; the verdict name is
    ``None`` for the result's main claim, else the name of a further verdict among its findings.
    """

    prefix: str
    variants: tuple[str, ...]
    claims: dict[str, tuple[str, str | None, float | None]] = field(default_factory=dict)


SPECS = {
    "lrn": Spec("lrn", ("with_lrn", "without_lrn"), {"test": ("LRN lowers the test error", None, 2.0)}),
    "pooling": Spec("pool", ("overlapping", "non_overlapping"), {
        "test": ("overlap lowers the test error", None, 0.4),
        "gap": ("overlap overfits less", "overfitting", None)}),
    "pca_lighting": Spec("pca", ("with_pca", "without_pca"), {"test": ("PCA lighting lowers the test error", None, 1.0)}),
    "dropout": Spec("drop", ("none", "paper", "inverted"), {
        "gap": ("dropout narrows the gap", None, None),
        "test": ("dropout lowers the test error", "test_error_verdict", None)}),
}


def _label(variant: str) -> str:
    return VARIANTS.get(variant, variant.replace("_", " "))


def open_chapter(name: str, profile: str, *, results_dir=None, fig_name: str | None = None,
                 curves: tuple[tuple[str, str], ...] = (("test_curve", "test error rate"),), device=None, data=None,
                 progress: bool = False, **overrides: Any) -> ExperimentResult | None:
    """The one opening call of an experiment chapter: the committed result it shows.

    Reads ``results/<name>/full.json`` (under the ``full`` profile the page runs, or continues, the
    experiment itself and shows that). For an ablation of :data:`SPECS` it also glues the values its
    prose quotes (:func:`glue_result`) and, with ``fig_name``, the result's curves as that figure.
    """
    from .page import figure

    if profile == "full":
        committed = rerun(name, "full", results_dir=results_dir, device=device, data=data, progress=progress,
                          **overrides)
    else:
        committed = load(name, "full", results_dir)
    if name in SPECS:
        glue_result(name, committed)
        glue_values(f"{SPECS[name].prefix}_sched", schedule.schedule_values(committed))
        length = schedule.length_figure(committed)
        figure(f"fig-{SPECS[name].prefix}-length", length if length is not None else
               not_run_figure("no length check committed"))
        if fig_name:
            figure(fig_name, ablation_figure(committed, curves))
    return committed


def claims(r: ExperimentResult) -> dict[str, tuple[str, Verdict, float | None]]:
    """``key -> (label, verdict, the paper's effect)`` of result ``r``'s claims."""
    spec = SPECS[r.experiment]
    return {key: (label, r.claim if which is None else r.verdict_of(which), paper)
            for key, (label, which, paper) in spec.claims.items()}


# ------------------------------------------------------------------------------ glued values
def _interval_values(v: Verdict | None, paper: float | None, partial: str | None) -> dict[str, Any]:
    """The glued numbers of one verdict: mean, interval, half-width, seeds, verdict word."""
    iv = v.interval if v is not None else None
    out = {"n": v.improvement["n"] if v is not None else 0,
           "mean": points(v.improvement["mean"]) if v is not None else "n/a",
           "lo": points(iv[0]) if iv else "n/a", "hi": points(iv[1]) if iv else "n/a",
           "half": points((iv[1] - iv[0]) / 2, sign=False) if iv else "n/a",
           "verdict": partial or (v.verdict if v is not None else "not run"), "paper_where": "n/a"}
    if iv and paper is not None:
        lo, hi = 100 * iv[0], 100 * iv[1]
        out["paper_where"] = "inside" if lo <= paper <= hi else "above" if paper > hi else "below"
    return out


def seeds_sentence(name: str, r: ExperimentResult | None) -> str:
    """Whether result ``r`` ran its profile's number of seeds, as a sentence for the page."""
    if r is None:
        return "It has not been run."
    default = EXPERIMENTS[name].PROFILES[r.profile]["seeds"]
    ran = r.settings.get("seeds", default)
    if ran == default:
        return f"These are the profile's {default} seeds."
    why = " to narrow the interval" if ran > default else ""
    return f"The profile's {default} seeds were changed to {ran}{why}."


def result_values(name: str, r: ExperimentResult | None) -> dict[str, Any]:
    """Every value the chapter of ablation ``name`` glues into its prose, keyed without the prefix.

    The same keys whether ``r`` is complete, partial or missing (``n/a``; the verdicts then read
    ``partial: n of m runs`` or ``not run``), so the page builds in every case.
    """
    spec = SPECS[name]
    s = r.settings if r is not None else {}
    state = status(r)
    values: dict[str, Any] = {
        "status": state, "seeds": s.get("seeds", "n/a"), "seeds_said": seeds_sentence(name, r),
        "epochs": f"{s['epochs']:g}" if s.get("epochs") is not None else "n/a",
        "crop": s.get("crop") or "n/a",
        "train_images": f"{r.data.train_images:,}" if r else "n/a",
        "test_images": f"{r.data.test_images:,}" if r else "n/a",
        "batch": s.get("batch_size", "n/a"), "lr": s.get("lr", "n/a"),
        # results written before input_norm was a setting standardised their inputs
        "inputs": ({"centre": "centred raw", "standardise": "standardised"}.get(s.get("input_norm"), "standardised")
                   if r is not None else "n/a"),
    }
    summary = r.findings.get("summary", {}) if r is not None else {}
    for variant in spec.variants:
        err = summary.get(variant, {}).get("test_error", {}).get("mean")
        values[f"err_{variant}"] = pct(err, 2)
        gap = summary.get(variant, {}).get("gap", {}).get("mean")
        values[f"gap_{variant}"] = pct(gap, 2)
    partial = None if state in ("complete", "not run") else state
    found = claims(r) if r is not None else {k: (label, None, paper) for k, (label, _, paper) in spec.claims.items()}
    for key, (_, v, paper) in found.items():
        for part, value in _interval_values(v, paper, partial).items():
            values[f"{key}_{part}"] = value
    values["length_said"] = length_sentence(r, found.get("test", (None, None, None))[2])
    if name == "dropout":
        values.update(scaling_values(r))
    return values


def length_sentence(r: ExperimentResult | None, paper: float | None) -> str:
    """What the length check (the baseline trained 1.5 times as long) says beside the paper's effect
    (points): whether its change of test error is smaller than that effect, as a sentence."""
    length = (r.findings.get("schedule") or {}).get("length_check") if r is not None else None
    if not length or paper is None:
        return "The length check is not compared with the paper's effect here."
    change, effect = abs(100 * length["change"]), points(paper / 100, sign=False)
    if change < paper:
        return (f"That change is smaller than the paper's {effect} points: the schedule is long enough for an "
                "effect of that size.")
    return (f"That change is larger than the paper's {effect} points: the baseline is past underfitting but still "
            "improving, so an effect as small as the paper's is measured at this schedule's length only (both arms "
            "train for the same epochs).")


def scaling_values(r: ExperimentResult | None) -> dict[str, Any]:
    """Section 4.2's test-time 0.5, from the dropout result: the paper-dropout network's test error
    scored with and without it, and its difference from inverted dropout (mean over seeds, points)
    with the experiment's word for it (``equivalent`` or ``different``)."""
    if r is None:
        return {"scaled": "n/a", "unscaled": "n/a", "vs_inverted": "n/a", "equivalent": "not run"}
    sc = r.findings["scaling"]
    return {"scaled": pct(r.findings["summary"]["paper"]["test_error"]["mean"], 2),
            "unscaled": pct(sc["test_error_paper_without_scaling"]["mean"], 2),
            "vs_inverted": points(sc["difference_paper_minus_inverted"]["mean"]),
            "equivalent": "equivalent" if sc["equivalent"] else "different"}


def glue_result(name: str, r: ExperimentResult | None) -> dict[str, Any]:
    """Glue :func:`result_values` as ``<prefix>_<key>`` for the chapter's ``{glue:text}`` roles."""
    return glue_values(SPECS[name].prefix, result_values(name, r))


# ------------------------------------------------------------------------------------ tables
def summary_table(r: ExperimentResult, keys: tuple[str, ...] = ("test_error", "train_error", "gap")) -> pd.DataFrame:
    """Each variant's error rates in % (mean ± std over seeds) and its number of seeds."""
    names = {"test_error": "test error", "train_error": "train error", "gap": "gap (test - train)"}
    rows = []
    for variant, stats in r.findings["summary"].items():
        row = {"variant": _label(variant)}
        for k in keys:
            st = stats[k]
            row[names.get(k, k) + " %"] = ("n/a" if st["mean"] is None  # no-break spaces: one cell, one line
                                          else f"{100 * st['mean']:.2f}\u00a0±\u00a0{100 * st['std']:.2f}")
        row["seeds"] = stats[keys[0]]["n"]
        rows.append(row)
    return pd.DataFrame(rows)


def verdict_table(verdicts: dict[str, Verdict], state: str = "complete") -> pd.DataFrame:
    """One row per claim: the mean paired improvement, its 95% interval (points) and the verdict
    (``state`` instead of a verdict when the result is partial)."""
    rows = []
    for claim, v in verdicts.items():
        imp, iv = v.improvement, v.interval
        rows.append({"claim": claim, "seeds": imp["n"], "mean (points)": points(imp["mean"]),
                     "95% interval (points)": f"{points(iv[0])} to {points(iv[1])}" if iv else "none (< 2 seeds)",
                     "verdict": v.verdict if state == "complete" else state})
    return pd.DataFrame(rows)


def result_tables(r: ExperimentResult | None) -> None:
    """Display a committed result's tables (errors per variant, the claims' intervals and verdicts)
    and its provenance line; a missing result shows nothing but a "not run" line."""
    from IPython.display import Markdown, display

    if r is None:
        display(Markdown("*Not run: no committed result.*"))
        return
    display(summary_table(r).style.hide(axis="index"))
    found = {label: v for label, v, _ in claims(r).values()}
    display(verdict_table(found, status(r)).style.hide(axis="index"))
    display(Markdown(provenance_line(r)))


def regime_tables(r: ExperimentResult | None, *, divisor: str | None = None) -> None:
    """Display the learning-rate grid the rate was chosen from and, with ``divisor`` (a variant with
    LRN), the LRN divisor its trained networks apply (:mod:`.schedule`)."""
    from IPython.display import Markdown, display

    grid = schedule.rate_grid_table(r)
    display(grid.style.hide(axis="index") if len(grid) else Markdown("*Not run: no rate grid committed.*"))
    if divisor:
        table = schedule.divisor_table(r, divisor)
        display(table.style.hide(axis="index") if len(table) else Markdown("*Not run: no divisor recorded.*"))


# ----------------------------------------------------------------------------------- figures
def ablation_figure(r: ExperimentResult | None,
                    curves: tuple[tuple[str, str], ...] = (("test_curve", "test error rate"),)):
    """Error against epochs for each variant: every seed thin, their mean thick; one panel per curve kind.

    ``curves``: ``(key, label)`` pairs; ``test_curve`` is the test error after each epoch,
    ``train_curve`` the running training error on the mini-batches as they are trained on. A
    missing result, or one without finished runs, gives empty panels saying so.
    """
    fig, axes = plt.subplots(1, len(curves), figsize=(PAGE_INCHES, 3.4), squeeze=False)
    runs_by_variant = r.findings["runs"] if r is not None else {}
    for ax, (key, ylabel) in zip(axes[0], curves):
        for j, (variant, runs) in enumerate(runs_by_variant.items()):
            lines = [np.asarray(run[key], dtype=float) for run in runs if run.get(key)]
            if not lines:
                continue
            for c in lines:
                ax.plot(c[:, 0], 100 * c[:, 1], color=f"C{j}", lw=0.7, alpha=0.45)
            n = min(len(c) for c in lines)
            mean = np.mean([c[:n, 1] for c in lines], axis=0)
            ax.plot(lines[0][:n, 0], 100 * mean, color=f"C{j}", lw=2, marker="o", ms=3,
                    label=f"{_label(variant)} ({count(len(lines), 'seed')})")
        ax.set(xlabel="epochs", ylabel=ylabel + " (%)")
        ax.grid(alpha=0.3)
        if not ax.lines:
            ax.text(0.5, 0.5, "no finished runs", ha="center", va="center", transform=ax.transAxes)
    if axes[0][0].lines:
        axes[0][0].legend(frameon=False)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------ the code shown
def judging_code(compute, *, with_compare: bool = False, with_paired: bool = True):
    """The code that reaches a verdict: the experiment's ``compute``, the pairing by seed
    (:func:`alexnet.experiments.ablation.paired`; not with ``with_paired=False``, for an experiment
    that pairs its runs itself), the verdict rule and its 95% interval (:mod:`alexnet.experiments.common`);
    with ``with_compare`` also the loop over seeds and variants."""
    from IPython.display import Markdown

    from ..experiments import ablation, common
    from .page import show_code

    parts = [compute, *([ablation.compare] if with_compare else []), *([ablation.paired] if with_paired else []),
             common.verdict, common.t_interval]
    return Markdown("\n\n".join(show_code(obj).data for obj in parts))


# ------------------------------------------------------------------------- the check, folded
def check_code_runs(name: str, profile: str, committed: ExperimentResult | None = None, **kwargs: Any):
    """The folded section that ends every experiment chapter: rerun ``name`` under ``profile`` and
    show what ran, never an interval or a verdict (a small rerun, on generated data above all,
    decides nothing). Under ``full`` the committed experiment is this build's run: nothing reruns.
    Returns the rerun's result."""
    from IPython.display import Markdown, display

    from .page import say_data

    if profile == "full":
        display(Markdown("The `full` profile: the result above is this build's run."))
        return committed
    mine = rerun(name, profile, **kwargs)
    display(say_data(f"{mine.data.train_images:,} {'generated' if mine.data.synthetic else 'CIFAR-10'} training "
                     f"and {mine.data.test_images:,} test images", generated=mine.data.synthetic, profile=profile,
                     device=mine.provenance.device))
    rows = [{"training runs": mine.progress.records, "seconds of training": round(mine.progress.train_seconds),
             "epochs per run": mine.settings.get("epochs", mine.settings.get("max_epochs")),
             "seeds": mine.settings.get("seeds")}]
    display(pd.DataFrame(rows).style.hide(axis="index"))
    return mine
