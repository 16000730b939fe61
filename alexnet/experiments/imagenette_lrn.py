"""Section 3.3 on ImageNet photographs: the network with and without local response normalisation.

The paper: "Response normalization reduces our top-1 and top-5 error rates by 1.4% and 1.2%";
VGG (Simonyan and Zisserman 2014, Table 3) found none (29.6 / 10.4 without, 29.7 / 10.5 with).
Both nets are the ``imagenette`` preset, one with ``lrn: false``, paired by seed (:mod:`.imagenette`).
"""
from __future__ import annotations

import torch

from .imagenette import CHECKS, PROFILES, SHARED, FolderData, load_data, paired_errors, paired_runs, summary
from .records import Records

__all__ = ["NAME", "SECTION", "PAPER_CLAIM", "PAPER_EFFECT", "PROFILES", "CHECKS", "load_data", "compute"]

NAME = "imagenette_lrn"
SECTION = "3.3"
PAPER_CLAIM = ("\"Response normalization reduces our top-1 and top-5 error rates by 1.4% and 1.2%, "
               "respectively.\"")
PAPER_EFFECT = {"top1_error": 0.014, "top5_error": 0.012}
VGG = {"without": {"top1_error": 0.296, "top5_error": 0.104}, "with": {"top1_error": 0.297, "top5_error": 0.105}}


def compute(s: dict, data: FolderData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Train the net with and without LRN for each seed; the main verdict is on top-1 error, one patch."""
    with_lrn, without = paired_runs("no_lrn", {"lrn": False}, s, data, device, records)
    what = "error without LRN minus error with LRN"
    centre = paired_errors(with_lrn, without, PAPER_CLAIM, what, PAPER_EFFECT, data.test_images)
    ten = paired_errors(with_lrn, without, PAPER_CLAIM, what, PAPER_EFFECT, data.test_images, view="ten_crop")
    return {**centre["top1_error"], "top5": centre["top5_error"], "ten_crop": ten, "vgg": VGG,
            "summary": {"with_lrn": summary(with_lrn), "without_lrn": summary(without)},
            "runs": {"with_lrn": with_lrn, "without_lrn": without}, "shared_baseline": SHARED}
