"""Section 3.2: the two-tower network against footnote 2's one tower with half the kernels, on Imagenette.

The paper: "This scheme reduces our top-1 and top-5 error rates by 1.7% and 1.2%, respectively, as
compared with a net with half as many kernels in each convolutional layer trained on one GPU";
footnote 2: the one-GPU net keeps conv5 and the fully connected layers at full size, so both nets
have about the same number of parameters. Here both are the ``imagenette`` preset, the one-tower
net with ``towers: 1`` (59,798,312 parameters against 60,965,224), paired by seed
(:mod:`.imagenette`); the verdicts are on the last epoch's validation errors.
"""
from __future__ import annotations

import torch

from .imagenette import CHECKS, PROFILES, SHARED, FolderData, load_data, paired_errors, paired_runs, summary
from .records import Records

__all__ = ["NAME", "SECTION", "PAPER_CLAIM", "PAPER_EFFECT", "PROFILES", "CHECKS", "load_data", "compute"]

NAME = "towers"
SECTION = "3.2"
PAPER_CLAIM = ("\"This scheme reduces our top-1 and top-5 error rates by 1.7% and 1.2%, respectively, as compared "
               "with a net with half as many kernels in each convolutional layer trained on one GPU.\"")
PAPER_EFFECT = {"top1_error": 0.017, "top5_error": 0.012}


def compute(s: dict, data: FolderData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Train both nets for each seed; the main verdict is on top-1 error with one centre patch."""
    two, one = paired_runs("one_tower", {"towers": 1}, s, data, device, records)
    what = "error of the one-tower net minus that of the two-tower net"
    centre = paired_errors(two, one, PAPER_CLAIM, what, PAPER_EFFECT, data.test_images)
    ten = paired_errors(two, one, PAPER_CLAIM, what, PAPER_EFFECT, data.test_images, view="ten_crop")
    return {**centre["top1_error"], "top5": centre["top5_error"], "ten_crop": ten, "paper_effect_top5": PAPER_EFFECT["top5_error"],
            "summary": {"two_towers": summary(two), "one_tower": summary(one)},
            "runs": {"two_towers": two, "one_tower": one}, "shared_baseline": SHARED}
