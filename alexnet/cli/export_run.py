"""``python -m alexnet export-run RUN --out DIR``: a finished run folder into small committable results.

The work is :func:`alexnet.export_run.export_run` (Sections 6 and 6.1).
"""
from __future__ import annotations

import argparse

from ..export_run import __doc__ as _EXPORT_DOC
from ..export_run import export_run

__all__ = ["add_parser", "run"]


def export_doc() -> str:
    return _EXPORT_DOC.splitlines()[0]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export-run", help="turn a finished run folder into small committable results (Sections 6, 6.1)",
                       description=export_doc())
    p.add_argument("run", help="a finished run folder (config.json, metrics.jsonl, summary.json, last.pt, best.pt)")
    p.add_argument("--data", default=None, help="the data set it was trained on (default: the folder its config.json names)")
    p.add_argument("--out", required=True, help="results folder to write, e.g. results/imagenette")
    p.add_argument("--batch-size", type=int, default=64, help="images per forward pass (default: 64)")
    p.add_argument("--workers", type=int, default=None, help="data loader processes (default: the data module's)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads of torch (default: torch's)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda ... (default: auto)")
    p.add_argument("--max-per-class", type=int, default=None,
                   help="at most this many validation and training images per class (default: all; for quick checks)")
    p.add_argument("--amp", default="none", choices=("none", "bf16", "fp16"),
                   help="autocast of the evaluation (default: none, i.e. float32)")
    p.add_argument("--permutations", type=int, default=20_000, help="random splits in Figure 3's test (default: 20000)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = export_run(args.run, args.data, args.out, batch_size=args.batch_size, workers=args.workers,
                     threads=args.threads, device=args.device, max_per_class=args.max_per_class,
                     amp=args.amp, permutations=args.permutations, progress=not args.quiet)
    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print((out / "README.md").read_text())
    print(f"written: {out} ({total / 1e6:.2f} MB)")
    return 0
