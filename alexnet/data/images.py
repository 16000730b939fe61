"""Reading one image, whatever ImageNet throws at us (Section 2 of the paper).

Real folders hold grayscale and CMYK JPEGs, PNGs saved under a ``.JPEG`` name, images smaller
than the crop, hidden files and stray non-images. :func:`load_image` decodes by content (not by
file name) into an RGB ``uint8`` tensor ``(3, H, W)``; :func:`resize_centre_crop` applies the
paper's "rescale the shorter side to 256, then crop the central 256x256 patch". An unreadable or
truncated file raises :class:`BadImageError`, whose message names the file on one line, even
when it comes back from a DataLoader worker.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import Tensor

from ..errors import AlexNetError

__all__ = [
    "IMG_EXTENSIONS",
    "BadImageError",
    "is_image_file",
    "load_image",
    "quick_check",
    "resize_centre_crop",
]

#: File name endings treated as images (case-insensitive); everything else is ignored.
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".webp", ".tif", ".tiff", ".gif")


class BadImageError(AlexNetError):
    """An image file that cannot be decoded (unreadable, truncated, not an image).

    DataLoader workers re-raise exceptions with the worker's whole traceback as the message; this
    class keeps only the last line, so the user sees one line naming the file.
    """

    def __init__(self, message: str = "") -> None:
        if "Traceback" in message:
            last = [line for line in message.strip().splitlines() if line.strip()][-1]
            message = last.split("BadImageError: ", 1)[-1]
        super().__init__(message)


def is_image_file(path: Path) -> bool:
    """True for a visible file with an image extension (hidden files such as ``._x.JPEG`` are not)."""
    return not path.name.startswith(".") and path.suffix.lower() in IMG_EXTENSIONS


def load_image(path: str | Path) -> Tensor:
    """Decode ``path`` by its content into RGB ``uint8`` ``(3, H, W)``.

    JPEG, PNG, WebP and GIF go through ``torchvision.io.decode_image`` (libjpeg-turbo; grayscale and
    CMYK are converted to RGB); other formats, or all of them where torchvision has no image
    decoders (they are deprecated from 0.29 in favour of TorchCodec), through PIL. Raises
    :class:`BadImageError`.
    """
    try:
        from torchvision.io import ImageReadMode, decode_image
    except ImportError:
        decode_image = None

    path = Path(path)
    try:
        data = torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.uint8)
    except (OSError, ValueError) as err:  # ValueError: an empty file
        raise BadImageError(f"cannot read image {path}: {err}") from None
    reason = ""
    try:
        if decode_image is not None:
            with warnings.catch_warnings():  # torchvision 0.29 announces TorchCodec at every call
                warnings.simplefilter("ignore", DeprecationWarning)
                return decode_image(data, mode=ImageReadMode.RGB)
    except RuntimeError as err:
        reason = str(err).strip().splitlines()[-1].split(", ")[-1]
    try:  # formats torchvision does not decode (BMP, TIFF, PPM ...)
        import numpy as np
        from PIL import Image

        with Image.open(path) as img:
            rgb = np.asarray(img.convert("RGB"))
        return torch.from_numpy(rgb.copy()).permute(2, 0, 1).contiguous()
    except Exception as err:  # noqa: BLE001 - PIL raises many types for bad files
        raise BadImageError(f"cannot read image {path}: {reason or err}") from None


def quick_check(path: str | Path) -> str | None:
    """A cheap test for a bad file: ``None`` if it looks complete, else the reason.

    Reads the header with PIL and, for JPEG and PNG, checks the end-of-image marker; a file that
    fails the marker test is decoded in full before it is declared bad.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as img:
            fmt = img.format
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 64))
            tail = fh.read().rstrip(b"\x00\r\n ")
    except (UnidentifiedImageError, OSError) as err:
        return f"not a readable image ({err})"
    complete = (fmt == "JPEG" and tail.endswith(b"\xff\xd9")) or (fmt == "PNG" and b"IEND" in tail[-12:])
    if complete or fmt not in ("JPEG", "PNG"):
        return None
    try:
        load_image(path)
    except BadImageError as err:
        return str(err).split(": ", 1)[-1]
    return None


def resize_centre_crop(img: Tensor, size: int) -> Tensor:
    """Section 2: rescale so the shorter side is ``size``, then crop the central ``size x size``.

    Works on ``uint8`` or float ``(..., 3, H, W)``; images smaller than ``size`` are enlarged.
    """
    import torch.nn.functional as F

    h, w = img.shape[-2:]
    if min(h, w) != size:  # torchvision's rule for the longer side: int(size * long / short)
        new = (size, int(size * w / h)) if h <= w else (int(size * h / w), size)
        lead = img.shape[:-3]
        batch = img.reshape(-1, *img.shape[-3:])
        if batch.dtype not in (torch.uint8, torch.float32, torch.float64):
            batch = batch.float()
        out = F.interpolate(batch, size=new, mode="bilinear", antialias=True, align_corners=False)
        img = out.to(img.dtype).reshape(*lead, *out.shape[-3:])
    h, w = img.shape[-2:]
    if (h, w) != (size, size):
        top, left = (h - size) // 2, (w - size) // 2
        img = img[..., top:top + size, left:left + size]
    return img.contiguous()
