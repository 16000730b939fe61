"""The fast path computes the paper's network (Section 3) exactly: outputs and gradients against
the reference two-tower model, with the same parameters and state dict."""
import pytest
import torch

from alexnet import AlexNet, PaperSGD, fast, summary
from alexnet.bench import variants

SMALL = dict(num_classes=7, widths=(16, 32, 24, 24, 16), fc=(32, 32))


def _pair(fast, lrn_impl=None, dtype=torch.float64, **kw):
    """The reference and, with its parameters, ``AlexNet(fast=fast)`` or a bench variant by name."""
    torch.manual_seed(0)
    ref = AlexNet(**kw).to(dtype)
    if isinstance(fast, str) and fast.startswith("ours"):
        other = variants.build(fast, lrn_impl=lrn_impl, **kw).to(dtype)
    else:
        other = AlexNet(**kw, fast=fast, lrn_impl=lrn_impl).to(dtype)
    other.load_state_dict(ref.state_dict())
    return ref, other


def _assert_same_step(ref, other, x, rtol=1e-9, atol=1e-12, seed=5):
    torch.manual_seed(seed)
    y1 = ref(x)
    torch.manual_seed(seed)
    y2 = other(x)
    torch.testing.assert_close(y2, y1, rtol=rtol, atol=atol)
    (y1 * torch.linspace(-1, 1, y1.shape[1], dtype=y1.dtype)).square().sum().backward()
    (y2 * torch.linspace(-1, 1, y2.shape[1], dtype=y2.dtype)).square().sum().backward()
    for (name, p1), p2 in zip(ref.named_parameters(), other.parameters()):
        torch.testing.assert_close(p2.grad, p1.grad, rtol=rtol, atol=atol * 10, msg=name)


@pytest.mark.parametrize("fast", [True, "ours_split", "ours_dense"])
@pytest.mark.parametrize("lrn_impl", ["reference", "hand_backward", "formula"])
def test_fast_paths_equal_reference_float64_train_with_dropout(fast, lrn_impl):
    ref, other = _pair(fast, lrn_impl, **SMALL)
    x = torch.randn(2, 3, 224, 224, dtype=torch.float64) * 40
    # dropout draws the same masks: the classifier is shared, one mask per tower as in 4.2
    _assert_same_step(ref.train(), other.train(), x)


def test_full_paper_model_fast_equals_reference_eval_and_channels_last():
    torch.manual_seed(0)
    ref = AlexNet(num_classes=10)
    fast = AlexNet(num_classes=10, fast=True)
    fast.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3, 227, 227) * 50
    with torch.no_grad():
        y = ref.eval()(x)
        torch.testing.assert_close(fast.eval()(x), y, rtol=1e-4, atol=1e-5)
        fast_cl = fast.to(memory_format=torch.channels_last)
        torch.testing.assert_close(fast_cl(x.contiguous(memory_format=torch.channels_last)), y,
                                   rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kwargs", [dict(), dict(towers=1), dict(lrn=False), dict(activation="tanh"),
                                    dict(pool="non-overlapping"), dict(conv1_padding=2, adaptive_pool=True),
                                    dict(conv4=False)])
def test_fast_path_variants_equal_reference(kwargs):
    cfg = dict(SMALL, dropout=0.0, **kwargs)
    if kwargs.get("towers") == 1:
        cfg["widths"] = (8, 16, 12, 12, 16)
    ref, other = _pair(True, None, **cfg)
    _assert_same_step(ref.train(), other.train(), torch.randn(1, 3, 224, 224, dtype=torch.float64) * 40)


def test_fast_model_keeps_layout_summary_and_state_dict():
    ref, fast = _pair(True, dtype=torch.float32)
    assert fast.fast is True and fast.lrn_impl == "auto" and ref.fast is False and ref.lrn_impl == "reference"
    assert list(fast.state_dict()) == list(ref.state_dict())
    assert fast.towers[1].conv2.weight.shape == (128, 48, 5, 5)
    assert summary(fast, 224).equals(summary(ref, 224))


def test_fast_path_falls_back_where_it_cannot_apply():
    # uneven towers (kernels not divisible by two) cannot be one grouped convolution
    ref, odd = _pair(True, **dict(SMALL, widths=(15, 31, 23, 23, 15)))
    assert not fast.path_ok(odd)
    x = torch.randn(1, 3, 227, 227, dtype=torch.float64)
    torch.testing.assert_close(odd.eval()(x), ref.eval()(x))
    # two devices: the reference's cross-device forward (same device twice still takes the fast path)
    placed = AlexNet(**SMALL, fast=True).place(["cpu", "cpu"])
    assert fast.path_ok(placed)


def test_fast_training_step_with_paper_sgd_matches_reference():
    ref, fast = _pair(True, "hand_backward", dtype=torch.float32, **dict(SMALL, dropout=0.0))
    opts = [PaperSGD(m.parameters(), lr=0.01) for m in (ref, fast)]
    x = torch.randn(4, 3, 224, 224) * 30
    t = torch.randint(0, 7, (4,))
    for _ in range(2):
        for m, opt in zip((ref, fast), opts):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(m(x), t).backward()
            opt.step()
    for p1, p2 in zip(ref.parameters(), fast.parameters()):
        torch.testing.assert_close(p2, p1, rtol=1e-4, atol=1e-6)


def test_bad_fast_options_name_the_parameter():
    with pytest.raises(ValueError, match="fast"):
        AlexNet(fast="streams")
    with pytest.raises(ValueError, match="fast must be False or True"):
        AlexNet(fast=1)
    for moved in ("split", "dense"):  # the benchmark's tower strategies: named where they went
        with pytest.raises(ValueError, match=f"alexnet.bench.variants.build\\('ours_{moved}'\\)"):
            AlexNet(fast=moved)
    assert AlexNet(fast="grouped").fast is True  # the former name of the fast path, still accepted
    with pytest.raises(ValueError, match="lrn_impl"):
        AlexNet(fast=True, lrn_impl="cudnn")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("fast", ["ours", "ours_split", "ours_dense"])
def test_fast_model_on_gpu_bf16_channels_last_close_to_reference(fast):
    torch.manual_seed(0)
    ref = AlexNet(num_classes=100, dropout=0.0).cuda()
    other = variants.build(fast, num_classes=100, dropout=0.0).cuda().to(memory_format=torch.channels_last)
    other.load_state_dict(ref.state_dict())
    x = torch.randn(8, 3, 224, 224, device="cuda") * 50
    y1 = ref(x)
    y1.square().sum().backward()
    with torch.autocast("cuda", torch.bfloat16):
        y2 = other(x.contiguous(memory_format=torch.channels_last))
    y2.float().square().sum().backward()
    scale = y1.abs().max().item()
    torch.testing.assert_close(y2.float(), y1, rtol=5e-2, atol=5e-2 * scale)
    for (name, p1), p2 in zip(ref.named_parameters(), other.parameters()):
        rel = (p2.grad - p1.grad).norm() / p1.grad.norm().clamp_min(1e-12)
        assert rel < 0.1, (name, rel.item())


def test_model_imports_the_fast_path_and_not_the_other_way():
    import ast
    import pathlib

    import alexnet.fast

    tree = ast.parse(pathlib.Path(alexnet.fast.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(m and m.split(".")[-1] == "model" for m in imported), imported
