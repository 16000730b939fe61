"""Section 7 on ImageNet photographs: the network with and without conv4, one of its middle layers.

The paper: "our network's performance degrades if a single convolutional layer is removed. For
example, removing any of the middle layers results in a loss of about 2% for the top-1 performance
of the network." It does not say which layer it removed nor how it joined the rest; here conv4 is
removed (``conv4: false``), so conv5 reads conv3's maps: conv3 and conv4 both have 384 kernels, so
every other layer keeps its shape and the towers still meet at conv3. Both nets are the
``imagenette`` preset, paired by seed (:mod:`.imagenette`).
"""
from __future__ import annotations

import torch

from .imagenette import CHECKS, PROFILES, FolderData, load_data, paired_claim
from .records import Records


NAME = "imagenette_depth"
SECTION = "7"
PAPER_CLAIM = ("\"It is notable that our network's performance degrades if a single convolutional layer is removed. "
               "For example, removing any of the middle layers results in a loss of about 2% for the top-1 "
               "performance of the network.\"")
PAPER_EFFECT = {"top1_error": 0.02}


def compute(s: dict, data: FolderData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Train the net with and without conv4 for each seed; the main verdict is on top-1 error, one patch
    (the paper gives no top-5 figure)."""
    return paired_claim("no_conv4", {"conv4": False}, ("with_conv4", "without_conv4"),
                        "error without conv4 minus error with it", PAPER_CLAIM, PAPER_EFFECT, s, data, device, records)
