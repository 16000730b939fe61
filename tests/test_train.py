"""The training loop (Section 5): run folder, metrics, checkpoints, settings, clear errors."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from _train_utils import TINY, metrics, tiny_config, tiny_data
from alexnet.cli import main
from alexnet.training.checkpoint import load_checkpoint, load_model, save_checkpoint
from alexnet.errors import AlexNetError
from alexnet.data.sampler import ResumableSampler, SeededDataset
from alexnet.training import NonFiniteLossError, TrainConfig, read_metrics, train


@pytest.fixture(scope="module", autouse=True)
def _cache(tmp_path_factory):
    """Stores and statistics of the generated data go to a temporary cache folder, not ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ALEXNET_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_data(tmp_path_factory.mktemp("data") / "synthetic")


@pytest.fixture(scope="module")
def run(data, tmp_path_factory) -> Path:
    return train(tiny_config(data, tmp_path_factory.mktemp("runs") / "run", epochs=2, checkpoint_every=3))


# ------------------------------------------------------------------------- the data order
def test_sampler_order_depends_on_seed_and_epoch_and_resumes_mid_epoch():
    s = ResumableSampler(50, 8, seed=1)
    s.set_position(0)
    e0 = list(s)
    s.set_position(1)
    e1 = list(s)
    assert len(e0) == 48 and sorted(i for i, _ in e0) != [i for i, _ in e0]  # shuffled, last partial batch dropped
    assert [i for i, _ in e0] != [i for i, _ in e1]
    s.set_position(0, start_batch=2)
    assert list(s) == e0[16:]  # resuming at batch 2 skips exactly the consumed batches
    assert list(ResumableSampler(50, 8, seed=1)) == e0  # same seed, same order, same item seeds


def test_sampler_ranks_split_each_global_batch():
    whole = [i for i, _ in ResumableSampler(40, 8, seed=0)]
    r0 = [i for i, _ in ResumableSampler(40, 8, seed=0, rank=0, world_size=2)]
    r1 = [i for i, _ in ResumableSampler(40, 8, seed=0, rank=1, world_size=2)]
    for b in range(5):
        assert sorted(r0[4 * b:4 * b + 4] + r1[4 * b:4 * b + 4]) == sorted(whole[8 * b:8 * b + 8])
    with pytest.raises(ValueError, match="does not divide"):
        ResumableSampler(40, 7, world_size=2)


def test_seeded_dataset_augments_the_same_whatever_the_global_state():
    class Noise(torch.utils.data.Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            return torch.rand(2)

    ds = SeededDataset(Noise())
    torch.manual_seed(0)
    a = ds[(1, 123)]
    torch.manual_seed(99)
    state = torch.get_rng_state()
    b = ds[(1, 123)]
    assert torch.equal(a, b)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's generator is left alone
    assert not torch.equal(ds[(1, 124)], a)


# ------------------------------------------------------------------------- the run folder
def test_run_folder_holds_config_metrics_checkpoints_summary(run):
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["config"]["lr"] == 0.01 and cfg["config"]["batch_size"] == 16
    assert "torch" in cfg["provenance"]["versions"] and "git_commit" in cfg["provenance"]
    assert cfg["data"]["synthetic"] is True and "SYNTHETIC" in cfg["data"]["description"]
    assert cfg["paper_size"] is False  # a slim network, and the config says so
    rows = read_metrics(run)
    assert [r["epoch"] for r in rows] == [1, 2]
    for key in ("train_loss", "train_top1_error", "train_top5_error", "val_top1_error", "val_top5_error", "lr",
                "images_per_s", "wall_time_s"):
        assert all(math.isfinite(r[key]) for r in rows), key
    assert all(0 <= r["val_top1_error"] <= 1 for r in rows)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["finished"] and summary["epochs"] == 2 and summary["steps"] == 8
    last = load_checkpoint(run / "last.pt")
    assert (last["epoch"], last["batch"], last["global_step"]) == (2, 0, 8)
    assert set(last["rng"]) == {"torch", "cuda", "numpy", "python"}
    assert last["history"] == [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert (run / "best.pt").exists()
    assert not list(run.glob(".*tmp*"))


def test_load_model_returns_the_trained_network(run, data):
    model = load_model(run / "last.pt")
    assert not model.training and model.num_classes == 4 and model.config["widths"] == (8, 16, 24, 24, 16)
    assert model.classes == sorted(p.name for p in (data / "train").iterdir() if p.is_dir())
    assert model(torch.zeros(2, 3, 67, 67)).shape == (2, 4)


def test_training_repeats_bit_for_bit_and_epochs_can_be_extended(run, data, tmp_path):
    """Same seed: same weights. Training 1 epoch and then resuming to 2 equals training 2 at once."""
    short = train(tiny_config(data, tmp_path / "short", epochs=1, checkpoint_every=3))
    longer = train(tiny_config(data, tmp_path / "short", epochs=2, checkpoint_every=3, resume=True))
    a, b = torch.load(run / "last.pt", weights_only=True), torch.load(longer / "last.pt", weights_only=True)
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert metrics(run) == metrics(longer)
    assert short == longer


# ------------------------------------------------------------------------- refusing bad input
def test_existing_run_needs_resume_and_same_settings(run, data):
    with pytest.raises(AlexNetError, match="already holds a run; pass --resume"):
        train(tiny_config(data, run))
    with pytest.raises(AlexNetError, match="cannot resume .* different settings .*lr"):
        train(tiny_config(data, run, lr=0.5, resume=True))


def test_resume_refuses_another_architecture(run, data, tmp_path):
    out = tmp_path / "other"
    out.mkdir()
    (out / "last.pt").write_bytes((run / "last.pt").read_bytes())
    with pytest.raises(AlexNetError, match=r"another architecture \(widths"):
        train(tiny_config(data, out, widths=[8, 16, 24, 24, 8], resume=True))


def test_corrupt_checkpoint_is_one_clear_error(run, tmp_path, capsys):
    bad = tmp_path / "last.pt"
    bad.write_bytes((run / "last.pt").read_bytes()[:1000])
    with pytest.raises(AlexNetError, match="corrupt or not a checkpoint"):
        load_checkpoint(bad)
    (tmp_path / "x.pt").write_text("hello")
    assert main(["evaluate", "--checkpoint", str(tmp_path / "x.pt"), "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().count("\n") == 0 and "x.pt is corrupt or not a checkpoint" in err


def test_other_class_count_is_refused(run, tmp_path):
    state = load_checkpoint(run / "last.pt")
    state["model_config"] = {**state["model_config"], "num_classes": 7}
    save_checkpoint(state, tmp_path / "seven.pt")
    with pytest.raises(AlexNetError, match="weights do not fit"):
        load_model(tmp_path / "seven.pt")


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(data, tmp_path):
    with pytest.raises(NonFiniteLossError, match=r"loss became (nan|inf).*last good checkpoint is .*last\.pt"):
        train(tiny_config(data, tmp_path / "nan", lr=1e30, checkpoint_every=1, epochs=1))
    good = load_checkpoint(tmp_path / "nan" / "last.pt")
    assert good["global_step"] >= 1
    assert all(torch.isfinite(v).all() for v in good["model"].values())


@pytest.mark.parametrize("override, match", [
    ({"crop": 300}, "'crop' = 300: larger than resize"),
    ({"crop": 100, "resize": 110, "adaptive_pool": False}, "adaptive_pool"),
    ({"dropout": 1.5}, "'dropout'"),
    ({"epochs": 0}, "'epochs'"),
])
def test_impossible_settings_are_named(data, tmp_path, override, match):
    with pytest.raises(AlexNetError, match=match):
        train(tiny_config(data, tmp_path / "x", **override))


def test_config_file_and_flags(tmp_path):
    from alexnet.cli.train import add_parser, config_from_args
    import argparse

    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    (tmp_path / "c.yaml").write_text("epochs: 7\nbatch-size: 32\nlr: 0.02\n")
    args = parser.parse_args(["train", "--config", str(tmp_path / "c.yaml"), "--lr", "0.05", "--no-lrn"])
    cfg = config_from_args(args)
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.lrn, cfg.momentum) == (7, 32, 0.05, False, 0.9)
    assert "conv4" not in cfg.model_config(10)  # named only when removed, so older checkpoints still resume
    short = config_from_args(parser.parse_args(["train", "--no-conv4"]))
    assert short.model_config(10)["conv4"] is False  # Section 7's depth ablation
    (tmp_path / "bad.json").write_text(json.dumps({"epoch": 3}))
    with pytest.raises(AlexNetError, match="unknown setting 'epoch'"):
        TrainConfig.from_file(tmp_path / "bad.json")


def test_cli_help_documents_every_default(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--help"])
    assert exit_.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for flag, default in [("--batch-size", "128"), ("--lr", "0.01"), ("--momentum", "0.9"), ("--weight-decay", "0.0005"),
                          ("--epochs", "90"), ("--max-lr-drops", "3"), ("--amp", "none"), ("--seed", "0")]:
        assert flag in text and f"(default: {default})" in text, flag
    assert text.count("(default:") >= len(TrainConfig.field_names())


def test_cli_trains_and_reports_errors_in_one_line(data, tmp_path, capsys):
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "cli"), *TINY, "--epochs", "1"]) == 0
    assert "epoch 1/1: train loss" in capsys.readouterr().out and (tmp_path / "cli" / "summary.json").exists()
    assert main(["train", "--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "cli2"), *TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data folder") and "nowhere" in err and err.count("\n") == 1


def test_bf16_channels_last_and_two_tower_placement_run(data, tmp_path):
    """Modern options on the CPU: bf16 autocast, channels_last, and the towers placed on two devices."""
    before = torch.get_num_threads()
    try:
        run = train(tiny_config(data, tmp_path / "bf16", amp="bf16", channels_last=True, tower_devices="cpu,cpu",
                                epochs=1, steps_per_epoch=2, deterministic=False, threads=1))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    rows = read_metrics(run)
    assert len(rows) == 1 and math.isfinite(rows[0]["train_loss"])
    with pytest.raises(AlexNetError, match="tower_devices"):
        train(tiny_config(data, tmp_path / "t1", towers=1, tower_devices="cpu,cpu"))


def test_worker_processes_do_not_change_the_result(data, tmp_path):
    """Decoding every image at every epoch (``loader="images"``): crops, flips and PCA lighting are seeded
    per image, so two loader processes give the very same run as none."""
    one = train(tiny_config(data, tmp_path / "one", loader="images", workers=0, epochs=2, checkpoint_every=3))
    two = train(tiny_config(data, tmp_path / "workers", loader="images", workers=2, epochs=2, checkpoint_every=3))
    a, b = torch.load(one / "last.pt", weights_only=True), torch.load(two / "last.pt", weights_only=True)
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert metrics(one) == metrics(two)


# ------------------------------------------------------------------------- fast path and reference
def test_train_builds_the_fast_path_by_default_and_the_reference_on_request(data, tmp_path, monkeypatch):
    import alexnet.training.loop as train_module

    built = []

    class Recording(train_module.AlexNet):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self.fast)

    monkeypatch.setattr(train_module, "AlexNet", Recording)
    assert TrainConfig().model == "fast"
    train(tiny_config(data, tmp_path / "fast", epochs=1, steps_per_epoch=1))
    train(tiny_config(data, tmp_path / "ref", epochs=1, steps_per_epoch=1, model="reference"))
    assert [bool(fast) for fast in built] == [True, False]  # the fast path, then the reference
    assert [r["model"] for r in read_metrics(tmp_path / "ref")] == ["reference"]
    with pytest.raises(AlexNetError, match="model"):
        train(tiny_config(data, tmp_path / "x", model="turbo"))


@pytest.mark.parametrize("first,then", [("reference", "fast"), ("fast", "reference")])
def test_a_run_resumes_across_the_fast_and_reference_models(run, data, tmp_path, first, then):
    """Same parameters, same function: a run started with one model continues with the other and
    ends where a run made with one model throughout ends (up to float rounding)."""
    out = tmp_path / "mixed"
    train(tiny_config(data, out, epochs=1, checkpoint_every=3, model=first))
    assert main(["train", "--out", str(out), "--resume", "--epochs", "2", "--model", then]) == 0
    rows = read_metrics(out)
    assert [r["model"] for r in rows] == [first, then]
    assert json.loads((out / "config.json").read_text())["config"]["model"] == then
    whole = read_metrics(run)  # the fast model throughout, same seed and settings
    for a, b in zip(rows, whole):
        assert a["step"] == b["step"]
        for key in ("train_loss", "val_loss", "train_top1_error", "val_top1_error"):
            assert a[key] == pytest.approx(b[key], rel=1e-3, abs=1e-4), key
    mixed, fast = load_checkpoint(out / "last.pt"), load_checkpoint(run / "last.pt")
    assert mixed["model"].keys() == fast["model"].keys()
    for k in fast["model"]:
        torch.testing.assert_close(mixed["model"][k], fast["model"][k], rtol=1e-3, atol=1e-5)
