"""The pipeline on the real data in ``$ALEXNET_DATA`` (CI) or ``/work/shared/data``: CIFAR-10 in the
folder layout and the ImageNet sample (grayscale and small images, synset names). Skipped on a
fresh machine without them; the generated-data tests cover the same code there."""
import os
from pathlib import Path

import pytest
import torch
from PIL import Image

from alexnet.data import build_datasets, build_eval_dataset, resolve_data_root
from alexnet.errors import AlexNetError


def _data_home():
    for candidate in (os.environ.get("ALEXNET_DATA"), "/work/shared/data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


HOME = _data_home()
CIFAR = HOME / "cifar10" if HOME and (HOME / "cifar10").is_dir() else None
SAMPLE = HOME / "imagenet-sample" if HOME and (HOME / "imagenet-sample").is_dir() else None


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path_factory.getbasetemp() / "alexnet-cache"))
    monkeypatch.setenv("ALEXNET_WORKERS", "0")


def _read_only_copy(src: Path, dst: Path, per_class: int) -> Path:
    """The first ``per_class`` images of each class of ``src``'s splits, copied to ``dst`` and made
    read-only (folders 0o555, files 0o444): the condition of a shared, read-only data folder."""
    import shutil

    for split in sorted(p for p in src.iterdir() if p.is_dir()):
        for cls in sorted(p for p in split.iterdir() if p.is_dir()):
            (dst / split.name / cls.name).mkdir(parents=True)
            for f in sorted(cls.iterdir())[:per_class]:
                shutil.copyfile(f, dst / split.name / cls.name / f.name)
    for path in sorted(dst.rglob("*"), reverse=True) + [dst]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    return dst


@pytest.mark.skipif(CIFAR is None, reason="no CIFAR-10 folder in $ALEXNET_DATA or /work/shared/data")
def test_cifar10_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("ALEXNET_DATA", str(HOME))
    assert resolve_data_root(dataset="cifar10") == CIFAR
    root = _read_only_copy(CIFAR, tmp_path / "cifar10", per_class=4)
    try:
        b = build_datasets(root, resize=32, crop=28, max_per_class=4)
        assert b.classes[:3] == ["airplane", "automobile", "bird"] and len(b.train) == 40 and len(b.val) == 40
        assert "CIFAR-10" in b.description and "40 train / 40 val" in b.description and not b.synthetic
        x, y = b.train[5]
        assert x.shape == (3, 28, 28) and y == 1
        assert abs(b.mean.mean().item() / 255 - 0.47) < 0.1  # CIFAR's mean intensity, in raw units
        assert not (root / ".alexnet-cache").exists()  # read-only data: the statistics went to the cache
        ten = build_eval_dataset(root, "test", resize=80, crop=67, ten_crop=True, max_per_class=1)
        assert ten[0][0].shape == (10, 3, 67, 67) and len(ten) == 10
    finally:  # let pytest remove the copy
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.mark.skipif(SAMPLE is None, reason="no imagenet-sample folder in $ALEXNET_DATA or /work/shared/data")
def test_imagenet_sample_messy_images_and_names():
    with pytest.raises(AlexNetError, match=r"missing split: no folder .*imagenet-sample/train"):
        build_datasets(SAMPLE)
    ds = build_eval_dataset(SAMPLE, mean_image=False)
    assert len(ds) == 1000 and len(ds.classes) == 1000 and ds.class_names[0] == "tench"
    odd = []
    for i, path in enumerate(ds.raw.paths):
        with Image.open(path) as img:
            if img.mode != "RGB" or min(img.size) < 256 or img.format != "JPEG":
                odd.append(i)
    assert odd, "the sample is expected to hold grayscale or small images"
    for i in odd[:12]:
        x, y = ds[i]
        assert x.shape == (3, 224, 224) and torch.isfinite(x).all() and y == i
