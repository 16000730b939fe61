"""The paper's transforms on ``uint8 (3, R, R)`` images (already rescaled and centre-cropped).

* Section 2: subtract the mean image; values are "centred raw RGB", i.e. ``scale * pixel/255 -
  mean`` with ``scale=255`` by default (the paper's raw values; ``scale=1.0`` gives ``[0, 1]``).
* Section 4.1: random ``crop x crop`` patches (224, or 227 as Caffe) and horizontal reflections;
  PCA colour augmentation (:class:`PCALighting`); at test time the centre patch
  (:class:`CentreCrop`) or the ten patches (:class:`TenCrop`: four corners and the centre, and
  their mirrors).

The mean image is subtracted from the full ``R x R`` image (the patch of the mean under the
patch of the image), then the patch is mirrored: exactly "mean-subtract, then crop and flip".
Randomness comes from ``torch``'s global generator, which DataLoader seeds per worker.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .augment import PCALighting, augment_batch

__all__ = ["PCALighting", "RandomCropFlip", "CentreCrop", "TenCrop", "augmentation_factor"]


def _centred_patch(img: Tensor, mean: Tensor, top: int, left: int, crop: int, scale: float) -> Tensor:
    patch = img[..., top:top + crop, left:left + crop].to(torch.float32) * (scale / 255.0)
    if mean.shape[-1] == 1:  # a per-channel mean (3, 1, 1)
        return patch - mean
    return patch - mean[..., top:top + crop, left:left + crop]


def _check(img: Tensor, crop: int) -> None:
    h, w = img.shape[-2:]
    if h < crop or w < crop:
        raise ValueError(f"crop {crop} is larger than the {h}x{w} image; use resize >= crop")


class RandomCropFlip:
    """Training: mean subtraction, a random ``crop x crop`` patch, a mirror with probability 1/2,
    then PCA lighting when ``lighting`` is given (Sections 2 and 4.1): the batched
    :func:`alexnet.data.augment.augment_batch` on a batch of one, drawing from torch's global
    generator (which DataLoader seeds per worker)."""

    def __init__(self, mean: Tensor, crop: int = 224, *, scale: float = 255.0, flip: bool = True,
                 lighting: PCALighting | None = None) -> None:
        self.mean, self.crop, self.scale, self.flip, self.lighting = mean, crop, scale, flip, lighting

    def __call__(self, img: Tensor) -> Tensor:
        _check(img, self.crop)
        batch = augment_batch(img[None], self.mean, self.crop, scale=self.scale, flip=self.flip, lighting=self.lighting)
        return batch[0].contiguous()


class CentreCrop:
    """Testing with one view: mean subtraction and the central ``crop x crop`` patch."""

    def __init__(self, mean: Tensor, crop: int = 224, *, scale: float = 255.0) -> None:
        self.mean, self.crop, self.scale = mean, crop, scale

    def __call__(self, img: Tensor) -> Tensor:
        _check(img, self.crop)
        h, w = img.shape[-2:]
        return _centred_patch(img, self.mean, (h - self.crop) // 2, (w - self.crop) // 2, self.crop, self.scale)


class TenCrop:
    """Section 4.1 testing: the four corner patches and the centre patch, then their mirrors,
    stacked as ``(10, 3, crop, crop)`` (torchvision's ``TenCrop`` order)."""

    def __init__(self, mean: Tensor, crop: int = 224, *, scale: float = 255.0) -> None:
        self.mean, self.crop, self.scale = mean, crop, scale

    def __call__(self, img: Tensor) -> Tensor:
        _check(img, self.crop)
        h, w = img.shape[-2:]
        c = self.crop
        corners = [(0, 0), (0, w - c), (h - c, 0), (h - c, w - c), ((h - c) // 2, (w - c) // 2)]
        views = [_centred_patch(img, self.mean, t, l, c, self.scale) for t, l in corners]
        return torch.stack(views + [v.flip(-1) for v in views])


def augmentation_factor(resize: int = 256, crop: int = 224) -> int:
    """Section 4.1: distinct training patches per image, ``(resize - crop)^2 * 2`` (2048 for 256/224)."""
    return (resize - crop) ** 2 * 2
