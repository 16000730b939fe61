"""Section 6, Table 2: averaging the predictions of several networks, on Imagenette.

The paper: one CNN 40.7% top-1 error on ILSVRC-2012's validation set, the average of five CNNs'
predictions 38.1%. Ours: the baseline runs of :mod:`.imagenette` (the ``imagenette`` preset, one
per seed), their committed validation softmax outputs averaged over the first k of them. The
verdict is on each member's error minus the ensemble's (of all N), one difference per member.
"""
from __future__ import annotations

import torch

from .common import verdict
from .imagenette import (CHECKS, PROFILES, SHARED, FolderData, baseline_runs, ensemble_errors, load_data,
                         results_root, summary)
from .records import Records


NAME = "ensemble"
SECTION = "6"
PAPER_CLAIM = ("\"Averaging the predictions of five similar CNNs gives an error rate of 16.4%\" (top-5; Table 2: "
               "top-1 40.7% for one CNN, 38.1% for five)")
PAPER = {"one": {"top1_error": 0.407, "top5_error": 0.182}, "five": {"top1_error": 0.381, "top5_error": 0.164}}


def compute(s: dict, data: FolderData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Ensembles of the baseline's seeds, from their committed softmax outputs."""
    runs = baseline_runs(s, data, device, records)
    results = results_root(records.sibling(SHARED))
    views = {view: ensemble_errors(runs, results, view) for view in ("centre", "ten_crop")}
    whole = views["centre"]["all"]
    gains = [m["top1_error"] - whole["top1_error"] for m in views["centre"]["members"]] if whole and len(runs) > 1 else []
    v = verdict(gains, PAPER_CLAIM, f"top-1 error of one network minus that of the {len(runs)}-network ensemble",
                min_effect=3.0 / data.test_images, paper_effect=PAPER["one"]["top1_error"] - PAPER["five"]["top1_error"])
    return {**v, "ensembles": views, "paper": PAPER, "summary": summary(runs), "shared_baseline": SHARED,
            "members": len(runs)}
