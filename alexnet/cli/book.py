"""``python -m alexnet book``: execute the chapters with papermill and build the HTML book.

The work is done by :mod:`alexnet.book` (it needs the ``[book]`` extra), imported only when the
command runs.
"""
from __future__ import annotations

import argparse

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("book", help="execute the chapters with papermill and build the HTML book")
    p.add_argument("--profile", default="ci", choices=("ci", "full"),
                   help="notebook profile: ci (minutes on a CPU) or full (a GPU and real data)")
    p.add_argument("--only", nargs="*", metavar="CHAPTER",
                   help="execute only these chapters (by stem); the others reuse their last executed copy")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..book.tooling.build import build

    return build(args.profile, only=args.only) and 0
