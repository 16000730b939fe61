"""Data parallelism (torchrun, gloo on the CPU): two processes train like one on the same global batch."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from _train_utils import ROOT, TINY, cli, env, metrics, tiny_data, weights
from alexnet.training.distributed import DistInfo, all_reduce_sum, setup

pytestmark = pytest.mark.slow


def test_single_process_helpers_are_no_ops(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    info = setup()
    assert info == DistInfo() and info.is_main and not info.enabled
    assert all_reduce_sum([1.0, 2.0], info) == [1.0, 2.0]


def test_two_gloo_processes_match_one_process(tmp_path):
    data = tiny_data(tmp_path / "data")
    # dropout off: the two layouts draw different masks; everything else (order, crops, flips,
    # PCA lighting) is drawn per image and therefore identical
    args = ["train", "--data", str(data), *TINY, "--epochs", "2", "--steps-per-epoch", "3", "--dropout", "0",
            "--checkpoint-every", "2"]
    two = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "alexnet",
         *args, "--out", str(tmp_path / "two")],
        env=env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    one = cli(*args, "--out", str(tmp_path / "one"))
    out_two = two.communicate(timeout=600)[0]
    assert one.returncode == 0, one.stderr
    assert two.returncode == 0, out_two[-3000:]
    assert "(2 processes)" in out_two
    assert out_two.count("epoch 2/2: train loss") == 1  # only rank 0 prints ...
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())
    a, b = weights(tmp_path / "one" / "last.pt"), weights(tmp_path / "two" / "last.pt")
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=1e-5, atol=1e-7, msg=k)
    for ra, rb in zip(metrics(tmp_path / "one"), metrics(tmp_path / "two")):
        assert ra["step"] == rb["step"] and ra["val_top1_error"] == rb["val_top1_error"]
        assert ra["train_loss"] == pytest.approx(rb["train_loss"], rel=1e-5)
        assert ra["val_loss"] == pytest.approx(rb["val_loss"], rel=1e-5)
