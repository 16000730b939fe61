"""Section 4.1: the PCA colour augmentation ("PCA lighting"), with and without.

Both variants train with random crops and mirrors (the first form of augmentation of Section 4.1);
one adds ``[p1 p2 p3][a1 l1, a2 l2, a3 l3]^T`` to every pixel, with ``a_i ~ N(0, 0.1)`` drawn once
per image each time it is used, where ``p_i, l_i`` are the eigenvectors and eigenvalues of the
3x3 covariance of the training set's RGB values (:func:`alexnet.experiments.tensors.rgb_pca`,
pixels in 0..255). Regime: that of :mod:`.lrn` (the four-layer net with LRN and overlapping pooling).
"""
from __future__ import annotations

import torch

from .ablation import compare, paired, table
from .lrn import REGIME_CI, REGIME_FULL
from .records import Records
from .tensors import TensorData, rgb_pca

NAME = "pca_lighting"
SECTION = "4.1"
PAPER_CLAIM = ("\"This scheme approximately captures an important property of natural images, namely, that object "
               "identity is invariant to changes in the intensity and color of the illumination. This scheme reduces "
               "the top-1 error rate by over 1%.\"")

PROFILES = {
    "ci": dict(train_per_class=200, test_per_class=30, seeds=2, widths=[8, 8, 16],
               pca_std=0.1, **{**REGIME_CI, "epochs": 3.0},
               note=("ci profile: 2,000 CIFAR-10 training images, a narrower net (8/8/16), 3 epochs in batches of 32, "
                     "2 seeds: a check that the code runs, not the paper's setting")),
    "full": dict(train_per_class=None, test_per_class=None, seeds=2, widths=[32, 32, 64],
                 pca_std=0.1, **REGIME_FULL,
                 note=("full profile: all 50,000 CIFAR-10 training images, random 24x24 crops and mirrors, 15 epochs "
                       "per run with the rate divided by 10 after 11.25, 2 paired seeds")),
}
CHECKS = {"epochs": lambda v: v > 0, "lr": lambda v: v > 0, "pca_std": lambda v: v > 0,
          "crop": lambda v: v is None or 8 <= v <= 32}


def compute(s: dict, data: TensorData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Train with and without PCA lighting for each seed; the verdict is on the test error."""
    if "rgb_pca" not in data.stats:
        data.stats["rgb_pca"] = rgb_pca(data.train_x.cpu())
    eigval, eigvec = data.stats["rgb_pca"]
    variants = {"with_pca": (dict(widths=s["widths"], lrn=True), {"pca_std": s["pca_std"]}),
                "without_pca": (dict(widths=s["widths"], lrn=True), {})}
    runs = compare(variants, s, data, device, records, progress)
    v = paired(runs, "with_pca", "without_pca", "test_error", PAPER_CLAIM,
               "test error without PCA lighting minus test error with it", len(data.test_y))
    return {"summary": table(runs), "eigenvalues": eigval.tolist(), "eigenvectors": eigvec.tolist(), **v,
            "runs": runs}
