"""Section 5's update rule: v <- m v - wd lr w - lr g; w <- w + v."""
import pytest
import torch

from alexnet import PaperSGD


def hand_update(w, v, g, lr, m=0.9, wd=5e-4):
    v = m * v - wd * lr * w - lr * g
    return w + v, v


@pytest.mark.parametrize("foreach", [False, True])
def test_paper_sgd_matches_hand_computation_across_lr_change(foreach):
    torch.manual_seed(0)
    w0 = torch.randn(5, 3, dtype=torch.float64)
    grads = [torch.randn(5, 3, dtype=torch.float64) for _ in range(6)]
    lrs = [0.01, 0.01, 0.01, 0.001, 0.001, 0.0001]  # divided by 10 twice, as in the paper
    p = torch.nn.Parameter(w0.clone())
    opt = PaperSGD([p], lr=0.01, foreach=foreach)
    w, v = w0.clone(), torch.zeros_like(w0)
    for g, lr in zip(grads, lrs):
        for group in opt.param_groups:
            group["lr"] = lr
        p.grad = g.clone()
        opt.step()
        w, v = hand_update(w, v, g, lr)
        torch.testing.assert_close(p.data, w, rtol=0, atol=1e-15)


def test_paper_sgd_differs_from_torch_sgd_after_lr_change_only():
    torch.manual_seed(0)
    w0 = torch.randn(10, dtype=torch.float64)
    grads = [torch.randn(10, dtype=torch.float64) for _ in range(4)]
    a = torch.nn.Parameter(w0.clone())
    b = torch.nn.Parameter(w0.clone())
    ours = PaperSGD([a], lr=0.01)
    theirs = torch.optim.SGD([b], lr=0.01, momentum=0.9, weight_decay=5e-4)
    for step, g in enumerate(grads):
        if step == 2:
            for opt in (ours, theirs):
                opt.param_groups[0]["lr"] = 0.001
        a.grad, b.grad = g.clone(), g.clone()
        ours.step()
        theirs.step()
        if step < 2:  # constant learning rate: the two rules agree
            torch.testing.assert_close(a.data, b.data, rtol=1e-12, atol=1e-14)
    assert (a.data - b.data).abs().max() > 1e-6  # after the change they do not


def test_paper_sgd_state_dict_roundtrip_and_skips_none_grads():
    p, q = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    opt = PaperSGD([p, q])
    p.grad = torch.ones(3)
    opt.step()
    assert torch.equal(q.data, torch.ones(3))
    opt2 = PaperSGD([p, q])
    opt2.load_state_dict(opt.state_dict())
    torch.testing.assert_close(opt2.state[p]["momentum_buffer"], opt.state[p]["momentum_buffer"])


def test_paper_sgd_rejects_bad_hyperparameters():
    p = [torch.nn.Parameter(torch.ones(1))]
    with pytest.raises(ValueError, match="lr"):
        PaperSGD(p, lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        PaperSGD(p, momentum=1.5)


needs_cpp = pytest.mark.skipif(not __import__("alexnet.kernels.sgd_cpu", fromlist=["x"]).available(),
                               reason="the C++ update needs a C++ compiler and ninja")


def _paired_updates(shapes, channels_last, wd, steps=4):
    """The same float32 parameters and gradients through the torch calls and the C++ loop."""
    torch.manual_seed(0)
    ps = [torch.randn(s) for s in shapes]
    if channels_last:
        ps = [p.contiguous(memory_format=torch.channels_last) if p.dim() == 4 else p for p in ps]
    a = [torch.nn.Parameter(p.clone()) for p in ps]
    b = [torch.nn.Parameter(p.clone()) for p in ps]
    opts = PaperSGD(a, lr=0.01, weight_decay=wd, cpp=False), PaperSGD(b, lr=0.01, weight_decay=wd, cpp=True)
    for step in range(steps):
        for x, y in zip(a, b):
            g = torch.randn_like(x)
            x.grad, y.grad = g.clone(), g.clone()
        if step == 2:  # a change of rate, as the schedule makes
            for opt in opts:
                opt.param_groups[0]["lr"] = 0.001
        for opt in opts:
            opt.step()
    return a, b, opts


@needs_cpp
@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("wd", [5e-4, 0.0])
def test_cpp_update_is_bit_for_bit_the_torch_calls(channels_last, wd):
    shapes = [(96, 3, 11, 11), (96,), (300, 517), (17,), (3, 5, 7, 9), (1,)]
    a, b, (oa, ob) = _paired_updates(shapes, channels_last, wd)
    for x, y in zip(a, b):
        assert x.stride() == y.stride()
        assert torch.equal(x, y)
        assert torch.equal(oa.state[x]["momentum_buffer"], ob.state[y]["momentum_buffer"])
    assert not torch.equal(a[0], _paired_updates(shapes, channels_last, wd, steps=3)[0][0])  # the steps did move it


@needs_cpp
def test_cpp_update_leaves_other_tensors_to_torch_and_loads_old_state_dicts():
    p = torch.nn.Parameter(torch.ones(4, dtype=torch.float64))  # not float32: the torch calls
    q = torch.nn.Parameter(torch.ones(6, 4)[:, :2])  # not dense: the torch calls
    r = torch.nn.Parameter(torch.ones(5))
    opt = PaperSGD([p, q, r], lr=0.1, cpp=True)
    for t in (p, q, r):
        t.grad = torch.ones_like(t)
    opt.step()
    for t in (p, q, r):  # v = -wd lr w - lr g = -0.00005 - 0.1
        torch.testing.assert_close(t.data, torch.full_like(t, 1 - 0.10005))
    state = opt.state_dict()
    for group in state["param_groups"]:
        del group["cpp"]  # as saved before the option existed
    again = PaperSGD([p, q, r], lr=0.1)
    again.load_state_dict(state)
    again.step()
    assert torch.allclose(r.data, torch.full_like(r, 1 - 0.10005 + 0.9 * -0.10005 - 0.1 * (1 - 0.10005) * 5e-4 - 0.1))
