"""``python -m alexnet summary``: print the layer table of Section 3.5 for any variant."""
from __future__ import annotations

import argparse

from ..model import AlexNet
from ..summary import summary


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("summary", help="layer table: shapes, parameters, neurons, mult-adds")
    p.add_argument("--towers", type=int, default=2, choices=(1, 2), help="2 (paper) or 1 (footnote 2)")
    p.add_argument("--input-size", type=int, default=224, help="input height and width (224 or 227)")
    p.add_argument("--num-classes", type=int, default=1000)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    table = summary(AlexNet(args.num_classes, towers=args.towers), input_size=args.input_size)
    print(table.to_string(index=False))
    return 0
