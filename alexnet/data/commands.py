"""Command-line entry points of the data pipeline (registered in :mod:`alexnet.cli`).

* ``python -m alexnet prepare SRC DST``: the 256x256 copy of Section 2 (:mod:`.prepare`).
* ``python -m alexnet convert-imagenet-val VAL_DIR GROUND_TRUTH --out DIR``: the flat validation
  folder into the folder layout (:mod:`.imagenet_val`).
* ``python -m alexnet data-stats [--data DIR]``: describe a data set and compute (or load) its
  cached mean image and PCA (Sections 2 and 4.1).
* ``python -m alexnet pack-images SRC OUT.npz``: a whole image folder as one file (:mod:`.packed`),
  to carry a data set of many small files to another machine.
"""
from __future__ import annotations

import argparse

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prepare", help="write the 256x256 copy of a data set (Section 2), resumable")
    p.add_argument("src", help="data set folder holding train/<class>/, val/<class>/ (and/or test/)")
    p.add_argument("dst", help="output folder (not inside the source)")
    p.add_argument("--size", type=int, default=256, help="side of the square images (paper: 256)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: cores - 1, at most 8)")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality of the copies")
    p.add_argument("--skip-bad", action="store_true", help="leave out unreadable images and list them")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_prepare)

    p = sub.add_parser("convert-imagenet-val", help="the flat ILSVRC validation folder into val/<wnid>/ folders")
    p.add_argument("val_dir", help="folder of ILSVRC20xx_val_*.JPEG files")
    p.add_argument("ground_truth", help="LOC_val_solution.csv, '<file> <wnid>' lines, or the devkit's ground truth")
    p.add_argument("--out", required=True, help="output folder (becomes <out>/<wnid>/*.JPEG)")
    p.add_argument("--synsets", default=None,
                   help="meta.mat of the devkit or a text file of wnids in label/ID order (for numeric labels)")
    p.add_argument("--mode", default="link", choices=("link", "copy", "symlink", "move"),
                   help="hard link (default, copy across file systems), copy, symlink or move")
    p.set_defaults(func=_convert)

    p = sub.add_parser("data-stats", help="describe a data set and compute its cached mean image and PCA")
    p.add_argument("--data", default=None, help="data folder (default: $ALEXNET_DATA, then the cache folder)")
    p.add_argument("--dataset", default="imagenet", help="name looked up under --data/$ALEXNET_DATA")
    p.add_argument("--resize", type=int, default=256)
    p.add_argument("--max-per-class", type=int, default=None)
    p.add_argument("--skip-bad", action="store_true")
    p.add_argument("--workers", type=int, default=None)
    p.set_defaults(func=_stats)

    p = sub.add_parser("pack-images", help="a data set folder (<split>/<class>/<image>) as one .npz file")
    p.add_argument("src", help="data set folder holding train/<class>/ and test/<class>/ (or val/)")
    p.add_argument("out", help="the packed file to write (.npz)")
    p.set_defaults(func=_pack)


def _pack(args: argparse.Namespace) -> int:
    from .packed import pack_folder, read_packed

    out = pack_folder(args.src, args.out)
    import numpy as np

    with np.load(out) as z:
        splits = sorted(k[:-len("_bytes")] for k in z.files if k.endswith("_bytes"))
    counts = ", ".join(f"{s} {len(read_packed(out, s))}" for s in splits)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): {counts} images")
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from .prepare import prepare

    r = prepare(args.src, args.dst, size=args.size, workers=args.workers, skip_bad=args.skip_bad,
                quality=args.quality, progress=not args.quiet)
    print(f"prepared {r.target}: {r.written} written, {r.already_done} already done, {len(r.bad)} bad skipped"
          f" ({r.seconds:.1f} s)")
    for line in r.bad:
        print(f"  skipped: {line}")
    return 0


def _convert(args: argparse.Namespace) -> int:
    from .imagenet_val import convert_imagenet_val

    c = convert_imagenet_val(args.val_dir, args.ground_truth, args.out, synsets=args.synsets, mode=args.mode)
    print(f"{args.out}: {c['images']} images placed in {c['classes']} class folders"
          f" ({c['already_there']} already there)")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from .datasets import build_datasets
    from .root import resolve_data_root

    root = resolve_data_root(args.data, args.dataset)
    b = build_datasets(root, resize=args.resize, crop=min(224, args.resize), max_per_class=args.max_per_class,
                       skip_bad=args.skip_bad, workers=args.workers, scale=1.0, progress=True)
    print(b.description)
    print("mean RGB (0-1):", [round(v, 4) for v in b.mean.mean(dim=(1, 2)).tolist()])
    print("PCA eigenvalues:", [round(v, 5) for v in b.pca.eigvals.tolist()])
    print("PCA eigenvectors (columns):", [[round(v, 4) for v in row] for row in b.pca.eigvecs.tolist()])
    if b.skipped:
        print(f"skipped {len(b.skipped)} bad image(s):", ", ".join(map(str, b.skipped)))
    return 0
