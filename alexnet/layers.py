"""The paper's building blocks that PyTorch does not provide with the paper's semantics.

* :class:`LocalResponseNorm` -- Section 3.3, with ``alpha`` as the paper writes it.
* :class:`PaperDropout` -- Section 4.2, zeroing outputs at train time and halving them at test
  time (the paper's wording), with inverted dropout as an option.
* :func:`lrn` -- the same LRN through a chosen implementation (:data:`LRN_IMPLS`): the
  reference above (torch's own ``local_response_norm``), the formula as plain tensor ops
  (``"formula"``, differentiated by autograd, fused by ``torch.compile``), the formula with a
  hand-written backward (``"hand_backward"``, eager; ``"compiled"``, each direction compiled), one
  C++ loop each way (``"cpp"``, :mod:`alexnet.kernels.lrn_cpu`: the CPU's fast path), or the fused
  Triton kernels of :mod:`alexnet.kernels.lrn_triton`; with the
  towers side by side along the channels (``groups``) and the preceding ReLU fused (``relu``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LocalResponseNorm", "PaperDropout", "local_response_norm", "lrn", "resolve_lrn_impl",
           "canonical_lrn_impl", "LRN_IMPLS", "DEPRECATED_LRN_IMPLS"]

#: Implementations of the paper's LRN that :func:`lrn` can use; all compute the same function.
#: ``reference``: ``torch.nn.functional.local_response_norm`` (alpha times the window size), per
#: tower; ``formula``: the sum of shifted squares as tensor ops, autograd's backward;
#: ``hand_backward``: the same with a hand-written backward; ``compiled``: that, each direction one
#: ``torch.compile``d loop; ``cpp``: one C++ loop each way on the CPU (built on first use);
#: ``triton``: fused GPU kernels; ``auto``: the fastest for the tensor.
LRN_IMPLS = ("reference", "formula", "hand_backward", "compiled", "cpp", "triton", "auto")
#: Former names, still accepted (deprecated): ``"torch"`` was the hand-written backward, which is
#: not torch's LRN (``"reference"`` is).
DEPRECATED_LRN_IMPLS = {"torch": "hand_backward"}


def canonical_lrn_impl(impl: str, what: str = "lrn: impl") -> str:
    """``impl`` under its current name (a deprecated one is translated); ``ValueError`` if unknown."""
    impl = DEPRECATED_LRN_IMPLS.get(impl, impl)
    if impl not in LRN_IMPLS:
        raise ValueError(f"{what} must be one of {LRN_IMPLS}, got {impl!r}")
    return impl


def local_response_norm(
    x: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0
) -> torch.Tensor:
    """Section 3.3 of the paper, across channels (dimension 1)::

        b[i] = a[i] / (k + alpha * sum_{j=max(0, i-n/2)}^{min(N-1, i+n/2)} a[j]^2) ** beta

    ``alpha`` is the paper's: it multiplies the plain *sum* of squares. ``torch.nn.LocalResponseNorm``
    and Caffe multiply the *mean* (they divide alpha by ``size``), so the paper's ``alpha=1e-4``
    is torch's ``alpha=5e-4`` at ``size=5``. This reference path delegates to
    ``torch.nn.functional.local_response_norm`` with ``alpha * size``; the window is
    ``size // 2`` channels before and ``(size - 1) // 2`` after, i.e. the paper's ``i +- n/2``
    for odd ``n``.
    """
    if x.dim() < 3:
        raise ValueError(f"local_response_norm expects (N, C, ...) input, got shape {tuple(x.shape)}")
    if x.device.type == "cpu" and x.dtype in (torch.bfloat16, torch.float16):
        # torch's CPU average pooling has no half-precision kernel: compute in float32
        return F.local_response_norm(x.float(), size, alpha=alpha * size, beta=beta, k=k).to(x.dtype)
    return F.local_response_norm(x, size, alpha=alpha * size, beta=beta, k=k)


_COMPILED: dict[str, object] = {}
#: ``"auto"`` compiles the CPU LRN only for tensors at least this large (training sizes): a few
#: seconds of compilation per shape pay off there, not on the tests' small inputs.
CPU_COMPILE_MIN_NUMEL = 1 << 20


def _cpu_compiler_ok() -> bool:
    """Whether ``torch.compile`` can build CPU kernels here (a C++ compiler; not failed before)."""
    import os
    import shutil

    if _COMPILED.get("cpu_broken"):
        return False
    return any(shutil.which(c) for c in (os.environ.get("CXX", "g++"), "g++", "c++", "clang++"))


def resolve_lrn_impl(impl: str, x: torch.Tensor) -> str:
    """The concrete implementation ``"auto"`` stands for on ``x``'s device and dtype.

    ``auto``: the Triton kernels for CUDA tensors in float32/float16/bfloat16 when Triton is
    installed; on the CPU, the C++ loops (``"cpp"``) for dense tensors (contiguous or
    channels-last) of any float dtype when a C++ compiler and ninja are present: 2-8x faster than
    the compiled formula in every layout and dtype (``bench lrn``, ``results/bench/``); else the
    compiled formula (``"compiled"``) for large dense float32 tensors, else the formula with its
    hand-written backward (``"hand_backward"``); the plain formula (``"formula"``) inside
    ``torch.compile``, which fuses it into the graph.
    """
    impl = canonical_lrn_impl(impl)
    if impl != "auto":
        return impl
    if torch.compiler.is_compiling():
        return "formula"  # inductor fuses the formula; an opaque kernel would only split the graph
    if x.device.type == "cuda" and x.dtype in (torch.float32, torch.float16, torch.bfloat16):
        from .kernels.lrn_triton import triton_available

        if triton_available(x.device):
            return "triton"
    dense = x.is_contiguous() or x.is_contiguous(memory_format=torch.channels_last)
    if x.device.type == "cpu" and dense and x.is_floating_point():
        from .kernels import lrn_cpu

        if lrn_cpu.available():
            return "cpp"
    if x.dtype in (torch.bfloat16, torch.float16):
        return "hand_backward"  # faster than the compiled loop in half precision (CPU)
    if x.device.type == "cpu" and x.numel() >= CPU_COMPILE_MIN_NUMEL and dense and _cpu_compiler_ok():
        return "compiled"
    return "hand_backward"


def lrn(
    x: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0, *,
    impl: str = "reference", groups: int = 1, relu: bool = False,
) -> torch.Tensor:
    """Section 3.3's LRN of ``relu(x)`` (if ``relu``) or ``x``, through implementation ``impl``.

    ``groups`` towers lie side by side along dimension 1 (the fast model's grouped layout); the
    window of channel ``i`` never leaves its tower, exactly as when each tower is normalised on
    its own. Every implementation equals the reference :func:`local_response_norm` (the tests
    check outputs and gradients against the formula in float64).
    """
    with _profiled("LRN"):
        return _lrn(x, size, alpha, beta, k, impl, groups, relu)


def _profiled(label: str):
    """A ``torch.profiler`` label around an eager call (``bench profile`` sums LRN's time by it)."""
    import contextlib

    if torch.compiler.is_compiling():
        return contextlib.nullcontext()
    return torch.profiler.record_function(label)


def _lrn(x: torch.Tensor, size: int, alpha: float, beta: float, k: float, impl: str, groups: int,
         relu: bool) -> torch.Tensor:
    requested, impl = impl, resolve_lrn_impl(impl, x)
    if impl == "reference":
        if relu:
            x = torch.relu(x)
        if groups == 1:
            return local_response_norm(x, size, alpha, beta, k)
        if x.shape[1] % groups:
            raise ValueError(f"LRN: channels ({x.shape[1]}) must split evenly into groups ({groups})")
        return torch.cat([local_response_norm(h, size, alpha, beta, k) for h in x.chunk(groups, 1)], 1)
    from .kernels import lrn_triton as lt

    if impl == "triton":
        return lt.lrn_triton(x, size, alpha, beta, k, groups=groups, relu=relu)
    if impl == "hand_backward":
        return lt.lrn_torch(x, size, alpha, beta, k, groups=groups, relu=relu)
    if impl == "cpp":
        from .kernels.lrn_cpu import lrn_cpp

        try:
            return lrn_cpp(x, size, alpha, beta, k, groups=groups, relu=relu)
        except (RuntimeError, OSError, ImportError):
            if requested != "auto":
                raise
            return _lrn(x, size, alpha, beta, k, "auto", groups, relu)  # not built here: lrn_cpu.available() is now False
    if impl == "compiled":
        try:
            return lt.lrn_compiled(x, size, alpha, beta, k, groups=groups, relu=relu)
        except Exception:
            if requested != "auto":
                raise
            _COMPILED["cpu_broken"] = True  # no working compiler after all: stay eager from now on
            return lt.lrn_torch(x, size, alpha, beta, k, groups=groups, relu=relu)
    return lt.lrn_formula_torch(x, size, alpha, beta, k, groups, relu)


class LocalResponseNorm(nn.Module):
    """Local response normalisation with the paper's parameters (Section 3.3).

    Defaults are the paper's: ``n=5, alpha=1e-4, beta=0.75, k=2``. Note that ``alpha`` is **not**
    divided by ``size`` (torch and Caffe divide it). ``impl`` picks the implementation
    (:data:`LRN_IMPLS`; default the reference) and ``groups`` normalises that many towers lying
    side by side along the channels, each on its own.
    """

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
                 impl: str = "reference", groups: int = 1) -> None:
        super().__init__()
        if size < 1:
            raise ValueError(f"LocalResponseNorm: size must be >= 1, got {size}")
        if k <= 0 and beta != 0:
            raise ValueError(f"LocalResponseNorm: k must be > 0 so the denominator is positive, got {k}")
        impl = canonical_lrn_impl(impl, "LocalResponseNorm: impl")
        if groups < 1:
            raise ValueError(f"LocalResponseNorm: groups must be >= 1, got {groups}")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k
        self.impl, self.groups = impl, groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.impl == "reference" and self.groups == 1:
            with _profiled("LRN"):
                return local_response_norm(x, self.size, self.alpha, self.beta, self.k)
        return lrn(x, self.size, self.alpha, self.beta, self.k, impl=self.impl, groups=self.groups)

    def extra_repr(self) -> str:
        extra = "" if self.impl == "reference" else f", impl={self.impl!r}"
        extra += "" if self.groups == 1 else f", groups={self.groups}"
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k} (paper's alpha){extra}"


class PaperDropout(nn.Module):
    """Dropout as Section 4.2 describes it.

    ``mode="paper"``: while training each output is zeroed with probability ``p`` and left
    unscaled; at test time every output is multiplied by ``1 - p`` (0.5 in the paper).
    ``mode="inverted"``: the modern equivalent (``torch.nn.Dropout``): survivors are scaled by
    ``1 / (1 - p)`` while training and the test-time pass is the identity. Both give the same
    expected activation at train time relative to test time.
    """

    def __init__(self, p: float = 0.5, mode: str = "paper") -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"PaperDropout: p must be in [0, 1), got {p}")
        if mode not in ("paper", "inverted"):
            raise ValueError(f"PaperDropout: mode must be 'paper' or 'inverted', got {mode!r}")
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0:
            return x
        if self.mode == "inverted":
            return F.dropout(x, self.p, self.training)
        if self.training:
            keep = torch.empty_like(x).bernoulli_(1.0 - self.p)
            return x * keep
        return x * (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode!r}"
