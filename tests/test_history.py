"""The one history schema of both training loops (EpochRecord): round trip, clear errors, and what
the streaming loop (metrics.jsonl) and the in-memory loop of the CIFAR-10 ablations write."""
from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from _train_utils import tiny_config, tiny_data
from alexnet.errors import AlexNetError
from alexnet.experiments.in_memory import InMemoryConfig, InMemoryHistory, fit_in_memory
from alexnet.data.tensors import TensorData
from alexnet.small_nets import CifarNet
from alexnet.training import EpochRecord, read_metrics, train
from alexnet.training.history import OPTIONAL_KEYS, REQUIRED_KEYS

ROOT = Path(__file__).resolve().parent.parent
#: The keys of every line the streaming loop writes, in order (committed runs must keep reading the same).
STREAMING_KEYS = ["epoch", "step", "lr", "train_loss", "train_top1_error", "train_top5_error", "val_loss",
                  "val_top1_error", "val_top5_error", "lr_reduced", "next_lr", "model", "loader", "images_per_s",
                  "epoch_time_s", "step_images_per_s", "step_time_s", "data_wait_s", "val_time_s",
                  "val_images_per_s", "cpu_cores_used", "wall_time_s"]


def _in_memory_record(**over) -> EpochRecord:
    values = dict(epoch=0.25, step=3, lr=0.01, train_loss=2.1, train_top1_error=0.8, train_top5_error=None,
                  val_loss=None, val_top1_error=None, val_top5_error=None, wall_time_s=1.5)
    values.update(over)
    return EpochRecord(**values)


def test_round_trip_keeps_required_nones_and_drops_unset_optional_fields():
    r = _in_memory_record()
    d = r.to_dict()
    assert list(d) == list(REQUIRED_KEYS)  # not-measured values stay, as null
    assert d["val_top1_error"] is None and "lr_reduced" not in d
    assert EpochRecord.from_dict(json.loads(json.dumps(d))) == r
    full = replace(r, epoch=1, val_top1_error=0.7, lr_reduced=False, next_lr=0.001, model="fast", cpu_cores_used=1.5)
    assert EpochRecord.from_dict(json.loads(json.dumps(full.to_dict()))) == full
    assert full.to_dict()["lr_reduced"] is False  # False is a value, not "unset"
    assert set(REQUIRED_KEYS) | set(OPTIONAL_KEYS) == set(STREAMING_KEYS)


def test_a_missing_or_unknown_key_is_named():
    d = _in_memory_record().to_dict()
    del d["train_loss"]
    with pytest.raises(AlexNetError, match="run/metrics.jsonl, line 3: missing key 'train_loss'"):
        EpochRecord.from_dict(d, "run/metrics.jsonl, line 3")
    with pytest.raises(AlexNetError, match="unknown key 'top1'"):
        EpochRecord.from_dict({**_in_memory_record().to_dict(), "top1": 0.5})
    with pytest.raises(AlexNetError, match="expected a JSON object"):
        EpochRecord.from_dict([1, 2])


def test_committed_streaming_metrics_parse_and_read_back_unchanged():
    path = ROOT / "results" / "imagenette" / "metrics.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    assert lines
    for row in lines:
        assert EpochRecord.from_dict(row).to_dict() == row and list(EpochRecord.from_dict(row).to_dict()) == list(row)
    assert read_metrics(path.parent) == lines
    assert [r["epoch"] for r in lines] == list(range(1, len(lines) + 1))


def test_read_metrics_names_the_file_and_line_of_a_bad_record(tmp_path):
    good = json.dumps(_in_memory_record(epoch=1).to_dict())
    (tmp_path / "metrics.jsonl").write_text(good + "\n" + json.dumps({"epoch": 2}) + "\n")
    with pytest.raises(AlexNetError, match=r"metrics.jsonl, line 2: missing key 'step'"):
        read_metrics(tmp_path)
    (tmp_path / "metrics.jsonl").write_text(good + "\n{not json\n")
    with pytest.raises(AlexNetError, match=r"metrics.jsonl, line 2: not JSON"):
        read_metrics(tmp_path)


def test_streaming_loop_writes_the_same_keys_as_before(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    run = train(tiny_config(tiny_data(tmp_path / "data"), tmp_path / "run", epochs=1))
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(rows) == 1 and list(rows[0]) == STREAMING_KEYS
    r = EpochRecord.from_dict(rows[0])
    assert r.epoch == 1 and r.step == 4 and r.model == "fast" and r.val_top5_error is not None
    assert read_metrics(run) == rows


def _two_classes(n: int = 256) -> TensorData:
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randint(0, 60, (n, 3, 12, 12), generator=g, dtype=torch.uint8)
    x[y == 1, 0] += 150
    return TensorData(x, y, x[:64].clone(), y[:64].clone(), ["a", "b"], "two classes", True, "")


def test_in_memory_loop_keeps_one_record_per_check_with_the_test_error_at_epoch_ends():
    torch.manual_seed(0)
    cfg = InMemoryConfig(epochs=2, lr=0.01, batch_size=32, lr_drop_at=0.5, checks_per_epoch=4)
    h = fit_in_memory(CifarNet(2, widths=(4, 4, 8), input_size=12), _two_classes(), cfg, seed=1)
    assert isinstance(h, InMemoryHistory) and all(isinstance(r, EpochRecord) for r in h.records)
    assert [r.epoch for r in h.records] == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0]
    assert [r.step for r in h.records] == [2, 4, 6, 8, 10, 12, 14, 16]  # 8 steps of 32 per epoch
    assert [r.lr for r in h.records] == [0.01] * 4 + [0.001] * 4  # divided by 10 half-way
    assert [r.epoch for r in h.records if r.val_top1_error is not None] == [1.0, 2.0]
    assert all(r.train_top5_error is None and r.val_loss is None and r.val_top5_error is None for r in h.records)
    assert all(0 <= r.train_top1_error <= 1 and math.isfinite(r.train_loss) for r in h.records)
    for r in h.records:  # through JSON and back
        assert EpochRecord.from_dict(json.loads(json.dumps(r.to_dict()))) == r
    # the experiments' record payloads, derived from the records
    assert h.train_curve() == [[r.epoch, r.train_top1_error, r.train_loss] for r in h.records]
    assert [c[:2] for c in h.test_curve()] == [[1.0, h.records[3].val_top1_error], [2.0, h.final_test_error]]
    assert h.test_curve()[1][2] == h.records[-1].wall_time_s
    assert h.epochs_trained == 2.0 and h.epochs_to_target is None and not h.diverged and h.seed == 1
