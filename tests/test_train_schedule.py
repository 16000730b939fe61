"""Section 5's learning-rate heuristic: divide by 10 when the validation error stops improving."""
import pytest
import torch

from alexnet.optim import PaperSGD
from alexnet.training.schedule import PlateauSchedule, StepSchedule, make_schedule


def _opt(lr=0.01):
    return PaperSGD([torch.nn.Parameter(torch.zeros(2))], lr=lr)


def test_plateau_divides_by_ten_after_patience_and_at_most_three_times():
    opt = _opt()
    s = PlateauSchedule(opt, patience=2, max_reductions=3)
    lrs = []
    for err in [0.9, 0.8, 0.8, 0.85] + [0.8] * 20:
        s.step(err)
        lrs.append(s.lr)
    assert lrs[:4] == [0.01, 0.01, 0.01, pytest.approx(0.001)]
    assert s.reductions == 3
    assert lrs[-1] == pytest.approx(1e-5)  # 0.01 / 10**3, never lower


def test_plateau_improvement_resets_patience():
    s = PlateauSchedule(_opt(), patience=2)
    for err in [0.9, 0.9, 0.8, 0.8, 0.7, 0.7]:
        assert not s.step(err)
    assert s.lr == 0.01


def test_plateau_state_round_trip_continues_identically():
    a = PlateauSchedule(_opt(), patience=2)
    for err in [0.5, 0.6]:
        a.step(err)
    b = PlateauSchedule(_opt(), patience=2)
    b.load_state_dict(a.state_dict())
    assert a.step(0.6) and b.step(0.6)


def test_momentum_buffer_untouched_by_a_reduction():
    p = torch.nn.Parameter(torch.ones(3))
    opt = PaperSGD([p], lr=0.1)
    p.grad = torch.ones(3)
    opt.step()
    v = opt.state[p]["momentum_buffer"].clone()
    s = PlateauSchedule(opt, patience=1)
    s.step(1.0)
    s.step(1.0)
    assert s.lr == pytest.approx(0.01)
    assert torch.equal(opt.state[p]["momentum_buffer"], v)


def _stepped(schedule):
    opt = schedule.optimizer
    opt.param_groups[0]["params"][0].grad = torch.zeros(2)
    opt.step()  # as in training: the optimiser steps before the schedule does
    return schedule


def _hand_rule(errors, patience, max_reductions, lr=0.01, factor=0.1):
    """Section 5's rule written out: the rates a plateau schedule must give, epoch by epoch."""
    best, bad, drops, lrs = float("inf"), 0, 0, []
    for err in errors:
        best, bad = (err, 0) if err < best else (best, bad + 1)
        if bad >= patience and drops < max_reductions:
            lr, bad, drops = lr * factor, 0, drops + 1
        lrs.append(lr)
    return lrs


def test_plateau_on_torch_gives_the_rates_of_the_hand_written_rule():
    g = torch.Generator().manual_seed(0)
    for patience in (1, 2, 3):
        errors = (torch.rand(40, generator=g) * 0.1 + torch.linspace(0.9, 0.3, 40)).tolist()
        s = PlateauSchedule(_opt(), patience=patience, max_reductions=3)
        got = []
        for err in errors:
            s.step(err)
            got.append(s.lr)
        assert got == _hand_rule(errors, patience, 3)  # the same floats, not just close


def test_schedule_states_written_before_the_torch_schedulers_still_load():
    s = PlateauSchedule(_opt(), patience=2)
    s.load_state_dict({"kind": "plateau", "best": 0.5, "bad_epochs": 1, "cooldown_left": 0, "reductions": 2})
    assert s.step(0.6) and s.reductions == 3 and s.lr == pytest.approx(0.001)
    assert not any(s.step(0.9) for _ in range(6))  # three reductions at most
    assert s.state_dict() == {"kind": "plateau", "best": 0.5, "bad_epochs": 0, "cooldown_left": 0, "reductions": 3}
    t = _stepped(StepSchedule(_opt(), step_size=2, max_reductions=3))
    t.load_state_dict({"kind": "step", "epochs": 3, "reductions": 1})
    assert t.step() and t.lr == pytest.approx(0.001) and t.state_dict() == {"kind": "step", "epochs": 4, "reductions": 2}


def test_step_schedule_and_errors():
    s = _stepped(StepSchedule(_opt(), step_size=2, max_reductions=1))
    assert [s.step() for _ in range(6)] == [False, True, False, False, False, False]
    with pytest.raises(ValueError, match="patience"):
        PlateauSchedule(_opt(), patience=0)
    with pytest.raises(ValueError, match="plateau' or 'step"):
        make_schedule("cosine", _opt())
