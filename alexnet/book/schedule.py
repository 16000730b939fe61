"""What the CIFAR-10 ablation chapters show of the regime their verdicts rest on: the learning-rate grid
the rate was chosen from, the check that the schedule is past underfitting, and the LRN divisor the
trained baseline applies (Sections 2, 3.3 and 5; :mod:`alexnet.experiments.ablation`).

Values, tables and figures only; the chapters' Markdown says what they mean.
"""
from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import pandas as pd

from ..experiments.result import ExperimentResult
from .formatting import pct, points
from .page import PAGE_INCHES

__all__ = ["rate_grid_table", "schedule_values", "length_figure", "divisor_table", "SILENT_DIVISOR"]

#: The LRN divisor of a window with no activity: k ** beta with the paper's k = 2, beta = 0.75.
SILENT_DIVISOR = 2.0 ** 0.75


def _schedule(r: ExperimentResult | None) -> dict[str, Any]:
    return (r.findings.get("schedule") or {}) if r is not None else {}


def rate_grid_table(r: ExperimentResult | None) -> pd.DataFrame:
    """One row per learning rate of the baseline's grid: its final test and training error."""
    rate = _schedule(r).get("rate") or {}
    rows = [{"learning rate": f"{g['lr']:g}" + (" (chosen)" if g["lr"] == rate.get("lr") else ""),
             "test error": "diverged" if g["diverged"] else pct(g["test_error"]),
             "training error": "diverged" if g["diverged"] else pct(g["train_error"])} for g in rate.get("grid", [])]
    return pd.DataFrame(rows, columns=["learning rate", "test error", "training error"])


def schedule_values(r: ExperimentResult | None) -> dict[str, Any]:
    """Glue values: the chosen rate, whether it lies inside its grid, the grid's epochs, and the length
    check (epochs, the baseline's test and training errors, the change of test error with 1.5x the epochs)."""
    sched = _schedule(r)
    rate, length = sched.get("rate") or {}, sched.get("length_check")
    out: dict[str, Any] = {
        "chosen_lr": f"{rate['lr']:g}" if rate.get("lr") is not None else "not chosen yet",
        "rate_inside": {True: "inside", False: "at an edge of", None: "not yet measured on"}[rate.get("inside")],
        "grid_epochs": f"{rate['epochs']:g}" if rate.get("epochs") else "not run",
        "grid_rates": ", ".join(f"{g['lr']:g}" for g in rate.get("grid", [])) or "not run",
    }
    if length:
        out.update(epochs=f"{length['epochs'][0]:g}", longer_epochs=f"{length['epochs'][1]:g}",
                   base_test=pct(length["test_error"][0]), base_train=pct(length["train_error"][0]),
                   base_gap=points(length["test_error"][0] - length["train_error"][0], sign=False),
                   longer_test=pct(length["test_error"][1]), length_change=points(length["change"]))
    else:
        out.update({k: "not run" for k in ("epochs", "longer_epochs", "base_test", "base_train", "base_gap",
                                           "longer_test", "length_change")})
    return out


def length_figure(r: ExperimentResult | None):
    """The baseline's test error per epoch for the schedule used and one 1.5 times as long (seed 0)."""
    length = _schedule(r).get("length_check")
    if not length:
        return None
    fig, ax = plt.subplots(figsize=(PAGE_INCHES * 0.6, 3.0))
    for epochs, curve, style in zip(length["epochs"], length["test_curves"], ("-", "--")):
        ax.plot([c[0] for c in curve], [100 * c[1] for c in curve], style, label=f"{epochs:g} epochs")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test error (%)")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def divisor_table(r: ExperimentResult | None, variant: str = "with_lrn") -> pd.DataFrame:
    """The LRN divisor the trained networks of ``variant`` apply to training images: 1st, 50th and 99th
    percentile and maximum at each LRN layer, one row per seed and layer."""
    rows = []
    for run in (r.findings.get("runs", {}).get(variant, []) if r is not None else []):
        for layer, (p1, p50, p99, top) in sorted((run.get("lrn_divisor") or {}).items()):
            rows.append({"seed": run["seed"], "layer": layer.upper(), "1st pct": f"{p1:.3f}", "median": f"{p50:.3f}",
                         "99th pct": f"{p99:.3f}", "max": f"{top:.2f}"})
    return pd.DataFrame(rows, columns=["seed", "layer", "1st pct", "median", "99th pct", "max"])
