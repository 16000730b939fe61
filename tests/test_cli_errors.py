"""Bad input to ``python -m alexnet train`` gets one line naming the culprit and exit status 2, before
any training starts (issue 20's cases, each as a user would type it)."""
from __future__ import annotations

import pytest
import torch

from _train_utils import TINY, tiny_data
from alexnet.cli import main
from alexnet.data import make_synthetic


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))


@pytest.fixture()
def data(tmp_path):
    return tiny_data(tmp_path / "data")


def _one_line_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert "Traceback" not in captured.out + captured.err
    return err


def _train(data, tmp_path, *extra: str) -> list[str]:
    return ["train", "--data", str(data), "--out", str(tmp_path / "run"), *TINY, "--epochs", "1", *extra]


@pytest.mark.skipif(torch.cuda.is_available(), reason="the case is a machine without CUDA")
@pytest.mark.parametrize("spec, why", [
    ("cuda:0,cuda:1", "CUDA is not available"),
    ("cpu,cuda:0", "CUDA is not available"),
    ("foo,bar", "'foo' is not a device name"),
    ("cuda:0", "give two devices"),
])
def test_impossible_tower_devices_name_the_option(capsys, data, tmp_path, spec, why):
    err = _one_line_error(capsys, _train(data, tmp_path, "--tower-devices", spec))
    assert "--tower-devices" in err and why in err
    assert not (tmp_path / "run" / "last.pt").exists()


def test_a_cuda_index_beyond_the_machine_is_named(capsys, data, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a machine with one GPU
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    err = _one_line_error(capsys, _train(data, tmp_path, "--device", "cpu", "--tower-devices", "cuda:0,cuda:3"))
    assert "--tower-devices" in err and "cuda:3: this machine has 1 CUDA device (cuda:0)" in err
    err = _one_line_error(capsys, _train(data, tmp_path, "--device", "cuda:2"))
    assert "setting 'device'" in err and "has 1 CUDA device" in err


def test_a_data_folder_with_one_class_is_refused(capsys, tmp_path):
    one = make_synthetic(tmp_path / "one", num_classes=1, train_per_class=32, val_per_class=4, size=40, seed=1)
    err = _one_line_error(capsys, _train(one, tmp_path))
    assert str(one) in err and "at least two class folders" in err
    assert not (tmp_path / "run" / "metrics.jsonl").exists()  # no meaningless perfect score


@pytest.mark.parametrize("flag, value, named", [
    ("--momentum", "-1", "'momentum' = -1.0: must be in [0, 1)"),
    ("--momentum", "1", "'momentum' = 1.0: must be in [0, 1)"),
    ("--weight-decay", "-0.1", "'weight_decay' = -0.1: must be >= 0"),
    ("--lr", "-0.01", "'lr' = -0.01: must be >= 0"),
    ("--lr", "nan", "'lr' = nan: must be a finite number"),
    ("--lr", "inf", "'lr' = inf: must be a finite number"),
    ("--momentum", "nan", "'momentum' = nan: must be a finite number"),
    ("--width-mult", "nan", "'width_mult' = nan: must be a finite number"),
])
def test_each_optimisation_setting_is_named_on_its_own(capsys, data, tmp_path, flag, value, named):
    err = _one_line_error(capsys, _train(data, tmp_path, flag, value))
    assert named in err
    assert not (tmp_path / "run").exists()  # rejected before anything was written


def test_a_diverged_run_without_a_checkpoint_says_so_plainly(capsys, data, tmp_path):
    err = _one_line_error(capsys, _train(data, tmp_path, "--lr", "1e30", "--checkpoint-every", "0"))
    assert "loss became" in err and "no checkpoint was written yet" in err and "last good checkpoint" not in err
    assert "Try a lower --lr (now 1e+30)" in err
