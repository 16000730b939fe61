"""The learning-rate schedule of Section 5: divide by 10 when the validation error stops improving.

Section 5: "We used an equal learning rate for all layers, which we adjusted manually throughout
training. The heuristic which we followed was to divide the learning rate by 10 when the
validation error rate stopped improving with the current learning rate. The learning rate was
initialized at 0.01 and reduced three times prior to termination."

:class:`PlateauSchedule` is that heuristic made automatic. "Stopped improving" needs a number the
paper does not give: ``patience`` epochs without a new best validation error (by more than
``threshold``) trigger a division; after ``max_reductions`` divisions (3 in the paper) the rate
stays put. :class:`StepSchedule` (divide every ``step_size`` epochs) is offered for comparison with
later recipes (Caffe, torchvision: every 30 epochs).

Both act on the optimiser's ``param_groups[i]["lr"]`` once per epoch, keep their whole state in
:meth:`state_dict` (so a resumed run continues the same schedule) and never touch the momentum
buffer: with :class:`alexnet.PaperSGD` the buffer keeps the steps taken at the old rate, as the
paper's update rule implies.
"""
from __future__ import annotations

import math
from typing import Any

from torch.optim import Optimizer

__all__ = ["PlateauSchedule", "StepSchedule", "make_schedule"]


class PlateauSchedule:
    """Divide the learning rate by ``1 / factor`` when the validation error plateaus (Section 5).

    Args:
        optimizer: the optimiser whose learning rate is adjusted.
        factor: multiply the rate by this on a plateau (0.1: "divide by 10").
        patience: epochs without improvement tolerated before dividing. With ``patience=p`` the
            rate falls after the ``p``-th consecutive epoch that does not beat the best error.
        max_reductions: stop dividing after this many reductions (the paper reduced 3 times).
        threshold: an error counts as an improvement only if it is below ``best - threshold``.
        cooldown: epochs after a reduction during which no new reduction happens.
    """

    def __init__(self, optimizer: Optimizer, factor: float = 0.1, patience: int = 5,
                 max_reductions: int = 3, threshold: float = 0.0, cooldown: int = 0) -> None:
        if not 0.0 < factor < 1.0:
            raise ValueError(f"PlateauSchedule: factor must be in (0, 1), got {factor}")
        if patience < 1:
            raise ValueError(f"PlateauSchedule: patience must be >= 1 epoch, got {patience}")
        if max_reductions < 0:
            raise ValueError(f"PlateauSchedule: max_reductions must be >= 0, got {max_reductions}")
        if threshold < 0 or cooldown < 0:
            raise ValueError("PlateauSchedule: threshold and cooldown must be >= 0")
        self.optimizer = optimizer
        self.factor, self.patience, self.max_reductions = factor, patience, max_reductions
        self.threshold, self.cooldown = threshold, cooldown
        self.best = math.inf
        self.bad_epochs = 0
        self.cooldown_left = 0
        self.reductions = 0

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def step(self, val_error: float) -> bool:
        """Record one epoch's validation error; returns True when the rate was just divided."""
        if not math.isfinite(val_error):
            raise ValueError(f"PlateauSchedule.step: validation error must be finite, got {val_error}")
        if val_error < self.best - self.threshold:
            self.best = val_error
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_epochs = 0
        if self.bad_epochs >= self.patience and self.reductions < self.max_reductions:
            for group in self.optimizer.param_groups:
                group["lr"] = group["lr"] * self.factor
            self.reductions += 1
            self.bad_epochs = 0
            self.cooldown_left = self.cooldown
            return True
        return False

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "plateau", "best": self.best, "bad_epochs": self.bad_epochs,
                "cooldown_left": self.cooldown_left, "reductions": self.reductions}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("kind") != "plateau":
            raise ValueError(f"PlateauSchedule: cannot load a {state.get('kind')!r} schedule state")
        self.best = float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])
        self.cooldown_left = int(state["cooldown_left"])
        self.reductions = int(state["reductions"])


class StepSchedule:
    """Multiply the rate by ``factor`` every ``step_size`` epochs, at most ``max_reductions`` times.

    Not the paper's heuristic but the fixed schedule of later reproductions: torchvision's
    reference recipe divides by 10 every 30 epochs; Caffe's ``bvlc_alexnet`` every 100,000
    iterations of 256 images (about 20 epochs).
    """

    def __init__(self, optimizer: Optimizer, factor: float = 0.1, step_size: int = 30,
                 max_reductions: int = 3) -> None:
        if not 0.0 < factor < 1.0:
            raise ValueError(f"StepSchedule: factor must be in (0, 1), got {factor}")
        if step_size < 1:
            raise ValueError(f"StepSchedule: step_size must be >= 1 epoch, got {step_size}")
        self.optimizer, self.factor, self.step_size = optimizer, factor, step_size
        self.max_reductions = max_reductions
        self.epochs = 0
        self.reductions = 0

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def step(self, val_error: float | None = None) -> bool:
        self.epochs += 1
        if self.epochs % self.step_size == 0 and self.reductions < self.max_reductions:
            for group in self.optimizer.param_groups:
                group["lr"] = group["lr"] * self.factor
            self.reductions += 1
            return True
        return False

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "step", "epochs": self.epochs, "reductions": self.reductions}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("kind") != "step":
            raise ValueError(f"StepSchedule: cannot load a {state.get('kind')!r} schedule state")
        self.epochs = int(state["epochs"])
        self.reductions = int(state["reductions"])


def make_schedule(kind: str, optimizer: Optimizer, *, factor: float = 0.1, patience: int = 5,
                  max_reductions: int = 3, step_size: int = 30, threshold: float = 0.0):
    """``"plateau"`` (Section 5, the default) or ``"step"``."""
    if kind == "plateau":
        return PlateauSchedule(optimizer, factor, patience, max_reductions, threshold)
    if kind == "step":
        return StepSchedule(optimizer, factor, step_size, max_reductions)
    raise ValueError(f"lr schedule must be 'plateau' or 'step', got {kind!r}")
