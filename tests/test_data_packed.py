"""One packed file for a folder of many small images (carried to a GPU machine as one file)."""
import numpy as np
import pytest
import torch
from PIL import Image

from alexnet.cli import main
from alexnet.errors import AlexNetError
from alexnet.data.packed import is_packed, pack_folder, read_packed
from alexnet.data.tensors import load_cifar10


def _folder(root, splits=("train", "test"), per_class=3):
    rng = np.random.default_rng(0)
    for split in splits:
        for c in ("cat", "dog"):
            (root / split / c).mkdir(parents=True)
            for i in range(per_class):
                a = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
                Image.fromarray(a).save(root / split / c / f"{i}.jpg", quality=90)
    return root


def test_packed_file_holds_the_exact_bytes_labels_and_decodes_like_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    src = _folder(tmp_path / "cifar10")
    out = pack_folder(src, tmp_path / "c.npz")
    assert is_packed(out) and not is_packed(src) and not is_packed(tmp_path / "missing.npz")
    train = read_packed(out, "train")
    assert len(train) == 6 and train.classes == ["cat", "dog"] and list(train.labels) == [0, 0, 0, 1, 1, 1]
    assert train.blob(4) == (src / "train" / "dog" / "1.jpg").read_bytes() and train.paths[4] == "dog/1.jpg"
    a, b = load_cifar10(out), load_cifar10(src)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.test_y, b.test_y) and not a.synthetic
    sub = load_cifar10(out, train_per_class=2, test_per_class=1)
    assert len(sub.train_y) == 4 and len(sub.test_y) == 2 and torch.equal(sub.train_x[2], b.train_x[3])


def test_packing_names_the_culprit(tmp_path, capsys):
    with pytest.raises(AlexNetError, match="does not exist"):
        pack_folder(tmp_path / "nope", tmp_path / "x.npz")
    src = _folder(tmp_path / "d", splits=("train",))
    with pytest.raises(AlexNetError, match="must end in .npz"):
        pack_folder(src, tmp_path / "x.tar")
    out = pack_folder(src, tmp_path / "x.npz")
    with pytest.raises(AlexNetError, match="no split 'test' \\(it has train\\)"):
        read_packed(out, "test")
    (src / "train" / "empty").mkdir()
    with pytest.raises(AlexNetError, match="empty class folder .*empty"):
        pack_folder(src, tmp_path / "y.npz")
    assert main(["pack-images", str(tmp_path / "d2"), str(tmp_path / "z.npz")]) == 2
    assert "d2 does not exist" in capsys.readouterr().err
