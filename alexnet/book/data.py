"""What the data chapters of the book compute (Sections 2 and 4.1), kept out of the notebooks.

``DATA_PROFILES`` configures ``notebooks/02_data.md`` and ``AUGMENTATION_PROFILES``
``notebooks/04_1_augmentation.md`` (``ci``: seconds on two CPU cores; ``full``: every image).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..errors import AlexNetError
from ..data.datasets import FolderImages
from ..data.folders import find_split, scan_split
from ..data.root import resolve_data_root
from ..data.stats import PCAStats, align_signs

__all__ = [
    "DATA_PROFILES", "AUGMENTATION_PROFILES", "photos", "available_datasets", "evenly_spaced",
    "odd_images", "pca_comparison", "eigvec_angles", "imagenet_source", "cifar_source", "centre_and_border",
    "component_words",
]

DATA_PROFILES: dict[str, dict[str, Any]] = {
    # mean_images: images of each data set averaged for the mean image (None: all of them)
    "ci": {"data": None, "resize": 256, "mean_images": 200, "cifar_mean_images": 2000, "progress": False},
    "full": {"data": None, "resize": 256, "mean_images": None, "cifar_mean_images": None, "progress": False},
}
DATA_CHECKS = {"resize": lambda v: v >= 32, "mean_images": lambda v: v is None or v > 0,
               "cifar_mean_images": lambda v: v is None or v > 0}

AUGMENTATION_PROFILES: dict[str, dict[str, Any]] = {
    # pca_images: images of the sample for the PCA of RGB values (pixels on a stride-4 grid)
    "ci": {"data": None, "resize": 256, "crop": 224, "pca_images": 300, "seed": 0, "progress": False},
    "full": {"data": None, "resize": 256, "crop": 224, "pca_images": 1000, "seed": 0, "progress": False},
}
AUGMENTATION_CHECKS = {"crop": lambda v: 1 <= v, "resize": lambda v: v >= 32, "pca_images": lambda v: v >= 2}


def photos() -> dict[str, Tensor]:
    """Real photographs shipped with scikit-image (offline), as RGB ``uint8 (3, H, W)``."""
    from skimage import data

    return {name: torch.from_numpy(np.ascontiguousarray(getattr(data, name)()[..., :3])).permute(2, 0, 1).contiguous()
            for name in ("astronaut", "chelsea", "coffee")}


def available_datasets(data: str | Path | None = None) -> list[dict[str, str]]:
    """One row per data set the book knows, with the folder found by the rule of
    :func:`resolve_data_root` (without downloading or generating anything)."""
    rows = []
    for name in ("imagenet", "imagenet-sample", "imagenette", "cifar10"):
        try:
            folder = resolve_data_root(data, name, download=False)
            splits = [s for s in ("train", "val", "test") if (folder / s).is_dir()]
            rows.append({"data set": name, "folder": str(folder), "splits": ", ".join(splits) or "Python batches"})
        except AlexNetError:
            rows.append({"data set": name, "folder": "not found", "splits": ""})
    return rows


def evenly_spaced(root: Path, split: str, count: int | None, resize: int) -> FolderImages:
    """``count`` images spread evenly over the sorted files of ``split`` (all when ``None``)."""
    samples, _ = scan_split(find_split(root, split))
    if count is not None and count < len(samples):
        idx = np.linspace(0, len(samples) - 1, count).round().astype(int)
        samples = [samples[i] for i in idx]
    return FolderImages(samples, resize, root)


def odd_images(root: Path, split: str = "val", limit: int = 4) -> dict[str, list[Path]]:
    """Files of ``split`` that are grayscale, CMYK, not JPEG, or smaller than 256 on a side."""
    from PIL import Image

    found: dict[str, list[Path]] = {"grayscale": [], "CMYK": [], "not JPEG": [], "small": []}
    for path, _ in scan_split(find_split(root, split))[0]:
        with Image.open(path) as img:
            kinds = {"grayscale": img.mode == "L", "CMYK": img.mode == "CMYK",
                     "not JPEG": img.format != "JPEG", "small": min(img.size) < 256}
        for kind, hit in kinds.items():
            if hit and len(found[kind]) < limit:
                found[kind].append(path)
    return found


def eigvec_angles(ours: Tensor, reference: Tensor) -> list[float]:
    """Angle in degrees between each of our eigenvectors and the reference's (signs aligned)."""
    aligned = align_signs(ours, reference)
    cos = (aligned * reference).sum(0) / (aligned.norm(dim=0) * reference.norm(dim=0))
    return [math.degrees(math.acos(min(1.0, float(c)))) for c in cos]


def pca_comparison(ours: dict[str, PCAStats], reference: PCAStats):
    """A table: eigenvalues and eigenvectors (columns, signs aligned to ``reference``) of each
    PCA in ``ours`` beside the reference, with the angle between matching eigenvectors."""
    import pandas as pd

    rows = []
    for name, stats in {"fb.resnet.torch (ImageNet)": reference, **ours}.items():
        vecs = align_signs(stats.eigvecs, reference.eigvecs)
        angles = eigvec_angles(stats.eigvecs, reference.eigvecs)
        for i in range(3):
            rows.append({"source": name, "component": i + 1, "eigenvalue": float(stats.eigvals[i]),
                         "sqrt(eigenvalue)": math.sqrt(float(stats.eigvals[i])),
                         "eigenvector (R, G, B)": "(" + ", ".join(f"{v:+.4f}" for v in vecs[:, i].tolist()) + ")",
                         "angle to fb (deg)": angles[i]})
    return pd.DataFrame(rows)


def imagenet_source(data: str | Path | None = None) -> tuple[Path, str, str] | None:
    """``(root, split, label)`` of the best ImageNet images available: the training split of a full
    ImageNet folder, else the validation split of the ImageNet sample, else ``None``."""
    for name, split in (("imagenet", "train"), ("imagenet-sample", "val")):
        try:
            root = resolve_data_root(data, name, download=False)
            find_split(root, split)
            return root, split, f"{name} ({split} split)"
        except AlexNetError:
            continue
    return None


def cifar_source(data: str | Path | None = None) -> Path | None:
    """The CIFAR-10 folder when there is one (nothing is downloaded)."""
    try:
        return resolve_data_root(data, "cifar10", download=False)
    except AlexNetError:
        return None


def centre_and_border(image: Tensor) -> dict[str, float]:
    """Brightness (mean of R, G, B) and warmth (red minus blue) of a ``(3, H, W)`` image in its
    central square of half the side and in the rest, for words about a mean image (Section 2)."""
    h, w = image.shape[-2:]
    inside = torch.zeros(h, w, dtype=torch.bool)
    inside[h // 4: h - h // 4, w // 4: w - w // 4] = True
    img = image.float()
    bright, warm = img.mean(0), img[0] - img[2]
    return {"centre_brightness": float(bright[inside].mean()), "border_brightness": float(bright[~inside].mean()),
            "centre_warmth": float(warm[inside].mean()), "border_warmth": float(warm[~inside].mean())}


def component_words(vector: Tensor | np.ndarray, tolerance: float = 0.2) -> str:
    """What an RGB principal component does, read from its weights (Section 4.1).

    Weights of one sign within ``tolerance`` of their mean in size: ``"brightness: R, G and B in
    step"``; of one sign otherwise: ``"brightness, weighted towards <channel>"``; of both signs:
    ``"<channels of one sign> against <the others>"`` (a change of colour).
    """
    v = np.asarray(vector, dtype=float)
    v = v if v.sum() >= 0 else -v
    names = np.array(["red", "green", "blue"])
    if (v > 0).all() or (v < 0).all():
        a = np.abs(v)
        if (np.abs(a - a.mean()) <= tolerance * a.mean()).all():
            return "brightness: red, green and blue in step"
        return f"brightness, weighted towards {names[a.argmax()]}"
    pos, neg = names[v > 0], names[v <= 0]
    return f"{' and '.join(pos)} against {' and '.join(neg)}"
