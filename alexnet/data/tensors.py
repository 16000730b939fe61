"""CIFAR-10 held in memory as one uint8 tensor: the input path of the CIFAR-10 ablations.

Decoding 50,000 JPEGs every epoch costs more than training the small networks of the ablations
on two CPU cores, so the experiments decode each image folder **once** into a uint8 tensor
``(N, 3, H, W)`` and cache it as ``.npz`` in the cache folder (``$ALEXNET_CACHE`` or
``~/.cache/alexnet``, sub-folder ``tensors/``). The cache file is keyed by the folder's absolute
path and its file list (names and sizes), so a changed folder is decoded again. On a GPU the whole
training set (150 MB as uint8) lives in GPU memory, and the batched augmentation of
:mod:`alexnet.data.augment` (random patches and mirrors, PCA lighting, per-channel normalisation)
runs there. :func:`channel_stats` and :func:`rgb_pca` give the statistics those need.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import AlexNetError
from ..files import atomic_open
from .cache import cache_dir
from .folders import find_split
from .stats import rgb_eigen

__all__ = ["TensorData", "load_folder_tensors", "load_cifar10", "channel_stats", "rgb_pca"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass
class TensorData:
    """A labelled image set in memory: ``train_x``/``test_x`` uint8 ``(N, 3, H, W)``, int64 labels."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: list[str]
    description: str
    synthetic: bool
    root: str
    stats: dict = field(default_factory=dict)

    def to(self, device: str | torch.device) -> TensorData:
        """The same data on ``device`` (uint8 stays uint8: 4x less memory than float)."""
        return TensorData(self.train_x.to(device), self.train_y.to(device), self.test_x.to(device),
                          self.test_y.to(device), self.classes, self.description, self.synthetic,
                          self.root, self.stats)


def _list_split(split_dir: Path, per_class: int | None) -> tuple[list[Path], list[int], list[str]]:
    classes = sorted(p.name for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise AlexNetError(f"no class folders in {split_dir} (expected {split_dir}/<class>/<image>)")
    files, labels = [], []
    for label, name in enumerate(classes):
        found = sorted(p for p in (split_dir / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not found:
            raise AlexNetError(f"empty class folder {split_dir / name}")
        found = found[:per_class] if per_class else found
        files += found
        labels += [label] * len(found)
    return files, labels, classes


def _decode(paths: list[Path] | list[bytes], size: int | None) -> np.ndarray:
    """Decode image files (paths, or their bytes) into one uint8 ``(N, 3, H, W)`` array."""
    import io

    from PIL import Image

    out = None
    for i, p in enumerate(paths):
        with Image.open(io.BytesIO(p) if isinstance(p, bytes) else p) as im:
            im = im.convert("RGB")
            if size is not None and im.size != (size, size):
                im = im.resize((size, size), Image.BILINEAR)
            a = np.asarray(im, dtype=np.uint8)
        if out is None:
            out = np.empty((len(paths), 3, a.shape[0], a.shape[1]), dtype=np.uint8)
        if a.shape[:2] != out.shape[2:]:
            name = f"image {i} of the packed file" if isinstance(p, bytes) else p
            raise AlexNetError(f"{name}: image is {a.shape[1]}x{a.shape[0]}, the others {out.shape[3]}x{out.shape[2]}")
        out[i] = a.transpose(2, 0, 1)
    return out


def _decode_parallel(paths: list[Path] | list[bytes], size: int | None) -> np.ndarray:
    workers = min(os.cpu_count() or 1, 16)
    if workers < 3 or len(paths) < 4000:
        return _decode(paths, size)
    from concurrent.futures import ProcessPoolExecutor

    chunks = [paths[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_decode, chunks, [size] * workers))
    out = np.empty((len(paths), *parts[0].shape[1:]), dtype=np.uint8)
    for i, part in enumerate(parts):
        out[i::workers] = part
    return out


def _cache_path(split_dir: Path, files: list[Path], size: int | None) -> Path:
    key = hashlib.sha1(str(split_dir).encode())
    for f in files:
        key.update(f"{f.parent.name}/{f.name}:{f.stat().st_size}\n".encode())
    key.update(f"size={size}".encode())
    return cache_dir() / "tensors" / f"{split_dir.parent.name}-{split_dir.name}-{len(files)}-{key.hexdigest()[:16]}.npz"


def _load_npz(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path) as z:
            return z["x"], z["y"]
    except (OSError, ValueError, KeyError):
        return None  # a damaged cache file is decoded again


def load_folder_tensors(split_dir: str | Path, per_class: int | None = None, size: int | None = None,
                        use_cache: bool = True) -> tuple[torch.Tensor, torch.Tensor, list[str], bool]:
    """Decode ``split_dir/<class>/*`` once into ``(uint8 (N,3,H,W), int64 labels, classes, cached)``.

    ``per_class`` keeps the first files of each class (sorted names); ``size`` resizes images that
    are not ``size x size``. The result is cached under :func:`cache_dir` keyed by the folder's path
    and file list (names and sizes); a subset is cut from the whole folder's cache when that exists.
    ``cached`` says whether it came from the cache.
    """
    split_dir = Path(split_dir).resolve()
    if not split_dir.is_dir():
        raise AlexNetError(f"image folder {split_dir} does not exist")
    all_files, all_labels, classes = _list_split(split_dir, None)
    path = _cache_path(split_dir, all_files, size)
    if use_cache and path.exists():  # the whole folder is cached: take the subset from it
        loaded = _load_npz(path)
        if loaded is not None:
            x, y = loaded
            if per_class:
                keep = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(len(classes))])
                x, y = x[keep], y[keep]
            return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y), classes, True
    files, labels, _ = _list_split(split_dir, per_class)
    path = _cache_path(split_dir, files, size)
    if use_cache and path.exists():
        loaded = _load_npz(path)
        if loaded is not None:
            return torch.from_numpy(loaded[0]), torch.from_numpy(loaded[1]), classes, True
    x = _decode_parallel(files, size)
    y = np.asarray(labels, dtype=np.int64)
    if use_cache:
        with atomic_open(path, "wb") as f:
            np.savez(f, x=x, y=y)
    return torch.from_numpy(x), torch.from_numpy(y), classes, False


def load_cifar10(data: str | Path | None = None, *, train_per_class: int | None = None,
                 test_per_class: int | None = None, allow_synthetic: bool = False,
                 use_cache: bool = True) -> TensorData:
    """CIFAR-10 from ``data`` (or ``$ALEXNET_DATA``, or the cache folder) as :class:`TensorData`.

    The folder layout is ``cifar10/{train,test}/<class>/*.jpg`` (``val`` is accepted for ``test``).
    When no CIFAR-10 is found and ``allow_synthetic`` is true (the ``ci`` profile), a generated,
    learnable 32x32 data set is used instead (``alexnet.data.make_synthetic``) and the result says
    so: ``synthetic=True`` and a description starting with "SYNTHETIC".
    """
    from .cifar import is_cifar_python
    from .packed import is_packed
    from .root import resolve_data_root
    from .synthetic import make_synthetic

    if data is not None and is_packed(data):
        return _load_packed(Path(data), train_per_class, test_per_class)
    synthetic = False
    # Under ``ci`` do not try to download (resolve_data_root's last resort) when nothing points at data.
    look = not allow_synthetic or data is not None or os.environ.get("ALEXNET_DATA") or (cache_dir() / "cifar10").exists()
    try:
        if not look:
            raise AlexNetError("no data folder given, $ALEXNET_DATA unset and no cifar10/ in the cache folder")
        root = Path(resolve_data_root(data, dataset="cifar10"))
        if not is_cifar_python(root):
            find_split(root, "train")
    except AlexNetError as err:
        if not allow_synthetic:
            raise AlexNetError(f"CIFAR-10 not found ({err}); give --data or set ALEXNET_DATA to the folder "
                               "holding cifar10/{train,test}/<class>/*.jpg") from None
        root = make_synthetic(cache_dir() / "synthetic-cifar10", num_classes=10, train_per_class=100,
                              val_per_class=30, size=32, seed=0)
        synthetic = True
    if is_cifar_python(root):
        train_x, train_y, classes = _python_split(root, "train", train_per_class)
        test_x, test_y, test_classes = _python_split(root, "test", test_per_class)
        c1 = c2 = False
    else:
        train_x, train_y, classes, c1 = load_folder_tensors(find_split(root, "train"), train_per_class, 32,
                                                            use_cache)
        test_x, test_y, test_classes, c2 = load_folder_tensors(find_split(root, "test"), test_per_class,
                                                               32, use_cache)
    if test_classes != classes:
        raise AlexNetError(f"{root}: train and test splits have different class folders")
    kind = "SYNTHETIC generated stand-in for CIFAR-10 (no CIFAR-10 found)" if synthetic else "CIFAR-10"
    description = (f"{kind} from {root}: {len(train_y)} training images "
                   f"({'all' if not train_per_class else f'first {train_per_class}'} per class), "
                   f"{len(test_y)} test images, {len(classes)} classes, 32x32, decoded once to a uint8 tensor")
    return TensorData(train_x, train_y, test_x, test_y, classes, description, synthetic, str(root),
                      {"from_cache": bool(c1 and c2)})


def _load_packed(path: Path, train_per_class: int | None, test_per_class: int | None) -> TensorData:
    """CIFAR-10 from one packed file (:mod:`alexnet.data.packed`), decoded in parallel, not cached."""
    from .packed import read_packed

    parts = {}
    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        try:
            packed = read_packed(path, split)
        except AlexNetError:
            if split != "test":
                raise
            packed = read_packed(path, "val")
        keep = np.arange(len(packed))
        if per_class:
            keep = np.concatenate([np.flatnonzero(packed.labels == c)[:per_class] for c in range(len(packed.classes))])
        x = _decode_parallel([packed.blob(int(i)) for i in keep], 32)
        parts[split] = (torch.from_numpy(x), torch.from_numpy(packed.labels[keep].copy()), packed.classes)
    (train_x, train_y, classes), (test_x, test_y, test_classes) = parts["train"], parts["test"]
    if classes != test_classes:
        raise AlexNetError(f"{path}: train and test splits have different classes")
    description = (f"CIFAR-10 from {path.name}: {len(train_y)} training images "
                   f"({'all' if not train_per_class else f'first {train_per_class}'} per class), "
                   f"{len(test_y)} test images, {len(classes)} classes, 32x32, decoded once to a uint8 tensor")
    return TensorData(train_x, train_y, test_x, test_y, classes, description, False, str(path), {"from_cache": False})


def _python_split(root: Path, split: str, per_class: int | None) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """CIFAR-10 in torchvision's Python format (``cifar-10-batches-py``), first ``per_class`` per class."""
    from .cifar import read_cifar_python

    images, labels, classes = read_cifar_python(root, split)
    y = np.asarray(labels, dtype=np.int64)
    keep = np.arange(len(y))
    if per_class:
        keep = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(len(classes))])
    x = torch.from_numpy(np.ascontiguousarray(images[keep].transpose(0, 3, 1, 2)))
    return x, torch.from_numpy(y[keep]), list(classes)


# ----------------------------------------------------------------------------------- statistics
def channel_stats(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation of uint8 images ``(N,3,H,W)``, in pixel units."""
    xf = x.float()
    return xf.mean(dim=(0, 2, 3)), xf.std(dim=(0, 2, 3))


def rgb_pca(x: torch.Tensor, max_pixels: int = 2_000_000) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (descending) and eigenvectors (columns) of the 3x3 covariance of RGB in [0, 1].

    Section 4.1 computes PCA "on the set of RGB pixel values throughout the training set". Units and
    sign convention follow :func:`alexnet.data.pca_stats` (RGB in [0, 1], first component of each
    eigenvector >= 0); here from the uint8 tensor in memory (a seeded sample of ``max_pixels``).
    """
    pixels = x.permute(0, 2, 3, 1).reshape(-1, 3)
    if pixels.shape[0] > max_pixels:
        g = torch.Generator().manual_seed(0)
        pixels = pixels[torch.randperm(pixels.shape[0], generator=g)[:max_pixels]]
    vals, vecs = rgb_eigen(torch.cov(pixels.double().T / 255.0))
    return vals.float(), vecs.float()
