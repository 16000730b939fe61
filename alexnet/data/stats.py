"""The statistics the paper's pipeline needs, computed once and cached on disk.

* Section 2, the mean image: the per-pixel mean of the ``resize x resize`` training images over
  the whole training set, in ``[0, 1]`` units, shape ``(3, resize, resize)``.
* Section 4.1, PCA of the RGB values: the eigenvalues and eigenvectors of the 3x3 covariance of
  RGB values (``[0, 1]`` units) over a documented sample of training pixels: ``pca_images``
  images evenly spaced over the sorted training file list (all when fewer), and from each the
  pixels of its ``resize x resize`` patch on a grid of stride ``pca_stride`` (default 4, i.e. one
  pixel in 16).

Each is stored in :func:`alexnet.data.cache.stats_dir` under a name built from a hash of the file
list and the settings, together with a JSON record of what it was computed from, and reused.
"""
from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ..provenance import utc_now
from ..files import atomic_write
from .cache import hash_strings, stats_dir

__all__ = ["IMAGENET_PCA", "IMAGENET_MEAN_RGB", "PCAStats", "mean_image", "pca_stats", "align_signs"]

#: Per-channel ImageNet mean in [0, 1] (torchvision's constants), used when ``mean_image=False``.
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)


@dataclass(frozen=True)
class PCAStats:
    """Eigenvalues (descending) and eigenvectors (columns) of the RGB covariance, ``[0, 1]`` units."""

    eigvals: Tensor  # (3,)
    eigvecs: Tensor  # (3, 3), column i belongs to eigvals[i]
    pixels: int = 0
    images: int = 0


#: The constants of fb.resnet.torch (``datasets/imagenet.lua``), used by many reproductions.
IMAGENET_PCA = PCAStats(
    eigvals=torch.tensor([0.2175, 0.0188, 0.0045]),
    eigvecs=torch.tensor([[-0.5675, 0.7192, 0.4009], [-0.5808, -0.0045, -0.8140], [-0.5836, -0.6948, 0.4203]]),
)


def _raw_loader(raw, workers: int | None):
    from .loader import default_workers

    if workers is None:  # worker start-up costs more than it saves on small sets
        workers = default_workers() if len(raw) >= 2000 else 0
    return torch.utils.data.DataLoader(raw, batch_size=32, shuffle=False, num_workers=workers)


def _progress(iterable, total: int, desc: str, progress: bool):
    if not progress:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="batch")


def _load_cached(path: Path):
    if path.is_file():
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # noqa: BLE001 - a damaged cache file is recomputed
            return None
    return None


def _save(path: Path, payload: dict, record: dict) -> None:
    buf = io.BytesIO()
    torch.save(payload, buf)
    atomic_write(path, buf.getvalue())
    atomic_write(path.with_suffix(".json"), json.dumps(record, indent=2) + "\n")


def mean_image(raw, root: Path, *, workers: int | None = None, progress: bool = False) -> Tensor:
    """Section 2: the mean ``(3, R, R)`` image in ``[0, 1]`` over every item of ``raw``, cached.

    ``raw`` is a :class:`alexnet.data.datasets.RawImages` (uint8 ``resize x resize`` images with
    stable ``keys``); the cache file is ``mean-<hash>.pt`` in :func:`stats_dir` ``(root)``.
    """
    key = hash_strings([f"resize={raw.resize}", *raw.keys])
    path = stats_dir(root) / f"mean-{raw.resize}-{key}.pt"
    cached = _load_cached(path)
    if cached is not None:
        return cached["mean"]
    start = time.time()
    if len(raw) >= 20000 and not progress:
        import sys

        print(f"computing the mean image of {len(raw)} images once (cached as {path})", file=sys.stderr, flush=True)
    total = torch.zeros(3, raw.resize, raw.resize, dtype=torch.float64)
    loader = _raw_loader(raw, workers)
    for batch in _progress(loader, len(loader), "mean image", progress):
        total += batch.to(torch.float64).sum(0)
    mean = (total / (255.0 * len(raw))).to(torch.float32)
    _save(path, {"mean": mean}, {
        "what": "mean image (Section 2), RGB in [0, 1], shape (3, resize, resize)",
        "root": str(root), "resize": raw.resize, "images": len(raw), "file_list_hash": key,
        "seconds": round(time.time() - start, 2), "created": utc_now(),
    })
    return mean


def rgb_eigen(cov: Tensor) -> tuple[Tensor, Tensor]:
    """Eigenvalues (descending, >= 0) and eigenvectors (columns) of a 3x3 RGB covariance (Section
    4.1), each eigenvector's first (red) component made >= 0 so that every PCA of the package
    agrees in sign."""
    vals, vecs = torch.linalg.eigh(cov)
    order = torch.argsort(vals, descending=True)
    vals, vecs = vals[order].clamp_min(0), vecs[:, order]
    return vals, vecs * torch.where(vecs[0] < 0, -1.0, 1.0)


def pca_stats(
    raw, root: Path, *, pca_images: int = 1000, pca_stride: int = 4, workers: int | None = None,
    progress: bool = False,
) -> PCAStats:
    """Section 4.1: PCA of RGB values over the documented pixel sample (see the module doc), cached."""
    n = len(raw)
    idx = sorted(set(np.linspace(0, n - 1, num=min(n, pca_images)).round().astype(int).tolist()))
    keys = [raw.keys[i] for i in idx]
    key = hash_strings([f"resize={raw.resize}", f"stride={pca_stride}", *keys])
    path = stats_dir(root) / f"pca-{raw.resize}-{key}.pt"
    cached = _load_cached(path)
    if cached is not None:
        return PCAStats(cached["eigvals"], cached["eigvecs"], int(cached["pixels"]), int(cached["images"]))
    start = time.time()
    s = torch.zeros(3, dtype=torch.float64)
    ss = torch.zeros(3, 3, dtype=torch.float64)
    count = 0
    loader = _raw_loader(torch.utils.data.Subset(raw, idx), workers)
    for batch in _progress(loader, len(loader), "PCA of RGB", progress):
        px = batch[:, :, ::pca_stride, ::pca_stride].permute(0, 2, 3, 1).reshape(-1, 3).to(torch.float64) / 255.0
        s += px.sum(0)
        ss += px.T @ px
        count += px.shape[0]
    mu = s / count
    vals, vecs = rgb_eigen(ss / count - torch.outer(mu, mu))
    stats = PCAStats(vals.float(), vecs.float(), count, len(idx))
    _save(path, {"eigvals": stats.eigvals, "eigvecs": stats.eigvecs, "pixels": count, "images": len(idx)}, {
        "what": "PCA of RGB values in [0, 1] (Section 4.1); eigvecs are columns",
        "root": str(root), "resize": raw.resize, "images": len(idx), "pixel_stride": pca_stride,
        "pixels": count, "eigvals": stats.eigvals.tolist(), "eigvecs": stats.eigvecs.tolist(),
        "file_list_hash": key, "seconds": round(time.time() - start, 2),
        "created": utc_now(),
    })
    return stats


def align_signs(eigvecs: Tensor, reference: Tensor) -> Tensor:
    """``eigvecs`` with each column's sign flipped to point the same way as ``reference``'s."""
    dots = (eigvecs * reference).sum(0)
    return eigvecs * torch.where(dots < 0, -1.0, 1.0)
