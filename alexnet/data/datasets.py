"""Data sets with the paper's pipeline: ImageNet-style folders, CIFAR-10, the generated set.

:func:`build_datasets` returns a :class:`DataBundle` with a training set (Section 2 rescale and
centre crop to ``resize``, mean subtraction, Section 4.1 random ``crop`` patches, mirrors and PCA
lighting) and a validation set (the centre patch). :func:`build_eval_dataset` gives one split for
testing, optionally with the paper's ten patches. Items are ``(float32 tensor, int label)``.

Small-scale experiments choose ``resize``/``crop`` freely, e.g. CIFAR-10 at ``resize=32,
crop=28`` or ``resize=80, crop=67``.
"""
from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from ..errors import AlexNetError
from .cifar import is_cifar_python, read_cifar_python
from .folders import check_same_classes, class_names, find_split, list_classes, scan_split
from .images import BadImageError, load_image, quick_check, resize_centre_crop
from .stats import IMAGENET_MEAN_RGB, PCAStats, mean_image as compute_mean_image, pca_stats
from .synthetic import is_synthetic
from .transforms import CentreCrop, PCALighting, RandomCropFlip, TenCrop

__all__ = [
    "DataBundle", "RawImages", "FolderImages", "ArrayImages", "PaperDataset",
    "build_datasets", "build_eval_dataset", "describe_root",
]


class RawImages(Dataset):
    """Images rescaled and centre-cropped to ``resize x resize`` (Section 2), as ``uint8 (3, R, R)``.

    ``keys`` identify the items (they name the cache files of the statistics); ``targets`` are the
    labels.
    """

    resize: int
    keys: list[str]
    targets: list[int]

    def __len__(self) -> int:
        return len(self.targets)


class FolderImages(RawImages):
    """Image files; a bad file raises :class:`BadImageError` naming it, or with ``skip_bad``
    (files already screened) is replaced by the next item with a warning."""

    def __init__(self, samples: list[tuple[Path, int]], resize: int, root: Path, skip_bad: bool = False) -> None:
        self.paths = [p for p, _ in samples]
        self.targets = [t for _, t in samples]
        self.resize, self.root, self.skip_bad = resize, Path(root), skip_bad
        self.keys = [_relative(p, self.root) for p in self.paths]

    def __getitem__(self, i: int) -> Tensor:
        for attempt in range(len(self.paths)):
            j = (i + attempt) % len(self.paths)
            try:
                return resize_centre_crop(load_image(self.paths[j]), self.resize)
            except BadImageError as err:
                if not self.skip_bad:
                    raise
                warnings.warn(f"skipped bad image: {err}", stacklevel=2)
        raise AlexNetError(f"no readable image in {self.root}")


class ArrayImages(RawImages):
    """Images held in memory as ``uint8 (N, H, W, 3)`` (CIFAR-10's Python batches)."""

    def __init__(self, images: np.ndarray, targets: list[int], resize: int, key: str) -> None:
        self.images, self.targets, self.resize = images, list(targets), resize
        self.keys = [f"{key}:{i}" for i in range(len(images))]

    def __getitem__(self, i: int) -> Tensor:
        return resize_centre_crop(torch.from_numpy(self.images[i]).permute(2, 0, 1), self.resize)


class PaperDataset(Dataset):
    """``(transform(raw[i]), label)``: the paper's preprocessing applied to :class:`RawImages`."""

    def __init__(self, raw: RawImages, transform, classes: list[str], description: str = "", *,
                 class_names: list[str] | None = None, mean: Tensor | None = None,
                 skipped: list[Path] | None = None) -> None:
        self.raw, self.transform, self.classes, self.description = raw, transform, classes, description
        self.class_names = class_names or list(classes)
        self.mean = mean
        self.skipped = skipped or []

    @property
    def targets(self) -> list[int]:
        return self.raw.targets

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, i: int) -> tuple[Tensor, int]:
        return self.transform(self.raw[i]), self.raw.targets[i]

    def __repr__(self) -> str:
        return f"PaperDataset({len(self)} images, {self.transform.__class__.__name__}: {self.description})"


@dataclass
class DataBundle:
    """What :func:`build_datasets` returns.

    ``mean`` is the mean image subtracted from every input, ``(3, resize, resize)`` (or a
    per-channel ``(3, 1, 1)`` when ``mean_image=False``), in the units of the inputs (``scale``);
    ``pca`` the lighting statistics (``None`` when off); ``skipped`` the bad files left out.
    """

    train: PaperDataset
    val: PaperDataset
    classes: list[str]
    class_names: list[str]
    description: str
    synthetic: bool
    root: Path
    mean: Tensor
    pca: PCAStats | None = None
    resize: int = 256
    crop: int = 224
    scale: float = 255.0
    skipped: list[Path] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def _screen(samples: list[tuple[Path, int]], workers: int = 16) -> tuple[list[tuple[Path, int]], list[Path]]:
    """Drop the files :func:`quick_check` finds bad; returns ``(kept, bad)``."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        reasons = list(pool.map(lambda s: quick_check(s[0]), samples, chunksize=64))
    kept = [s for s, r in zip(samples, reasons) if r is None]
    bad = [s[0] for s, r in zip(samples, reasons) if r is not None]
    return kept, bad


def describe_root(root: Path) -> str:
    """A short name for the data set at ``root`` ("CIFAR-10", "ImageNet", ...)."""
    name = Path(root).resolve().name.lower()
    if "cifar" in name:
        return "CIFAR-10"
    if "imagenet" in name or "ilsvrc" in name:
        return "ImageNet"
    return "image"


def _check_sizes(resize: int, crop: int) -> None:
    if not (isinstance(resize, int) and isinstance(crop, int)) or crop < 1 or resize < crop:
        raise AlexNetError(f"need 1 <= crop <= resize, got resize={resize!r}, crop={crop!r}")


def _load_split(root: Path, split: str, classes: list[str] | None, resize: int, max_per_class: int | None,
                skip_bad: bool) -> tuple[RawImages, list[str], list[Path], str]:
    """The raw images of one split, their classes, the skipped files and a format word."""
    if is_cifar_python(root):
        images, labels, names = read_cifar_python(root, split)
        if max_per_class is not None:
            keep = _first_per_class(labels, max_per_class)
            images, labels = images[keep], [labels[i] for i in keep]
        return ArrayImages(images, labels, resize, f"cifar-python:{split}"), names, [], "Python batches"
    split_dir = find_split(root, split)
    samples, classes = scan_split(split_dir, classes, max_per_class)
    bad: list[Path] = []
    if skip_bad:
        samples, bad = _screen(samples)
        if bad:
            warnings.warn(f"skipped {len(bad)} bad image(s) in {split_dir}: " + ", ".join(map(str, bad[:10])),
                          stacklevel=3)
        if not samples:
            raise AlexNetError(f"no readable images in {split_dir}")
    return FolderImages(samples, resize, root, skip_bad), classes, bad, "JPEG folder"


def _first_per_class(labels: list[int], n: int) -> list[int]:
    seen: dict[int, int] = {}
    keep = []
    for i, y in enumerate(labels):
        if seen.get(y, 0) < n:
            seen[y] = seen.get(y, 0) + 1
            keep.append(i)
    return keep


def _mean_tensor(mean_image, train_raw: RawImages | None, root: Path, resize: int, scale: float,
                 workers: int | None, progress: bool) -> Tensor:
    if isinstance(mean_image, Tensor):
        return mean_image.to(torch.float32)
    if not mean_image:
        return torch.tensor(IMAGENET_MEAN_RGB).view(3, 1, 1) * scale
    if train_raw is None:
        raise AlexNetError(
            f"the mean image needs the training split ({root}/train); pass mean_image=False or the mean tensor"
        )
    return compute_mean_image(train_raw, root, workers=workers, progress=progress) * scale


def build_datasets(
    root: str | Path,
    *,
    resize: int = 256,
    crop: int = 224,
    augment: bool = True,
    pca_lighting: bool = True,
    mean_image: bool | Tensor = True,
    skip_bad: bool = False,
    max_per_class: int | None = None,
    scale: float = 255.0,
    pca_images: int = 1000,
    workers: int | None = None,
    progress: bool = False,
) -> DataBundle:
    """The training and validation sets of the data set at ``root`` with the paper's pipeline.

    ``root`` holds ``train/<class>/`` and ``val/<class>/`` (or ``test/<class>/``), or CIFAR-10's
    ``cifar-10-batches-py``. Section 2: images are rescaled (shorter side ``resize``) and centre
    cropped to ``resize x resize``; the mean image over the training set is subtracted (cached;
    ``mean_image=False`` subtracts ImageNet's per-channel mean instead, a tensor is used as
    given). Section 4.1 (``augment``): random ``crop`` patches and mirrors, and PCA lighting
    (``pca_lighting``, statistics from ``pca_images`` training images, cached). Values are
    ``scale * pixel / 255 - mean`` (``scale=255``: the paper's centred raw RGB values).
    ``skip_bad`` leaves out unreadable or truncated files (listed in ``DataBundle.skipped``)
    instead of stopping at the first with an error naming it.
    """
    _check_sizes(resize, crop)
    root = Path(root).expanduser()
    if not root.is_dir():
        raise AlexNetError(f"data folder {root} does not exist")
    classes = None
    if not is_cifar_python(root):
        classes = check_same_classes(find_split(root, "train"), find_split(root, "val"))
    train_raw, classes, bad_train, fmt = _load_split(root, "train", classes, resize, max_per_class, skip_bad)
    val_raw, _, bad_val, _ = _load_split(root, "val", classes, resize, max_per_class, skip_bad)
    mean = _mean_tensor(mean_image, train_raw, root, resize, scale, workers, progress)
    pca = pca_stats(train_raw, root, pca_images=pca_images, workers=workers, progress=progress) \
        if (augment and pca_lighting) else None
    synthetic = is_synthetic(root)
    counts = f"{len(train_raw)} train / {len(val_raw)} val, {len(classes)} classes"
    if synthetic:
        description = f"SYNTHETIC data (generated, not real images) at {root} ({counts})"
    else:
        description = f"{describe_root(root)} {fmt} {root} ({counts})"
    if augment:
        lighting = PCALighting(pca, scale=scale) if pca is not None else None
        train_tf = RandomCropFlip(mean, crop, scale=scale, lighting=lighting)
    else:
        train_tf = CentreCrop(mean, crop, scale=scale)
    names = class_names(root, classes)
    return DataBundle(
        train=PaperDataset(train_raw, train_tf, classes, description, class_names=names, mean=mean,
                           skipped=bad_train),
        val=PaperDataset(val_raw, CentreCrop(mean, crop, scale=scale), classes, description, class_names=names,
                         mean=mean, skipped=bad_val),
        classes=classes, class_names=names, description=description,
        synthetic=synthetic, root=root, mean=mean, pca=pca, resize=resize, crop=crop, scale=scale,
        skipped=bad_train + bad_val,
    )


def build_eval_dataset(
    root: str | Path,
    split: str = "val",
    *,
    resize: int = 256,
    crop: int = 224,
    ten_crop: bool = False,
    mean_image: bool | Tensor = True,
    skip_bad: bool = False,
    max_per_class: int | None = None,
    scale: float = 255.0,
    workers: int | None = None,
    progress: bool = False,
) -> PaperDataset:
    """One split for testing: items ``(tensor (3, crop, crop), label)``, or with ``ten_crop``
    ``(tensor (10, 3, crop, crop), label)`` (Section 4.1: corners, centre and their mirrors).

    The mean image comes from the training split (cached, as in :func:`build_datasets` with the
    same ``max_per_class``); without a training split pass it as a tensor (``DataBundle.mean``)
    or use ``mean_image=False``. Labels follow the training split's class order when it exists.
    """
    _check_sizes(resize, crop)
    root = Path(root).expanduser()
    if not root.is_dir():
        raise AlexNetError(f"data folder {root} does not exist")
    train_raw, classes = None, None
    if is_cifar_python(root):
        has_train = True
    else:
        split_dir = find_split(root, split)
        has_train = (root / "train").is_dir()
        classes = check_same_classes(root / "train", split_dir) if has_train and split != "train" \
            else list_classes(split_dir)
    raw, classes, bad, fmt = _load_split(root, split, classes, resize, max_per_class, skip_bad)
    if has_train and isinstance(mean_image, bool) and mean_image:
        train_raw = raw if split == "train" else _load_split(root, "train", classes, resize, max_per_class, False)[0]
    mean = _mean_tensor(mean_image, train_raw, root, resize, scale, workers, progress)
    tf = TenCrop(mean, crop, scale=scale) if ten_crop else CentreCrop(mean, crop, scale=scale)
    kind = "SYNTHETIC data (generated, not real images) at" if is_synthetic(root) else f"{describe_root(root)} {fmt}"
    return PaperDataset(raw, tf, classes, f"{kind} {root} ({len(raw)} {split} images, {len(classes)} classes)",
                        class_names=class_names(root, classes), mean=mean, skipped=bad)
