"""The input pipeline's speed on a device (Sections 2 and 4.1): what the data benchmarks measure.

Decoding JPEGs and cropping them one by one on CPU cores gives a few hundred images per second
per core; a modern GPU trains AlexNet at tens of thousands. Two ways to feed it, both ending in
the same batched augmentation on the device (:class:`alexnet.data.augment.GPUAugment`: crop,
mirror, mean image, PCA lighting):

* the pre-resized **uint8 store** the training loop reads (:mod:`alexnet.data.store`):
  :func:`store_rate` times :class:`~alexnet.data.store.StoreBatches` on a store of random images
  (:func:`write_random_store`), batches read with ``os.preadv`` into pinned memory by a few
  threads in the background and copied to the device without blocking;
* **batched JPEG decoding** (:func:`decode_batch`): ``torchvision.io.decode_jpeg`` on a list of
  files at once, on the GPU (nvJPEG) when the tensors go to CUDA, then the Section 2 rescale and
  centre crop on the device, images of one size together; :func:`jpeg_rate` times it on files
  made by :func:`write_jpegs`.

Everything also runs on the CPU (how the tests check it).
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import torch
from torch import Tensor

from ..errors import AlexNetError
from .augment import GPUAugment
from .sampler import ResumableSampler
from .stats import IMAGENET_MEAN_RGB
from .store import StoreBatches, Uint8Store, write_store

__all__ = ["write_random_store", "decode_batch", "write_jpegs", "store_rate", "jpeg_rate"]


def write_random_store(path: str | Path, count: int, *, size: int = 256, seed: int = 0) -> Uint8Store:
    """A store of random images, for measuring the pipeline's speed (content does not matter)."""
    gen = torch.Generator().manual_seed(seed)

    def images():
        block = torch.randint(0, 256, (64, 3, size, size), dtype=torch.uint8, generator=gen)
        for i in range(count):
            yield block[i % 64], i % 10

    return write_store(path, images(), count, size=size, classes=[str(i) for i in range(10)],
                       source="random uint8 (benchmark only)")



def decode_batch(data: Sequence[Tensor], device: str | torch.device, size: int = 256) -> Tensor:
    """Decode encoded JPEGs (uint8 byte tensors) on ``device`` and apply Section 2's rescale and
    centre crop: ``uint8 (N, 3, size, size)`` on ``device``.

    On CUDA, ``torchvision.io.decode_jpeg`` decodes the whole list in one batched nvJPEG call.
    Images of the same size are rescaled together (bilinear with antialiasing, as
    :func:`alexnet.data.resize_centre_crop`).
    """
    from torchvision.io import ImageReadMode, decode_jpeg

    from .images import resize_centre_crop

    device = torch.device(device)
    if device.type == "cuda":
        decoded = decode_jpeg(list(data), mode=ImageReadMode.RGB, device=device)
    else:
        decoded = [decode_jpeg(d, mode=ImageReadMode.RGB) for d in data]
    out = torch.empty((len(decoded), 3, size, size), dtype=torch.uint8, device=device)
    by_shape: dict[tuple[int, int], list[int]] = {}
    for i, img in enumerate(decoded):
        by_shape.setdefault(tuple(img.shape[-2:]), []).append(i)
    for (h, w), idx in by_shape.items():
        batch = torch.stack([decoded[i] for i in idx])
        if (h, w) != (size, size):
            resized = resize_centre_crop(batch.float(), size)
            batch = resized.round_().clamp_(0, 255).to(torch.uint8)
        out[torch.tensor(idx, device=device)] = batch
    return out


def write_jpegs(folder: str | Path, count: int, *, size: int = 500, distinct: int = 16) -> list[Path]:
    """``count`` JPEG files of ``size x size`` pixels made by :func:`alexnet.data.make_synthetic`
    (``distinct`` different images, repeated): ImageNet-like files for the decode benchmark."""
    import shutil

    from .synthetic import make_synthetic

    folder = Path(folder)
    root = make_synthetic(folder / "synthetic", num_classes=4, train_per_class=max(1, distinct // 4),
                          val_per_class=1, size=size)
    sources = sorted((root / "train").rglob("*.JPEG"))
    if not sources:
        raise AlexNetError(f"{root} holds no JPEG files")
    files = []
    for i in range(count):
        dst = folder / f"{i:06d}.jpg"
        shutil.copyfile(sources[i % len(sources)], dst)
        files.append(dst)
    return files


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def store_rate(store: Uint8Store, device: str | torch.device, *, batch_size: int = 256, batches: int = 20,
               crop: int = 224) -> dict:
    """Images/s from a :class:`Uint8Store` into augmented ``(N, 3, crop, crop)`` tensors on ``device``,
    through the training loop's :class:`~alexnet.data.store.StoreBatches`."""
    device = torch.device(device)
    batch_size = min(batch_size, len(store))
    aug = GPUAugment(torch.tensor(IMAGENET_MEAN_RGB).view(3, 1, 1).expand(3, store.size, store.size) * 255.0, crop)
    sampler = ResumableSampler(len(store), batch_size, seed=0)
    loader = StoreBatches(store, aug, device, train=True, sampler=sampler, prefetch=3,
                          readers=max(1, min(8, os.cpu_count() or 1)))
    it = _cycle(loader)
    next(it)  # warm-up: thread start, pinned allocations, kernels
    _sync(device)
    start = time.perf_counter()
    n = 0
    for _ in range(batches):
        x, _ = next(it)
        n += x.shape[0]
    _sync(device)
    seconds = time.perf_counter() - start
    return {"source": "uint8 store (memmap, page cache)", "device": str(device), "images": n,
            "batch_size": batch_size, "store_images": len(store), "crop": crop, "seconds": round(seconds, 4),
            "images_per_s": round(n / seconds, 1),
            "what": "preadv into pinned memory (background thread, up to 8 readers) -> device -> crop, mirror, mean image, PCA"}


def _cycle(loader: StoreBatches) -> Iterator[tuple[Tensor, Tensor]]:
    while True:
        yield from loader


def jpeg_rate(files: Sequence[Path], device: str | torch.device, *, batch_size: int = 256, batches: int = 10,
              crop: int = 224, size: int = 256) -> dict:
    """Images/s of batched JPEG decoding on ``device`` + Section 2 rescale/crop + :class:`GPUAugment`.

    The files are read into memory first (the page cache's job in training), so this measures
    decoding and the device work.
    """
    from torchvision.io import read_file

    device = torch.device(device)
    data = [read_file(str(f)) for f in files]
    aug = GPUAugment(None, crop)
    probe = decode_batch(data[:1], "cpu", size)  # the file's pixels, for the record
    h, w = (int(v) for v in __import__("torchvision").io.decode_jpeg(data[0]).shape[-2:])

    def batch(i: int) -> Tensor:
        sel = [data[(i * batch_size + j) % len(data)] for j in range(batch_size)]
        return aug(decode_batch(sel, device, size))

    batch(0)
    _sync(device)
    start = time.perf_counter()
    n = 0
    for i in range(batches):
        n += batch(i + 1).shape[0]
    _sync(device)
    seconds = time.perf_counter() - start
    kb = sum(d.numel() for d in data) / len(data) / 1024
    return {"source": f"jpeg {h}x{w}", "decode_device": str(device), "device": str(device), "images": n,
            "batch_size": batch_size, "mean_file_kb": round(kb, 1), "crop": crop, "seconds": round(seconds, 4),
            "images_per_s": round(n / seconds, 1), "checked_shape": list(probe.shape),
            "what": "batched decode_jpeg -> rescale shorter side to 256 + centre crop -> crop, mirror, mean, PCA"}
