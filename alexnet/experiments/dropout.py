"""Section 4.2: dropout against overfitting, and the paper's test-time scaling against inverted dropout.

To see overfitting at an affordable scale the network gets two fully connected hidden layers
(:class:`alexnet.small_nets.CifarNet` with ``hidden=(512, 512)``, like fc6 and fc7) and is trained
without augmentation or weight decay on a subset of CIFAR-10. Three variants, paired by seed:

* ``none``: no dropout;
* ``paper``: outputs of both hidden layers zeroed with probability 0.5 while training, all outputs
  multiplied by 0.5 at test time (the paper's wording; :class:`alexnet.PaperDropout`);
* ``inverted``: survivors scaled by 2 while training, identity at test (``torch.nn.Dropout``).

The overfitting gap is test error minus training error (training images, network in evaluation
mode). For the ``paper`` variant we also score the test set *without* the 0.5 scaling, which shows
what the scaling is for.
"""
from __future__ import annotations

import torch

from ..layers import PaperDropout
from .ablation import Variant, baseline_net, compare, paired, table, with_chosen_rate
from .common import summarise
from .in_memory import InMemoryHistory, evaluate_in_memory
from .records import Records
from ..data.tensors import TensorData

NAME = "dropout"
SECTION = "4.2"
PAPER_CLAIM = ("\"At test time, we use all the neurons but multiply their outputs by 0.5 [...] We use dropout in the "
               "first two fully-connected layers [...]. Without dropout, our network exhibits substantial "
               "overfitting. Dropout roughly doubles the number of iterations required to converge.\"")

PROFILES = {
    "ci": dict(train_per_class=50, test_per_class=50, seeds=2, widths=[8, 8, 16], hidden=[256, 256], p=0.5,
               epochs=8.0, lr=0.05, lr_grid=None, grid_epochs=None, weight_decay=0.0, crop=None, lr_drop_at=None,
               batch_size=32, train_eval_size=1000, init="torch", input_norm="standardise",
               note=("ci profile: 500 CIFAR-10 training images, a narrower net (8/8/16 kernels, 256/256 hidden), "
                     "8 epochs in batches of 32, standardised inputs, 2 seeds: a check that the code runs, not the "
                     "paper's setting")),
    "full": dict(train_per_class=None, test_per_class=None, seeds=5, widths=[32, 32, 64], hidden=[512, 512], p=0.5,
                 epochs=15.0, lr=None, lr_grid=[0.001, 0.002, 0.004, 0.008, 0.016], grid_epochs=5.0, weight_decay=0.0,
                 crop=None, lr_drop_at=None, batch_size=128, train_eval_size=10000, init="paper", input_norm="centre",
                 note=("full profile: all 50,000 CIFAR-10 training images without augmentation or weight decay (so "
                       "that overfitting shows), the paper's inputs (the mean image subtracted from raw pixel values) "
                       "and N(0, 0.01^2) weights, two 512-unit hidden layers like fc6/fc7, 15 epochs, the rate chosen "
                       "on the net without dropout from a grid, 5 paired seeds")),
}
CHECKS = {"epochs": lambda v: v > 0, "lr": lambda v: v is None or v > 0, "p": lambda v: 0 < v < 1,
          "hidden": lambda v: len(v) >= 1 and all(int(h) >= 1 for h in v),
          "lr_grid": lambda v: v is None or (len(v) >= 1 and all(x > 0 for x in v)),
          "grid_epochs": lambda v: v is None or v > 0, "init": lambda v: v in ("torch", "paper"),
          "input_norm": lambda v: v in ("standardise", "centre")}


def _unscaled_test_error(name: str, model: torch.nn.Module, run: dict, hist: InMemoryHistory,
                         data: TensorData) -> None:
    if name != "paper":
        return
    drops = [m for m in model.modules() if isinstance(m, PaperDropout)]
    saved = [m.p for m in drops]
    for m in drops:
        m.p = 0.0  # identity at test time: no 0.5 scaling
    mean = torch.tensor(hist.mean, device=data.test_x.device)
    std = torch.tensor(hist.std, device=data.test_x.device)
    run["test_error_without_scaling"] = evaluate_in_memory(model, data.test_x, data.test_y, mean, std)
    for m, p in zip(drops, saved):
        m.p = p


def compute(s: dict, data: TensorData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Train without dropout, with the paper's dropout and with inverted dropout for each seed."""
    net = baseline_net(s, hidden=s["hidden"])
    none = Variant({**net, "dropout": 0.0})
    s, schedule = with_chosen_rate("none", none, s, data, device, records, progress)
    variants = {"none": none,
                "paper": Variant({**net, "dropout": s["p"], "dropout_mode": "paper"}),
                "inverted": Variant({**net, "dropout": s["p"], "dropout_mode": "inverted"})}
    runs = compare(variants, s, data, device, records, progress,
                   after_train=lambda *a: _unscaled_test_error(*a, data=data)) if s["lr"] is not None else \
        {name: [] for name in variants}
    gap = paired(runs, "paper", "none", "gap", PAPER_CLAIM,
                 "overfitting gap without dropout minus gap with the paper's dropout", len(data.test_y))
    test = paired(runs, "paper", "none", "test_error", PAPER_CLAIM,
                  "test error without dropout minus test error with the paper's dropout", len(data.test_y))
    diffs = [a["test_error"] - b["test_error"] for a, b in zip(runs["paper"], runs["inverted"])]
    d = summarise(diffs)
    same = d["n"] > 0 and abs(d["mean"]) <= max(2 * (d["std"] / d["n"] ** 0.5 if d["n"] > 1 else 0.0), 0.01)
    scaling = {"difference_paper_minus_inverted": d, "equivalent": bool(same),
               "explanation": (f"test error of paper-style minus inverted dropout: mean {d['mean']:+.4f} "
                               f"(std {d['std']:.4f}, {d['n']} seeds) -> "
                               + ("equivalent within the seed noise" if same else "they differ"))
               if d["n"] else "no finished runs",
               "test_error_paper_without_scaling": summarise([r.get("test_error_without_scaling") for r in runs["paper"]])}
    return {"summary": table(runs), **gap, "test_error_verdict": test, "scaling": scaling, "schedule": schedule,
            "runs": runs}
