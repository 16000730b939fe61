"""``python -m alexnet pack-images SRC OUT.npz``: a whole image folder as one file
(:mod:`alexnet.data.packed`), to carry a data set of many small files to another machine.
"""
from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pack-images", help="a data set folder (<split>/<class>/<image>) as one .npz file")
    p.add_argument("src", help="data set folder holding train/<class>/ and test/<class>/ (or val/)")
    p.add_argument("out", help="the packed file to write (.npz)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.packed import pack_folder, read_packed

    out = pack_folder(args.src, args.out)
    import numpy as np

    with np.load(out) as z:
        splits = sorted(k[:-len("_bytes")] for k in z.files if k.endswith("_bytes"))
    counts = ", ".join(f"{s} {len(read_packed(out, s))}" for s in splits)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): {counts} images")
    return 0
