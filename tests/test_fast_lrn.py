"""Section 3.3: every fast LRN implementation equals the paper's formula (outputs and gradients).

The Triton kernels run on the CPU through Triton's interpreter in a subprocess (the interpreter
must be switched on before Triton is first imported); on a CUDA machine they also run compiled.
"""
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from alexnet.layers import LRN_IMPLS, LocalResponseNorm, lrn
from alexnet.kernels import lrn_cpu
from alexnet.kernels.lrn_triton import lrn_formula_torch, lrn_torch

needs_cpp = pytest.mark.skipif(not lrn_cpu.available(), reason="the C++ LRN needs a C++ compiler and ninja")


def formula64(a: torch.Tensor, n=5, alpha=1e-4, beta=0.75, k=2.0, groups=1, relu=False) -> torch.Tensor:
    """The paper's formula channel by channel in float64, each tower (group) on its own."""
    a = a.double()
    if relu:
        a = torch.relu(a)
    out = torch.empty_like(a)
    cg = a.shape[1] // groups
    for g in range(groups):
        for i in range(cg):
            lo, hi = max(0, i - n // 2), min(cg - 1, i + (n - 1) // 2)
            s = (a[:, g * cg + lo: g * cg + hi + 1] ** 2).sum(dim=1)
            out[:, g * cg + i] = a[:, g * cg + i] / (k + alpha * s) ** beta
    return out


def _check(impl, x, groups, relu, size=5, rtol=1e-10, atol=1e-10):
    x = x.detach().clone().requires_grad_()
    y = lrn(x, size, impl=impl, groups=groups, relu=relu)
    x64 = x.detach().double().requires_grad_()
    y64 = formula64(x64, n=size, groups=groups, relu=relu)
    torch.testing.assert_close(y.double(), y64.detach(), rtol=rtol, atol=atol)
    g = torch.randn_like(y64)
    (dx,) = torch.autograd.grad(y, x, g.to(y.dtype))
    (dx64,) = torch.autograd.grad(y64, x64, g)
    torch.testing.assert_close(dx.double(), dx64, rtol=rtol, atol=atol)
    return y


@pytest.mark.parametrize("impl", ["reference", "formula", "hand_backward",
                                  pytest.param("cpp", marks=needs_cpp)])
@pytest.mark.parametrize("groups, relu, channels_last", [(1, False, False), (2, True, False), (2, False, True),
                                                         (3, True, True)])
def test_lrn_impls_equal_formula_float64(impl, groups, relu, channels_last):
    torch.manual_seed(0)
    x = torch.randn(2, 12 * groups, 4, 5, dtype=torch.float64) * 30
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    _check(impl, x, groups, relu)


@pytest.mark.parametrize("size", [1, 3, 4, 6])
def test_torch_impl_other_window_sizes(size):
    torch.manual_seed(1)
    x = torch.randn(2, 7, 3, 3, dtype=torch.float64) * 30
    _check("hand_backward", x, 1, False, size=size)
    _check("formula", x, 1, False, size=size)
    if lrn_cpu.available():
        _check("cpp", x, 1, False, size=size)
        _check("cpp", x.contiguous(memory_format=torch.channels_last), 1, True, size=size)


@needs_cpp
@pytest.mark.parametrize("channels_last", [False, True])
def test_cpp_impl_float32_half_precision_and_long_planes(channels_last):
    """float32 at training-like shapes (a plane longer than one strip of pixels), bfloat16 within
    its rounding, and the gradient of a non-dense upstream gradient (max-pooling's)."""
    torch.manual_seed(4)
    x = torch.randn(2, 32, 11, 13) * 30
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = _check("cpp", x, 2, True, rtol=1e-5, atol=1e-5)
    assert y.is_contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    xb = x.bfloat16()
    yb = lrn(xb, impl="cpp", groups=2, relu=True)
    assert yb.dtype == torch.bfloat16
    torch.testing.assert_close(yb.double(), formula64(xb.double(), groups=2, relu=True), rtol=8e-3, atol=8e-3)
    xr = x.detach().clone().requires_grad_()
    torch.nn.functional.max_pool2d(lrn(xr, impl="cpp", groups=2, relu=True), 3, 2).sum().backward()
    xf = x.detach().clone().requires_grad_()
    torch.nn.functional.max_pool2d(lrn(xf, impl="formula", groups=2, relu=True), 3, 2).sum().backward()
    torch.testing.assert_close(xr.grad, xf.grad, rtol=1e-5, atol=1e-6)


@needs_cpp
def test_cpp_impl_gradcheck_and_bad_input():
    x = (torch.randn(2, 6, 3, 3, dtype=torch.float64) * 10).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: lrn(t, impl="cpp", groups=2, relu=True), (x,))
    with pytest.raises(ValueError, match="groups"):
        lrn(x, impl="cpp", groups=4)
    with pytest.raises(ValueError, match="shape"):
        lrn(torch.zeros(2, 6, 3), impl="cpp")


def test_float32_impls_close_to_formula_and_to_each_other():
    torch.manual_seed(2)
    x = torch.randn(3, 96, 6, 6) * 20
    impls = ("reference", "formula", "hand_backward") + (("cpp",) if lrn_cpu.available() else ())
    ys = [_check(impl, x, 2, True, rtol=1e-5, atol=1e-5) for impl in impls]
    torch.testing.assert_close(ys[1], ys[2])


def test_torch_impl_gradcheck():
    x = (torch.randn(2, 6, 3, 3, dtype=torch.float64) * 10).requires_grad_()
    assert torch.autograd.gradcheck(lambda t: lrn_torch(t, groups=2, relu=True), (x,))


def test_module_impl_option_and_errors():
    x = torch.randn(2, 8, 3, 3) * 40
    ref = LocalResponseNorm()(x)
    for impl in ("formula", "hand_backward", "auto"):
        torch.testing.assert_close(LocalResponseNorm(impl=impl)(x), ref)
    assert "impl='hand_backward'" in repr(LocalResponseNorm(impl="hand_backward"))
    # the former name of the hand-written backward is still accepted, under its new name
    assert LocalResponseNorm(impl="torch").impl == "hand_backward"
    torch.testing.assert_close(lrn(x, impl="torch"), ref)
    with pytest.raises(ValueError, match="impl"):
        LocalResponseNorm(impl="cuda")
    with pytest.raises(ValueError, match="groups"):
        lrn(x, impl="hand_backward", groups=3)
    with pytest.raises(ValueError, match="impl"):
        lrn(x, impl="fast")
    assert set(LRN_IMPLS) >= {"reference", "triton", "compiled", "cpp"}


def test_auto_without_the_cpp_build_picks_hand_backward_on_small_cpu_tensors(monkeypatch):
    from alexnet.layers import resolve_lrn_impl

    monkeypatch.setitem(lrn_cpu._STATE, "broken", True)  # as on a machine whose build failed
    assert resolve_lrn_impl("auto", torch.zeros(1, 2, 1, 1)) == "hand_backward"
    assert resolve_lrn_impl("reference", torch.zeros(1, 2, 1, 1)) == "reference"
    # the formula keeps a channels-last input's layout (what a channels-last network wants)
    x = torch.randn(2, 8, 5, 5).contiguous(memory_format=torch.channels_last)
    assert lrn_torch(x, groups=2).is_contiguous(memory_format=torch.channels_last)


def test_auto_on_the_cpu(monkeypatch):
    import shutil

    from alexnet import layers

    big = torch.empty(8, 96, 55, 55)
    if lrn_cpu.available():  # the C++ loops for every dense float tensor, any size and dtype
        for t in (big, big.bfloat16(), big.contiguous(memory_format=torch.channels_last), torch.zeros(1, 2, 1, 1)):
            assert layers.resolve_lrn_impl("auto", t) == "cpp"
    assert layers.resolve_lrn_impl("auto", big[:, :, ::2]) == "hand_backward"  # not dense: eager
    monkeypatch.setitem(lrn_cpu._STATE, "broken", True)  # a build that failed once is not retried
    if any(shutil.which(c) for c in ("g++", "c++", "clang++")):
        assert layers.resolve_lrn_impl("auto", big) == "compiled"
    # in half precision the hand-written backward is the faster eager one (bench lrn --lrn-dtypes bfloat16)
    assert layers.resolve_lrn_impl("auto", big.bfloat16()) == "hand_backward"
    monkeypatch.setitem(layers._COMPILED, "cpu_broken", True)  # a compiler that failed once is not retried
    assert layers.resolve_lrn_impl("auto", big) == "hand_backward"


@pytest.mark.slow
def test_compiled_formula_equals_reference():
    torch.manual_seed(3)
    x = torch.randn(2, 16, 5, 5) * 30
    _check("compiled", x, 2, True, rtol=1e-5, atol=1e-5)


TRITON_SCRIPT = textwrap.dedent(r"""
    import json, torch
    from alexnet.kernels.lrn_triton import lrn_triton, triton_available
    from alexnet import AlexNet
    assert triton_available("cpu")
    import tests.test_fast_lrn as T
    out = {}
    torch.manual_seed(0)
    for dtype, tol in ((torch.float64, 1e-10), (torch.float32, 2e-5)):
        for groups, relu, cl, size in ((1, False, False, 5), (2, True, False, 5), (2, True, True, 5),
                                       (2, False, True, 3), (1, True, False, 4)):
            x = torch.randn(2, 10 * groups, 5, 7, dtype=dtype) * 30
            if cl:
                x = x.contiguous(memory_format=torch.channels_last)
            y = T._check("triton", x, groups, relu, size=size, rtol=tol, atol=tol)
            assert y.is_contiguous(memory_format=torch.channels_last) == cl or not cl
    # the whole fast model with the Triton LRN against the reference model
    torch.manual_seed(0)
    kw = dict(num_classes=5, widths=(8, 8, 8, 8, 8), fc=(8, 8), dropout=0.0)
    ref = AlexNet(**kw).double()
    fast = AlexNet(**kw, fast=True, lrn_impl="triton").double()
    fast.load_state_dict(ref.state_dict())
    x = torch.randn(1, 3, 227, 227, dtype=torch.float64) * 50
    y1, y2 = ref(x), fast(x)
    torch.testing.assert_close(y2, y1, rtol=1e-10, atol=1e-12)
    y1.square().sum().backward(); y2.square().sum().backward()
    for (name, p1), p2 in zip(ref.named_parameters(), fast.parameters()):
        torch.testing.assert_close(p2.grad, p1.grad, rtol=1e-9, atol=1e-12, msg=name)
    print("TRITON-OK")
""")


@pytest.mark.slow
def test_triton_kernels_under_interpreter_equal_formula():
    pytest.importorskip("triton")
    env = dict(os.environ, TRITON_INTERPRET="1", OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", TRITON_SCRIPT], cwd=root, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0 and "TRITON-OK" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-4000:]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-4), (torch.bfloat16, 3e-2)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_triton_on_gpu_equals_formula(dtype, tol, channels_last):
    pytest.importorskip("triton")
    torch.manual_seed(0)
    x = torch.randn(4, 96, 27, 27, device="cuda") * 20
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x = x.to(dtype).requires_grad_()
    y = lrn(x, impl="triton", groups=2, relu=True)
    assert y.dtype == dtype and y.is_contiguous(memory_format=torch.channels_last) == channels_last
    x64 = x.detach().double().requires_grad_()
    y64 = formula64(x64, groups=2, relu=True)
    torch.testing.assert_close(y.double(), y64.detach(), rtol=tol, atol=tol)
    g = torch.randn_like(y64)
    (dx,) = torch.autograd.grad(y, x, g.to(dtype))
    (dx64,) = torch.autograd.grad(y64, x64, g)
    torch.testing.assert_close(dx.double(), dx64, rtol=tol, atol=tol * dx64.abs().max().item())
    assert lrn_formula_torch  # imported for the GPU compile tests of the bench


@needs_cpp
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float64])
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("groups, channels, size, window", [(2, 96, 27, (3, 2)), (1, 24, 13, (2, 2)), (2, 16, 10, (3, 3))])
def test_fused_lrn_pool_is_bit_for_bit_the_two_layers(dtype, channels_last, groups, channels, size, window):
    """ReLU, LRN and max pooling in one C++ kernel (3.1, 3.3, 3.4): the same bits as the C++ LRN
    then torch's max pooling, forward and backward, ties (ReLU's zeros) and a NaN included."""
    from torch.nn.functional import max_pool2d

    torch.manual_seed(0)
    z = torch.randn(3, channels, size, size, dtype=dtype) * 3
    z[0, :, :5, :5] = -1.0  # a block of zeros after ReLU: every window there is a tie
    z[1, 3, 4, 4] = float("nan")
    if channels_last:
        z = z.contiguous(memory_format=torch.channels_last)
    a, b = z.clone().requires_grad_(), z.clone().requires_grad_()
    two = max_pool2d(lrn_cpu.lrn_cpp(a, groups=groups, relu=True), *window)
    fused = lrn_cpu.lrn_pool_cpp(b, groups=groups, relu=True, pool_size=window[0], pool_stride=window[1])
    g = torch.randn_like(two)
    two.backward(g)
    fused.backward(g)
    assert fused.stride() == two.stride() and b.grad.stride() == a.grad.stride()
    assert torch.equal(fused.nan_to_num(), two.nan_to_num()) and torch.equal(fused.isnan(), two.isnan())
    assert torch.equal(b.grad.nan_to_num(), a.grad.nan_to_num())
    assert fused.isnan().any() and (b.grad != 0).any()


@needs_cpp
def test_fused_lrn_pool_names_bad_input():
    with pytest.raises(RuntimeError, match="smaller than the pooling window"):
        lrn_cpu.lrn_pool_cpp(torch.randn(1, 4, 2, 2), pool_size=3, pool_stride=2)
    with pytest.raises(ValueError, match="split evenly into groups"):
        lrn_cpu.lrn_pool_cpp(torch.randn(1, 5, 8, 8), groups=2)


@needs_cpp
def test_fast_model_fuses_relu_lrn_and_pooling_on_the_cpu(monkeypatch):
    """AlexNet(fast=True) on the CPU sends conv1's and conv2's ReLU, LRN and pooling through the
    fused kernel (its outputs and gradients against the reference: tests/test_fast_model.py)."""
    from alexnet import AlexNet

    calls = []
    real = lrn_cpu.LRNPoolCppFunction.apply
    monkeypatch.setattr(lrn_cpu.LRNPoolCppFunction, "apply", lambda *a: calls.append(a[0].shape) or real(*a))
    model = AlexNet(num_classes=7, widths=(16, 32, 24, 24, 16), fc=(32, 32), fast=True)
    model(torch.randn(1, 3, 224, 224))
    assert calls == [torch.Size([1, 16, 55, 55]), torch.Size([1, 32, 27, 27])]
    calls.clear()
    AlexNet(num_classes=7, widths=(16, 32, 24, 24, 16), fc=(32, 32), fast=True, lrn_impl="hand_backward")(
        torch.randn(1, 3, 224, 224))
    assert calls == []  # another LRN implementation asked for: the layers one by one
