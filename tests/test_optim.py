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
