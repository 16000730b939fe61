"""The Figure 1 chapter (Section 3.1, ``03_1_relu``): Figure 1 redrawn, the learning-rate search, the
speed-up per seed, and the values its prose glues in. Needs matplotlib and pandas."""
from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..experiments.result import ExperimentResult
from .formatting import count
from .formatting import pct
from .page import PAGE_INCHES
from .results import glue_values, status

__all__ = ["figure1", "tuning_figure", "tuning_table", "speedup_table", "speedup_values", "glue_speedup"]


def _by_activation(r: ExperimentResult) -> dict[str, list[dict]]:
    return {act: r.findings["runs"].get(act, []) for act in ("relu", "tanh")}


def figure1(r: ExperimentResult | None):
    """Figure 1 as the paper draws it: running training error against epochs, ReLU solid, tanh
    dashed, the target as a dotted line; one line per seed at the chosen learning rate."""
    fig, ax = plt.subplots(figsize=(PAGE_INCHES, 3.9))
    if r is None:
        ax.text(0.5, 0.5, "not run: no committed result", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    styles = {"relu": ("-", "C0", "ReLU"), "tanh": ("--", "C3", "tanh")}
    top = 0.0
    for act, runs in _by_activation(r).items():
        style, colour, name = styles[act]
        for i, run in enumerate(runs):
            c = np.asarray(run["curve"], dtype=float)
            if not len(c):
                continue
            top = max(top, float(np.nanmax(c[:, 1])))
            label = f"{name}, learning rate {run['lr']:g} ({count(len(runs), 'seed')})" if i == 0 else None
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


def speedup_values(r: ExperimentResult | None) -> dict[str, Any]:
    """What the chapter's prose glues in: the speed-up (mean, spread, interval, per seed), the
    target, the chosen rates and whether each lies inside its grid, the status and verdict."""
    state = status(r)
    out: dict[str, Any] = {"status": state, "verdict": r.verdict if state == "complete" else state,
                           "target": "n/a", "n": 0, "mean": "n/a", "std": "n/a", "lo": "n/a", "hi": "n/a",
                           "per_seed": "n/a", "paper_where": "n/a", "bound": "",
                           "epochs_relu": "n/a", "epochs_tanh": "n/a"}
    for act in ("relu", "tanh"):
        out[f"lr_{act}"], out[f"grid_{act}"] = "n/a", "n/a"
    if r is None:
        return out
    sp, f = r.findings["speedup"], r.findings
    out["target"] = pct(f["target_train_error"], 0)
    paper = sp.get("paper", 6.0)
    if sp["n"]:
        out.update(n=sp["n"], mean=f"{sp['mean']:.2f}", std=f"{sp['std']:.2f}",
                   per_seed=", ".join(f"{x:.2f}" for x in sp["values"] if x is not None),
                   bound="at least " if sp["lower_bound"] else "")
    if sp.get("interval"):
        lo, hi = sp["interval"]
        out.update(lo=f"{lo:.2f}", hi=f"{hi:.2f}",
                   paper_where="inside" if lo <= paper <= hi else "above" if paper > hi else "below")
    for act in ("relu", "tanh"):
        runs = [run["epochs_to_target"] for run in _by_activation(r)[act] if run["epochs_to_target"] is not None]
        if runs:
            out[f"epochs_{act}"] = f"{min(runs):.2f}" if min(runs) == max(runs) else f"{min(runs):.2f}-{max(runs):.2f}"
        best = f.get("best_lr", {}).get(act)
        if best is not None:
            out[f"lr_{act}"] = f"{best:g}"
            out[f"grid_{act}"] = "inside" if f.get("best_lr_inside_grid", {}).get(act) else "at the edge of"
    return out


def glue_speedup(r: ExperimentResult | None, prefix: str = "relu") -> dict[str, Any]:
    """Glue :func:`speedup_values` as ``<prefix>_<key>``."""
    return glue_values(prefix, speedup_values(r))
