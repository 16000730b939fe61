"""``python -m alexnet convert-imagenet-val``: the official flat ILSVRC validation folder
(``ILSVRC2012_val_00000001.JPEG`` ...) into the folder layout ``val/<wnid>/*.JPEG`` (Section 2).

The ground truth may be given as

* Kaggle's ``LOC_val_solution.csv`` (``ImageId,PredictionString`` with the wnid first);
* lines ``<file name> <wnid>``;
* lines ``<file name> <integer label>`` (0-based, e.g. Caffe's ``val.txt``) with ``synsets``
  listing the wnids in label order, one per line (e.g. ``synset_words.txt``);
* the devkit's ``ILSVRC2012_validation_ground_truth.txt`` (or 2010's): one 1-based ILSVRC ID per
  line, in the order of the sorted file names, with ``synsets`` being the devkit's ``meta.mat``
  (read with scipy) or a text file listing the wnids in ID order.

ILSVRC-2010's flat test folder (the only year with public test labels) converts the same way, with
``ILSVRC2010_test_ground_truth.txt`` and ``--out imagenet/test``.

Files are hard-linked by default (falling back to a copy across file systems); ``mode`` may be
``copy``, ``symlink`` or ``move``. The source folder is never modified except with ``move``.
"""
from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

from ..errors import AlexNetError
from .images import is_image_file

__all__ = ["read_ground_truth", "convert_imagenet_val"]


def _read_synsets(path: Path) -> list[str]:
    if path.suffix == ".mat":
        try:
            from scipy.io import loadmat
        except ImportError:
            raise AlexNetError(f"reading {path} needs scipy; or pass a text file of wnids in ID order") from None
        synsets = loadmat(str(path), squeeze_me=True)["synsets"]
        pairs = sorted((int(s["ILSVRC2012_ID"] if "ILSVRC2012_ID" in s.dtype.names else s["ILSVRC2010_ID"]),
                        str(s["WNID"])) for s in synsets)
        return [w for i, w in pairs if i <= 1000]
    wnids = [line.split()[0] for line in path.read_text().splitlines() if line.strip()]
    if not wnids:
        raise AlexNetError(f"synset file {path} lists no wnids")
    return wnids


def read_ground_truth(ground_truth: str | Path, files: list[str], synsets: str | Path | None = None) -> dict[str, str]:
    """``{file name: wnid}`` from any of the formats in the module doc; ``files`` are the sorted
    names of the flat folder (needed for the one-ID-per-line format)."""
    gt = Path(ground_truth)
    if not gt.is_file():
        raise AlexNetError(f"ground-truth file {gt} does not exist")
    wnids = _read_synsets(Path(synsets)) if synsets else None
    by_stem = {Path(f).stem: f for f in files}
    text = gt.read_text()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and lines[0].lower().startswith("imageid"):
        rows = list(csv.reader(lines[1:]))
        return {by_stem.get(r[0], r[0]): r[1].split()[0] for r in rows if len(r) >= 2}
    mapping: dict[str, str] = {}
    if all(line.isdigit() for line in lines):
        if wnids is None:
            raise AlexNetError(f"{gt} holds ILSVRC IDs: pass the devkit's meta.mat (or a wnid list) as synsets")
        if len(lines) != len(files):
            raise AlexNetError(f"{gt} has {len(lines)} labels but the folder has {len(files)} images")
        for name, ident in zip(files, lines):
            mapping[name] = wnids[int(ident) - 1]
        return mapping
    for line in lines:
        parts = line.replace(",", " ").split()
        if len(parts) < 2:
            raise AlexNetError(f"cannot read line {line!r} of {gt}")
        name, label = Path(parts[0]).name, parts[1]
        if label.isdigit():
            if wnids is None:
                raise AlexNetError(f"{gt} has integer labels: pass a wnid list in label order as synsets")
            label = wnids[int(label)]
        mapping[by_stem.get(Path(name).stem, name)] = label
    return mapping


def convert_imagenet_val(
    val_dir: str | Path, ground_truth: str | Path, out: str | Path, *, synsets: str | Path | None = None,
    mode: str = "link",
) -> dict[str, int]:
    """Place every image of the flat ``val_dir`` into ``out/<wnid>/``; returns counts."""
    val_dir, out = Path(val_dir).expanduser().resolve(), Path(out).expanduser().resolve()
    if mode not in ("link", "copy", "symlink", "move"):
        raise AlexNetError(f"mode must be link, copy, symlink or move, got {mode!r}")
    if not val_dir.is_dir():
        raise AlexNetError(f"validation folder {val_dir} does not exist")
    if out == val_dir or out.is_relative_to(val_dir):
        raise AlexNetError(f"refusing to write {out}: the output may not be inside the input {val_dir}")
    files = sorted(p.name for p in val_dir.iterdir() if p.is_file() and is_image_file(p))
    if not files:
        raise AlexNetError(f"no images in {val_dir}")
    mapping = read_ground_truth(ground_truth, files, synsets)
    missing = [f for f in files if f not in mapping]
    if missing:
        raise AlexNetError(f"{len(missing)} images of {val_dir} have no label in {ground_truth}, e.g. {missing[0]}")
    counts = {"images": 0, "classes": 0, "already_there": 0}
    for name in files:
        source, target = val_dir / name, out / mapping[name] / name
        if target.exists():
            counts["already_there"] += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "link":
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
        elif mode == "copy":
            shutil.copy2(source, target)
        elif mode == "symlink":
            target.symlink_to(source)
        else:
            shutil.move(str(source), target)
        counts["images"] += 1
    counts["classes"] = len(set(mapping[f] for f in files))
    return counts
