"""The ``imagenette`` preset is the paper's recipe (Sections 2-5) except the differences it states."""
from __future__ import annotations

import argparse
import json

import pytest

from _train_utils import tiny_data
from alexnet.errors import AlexNetError
from alexnet.model import PAPER_FC
from alexnet.training import TrainConfig
from alexnet.cli.train import add_parser, config_from_args
from alexnet.training import load_preset, preset_names

#: Section 5's recipe and Sections 2-4's network and data, as TrainConfig settings.
PAPER = dict(
    towers=2, widths=None, fc=list(PAPER_FC), width_mult=1.0, lrn=True, pool="overlapping", activation="relu",
    dropout=0.5, dropout_mode="paper", dropout_on="outputs", conv1_padding="convnet", adaptive_pool=False,
    init="paper", optimizer="paper", lr=0.01, momentum=0.9, weight_decay=5e-4, batch_size=128,
    lr_schedule="plateau", lr_factor=0.1, max_lr_drops=3, resize=256, crop=224, augment=True, pca_lighting=True,
    mean_image=True, epochs=90,
)
#: Settings of how the run is computed, not what (any value keeps the paper's recipe).
SYSTEM = {"amp", "channels_last", "checkpoint_every", "seed", "model", "loader", "dataset", "preset", "differences"}


def _parse(*argv: str) -> TrainConfig:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    return config_from_args(parser.parse_args(["train", *argv]))


def test_imagenette_is_the_paper_except_its_stated_differences():
    assert "imagenette" in preset_names()
    cfg = _parse("--preset", "imagenette")
    assert cfg.preset == "imagenette"
    differs = {k for k, v in PAPER.items() if getattr(cfg, k) != v}
    assert differs <= set(cfg.differences), f"undocumented differences from the paper: {differs - set(cfg.differences)}"
    assert differs == {"epochs"}  # the one change of a paper value (the paper gives no patience)
    for name, why in cfg.differences.items():
        assert isinstance(why, str) and len(why.split()) >= 8, f"differences.{name} gives no reason"
    assert {"epochs", "patience", "resize"} <= set(cfg.differences)
    assert cfg.model == "fast" and cfg.loader == "store"  # how it is computed: same function, same pixels
    assert set(load_preset("imagenette")) - set(PAPER) - {"patience"} <= SYSTEM


def test_flags_and_config_files_override_the_preset(tmp_path):
    (tmp_path / "c.yaml").write_text("epochs: 2\n")
    cfg = _parse("--preset", "imagenette", "--config", str(tmp_path / "c.yaml"), "--lr", "0.02")
    assert (cfg.epochs, cfg.lr, cfg.batch_size, cfg.preset) == (2, 0.02, 128, "imagenette")


def test_unknown_preset_is_one_clear_error():
    with pytest.raises(AlexNetError, match="unknown preset 'imagenet-21k'.*imagenette"):
        _parse("--preset", "imagenet-21k")


def test_the_differences_land_in_the_run_config(tmp_path, monkeypatch):
    """A short run from the preset (shrunk by flags) records the preset's name and its differences."""
    from alexnet.cli import main

    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    data = tiny_data(tmp_path / "data")
    out = tmp_path / "run"
    assert main(["train", "--preset", "imagenette", "--data", str(data), "--out", str(out), "--resize", "72",
                 "--crop", "67", "--adaptive-pool", "--widths", "8", "16", "24", "24", "16", "--fc", "32", "32",
                 "--batch-size", "16", "--epochs", "1", "--steps-per-epoch", "1", "--quiet", "--threads", "1"]) == 0
    saved = json.loads((out / "config.json").read_text())["config"]
    assert saved["preset"] == "imagenette" and saved["differences"] == load_preset("imagenette")["differences"]
    assert saved["amp"] == "bf16" and saved["model"] == "fast"
