"""Finding the images of a data set in the ILSVRC folder layout (Section 2).

``root/train/<class>/*.JPEG`` and ``root/val/<class>/*.JPEG`` (the validation split may be called
``val`` or ``test``, as in CIFAR-10 folders). Hidden files and folders and non-image files are
ignored. An empty class folder, a missing split, or train and validation splits with different
classes stop with one line naming the folder. Human-readable class names come from a synset file
next to the splits when there is one (``synsets.tsv``, ``LOC_synset_mapping.txt``,
``synset_words.txt``, ``words.txt``).
"""
from __future__ import annotations

from pathlib import Path

from ..errors import AlexNetError
from .images import is_image_file

__all__ = ["VAL_SPLITS", "find_split", "list_classes", "scan_split", "class_names", "check_same_classes"]

VAL_SPLITS = ("val", "test")
SYNSET_FILES = ("synsets.tsv", "LOC_synset_mapping.txt", "synset_words.txt", "words.txt")


def find_split(root: Path, split: str) -> Path:
    """The folder of ``split`` under ``root``; ``"val"`` also accepts a folder named ``test`` (and
    ``"test"`` one named ``val``).

    Raises :class:`AlexNetError` naming the folder that is missing.
    """
    root = Path(root)
    if not root.is_dir():
        raise AlexNetError(f"data folder {root} does not exist")
    names = (split, *(n for n in VAL_SPLITS if n != split)) if split in VAL_SPLITS else (split,)
    for name in names:
        if (root / name).is_dir():
            return root / name
    wanted = " or ".join(str(root / n) for n in names)
    raise AlexNetError(f"missing split: no folder {wanted} (expected {root}/{names[0]}/<class>/<image>)")


def list_classes(split_dir: Path) -> list[str]:
    """The class folders of a split, sorted; hidden folders are ignored."""
    classes = sorted(p.name for p in Path(split_dir).iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise AlexNetError(f"no class folders in {split_dir} (expected {split_dir}/<class>/<image>)")
    return classes


def scan_split(
    split_dir: Path, classes: list[str] | None = None, max_per_class: int | None = None
) -> tuple[list[tuple[Path, int]], list[str]]:
    """``[(path, label), ...]`` and the class list of one split, files sorted within each class.

    ``classes`` fixes the label order (the training split's); ``max_per_class`` keeps the first
    files of each class. An empty class folder raises :class:`AlexNetError` naming it.
    """
    split_dir = Path(split_dir)
    classes = classes if classes is not None else list_classes(split_dir)
    samples: list[tuple[Path, int]] = []
    for label, name in enumerate(classes):
        folder = split_dir / name
        if not folder.is_dir():
            raise AlexNetError(f"class folder {folder} is missing")
        files = sorted(p for p in folder.iterdir() if p.is_file() and is_image_file(p))
        if not files:
            raise AlexNetError(f"empty class folder {folder}: it holds no image files")
        if max_per_class is not None:
            files = files[:max_per_class]
        samples.extend((p, label) for p in files)
    return samples, classes


def check_same_classes(train_dir: Path, val_dir: Path) -> list[str]:
    """The shared class list; raises :class:`AlexNetError` when the two splits differ."""
    train, val = list_classes(train_dir), list_classes(val_dir)
    if train != val:
        only_train = sorted(set(train) - set(val))[:3]
        only_val = sorted(set(val) - set(train))[:3]
        raise AlexNetError(
            f"class mismatch: {train_dir} has {len(train)} classes and {val_dir} has {len(val)}"
            f" (only in train: {only_train}, only in {val_dir.name}: {only_val})"
        )
    return train


def class_names(root: Path, classes: list[str]) -> list[str]:
    """Human-readable names for ``classes`` from a synset file in ``root`` (or its parent).

    Lines are ``wnid<TAB>name`` or ``wnid name, synonym, ...``; the first synonym is kept. Classes
    without an entry keep their folder name.
    """
    mapping: dict[str, str] = {}
    for folder in (Path(root), Path(root).parent):
        for fname in SYNSET_FILES:
            path = folder / fname
            if path.is_file():
                for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                    parts = line.strip().split("\t", 1) if "\t" in line else line.strip().split(" ", 1)
                    if len(parts) == 2:
                        mapping.setdefault(parts[0].strip(), parts[1].split(",")[0].strip())
        if mapping:
            break
    return [mapping.get(c, c.replace("_", " ")) for c in classes]
