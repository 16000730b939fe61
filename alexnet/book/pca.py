"""The PCA-lighting chapter (Section 4.1, ``04_1_pca_ablation``): the principal components of the
training set's colours and what the augmentation does to one image. Needs matplotlib and pandas."""
from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..experiments.result import ExperimentResult
from .page import PAGE_INCHES

__all__ = ["pca_table", "pca_values", "lighting_figure"]


def pca_table(r: ExperimentResult) -> pd.DataFrame:
    """The principal components of the training set's RGB values (RGB in [0, 1])."""
    vals, vecs = np.asarray(r.findings["eigenvalues"]), np.asarray(r.findings["eigenvectors"])
    share = vals / vals.sum()
    return pd.DataFrame({"component": ["p1", "p2", "p3"], "eigenvalue λ": [f"{v:.5f}" for v in vals],
                         "share": [f"{100 * x:.1f}%" for x in share],
                         **{c: [f"{x:.2f}" for x in vecs[i]] for i, c in enumerate("RGB")}})


def pca_values(r: ExperimentResult) -> dict[str, Any]:
    """The first component's share of the colour variance (%), its weights on R, G, B, and what it
    changes: ``"brightness"`` (all channels the same way, nearly equally), ``"brightness and tint"``
    (the same way, unequally) or ``"colour"`` (some channels up, others down)."""
    vals, vecs = np.asarray(r.findings["eigenvalues"]), np.asarray(r.findings["eigenvectors"])
    p1 = vecs[:, 0]
    if np.all(p1 > 0) or np.all(p1 < 0):
        kind = "brightness" if np.abs(p1).max() - np.abs(p1).min() < 0.15 else "brightness and tint"
    else:
        kind = "colour"
    return {"p1_share": f"{100 * vals[0] / vals.sum():.0f}", "p1_weights": ", ".join(f"{x:.2f}" for x in p1),
            "p1_kind": kind}


def lighting_figure(images, eigval, eigvec, sigmas=(0.1, 0.5), draws: int = 7, seed: int = 0):
    """``draws`` PCA-lighting draws of one image (uint8 ``(3, H, W)``) per sigma, beside the original."""
    import torch

    from ..data.augment import random_lighting

    img = torch.as_tensor(images).float()[None].repeat(draws, 1, 1, 1)
    ev = torch.as_tensor(np.asarray(eigval), dtype=torch.float32)
    evec = torch.as_tensor(np.asarray(eigvec), dtype=torch.float32)
    fig, axes = plt.subplots(len(sigmas), draws + 1, figsize=(PAGE_INCHES, 1.15 * len(sigmas) + 0.3))
    for row, sigma in enumerate(sigmas):
        lit = random_lighting(img, ev, evec, sigma, torch.Generator().manual_seed(seed))
        for col, (ax, im) in enumerate(zip(axes[row], [img[0], *lit])):
            ax.imshow(im.clamp(0, 255).permute(1, 2, 0).numpy().astype("uint8"))
            ax.set_xticks([]), ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(f"σ = {sigma:g}")
            if row == 0:
                ax.set_title("original" if col == 0 else f"draw {col}")
    fig.tight_layout()
    return fig


