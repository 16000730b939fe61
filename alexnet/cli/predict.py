"""``python -m alexnet predict``: the five most probable classes of photographs, by a trained network.

Each image gets the paper's test-time preprocessing: its shorter side rescaled to the checkpoint's
``resize`` (256, Section 2) and the central square cropped, the training set's mean image (stored
in the checkpoint) subtracted, then the centre ``crop x crop`` patch (224), or with ``--ten-crop``
the ten patches of Section 4.1 whose softmax outputs are averaged. One line per image.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from ..errors import AlexNetError

__all__ = ["add_parser", "run", "classify", "checkpoint_path", "test_mean", "format_line"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="top-5 classes of images by a trained network (Sections 2, 4.1, 6)",
                       description=__doc__.splitlines()[0])
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, ...)")
    p.add_argument("--checkpoint", required=True, metavar="CKPT",
                   help="a checkpoint (.pt) or a run folder (its last.pt: the network after the last epoch)")
    p.add_argument("--ten-crop", action="store_true",
                   help="average the softmax over the ten patches of Section 4.1 (default: the centre patch)")
    p.add_argument("--top", type=int, default=5, help="classes shown per image (default: 5, Section 6's top-5)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, auto ... (default: cpu)")
    p.set_defaults(func=run)


def checkpoint_path(path: str | Path) -> Path:
    """A checkpoint file; a run folder stands for its ``last.pt``."""
    from ..evaluate import resolve_checkpoint

    path = Path(path)
    if path.is_dir():
        if not (path / "last.pt").is_file():
            raise FileNotFoundError(f"run folder {path} holds no last.pt")
        path = path / "last.pt"
    return resolve_checkpoint(path)


def test_mean(model, path: Path) -> torch.Tensor:
    """The mean subtracted at test time: the training set's, as the checkpoint stored it (Section 2);
    the per-channel ImageNet mean for a network trained without a mean image."""
    from ..data.stats import IMAGENET_MEAN_RGB

    resize = int(model.data_config.get("resize", 256))
    mean = getattr(model, "data_mean", None)
    if mean is not None and mean.shape[-1] in (1, resize):
        return mean.to(torch.float32)
    if not model.data_config.get("mean_image", True):
        return torch.tensor(IMAGENET_MEAN_RGB).view(3, 1, 1) * 255.0
    raise AlexNetError(f"checkpoint {path} holds no {resize}x{resize} mean image to subtract (Section 2)")


def _class_names(model, path: Path) -> list[str]:
    names = list(getattr(model, "class_names", None) or getattr(model, "classes", None) or [])
    if not names:
        raise AlexNetError(f"checkpoint {path} holds no class names (it was not written by "
                                "`python -m alexnet train`)")
    if len(names) != model.num_classes:
        raise AlexNetError(f"checkpoint {path} names {len(names)} classes for {model.num_classes} outputs")
    return names


def classify(images: list[str | Path], checkpoint: str | Path, *, ten_crop: bool = False, top: int = 5,
             device: str = "cpu") -> list[list[tuple[str, float]]]:
    """For each image, its ``top`` most probable classes as ``(name, probability)``, most probable first.

    Every image is decoded before the network runs, so a bad file stops the command before any
    line is printed, with the file named (:class:`alexnet.data.BadImageError`).
    """
    from ..data import CentreCrop, TenCrop, load_image, resize_centre_crop
    from ..evaluate import predict_proba
    from ..provenance import resolve_device
    from ..training.checkpoint import load_model

    if top < 1:
        raise ValueError(f"--top must be at least 1, got {top}")
    path = checkpoint_path(checkpoint)
    model = load_model(path)
    names, mean = _class_names(model, path), test_mean(model, path)
    resize, crop = int(model.data_config.get("resize", 256)), int(model.data_config.get("crop", 224))
    patches = (TenCrop if ten_crop else CentreCrop)(mean, crop)
    views = [patches(resize_centre_crop(load_image(image), resize)) for image in images]
    dev = resolve_device(device, "--device")
    batches = [(view.unsqueeze(0), torch.zeros(1, dtype=torch.long)) for view in views]
    probs, _ = predict_proba(model.to(dev), batches, dev)
    best = probs.topk(min(top, probs.shape[1]), dim=1)
    return [[(names[int(i)], float(p)) for p, i in zip(ps, ix)] for ps, ix in zip(best.values, best.indices)]


def format_line(image: str | Path, ranked: list[tuple[str, float]]) -> str:
    """``photo.jpg: tench 87.3%, goldfish 5.1%, ...``: one image's line."""
    return f"{image}: " + ", ".join(f"{name} {100 * p:.1f}%" for name, p in ranked)


def run(args: argparse.Namespace) -> int:
    results = classify(args.images, args.checkpoint, ten_crop=args.ten_crop, top=args.top, device=args.device)
    for image, ranked in zip(args.images, results):
        print(format_line(image, ranked))
    return 0
