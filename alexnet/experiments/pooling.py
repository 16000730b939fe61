"""Section 3.4: overlapping max pooling (window 3, stride 2) against window 2, stride 2.

Both poolings give the same output size in :class:`alexnet.small_nets.CifarNet`, so only the
overlap differs. The paper reports 0.4% lower top-1 error with overlap and that such models are
"slightly more difficult to overfit": we measure the test error and the overfitting gap (test error
minus the error on training images with test-time preprocessing, network in evaluation mode),
both paired by seed. Regime: the ablation regime of :mod:`.lrn` (crops and mirrors, LRN on).
"""
from __future__ import annotations

import torch

from .ablation import compare, paired, table
from .lrn import REGIME_CI, REGIME_FULL
from .records import Records
from .tensors import TensorData

NAME = "pooling"
SECTION = "3.4"
PAPER_CLAIM = ("\"This scheme reduces the top-1 and top-5 error rates by 0.4% and 0.3%, respectively, as compared "
               "with the non-overlapping scheme s = 2, z = 2, which produces output of equivalent dimensions. We "
               "generally observe during training that models with overlapping pooling find it slightly more "
               "difficult to overfit.\"")

PROFILES = {
    "ci": dict(train_per_class=200, test_per_class=30, seeds=2, widths=[8, 8, 16],
               **{**REGIME_CI, "epochs": 3.0},
               note=("ci profile: 2,000 CIFAR-10 training images, a narrower net (8/8/16), 3 epochs in batches of 32, "
                     "2 seeds: a check that the code runs, not the paper's setting")),
    "full": dict(train_per_class=None, test_per_class=None, seeds=2, widths=[32, 32, 64],
                 **REGIME_FULL,
                 note=("full profile: all 50,000 CIFAR-10 training images, random 24x24 crops and mirrors, 15 epochs "
                       "per run with the rate divided by 10 after 11.25, 2 paired seeds")),
}
CHECKS = {"epochs": lambda v: v > 0, "lr": lambda v: v > 0, "crop": lambda v: v is None or 8 <= v <= 32}


def compute(s: dict, data: TensorData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Train the net with 3/2 and with 2/2 pooling for each seed; verdicts on test error and gap."""
    variants = {"overlapping": (dict(widths=s["widths"], lrn=True, pool="overlapping"), {}),
                "non_overlapping": (dict(widths=s["widths"], lrn=True, pool="non-overlapping"), {})}
    runs = compare(variants, s, data, device, records, progress)
    v = paired(runs, "overlapping", "non_overlapping", "test_error", PAPER_CLAIM,
               "test error of 2/2 pooling minus test error of 3/2 pooling", len(data.test_y))
    gap = paired(runs, "overlapping", "non_overlapping", "gap", PAPER_CLAIM,
                 "overfitting gap (test - train error) of 2/2 pooling minus that of 3/2 pooling", len(data.test_y))
    return {"summary": table(runs), **v, "overfitting": gap, "runs": runs}
