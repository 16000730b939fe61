"""Section 5's SGD update as one C++ loop per parameter on the CPU, built on first use.

:class:`alexnet.optim.PaperSGD` writes the update as four in-place torch calls, each a pass over
the parameter's memory (eleven reads and writes of 4 bytes per weight, 61 million weights); the
loop in ``sgd_cpu.cpp`` makes one pass (five), with the same float operations in the same order,
so that the weights come out bit for bit the same (``tests/test_optim.py``). Built like the C++
LRN (:mod:`.cpp_build`).
"""
from __future__ import annotations

from pathlib import Path

import torch

from .cpp_build import build, toolchain_present

_SOURCE = Path(__file__).with_name("sgd_cpu.cpp")
_STATE: dict[str, object] = {}


def available() -> bool:
    """Whether the loop can be built here: a C++ compiler and ninja (not failed before)."""
    return not _STATE.get("broken") and toolchain_present()


def extension():
    """The compiled module (``step``); built on the first call."""
    return build("alexnet_sgd_cpu", _SOURCE, _STATE)


def fits(p: torch.Tensor, g: torch.Tensor, v: torch.Tensor) -> bool:
    """Whether the loop can update this triple: dense float32 CPU tensors of one layout."""
    return (p.device.type == "cpu" and p.dtype == g.dtype == v.dtype == torch.float32
            and p.shape == g.shape == v.shape and p.stride() == g.stride() == v.stride()
            and p.is_contiguous(memory_format=_format(p)) and not g.is_sparse)


def _format(p: torch.Tensor) -> torch.memory_format:
    """channels_last for a 4-D tensor in that layout (the benchmark's conv kernels), else contiguous."""
    if p.dim() == 4 and not p.is_contiguous() and p.is_contiguous(memory_format=torch.channels_last):
        return torch.channels_last
    return torch.contiguous_format


def step(params: list[torch.Tensor], grads: list[torch.Tensor], bufs: list[torch.Tensor], lr: float,
         momentum: float, weight_decay: float) -> None:
    """``v <- m v - wd lr w - lr g; w <- w + v`` for every triple, in place (Section 5)."""
    extension().step(params, grads, bufs, float(lr), float(momentum), float(weight_decay))
