"""Section 4.1's augmentation on whole batches of uint8 images, on any device: the package's one
crop, mirror and PCA lighting.

* :func:`random_patch` draws, for ``n`` images, the corner of a random ``crop x crop`` patch and
  whether to mirror it (the one place the package draws them, in this order: tops, lefts, mirrors);
* :func:`crop_flip` cuts those patches out of a ``(N, 3, H, W)`` batch in one gather (the result is
  laid out channels-last, which is what the convolutions want; the values do not depend on it);
* :func:`pca_lighting` is the paper's colour shift ``[p1 p2 p3][a1 l1, a2 l2, a3 l3]^T``,
  :func:`random_lighting` adds it with ``a_i ~ N(0, std)`` drawn per image, and :class:`PCALighting`
  holds the statistics for both one image and a batch;
* :func:`augment_batch` puts them together as Sections 2 and 4.1 say: patch, mirror, the mean image
  under the patch subtracted, lighting. :class:`GPUAugment` (the streaming loop's store batches) and
  :class:`alexnet.data.transforms.RandomCropFlip` (one image in a DataLoader worker) call it; the
  CIFAR-10 ablations' in-memory loop calls :func:`random_crop_flip`, :func:`random_lighting` and
  :func:`normalise` itself.

Every function takes an optional ``torch.Generator`` (``None``: torch's global one) and draws in the
same order (patches first, then the lighting's ``alpha``), so a batch's augmentation is a function
of the generator's state.
"""
from __future__ import annotations

import torch
from torch import Tensor

from .stats import IMAGENET_MEAN_RGB, IMAGENET_PCA, PCAStats

__all__ = ["random_patch", "crop_flip", "random_crop_flip", "centre_crop", "pca_lighting", "random_lighting",
           "PCALighting", "normalise", "augment_batch", "GPUAugment"]


def pca_lighting(x: Tensor, eigvals: Tensor, eigvecs: Tensor, alpha: Tensor) -> Tensor:
    """Section 4.1: add ``eigvecs @ (alpha * eigvals)`` to every pixel of ``x``.

    ``x`` is ``(3, H, W)`` or a batch ``(N, 3, H, W)`` with ``alpha`` of shape ``(3,)`` or ``(N, 3)``.
    """
    shift = (alpha * eigvals) @ eigvecs.T  # (3,) or (N, 3): row form of eigvecs @ (alpha*eigvals)
    return x + shift[..., :, None, None]


def random_patch(n: int, height: int, width: int, crop: int, *, flip: bool = True,
                 generator: torch.Generator | None = None, device: torch.device | str | None = None,
                 ) -> tuple[Tensor, Tensor, Tensor | None]:
    """Section 4.1's random patches: for ``n`` images of ``height x width``, the ``top`` and ``left``
    corner of a ``crop x crop`` patch (uniform) and whether to mirror it (probability 1/2; ``None``
    when ``flip`` is off). The one place the package draws them, in this order: tops, lefts, mirrors."""
    if crop > min(height, width):
        raise ValueError(f"crop {crop} is larger than the {height}x{width} images; use resize >= crop")
    top = torch.randint(0, height - crop + 1, (n,), device=device, generator=generator)
    left = torch.randint(0, width - crop + 1, (n,), device=device, generator=generator)
    mirror = torch.rand(n, device=device, generator=generator) < 0.5 if flip else None
    return top, left, mirror


def _check_batch(images: Tensor) -> None:
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"expected a batch of images (N, 3, H, W), got shape {tuple(images.shape)}")


def crop_flip(images: Tensor, top: Tensor, left: Tensor, mirror: Tensor | None, crop: int) -> Tensor:
    """The ``crop x crop`` patch at ``(top[i], left[i])`` of each image of ``images (N, 3, H, W)``,
    mirrored where ``mirror[i]``: ``(N, 3, crop, crop)`` in channels-last memory, one gather."""
    n, dev = images.shape[0], images.device
    ar = torch.arange(crop, device=dev)
    cols = ar.expand(n, crop) if mirror is None else torch.where(mirror[:, None], crop - 1 - ar, ar)
    rows = (top[:, None] + ar)[:, :, None]        # (N, crop, 1)
    cols = (left[:, None] + cols)[:, None, :]     # (N, 1, crop)
    idx = torch.arange(n, device=dev)[:, None, None]
    return images[idx, :, rows, cols].permute(0, 3, 1, 2)  # (N, crop, crop, 3) gathered, seen as NCHW


def random_crop_flip(x: Tensor, crop: int, generator: torch.Generator | None = None, flip: bool = True) -> Tensor:
    """Section 4.1: a random ``crop x crop`` patch of each image of ``x (N, 3, H, W)``, mirrored with
    probability 1/2 (:func:`random_patch`, then :func:`crop_flip`)."""
    _check_batch(x)
    n, _, h, w = x.shape
    top, left, mirror = random_patch(n, h, w, crop, flip=flip, generator=generator, device=x.device)
    return crop_flip(x, top, left, mirror, crop)


def centre_crop(x: Tensor, crop: int) -> Tensor:
    """The central ``crop x crop`` patch (test time)."""
    h, w = x.shape[-2:]
    top, left = (h - crop) // 2, (w - crop) // 2
    return x[..., top:top + crop, left:left + crop]


def random_lighting(x: Tensor, eigval: Tensor, eigvec: Tensor, std: float = 0.1,
                    generator: torch.Generator | None = None, scale: float = 255.0) -> Tensor:
    """Section 4.1 on a batch: add ``eigvec @ (a * eigval)`` to every pixel, ``a ~ N(0, std)`` per image.

    ``x`` is float ``(N, 3, H, W)`` in pixel units (``scale`` = 255: 0..255); ``eigval``/``eigvec``
    in ``[0, 1]`` units (:func:`alexnet.data.pca_stats`, :func:`alexnet.data.tensors.rgb_pca`), so the
    shift is multiplied by ``scale`` -- the convention of :class:`alexnet.data.PCALighting`.
    """
    return x + lighting_shifts(x.shape[0], eigval, eigvec, std, generator, scale, x.device)[:, :, None, None]


def lighting_shifts(n: int, eigval: Tensor, eigvec: Tensor, std: float = 0.1,
                    generator: torch.Generator | None = None, scale: float = 255.0,
                    device: torch.device | str | None = None) -> Tensor:
    """Section 4.1's colour shift of each of ``n`` images, ``(n, 3)``: ``eigvec @ (a * eigval)`` with
    ``a ~ N(0, std)`` drawn per image, in the units of :func:`random_lighting`."""
    a = torch.randn(n, 3, device=device, generator=generator) * std
    return (a * (eigval.to(device) * scale)) @ eigvec.to(device).T


def normalise(x: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """``(x - mean) / std`` per channel; ``x`` in pixel units (uint8 or float)."""
    return (x.float() - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


class PCALighting:
    """Section 4.1 colour augmentation with ``alpha ~ N(0, std)`` drawn afresh at every call.

    The paper's formula literally: ``[p1 p2 p3][a1*l1, a2*l2, a3*l3]^T`` with the covariance
    eigenvalues ``l_i`` of RGB in ``[0, 1]`` units, the result multiplied by ``scale`` to match the
    image's units (the formula is not scale-free; the book discusses it). Called on one image
    ``(3, H, W)`` it draws from torch's global generator; :meth:`batch` shifts a batch, one
    ``alpha`` per image.
    """

    def __init__(self, stats: PCAStats, std: float = 0.1, scale: float = 255.0) -> None:
        self.stats, self.scale = stats, scale
        self.eigvals = stats.eigvals.to(torch.float32) * scale
        self.eigvecs = stats.eigvecs.to(torch.float32)
        self.std = std

    def __call__(self, x: Tensor) -> Tensor:
        alpha = torch.randn(3) * self.std
        return pca_lighting(x, self.eigvals, self.eigvecs, alpha)

    def batch(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The shift on a float batch ``(N, 3, H, W)``: :func:`random_lighting`."""
        return random_lighting(x, self.stats.eigvals.to(torch.float32), self.stats.eigvecs.to(torch.float32),
                               self.std, generator, self.scale)

    def shifts(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """The ``(n, 3)`` shifts :meth:`batch` adds to ``n`` images (the same draws)."""
        return lighting_shifts(n, self.stats.eigvals.to(torch.float32), self.stats.eigvecs.to(torch.float32),
                               self.std, generator, self.scale)

    def __repr__(self) -> str:
        return f"PCALighting(eigvals={self.eigvals.tolist()}, std={self.std})"


def augment_batch(images: Tensor, mean: Tensor, crop: int, *, scale: float = 255.0, flip: bool = True,
                  lighting: PCALighting | None = None, generator: torch.Generator | None = None) -> Tensor:
    """Sections 2 and 4.1 on ``uint8 (N, 3, H, W)`` images: a random ``crop x crop`` patch of each,
    mirrored with probability 1/2 (``flip``), in units of ``scale * pixel / 255`` minus the mean image
    ``(3, H, W)`` (or the per-channel mean ``(3, 1, 1)``) under the patch, then the PCA colour shift
    when ``lighting`` is given. Float ``(N, 3, crop, crop)``, channels-last."""
    n, _, h, w = images.shape
    top, left, mirror = random_patch(n, h, w, crop, flip=flip, generator=generator, device=images.device)
    if images.device.type == "cpu":
        shifts = lighting.shifts(n, generator) if lighting is not None else None
        return _augment_cpu(images, mean, top, left, mirror, crop, scale, shifts)
    x = crop_flip(images, top, left, mirror, crop).to(torch.float32) * (scale / 255.0)
    if mean.shape[-1] > 1:  # the mean under the (mirrored) patch: mean-subtract, then crop and flip
        x -= crop_flip(mean.expand(n, -1, -1, -1), top, left, mirror, crop)
    else:
        x -= mean
    return x if lighting is None else lighting.batch(x, generator)


def _augment_cpu(images: Tensor, mean: Tensor, top: Tensor, left: Tensor, mirror: Tensor | None, crop: int,
                 scale: float, shifts: Tensor | None) -> Tensor:
    """:func:`augment_batch` on the CPU, image by image: the patch, its mirror, the units, the mean
    under it and the colour shift in one pass over each patch's memory, instead of one gather and one
    pass over the whole batch per step (the same operations on the same values: the same bits)."""
    n, _, _, w = images.shape
    factor = scale / 255.0
    per_pixel = mean.shape[-1] > 1
    mean_hwc = mean.permute(1, 2, 0).contiguous() if per_pixel else mean.reshape(3)
    mean_mirrored = mean_hwc.flip(1) if per_pixel and mirror is not None else None
    out = torch.empty(n, crop, crop, 3, dtype=torch.float32)
    for i, (t, l) in enumerate(zip(top.tolist(), left.tolist())):
        mirrored = mirror is not None and bool(mirror[i])
        patch = images[i, :, t:t + crop, l:l + crop].permute(1, 2, 0)  # (crop, crop, 3) view
        o = out[i]
        o.copy_(patch.flip(1) if mirrored else patch)
        if factor != 1.0:  # times 1.0 changes no bit: skipped
            o.mul_(factor)
        if not per_pixel:
            o.sub_(mean_hwc)
        elif mirrored:  # the mirrored patch at column l is columns [w - l - crop, w - l) of the mirrored mean
            o.sub_(mean_mirrored[t:t + crop, w - l - crop:w - l])
        else:
            o.sub_(mean_hwc[t:t + crop, l:l + crop])
        if shifts is not None:  # one row of the shift, repeated: broadcasting a 3-vector is slower
            o.view(crop, crop * 3).add_(shifts[i].repeat(crop))
    return out.permute(0, 3, 1, 2)  # (N, 3, crop, crop) in channels-last memory


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
        self.mean = mean.to(torch.float32)
        self.crop, self.scale, self.flip, self.std = crop, scale, flip, std
        self.pca = pca
        self.lighting = PCALighting(pca, std, scale) if pca is not None else None
        self.dtype, self.channels_last = dtype, channels_last
        self._means: dict[torch.device, Tensor] = {}

    def _mean_on(self, images: Tensor) -> Tensor:
        """The mean image on the images' device, checked against their size."""
        h, w = images.shape[-2:]
        if self.crop > min(h, w):
            raise ValueError(f"crop {self.crop} is larger than the {h}x{w} images; use resize >= crop")
        if self.mean.shape[1] > 1 and tuple(self.mean.shape[1:]) != (h, w):
            raise ValueError(f"GPUAugment: mean image is {tuple(self.mean.shape[1:])}, images are {(h, w)}")
        if images.device not in self._means:
            self._means[images.device] = self.mean.to(images.device)
        return self._means[images.device]

    def _out(self, x: Tensor) -> Tensor:
        return x.to(self.dtype).contiguous(memory_format=torch.channels_last if self.channels_last
                                           else torch.contiguous_format)

    def __call__(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """``uint8 (N, 3, R, R)`` on any device -> ``(N, 3, crop, crop)`` augmented, same device."""
        _check_batch(images)
        x = augment_batch(images, self._mean_on(images), self.crop, scale=self.scale, flip=self.flip,
                          lighting=self.lighting, generator=generator)
        return self._out(x)

    def centre(self, images: Tensor) -> Tensor:
        """Testing with one view (Section 4.1): the central ``crop x crop`` patch of each image of a
        ``uint8 (N, 3, R, R)`` batch, minus the mean image under it; no mirror, no lighting."""
        _check_batch(images)
        mean = self._mean_on(images)
        x = centre_crop(images, self.crop).to(torch.float32) * (self.scale / 255.0)
        x -= centre_crop(mean, self.crop) if mean.shape[1] > 1 else mean
        return self._out(x)
