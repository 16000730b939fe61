"""Figure 2 of the paper, redrawn from a model: the towers and where they connect (Section 3.2).

Boxes are read off the model's own layers, so the picture always matches the code: one row per
tower, one column per learned layer, grey arrows where a layer reads only its own tower and red
arrows where it reads every tower (the only places the paper's two GPUs communicate).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .model import CONV_NAMES, FC_NAMES, AlexNet

__all__ = ["draw_towers", "CROSS_LAYERS"]

#: Layers whose input is the concatenated output of every tower.
CROSS_LAYERS = ("conv3", "fc6", "fc7", "fc8")


def _label(layer) -> str:
    if hasattr(layer, "kernel_size"):
        k = layer.kernel_size[0]
        return f"{layer.out_channels} x {k}x{k}x{layer.in_channels}"
    return f"{layer.out_features}"


def draw_towers(model: AlexNet, ax: Axes | None = None) -> Figure:
    """Draw ``model``'s towers and their connections; returns the figure."""
    names = CONV_NAMES + FC_NAMES
    n_towers = len(model.towers)
    if ax is None:
        _, ax = plt.subplots(figsize=(13, 1.9 + 1.6 * n_towers))
    fig = ax.figure
    w, h, dx, dy = 1.25, 0.9, 1.55, 1.6
    ys = [dy * (n_towers - 1 - t) for t in range(n_towers)]

    def box(x, y, text, colour):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04",
                                    fc=colour, ec="black", lw=0.8))
        ax.text(x, y, text, ha="center", va="center", fontsize=7)

    def arrow(x0, y0, x1, y1, colour):
        ax.add_patch(FancyArrowPatch((x0 + w / 2, y0), (x1 - w / 2, y1), arrowstyle="-|>",
                                     mutation_scale=9, color=colour, lw=1.1 if colour == "red" else 0.9))

    box(0, sum(ys) / n_towers, "image\n3 x 224 x 224", "#eeeeee")
    for t, y in enumerate(ys):
        for i, name in enumerate(names):
            layer = getattr(model.towers[t], name)
            colour = "#cfe2f3" if name.startswith("conv") else "#d9ead3"
            box(dx * (i + 1), y, f"{name}\n{_label(layer)}", colour)
        arrow(0, sum(ys) / n_towers, dx, y, "grey")
    after = {"conv1": "ReLU, LRN, pool", "conv2": "ReLU, LRN, pool", "conv5": "ReLU, pool",
             "fc6": "ReLU, dropout", "fc7": "ReLU, dropout", "fc8": "softmax (joint)"}
    for i, name in enumerate(names):
        ax.text(dx * (i + 1), min(ys) - h / 2 - 0.15, after.get(name, "ReLU"), ha="center", va="top",
                fontsize=7, style="italic")
    for i, name in enumerate(names[1:], start=1):
        for t, y in enumerate(ys):
            if name in CROSS_LAYERS and n_towers > 1:
                for y_src in ys:
                    arrow(dx * i, y_src, dx * (i + 1), y, "red")
            else:
                arrow(dx * i, y, dx * (i + 1), y, "grey")
    for t, y in enumerate(ys):
        ax.text(-0.9, y, f"tower {t + 1}" if n_towers > 1 else "one tower", ha="right", va="center",
                fontsize=9, fontweight="bold")
    ax.set_xlim(-2.2, dx * (len(names) + 0.6))
    ax.set_ylim(min(ys) - 1.2, max(ys) + 0.8)
    ax.axis("off")
    title = ("red: the layer reads the maps of both towers (the GPUs communicate); "
             "grey: only its own tower's" if n_towers > 1 else "footnote 2: a single tower")
    ax.set_title(title, fontsize=9)
    return fig
