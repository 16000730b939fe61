"""The paper's 256x256 images decoded once into a cached uint8 store, read in whole batches.

Section 2: every image is rescaled so its shorter side is 256 and its central 256x256 patch kept.
Decoding a JPEG and rescaling it costs milliseconds; on two CPU cores that alone would slow
training. :func:`cached_store` therefore decodes each split once into a
:class:`~alexnet.data.gpu_pipeline.Uint8Store` (``uint8 N x 3 x 256 x 256``, memory-mapped) under
the project's cache folder (:func:`alexnet.data.cache.cache_dir`, never inside the data folder),
in a folder named by a hash of the source folder, the split, the rescale size, and the file list
(names, labels, sizes and modification times): a changed data set gets a new store, an unchanged
one is reused. The store is written to a temporary folder and renamed into place when complete,
so a store killed half-written is never read.

:class:`StoreBatches` then yields the training batches of one epoch: the indices of
:class:`alexnet.training.sampler.ResumableSampler`, read with ``os.preadv``, and Section 4.1's random
crops, mirrors and PCA lighting done for the whole batch by
:class:`~alexnet.data.gpu_pipeline.GPUAugment` with a generator seeded from ``(seed, epoch,
batch, rank)``: every random choice is a function of the position in the run, so a run resumed
at any batch continues exactly. A background thread prepares the next batches while the network
trains. :class:`StoreBatches` with ``train=False`` gives the validation batches in order, the
centre ``crop x crop`` patch of each image.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..errors import AlexNetError
from .cache import cache_dir, hash_strings
from .datasets import RawImages
from .gpu_pipeline import GPUAugment, Uint8Store

__all__ = ["cached_store", "store_folder", "StoreImages", "StoreBatches"]

#: Bump when the store's bytes would change for the same source (e.g. another resize method).
STORE_VERSION = 1


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
    path.mkdir(parents=True)
    images = np.memmap(path / "images.u8", dtype=np.uint8, mode="w+", shape=(n, 3, r, r))
    workers = default_workers() if workers is None else workers
    loader = torch.utils.data.DataLoader(raw, batch_size=32, shuffle=False, num_workers=workers if n >= 256 else 0)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=f"store {split} {r}x{r}", unit="img")
    i = 0
    for batch in loader:
        images[i:i + len(batch)] = batch.numpy()
        i += len(batch)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    if i != n:
        raise AlexNetError(f"{root}: expected {n} {split} images, read {i}")
    images.flush()
    del images
    np.save(path / "labels.npy", np.asarray(raw.targets, dtype=np.int32))
    (path / "store.json").write_text(json.dumps({
        "count": n, "size": r, "split": split, "source": str(Path(root).resolve()),
        "what": f"Section 2: shorter side rescaled to {r}, central {r}x{r} patch, uint8 RGB, N x 3 x {r} x {r}",
        "version": STORE_VERSION, "keys_hash": hash_strings(raw.keys),
    }, indent=2) + "\n")


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


class StoreBatches:
    """The batches of one epoch from a :class:`Uint8Store`, prepared in a background thread.

    Training (``train=True``): ``sampler`` (a :class:`alexnet.training.sampler.ResumableSampler` whose
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
        from ..training.sampler import derive_seed

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
        q: queue.Queue = queue.Queue(maxsize=self.prefetch)
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
                for b, idx in self._index_batches():
                    if not put(self._make(b, idx)):
                        return
                put(done)
            except BaseException as err:  # surface the worker's error in the training loop
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

    def __len__(self) -> int:
        if self.train:
            return max(0, self.sampler.num_batches() - self.sampler.start_batch)
        return -(-len(self.indices) // self.batch_size)
