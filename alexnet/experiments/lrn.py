"""Section 3.3: the four-layer CIFAR-10 network with and without local response normalisation.

The paper: 13% test error without normalisation, 11% with it. Both variants here are
:class:`alexnet.small_nets.CifarNet` (LRN with the paper's n=5, k=2, alpha=1e-4, beta=0.75 after
pool1 and pool2), trained with random 24x24 crops and mirrors (Section 4.1; centre crop at test),
the paper's SGD with weight decay 0.0005 and one division of the learning rate by 10, for a few
epochs -- far shorter than the paper's runs, so both error rates are higher than 13% / 11%; the
comparison is the difference, paired by seed.
"""
from __future__ import annotations

import torch

from .ablation import compare, paired, table
from .records import Records
from .tensors import TensorData

NAME = "lrn"
SECTION = "3.3"
PAPER_CLAIM = ("\"Response normalization reduces our top-1 and top-5 error rates by 1.4% and 1.2%, respectively. "
               "We also verified the effectiveness of this scheme on the CIFAR-10 dataset: a four-layer CNN achieved "
               "a 13% test error rate without normalization and 11% with normalization.\"")
PAPER_ERRORS = {"without": 0.13, "with": 0.11}

REGIME_CI = dict(epochs=6.0, lr=0.02, weight_decay=5e-4, crop=24, lr_drop_at=0.75, batch_size=32,
                 train_eval_size=2000)
REGIME_FULL = dict(epochs=15.0, lr=0.01, weight_decay=5e-4, crop=24, lr_drop_at=0.75, batch_size=128,
                   train_eval_size=10000)

PROFILES = {
    "ci": dict(train_per_class=200, test_per_class=30, seeds=2, widths=[8, 8, 16],
               **{**REGIME_CI, "epochs": 3.0},
               note=("ci profile: 2,000 CIFAR-10 training images, a narrower net (8/8/16), 3 epochs in batches of 32, "
                     "2 seeds: a check that the code runs, not the paper's setting")),
    "full": dict(train_per_class=None, test_per_class=None, seeds=2, widths=[32, 32, 64],
                 **REGIME_FULL,
                 note=("full profile: all 50,000 CIFAR-10 training images, random 24x24 crops and mirrors, 15 epochs "
                       "per run with the rate divided by 10 after 11.25, 2 paired seeds (the paper's cuda-convnet "
                       "nets trained far longer)")),
}
CHECKS = {"epochs": lambda v: v > 0, "lr": lambda v: v > 0, "crop": lambda v: v is None or 8 <= v <= 32}


def compute(s: dict, data: TensorData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Train the net with and without LRN for each seed; the verdict is on the test error."""
    variants = {"with_lrn": (dict(widths=s["widths"], lrn=True), {}),
                "without_lrn": (dict(widths=s["widths"], lrn=False), {})}
    runs = compare(variants, s, data, device, records, progress)
    v = paired(runs, "with_lrn", "without_lrn", "test_error", PAPER_CLAIM,
               "test error without LRN minus test error with LRN", len(data.test_y))
    return {"summary": table(runs), "paper_errors": PAPER_ERRORS, **v, "runs": runs}
