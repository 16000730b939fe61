"""Section 3.4: overlapping max pooling (window 3, stride 2) against window 2, stride 2.

Both poolings give the same output size in :class:`alexnet.small_nets.CifarNet`, so only the
overlap differs. The paper reports 0.4% lower top-1 error with overlap and that such models are
"slightly more difficult to overfit": we measure the test error and the overfitting gap (test error
minus the error on training images with test-time preprocessing, network in evaluation mode),
both paired by seed. Regime: the ablation regime of :mod:`.lrn` (raw centred pixels, crops and
mirrors, LRN on), whose baseline (overlapping pooling) is shared with the LRN and PCA ablations.
"""
from __future__ import annotations

import torch

from .ablation import SHARED_BASELINE, Variant, baseline_net, compare, paired, shared_baseline, table, with_chosen_rate
from .lrn import CHECKS as LRN_CHECKS
from .lrn import CI_NOTE, FULL_NOTE, REGIME_CI, REGIME_FULL
from .records import Records
from ..data.tensors import TensorData

NAME = "pooling"
SECTION = "3.4"
PAPER_CLAIM = ("\"This scheme reduces the top-1 and top-5 error rates by 0.4% and 0.3%, respectively, as compared "
               "with the non-overlapping scheme s = 2, z = 2, which produces output of equivalent dimensions. We "
               "generally observe during training that models with overlapping pooling find it slightly more "
               "difficult to overfit.\"")

PAPER_EFFECT = 0.004  # 0.4 points of top-1 error on ImageNet

PROFILES = {
    "ci": dict(train_per_class=200, test_per_class=30, seeds=2, widths=[8, 8, 16], **REGIME_CI, note=CI_NOTE),
    "full": dict(train_per_class=None, test_per_class=None, seeds=5, widths=[32, 32, 64], **REGIME_FULL,
                 note=FULL_NOTE.replace("with the pooling and PCA-lighting ablations", "with the LRN and PCA-lighting ablations")),
}
CHECKS = LRN_CHECKS


def compute(s: dict, data: TensorData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Train the net with 3/2 and with 2/2 pooling for each seed; verdicts on test error and gap."""
    base = shared_baseline(s)
    s, schedule = with_chosen_rate("overlapping", base, s, data, device, records, progress)
    variants = {"overlapping": base, "non_overlapping": Variant(baseline_net(s, pool="non-overlapping"))}
    runs = compare(variants, s, data, device, records, progress) if s["lr"] is not None else \
        {name: [] for name in variants}
    v = paired(runs, "overlapping", "non_overlapping", "test_error", PAPER_CLAIM,
               "test error of 2/2 pooling minus test error of 3/2 pooling", len(data.test_y), PAPER_EFFECT)
    gap = paired(runs, "overlapping", "non_overlapping", "gap", PAPER_CLAIM,
                 "overfitting gap (test - train error) of 2/2 pooling minus that of 3/2 pooling", len(data.test_y))
    return {"summary": table(runs), **v, "overfitting": gap, "schedule": schedule,
            "shared_baseline": SHARED_BASELINE, "runs": runs}
