"""A whole image folder as ONE file: the encoded bytes, their offsets and labels.

Copying 60,000 small JPEGs to another machine costs far more than their 55 MB (a tar pads each
file to about 1 KB, and file systems pay per file). ``pack_folder`` writes a data set laid out as
``<split>/<class>/<image>`` into a single ``.npz`` holding, for each split, the concatenated file
bytes (``<split>_bytes``, uint8), where each file starts (``<split>_offsets``, N + 1 int64), the
labels and the relative paths; ``classes`` holds the class folder names. Nothing is decoded or
re-encoded: reading a packed image gives exactly the bytes of the original file.

    python -m alexnet pack-images ../shared/data/cifar10 cifar10.pack.npz
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import AlexNetError
from ..files import atomic_open

__all__ = ["pack_folder", "PackedSplit", "read_packed", "is_packed"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
SUFFIX = ".npz"


def _split_files(split_dir: Path) -> tuple[list[Path], list[int], list[str]]:
    classes = sorted(p.name for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise AlexNetError(f"no class folders in {split_dir} (expected {split_dir}/<class>/<image>)")
    files: list[Path] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        found = sorted(p for p in (split_dir / name).iterdir()
                       if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
        if not found:
            raise AlexNetError(f"empty class folder {split_dir / name}")
        files += found
        labels += [label] * len(found)
    return files, labels, classes


def pack_folder(src: str | Path, out: str | Path, splits: tuple[str, ...] = ("train", "test", "val")) -> Path:
    """Pack every split of ``src`` that exists (of ``splits``) into the one file ``out`` (.npz)."""
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise AlexNetError(f"data folder {src} does not exist")
    if out.suffix != SUFFIX:
        raise AlexNetError(f"packed file {out} must end in {SUFFIX}")
    arrays: dict[str, np.ndarray] = {}
    classes: list[str] | None = None
    for split in splits:
        if not (src / split).is_dir():
            continue
        files, labels, names = _split_files(src / split)
        if classes is not None and names != classes:
            raise AlexNetError(f"{src / split}: class folders differ from the other splits'")
        classes = names
        blobs = [f.read_bytes() for f in files]
        offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in blobs], out=offsets[1:])
        arrays[f"{split}_bytes"] = np.frombuffer(b"".join(blobs), dtype=np.uint8)
        arrays[f"{split}_offsets"] = offsets
        arrays[f"{split}_labels"] = np.asarray(labels, dtype=np.int64)
        arrays[f"{split}_paths"] = np.asarray([f"{f.parent.name}/{f.name}" for f in files])
    if classes is None:
        raise AlexNetError(f"{src} holds none of the splits {', '.join(splits)} (expected {src}/train/<class>/...)")
    arrays["classes"] = np.asarray(classes)
    with atomic_open(out, "wb") as f:
        np.savez(f, **arrays)  # uncompressed: JPEG bytes do not compress
    return out


@dataclass
class PackedSplit:
    """One split of a packed file: ``blob(i)`` is the i-th file's bytes."""

    data: np.ndarray
    offsets: np.ndarray
    labels: np.ndarray
    paths: list[str]
    classes: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def blob(self, i: int) -> bytes:
        return self.data[self.offsets[i]:self.offsets[i + 1]].tobytes()


def is_packed(path: str | Path) -> bool:
    """Whether ``path`` is a packed image file (by its name and contents)."""
    path = Path(path)
    if not (path.is_file() and path.suffix == SUFFIX):
        return False
    try:
        with np.load(path) as z:
            return "classes" in z.files and any(k.endswith("_offsets") for k in z.files)
    except (OSError, ValueError):
        return False


def read_packed(path: str | Path, split: str) -> PackedSplit:
    """Split ``split`` of the packed file ``path``; a clear error names a missing split or a bad file."""
    path = Path(path)
    try:
        with np.load(path) as z:
            if f"{split}_bytes" not in z.files:
                have = sorted(k[:-len("_bytes")] for k in z.files if k.endswith("_bytes"))
                raise AlexNetError(f"packed file {path} has no split {split!r} (it has {', '.join(have) or 'none'})")
            return PackedSplit(z[f"{split}_bytes"], z[f"{split}_offsets"], z[f"{split}_labels"],
                               [str(p) for p in z[f"{split}_paths"]], [str(c) for c in z["classes"]])
    except (OSError, ValueError, KeyError) as err:
        raise AlexNetError(f"packed file {path} cannot be read: {err}".splitlines()[0]) from None
