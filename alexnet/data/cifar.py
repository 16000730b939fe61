"""CIFAR-10 in torchvision's Python format (``cifar-10-batches-py/``), read without torchvision's
checksum pass so that copies and small test fixtures load too; downloading goes through
``torchvision.datasets.CIFAR10(download=True)`` into the cache folder.

(CIFAR-10 in the folder layout ``train/<class>/``, ``test/<class>/`` is read like ImageNet.)
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ..errors import AlexNetError

__all__ = ["BATCHES", "is_cifar_python", "read_cifar_python", "download_cifar10"]

BATCHES = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILES = ("test_batch",)


def is_cifar_python(root: Path) -> bool:
    """True when ``root`` is (or holds) a ``cifar-10-batches-py`` folder."""
    root = Path(root)
    return (root / "batches.meta").is_file() or (root / BATCHES / "batches.meta").is_file()


def read_cifar_python(root: Path, split: str) -> tuple[np.ndarray, list[int], list[str]]:
    """``(images uint8 (N, 32, 32, 3), labels, classes)`` of ``split`` (``train`` or ``val``/``test``)."""
    root = Path(root)
    folder = root if (root / "batches.meta").is_file() else root / BATCHES
    names = TRAIN_FILES if split == "train" else TEST_FILES
    images, labels = [], []
    for name in names:
        path = folder / name
        if not path.is_file():
            raise AlexNetError(f"missing CIFAR-10 batch file {path}")
        try:
            with open(path, "rb") as fh:
                entry = pickle.load(fh, encoding="latin1")
        except Exception as err:  # noqa: BLE001
            raise AlexNetError(f"cannot read CIFAR-10 batch file {path}: {err}") from None
        images.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels.extend(int(v) for v in entry.get("labels", entry.get("fine_labels", [])))
    with open(folder / "batches.meta", "rb") as fh:
        classes = list(pickle.load(fh, encoding="latin1")["label_names"])
    return np.concatenate(images), labels, classes


def download_cifar10(target: Path, timeout: float = 10.0) -> Path:
    """Download CIFAR-10 with torchvision into ``target``; raises :class:`AlexNetError` offline."""
    import socket
    import urllib.request

    target = Path(target)
    try:
        urllib.request.urlopen("https://www.cs.toronto.edu/~kriz/", timeout=timeout).close()
    except (OSError, socket.timeout) as err:
        raise AlexNetError(f"cannot download CIFAR-10 into {target} (offline? {err})") from None
    from torchvision.datasets import CIFAR10

    target.mkdir(parents=True, exist_ok=True)
    CIFAR10(str(target), train=True, download=True)
    CIFAR10(str(target), train=False, download=True)
    return target
