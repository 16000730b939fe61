"""Section 3.3's LRN as one C++ loop each way on the CPU (``impl="cpp"``), built on first use.

``lrn_cpu.cpp`` beside this file walks a channels-last tensor pixel by pixel (each pixel's
channels are contiguous, so the window slides along a vector) and a contiguous one plane strip
by plane strip; the forward writes only the output, the backward recomputes the denominator
from the saved input. It is compiled by :func:`torch.utils.cpp_extension.load` (a C++ compiler
and ninja; about a minute, once per machine: the build is cached under torch's extension folder,
named after this CPU's instruction sets, since it is compiled for them).
"""
from __future__ import annotations

import hashlib
import os
import platform
import shutil
import sys
from pathlib import Path

import torch

_SOURCE = Path(__file__).with_name("lrn_cpu.cpp")
_STATE: dict[str, object] = {}
#: Compiled for this CPU's vector units; square roots without errno so that their loops vectorise.
CFLAGS = ["-O3", "-march=native", "-fno-math-errno", "-fopenmp"]


def _cpu_flags() -> str:
    """This CPU's instruction sets (``-march=native`` compiles for them)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return line
    except OSError:
        pass
    return platform.processor() or platform.machine()


def available() -> bool:
    """Whether the extension can be built here: a C++ compiler and ninja (not failed before)."""
    if _STATE.get("broken"):
        return False
    _venv_on_path()
    return shutil.which(os.environ.get("CXX", "c++")) is not None and shutil.which("ninja") is not None


def _venv_on_path() -> None:
    """ninja installed by pip into this Python's environment is found even when it is not activated."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def extension():
    """The compiled module (``forward``, ``backward``); built on the first call."""
    if "module" not in _STATE:
        from torch.utils.cpp_extension import load

        _venv_on_path()
        tag = hashlib.sha1((_cpu_flags() + " ".join(CFLAGS) + _SOURCE.read_text()).encode()).hexdigest()[:10]
        try:
            _STATE["module"] = load(name=f"alexnet_lrn_cpu_{tag}", sources=[str(_SOURCE)],
                                    extra_cflags=CFLAGS,
                                    extra_ldflags=["-fopenmp"], verbose=False)
        except Exception:
            _STATE["broken"] = True
            raise
    return _STATE["module"]


class LRNCppFunction(torch.autograd.Function):
    """Forward and backward by the C++ loops; saves only the input."""

    @staticmethod
    def forward(ctx, z, size, alpha, beta, k, groups, relu):  # type: ignore[override]
        if z.dim() != 4:
            raise ValueError(f"LRN expects (N, C, H, W) input, got shape {tuple(z.shape)}")
        if z.shape[1] % groups:
            raise ValueError(f"LRN: channels ({z.shape[1]}) must split evenly into groups ({groups})")
        if not (z.is_contiguous() or z.is_contiguous(memory_format=torch.channels_last)):
            z = z.contiguous()
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
