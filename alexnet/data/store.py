"""The paper's 256x256 images decoded once into a uint8 store, read in whole batches.

Section 2: every image is rescaled so its shorter side is 256 and its central 256x256 patch kept.
Decoding a JPEG and rescaling it costs milliseconds; on two CPU cores that alone would slow
training. A :class:`Uint8Store` is a folder holding every image of a split so prepared, once:
``images.u8`` (``uint8 N x 3 x R x R``, memory-mapped; 196 KiB per 256x256 image),
``labels.npy`` and ``store.json``.

:func:`cached_store` builds the store of a split under the project's cache folder
(:func:`alexnet.data.cache.cache_dir`, never inside the data folder), in a folder named by a hash of
the source folder, the split, the rescale size, and the file list (names, labels, sizes and
modification times): a changed data set gets a new store, an unchanged one is reused. The store is
written to a temporary folder and renamed into place when complete, so a store killed half-written
is never read. :func:`build_store_data` gives the training loop both splits' stores and the data
set's mean image and PCA, computed from the store.

:class:`StoreBatches` then yields the batches of one epoch: the indices of
:class:`alexnet.data.sampler.ResumableSampler`, read with ``os.preadv`` into (pinned) memory by a
few threads, and Section 4.1's random crops, mirrors and PCA lighting done for the whole batch on
the device by :class:`~alexnet.data.augment.GPUAugment` with a generator seeded from ``(seed,
epoch, batch, rank)``: every random choice is a function of the position in the run, so a run
resumed at any batch continues exactly. A background thread prepares the next batches while the
network trains. With ``train=False`` it gives the validation batches in order, the centre
``crop x crop`` patch of each image.
"""
from __future__ import annotations

import dataclasses
import json
import os
import queue
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import AlexNetError
from .augment import GPUAugment
from .cache import cache_dir, hash_strings
from .datasets import DataBundle, RawImages
from .sampler import derive_seed

__all__ = ["Uint8Store", "write_store", "cached_store", "store_folder", "StoreImages", "build_store_data",
           "StoreBatches", "background"]

#: Bump when the store's bytes would change for the same source (e.g. another resize method).
STORE_VERSION = 1


# ------------------------------------------------------------------------------- the store
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
                *, size: int = 256, classes: Sequence[str] = (), source: str = "",
                meta: dict[str, Any] | None = None) -> Uint8Store:
    """Write ``count`` ``(uint8 (3, size, size) image, label)`` pairs as a :class:`Uint8Store`.

    Images must already be rescaled and centre-cropped (:func:`alexnet.data.resize_centre_crop`);
    ``meta`` adds keys to ``store.json``.
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
                                                 "source": source, **(meta or {})}, indent=2) + "\n")
    return Uint8Store(path)


def _fingerprint(raw: RawImages) -> list[str]:
    """One line per image: its key and label, and for files their size and modification time."""
    paths = getattr(raw, "paths", None)
    lines = []
    for i, (key, label) in enumerate(zip(raw.keys, raw.targets)):
        line = f"{key}\t{label}"
        if paths is not None:
            st = os.stat(paths[i])
            line += f"\t{st.st_size}\t{st.st_mtime_ns}"
        lines.append(line)
    return lines


def store_folder(raw: RawImages, root: str | Path, split: str) -> Path:
    """Where the store of ``raw`` (split ``split`` of the data set at ``root``) lives in the cache."""
    root = Path(root).expanduser().resolve()
    key = hash_strings([f"version={STORE_VERSION}", str(root), split, f"resize={raw.resize}", *_fingerprint(raw)])
    name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in root.name)[:40] or "data"
    return cache_dir() / "stores" / f"{name}-{split}-{raw.resize}-{key}"


def cached_store(raw: RawImages, root: str | Path, split: str, *, workers: int | None = None,
                 progress: bool = False, log=None) -> Uint8Store:
    """The :class:`Uint8Store` of ``raw``'s ``resize x resize`` images, built once and reused.

    ``raw`` yields ``uint8 (3, R, R)`` images (Section 2's rescale and centre crop) with labels in
    ``raw.targets``. A bad image stops the build with the error that names it (unless ``raw``
    skips bad files). ``log`` (a ``print``-like function) hears when a store is built.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise AlexNetError(f"data folder {root} does not exist")
    folder = store_folder(raw, root, split)
    if folder.parent.is_dir():
        for stale in folder.parent.glob(f"{folder.name}.tmp-*"):  # left by a build that was killed
            if not _alive(stale.name.rsplit("-", 1)[-1]):
                shutil.rmtree(stale, ignore_errors=True)
    if (folder / "store.json").is_file():
        try:
            store = Uint8Store(folder)
            if len(store) == len(raw) and store.size == raw.resize:
                return store
        except (OSError, ValueError, KeyError):
            pass
        shutil.rmtree(folder, ignore_errors=True)  # damaged: build it again
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    if log is not None:
        log(f"decoding the {len(raw)} {split} images of {root} once into a {raw.resize}x{raw.resize} uint8 store "
            f"({len(raw) * 3 * raw.resize ** 2 / 2 ** 30:.2f} GiB) at {folder}")
    try:
        _write(raw, tmp, root, split, workers, progress)
        try:
            os.replace(tmp, folder)
        except OSError:  # another process finished the same store first
            if not (folder / "store.json").is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Uint8Store(folder)


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
        return True
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True


def _write(raw: RawImages, path: Path, root: Path, split: str, workers: int | None, progress: bool) -> None:
    from .loader import default_workers

    n, r = len(raw), raw.resize
    workers = default_workers() if workers is None else workers
    loader = torch.utils.data.DataLoader(raw, batch_size=32, shuffle=False, num_workers=workers if n >= 256 else 0)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=f"store {split} {r}x{r}", unit="img")

    def images() -> Iterator[tuple[Tensor, int]]:
        labels = iter(raw.targets)
        for batch in loader:
            yield from ((img, next(labels)) for img in batch)
            if bar is not None:
                bar.update(len(batch))

    try:
        write_store(path, images(), n, size=r, source=str(Path(root).resolve()), meta={
            "split": split, "version": STORE_VERSION, "keys_hash": hash_strings(raw.keys),
            "what": f"Section 2: shorter side rescaled to {r}, central {r}x{r} patch, uint8 RGB, N x 3 x {r} x {r}"})
    except ValueError as err:  # fewer images than listed
        raise AlexNetError(f"{root}: {split} images: {err}") from None
    finally:
        if bar is not None:
            bar.close()


class StoreImages(RawImages):
    """A :class:`Uint8Store` seen as :class:`RawImages` (same keys and labels as the images it was
    built from), so the mean image and PCA statistics are computed from it, and cached under the
    same names, without decoding the files again."""

    def __init__(self, store: Uint8Store, like: RawImages) -> None:
        if len(store) != len(like):
            raise AlexNetError(f"store {store.path} holds {len(store)} images, the data set {len(like)}")
        self.store, self.resize = store, store.size
        self.keys, self.targets = list(like.keys), list(like.targets)

    def __getitem__(self, i: int) -> Tensor:
        return torch.from_numpy(np.array(self.store.images[i]))


def build_store_data(root: Path, *, resize: int, crop: int, augment: bool, pca_lighting: bool, mean_image: bool,
                     skip_bad: bool, max_per_class: int | None, workers: int | None,
                     log: Callable[[str], Any] | None = None) -> tuple[DataBundle, Uint8Store, Uint8Store]:
    """Section 2's images of both splits decoded once into cached stores: ``(bundle, train store, val
    store)``; the bundle's mean image and PCA come from the store (the same cache files as the images
    path computes: same keys, same pixels)."""
    from .datasets import build_datasets
    from .stats import IMAGENET_MEAN_RGB, mean_image as mean_of, pca_stats

    bundle = build_datasets(root, resize=resize, crop=crop, augment=augment, pca_lighting=False, mean_image=False,
                            skip_bad=skip_bad, max_per_class=max_per_class)
    train_raw, val_raw = bundle.train.raw, bundle.val.raw
    train_store = cached_store(train_raw, root, "train", workers=workers, log=log)
    val_store = cached_store(val_raw, root, "val", workers=workers, log=log)
    train_images = StoreImages(train_store, train_raw)
    if mean_image:
        mean = mean_of(train_images, root, workers=0) * bundle.scale
    else:
        mean = torch.tensor(IMAGENET_MEAN_RGB).view(3, 1, 1) * bundle.scale
    pca = pca_stats(train_images, root, workers=0) if (augment and pca_lighting) else None
    return dataclasses.replace(bundle, mean=mean, pca=pca), train_store, val_store


def background(items: Iterable[Any], depth: int = 2) -> Iterator[Any]:
    """Yield ``items`` as a background thread makes them, at most ``depth`` ahead (the package's one
    prefetch loop). An error in the thread is raised here; stopping early stops the thread."""
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(done)
        except BaseException as err:  # surface the worker's error in the consumer
            put(err)

    thread = threading.Thread(target=work, name="store-batches", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


class StoreBatches:
    """The batches of one epoch from a :class:`Uint8Store`, prepared in a background thread.

    Training (``train=True``): ``sampler`` (a :class:`~alexnet.data.sampler.ResumableSampler` whose
    position was set with ``set_position``) gives each batch's indices; ``augment`` crops, mirrors
    and lights the batch with a generator seeded from ``(seed, epoch, batch, rank)``.
    ``random_crops=False`` trains on the centre patch (no augmentation). Validation
    (``train=False``): ``indices`` in order, ``batch_size`` at a time, centre patch.
    Yields ``(float images (N, 3, crop, crop), int64 labels (N,))`` on ``device``.
    """

    def __init__(self, store: Uint8Store, augment: GPUAugment, device: str | torch.device, *, train: bool,
                 sampler=None, indices: Sequence[int] | None = None, batch_size: int = 128, seed: int = 0,
                 random_crops: bool = True, prefetch: int = 2, readers: int = 2) -> None:
        if train and sampler is None:
            raise ValueError("StoreBatches: training needs a sampler")
        self.store, self.augment, self.device, self.train = store, augment, torch.device(device), train
        self.sampler, self.seed, self.prefetch, self.readers = sampler, seed, max(1, prefetch), readers
        self.indices = list(range(len(store))) if indices is None else list(indices)
        self.batch_size, self.random_crops = batch_size, random_crops

    def _index_batches(self) -> Iterator[tuple[int, list[int]]]:
        if self.train:
            yield from self.sampler.batches()
        else:
            for b, lo in enumerate(range(0, len(self.indices), self.batch_size)):
                yield b, self.indices[lo:lo + self.batch_size]

    def _make(self, b: int, idx: list[int]) -> tuple[Tensor, Tensor]:
        shape = self.store.images.shape[1:]
        buf = torch.empty((len(idx), *shape), dtype=torch.uint8, pin_memory=self.device.type == "cuda")
        self.store.read_into(idx, buf, threads=self.readers)
        labels = self.store.labels[torch.as_tensor(idx, dtype=torch.long)]
        images = buf.to(self.device, non_blocking=True)
        if self.train and self.random_crops:
            s = self.sampler
            gen = torch.Generator(self.device).manual_seed(derive_seed(self.seed, 0xA06, s.epoch, b, s.rank))
            x = self.augment(images, generator=gen)
        else:
            x = self.augment.centre(images)
        return x, labels.to(self.device, non_blocking=True)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        return background((self._make(b, idx) for b, idx in self._index_batches()), self.prefetch)

    def __len__(self) -> int:
        if self.train:
            return max(0, self.sampler.num_batches() - self.sampler.start_batch)
        return -(-len(self.indices) // self.batch_size)
