"""Figures for the book: conv1 kernels (Figure 3), top-5 predictions and nearest neighbours
(Figure 4, Section 6.1), and training curves that any chapter can reuse.

Every function draws onto a new matplotlib figure (or onto the ``ax`` it is given) and returns it;
notebooks call ``plt.show()``. Images are shown with a per-image (or per-kernel) min-max
normalisation, so any input scaling or mean subtraction displays sensibly.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "short_name",
    "to_display",
    "kernel_mosaic",
    "filter_grid",
    "prediction_panels",
    "neighbour_panels",
    "training_curves",
]

#: The paper's figures mark the correct label in red.
CORRECT_COLOUR = "#d62728"
OTHER_COLOUR = "#8c9fb5"


def short_name(name: str, width: int = 22) -> str:
    """A class name fit for a tick label: WordNet's first synonym ("tench, Tinca tinca" -> "tench")."""
    first = name.split(",")[0].strip()
    return first if len(first) <= width else first[: width - 1] + "…"


def to_display(image: torch.Tensor | np.ndarray, mean: torch.Tensor | np.ndarray | None = None) -> np.ndarray:
    """A ``(3, H, W)`` image (or kernel) as an ``(H, W, 3)`` array in [0, 1] for ``imshow``.

    A ``uint8`` image (a photograph as decoded) is shown as it is. Otherwise ``mean`` (the mean image
    the data pipeline subtracted, in the image's units: a ``(3, 1, 1)`` colour, or a ``(3, R, R)``
    image of which the central patch is used) is added back first; then the array is min-max
    normalised on its own, as the paper shows its kernels. A constant array becomes mid-grey.
    """
    t = torch.as_tensor(image).detach().to("cpu")
    if t.dim() != 3 or t.shape[0] not in (1, 3):
        raise ValueError(f"to_display expects a (3, H, W) or (1, H, W) array, got shape {tuple(t.shape)}")
    if t.dtype == torch.uint8 and mean is None:
        x = t.to(torch.float64) / 255.0
        return (x.expand(3, -1, -1) if x.shape[0] == 1 else x).permute(1, 2, 0).numpy()
    x = t.to(torch.float64)
    if mean is not None:
        m = torch.as_tensor(mean).to(torch.float64)
        if m.dim() == 3 and m.shape[-1] > 1 and m.shape[-2:] != x.shape[-2:]:
            # a mean image of the resized images: take its central patch, as the centre crop does
            (h, w), (mh, mw) = x.shape[-2:], m.shape[-2:]
            if mh < h or mw < w:
                raise ValueError(f"to_display: mean image {tuple(m.shape)} is smaller than the image {tuple(x.shape)}")
            top, left = (mh - h) // 2, (mw - w) // 2
            m = m[:, top : top + h, left : left + w]
        x = x + m
    lo, hi = x.min(), x.max()
    x = (x - lo) / (hi - lo) if hi > lo else torch.full_like(x, 0.5)
    if x.shape[0] == 1:
        x = x.expand(3, -1, -1)
    return x.permute(1, 2, 0).numpy()


def kernel_mosaic(kernels: torch.Tensor, cols: int = 8, gap: int = 1) -> np.ndarray:
    """``(N, 3, h, w)`` kernels tiled into one ``(rows*(h+gap)-gap, ...)`` RGB array.

    Each kernel is min-max normalised on its own (Figure 3's display); gaps are white.
    """
    if kernels.dim() != 4 or kernels.shape[1] != 3:
        raise ValueError(f"kernel_mosaic expects (N, 3, h, w) kernels, got shape {tuple(kernels.shape)}")
    n, _, h, w = kernels.shape
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    out = np.ones((rows * (h + gap) - gap, cols * (w + gap) - gap, 3))
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = to_display(kernels[i])
    return out


def filter_grid(
    towers: Sequence[torch.Tensor],
    stats: Sequence[float] | None = None,
    cols: int = 8,
    title: str | None = "conv1 kernels (Figure 3)",
    tower_names: Sequence[str] | None = None,
    width: float = 7.8,
) -> Figure:
    """Figure 3: each tower's conv1 kernels as a grid, one panel per tower, stacked as in the paper.

    ``stats`` (one number per tower, e.g. the mean colour specificity) goes into each panel's title;
    ``width`` is the figure's width in inches (7.8: a book page).
    """
    if not towers:
        raise ValueError("filter_grid needs at least one tower of kernels")
    mosaics = [kernel_mosaic(k, cols) for k in towers]
    heights = [m.shape[0] for m in mosaics]
    widest = max(m.shape[1] for m in mosaics)
    inch = (width - 0.3) / widest  # inches per kernel pixel
    fig, axes = plt.subplots(len(towers), 1, figsize=(width, inch * sum(heights) + 0.45 * len(towers)
                                                      + (0.4 if title else 0.1)),
                             gridspec_kw=dict(height_ratios=heights), squeeze=False)
    for i, (ax, mosaic) in enumerate(zip(axes[:, 0], mosaics)):
        ax.imshow(mosaic, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        name = tower_names[i] if tower_names else f"tower {i + 1} (the paper's GPU {i + 1})"
        label = f"{name}: {towers[i].shape[0]} kernels"
        if stats is not None:
            label += f", colour specificity {stats[i]:.2f}"
        ax.set_title(label, fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
        fig.tight_layout(rect=(0, 0, 1, 0.97))
    else:
        fig.tight_layout()
    return fig


def prediction_panels(
    images: torch.Tensor,
    probs: torch.Tensor,
    indices: torch.Tensor,
    class_names: Sequence[str],
    targets: Sequence[int] | torch.Tensor | None = None,
    cols: int = 4,
    mean: torch.Tensor | None = None,
    title: str | None = "top-5 predictions on held-out images (Figure 4, left)",
    width: float = 7.8,
) -> Figure:
    """Figure 4 (left): each image above a bar chart of its five most probable labels.

    The true class (``targets``), when it is among the five, is drawn in red as in the paper; the
    image's caption is its true class. ``width`` is the figure's width in inches (7.8: a book page).
    """
    n = images.shape[0]
    if probs.shape[0] != n or indices.shape != probs.shape:
        raise ValueError(f"prediction_panels: {n} images but probabilities {tuple(probs.shape)} "
                         f"and indices {tuple(indices.shape)}")
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    k = probs.shape[1]
    fig = plt.figure(figsize=(width, 2.5 * rows * width / (1.95 * cols)))
    outer = fig.add_gridspec(rows, cols, hspace=0.35, wspace=0.25)
    for i in range(n):
        r, c = divmod(i, cols)
        cell = outer[r, c].subgridspec(2, 1, height_ratios=[1.2, 0.9], hspace=0.08)
        ax = fig.add_subplot(cell[0])
        ax.set_anchor("S")  # the image sits on its bars
        ax.imshow(to_display(images[i], mean), interpolation="bilinear")
        ax.set_xticks([])
        ax.set_yticks([])
        target = None if targets is None else int(targets[i])
        if target is not None:
            ax.set_title(short_name(class_names[target]), fontsize=10, fontweight="bold")
        bars = fig.add_subplot(cell[1])
        names = [short_name(class_names[int(j)]) for j in indices[i]]
        colours = [CORRECT_COLOUR if int(j) == target else OTHER_COLOUR for j in indices[i]]
        bars.barh(range(k), probs[i].numpy(), color=colours, alpha=0.55, height=0.8)
        for y, name in enumerate(names):  # the label on its bar, as in the paper: long names stay in their panel
            bars.text(0.02, y, name, va="center", ha="left", fontsize=8)
        bars.set_yticks([])
        bars.invert_yaxis()
        bars.set_xlim(0, 1)
        bars.set_xticks([0, 0.5, 1])
        bars.tick_params(axis="x", labelsize=8)
        if r == rows - 1:
            bars.set_xlabel("probability", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=12)
    return fig


def neighbour_panels(
    queries: torch.Tensor,
    gallery: torch.Tensor,
    feature_idx: torch.Tensor,
    pixel_idx: torch.Tensor,
    class_names: Sequence[str] | None = None,
    query_labels: Sequence[int] | torch.Tensor | None = None,
    gallery_labels: Sequence[int] | torch.Tensor | None = None,
    mean: torch.Tensor | None = None,
    title: str | None = "nearest training images (Figure 4, right)",
    width: float = 7.8,
) -> Figure:
    """Figure 4 (right): each query beside its nearest training images in the last hidden layer
    (upper row) and, below them, its nearest in pixel space (lower row), nearest first.

    With labels, each image is captioned with its class, in red when it differs from the query's.
    ``width`` is the figure's width in inches (7.8: a book page).
    """
    q, k = feature_idx.shape
    if pixel_idx.shape != feature_idx.shape or queries.shape[0] != q:
        raise ValueError(f"neighbour_panels: {queries.shape[0]} queries, feature neighbours "
                         f"{tuple(feature_idx.shape)}, pixel neighbours {tuple(pixel_idx.shape)}")
    labelled = class_names is not None and query_labels is not None and gallery_labels is not None
    cell = (width - 0.3) / (k + 1.8)  # inches per neighbour image
    fig = plt.figure(figsize=(width, 2.3 * cell * q + 0.25 * (q - 1) + (0.9 if title else 0.3)))
    ratios = []
    for r in range(q):
        ratios += [1, 1] + ([0.22] if r < q - 1 else [])
    # columns: the query, a gap for the row labels, then the k neighbours
    grid = fig.add_gridspec(len(ratios), k + 2, height_ratios=ratios, width_ratios=[1.4, 0.4] + [1] * k,
                            hspace=0.35, wspace=0.1)

    def show(ax: Axes, img: torch.Tensor, cls: int | None, own: int | None, bold: bool = False) -> None:
        ax.imshow(to_display(img, mean), interpolation="bilinear")
        ax.set_xticks([])
        ax.set_yticks([])
        if labelled and cls is not None:
            ax.set_xlabel(short_name(class_names[cls], 14), fontsize=8, labelpad=2,
                          color="black" if cls == own else CORRECT_COLOUR, fontweight="bold" if bold else "normal")

    for r in range(q):
        top = 3 * r
        own = int(query_labels[r]) if labelled else None
        ax = fig.add_subplot(grid[top : top + 2, 0])
        show(ax, queries[r], own, own, bold=True)
        for side in ax.spines.values():
            side.set_linewidth(2.5)
        if r == 0:
            ax.set_title("query", fontsize=9)
        for row, (idx, name) in enumerate(((feature_idx, "last hidden\nlayer (fc7)"), (pixel_idx, "pixel\nspace"))):
            for j in range(k):
                g = int(idx[r, j])
                ax = fig.add_subplot(grid[top + row, 2 + j])
                show(ax, gallery[g], int(gallery_labels[g]) if labelled else None, own)
                if j == 0:
                    ax.set_ylabel(name, fontsize=8)
    if title:
        fig.suptitle(f"{title}\nupper rows: the {k} nearest in the last hidden layer (fc7); "
                     f"lower rows: the {k} nearest in pixel space", fontsize=10)
    fig.subplots_adjust(left=0.02, right=0.99, top=1 - (0.75 if title else 0.2) / fig.get_figheight(), bottom=0.02)
    return fig


def training_curves(
    history: Sequence[Mapping[str, Any]] | Any,
    metrics: Sequence[str] | None = None,
    x: str = "epoch",
    ax: Axes | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    logy: bool = False,
    labels: Mapping[str, str] | None = None,
) -> Axes:
    """Plot ``metrics`` of a training history against ``x``.

    ``history`` is a list of per-epoch dicts (``metrics.jsonl`` records) or a pandas DataFrame.
    Without ``metrics``, every numeric column but ``x`` is drawn. Returns the Axes.
    """
    import pandas as pd

    df = history if isinstance(history, pd.DataFrame) else pd.DataFrame(list(history))
    if df.empty:
        raise ValueError("training_curves: the history is empty")
    if x not in df:
        raise ValueError(f"training_curves: x={x!r} is not in the history's columns {list(df.columns)}")
    if metrics is None:
        metrics = [c for c in df.columns if c != x and pd.api.types.is_numeric_dtype(df[c])]
    missing = [m for m in metrics if m not in df]
    if missing:
        raise ValueError(f"training_curves: metric(s) {missing} not in the history's columns {list(df.columns)}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for m in metrics:
        ax.plot(df[x], df[m], marker="o" if len(df) < 30 else None, label=(labels or {}).get(m, m))
    ax.set_xlabel(x)
    if ylabel:
        ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax
