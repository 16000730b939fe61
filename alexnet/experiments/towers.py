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

from .imagenette import CHECKS, PROFILES, FolderData, load_data, paired_claim
from .records import Records


NAME = "towers"
SECTION = "3.2"
PAPER_CLAIM = ("\"This scheme reduces our top-1 and top-5 error rates by 1.7% and 1.2%, respectively, as compared "
               "with a net with half as many kernels in each convolutional layer trained on one GPU.\"")
PAPER_EFFECT = {"top1_error": 0.017, "top5_error": 0.012}


def compute(s: dict, data: FolderData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Train both nets for each seed; the main verdict is on top-1 error with one centre patch."""
    return paired_claim("one_tower", {"towers": 1}, ("two_towers", "one_tower"),
                        "error of the one-tower net minus that of the two-tower net", PAPER_CLAIM, PAPER_EFFECT,
                        s, data, device, records)
