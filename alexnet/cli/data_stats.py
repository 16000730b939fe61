"""``python -m alexnet data-stats [--data DIR]``: describe a data set and compute (or load) its
cached mean image and PCA (Sections 2 and 4.1; :mod:`alexnet.data.stats`).
"""
from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("data-stats", help="describe a data set and compute its cached mean image and PCA")
    p.add_argument("--data", default=None, help="data folder (default: $ALEXNET_DATA, then the cache folder)")
    p.add_argument("--dataset", default="imagenet", help="name looked up under --data/$ALEXNET_DATA")
    p.add_argument("--resize", type=int, default=256)
    p.add_argument("--max-per-class", type=int, default=None)
    p.add_argument("--skip-bad", action="store_true")
    p.add_argument("--workers", type=int, default=None)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.datasets import build_datasets
    from ..data.root import resolve_data_root

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
