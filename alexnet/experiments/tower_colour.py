"""Section 6.1, Figure 3: does one tower come out colour-specific and the other colour-agnostic "in every run"?

For each baseline run of :mod:`.imagenette` (the ``imagenette`` preset, one per seed), conv1's
kernels are scored tower by tower (:func:`alexnet.qualitative.tower_colour_stats`: how far each
kernel's three colour planes differ, 0 for a grey kernel) and a permutation test asks whether a
random split of the 96 kernels into two groups of 48 gives a gap as large
(:func:`alexnet.qualitative.tower_gap_pvalue`). The claim holds in a run when p < 0.01; which tower
is the colour-specific one may change between runs ("modulo a renumbering of the GPUs").
"""
from __future__ import annotations

import torch

from .common import summarise
from .imagenette import CHECKS, PROFILES, SHARED, FolderData, baseline_runs, load_data
from .records import Records


NAME = "tower_colour"
SECTION = "6.1"
PAPER_CLAIM = ("\"The kernels on GPU 1 are largely color-agnostic, while the kernels on on GPU 2 are largely "
               "color-specific. This kind of specialization occurs during every run and is independent of any "
               "particular random weight initialization (modulo a renumbering of the GPUs).\"")
LEVEL = 0.01


def compute(s: dict, data: FolderData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """The colour test on every baseline run; "agrees" when every run separates its towers at p < 0.01."""
    runs = [r for r in baseline_runs(s, data, device, records) if r.get("colour")]
    per_run = [{"seed": r["seed"], **r["colour"]} for r in runs]
    held = [c["p_value"] < LEVEL for c in per_run]
    if len(per_run) < 2:
        word = "inconclusive"
    else:
        word = "agrees" if all(held) else ("disagrees" if not any(held) else "inconclusive")
    gaps = [abs(c["towers"][0]["mean"] - c["towers"][1]["mean"]) for c in per_run]
    text = (f"{sum(held)} of {len(per_run)} runs separate their towers' colour specificity at p < {LEVEL:g} "
            f"-> {word}" if per_run else "no finished runs")
    return {"paper_claim": PAPER_CLAIM, "verdict": word, "agrees_with_paper": word == "agrees", "explanation": text,
            "improvement": summarise(gaps), "interval": None, "min_effect": 0.0, "level": LEVEL,
            "runs": per_run, "held": sum(held), "shared_baseline": SHARED}
