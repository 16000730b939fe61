"""Figure 2 of the paper, redrawn from a model: the towers and where they connect (Section 3.2).

Boxes are read off the model's own layers, so the picture always matches the code: one column per
tower, one row per learned layer, grey arrows where a layer reads only its own tower and red
arrows where it reads every tower (the only places the paper's two GPUs communicate).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..model import AlexNet

__all__ = ["draw_towers", "CROSS_LAYERS"]

#: Layers whose input is the concatenated output of every tower.
CROSS_LAYERS = ("conv3", "fc6", "fc7", "fc8")


def _label(layer) -> str:
    if hasattr(layer, "kernel_size"):
        k = layer.kernel_size[0]
        return f"{layer.out_channels} kernels {k}x{k}x{layer.in_channels}"
    return f"{layer.out_features} neurons"


#: What follows each layer (Sections 3.1, 3.3, 3.4 and 4.2).
AFTER = {"conv1": "ReLU, LRN, max-pool", "conv2": "ReLU, LRN, max-pool", "conv3": "ReLU", "conv4": "ReLU",
         "conv5": "ReLU, max-pool", "fc6": "ReLU, dropout", "fc7": "ReLU, dropout", "fc8": "one softmax over both towers"}


def draw_towers(model: AlexNet, ax: Axes | None = None) -> Figure:
    """Draw ``model``'s towers and their connections, top to bottom; returns the figure.

    One column per tower and one row per learned layer, so that the labels keep a legible size
    when the figure spans a page (about 8 inches wide).
    """
    names = [n for n, _ in model.towers[0].layers()]  # no conv4 in Section 7's depth ablation
    n_towers = len(model.towers)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.8, 0.4 + 0.75 * (len(names) + 1)))
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.99)
    fig = ax.figure
    w, h, dx, dy = 3.0, 0.62, 3.9, 1.0
    xs = [dx * t for t in range(n_towers)]
    centre = sum(xs) / n_towers

    def box(x, y, text, colour):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.04",
                                    fc=colour, ec="black", lw=0.8))
        ax.text(x, y, text, ha="center", va="center", fontsize=10, linespacing=1.25)

    def arrow(x0, y0, x1, y1, colour):
        ax.add_patch(FancyArrowPatch((x0, y0 - h / 2), (x1, y1 + h / 2), arrowstyle="-|>",
                                     mutation_scale=11, color=colour, lw=1.4 if colour == "red" else 1.0,
                                     shrinkA=1, shrinkB=1))

    top = 0.0
    box(centre, top, "image 3 x 224 x 224", "#eeeeee")
    for i, name in enumerate(names):
        y = top - dy * (i + 1)
        for t, x in enumerate(xs):
            layer = getattr(model.towers[t], name)
            colour = "#cfe2f3" if name.startswith("conv") else "#d9ead3"
            box(x, y, f"{name}: {_label(layer)}\n{AFTER[name]}", colour)
            if i == 0:
                arrow(centre, top, x, y, "grey")
            elif name in CROSS_LAYERS and n_towers > 1:
                for x_src in xs:
                    arrow(x_src, y + dy, x, y, "red")
            else:
                arrow(x, y + dy, x, y, "grey")
    for t, x in enumerate(xs):
        ax.text(x, top + 0.62, f"tower {t + 1} (GPU {t + 1})" if n_towers > 1 else "one tower",
                ha="center", va="bottom", fontsize=11, fontweight="bold")
    ax.set_xlim(min(xs) - w / 2 - 0.2, max(xs) + w / 2 + 0.2)
    ax.set_ylim(top - dy * len(names) - 0.4, top + 0.95)
    ax.axis("off")
    return fig
