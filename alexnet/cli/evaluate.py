"""``python -m alexnet evaluate``: top-1/top-5 error of checkpoints, one patch or ten (Section 6).

Prints a table and writes the full result (per model, ensemble, per-class errors, most confused
pairs) as JSON.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ..evaluate import evaluate, format_report, resolve_checkpoint, write_report


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="top-1/top-5 error: centre crop, ten patches, ensembles (Section 6)",
                       description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, metavar="CKPT",
                   help="a checkpoint (.pt) or a run folder (its best.pt, else last.pt)")
    p.add_argument("--ensemble", nargs="+", default=[], metavar="CKPT",
                   help="more checkpoints: their softmax outputs are averaged with --checkpoint's "
                        "(Table 2's '5 CNNs') (default: none)")
    p.add_argument("--data", default=None,
                   help="data set folder (default: the one the checkpoint's run was trained on, else "
                        "$ALEXNET_DATA/<--dataset>, then ~/.cache/alexnet)")
    p.add_argument("--dataset", default="imagenet", help="data set name used when --data is not given (default: imagenet)")
    p.add_argument("--split", default="val", help="split to evaluate: val (or a folder named test) or train (default: val)")
    p.add_argument("--ten-crop", action="store_true",
                   help="also average the softmax over the ten patches of Section 4.1 (default: centre crop only)")
    p.add_argument("--batch-size", type=int, default=128, help="images per batch (default: 128)")
    p.add_argument("--workers", type=int, default=None, help="data loader processes (default: the data module's)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads of torch (default: torch's)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1 ... (default: auto)")
    p.add_argument("--amp", default="none", choices=("none", "bf16", "fp16"), help="autocast (default: none)")
    p.add_argument("--max-per-class", type=int, default=None, help="at most this many images per class (default: all)")
    p.add_argument("--skip-bad", action="store_true", help="skip unreadable images (default: stop)")
    p.add_argument("--top-confused", type=int, default=10, help="how many confused pairs to list (default: 10)")
    p.add_argument("--out", default=None, metavar="JSON",
                   help="where to write the JSON (default: eval-<split>.json beside the first checkpoint)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    checkpoints = [args.checkpoint, *args.ensemble]
    result = evaluate(checkpoints, args.data, ten_crop=args.ten_crop, split=args.split, dataset=args.dataset,
                      batch_size=args.batch_size, workers=args.workers, device=args.device, amp=args.amp,
                      max_per_class=args.max_per_class, skip_bad=args.skip_bad, top_confused=args.top_confused,
                      progress=not args.quiet, threads=args.threads)
    out = Path(args.out) if args.out else resolve_checkpoint(args.checkpoint).parent / f"eval-{args.split}.json"
    write_report(result, out)
    print(format_report(result))
    print(f"written: {out}")
    return 0
