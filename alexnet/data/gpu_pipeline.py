"""The paper's training input pipeline (Sections 2 and 4.1) done in batches on the device.

Decoding JPEGs and cropping them one by one on CPU cores gives a few hundred images per second
per core; a modern GPU trains AlexNet at tens of thousands. Two ways to feed it, both ending in
the same batched augmentation on the device:

* A pre-resized **uint8 store**: every training image rescaled (shorter side 256) and
  centre-cropped to ``3 x 256 x 256`` once (Section 2), kept in one ``numpy.memmap`` file
  (196 KiB per image). :class:`StoreLoader` reads a random batch straight into pinned memory
  with ``os.preadv`` from a few threads (system calls run without the GIL and copy from the page
  cache without faulting every page in), in the background, and copies it to the device without
  blocking.
* **Batched JPEG decoding** (:func:`decode_batch`): ``torchvision.io.decode_jpeg`` on a list of
  files at once, on the GPU (nvJPEG) when the tensors go to CUDA, then the Section 2 rescale and
  centre crop on the device, images of one size together.

:class:`GPUAugment` then does, for a whole ``uint8 (N, 3, R, R)`` batch on its device: the random
``crop x crop`` patch and the horizontal mirror with probability 1/2 (4.1), the mean image
subtracted under the patch (2), and the PCA colour shift with ``alpha ~ N(0, 0.1)`` per image
(4.1) -- the same arithmetic as :class:`alexnet.data.transforms.RandomCropFlip` with
:class:`~alexnet.data.transforms.PCALighting`, one gather and one fused expression per batch.
Everything also runs on the CPU (how the tests check it).
"""
from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..errors import AlexNetError
from .stats import IMAGENET_MEAN_RGB, IMAGENET_PCA, PCAStats
from .transforms import random_patch

__all__ = ["GPUAugment", "Uint8Store", "StoreLoader", "write_store", "write_random_store", "decode_batch",
           "write_jpegs", "store_rate", "jpeg_rate"]


class GPUAugment:
    """Section 2 mean subtraction and Section 4.1 crops, mirrors and PCA lighting, batched.

    Args:
        mean: the mean image ``(3, R, R)`` or a per-channel mean ``(3, 1, 1)`` in output units
            (``scale * [0, 1]``), as :class:`~alexnet.data.transforms.RandomCropFlip` takes it.
        crop: patch size (224, or 227 as Caffe).
        scale: output units per unit of ``pixel / 255`` (255: the paper's raw values).
        flip: mirror each patch with probability 1/2.
        pca: eigenvalues and eigenvectors of the RGB covariance (``[0, 1]`` units); ``None``
            switches the colour augmentation off.
        std: standard deviation of the ``alpha_i`` (0.1 in the paper).
        dtype, channels_last: the output's dtype and memory format (channels-last comes free:
            the gather produces it).
    """

    def __init__(self, mean: Tensor | None = None, crop: int = 224, *, scale: float = 255.0, flip: bool = True,
                 pca: PCAStats | None = IMAGENET_PCA, std: float = 0.1, dtype: torch.dtype = torch.float32,
                 channels_last: bool = True) -> None:
        if mean is None:
            mean = torch.tensor(IMAGENET_MEAN_RGB).view(3, 1, 1) * scale
        if mean.dim() != 3 or mean.shape[0] != 3:
            raise ValueError(f"GPUAugment: mean must be (3, R, R) or (3, 1, 1), got shape {tuple(mean.shape)}")
        if crop < 1:
            raise ValueError(f"GPUAugment: crop must be >= 1, got {crop}")
        self.mean_hwc = mean.to(torch.float32).permute(1, 2, 0).contiguous()  # (R, R, 3) or (1, 1, 3)
        self.crop, self.scale, self.flip, self.std = crop, scale, flip, std
        self.pca = pca
        self.dtype, self.channels_last = dtype, channels_last
        self._cache: dict[torch.device, tuple[Tensor, Tensor | None, Tensor | None]] = {}

    def _on(self, device: torch.device):
        if device not in self._cache:
            vals = vecs = None
            if self.pca is not None:
                vals = self.pca.eigvals.to(device, torch.float32) * self.scale
                vecs = self.pca.eigvecs.to(device, torch.float32)
            self._cache[device] = (self.mean_hwc.to(device), vals, vecs)
        return self._cache[device]

    def __call__(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """``uint8 (N, 3, R, R)`` on any device -> ``(N, 3, crop, crop)`` augmented, same device."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"GPUAugment expects uint8 (N, 3, H, W) images, got shape {tuple(images.shape)}")
        n, _, h, w = images.shape
        c = self.crop
        if h < c or w < c:
            raise ValueError(f"crop {c} is larger than the {h}x{w} images; use resize >= crop")
        dev = images.device
        mean, vals, vecs = self._on(dev)
        if mean.shape[0] > 1 and tuple(mean.shape[:2]) != (h, w):
            raise ValueError(f"GPUAugment: mean image is {tuple(mean.shape[:2])}, images are {(h, w)}")
        top, left, mirror = random_patch(n, h, w, c, flip=self.flip, generator=generator, device=dev)
        top, left = top[:, None], left[:, None]
        mirror = mirror[:, None] if mirror is not None else None
        alpha = torch.randn(n, 3, device=dev, generator=generator) * self.std if vals is not None else None
        ar = torch.arange(c, device=dev)
        cols = ar.expand(n, c)
        if mirror is not None:
            cols = torch.where(mirror, c - 1 - ar, ar)
        rows = (top + ar)[:, :, None]  # (N, c, 1)
        cols = (left + cols)[:, None, :]  # (N, 1, c)
        idx = torch.arange(n, device=dev)[:, None, None]
        patch = images[idx, :, rows, cols]  # (N, c, c, 3): advanced indices first, then channels
        out = patch.to(torch.float32) * (self.scale / 255.0)
        out -= mean[rows, cols] if mean.shape[0] > 1 else mean  # the mean under the (mirrored) patch
        if alpha is not None:
            out += ((alpha * vals) @ vecs.T)[:, None, None, :]  # eigvecs @ (alpha * eigvals), per image
        out = out.to(self.dtype).permute(0, 3, 1, 2)  # NCHW shape, channels-last memory
        return out if self.channels_last else out.contiguous()

    def centre(self, images: Tensor) -> Tensor:
        """Testing with one view (Section 4.1): the central ``crop x crop`` patch of each image of a
        ``uint8 (N, 3, R, R)`` batch, minus the mean image under it; no mirror, no lighting."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"GPUAugment expects uint8 (N, 3, H, W) images, got shape {tuple(images.shape)}")
        _, _, h, w = images.shape
        c = self.crop
        if h < c or w < c:
            raise ValueError(f"crop {c} is larger than the {h}x{w} images; use resize >= crop")
        mean = self._on(images.device)[0].permute(2, 0, 1)
        t, l = (h - c) // 2, (w - c) // 2
        out = images[:, :, t:t + c, l:l + c].to(torch.float32) * (self.scale / 255.0)
        out -= mean[:, t:t + c, l:l + c] if mean.shape[1] > 1 else mean
        out = out.to(self.dtype)
        return out.contiguous(memory_format=torch.channels_last) if self.channels_last else out


# ------------------------------------------------------------------------------- uint8 store
class Uint8Store:
    """A folder holding ``images.u8`` (``N x 3 x R x R`` uint8, memory-mapped), ``labels.npy`` and
    ``store.json`` (count, size, classes, where the images came from)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        meta_path = self.path / "store.json"
        if not meta_path.is_file():
            raise FileNotFoundError(f"{self.path} is not a uint8 store (no store.json)")
        self.meta = json.loads(meta_path.read_text())
        n, r = int(self.meta["count"]), int(self.meta["size"])
        self.images = np.memmap(self.path / "images.u8", dtype=np.uint8, mode="r", shape=(n, 3, r, r))
        self.labels = torch.from_numpy(np.load(self.path / "labels.npy").astype(np.int64))
        self.size = r

    def __len__(self) -> int:
        return self.images.shape[0]

    def read_into(self, indices: Sequence[int], out: Tensor, threads: int = 4) -> None:
        """Read images ``indices`` into the uint8 tensor ``out`` (e.g. pinned), by ``os.preadv``."""
        import os
        from concurrent.futures import ThreadPoolExecutor

        per = int(np.prod(self.images.shape[1:]))
        arr = out.numpy().reshape(len(indices), per)
        if not hasattr(os, "preadv"):  # pragma: no cover - not Linux
            torch.index_select(self.tensor(), 0, torch.as_tensor(list(indices)), out=out)
            return
        fd = os.open(self.path / "images.u8", os.O_RDONLY)
        try:
            def read(chunk: range) -> None:
                for j in chunk:
                    want, got = per, 0
                    while got < want:  # a short read is legal; finish it
                        n = os.preadv(fd, [memoryview(arr[j, got:])], int(indices[j]) * per + got)
                        if n <= 0:
                            raise OSError(f"{self.path / 'images.u8'}: short read at image {indices[j]}")
                        got += n

            step = max(1, -(-len(indices) // threads))
            chunks = [range(i, min(i + step, len(indices))) for i in range(0, len(indices), step)]
            if len(chunks) == 1:
                read(chunks[0])
            else:
                with ThreadPoolExecutor(len(chunks)) as pool:
                    list(pool.map(read, chunks))
        finally:
            os.close(fd)

    def tensor(self) -> Tensor:
        """The whole store as a (memory-mapped, read-only) uint8 tensor, no copy."""
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns that the memmap is not writable; we only read
            return torch.from_numpy(self.images)


def write_store(path: str | Path, images: Iterator[tuple[Tensor, int]] | Sequence[tuple[Tensor, int]], count: int,
                *, size: int = 256, classes: Sequence[str] = (), source: str = "") -> Uint8Store:
    """Write ``count`` ``(uint8 (3, size, size) image, label)`` pairs as a :class:`Uint8Store`.

    Images must already be rescaled and centre-cropped (:func:`alexnet.data.resize_centre_crop`).
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    arr = np.memmap(path / "images.u8", dtype=np.uint8, mode="w+", shape=(count, 3, size, size))
    labels = np.zeros(count, dtype=np.int32)
    i = 0
    for img, label in images:
        if i >= count:
            break
        if tuple(img.shape) != (3, size, size) or img.dtype != torch.uint8:
            raise ValueError(f"write_store: image {i} is {img.dtype} {tuple(img.shape)}, need uint8 (3, {size}, {size})")
        arr[i] = img.numpy()
        labels[i] = label
        i += 1
    if i != count:
        raise ValueError(f"write_store: got {i} images, expected {count}")
    arr.flush()
    np.save(path / "labels.npy", labels)
    (path / "store.json").write_text(json.dumps({"count": count, "size": size, "classes": list(classes),
                                                 "source": source}, indent=2) + "\n")
    return Uint8Store(path)


def write_random_store(path: str | Path, count: int, *, size: int = 256, seed: int = 0) -> Uint8Store:
    """A store of random images, for measuring the pipeline's speed (content does not matter)."""
    gen = torch.Generator().manual_seed(seed)

    def images():
        block = torch.randint(0, 256, (64, 3, size, size), dtype=torch.uint8, generator=gen)
        for i in range(count):
            yield block[i % 64], i % 10

    return write_store(path, images(), count, size=size, classes=[str(i) for i in range(10)],
                       source="random uint8 (benchmark only)")


class StoreLoader:
    """Random batches of a :class:`Uint8Store` as augmented tensors on ``device``.

    One epoch visits every image once in a seeded random order (``drop_last``). A background
    thread reads the next batches into pinned host memory (``prefetch`` of them, each read by
    ``readers`` threads) while the device works; the copy to the device does not block, and
    :class:`GPUAugment` runs there. Yields ``(images, labels)``.
    """

    def __init__(self, store: Uint8Store, batch_size: int, device: str | torch.device, *,
                 augment: GPUAugment | None = None, seed: int = 0, prefetch: int = 3, epoch: int = 0,
                 readers: int | None = None) -> None:
        if batch_size < 1 or batch_size > len(store):
            raise ValueError(f"StoreLoader: batch_size must be in [1, {len(store)}], got {batch_size}")
        self.store, self.batch_size, self.device = store, batch_size, torch.device(device)
        self.augment = augment or GPUAugment()
        self.seed, self.prefetch, self.epoch = seed, max(1, prefetch), epoch
        self.readers = max(1, readers or min(8, os.cpu_count() or 1))
        self.generator = None
        if self.device.type == "cuda":
            self.generator = torch.Generator(self.device).manual_seed(seed)
        else:
            self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.store) // self.batch_size

    def _batches(self) -> Iterator[tuple[Tensor, Tensor]]:
        order = torch.randperm(len(self.store), generator=torch.Generator().manual_seed(self.seed + self.epoch))
        shape = self.store.images.shape[1:]
        pin = self.device.type == "cuda"
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            buf = torch.empty((len(idx), *shape), dtype=torch.uint8, pin_memory=pin)
            self.store.read_into(idx.tolist(), buf, threads=self.readers)
            yield buf, self.store.labels[idx]

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        q: queue.Queue = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()
        done = object()

        def work() -> None:
            try:
                for item in self._batches():
                    if stop.is_set():
                        return
                    q.put(item)
                q.put(done)
            except BaseException as err:  # surface the worker's error in the consumer
                q.put(err)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        try:
            while True:
                item = q.get()
                if item is done:
                    break
                if isinstance(item, BaseException):
                    raise item
                images, labels = item
                images = images.to(self.device, non_blocking=True)
                labels = labels.to(self.device, non_blocking=True)
                yield self.augment(images, generator=self.generator), labels
        finally:
            stop.set()
            while thread.is_alive():
                try:
                    q.get_nowait()
                except queue.Empty:
                    thread.join(timeout=0.05)
        self.epoch += 1


# ------------------------------------------------------------------------------- JPEG decoding
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


# ------------------------------------------------------------------------------- rates
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def store_rate(store: Uint8Store, device: str | torch.device, *, batch_size: int = 256, batches: int = 20,
               crop: int = 224) -> dict:
    """Images/s from a :class:`Uint8Store` into augmented ``(N, 3, crop, crop)`` tensors on ``device``."""
    device = torch.device(device)
    batch_size = min(batch_size, len(store))
    aug = GPUAugment(torch.tensor(IMAGENET_MEAN_RGB).view(3, 1, 1).expand(3, store.size, store.size) * 255.0, crop)
    n = 0
    loader = StoreLoader(store, batch_size, device, augment=aug)
    it = _cycle(loader)
    next(it)  # warm-up: thread start, pinned allocations, kernels
    _sync(device)
    start = time.perf_counter()
    for _ in range(batches):
        x, _ = next(it)
        n += x.shape[0]
    _sync(device)
    seconds = time.perf_counter() - start
    return {"source": "uint8 store (memmap, page cache)", "device": str(device), "images": n,
            "batch_size": batch_size, "store_images": len(store), "crop": crop, "seconds": round(seconds, 4),
            "images_per_s": round(n / seconds, 1),
            "what": "preadv into pinned memory (background thread, up to 8 readers) -> device -> crop, mirror, mean image, PCA"}


def _cycle(loader: StoreLoader) -> Iterator[tuple[Tensor, Tensor]]:
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
