"""The CIFAR-10 experiment chapters (Sections 3.1, 3.3, 3.4, 4.1, 4.2): their runs, figures, tables and words.

Each chapter shows the committed result first -- ``results/<experiment>/full.json``, written by
``python -m alexnet experiment <experiment> --profile full`` (:mod:`alexnet.experiments`) -- and after
it the quick rerun of the build (the ``ci`` profile) as a check that the code still runs. Every
sentence about a result is computed from the result here: how many runs it holds and whether the
experiment is finished, its scale (network, images, epochs, augmentation, from its settings), the
device, dates and commits that made it, and what its 95% confidence intervals can and cannot say.

The chapters call :func:`load` and :func:`rerun`, then the words, tables and figures of their
experiment. Needs pandas and matplotlib (the ``[book]`` extra); the library never imports this.
"""
from __future__ import annotations

import contextlib
import io
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..errors import AlexNetError
from ..experiments.result import ExperimentResult, Verdict, read_result
from ..provenance import is_dirty
from .build import ROOT
from .page import PAGE_INCHES

__all__ = [
    "RESULTS", "load", "rerun", "result_file", "pct", "points", "progress_words", "provenance_words",
    "scale_words", "data_words", "interval_words", "committed_words", "rerun_words", "summary_table",
    "verdict_table", "ablation_figure", "figure1", "tuning_figure", "tuning_table", "grid_words",
    "speedup_table", "speedup_words", "scaling_words", "pca_table", "pca_words", "lighting_figure",
    "lrn_figure", "lrn_parameter_table", "VARIANTS", "device_of", "show_ablation", "errors_words", "resolution_words",
]

#: The repository's committed results.
RESULTS = ROOT / "results"

#: Variant names of the experiments' JSON, as the pages write them.
VARIANTS = {
    "with_lrn": "with LRN", "without_lrn": "without LRN",
    "overlapping": "overlapping (z = 3, s = 2)", "non_overlapping": "non-overlapping (z = 2, s = 2)",
    "with_pca": "with PCA lighting", "without_pca": "without PCA lighting",
    "none": "no dropout", "paper": "paper's dropout", "inverted": "inverted dropout",
}


# ------------------------------------------------------------------------------------------ runs
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
        if not line.startswith("NOTE: no CIFAR-10 found"):
            print(line, file=sys.stderr)
    r.path = None  # the temporary file is gone
    return r


# ----------------------------------------------------------------------------------- numbers
def pct(x: float | None, digits: int = 1) -> str:
    """A fraction as a percentage (``0.123`` -> ``12.3%``); ``n/a`` for none."""
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f}%"


def points(x: float | None, digits: int = 2, sign: bool = True) -> str:
    """A difference of two error fractions in percentage points (``0.0123`` -> ``+1.23``)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{100 * x:+.{digits}f}" if sign else f"{100 * x:.{digits}f}"


def _count(n: float, one: str, many: str | None = None) -> str:
    return f"{n:,g} {one if n == 1 else (many or one + 's')}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _day(stamp: str | None) -> str:
    return stamp[:16].replace("T", " ") + " UTC" if stamp else "n/a"


# ------------------------------------------------------------------------------------- words
def progress_words(r: ExperimentResult) -> str:
    """``"complete: 12 runs"`` or ``"5 runs so far; the experiment is not finished"``, from ``progress``."""
    p = r.progress
    if p.complete:
        return f"complete: {_count(p.records, 'training run')}"
    return f"{_count(p.records, 'training run')} so far; the experiment is not finished"


def provenance_words(r: ExperimentResult) -> str:
    """Which device(s), dates, commit(s) and how much compute made the result, in one sentence."""
    p, prov = r.progress, r.provenance
    devices = p.devices or [prov.device]
    commits = [c[:10] + (" (with uncommitted changes)" if is_dirty(c) else "")
               for c in (p.git_commits or [prov.git_commit])]
    first, last = _day(p.first or prov.date), _day(p.last or prov.date)
    when = f"between {first} and {last}" if first != last else f"on {first}"
    return (f"Trained on {' and '.join(devices)}, {when}, by commit{'s' if len(commits) > 1 else ''} "
            f"{', '.join(commits)}: {_duration(p.train_seconds)} of training in all "
            f"(the last command took {_duration(prov.wall_seconds)}).")


def data_words(r: ExperimentResult) -> str:
    """The data of a result in words, e.g. ``"all 50,000 CIFAR-10 training images and 10,000 test images"``."""
    d, s = r.data, r.settings
    kind = "generated 32x32 stand-in" if d.synthetic else "CIFAR-10"
    whole = not d.synthetic and s.get("train_per_class") is None
    return f"{'all ' if whole else ''}{d.train_images:,} {kind} training images and {d.test_images:,} test images"


def _network(s: dict, *, lrn: bool | None = None) -> str:
    w = "/".join(str(x) for x in s["widths"])
    hidden = s.get("hidden")
    text = f"the four-layer `CifarNet` ({w} kernels of 5x5"
    if hidden:
        text = f"`CifarNet` ({w} kernels of 5x5, fully connected hidden layers of {'/'.join(map(str, hidden))}"
    if lrn:
        text += ", LRN after the first two pooling layers"
    return text + ")"


def scale_words(r: ExperimentResult) -> str:
    """The scale of a result from its settings: network, data, epochs, augmentation, seeds."""
    s, name = r.settings, r.experiment
    seeds = _count(s["seeds"], "seed")
    if name == "relu_tanh":
        init = "N(0, 0.01²) weights" if s["init"] == "paper" else "PyTorch's default initialisation"
        inputs = "centred raw pixels" if s["input_norm"] == "centre" else "standardised pixels"
        return (f"{_network(s)}, {data_words(r)}, batches of {s['batch_size']}, {init}, {inputs}, no weight decay, "
                f"dropout or augmentation; each run trains until its running training error reaches "
                f"{pct(s['target_train_error'], 0)} (at most {s['max_epochs']:g} epochs); {seeds}")
    lrn = name != "lrn"  # the LRN ablation is the one that varies it; the others keep it on
    aug = (f"random {s['crop']}x{s['crop']} crops and their mirrors (the centre crop at test time)"
           if s.get("crop") else "no augmentation")
    if name == "pca_lighting":
        aug += f", plus PCA lighting with σ = {s['pca_std']:g} in one variant"
    drop = (f", the learning rate divided by 10 after {100 * s['lr_drop_at']:.0f}% of training"
            if s.get("lr_drop_at") else "")
    decay = f"weight decay {s['weight_decay']:g}" if s.get("weight_decay") else "no weight decay"
    return (f"{_network(s, lrn=lrn)}, {data_words(r)}, {_count(s['epochs'], 'epoch')} in batches of {s['batch_size']} "
            f"(learning rate {s['lr']:g}{drop}, {decay}), {aug}; {seeds}, paired")


def interval_words(v: Verdict, *, what: str, unit: str = "points", scale: float = 100.0,
                   paper: float | None = None) -> str:
    """What a verdict's 95% interval says, in words computed from it.

    ``v`` is a claim's verdict whose improvements are positive when the paper's claim holds; ``what`` names the improvement (e.g.
    "LRN's reduction of the test error"); values are shown multiplied by ``scale`` in ``unit``.
    ``paper``: the paper's size of the effect in the same units, placed against the interval.
    """
    imp, iv, m = v.improvement, v.interval, v.min_effect or 0.0
    n = imp["n"]
    f = lambda x: f"{scale * x:+.2f}"  # noqa: E731
    if n == 0:
        return f"No paired runs have finished, so there is nothing yet to judge {what} by."
    if iv is None:
        return (f"{what[:1].upper() + what[1:]} was {f(imp['mean'])} {unit} in the one finished seed; one seed gives "
                f"no confidence interval, so the verdict is **inconclusive**.")
    lo, hi = iv
    head = (f"{what[:1].upper() + what[1:]}: mean {f(imp['mean'])} {unit} over {n} paired seeds, "
            f"95% confidence interval {f(lo)} to {f(hi)} {unit}")
    margin = f"{scale * m:.2f} {unit}" if m else "zero"
    if v.verdict == "agrees":
        said = f"The whole interval lies above {margin}: the measurement **agrees** with the paper."
    elif v.verdict == "disagrees":
        said = (f"The whole interval lies below {'-' if m else ''}{margin}: at this scale the measurement "
                "**disagrees** with the paper (the effect goes the other way).")
    elif lo <= 0 <= hi:
        said = ("The interval contains zero, so at this scale the experiment cannot tell whether the effect "
                "exists or which way it goes: **inconclusive**.")
    else:
        said = (f"The interval excludes zero but does not clear ±{margin} (the smallest difference counted, "
                "three test images' worth): **inconclusive**.")
    if paper is not None and iv is not None:
        where = ("inside" if scale * lo <= paper <= scale * hi else "above" if paper > scale * hi else "below")
        said += f" The paper's {paper:+.2f} {unit} lies {where} the interval."
    return f"{head}. {said}"


def committed_words(name: str, r: ExperimentResult | None, *, rerun_profile: str = "ci") -> str:
    """The opening of a chapter's committed-result section: missing, partial or complete, and from what."""
    file = result_file(name)
    if r is None:
        return (f"```{{note}}\nThere is no committed result: `{file}` is not in the repository, so this page shows "
                f"only the `{rerun_profile}` rerun below, which checks that the code runs and says nothing about the "
                f"paper. `python -m alexnet experiment {name} --profile full` makes the result (it continues "
                f"where it stopped when interrupted).\n```")
    text = (f"The committed result is `{file}` ({progress_words(r)}). Its scale: {scale_words(r)}. "
            f"{provenance_words(r)}")
    if not r.progress.complete:
        return (f"```{{warning}}\n**A partial result.** `{file}` holds {_count(r.progress.records, 'training run')} "
                f"so far; the experiment is not finished, and every number below covers only the runs done.\n```\n\n"
                + text)
    return text


def rerun_words(r: ExperimentResult) -> str:
    """What the rerun of this build is, for the sentence that introduces it."""
    return (f"This build reran the experiment under the `{r.profile}` profile: {scale_words(r)}. It is a check that "
            "the code still runs, far from the paper's scale.")


# ------------------------------------------------------------------------------------ tables
def _label(variant: str) -> str:
    return VARIANTS.get(variant, variant.replace("_", " "))


def summary_table(r: ExperimentResult, keys: tuple[str, ...] = ("test_error", "train_error", "gap")) -> pd.DataFrame:
    """Each variant's error rates in % (mean ± std over seeds) and its number of seeds."""
    names = {"test_error": "test error", "train_error": "train error", "gap": "gap (test - train)"}
    rows = []
    for variant, stats in r.findings["summary"].items():
        row = {"variant": _label(variant)}
        for k in keys:
            s = stats[k]
            row[names.get(k, k) + " %"] = ("n/a" if s["mean"] is None  # no-break spaces: one cell, one line
                                          else f"{100 * s['mean']:.2f}\u00a0±\u00a0{100 * s['std']:.2f}")
        row["seeds"] = stats[keys[0]]["n"]
        rows.append(row)
    return pd.DataFrame(rows)


def verdict_table(verdicts: dict[str, Verdict]) -> pd.DataFrame:
    """One row per claim: the mean paired improvement, its 95% interval (points) and the verdict."""
    rows = []
    for claim, v in verdicts.items():
        imp, iv = v.improvement, v.interval
        rows.append({"claim": claim, "seeds": imp["n"], "mean (points)": points(imp["mean"]),
                     "95% interval (points)": f"{points(iv[0])} to {points(iv[1])}" if iv else "none (fewer than 2 paired seeds)",
                     "verdict": v.verdict})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------- figures
def ablation_figure(r: ExperimentResult, curves: tuple[tuple[str, str], ...] = (("test_curve", "test error rate"),)):
    """Error against epochs for each variant: every seed thin, their mean thick; one panel per curve kind.

    ``curves``: ``(key, label)`` pairs; ``test_curve`` is the test error after each epoch,
    ``train_curve`` the running training error on the mini-batches as they are trained on.
    """
    fig, axes = plt.subplots(1, len(curves), figsize=(PAGE_INCHES, 3.4), squeeze=False)
    for ax, (key, ylabel) in zip(axes[0], curves):
        for j, (variant, runs) in enumerate(r.findings["runs"].items()):
            lines = [np.asarray(run[key], dtype=float) for run in runs if run.get(key)]
            if not lines:
                continue
            for c in lines:
                ax.plot(c[:, 0], 100 * c[:, 1], color=f"C{j}", lw=0.7, alpha=0.45)
            n = min(len(c) for c in lines)
            mean = np.mean([c[:n, 1] for c in lines], axis=0)
            ax.plot(lines[0][:n, 0], 100 * mean, color=f"C{j}", lw=2, marker="o", ms=3,
                    label=f"{_label(variant)} ({_count(len(lines), 'seed')})")
        ax.set(xlabel="epochs", ylabel=ylabel + " (%)")
        ax.grid(alpha=0.3)
    axes[0][0].legend(frameon=False)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------ Section 3.1
def _by_activation(r: ExperimentResult) -> dict[str, list[dict]]:
    return {act: r.findings["runs"].get(act, []) for act in ("relu", "tanh")}


def figure1(r: ExperimentResult):
    """Figure 1 as the paper draws it: running training error against epochs, ReLU solid, tanh
    dashed, the target as a dotted line; one line per seed at the chosen learning rate."""
    fig, ax = plt.subplots(figsize=(PAGE_INCHES, 3.9))
    styles = {"relu": ("-", "C0", "ReLU"), "tanh": ("--", "C3", "tanh")}
    top = 0.0
    for act, runs in _by_activation(r).items():
        style, colour, name = styles[act]
        for i, run in enumerate(runs):
            c = np.asarray(run["curve"], dtype=float)
            if not len(c):
                continue
            top = max(top, float(np.nanmax(c[:, 1])))
            label = f"{name}, learning rate {run['lr']:g} ({_count(len(runs), 'seed')})" if i == 0 else None
            ax.plot(c[:, 0], c[:, 1], style, color=colour, lw=1.4, label=label)
    ax.axhline(r.findings["target_train_error"], color="k", lw=0.8, ls=":",
               label=f"target: {pct(r.findings['target_train_error'], 0)} training error")
    ax.set(xlabel="Epochs", ylabel="Training error rate", ylim=(0, min(1.0, max(top, r.findings["target_train_error"]) + 0.05)))
    ax.set_xlim(left=0)
    ax.legend(frameon=False, loc="lower left")
    fig.tight_layout()
    return fig


def tuning_figure(r: ExperimentResult):
    """The learning-rate search with seed 0: one panel per non-linearity, one line per rate tried."""
    fig, axes = plt.subplots(1, 2, figsize=(PAGE_INCHES, 3.3), sharey=True)
    chosen = r.findings.get("best_lr", {})
    for ax, act in zip(axes, ("relu", "tanh")):
        runs = sorted((t for t in r.findings["tuning_curves"] if t["activation"] == act), key=lambda t: t["lr"])
        for j, t in enumerate(runs):
            c = np.asarray(t["curve"], dtype=float)
            if len(c):
                best = chosen.get(act) == t["lr"]
                ax.plot(c[:, 0], c[:, 1], "-" if act == "relu" else "--", color=f"C{j}", lw=2.2 if best else 1.0,
                        label=f"{t['lr']:g}" + (" (chosen)" if best else ""))
        ax.axhline(r.findings["target_train_error"], color="k", lw=0.8, ls=":")
        ax.set(title="ReLU" if act == "relu" else "tanh", xlabel="Epochs", ylim=(0, 1))
        ax.set_xlim(left=0)
        if runs:
            ax.legend(frameon=False, title="learning rate", loc="upper right", fontsize="small")
    axes[0].set_ylabel("Training error rate")
    fig.tight_layout()
    return fig


def tuning_table(r: ExperimentResult) -> pd.DataFrame:
    """Every (non-linearity, learning rate) tried with seed 0: epochs to the target or where it stopped."""
    chosen = r.findings.get("best_lr", {})
    rows = []
    for t in sorted(r.findings["tuning"], key=lambda t: (t["activation"] != "relu", t["lr"])):
        if t["epochs_to_target"] is not None:
            reached = f"{t['epochs_to_target']:.2f}"
        elif t["diverged"]:
            reached = f"diverged at {t['epochs_trained']:.2f}"
        else:
            reached = f"not by {t['epochs_trained']:.2f}"
        rows.append({"non-linearity": "ReLU" if t["activation"] == "relu" else "tanh", "learning rate": f"{t['lr']:g}",
                     "epochs to target": reached, "chosen": "yes" if chosen.get(t["activation"]) == t["lr"] else ""})
    return pd.DataFrame(rows)


def grid_words(r: ExperimentResult) -> str:
    """Whether each chosen learning rate lies inside the grid tried (not at its edge), in words."""
    parts = []
    done = r.progress.complete
    for act, name in (("relu", "ReLU"), ("tanh", "tanh")):
        tried = sorted(t["lr"] for t in r.findings["tuning"] if t["activation"] == act)
        best = r.findings.get("best_lr", {}).get(act)
        if not tried:
            parts.append(f"{name}: no rate tried yet")
        elif best is None:
            parts.append(f"{name}: none of the {len(tried)} rates tried has reached the target")
        elif not any(t["lr"] == best and t["epochs_to_target"] is not None for t in r.findings["tuning"]
                     if t["activation"] == act):
            parts.append(f"{name}: none of the rates tried ({', '.join(f'{x:g}' for x in tried)}) reached the "
                         f"target, so the other seeds use {best:g}, the rate with the lowest final training error")
        else:
            inside = r.findings.get("best_lr_inside_grid", {}).get(act, False)
            where = ("inside the grid (a smaller and a larger rate were slower)" if inside
                     else "at the edge of the grid, so a rate beyond it might be faster")
            parts.append(f"{name}: {best:g}{'' if done else ' so far'}, {where}; rates tried: "
                         + ", ".join(f"{x:g}" for x in tried))
    return "Chosen learning rates (seed 0, fewest epochs to the target). " + "; ".join(parts) + "."


def speedup_table(r: ExperimentResult) -> pd.DataFrame:
    """Per seed: epochs to the target with ReLU and with tanh, and their ratio (the speed-up)."""
    by = {act: {run["seed"]: run for run in runs} for act, runs in _by_activation(r).items()}
    rows = []
    for seed in sorted(set(by["relu"]) | set(by["tanh"])):
        e = {}
        for act in ("relu", "tanh"):
            run = by[act].get(seed)
            if run is None:
                e[act] = (None, "not run yet")
            elif run["epochs_to_target"] is None:
                e[act] = (None, f"not by {run['epochs_trained']:.2f}")
            else:
                e[act] = (run["epochs_to_target"], f"{run['epochs_to_target']:.2f}")
        ratio = ""
        if e["relu"][0] and seed in by["tanh"]:
            tanh = e["tanh"][0] or by["tanh"][seed]["epochs_trained"]
            ratio = f"{'at least ' if e['tanh'][0] is None else ''}{tanh / e['relu'][0]:.2f}x"
        rows.append({"seed": seed, "ReLU: epochs to target": e["relu"][1], "tanh: epochs to target": e["tanh"][1],
                     "speed-up": ratio})
    return pd.DataFrame(rows)


def speedup_words(r: ExperimentResult) -> str:
    """The measured speed-up, its spread and interval, against the paper's six times, and the verdict."""
    sp = r.findings["speedup"]
    paper = sp.get("paper", 6.0)
    if sp["n"] == 0:
        return (f"No seed has finished both runs yet, so there is no speed-up to set beside the paper's "
                f"{paper:g} times; the verdict is **{r.verdict}**.")
    bound = " (a lower bound: a tanh run stopped before reaching the target)" if sp["lower_bound"] else ""
    text = (f"The speed-up, epochs(tanh) / epochs(ReLU) to reach {pct(r.findings['target_train_error'], 0)} training error"
            f"{bound}: mean {sp['mean']:.2f} over {_count(sp['n'], 'seed')}, standard deviation {sp['std']:.2f}, "
            "per seed " + ", ".join(f"{x:.2f}" for x in sp["values"] if x is not None)
            + f". The paper: {paper:g} times faster. ")
    iv = sp.get("interval")
    if iv is None:
        return text + f"One seed gives no confidence interval; the verdict is **{r.verdict}**."
    lo, hi = iv
    where = "inside" if lo <= paper <= hi else ("above" if paper > hi else "below")
    faster = ("lies above 1: ReLU is faster, as the paper says" if r.verdict == "agrees" else
              "lies below 1: tanh is faster here" if r.verdict == "disagrees" else
              "does not exclude equal speed (or clear the 5% margin), so it cannot tell which is faster")
    return (text + f"The 95% confidence interval of the mean speed-up, {lo:.2f} to {hi:.2f} times, {faster}: "
            f"**{r.verdict}**. The paper's {paper:g} times lies {where} it.")


# ------------------------------------------------------------------------------ Section 4.2
def scaling_words(r: ExperimentResult) -> str:
    """What the paper's test-time 0.5 does, from the dropout result (words decided by the numbers)."""
    s, sc = r.findings["summary"], r.findings["scaling"]
    with_scale = s["paper"]["test_error"]
    without = sc["test_error_paper_without_scaling"]
    d = sc["difference_paper_minus_inverted"]
    if with_scale["mean"] is None or without["mean"] is None:
        return "No run with the paper's dropout has finished yet."
    diff = without["mean"] - with_scale["mean"]
    spread = max(with_scale["std"] or 0.0, without["std"] or 0.0)
    if abs(diff) <= max(2 * spread, 0.005):
        effect = ("the two are within the seeds' spread: here the 0.5 changes the size of the logits (the predicted "
                  "probabilities) more than which class is most probable")
    elif diff > 0:
        effect = (f"leaving the 0.5 out costs {points(diff, sign=False)} points: the layers after the dropped ones add "
                  "biases that are not halved, so the balance between weights and biases the network learned is lost")
    else:
        effect = f"leaving the 0.5 out lowers the error by {points(-diff, sign=False)} points here"
    same = ("equivalent within the seeds' noise" if sc["equivalent"] else "different beyond the seeds' noise")
    return (f"Scored with the paper's 0.5 at test time, the network trained with the paper's dropout errs on "
            f"{pct(with_scale['mean'], 2)} of the test images; scored without it, on {pct(without['mean'], 2)}: "
            f"{effect}. Against inverted dropout (no scaling at test time, survivors doubled while training) the "
            f"paper's dropout differs by {points(d['mean'])} points of test error (mean over {_count(d['n'], 'seed')}): "
            f"{same}.")


# ------------------------------------------------------------------------------ Section 4.1
def pca_table(r: ExperimentResult) -> pd.DataFrame:
    """The principal components of the training set's RGB values (RGB in [0, 1])."""
    vals, vecs = np.asarray(r.findings["eigenvalues"]), np.asarray(r.findings["eigenvectors"])
    share = vals / vals.sum()
    return pd.DataFrame({"component": ["p1", "p2", "p3"], "eigenvalue λ": [f"{v:.5f}" for v in vals],
                         "share": [f"{100 * x:.1f}%" for x in share],
                         **{c: [f"{x:.2f}" for x in vecs[i]] for i, c in enumerate("RGB")}})


def pca_words(r: ExperimentResult) -> str:
    """What the first principal component is, decided by its weights."""
    vals, vecs = np.asarray(r.findings["eigenvalues"]), np.asarray(r.findings["eigenvectors"])
    p1 = vecs[:, 0]
    share = 100 * vals[0] / vals.sum()
    weights = ", ".join(f"{x:.2f}" for x in p1)
    if np.all(p1 > 0) or np.all(p1 < 0):
        spread = np.abs(p1).max() - np.abs(p1).min()
        kind = ("moves all three channels the same way by nearly the same amount: a change of brightness"
                if spread < 0.15 else "moves all three channels the same way, by different amounts: a change of "
                "brightness with a tint")
    else:
        kind = "moves some channels up and others down: a change of colour more than of brightness"
    return (f"The first component carries {share:.0f}% of the colour variance of these images; its weights on R, G "
            f"and B are ({weights}), so adding it {kind}.")


def lighting_figure(images, eigval, eigvec, sigmas=(0.1, 0.5), draws: int = 7, seed: int = 0):
    """``draws`` PCA-lighting draws of one image (uint8 ``(3, H, W)``) per sigma, beside the original."""
    import torch

    from ..experiments.tensors import pca_lighting

    img = torch.as_tensor(images).float()[None].repeat(draws, 1, 1, 1)
    ev = torch.as_tensor(np.asarray(eigval), dtype=torch.float32)
    evec = torch.as_tensor(np.asarray(eigvec), dtype=torch.float32)
    fig, axes = plt.subplots(len(sigmas), draws + 1, figsize=(PAGE_INCHES, 1.15 * len(sigmas) + 0.3))
    for row, sigma in enumerate(sigmas):
        lit = pca_lighting(img, ev, evec, sigma, torch.Generator().manual_seed(seed))
        for col, (ax, im) in enumerate(zip(axes[row], [img[0], *lit])):
            ax.imshow(im.clamp(0, 255).permute(1, 2, 0).numpy().astype("uint8"))
            ax.set_xticks([]), ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(f"σ = {sigma:g}")
            if row == 0:
                ax.set_title("original" if col == 0 else f"draw {col}")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------ Section 3.3
def lrn_parameter_table() -> pd.DataFrame:
    """Section 3.3's constants as the paper, torch and Caffe write them."""
    return pd.DataFrame([
        {"source": "paper (Section 3.3)", "n": "5", "α": "1e-4 × sum", "β": "0.75", "k": "2",
         "the paper's function in torch": "alexnet.LocalResponseNorm()"},
        {"source": "torch", "n": "size=5", "α": "alpha × mean", "β": "0.75", "k": "2",
         "the paper's function in torch": "nn.LocalResponseNorm(5, 5e-4, 0.75, 2)"},
        {"source": "Caffe bvlc_alexnet", "n": "local_size=5", "α": "1e-4 × mean", "β": "0.75", "k": "1",
         "the paper's function in torch": "not the same (α = 2e-5, k = 1)"},
    ])


def lrn_figure(seed: int = 0):
    """What LRN does: (left) a column of activations across 32 channels before and after; (right) the
    factor ``(k + alpha * S) ** -beta`` against the neighbourhood's sum of squares ``S``."""
    import torch

    from ..layers import local_response_norm

    g = torch.Generator().manual_seed(seed)
    a = torch.relu(torch.randn(32, generator=g)) * 20
    a[8:11] += torch.tensor([300.0, 500.0, 300.0])  # three strongly active neighbouring kernels
    a[24] += 400.0  # one isolated strong kernel
    b = local_response_norm(a.view(1, 32, 1, 1)).view(32)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(PAGE_INCHES, 3.4))
    x = np.arange(32)
    ax1.bar(x - 0.2, a.numpy(), width=0.4, label="a (after the ReLU)")
    ax1.bar(x + 0.2, (b * 2 ** 0.75).numpy(), width=0.4, label=r"$b \times 2^{0.75}$ (after LRN)")
    ax1.set(xlabel="kernel (channel) at one position", ylabel="activity")
    ax1.legend(frameon=False)
    s = np.logspace(0, 6, 200)
    for k, alpha, label in ((2, 1e-4, "paper: k = 2, α = 1e-4"), (1, 2e-5, "Caffe: k = 1, α = 2e-5")):
        ax2.semilogx(s, (k + alpha * s) ** -0.75, label=label)
    ax2.set(xlabel="sum of squares S over n = 5 kernels", ylabel="factor b / a")
    ax2.legend(frameon=False)
    fig.tight_layout()
    return fig, a, b


def device_of(r: ExperimentResult) -> str:
    """The device that made result ``r``, as its provenance names it (for :func:`alexnet.book.say_data`)."""
    return r.provenance.device


def show_ablation(r: ExperimentResult, claims: list[tuple[str, Verdict, str, float | None]], *, fig_name: str | None = None,
                  caption: str = "", curves: tuple[tuple[str, str], ...] = (("test_curve", "test error rate"),)) -> None:
    """Display an ablation's result: its figure (as a numbered, captioned figure ``fig_name``, if given),
    the variants' errors, and for each claim ``(label, verdict, what, paper)`` its 95% interval in a
    table and in words (:func:`interval_words`)."""
    from IPython.display import Markdown, display

    from .page import figure

    if fig_name and any(r.findings["runs"].values()):
        figure(fig_name, ablation_figure(r, curves))
        display(Markdown(f"```{{glue:figure}} {fig_name}\n:name: {fig_name}\n\n{caption}\n```"))
    display(summary_table(r).style.hide(axis="index"))
    display(verdict_table({label: v for label, v, _, _ in claims}).style.hide(axis="index"))
    display(Markdown(" ".join(interval_words(v, what=what, paper=paper) for _, v, what, paper in claims)))


def errors_words(r: ExperimentResult, paper: dict[str, float]) -> str:
    """Our mean test error of each variant beside the paper's (``variant -> error``), in one sentence."""
    ours, theirs = [], []
    for variant, err in paper.items():
        s = r.findings["summary"].get(variant, {}).get("test_error", {})
        ours.append(f"{pct(s.get('mean'), 2)} {_label(variant)}")
        theirs.append(f"{pct(err, 0)} {_label(variant)}")
    return (f"Our mean test errors: {' and '.join(ours)}; the paper's: {' and '.join(theirs)}, from networks trained "
            "far longer with augmentation.")


def resolution_words(v: Verdict, paper: float, where: str) -> str:
    """Whether our 95% interval could resolve an effect of the paper's size (``paper``, in points)."""
    iv = v.interval
    if iv is None:
        return (f"With fewer than two finished seeds there is no interval, so nothing can be said about an effect of "
                f"the size the paper reports {where} ({paper:g} point{'' if paper == 1 else 's'}).")
    half = 100 * (iv[1] - iv[0]) / 2
    if paper < half:
        return (f"An effect of the size the paper reports {where}, {paper:g} point{'' if paper == 1 else 's'}, is smaller than the half-width of "
                f"our 95% interval ({half:.2f} points): at this scale a difference that small cannot be told from "
                "the noise between seeds.")
    return (f"Our 95% interval's half-width ({half:.2f} points) is smaller than the effect the paper reports {where} "
            f"({paper:g} point{'' if paper == 1 else 's'}), so an effect of that size would show.")
