"""A fused local response normalisation (Section 3.3) as Triton kernels with their own backward.

The paper's formula, for channel ``i`` of a group of ``N`` channels::

    d[i] = k + alpha * sum_{j=max(0, i-n/2)}^{min(N-1, i+n/2)} a[j]^2
    b[i] = a[i] * d[i] ** -beta

and its gradient (``g`` the incoming gradient)::

    da[i] = g[i] * d[i] ** -beta - 2 * alpha * beta * a[i] * sum_{c : i in window(c)} g[c] * a[c] * d[c] ** (-beta - 1)

One program handles a tile of ``BLOCK_P`` spatial positions by all channels of one tower
(``groups`` towers side by side along the channels, as the grouped convolutions of the fast path
lay them out: the window never crosses a tower's edge, exactly as in the two-tower reference).
The kernels read the tensor through its strides, so contiguous (NCHW) and channels-last (NHWC)
inputs both work without a copy. ``relu=True`` fuses the ReLU that precedes LRN in the network
(``b = LRN(max(z, 0))``, gradient masked by ``z > 0``), saving a full read and write of the
activation.

The forward saves the denominator ``d`` in float32 for the backward, so the gradient is the
formula's to float32 rounding whatever the input precision. On a CPU the same kernels run under
``TRITON_INTERPRET=1`` (how the tests check them). Two plain-PyTorch twins serve everything else:
:func:`lrn_formula_torch` (the formula as tensor ops, which ``torch.compile`` fuses) and
:func:`lrn_torch` (the same with a hand-written backward: the fast eager path on the CPU).
"""
from __future__ import annotations

import os

import torch

__all__ = ["triton_available", "lrn_triton", "lrn_formula_torch", "lrn_torch", "LRNFunction", "LRNTorchFunction"]

try:  # Triton is optional: the CPU path and the reference never need it.
    import triton
    import triton.language as tl

    _HAVE_TRITON = True
except Exception:  # pragma: no cover - depends on the installation
    _HAVE_TRITON = False


def _interpret() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


def triton_available(device: torch.device | str | None = None) -> bool:
    """Whether :func:`lrn_triton` can run on ``device`` (CUDA, or any device under ``TRITON_INTERPRET=1``)."""
    if not _HAVE_TRITON:
        return False
    if _interpret():
        return True  # set before triton was first imported, or the kernels are compiled ones
    dev = torch.device(device) if device is not None else None
    return torch.cuda.is_available() and (dev is None or dev.type == "cuda")


if _HAVE_TRITON:

    @triton.jit
    def _lrn_fwd_kernel(
        x_ptr, y_ptr, den_ptr,
        CG, HW, s_n, s_c, s_p, groups,
        alpha, beta, k,
        SIZE: tl.constexpr, RELU: tl.constexpr, F64: tl.constexpr,
        BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr,
    ):
        pid_p = tl.program_id(0)
        pid_ng = tl.program_id(1)
        n = pid_ng // groups
        g = pid_ng % groups
        p = pid_p * BLOCK_P + tl.arange(0, BLOCK_P)[:, None]
        c = tl.arange(0, BLOCK_C)[None, :]
        pmask = p < HW
        base = n.to(tl.int64) * s_n + (g * CG).to(tl.int64) * s_c
        offs_p = p.to(tl.int64) * s_p
        if F64:
            acc = tl.zeros((BLOCK_P, BLOCK_C), dtype=tl.float64)
        else:
            acc = tl.zeros((BLOCK_P, BLOCK_C), dtype=tl.float32)
        for j in tl.static_range(SIZE):
            cj = c + (j - SIZE // 2)
            m = pmask & (cj >= 0) & (cj < CG)
            v = tl.load(x_ptr + base + cj.to(tl.int64) * s_c + offs_p, mask=m, other=0.0)
            v = v.to(acc.dtype)
            if RELU:
                v = tl.maximum(v, 0.0)
            acc += v * v
        m0 = pmask & (c < CG)
        off0 = base + c.to(tl.int64) * s_c + offs_p
        x = tl.load(x_ptr + off0, mask=m0, other=0.0).to(acc.dtype)
        if RELU:
            x = tl.maximum(x, 0.0)
        den = k + alpha * acc
        if F64:
            y = x / tl.exp(beta * tl.log(den))
        else:
            y = x * tl.exp2(-beta * tl.log2(den))
        tl.store(y_ptr + off0, y.to(y_ptr.dtype.element_ty), mask=m0)
        tl.store(den_ptr + off0, den.to(den_ptr.dtype.element_ty), mask=m0)

    @triton.jit
    def _lrn_bwd_kernel(
        x_ptr, den_ptr, g_ptr, dx_ptr,
        CG, HW, s_n, s_c, s_p, groups,
        alpha, beta,
        SIZE: tl.constexpr, RELU: tl.constexpr, F64: tl.constexpr,
        BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr,
    ):
        pid_p = tl.program_id(0)
        pid_ng = tl.program_id(1)
        n = pid_ng // groups
        grp = pid_ng % groups
        p = pid_p * BLOCK_P + tl.arange(0, BLOCK_P)[:, None]
        c = tl.arange(0, BLOCK_C)[None, :]
        pmask = p < HW
        base = n.to(tl.int64) * s_n + (grp * CG).to(tl.int64) * s_c
        offs_p = p.to(tl.int64) * s_p
        if F64:
            t_sum = tl.zeros((BLOCK_P, BLOCK_C), dtype=tl.float64)
        else:
            t_sum = tl.zeros((BLOCK_P, BLOCK_C), dtype=tl.float32)
        # channel i receives from every c with i in window(c): c in [i - (SIZE-1)//2, i + SIZE//2]
        for j in tl.static_range(SIZE):
            cj = c + (j - (SIZE - 1) // 2)
            m = pmask & (cj >= 0) & (cj < CG)
            off = base + cj.to(tl.int64) * s_c + offs_p
            xv = tl.load(x_ptr + off, mask=m, other=0.0).to(t_sum.dtype)
            if RELU:
                xv = tl.maximum(xv, 0.0)
            gv = tl.load(g_ptr + off, mask=m, other=0.0).to(t_sum.dtype)
            dv = tl.load(den_ptr + off, mask=m, other=1.0).to(t_sum.dtype)
            if F64:
                t_sum += gv * xv / tl.exp((beta + 1.0) * tl.log(dv))
            else:
                t_sum += gv * xv * tl.exp2(-(beta + 1.0) * tl.log2(dv))
        m0 = pmask & (c < CG)
        off0 = base + c.to(tl.int64) * s_c + offs_p
        z = tl.load(x_ptr + off0, mask=m0, other=0.0).to(t_sum.dtype)
        x = z
        if RELU:
            x = tl.maximum(z, 0.0)
        g0 = tl.load(g_ptr + off0, mask=m0, other=0.0).to(t_sum.dtype)
        d0 = tl.load(den_ptr + off0, mask=m0, other=1.0).to(t_sum.dtype)
        if F64:
            dx = g0 / tl.exp(beta * tl.log(d0)) - 2.0 * alpha * beta * x * t_sum
        else:
            dx = g0 * tl.exp2(-beta * tl.log2(d0)) - 2.0 * alpha * beta * x * t_sum
        if RELU:
            dx = tl.where(z > 0.0, dx, 0.0)
        tl.store(dx_ptr + off0, dx.to(dx_ptr.dtype.element_ty), mask=m0)


def _layout(x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int, int]]:
    """``x`` as a dense 4-d tensor whose H and W flatten to one stride: (stride_n, stride_c, stride_p)."""
    if x.dim() != 4:
        raise ValueError(f"lrn_triton expects (N, C, H, W) input, got shape {tuple(x.shape)}")
    _, _, _, w = x.shape
    if not (x.is_contiguous() or x.is_contiguous(memory_format=torch.channels_last)):
        x = x.contiguous()
    if x.shape[2] > 1 and w > 1 and x.stride(2) != w * x.stride(3):
        x = x.contiguous()
    return x, (x.stride(0), x.stride(1), x.stride(3) if w > 1 else x.stride(2))


def _blocks(cg: int, hw: int) -> tuple[int, int]:
    block_c = max(1, triton.next_power_of_2(cg))
    block_p = max(1, min(triton.next_power_of_2(hw), max(1, 4096 // block_c)))
    return block_p, block_c


def _check_groups(c: int, groups: int) -> int:
    if groups < 1 or c % groups:
        raise ValueError(f"LRN: channels ({c}) must split evenly into groups ({groups})")
    return c // groups


def _fwd(x: torch.Tensor, size: int, alpha: float, beta: float, k: float, groups: int,
         relu: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x, (s_n, s_c, s_p) = _layout(x)
    n, c, h, w = x.shape
    cg = _check_groups(c, groups)
    y = torch.empty_like(x)  # same strides as x (dense)
    den = torch.empty_like(x, dtype=torch.float64 if x.dtype == torch.float64 else torch.float32)
    assert y.stride() == x.stride() and den.stride() == x.stride()
    block_p, block_c = _blocks(cg, h * w)
    grid = (triton.cdiv(h * w, block_p), n * groups)
    _lrn_fwd_kernel[grid](
        x, y, den, cg, h * w, s_n, s_c, s_p, groups, float(alpha), float(beta), float(k),
        SIZE=size, RELU=relu, F64=x.dtype == torch.float64, BLOCK_P=block_p, BLOCK_C=block_c,
    )
    return x, y, den


def _bwd(x: torch.Tensor, den: torch.Tensor, grad: torch.Tensor, size: int, alpha: float, beta: float,
         groups: int, relu: bool) -> torch.Tensor:
    if grad.stride() != x.stride():
        grad = torch.empty_like(x, dtype=grad.dtype).copy_(grad)
    n, c, h, w = x.shape
    cg = c // groups
    dx = torch.empty_like(x)
    block_p, block_c = _blocks(cg, h * w)
    grid = (triton.cdiv(h * w, block_p), n * groups)
    _, (s_n, s_c, s_p) = _layout(x)
    _lrn_bwd_kernel[grid](
        x, den, grad, dx, cg, h * w, s_n, s_c, s_p, groups,
        float(alpha), float(beta),
        SIZE=size, RELU=relu, F64=x.dtype == torch.float64, BLOCK_P=block_p, BLOCK_C=block_c,
    )
    return dx


class LRNFunction(torch.autograd.Function):
    """Autograd wrapper of the Triton kernels: forward saves the input and the denominator."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k, groups, relu):  # type: ignore[override]
        x, y, den = _fwd(x, size, alpha, beta, k, groups, relu)
        ctx.save_for_backward(x, den)
        ctx.args = (size, alpha, beta, groups, relu)
        return y

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        x, den = ctx.saved_tensors
        size, alpha, beta, groups, relu = ctx.args
        return _bwd(x, den, grad, size, alpha, beta, groups, relu), None, None, None, None, None, None


def lrn_triton(x: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
               groups: int = 1, relu: bool = False) -> torch.Tensor:
    """The paper's LRN (alpha *not* divided by ``size``) as one fused Triton kernel each way.

    ``groups`` towers lie side by side along the channels; the window stays inside each.
    ``relu=True`` computes ``LRN(relu(x))``. Needs CUDA, or ``TRITON_INTERPRET=1`` on the CPU.
    """
    if not triton_available(x.device):
        raise RuntimeError("lrn_triton needs triton and a CUDA tensor (or TRITON_INTERPRET=1)")
    return LRNFunction.apply(x, int(size), float(alpha), float(beta), float(k), int(groups), bool(relu))


def _neg_pow(den: torch.Tensor, beta: float) -> torch.Tensor:
    """``den ** -beta``; for the paper's ``beta = 0.75`` as ``rsqrt(d) * sqrt(rsqrt(d))``.

    Square roots are single vector instructions on every CPU, ``pow`` is an exp and a log: the
    same number to a few ulps, several times faster on the CPU.
    """
    if beta == 0.75:
        q = torch.rsqrt(den)
        return q * torch.sqrt(q)
    if beta == 0.5:
        return torch.rsqrt(den)
    return den.pow(-beta)


def _window_sum(t: torch.Tensor, groups: int, before: int, after: int) -> torch.Tensor:
    """Sum of ``t`` over channels ``[i - before, i + after]`` of each group (zeros off the edges).

    One copy and ``before + after`` in-place adds of shifted slices; no padded temporary.
    """
    n, c, h, w = t.shape
    cg = c // groups
    t5 = t.view(n, groups, cg, h, w)
    acc = t5.clone()
    for j in range(1, min(before, cg - 1) + 1):  # channel i += t[i - j]
        acc[:, :, j:] += t5[:, :, : cg - j]
    for j in range(1, min(after, cg - 1) + 1):  # channel i += t[i + j]
        acc[:, :, : cg - j] += t5[:, :, j:]
    return acc.view(n, c, h, w)


def lrn_formula_torch(x: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75,
                      k: float = 2.0, groups: int = 1, relu: bool = False) -> torch.Tensor:
    """The same computation in plain PyTorch ops: a sum of ``size`` shifted squares per group.

    Written so that ``torch.compile`` fuses it into one kernel each way (the "compiled" LRN): a
    channels-last input is handled as its ``(N, H, W, C)`` view, so the channel window runs
    along the contiguous dimension and the compiled loop vectorises; the output keeps the
    input's memory format. ``groups`` and ``relu`` as in :func:`lrn_triton`. Differentiable
    through autograd.
    """
    if x.dim() != 4:
        raise ValueError(f"LRN expects (N, C, H, W) input, got shape {tuple(x.shape)}")
    n, c, h, w = x.shape
    cg = _check_groups(c, groups)
    if relu:
        x = torch.relu(x)
    before, after = size // 2, (size - 1) // 2
    if c > 1 and x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        xh = x.permute(0, 2, 3, 1)  # (N, H, W, C), contiguous
        sq = (xh * xh).reshape(n, h, w, groups, cg)
        padded = torch.nn.functional.pad(sq, (before, after))
        acc = padded[..., 0:cg]
        for j in range(1, size):
            acc = acc + padded[..., j:j + cg]
        den = (acc * alpha + k).reshape(n, h, w, c)
        return (xh * _neg_pow(den, beta)).permute(0, 3, 1, 2)
    sq = (x * x).view(n, groups, cg, h, w)
    padded = torch.nn.functional.pad(sq, (0, 0, 0, 0, before, after))
    acc = padded[:, :, 0:cg]
    for j in range(1, size):
        acc = acc + padded[:, :, j:j + cg]
    den = (acc * alpha + k).view(n, c, h, w)
    return x * _neg_pow(den, beta)


def _channel_window(t: torch.Tensor, groups: int, before: int, after: int) -> torch.Tensor:
    """Window sum over channels ``[i - before, i + after]`` per group, as padded shifted slices along
    the channel dimension of a ``(N, C, H, W)`` tensor or, if ``t`` is channels-last, of its
    ``(N, H, W, C)`` view (contiguous channels: the compiled loop vectorises over them)."""
    n, c, h, w = t.shape
    cg = c // groups
    if c > 1 and t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous():
        v = t.permute(0, 2, 3, 1).reshape(n, h, w, groups, cg)
        padded = torch.nn.functional.pad(v, (before, after))
        acc = padded[..., 0:cg]
        for j in range(1, before + after + 1):
            acc = acc + padded[..., j:j + cg]
        return acc.reshape(n, h, w, c).permute(0, 3, 1, 2)
    padded = torch.nn.functional.pad(t.view(n, groups, cg, h, w), (0, 0, 0, 0, before, after))
    acc = padded[:, :, 0:cg]
    for j in range(1, before + after + 1):
        acc = acc + padded[:, :, j:j + cg]
    return acc.reshape(n, c, h, w)


def _fwd_math(z: torch.Tensor, size: int, alpha: float, beta: float, k: float, groups: int, relu: bool):
    """Forward of the formula: ``(b, d)``; compiled by :class:`LRNCompiledFunction`."""
    x = torch.relu(z) if relu else z
    den = _channel_window(x * x, groups, size // 2, (size - 1) // 2) * alpha + k
    return x * _neg_pow(den, beta), den


def _bwd_math(z: torch.Tensor, den: torch.Tensor, g: torch.Tensor, size: int, alpha: float, beta: float,
              groups: int, relu: bool):
    """Backward of the formula from the saved input and ``d``; compiled by :class:`LRNCompiledFunction`."""
    x = torch.relu(z) if relu else z
    p = _neg_pow(den, beta)
    s = _channel_window(g * x * p / den, groups, (size - 1) // 2, size // 2)
    dx = g * p - (2.0 * alpha * beta) * x * s
    return torch.where(z > 0, dx, torch.zeros_like(dx)) if relu else dx


_COMPILED_MATH: dict[str, object] = {}


class LRNCompiledFunction(torch.autograd.Function):
    """The formula with its hand-written backward, each direction one ``torch.compile``d loop
    (the CPU's fast path: on channels-last inputs the loops run along the contiguous channels)."""

    @staticmethod
    def forward(ctx, z, size, alpha, beta, k, groups, relu):  # type: ignore[override]
        if z.dim() != 4:
            raise ValueError(f"LRN expects (N, C, H, W) input, got shape {tuple(z.shape)}")
        _check_groups(z.shape[1], groups)
        if "fwd" not in _COMPILED_MATH:
            _COMPILED_MATH["fwd"] = torch.compile(_fwd_math, dynamic=False)
            _COMPILED_MATH["bwd"] = torch.compile(_bwd_math, dynamic=False)
        y, den = _COMPILED_MATH["fwd"](z, size, alpha, beta, k, groups, relu)  # type: ignore[operator]
        ctx.save_for_backward(z, den)
        ctx.args = (size, alpha, beta, groups, relu)
        return y

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        z, den = ctx.saved_tensors
        size, alpha, beta, groups, relu = ctx.args
        if g.stride() != z.stride():
            g = torch.empty_like(z, dtype=g.dtype).copy_(g)
        dx = _COMPILED_MATH["bwd"](z, den, g, size, alpha, beta, groups, relu)  # type: ignore[operator]
        return dx, None, None, None, None, None, None


def lrn_compiled(x: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
                 groups: int = 1, relu: bool = False) -> torch.Tensor:
    """:class:`LRNCompiledFunction` as a function (needs a working ``torch.compile`` backend)."""
    return LRNCompiledFunction.apply(x, int(size), float(alpha), float(beta), float(k), int(groups), bool(relu))


class LRNTorchFunction(torch.autograd.Function):
    """The formula with a hand-written backward in PyTorch ops: the fast eager path on the CPU.

    Forward saves the (rectified) input, the output, ``d`` and ``d ** -beta``; the backward is
    ``g * d^-b - 2ab * a * window^T(g * b / d)`` (``b = a d^-beta``), a dozen in-place passes
    instead of autograd's graph of slices and pads.
    """

    @staticmethod
    def forward(ctx, z, size, alpha, beta, k, groups, relu):  # type: ignore[override]
        if z.dim() != 4:
            raise ValueError(f"LRN expects (N, C, H, W) input, got shape {tuple(z.shape)}")
        _check_groups(z.shape[1], groups)
        x = torch.relu(z) if relu else z
        den = _window_sum(x * x, groups, size // 2, (size - 1) // 2)
        den.mul_(alpha).add_(k)
        p = _neg_pow(den, beta)
        y = x * p
        ctx.save_for_backward(x, y, den, p)
        ctx.args = (size, alpha, beta, groups, relu)
        return y

    @staticmethod
    def backward(ctx, g):  # type: ignore[override]
        x, y, den, p = ctx.saved_tensors
        size, alpha, beta, groups, relu = ctx.args
        t = (g * y).div_(den)
        # channel i collects from every c whose window holds i: c in [i - (size-1)//2, i + size//2]
        s = _window_sum(t, groups, (size - 1) // 2, size // 2)
        dx = (g * p).sub_(s.mul_(x), alpha=2.0 * alpha * beta)
        if relu:
            dx.mul_(x > 0)
        return dx, None, None, None, None, None, None


def lrn_torch(x: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0,
              groups: int = 1, relu: bool = False) -> torch.Tensor:
    """:class:`LRNTorchFunction` as a function (any device, any float dtype)."""
    return LRNTorchFunction.apply(x, int(size), float(alpha), float(beta), float(k), int(groups), bool(relu))
