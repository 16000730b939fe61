"""Section 3.1, Figure 1: how much faster a four-layer CNN reaches 25% training error with ReLU.

The paper's setting: CIFAR-10, a four-layer convolutional network (:class:`alexnet.small_nets.CifarNet`),
no regularisation of any kind (no weight decay, dropout or augmentation), the learning rate chosen
separately for each non-linearity "to make training as fast as possible". As in the paper, inputs are
centred raw RGB values (Section 2) and weights start from N(0, 0.01^2) (Section 5); the settings
``init="torch"`` and ``input_norm="standardise"`` give PyTorch's fan-in-scaled initialisation on
standardised inputs instead, under which tanh is much less handicapped. We tune the learning
rate on a grid for each non-linearity with seed 0 (the winner is the rate reaching the target in
the fewest epochs; a grid run stops once it cannot beat the best so far; the grid grows past its
edge until the winner lies inside it), then train the other seeds at the winning rate. The speed-up of a seed is ``epochs(tanh) / epochs(ReLU)``; a tanh run that
never reaches the target within ``max_epochs`` gives a lower bound, flagged as such.
"""
from __future__ import annotations

import math
from dataclasses import asdict

import torch

from ..small_nets import CifarNet
from .common import summarise, t_interval, verdict
from .in_memory import InMemoryConfig, fit_in_memory
from .records import Records
from ..data.tensors import TensorData

NAME = "relu_tanh"
SECTION = "3.1"
PAPER_CLAIM = ("\"A four-layer convolutional neural network with ReLUs (solid line) reaches a 25% training error "
               "rate on CIFAR-10 six times faster than an equivalent network with tanh neurons (dashed line). The "
               "learning rates for each network were chosen independently to make training as fast as possible. "
               "No regularization of any kind was employed.\" (Figure 1)")
PAPER_SPEEDUP = 6.0

PROFILES = {
    "ci": dict(
        train_per_class=100, test_per_class=20, widths=[8, 8, 16], target_train_error=0.75, max_epochs=6,
        lr_grid_relu=[0.002, 0.005], lr_grid_tanh=[0.005, 0.01], max_grid_extensions=0, seeds=2, batch_size=32,
        init="paper", input_norm="centre",
        note=("ci profile: 1,000 CIFAR-10 training images, a narrower net (8/8/16 kernels) and a 75% training-error "
              "target instead of the paper's 25%, batches of 32 instead of 128, 2 seeds, so it runs in seconds on a "
              "CPU; a check that the code runs, NOT the paper's setting"),
    ),
    "full": dict(
        train_per_class=None, test_per_class=None, widths=[32, 32, 64], target_train_error=0.25, max_epochs=60,
        lr_grid_relu=[0.001, 0.002, 0.0005], lr_grid_tanh=[0.001, 0.002, 0.0005], max_grid_extensions=3, seeds=3,
        batch_size=128, init="paper", input_norm="centre",
        note=("full profile: the paper's setting: all 50,000 CIFAR-10 training images, the four-layer net "
              "(32/32/64 kernels), batches of 128, N(0, 0.01^2) weights, centred raw pixels, no regularisation, "
              "the 25% training-error target of Figure 1"),
    ),
}
CHECKS = {
    "target_train_error": lambda v: 0 < v < 0.9,
    "max_epochs": lambda v: v > 0,
    "lr_grid_relu": lambda v: len(v) >= 1 and all(x > 0 for x in v),
    "lr_grid_tanh": lambda v: len(v) >= 1 and all(x > 0 for x in v),
    "max_grid_extensions": lambda v: isinstance(v, int) and v >= 0,
    "widths": lambda v: len(v) == 3 and all(int(x) >= 1 for x in v),
    "batch_size": lambda v: v >= 1,
    "init": lambda v: v in ("torch", "paper"),
    "input_norm": lambda v: v in ("standardise", "centre"),
}
#: An extension of the grid multiplies (or divides) the edge rate by this.
GRID_STEP = 2.0


def _run(act: str, lr: float, epochs: float, seed: int, s: dict, data: TensorData, device: torch.device,
         records: Records, progress: bool) -> dict | None:
    """One training run to the target (or to ``epochs``), as a record (``None``: not run, replay mode)."""
    net = dict(num_classes=len(data.classes), widths=s["widths"], activation=act, init=s["init"])
    cfg = InMemoryConfig(epochs=epochs, lr=lr, batch_size=s["batch_size"], weight_decay=0.0, input_norm=s["input_norm"],
                      target_train_error=s["target_train_error"], checks_per_epoch=4, train_eval_size=2000)

    def one() -> dict:
        torch.manual_seed(seed)
        h = fit_in_memory(CifarNet(**net), data, cfg, seed=seed, device=device, progress=progress,
                  desc=f"{act} lr={lr} seed={seed}")
        return {"activation": act, "lr": lr, "seed": seed, "epochs_to_target": h.epochs_to_target,
                "epochs_trained": h.epochs_trained, "cap_epochs": epochs, "diverged": h.diverged,
                "curve": h.train_curve(), "test_curve": h.test_curve(), "seconds": h.seconds,
                "final_test_error": h.final_test_error}

    return records.run({"activation": act, "lr": lr, "seed": seed, "net": net, "train": asdict(cfg)}, one)


def _tune(act: str, s: dict, data: TensorData, device: torch.device, records: Records,
          progress: bool) -> tuple[dict | None, list[dict], bool]:
    """Seed 0 on the grid of ``act``: the winner, every run, and whether the winner lies inside the grid.

    Rates run in the order given (the first is the best guess); each later run is capped at the
    winner's epochs so far (it must beat it to win). When the winner is the smallest or largest
    rate tried, the grid is extended beyond it by a factor of ``GRID_STEP``, at most
    ``max_grid_extensions`` times, so that the chosen rate lies inside the grid.
    """
    queue = [float(x) for x in s[f"lr_grid_{act}"]]
    runs: list[dict] = []
    best: dict | None = None
    cap = float(s["max_epochs"])
    extensions = 0
    i = 0
    while i < len(queue):
        r = _run(act, queue[i], cap, 0, s, data, device, records, progress)
        i += 1
        if r is not None:
            runs.append(r)
            if r["epochs_to_target"] is not None and (best is None or r["epochs_to_target"] < best["epochs_to_target"]):
                best = r
                cap = r["epochs_to_target"]  # a later rate must beat this to win
        if i == len(queue) and best is not None and extensions < s["max_grid_extensions"]:
            tried = sorted(queue)
            if best["lr"] == tried[0]:
                queue.append(best["lr"] / GRID_STEP)
                extensions += 1
            elif best["lr"] == tried[-1]:
                queue.append(best["lr"] * GRID_STEP)
                extensions += 1
    tried = sorted(r["lr"] for r in runs)
    inside = best is not None and len(tried) >= 3 and tried[0] < best["lr"] < tried[-1]
    return best, runs, inside


def compute(s: dict, data: TensorData, device: torch.device, records: Records, progress: bool = False) -> dict:
    """Tune the learning rate per non-linearity, then train ``seeds`` seeds of each; see the module doc."""
    tuning: list[dict] = []
    best: dict[str, dict] = {}
    inside: dict[str, bool] = {}
    for act in ("relu", "tanh"):
        winner, runs, inside[act] = _tune(act, s, data, device, records, progress)
        tuning += runs
        if winner is None:  # nothing reached the target: take the lowest final running error
            mine = [r for r in runs if not r["diverged"]] or runs
            if mine:
                winner = min(mine, key=lambda r: r["curve"][-1][1] if r["curve"] else math.inf)
        if winner is not None:
            best[act] = winner
    runs = {act: [best[act]] if act in best else [] for act in ("relu", "tanh")}
    for seed in range(1, s["seeds"]):
        for act in best:
            r = _run(act, best[act]["lr"], float(s["max_epochs"]), seed, s, data, device, records, progress)
            if r is not None:
                runs[act].append(r)
    by_seed = {act: {r["seed"]: r for r in rs} for act, rs in runs.items()}
    speedups, lower_bound = [], False
    for seed in sorted(set(by_seed["relu"]) & set(by_seed["tanh"])):
        e_relu = by_seed["relu"][seed]["epochs_to_target"]
        e_tanh = by_seed["tanh"][seed]["epochs_to_target"]
        if e_relu is None:
            speedups.append(None)
            continue
        if e_tanh is None:
            lower_bound = True
            e_tanh = by_seed["tanh"][seed]["epochs_trained"]
        speedups.append(e_tanh / e_relu)
    sp = summarise(speedups)
    interval = t_interval([x for x in speedups if x is not None])
    v = verdict([x - 1.0 for x in speedups if x is not None], PAPER_CLAIM,
                "speed-up of ReLU over tanh minus 1 (ReLU reaches the target in fewer epochs)", min_effect=0.05)
    if sp["mean"] is not None:
        v["explanation"] += (f"; measured speed-up {sp['mean']:.2f}x (std {sp['std']:.2f}, {sp['n']} seeds"
                             + (f", 95% interval {interval[0]:.2f}x to {interval[1]:.2f}x" if interval else "")
                             + f") against the paper's {PAPER_SPEEDUP:.0f}x"
                             + (" (a lower bound: some tanh runs never reached the target)" if lower_bound else ""))
    v["magnitude_matches_paper"] = bool(sp["mean"] is not None and not lower_bound and interval is not None
                                        and interval[0] <= PAPER_SPEEDUP <= interval[1])
    return {
        "target_train_error": s["target_train_error"],
        "best_lr": {act: best[act]["lr"] for act in best},
        "best_lr_inside_grid": inside,
        "epochs_to_target": {act: summarise([r["epochs_to_target"] for r in runs[act]]) for act in runs},
        "speedup": {**sp, "interval": list(interval) if interval else None, "lower_bound": lower_bound,
                    "paper": PAPER_SPEEDUP},
        **v,
        "runs": runs,
        "tuning": [{k: r[k] for k in ("activation", "lr", "epochs_to_target", "epochs_trained", "cap_epochs",
                                      "diverged")} for r in tuning],
        "tuning_curves": tuning,
    }
