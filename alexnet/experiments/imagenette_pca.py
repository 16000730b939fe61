"""Section 4.1 on ImageNet photographs: training with and without PCA lighting, the colour
augmentation that adds multiples of the training pixels' principal components to every image.

The paper: "This scheme reduces the top-1 error rate by over 1%" (it gives no top-5 figure). Both
nets are the ``imagenette`` preset, one with ``pca_lighting: false``, paired by seed
(:mod:`.imagenette`): the same initial weights, data order and random patches, only the lighting
noise is left out.
"""
from __future__ import annotations

import torch

from .imagenette import CHECKS, PROFILES, FolderData, load_data, paired_claim
from .pca_lighting import PAPER_CLAIM  # the paper's words, quoted once
from .records import Records


NAME = "imagenette_pca"
SECTION = "4.1"
PAPER_EFFECT = {"top1_error": 0.01}


def compute(s: dict, data: FolderData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Train the net with and without PCA lighting for each seed; the main verdict is on top-1 error,
    one patch (the paper reports no top-5 effect, so that verdict has no paper value)."""
    return paired_claim("no_pca", {"pca_lighting": False}, ("with_pca", "without_pca"),
                        "error without PCA lighting minus error with it", PAPER_CLAIM, PAPER_EFFECT,
                        s, data, device, records)
