"""Figures and tables of the experiment chapters (Sections 3.1-4.2), from result dictionaries.

The notebooks stay thin: they run an experiment (or load its committed JSON) and call these.
"""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ..layers import local_response_norm

__all__ = ["figure1", "ablation_curves", "summary_table", "side_by_side", "provenance_line", "lrn_figure",
           "lrn_parameter_table", "fmt_pct"]


def fmt_pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f}%"


def provenance_line(r: dict | None) -> str:
    """One line saying which run a result comes from: profile, device, date, data, wall time."""
    if r is None:
        return "no result"
    p = r["provenance"]
    data = "GENERATED stand-in data (no CIFAR-10 found)" if r["data"]["synthetic"] else \
        f"CIFAR-10, {r['data']['train_images']:,} training / {r['data']['test_images']:,} test images"
    return (f"profile `{r['profile']}` on {p['device']}, {p['date']}, {data}, {p['wall_seconds']:.0f} s, "
            f"commit {p['git_commit'][:12]}")


def describe_full(name: str, r: dict | None) -> str:
    """Markdown for a chapter's committed full-profile run of experiment ``name`` (or how to make one)."""
    if r is None:
        return ("*No committed full-profile result yet.* Run `bash scripts/gpu_experiments.sh` on a GPU (or "
                f"`python -m alexnet experiment {name} --profile full`) and commit `results/{name}/full.json`.")
    why = r["explanation"][:1].upper() + r["explanation"][1:]
    return f"**Committed full-profile run** ({provenance_line(r)}): verdict **{r['verdict']}**. {why}."


def figure1(results: dict[str, dict], ax=None):
    """Figure 1 of the paper: running training error against epochs, ReLU solid, tanh dashed.

    ``results`` maps a label (e.g. "ci rerun", "full (committed)") to a ``relu_tanh`` result; one
    panel per label, one line per seed.
    """
    labels = [k for k, v in results.items() if v is not None]
    fig, axes = plt.subplots(1, len(labels), figsize=(5.5 * len(labels), 3.8), squeeze=False)
    for ax, label in zip(axes[0], labels):
        r = results[label]
        for act, style, colour in (("relu", "-", "C0"), ("tanh", "--", "C3")):
            for i, run in enumerate(r["runs"][act]):
                c = np.asarray(run["curve"], dtype=float)
                if len(c):
                    ax.plot(c[:, 0], c[:, 1], style, color=colour, alpha=0.8,
                            label=f"{act} (lr {r['best_lr'][act]})" if i == 0 else None)
        ax.axhline(r["target_train_error"], color="k", lw=0.8, ls=":")
        ax.set(xlabel="epochs", ylabel="training error rate", title=label, ylim=(0, 1))
        ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def ablation_curves(results: dict[str, dict], key: str = "test_curve", ylabel: str = "test error rate"):
    """Error against epochs (``key``: ``test_curve`` after each epoch, or ``train_curve``, the running
    training error), mean over seeds with the seeds' range shaded, one line per variant; one panel per result."""
    labels = [k for k, v in results.items() if v is not None]
    fig, axes = plt.subplots(1, len(labels), figsize=(5.5 * len(labels), 3.6), squeeze=False)
    for ax, label in zip(axes[0], labels):
        r = results[label]
        for j, (variant, runs) in enumerate(r["runs"].items()):
            curves = [np.asarray(run[key], dtype=float) for run in runs if run[key]]
            if not curves:
                continue
            n = min(len(c) for c in curves)
            stack = np.stack([c[:n, 1] for c in curves])
            x = curves[0][:n, 0]
            ax.plot(x, stack.mean(0), color=f"C{j}", label=variant.replace("_", " "))
            if len(curves) > 1:
                ax.fill_between(x, stack.min(0), stack.max(0), color=f"C{j}", alpha=0.2)
        ax.set(xlabel="epochs", ylabel=ylabel, title=label)
        ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def summary_table(r: dict, keys=("test_error", "train_error", "gap")) -> pd.DataFrame:
    """Mean +- std over seeds of each variant's errors (in %), one row per variant."""
    rows = []
    for variant, stats in r["summary"].items():
        row = {"variant": variant.replace("_", " ")}
        for k in keys:
            s = stats[k]
            row[k.replace("_", " ") + " (%)"] = ("n/a" if s["mean"] is None
                                                 else f"{100 * s['mean']:.2f} ± {100 * s['std']:.2f}")
        row["seeds"] = stats[keys[0]]["n"]
        rows.append(row)
    return pd.DataFrame(rows)


def side_by_side(results: dict[str, dict | None], metric: str = "test_error") -> pd.DataFrame:
    """One column per result (ci rerun, committed full run): ``metric`` per variant and the verdict."""
    cols = {}
    for label, r in results.items():
        if r is None:
            continue
        col = {v.replace("_", " "): (f"{100 * s[metric]['mean']:.2f} ± {100 * s[metric]['std']:.2f} %"
                                     if s[metric]["mean"] is not None else "n/a")
               for v, s in r["summary"].items()}
        col["seeds"] = str(next(iter(r["summary"].values()))[metric]["n"])
        col["verdict"] = r["verdict"]
        col["device"] = r["provenance"]["device"].split(" (")[0]
        col["data"] = "generated" if r["data"]["synthetic"] else f"CIFAR-10 ({r['data']['train_images']:,} train)"
        cols[label] = col
    return pd.DataFrame(cols)


def lrn_parameter_table() -> pd.DataFrame:
    """Section 3.3's constants as the paper, torch and Caffe write them."""
    return pd.DataFrame([
        {"source": "paper (Section 3.3)", "window": "n = 5", "alpha": "1e-4 (multiplies the sum)", "beta": "0.75",
         "k": "2", "code": "alexnet.LocalResponseNorm()"},
        {"source": "torch.nn.LocalResponseNorm", "window": "size = 5", "alpha": "5e-4 (multiplies the mean)",
         "beta": "0.75", "k": "2", "code": "nn.LocalResponseNorm(5, 5e-4, 0.75, 2)"},
        {"source": "Caffe LRN layer (bvlc_alexnet)", "window": "local_size = 5",
         "alpha": "1e-4 (multiplies the mean: the paper's 2e-5)", "beta": "0.75", "k": "1 (Caffe's default)",
         "code": "nn.LocalResponseNorm(5, 1e-4, 0.75, 1)"},
    ])


def lrn_figure(seed: int = 0):
    """What LRN does: (left) a column of activations across 32 channels before and after; (right) the
    divisor's effect ``(k + alpha * S) ** -beta`` against the neighbourhood's sum of squares ``S``."""
    g = torch.Generator().manual_seed(seed)
    a = torch.relu(torch.randn(32, generator=g)) * 20
    a[8:11] += torch.tensor([300.0, 500.0, 300.0])  # three strongly active neighbouring kernels
    a[24] += 400.0  # one isolated strong kernel
    b = local_response_norm(a.view(1, 32, 1, 1)).view(32)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
    x = np.arange(32)
    ax1.bar(x - 0.2, a.numpy(), width=0.4, label="a (after ReLU)")
    ax1.bar(x + 0.2, (b * 2 ** 0.75).numpy(), width=0.4, label="b x 2^0.75 (after LRN, rescaled)")
    ax1.set(xlabel="kernel (channel) index at one position", ylabel="activity",
            title="neighbours compete: a crowded peak is damped more")
    ax1.legend(frameon=False)
    s = np.logspace(0, 6, 200)
    for k, alpha, label in ((2, 1e-4, "paper: k=2, alpha=1e-4"), (1, 2e-5, "Caffe bvlc_alexnet: k=1, alpha=1e-4/5")):
        ax2.semilogx(s, (k + alpha * s) ** -0.75, label=label)
    ax2.set(xlabel="sum of squares over the n=5 neighbouring kernels", ylabel="factor b/a",
            title="the divisor (k + alpha*S)^beta")
    ax2.legend(frameon=False)
    fig.tight_layout()
    return fig, a, b
