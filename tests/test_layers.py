"""Section 3.3 (LRN) and Section 4.2 (dropout) against the paper's formulas."""
import pytest
import torch

from alexnet import LocalResponseNorm, PaperDropout


def lrn_formula(a: torch.Tensor, n=5, alpha=1e-4, beta=0.75, k=2.0) -> torch.Tensor:
    """The paper's formula written out channel by channel, in float64."""
    a = a.double()
    N = a.shape[1]
    out = torch.empty_like(a)
    for i in range(N):
        lo, hi = max(0, i - n // 2), min(N - 1, i + n // 2)
        s = (a[:, lo : hi + 1] ** 2).sum(dim=1)
        out[:, i] = a[:, i] / (k + alpha * s) ** beta
    return out


@pytest.mark.parametrize("channels", [1, 3, 5, 7, 96])
def test_lrn_matches_paper_formula_including_edges(channels):
    torch.manual_seed(0)
    x = torch.randn(2, channels, 4, 5, dtype=torch.float64) * 30  # large so the sum matters
    got = LocalResponseNorm()(x)
    torch.testing.assert_close(got, lrn_formula(x), rtol=1e-12, atol=1e-12)


def test_lrn_float32_close_to_formula():
    x = torch.randn(3, 96, 6, 6) * 20
    torch.testing.assert_close(LocalResponseNorm()(x).double(), lrn_formula(x), rtol=1e-5, atol=1e-6)


def test_lrn_alpha_is_not_divided_by_size():
    x = torch.randn(2, 8, 3, 3) * 50
    ours = LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)(x)
    torch_same = torch.nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)(x)
    torch_naive = torch.nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)(x)
    torch.testing.assert_close(ours, torch_same)
    assert not torch.allclose(ours, torch_naive)


def test_lrn_gradcheck():
    x = (torch.randn(2, 7, 3, 3, dtype=torch.float64) * 10).requires_grad_()
    assert torch.autograd.gradcheck(LocalResponseNorm(), (x,))
    # and the analytic gradient of the reference equals the formula's autograd gradient
    y = torch.randn_like(x)
    (g1,) = torch.autograd.grad((LocalResponseNorm()(x) * y).sum(), x)
    (g2,) = torch.autograd.grad((lrn_formula(x) * y).sum(), x)
    torch.testing.assert_close(g1, g2)


def test_lrn_rejects_bad_parameters():
    with pytest.raises(ValueError, match="size"):
        LocalResponseNorm(size=0)
    with pytest.raises(ValueError, match="k must be"):
        LocalResponseNorm(k=0.0)


def test_paper_dropout_train_zeroes_without_scaling_and_test_halves():
    torch.manual_seed(0)
    d = PaperDropout(0.5, "paper").train()
    x = torch.ones(100_000)
    y = d(x)
    assert set(y.unique().tolist()) == {0.0, 1.0}
    assert abs((y == 0).float().mean().item() - 0.5) < 0.01
    d.eval()
    assert torch.equal(d(x), x * 0.5)


@pytest.mark.parametrize("p", [0.5, 0.2])
def test_paper_and_inverted_dropout_give_same_expected_activation_relative_to_test(p):
    torch.manual_seed(1)
    x = torch.rand(400_000) + 0.5
    for mode in ("paper", "inverted"):
        d = PaperDropout(p, mode)
        train_mean = d.train()(x).mean()
        test_mean = d.eval()(x).mean()
        # E[train output] == test output, for both conventions
        assert abs(train_mean / test_mean - 1) < 0.01, mode
    # the two conventions' test outputs differ by exactly the factor 1-p
    ratio = PaperDropout(p, "paper").eval()(x) / PaperDropout(p, "inverted").eval()(x)
    torch.testing.assert_close(ratio, torch.full_like(x, 1 - p))


def test_dropout_rejects_bad_arguments():
    with pytest.raises(ValueError, match="p must be"):
        PaperDropout(1.0)
    with pytest.raises(ValueError, match="mode"):
        PaperDropout(0.5, "scaled")


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_lrn_reference_runs_in_half_precision_on_the_cpu(dtype):
    """A whole model cast to bf16/fp16 on the CPU must not fail in LRN (torch's CPU avg_pool3d has
    no half-precision kernel); the result is the float32 formula rounded to the dtype."""
    x = (torch.randn(2, 8, 3, 3) * 20).to(dtype).requires_grad_()
    y = LocalResponseNorm()(x)
    assert y.dtype == dtype
    torch.testing.assert_close(y.double(), lrn_formula(x.detach().float()).to(dtype).double(), rtol=1e-2, atol=1e-2)
    y.float().sum().backward()
    assert x.grad is not None and x.grad.dtype == dtype
