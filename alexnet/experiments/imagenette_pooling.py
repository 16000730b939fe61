"""Section 3.4 on ImageNet photographs: overlapping max pooling (window 3, stride 2) against
non-overlapping pooling (window 2, stride 2), which "produces output of equivalent dimensions".

The paper: "This scheme reduces the top-1 and top-5 error rates by 0.4% and 0.3%, respectively, as
compared with the non-overlapping scheme s = 2, z = 2". With the ``imagenette`` preset's 224-pixel
crops both schemes give 55 -> 27 -> 13 -> 6 maps, so the fully connected layers are the same; the
nets are paired by seed (:mod:`.imagenette`), only ``pool`` differs.
"""
from __future__ import annotations

import torch

from .imagenette import CHECKS, PROFILES, FolderData, load_data, paired_claim
from .pooling import PAPER_CLAIM  # the paper's words, quoted once
from .records import Records


NAME = "imagenette_pooling"
SECTION = "3.4"
PAPER_EFFECT = {"top1_error": 0.004, "top5_error": 0.003}


def compute(s: dict, data: FolderData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Train the net with overlapping and with non-overlapping pooling for each seed; the main verdict
    is on top-1 error, one patch."""
    return paired_claim("non_overlapping", {"pool": "non-overlapping"}, ("overlapping", "non_overlapping"),
                        "error with non-overlapping pooling minus error with overlapping pooling", PAPER_CLAIM,
                        PAPER_EFFECT, s, data, device, records)
