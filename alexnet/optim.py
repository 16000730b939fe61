"""The paper's optimiser (Section 5).

Section 5 writes the update as::

    v <- 0.9 * v - 0.0005 * lr * w - lr * dL/dw
    w <- w + v

The learning rate multiplies the gradient *before* it enters the momentum buffer.
``torch.optim.SGD`` keeps ``v <- m v + (g + wd w)`` and applies ``w <- w - lr v``: the two agree
while the learning rate is constant and differ after every change of it (the paper's buffer keeps
the old rate's steps, torch's rescales them with the new rate).

On the CPU the update runs as one C++ loop per parameter where it can be built
(:mod:`alexnet.kernels.sgd_cpu`: the same float operations, one pass over memory instead of four).
"""
from __future__ import annotations

from collections.abc import Iterable

import torch
from torch.optim import Optimizer

from .kernels import sgd_cpu

__all__ = ["PaperSGD"]


class PaperSGD(Optimizer):
    """Stochastic gradient descent exactly as Section 5 writes it.

    Defaults are the paper's: ``lr=0.01, momentum=0.9, weight_decay=5e-4``. Parameters whose
    gradient is ``None`` are skipped. ``foreach`` (default: on CUDA) batches the update into
    torch's multi-tensor calls; ``cpp`` (default: on the CPU where a C++ compiler and ninja are
    present) runs it as one C++ loop per float32 parameter; both give the same weights.
    """

    def __init__(self, params: Iterable[torch.Tensor] | Iterable[dict], lr: float = 0.01,
                 momentum: float = 0.9, weight_decay: float = 5e-4, foreach: bool | None = None,
                 cpp: bool | None = None) -> None:
        if lr < 0:
            raise ValueError(f"PaperSGD: lr must be >= 0, got {lr}")
        if not 0 <= momentum < 1:
            raise ValueError(f"PaperSGD: momentum must be in [0, 1), got {momentum}")
        if weight_decay < 0:
            raise ValueError(f"PaperSGD: weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, foreach=foreach,
                                      cpp=cpp))

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
                continue
            triples = list(zip(params, grads, bufs))
            if self._use_cpp(group.get("cpp")):  # .get: a state dict saved before the option existed
                fast = [sgd_cpu.fits(*t) for t in triples]
                if any(fast):
                    sgd_cpu.step(*map(list, zip(*(t for t, f in zip(triples, fast) if f))), lr, m, wd)
                    triples = [t for t, f in zip(triples, fast) if not f]
            for p, g, v in triples:
                v.mul_(m)
                if wd:
                    v.add_(p, alpha=-wd * lr)
                v.add_(g, alpha=-lr)
                p.add_(v)
        return loss

    @staticmethod
    def _use_cpp(cpp: bool | None) -> bool:
        """``cpp=None``: the C++ loop if it builds here (a failed build is not retried)."""
        if cpp is False or (cpp is None and not sgd_cpu.available()):
            return False
        try:
            sgd_cpu.extension()
        except (RuntimeError, OSError, ImportError):
            if cpp:
                raise
            return False
        return True
