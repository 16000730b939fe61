"""Figures of the data chapters (Sections 2 and 4.1): images as the network sees them."""
from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from torch import Tensor

__all__ = ["to_display", "show_images", "show_preprocessing", "PAGE_WIDTH"]

#: Width in inches of a figure that spans a page of the book (7.8 inches at 100 dpi: 780 pixels).
PAGE_WIDTH = 7.8


def to_display(x: Tensor) -> Tensor:
    """``(3, H, W)`` uint8 or float in ``[0, 1]`` (or ``[0, 255]``) as an ``(H, W, 3)`` array in ``[0, 1]``."""
    x = x.detach().float()
    if x.max() > 1.5:
        x = x / 255.0
    return x.clamp(0, 1).permute(1, 2, 0).numpy()


def show_images(images: list[Tensor], titles: list[str] | None = None, cols: int = 4, size: float = 2.4,
                suptitle: str | None = None):
    """A grid of images with titles, ``size`` inches a cell but never wider than a page; returns the figure."""
    rows = (len(images) + cols - 1) // cols
    size = min(size, PAGE_WIDTH / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * size, rows * size + (0.3 * rows if titles else 0)),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, img in enumerate(images):
        ax = axes.flat[i]
        ax.imshow(to_display(img), interpolation="nearest")
        if titles:
            ax.set_title(titles[i], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def show_preprocessing(named: dict[str, Tensor], resize: int = 256):
    """Section 2 for each image: the original with the kept square marked, the image rescaled
    so its shorter side is ``resize``, and the central ``resize x resize`` patch."""
    import torch.nn.functional as F
    from matplotlib.patches import Rectangle

    from ..data.images import resize_centre_crop

    fig, axes = plt.subplots(len(named), 3, figsize=(PAGE_WIDTH, 2.5 * len(named)), squeeze=False)
    for row, (name, img) in enumerate(named.items()):
        h, w = img.shape[-2:]
        s = min(h, w)
        new = (resize, int(resize * w / h)) if h <= w else (int(resize * h / w), resize)
        rescaled = F.interpolate(img[None], size=new, mode="bilinear", antialias=True)[0].to(torch.uint8)
        for ax in axes[row]:
            ax.axis("off")
        axes[row, 0].imshow(to_display(img))
        axes[row, 0].add_patch(Rectangle(((w - s) / 2, (h - s) / 2), s, s, fill=False, color="yellow", lw=2))
        axes[row, 0].set_title(f"{name}: {w}x{h}", fontsize=10)
        axes[row, 1].imshow(to_display(rescaled))
        axes[row, 1].set_title(f"rescaled: {new[1]}x{new[0]}", fontsize=10)
        axes[row, 2].imshow(to_display(resize_centre_crop(img, resize)))
        axes[row, 2].set_title(f"central {resize}x{resize}", fontsize=10)
    fig.tight_layout()
    return fig
