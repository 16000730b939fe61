"""``python -m alexnet prepare SRC DST``: the 256x256 copy of a data set that Section 2 describes
(:mod:`alexnet.data.prepare`), resumable.
"""
from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prepare", help="write the 256x256 copy of a data set (Section 2), resumable")
    p.add_argument("src", help="data set folder holding train/<class>/, val/<class>/ (and/or test/)")
    p.add_argument("dst", help="output folder (not inside the source)")
    p.add_argument("--size", type=int, default=256, help="side of the square images (paper: 256)")
    p.add_argument("--workers", type=int, default=None, help="processes (default: cores - 1, at most 8)")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality of the copies")
    p.add_argument("--skip-bad", action="store_true", help="leave out unreadable images and list them")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..data.prepare import prepare

    r = prepare(args.src, args.dst, size=args.size, workers=args.workers, skip_bad=args.skip_bad,
                quality=args.quality, progress=not args.quiet)
    print(f"prepared {r.target}: {r.written} written, {r.already_done} already done, {len(r.bad)} bad skipped"
          f" ({r.seconds:.1f} s)")
    for line in r.bad:
        print(f"  skipped: {line}")
    return 0
