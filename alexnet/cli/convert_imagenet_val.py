"""``python -m alexnet convert-imagenet-val VAL_DIR GROUND_TRUTH --out DIR``: the flat ILSVRC
validation folder into the folder layout (:mod:`alexnet.data.imagenet_val`).
"""
from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert-imagenet-val", help="the flat ILSVRC validation folder into val/<wnid>/ folders")
    p.add_argument("val_dir", help="folder of ILSVRC20xx_val_*.JPEG files")
    p.add_argument("ground_truth", help="LOC_val_solution.csv, '<file> <wnid>' lines, or the devkit's ground truth")
    p.add_argument("--out", required=True, help="output folder (becomes <out>/<wnid>/*.JPEG)")
    p.add_argument("--synsets", default=None,
                   help="meta.mat of the devkit or a text file of wnids in label/ID order (for numeric labels)")
    p.add_argument("--mode", default="link", choices=("link", "copy", "symlink", "move"),
                   help="hard link (default, copy across file systems), copy, symlink or move")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.imagenet_val import convert_imagenet_val

    c = convert_imagenet_val(args.val_dir, args.ground_truth, args.out, synsets=args.synsets, mode=args.mode)
    print(f"{args.out}: {c['images']} images placed in {c['classes']} class folders"
          f" ({c['already_there']} already there)")
    return 0
