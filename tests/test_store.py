"""The cached uint8 store of Section 2's 256x256 images and the batches training reads from it."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch

from _train_utils import tiny_data
from alexnet.data import IMAGENET_PCA, build_datasets
from alexnet.data.augment import GPUAugment
from alexnet.data.sampler import ResumableSampler
from alexnet.data.store import StoreBatches, StoreImages, Uint8Store, cached_store, store_folder
from alexnet.data.transforms import CentreCrop
from alexnet.errors import AlexNetError


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture()
def data(tmp_path) -> Path:
    return tiny_data(tmp_path / "data")


def _raw(root: Path, split: str = "train", resize: int = 48):
    bundle = build_datasets(root, resize=resize, crop=40, mean_image=False, pca_lighting=False)
    return bundle.train.raw if split == "train" else bundle.val.raw


def test_store_holds_the_decoded_images_and_is_built_once(data, cache):
    raw = _raw(data)
    store = cached_store(raw, data, "train")
    assert store.path.is_relative_to(cache) and not store.path.is_relative_to(data)  # never in the data folder
    assert len(store) == len(raw) and store.size == 48
    for i in (0, 7, len(raw) - 1):  # the very pixels the per-image path decodes (Section 2 rescale + centre crop)
        assert torch.equal(torch.from_numpy(store.images[i].copy()), raw[i])
    assert store.labels.tolist() == raw.targets
    stamp = (store.path / "images.u8").stat().st_mtime_ns
    again = cached_store(raw, data, "train")
    assert again.path == store.path and (again.path / "images.u8").stat().st_mtime_ns == stamp  # reused
    assert not list(store.path.parent.glob("*.tmp-*"))


def test_a_changed_data_set_gets_a_new_store(data):
    raw = _raw(data)
    first = cached_store(raw, data, "train")
    victim = raw.paths[0]
    time.sleep(0.01)
    victim.write_bytes(raw.paths[1].read_bytes())  # same name, other content
    os.utime(victim, ns=(time.time_ns(), time.time_ns() + 10**9))
    changed = _raw(data)
    assert store_folder(changed, data, "train") != first.path
    second = cached_store(changed, data, "train")
    assert torch.equal(torch.from_numpy(second.images[0].copy()), changed[0])
    extra = data / "train" / victim.parent.name / "zz_extra.JPEG"
    extra.write_bytes(raw.paths[1].read_bytes())
    grown = _raw(data)
    assert len(grown) == len(raw) + 1 and store_folder(grown, data, "train") not in (first.path, second.path)
    assert store_folder(_raw(data, resize=56), data, "train") != store_folder(grown, data, "train")


def test_a_damaged_or_half_written_store_is_rebuilt(data):
    raw = _raw(data)
    store = cached_store(raw, data, "train")
    (store.path / "store.json").write_text("{not json")
    rebuilt = cached_store(raw, data, "train")
    assert len(rebuilt) == len(raw)
    half = store.path.with_name(store.path.name + ".tmp-999999999")  # a build killed halfway (dead process)
    half.mkdir()
    cached_store(raw, data, "train")
    assert not half.exists()


def test_bad_folders_are_named(tmp_path, data):
    with pytest.raises(AlexNetError, match="nowhere"):
        cached_store(_raw(data), tmp_path / "nowhere", "train")
    with pytest.raises(FileNotFoundError, match=f"{tmp_path}.*not a uint8 store"):
        Uint8Store(tmp_path)


def test_store_statistics_equal_the_decoded_images(data):
    from alexnet.data import mean_image

    raw = _raw(data)
    via_store = StoreImages(cached_store(raw, data, "train"), raw)
    assert via_store.keys == raw.keys and len(via_store) == len(raw)
    assert torch.equal(via_store[5], raw[5])
    torch.testing.assert_close(mean_image(via_store, data, workers=0), mean_image(raw, data, workers=0))


def test_training_batches_follow_the_sampler_and_resume_exactly(data):
    raw = _raw(data)
    store = cached_store(raw, data, "train")
    aug = GPUAugment(torch.rand(3, 48, 48) * 255, 40, pca=IMAGENET_PCA, channels_last=False)

    def epoch(e: int, start: int = 0, seed: int = 3):
        sampler = ResumableSampler(len(store), 16, seed)
        sampler.set_position(e, start)
        batches = StoreBatches(store, aug, "cpu", train=True, sampler=sampler, seed=seed)
        assert len(batches) == 4 - start
        return list(batches), [idx for _, idx in sampler.batches()]

    whole, order = epoch(1)
    assert len(whole) == 4 and all(x.shape == (16, 3, 40, 40) for x, _ in whole)
    for (_, y), idx in zip(whole, order):
        assert y.tolist() == [raw.targets[i] for i in idx]
    resumed, _ = epoch(1, start=2)
    for (xa, ya), (xb, yb) in zip(whole[2:], resumed):  # batch 2 onwards, bit for bit
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    other, _ = epoch(2)
    assert not torch.equal(other[0][0], whole[0][0])  # another epoch: other order, other crops
    reseeded, _ = epoch(1, seed=4)
    assert not torch.equal(reseeded[0][0], whole[0][0])


def test_validation_batches_are_the_centre_patch_in_order(data):
    raw = _raw(data, "val")
    store = cached_store(raw, data, "val")
    mean = torch.rand(3, 48, 48) * 255
    aug = GPUAugment(mean, 40, channels_last=False)
    batches = list(StoreBatches(store, aug, "cpu", train=False, batch_size=5))
    assert [len(y) for _, y in batches] == [5, 5, 5, 1]
    x = torch.cat([b for b, _ in batches])
    centre = CentreCrop(mean, 40)
    for i in range(len(raw)):
        torch.testing.assert_close(x[i], centre(raw[i]))
    assert torch.cat([y for _, y in batches]).tolist() == raw.targets


def test_an_error_while_reading_reaches_the_training_loop(data):
    raw = _raw(data)
    store = cached_store(raw, data, "train")
    sampler = ResumableSampler(len(store), 16, 0)

    class Broken(GPUAugment):
        def __call__(self, images, generator=None):
            raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        list(StoreBatches(store, Broken(None, 40), "cpu", train=True, sampler=sampler))
