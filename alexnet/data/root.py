"""One rule for finding data (Section 2): an explicit argument, else ``$ALEXNET_DATA``, else the
cache folder (``$ALEXNET_CACHE`` or ``~/.cache/alexnet``).

Each place may be the data set folder itself (holding ``train/``, ``val/`` or ``test/``, or
CIFAR-10's ``cifar-10-batches-py``) or a folder holding data sets by name (``imagenet/``,
``imagenet-sample/``, ``cifar10/``, ``synthetic/`` ...). CIFAR-10 is downloaded into the cache
folder when nothing is found and the network allows; ``dataset="synthetic"`` generates the
offline set there.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import AlexNetError
from .cache import cache_dir
from .cifar import BATCHES, download_cifar10, is_cifar_python

__all__ = ["resolve_data_root", "looks_like_dataset", "DATASETS"]

#: Data set names and the folder names each may be found under.
DATASETS = {
    "imagenet": ("imagenet", "ILSVRC2012", "ilsvrc2012", "ILSVRC2010", "ilsvrc2010"),
    "imagenet-sample": ("imagenet-sample",),
    "cifar10": ("cifar10", "cifar-10", BATCHES),
    "synthetic": ("synthetic",),
}

LAYOUT = {
    "imagenet": "imagenet/train/<wnid>/*.JPEG and imagenet/val/<wnid>/*.JPEG",
    "imagenet-sample": "imagenet-sample/val/<wnid>/*.JPEG",
    "cifar10": "cifar10/train/<class>/*.jpg and cifar10/test/<class>/*.jpg, or cifar10/cifar-10-batches-py",
}


def looks_like_dataset(folder: Path) -> bool:
    """True when ``folder`` holds splits (``train``, ``val``, ``test``) or CIFAR-10 batches."""
    folder = Path(folder)
    return folder.is_dir() and (any((folder / s).is_dir() for s in ("train", "val", "test"))
                                or is_cifar_python(folder))


def _in(base: Path, dataset: str) -> Path | None:
    for name in DATASETS.get(dataset, (dataset,)):
        if looks_like_dataset(base / name):
            return base / name
    return None


def resolve_data_root(path: str | Path | None = None, dataset: str = "imagenet", *, download: bool = True) -> Path:
    """The folder of ``dataset`` by the rule above; raises :class:`AlexNetError` when there is none,
    saying which layout to provide and where. ``download=False`` neither downloads CIFAR-10 nor
    generates the synthetic set."""
    if path is not None:
        base = Path(path).expanduser()
        if not base.exists():
            raise AlexNetError(f"data folder {base} does not exist")
        found = _in(base, dataset)
        if found is not None and not looks_like_dataset(base):
            return found
        if looks_like_dataset(base):
            return base
        raise AlexNetError(f"{base} holds no data set: expected {base}/train/<class>/ and {base}/val/<class>/ "
                           f"or {base}/{LAYOUT.get(dataset, dataset + '/train/<class>/')}")
    env = os.environ.get("ALEXNET_DATA")
    if env:
        base = Path(env).expanduser()
        found = _in(base, dataset)
        if found is not None:
            return found
        if looks_like_dataset(base) and (dataset in base.name.lower() or dataset == "imagenet"):
            return base
    cache = cache_dir()
    found = _in(cache, dataset)
    if found is not None:
        return found
    if dataset == "synthetic" and download:
        from .synthetic import make_synthetic

        return make_synthetic(cache / "synthetic")
    if dataset == "cifar10" and download:
        try:
            return download_cifar10(cache / "cifar10")
        except AlexNetError as err:
            reason = f" ({err})"
    else:
        reason = ""
    where = f"$ALEXNET_DATA={env}" if env else "$ALEXNET_DATA (unset)"
    raise AlexNetError(
        f"no {dataset} data found{reason}: provide {LAYOUT.get(dataset, dataset + '/train/<class>/*')} "
        f"in a folder passed as --data, in {where}, or in {cache}; "
        f"without data use dataset 'synthetic' (generated images)"
    )
