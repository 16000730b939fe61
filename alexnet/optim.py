"""The paper's optimiser (Section 5).

Section 5 writes the update as::

    v <- 0.9 * v - 0.0005 * lr * w - lr * dL/dw
    w <- w + v

The learning rate multiplies the gradient *before* it enters the momentum buffer.
``torch.optim.SGD`` keeps ``v <- m v + (g + wd w)`` and applies ``w <- w - lr v``: the two agree
while the learning rate is constant and differ after every change of it (the paper's buffer keeps
the old rate's steps, torch's rescales them with the new rate).
"""
from __future__ import annotations

from collections.abc import Iterable

import torch
from torch.optim import Optimizer

__all__ = ["PaperSGD"]


class PaperSGD(Optimizer):
    """Stochastic gradient descent exactly as Section 5 writes it.

    Defaults are the paper's: ``lr=0.01, momentum=0.9, weight_decay=5e-4``. Parameters whose
    gradient is ``None`` are skipped.
    """

    def __init__(self, params: Iterable[torch.Tensor] | Iterable[dict], lr: float = 0.01,
                 momentum: float = 0.9, weight_decay: float = 5e-4, foreach: bool | None = None) -> None:
        if lr < 0:
            raise ValueError(f"PaperSGD: lr must be >= 0, got {lr}")
        if not 0 <= momentum < 1:
            raise ValueError(f"PaperSGD: momentum must be in [0, 1), got {momentum}")
        if weight_decay < 0:
            raise ValueError(f"PaperSGD: weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, foreach=foreach))

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, m, wd = group["lr"], group["momentum"], group["weight_decay"]
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            bufs = []
            for p in params:
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                bufs.append(state["momentum_buffer"])
            foreach = group["foreach"]
            if foreach is None:
                foreach = all(p.device.type == "cuda" for p in params)
            if foreach:
                # v = m*v - wd*lr*w - lr*g ; w = w + v  (same arithmetic, fewer kernel launches)
                torch._foreach_mul_(bufs, m)
                if wd:
                    torch._foreach_add_(bufs, params, alpha=-wd * lr)
                torch._foreach_add_(bufs, grads, alpha=-lr)
                torch._foreach_add_(params, bufs)
            else:
                for p, g, v in zip(params, grads, bufs):
                    v.mul_(m)
                    if wd:
                        v.add_(p, alpha=-wd * lr)
                    v.add_(g, alpha=-lr)
                    p.add_(v)
        return loss
