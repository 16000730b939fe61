"""Section 6's error rates: top-1/top-5, centre crop and ten patches, ensembles, per-class errors."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from _train_utils import tiny_config, tiny_data
from alexnet.cli import main
from alexnet.errors import AlexNetError
from alexnet.evaluate import confused_pairs, evaluate, per_class_errors, topk_errors
from alexnet.training import train


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_data(tmp_path_factory.mktemp("data") / "synthetic")


@pytest.fixture(scope="module")
def runs(data, tmp_path_factory) -> list[Path]:
    base = tmp_path_factory.mktemp("runs")
    return [train(tiny_config(data, base / f"seed{s}", seed=s, epochs=1, init="torch")) for s in (1, 2)]


def test_topk_errors_by_hand():
    probs = torch.tensor([[0.1, 0.2, 0.3, 0.4, 0.0, 0.0],   # label 3: top-1 hit
                          [0.5, 0.1, 0.1, 0.1, 0.1, 0.1],   # label 1: in the top 5 (ties), not top-1
                          [0.0, 0.0, 0.0, 0.1, 0.2, 0.7]])  # label 0: lowest score, outside the top 5
    labels = torch.tensor([3, 1, 0])
    errs = topk_errors(probs, labels)
    assert errs["top1_error"] == pytest.approx(2 / 3)
    assert errs["top5_error"] == pytest.approx(1 / 3)


def test_per_class_and_confusions_by_hand():
    probs = torch.eye(3)[[0, 1, 1, 2, 0, 1]]  # predictions
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    rows = {r["class"]: r for r in per_class_errors(probs, labels, ["a", "b", "c"])}
    assert rows["a"]["top1_error"] == 0.5 and rows["b"]["top1_error"] == 0.0
    assert rows["c"]["top1_error"] == pytest.approx(2 / 3)
    pairs = confused_pairs(probs, labels, ["a", "b", "c"])
    assert {(p["true"], p["predicted"], p["count"]) for p in pairs} == {("a", "b", 1), ("c", "a", 1), ("c", "b", 1)}


def test_single_model_centre_and_ten_crop(runs, data):
    result = evaluate(runs[0], data, ten_crop=True, workers=0)
    m = result["models"][0]
    assert m["checkpoint"].endswith("best.pt")
    for view in ("centre", "ten_crop"):
        assert 0 <= m[view]["top1_error"] <= 1 and m[view]["top5_error"] <= m[view]["top1_error"]
    assert result["ensemble"] is None
    assert result["data"]["images"] == 16 and result["data"]["classes"] == 4
    assert "SYNTHETIC" in result["data"]["description"]
    assert result["headline"]["view"] == "ten_crop"
    assert sum(r["images"] for r in result["per_class"]) == 16
    json.dumps(result)  # JSON-ready


def test_ensemble_averages_softmax(runs, data):
    """The ensemble's prediction is the mean of the members' softmax outputs (Table 2, "5 CNNs")."""
    from alexnet.training.checkpoint import load_model
    from alexnet.data import build_eval_dataset

    result = evaluate(runs, data, workers=0)
    assert result["ensemble"]["members"] == 2 and len(result["models"]) == 2
    ds = build_eval_dataset(data, resize=72, crop=67)
    x = torch.stack([ds[i][0] for i in range(len(ds))])
    y = torch.tensor([ds[i][1] for i in range(len(ds))])
    with torch.no_grad():
        probs = sum(torch.softmax(load_model(r / "best.pt")(x), 1) for r in runs) / 2
    assert result["ensemble"]["centre"] == topk_errors(probs, y)


def test_evaluate_cli_writes_json(runs, data, tmp_path, capsys):
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--data", str(data), "--checkpoint", str(runs[0] / "last.pt"), "--ensemble",
                 str(runs[1]), "--ten-crop", "--workers", "0", "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "ensemble of 2" in printed and "ten_crop" in printed and "top-1 err" in printed
    result = json.loads(out.read_text())
    assert set(result["ensemble"]) == {"members", "centre", "ten_crop"}
    assert result["confused_pairs"] is not None and result["per_class"]


def test_wrong_class_count_is_one_clear_error(runs, tmp_path):
    from alexnet.data import make_synthetic

    other = make_synthetic(tmp_path / "six", num_classes=6, train_per_class=2, val_per_class=1, size=40)
    with pytest.raises(AlexNetError, match="trained on 4 classes"):
        evaluate(runs[0], other, workers=0)


@pytest.mark.skipif(not os.environ.get("ALEXNET_DATA") or not (Path(os.environ.get("ALEXNET_DATA", "/")) / "cifar10").is_dir(),
                    reason="needs $ALEXNET_DATA/cifar10")
def test_train_and_evaluate_on_cifar10(tmp_path):
    """The commands work on the real CIFAR-10 JPEG folders (a few images per class)."""
    root = Path(os.environ["ALEXNET_DATA"]) / "cifar10"
    run = train(tiny_config(root, tmp_path / "cifar", max_per_class=4, resize=72, epochs=1, batch_size=8))
    assert json.loads((run / "config.json").read_text())["data"]["classes"] == 10
    result = evaluate(run, root, ten_crop=True, max_per_class=3, workers=0)
    assert result["data"]["images"] == 30 and "CIFAR-10" in result["data"]["description"]
    assert result["models"][0]["ten_crop"]["top5_error"] <= 1


def test_evaluation_subtracts_the_training_mean_even_without_a_train_split(runs, data, tmp_path):
    """The checkpoint carries the training set's mean image (Section 2), so a folder holding only
    validation images (like the ImageNet sample) is evaluated exactly as the full data set."""
    import shutil

    only_val = tmp_path / "only-val"
    shutil.copytree(data / "val", only_val / "val")
    a = evaluate(runs[0], data, workers=0)
    b = evaluate(runs[0], only_val, workers=0)
    assert a["models"][0]["centre"] == b["models"][0]["centre"]
    errors = lambda r: [(c["class"], c["top1_error"], c["top5_error"]) for c in r["per_class"]]  # noqa: E731
    assert errors(a) == errors(b)


def test_data_defaults_to_the_runs_own(runs, data):
    result = evaluate(runs[0], workers=0)
    assert Path(result["data"]["root"]) == data and result["data"]["images"] == 16


def test_fast_copy_is_the_same_function_with_the_same_attachments(runs, data):
    from alexnet.training.checkpoint import load_model
    from alexnet.evaluate import fast_copy

    ref = load_model(runs[0] / "last.pt")
    fast = fast_copy(ref)
    assert not ref.fast and fast.fast and fast_copy(fast) is fast
    assert fast.classes == ref.classes and fast.data_config == ref.data_config
    assert torch.equal(fast.data_mean, ref.data_mean) and not fast.training
    x = torch.randn(3, 3, 67, 67, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(fast(x), ref(x), atol=1e-5)
    a, b = evaluate(runs[0], data, workers=0), evaluate(runs[0], data, workers=0, fast=True)
    assert a["models"][0]["centre"] == b["models"][0]["centre"] and b["amp"] == "none"
