"""The learning-rate schedule of Section 5: divide by 10 when the validation error stops improving.

Section 5: "We used an equal learning rate for all layers, which we adjusted manually throughout
training. The heuristic which we followed was to divide the learning rate by 10 when the
validation error rate stopped improving with the current learning rate. The learning rate was
initialized at 0.01 and reduced three times prior to termination."

:class:`PlateauSchedule` is that heuristic made automatic, on top of torch's
:class:`~torch.optim.lr_scheduler.ReduceLROnPlateau`. "Stopped improving" needs a number the paper
does not give: ``patience`` epochs without a new best validation error (by more than ``threshold``)
trigger a division. :class:`StepSchedule` (divide every ``step_size`` epochs) is offered for
comparison with later recipes (Caffe, torchvision: every 30 epochs), on top of torch's
:class:`~torch.optim.lr_scheduler.MultiStepLR`.

Torch's schedulers only set ``param_groups[i]["lr"]``, which is all :class:`alexnet.PaperSGD` needs:
it reads the rate at every step and multiplies the gradient by it *before* the momentum buffer
(Section 5's ``v <- 0.9 v - 0.0005 lr w - lr g``), and the buffer is never touched, so after a
division it keeps the steps taken at the old rate, as the paper's update rule implies. What the
two classes add to torch's is only what torch's cannot do: stop after ``max_reductions`` divisions
(the paper's "reduced three times"), say from :meth:`step` whether the rate was just divided (the
per-epoch record's ``lr_reduced``), and keep the state layout that checkpoints written before they
were built on torch hold (``{"kind": "plateau", "best", "bad_epochs", "cooldown_left",
"reductions"}``, ``{"kind": "step", "epochs", "reductions"}``), so those runs still resume.
"""
from __future__ import annotations

import math
from typing import Any

from torch.optim import Optimizer
from torch.optim.lr_scheduler import MultiStepLR, ReduceLROnPlateau

__all__ = ["PlateauSchedule", "StepSchedule", "make_schedule"]


class PlateauSchedule:
    """Divide the learning rate by ``1 / factor`` when the validation error plateaus (Section 5).

    Args:
        optimizer: the optimiser whose learning rate is adjusted.
        factor: multiply the rate by this on a plateau (0.1: "divide by 10").
        patience: epochs without improvement tolerated before dividing. With ``patience=p`` the
            rate falls after the ``p``-th consecutive epoch that does not beat the best error
            (torch's ``patience=p - 1``).
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
        self.optimizer, self.max_reductions = optimizer, max_reductions
        # eps=0: every division happens, however small the rate (torch skips changes below 1e-8)
        self.scheduler = ReduceLROnPlateau(optimizer, mode="min", factor=factor, patience=patience - 1,
                                       threshold=threshold, threshold_mode="abs", cooldown=cooldown, eps=0.0)
        self.reductions = 0

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def step(self, val_error: float) -> bool:
        """Record one epoch's validation error; returns True when the rate was just divided."""
        if not math.isfinite(val_error):
            raise ValueError(f"PlateauSchedule.step: validation error must be finite, got {val_error}")
        before = self.lr
        if self.reductions < self.max_reductions:  # after the last division the rate stays put
            self.scheduler.step(val_error)
        reduced = self.lr != before
        self.reductions += reduced
        return reduced

    def state_dict(self) -> dict[str, Any]:
        t = self.scheduler
        return {"kind": "plateau", "best": t.best, "bad_epochs": t.num_bad_epochs,
                "cooldown_left": t.cooldown_counter, "reductions": self.reductions}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("kind") != "plateau":
            raise ValueError(f"PlateauSchedule: cannot load a {state.get('kind')!r} schedule state")
        self.scheduler.best = float(state["best"])
        self.scheduler.num_bad_epochs = int(state["bad_epochs"])
        self.scheduler.cooldown_counter = int(state["cooldown_left"])
        self.reductions = int(state["reductions"])


class StepSchedule:
    """Multiply the rate by ``factor`` every ``step_size`` epochs, at most ``max_reductions`` times.

    Not the paper's heuristic but the fixed schedule of later reproductions: torchvision's
    reference recipe divides by 10 every 30 epochs; Caffe's ``bvlc_alexnet`` every 100,000
    iterations of 256 images (about 20 epochs). Torch's ``MultiStepLR`` at epochs ``step_size``,
    ``2 step_size``, ... ``max_reductions * step_size``.
    """

    def __init__(self, optimizer: Optimizer, factor: float = 0.1, step_size: int = 30,
                 max_reductions: int = 3) -> None:
        if not 0.0 < factor < 1.0:
            raise ValueError(f"StepSchedule: factor must be in (0, 1), got {factor}")
        if step_size < 1:
            raise ValueError(f"StepSchedule: step_size must be >= 1 epoch, got {step_size}")
        self.optimizer = optimizer
        milestones = [step_size * (k + 1) for k in range(max_reductions)]
        self.scheduler = MultiStepLR(optimizer, milestones=milestones, gamma=factor)

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    @property
    def reductions(self) -> int:
        return sum(1 for m in self.scheduler.milestones if m <= self.scheduler.last_epoch)

    def step(self, val_error: float | None = None) -> bool:
        """Count one epoch (``val_error`` is ignored); returns True when the rate was just divided."""
        before = self.lr
        self.scheduler.step()
        return self.lr != before

    def state_dict(self) -> dict[str, Any]:
        return {"kind": "step", "epochs": self.scheduler.last_epoch, "reductions": self.reductions}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("kind") != "step":
            raise ValueError(f"StepSchedule: cannot load a {state.get('kind')!r} schedule state")
        self.scheduler.last_epoch = int(state["epochs"])


def make_schedule(kind: str, optimizer: Optimizer, *, factor: float = 0.1, patience: int = 5,
                  max_reductions: int = 3, step_size: int = 30, threshold: float = 0.0):
    """``"plateau"`` (Section 5, the default) or ``"step"``."""
    if kind == "plateau":
        return PlateauSchedule(optimizer, factor, patience, max_reductions, threshold)
    if kind == "step":
        return StepSchedule(optimizer, factor, step_size, max_reductions)
    raise ValueError(f"lr schedule must be 'plateau' or 'step', got {kind!r}")
