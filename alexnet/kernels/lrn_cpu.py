"""Section 3.3's LRN as one C++ loop each way on the CPU (``impl="cpp"``), built on first use.

``lrn_cpu.cpp`` beside this file walks a channels-last tensor pixel by pixel (each pixel's
channels are contiguous, so the window slides along a vector) and a contiguous one plane strip
by plane strip; the forward writes only the output, the backward recomputes the denominator
from the saved input. It is compiled by :func:`torch.utils.cpp_extension.load` (a C++ compiler
and ninja; about a minute, once per machine: the build is cached under torch's extension folder,
named after this CPU's instruction sets, since it is compiled for them: :mod:`.cpp_build`).
"""
from __future__ import annotations

from pathlib import Path

import torch

from .cpp_build import build, toolchain_present

_SOURCE = Path(__file__).with_name("lrn_cpu.cpp")
_STATE: dict[str, object] = {}


def available() -> bool:
    """Whether the extension can be built here: a C++ compiler and ninja (not failed before)."""
    return not _STATE.get("broken") and toolchain_present()


def extension():
    """The compiled module (``forward``, ``backward``); built on the first call."""
    return build("alexnet_lrn_cpu", _SOURCE, _STATE)


def _dense_input(z: torch.Tensor, groups: int) -> torch.Tensor:
    """``z`` checked for the C++ loops (4-D, channels splitting into ``groups``), made contiguous
    unless it already is or is channels-last."""
    if z.dim() != 4:
        raise ValueError(f"LRN expects (N, C, H, W) input, got shape {tuple(z.shape)}")
    if z.shape[1] % groups:
        raise ValueError(f"LRN: channels ({z.shape[1]}) must split evenly into groups ({groups})")
    if not (z.is_contiguous() or z.is_contiguous(memory_format=torch.channels_last)):
        z = z.contiguous()
    return z


class LRNCppFunction(torch.autograd.Function):
    """Forward and backward by the C++ loops; saves only the input."""

    @staticmethod
    def forward(ctx, z, size, alpha, beta, k, groups, relu):  # type: ignore[override]
        z = _dense_input(z, groups)
        ctx.save_for_backward(z)
        ctx.args = (size, alpha, beta, k, groups, relu)
        return extension().forward(z, size, alpha, beta, k, groups, relu)

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        (z,) = ctx.saved_tensors
        if g.stride() != z.stride() or g.dtype != z.dtype:
            g = torch.empty_like(z).copy_(g)
        dz = extension().backward(z, g, *ctx.args)
        return dz, None, None, None, None, None, None


def lrn_cpp(x: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
            groups: int = 1, relu: bool = False) -> torch.Tensor:
    """:class:`LRNCppFunction` as a function (CPU tensors of any float dtype, contiguous or channels-last)."""
    return LRNCppFunction.apply(x, int(size), float(alpha), float(beta), float(k), int(groups), bool(relu))


class LRNPoolCppFunction(torch.autograd.Function):
    """LRN then max pooling in one C++ loop each way; saves the input and one byte per output (the
    argmax's place in its window), not the normalised maps."""

    @staticmethod
    def forward(ctx, z, size, alpha, beta, k, groups, relu, pool_k, pool_s):  # type: ignore[override]
        z = _dense_input(z, groups)
        out, where = extension().pool_forward(z, size, alpha, beta, k, groups, relu, pool_k, pool_s)
        ctx.save_for_backward(z, where)
        ctx.args = (size, alpha, beta, k, groups, relu, pool_k, pool_s)
        ctx.mark_non_differentiable(where)
        return out

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        z, where = ctx.saved_tensors
        if g.stride() != where.stride() or g.dtype != z.dtype:
            g = torch.empty_like(where, dtype=z.dtype).copy_(g)
        dz = extension().pool_backward(z, g, where, *ctx.args)
        return (dz,) + (None,) * 8


def lrn_pool_cpp(x: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
                 groups: int = 1, relu: bool = False, pool_size: int = 3, pool_stride: int = 2) -> torch.Tensor:
    """``max_pool2d(lrn(relu(x)), pool_size, pool_stride)`` (Sections 3.3-3.4) by :class:`LRNPoolCppFunction`:
    the same values and gradients as the two layers one after the other (ties as torch's pooling
    breaks them), without writing the normalised maps to memory."""
    return LRNPoolCppFunction.apply(x, int(size), float(alpha), float(beta), float(k), int(groups), bool(relu),
                                    int(pool_size), int(pool_stride))
