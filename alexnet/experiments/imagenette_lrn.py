"""Section 3.3 on ImageNet photographs: the network with and without local response normalisation.

The paper: "Response normalization reduces our top-1 and top-5 error rates by 1.4% and 1.2%";
VGG (Simonyan and Zisserman 2014, Table 3) found none (29.6 / 10.4 without, 29.7 / 10.5 with).
Both nets are the ``imagenette`` preset, one with ``lrn: false``, paired by seed (:mod:`.imagenette`).
"""
from __future__ import annotations

import torch

from .imagenette import CHECKS, PROFILES, FolderData, load_data, paired_claim
from .records import Records


NAME = "imagenette_lrn"
SECTION = "3.3"
PAPER_CLAIM = ("\"Response normalization reduces our top-1 and top-5 error rates by 1.4% and 1.2%, "
               "respectively.\"")
PAPER_EFFECT = {"top1_error": 0.014, "top5_error": 0.012}
VGG = {"without": {"top1_error": 0.296, "top5_error": 0.104}, "with": {"top1_error": 0.297, "top5_error": 0.105}}


def compute(s: dict, data: FolderData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Train the net with and without LRN for each seed; the main verdict is on top-1 error, one patch."""
    return {**paired_claim("no_lrn", {"lrn": False}, ("with_lrn", "without_lrn"), "error without LRN minus error with LRN",
                           PAPER_CLAIM, PAPER_EFFECT, s, data, device, records), "vgg": VGG}
