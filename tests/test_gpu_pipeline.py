"""The batched, device-side input pipeline does Sections 2 and 4.1 exactly (crops, mirrors, mean, PCA)."""
import numpy as np
import pytest
import torch

from alexnet.data import IMAGENET_PCA, resize_centre_crop
from alexnet.data import gpu_pipeline as gp
from alexnet.data.augment import GPUAugment, random_crop_flip, random_lighting
from alexnet.data.sampler import ResumableSampler
from alexnet.data.store import StoreBatches, Uint8Store, write_store
from alexnet.data.transforms import CentreCrop
from alexnet.data.augment import pca_lighting


def _position_images(n=3, r=12):
    """uint8 images whose pixel value encodes its row and column (channel c adds c)."""
    rows = torch.arange(r).view(r, 1) * r
    cols = torch.arange(r).view(1, r)
    base = (rows + cols) % 200
    return torch.stack([torch.stack([base + c for c in range(3)]) for _ in range(n)]).to(torch.uint8)


def _draws(seed, n, h, w, c, std=0.1):
    g = torch.Generator().manual_seed(seed)
    top = torch.randint(0, h - c + 1, (n, 1), generator=g)
    left = torch.randint(0, w - c + 1, (n, 1), generator=g)
    mirror = torch.rand(n, 1, generator=g) < 0.5
    alpha = torch.randn(n, 3, generator=g) * std
    return top.flatten(), left.flatten(), mirror.flatten(), alpha


def test_crop_mirror_mean_and_pca_equal_the_per_image_transforms():
    torch.manual_seed(0)
    n, r, c = 6, 12, 7
    imgs = torch.randint(0, 256, (n, 3, r, r), dtype=torch.uint8)
    mean = torch.rand(3, r, r) * 255  # a mean image, in output units
    aug = GPUAugment(mean, c, pca=IMAGENET_PCA)
    out = aug(imgs, generator=torch.Generator().manual_seed(7))
    top, left, mirror, alpha = _draws(7, n, r, r, c)
    vals, vecs = IMAGENET_PCA.eigvals * 255.0, IMAGENET_PCA.eigvecs
    for i in range(n):
        t, l = int(top[i]), int(left[i])
        want = imgs[i, :, t:t + c, l:l + c].float() - mean[:, t:t + c, l:l + c]  # mean-subtract, crop
        if mirror[i]:
            want = want.flip(-1)
        want = pca_lighting(want, vals, vecs, alpha[i])
        torch.testing.assert_close(out[i], want, rtol=1e-5, atol=1e-4)
    assert out.shape == (n, 3, c, c) and out.dtype == torch.float32
    assert out.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("per_pixel_mean", [True, False])
@pytest.mark.parametrize("scale, flip, pca", [(255.0, True, IMAGENET_PCA), (1.0, True, None), (255.0, False, None)])
def test_cpu_path_gives_the_bits_of_the_batched_gather(per_pixel_mean, scale, flip, pca):
    """augment_batch's image-by-image CPU path against the one-gather path it replaces there."""
    from alexnet.data.augment import crop_flip, random_patch

    n, r, c = 9, 20, 13
    imgs = torch.randint(0, 256, (n, 3, r, r), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    mean = torch.rand(3, r, r) * scale if per_pixel_mean else torch.rand(3, 1, 1) * scale
    aug = GPUAugment(mean, c, scale=scale, flip=flip, pca=pca)
    got = aug(imgs, generator=torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)
    top, left, mirror = random_patch(n, r, r, c, flip=flip, generator=g)
    want = crop_flip(imgs, top, left, mirror, c).to(torch.float32) * (scale / 255.0)
    want -= crop_flip(mean.expand(n, -1, -1, -1), top, left, mirror, c) if per_pixel_mean else mean
    if pca is not None:
        want = aug.lighting.batch(want, g)
    assert torch.equal(got, want) and got.is_contiguous(memory_format=torch.channels_last)


def test_full_size_crop_without_flip_or_pca_is_the_centre_crop_transform():
    imgs = _position_images()
    mean = torch.tensor([100.0, 110.0, 120.0]).view(3, 1, 1)
    aug = GPUAugment(mean, 12, flip=False, pca=None, channels_last=False)
    out = aug(imgs)
    assert out.is_contiguous()
    for i in range(3):
        torch.testing.assert_close(out[i], CentreCrop(mean, 12)(imgs[i]))


def test_crops_cover_every_offset_and_mirror_half_the_time():
    imgs = _position_images(n=2000, r=10)
    out = GPUAugment(torch.zeros(3, 1, 1), 6, pca=None)(imgs, generator=torch.Generator().manual_seed(0))
    first = out[:, 0, 0, :].long()  # first row of channel 0: row*r + col values
    lo = torch.minimum(first[:, 0], first[:, -1])
    tops, lefts = lo // 10, lo % 10
    assert set(tops.tolist()) == set(range(5)) and set(lefts.tolist()) == set(range(5))
    mirrored = (first[:, 0] > first[:, -1]).float().mean().item()
    assert abs(mirrored - 0.5) < 0.05


def test_bad_inputs_are_named():
    aug = GPUAugment(None, 8)
    with pytest.raises(ValueError, match="crop 8"):
        aug(torch.zeros(1, 3, 6, 6, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        aug(torch.zeros(3, 6, 6, dtype=torch.uint8))
    with pytest.raises(ValueError, match="mean"):
        GPUAugment(torch.zeros(3, 4), 2)
    with pytest.raises(ValueError, match="mean image"):
        GPUAugment(torch.zeros(3, 9, 9), 4)(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))


def _two_gathers(x, crop, generator, flip=True):
    """The ablations' crop and mirror as first written (two gathers): the draws and pixels the new
    one-gather version must reproduce, so that the committed CIFAR-10 results replay."""
    n, c, h, w = x.shape
    oy = torch.randint(0, h - crop + 1, (n,), generator=generator)
    ox = torch.randint(0, w - crop + 1, (n,), generator=generator)
    mirror = torch.rand(n, generator=generator) < 0.5 if flip else None
    ar = torch.arange(crop)
    x = torch.gather(x, 2, (oy[:, None] + ar).view(n, 1, crop, 1).expand(n, c, crop, w))
    cols = ox[:, None] + ar
    if mirror is not None:
        cols = torch.where(mirror[:, None], cols.flip(1), cols)
    return torch.gather(x, 3, cols.view(n, 1, 1, crop).expand(n, c, crop, crop))


def test_batched_crop_flip_and_lighting_repeat_the_ablations_draws_exactly():
    x = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8)
    for flip in (True, False):
        a, b = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
        assert torch.equal(random_crop_flip(x, 24, a, flip=flip), _two_gathers(x, 24, b, flip=flip))
        vals, vecs = IMAGENET_PCA.eigvals, IMAGENET_PCA.eigvecs
        lit = random_lighting(x.float(), vals, vecs, 0.1, a)
        alpha = torch.randn(64, 3, generator=b) * 0.1
        assert torch.equal(lit, x.float() + ((alpha * (vals * 255.0)) @ vecs.T)[:, :, None, None])
        assert torch.equal(a.get_state(), b.get_state())  # the same number of draws: the next batch agrees too


def test_store_round_trip_and_loader_visits_every_image_once(tmp_path):
    imgs = [(torch.full((3, 16, 16), i, dtype=torch.uint8), i % 4) for i in range(10)]
    store = write_store(tmp_path / "s", imgs, 10, size=16, classes=list("abcd"), source="test")
    assert len(store) == 10 and store.meta["classes"] == list("abcd")
    torch.testing.assert_close(store.tensor()[3], imgs[3][0])
    aug = GPUAugment(torch.zeros(3, 1, 1), 16, flip=False, pca=None)
    loader = StoreBatches(store, aug, "cpu", train=True, sampler=ResumableSampler(10, 3, seed=1), seed=1)
    seen = []
    for x, y in loader:
        assert x.shape == (3, 3, 16, 16)
        seen += [int(v) for v in x[:, 0, 0, 0]]
        assert [v % 4 for v in seen[-3:]] == y.tolist()
    assert len(seen) == 9 and len(set(seen)) == 9  # drop_last; no repeats within an epoch
    again = StoreBatches(store, aug, "cpu", train=True, sampler=ResumableSampler(10, 3, seed=1), seed=1)
    assert [int(v) for x, _ in again for v in x[:, 0, 0, 0]] == seen  # seeded order


def test_store_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a uint8 store"):
        Uint8Store(tmp_path)
    store = gp.write_random_store(tmp_path / "r", 4, size=8)
    with pytest.raises(ValueError, match="fewer than one batch"):
        ResumableSampler(len(store), 5)
    with pytest.raises(ValueError, match="need uint8"):
        write_store(tmp_path / "w", [(torch.zeros(3, 8, 8), 0)], 1, size=8)


def test_decode_batch_equals_decode_then_resize_centre_crop(tmp_path):
    from PIL import Image
    from torchvision.io import decode_jpeg, read_file

    rng = np.random.default_rng(0)
    files = []
    for i, (h, w) in enumerate([(300, 400), (300, 400), (280, 256), (256, 256)]):
        f = tmp_path / f"{i}.jpg"
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(f, quality=90)
        files.append(f)
    data = [read_file(str(f)) for f in files]
    out = gp.decode_batch(data, "cpu", 256)
    assert out.shape == (4, 3, 256, 256) and out.dtype == torch.uint8
    for i, d in enumerate(data):
        img = decode_jpeg(d)
        want = resize_centre_crop(img.float(), 256).round().clamp(0, 255).to(torch.uint8)
        assert torch.equal(out[i], want)


@pytest.mark.slow
def test_rates_run_on_the_cpu(tmp_path):
    store = gp.write_random_store(tmp_path / "s", 16, size=64)
    r = gp.store_rate(store, "cpu", batch_size=8, batches=2, crop=56)
    assert r["images"] == 16 and r["images_per_s"] > 0
    files = gp.write_jpegs(tmp_path / "j", 8, size=96, distinct=4)
    r = gp.jpeg_rate(files, "cpu", batch_size=4, batches=2)
    assert r["images"] == 8 and r["images_per_s"] > 0 and r["source"] == "jpeg 96x96"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_pipeline_on_cuda(tmp_path):
    imgs = _position_images(n=4, r=12)
    aug = GPUAugment(torch.tensor([1.0, 2.0, 3.0]).view(3, 1, 1), 12, flip=False, pca=None)
    torch.testing.assert_close(aug(imgs.cuda()).cpu(), aug(imgs))
    out = GPUAugment(None, 8)(imgs.cuda(), generator=torch.Generator("cuda").manual_seed(0))
    assert out.is_cuda and out.shape == (4, 3, 8, 8)
    files = gp.write_jpegs(tmp_path / "j", 8, size=300, distinct=4)
    from torchvision.io import read_file

    data = [read_file(str(f)) for f in files]
    gpu, cpu = gp.decode_batch(data, "cuda"), gp.decode_batch(data, "cpu")
    assert gpu.is_cuda and (gpu.cpu().float() - cpu.float()).abs().mean() < 3  # nvJPEG vs libjpeg rounding
    store = gp.write_random_store(tmp_path / "s", 64, size=256)
    r = gp.store_rate(store, "cuda", batch_size=32, batches=2)
    assert r["images_per_s"] > 0
