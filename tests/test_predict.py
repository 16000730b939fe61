"""``python -m alexnet predict``: a trained network's top-5 classes for photographs, with the paper's
test-time preprocessing (Section 2's rescale and mean image; the centre patch or Section 4.1's ten),
on a tiny network trained here on generated data."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from _train_utils import tiny_config, tiny_data
from alexnet.cli import main
from alexnet.cli.predict import classify, format_line
from alexnet.data import build_eval_dataset
from alexnet.training import train
from alexnet.training.checkpoint import load_model


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return tiny_data(tmp_path_factory.mktemp("data") / "synthetic")


@pytest.fixture(scope="module")
def run(data, tmp_path_factory) -> Path:
    return train(tiny_config(data, tmp_path_factory.mktemp("runs") / "run", epochs=1, init="torch"))


def _val(data, run, ten_crop=False):
    """The trained network and evaluation's validation set with its preprocessing."""
    model = load_model(run / "last.pt")
    return model, build_eval_dataset(data, "val", resize=72, crop=67, ten_crop=ten_crop, mean_image=model.data_mean)


@pytest.mark.parametrize("ten_crop", [False, True], ids=["centre", "ten-crop"])
def test_the_same_preprocessing_as_evaluation(data, run, ten_crop):
    """The probabilities are those of evaluation's data set (the checkpoint's mean image, resize and
    crop) for the same file, one patch or ten averaged."""
    model, ds = _val(data, run, ten_crop)
    files = ds.raw.paths[:3]
    ranked = classify(files, run, ten_crop=ten_crop, top=5)
    for i, shown in enumerate(ranked):
        x, _ = ds[i]
        x = x.reshape(-1, *x.shape[-3:])
        with torch.no_grad():
            probs = torch.softmax(model(x), dim=1).mean(dim=0)
        assert len(shown) == 4  # four classes: the top five are all of them
        names = ds.class_names
        for name, p in shown:
            assert p == pytest.approx(float(probs[names.index(name)]), abs=1e-5)
        assert [p for _, p in shown] == sorted((p for _, p in shown), reverse=True)


def test_the_command_prints_one_line_per_image(data, run, capsys):
    model, ds = _val(data, run)
    files = [str(p) for p in ds.raw.paths[:2]]
    assert main(["predict", "--checkpoint", str(run), *files, "--top", "2"]) == 0  # a run folder: its last.pt
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    for file, line, ranked in zip(files, lines, classify(files, run / "last.pt", top=2)):
        assert line == format_line(file, ranked) and line.startswith(f"{file}: ") and line.count("%") == 2
        assert all(name in ds.class_names for name, _ in ranked)


def _fails(capsys, *args) -> str:
    assert main(["predict", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_an_unreadable_image_is_named(data, run, tmp_path, capsys):
    bad = tmp_path / "photo.jpg"
    bad.write_text("not an image")
    good = str(_val(data, run)[1].raw.paths[0])
    assert str(bad) in _fails(capsys, "--checkpoint", str(run), good, str(bad))


def test_a_missing_checkpoint_is_named(data, run, tmp_path, capsys):
    image = str(_val(data, run)[1].raw.paths[0])
    assert "missing.pt does not exist" in _fails(capsys, "--checkpoint", str(tmp_path / "missing.pt"), image)
    assert "holds no last.pt" in _fails(capsys, "--checkpoint", str(tmp_path), image)


def test_a_checkpoint_without_class_names_is_named(data, run, tmp_path, capsys):
    state = torch.load(run / "last.pt", map_location="cpu", weights_only=True)
    state.pop("classes", None)
    state.pop("class_names", None)
    torch.save(state, tmp_path / "anonymous.pt")
    image = str(_val(data, run)[1].raw.paths[0])
    assert "holds no class names" in _fails(capsys, "--checkpoint", str(tmp_path / "anonymous.pt"), image)
