"""``python -m alexnet experiment NAME --profile ci|full``: run one of the book's experiments."""
from __future__ import annotations

import argparse
import json
import sys

from ..errors import AlexNetError


def _parse_set(items: list[str]) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise AlexNetError(f"--set expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def add_parser(sub: argparse._SubParsersAction) -> None:
    from ..experiments import EXPERIMENTS

    p = sub.add_parser("experiment", help="test one of the paper's claims (CIFAR-10 ablations, Imagenette claims) and write its results JSON",
                       description="Run one experiment and write results/<experiment>/<profile>.json.")
    p.add_argument("name", help=f"one of {', '.join(sorted(EXPERIMENTS))}")
    p.add_argument("--profile", default="ci", choices=("ci", "full"),
                   help="ci: minutes on two CPU cores (subsets or generated images); full: all of CIFAR-10 or "
                        "Imagenette (hours on a CPU)")
    p.add_argument("--out", help="JSON file to write (default results/<experiment>/<profile>.json)")
    p.add_argument("--seeds", type=int, help="number of seeds (default: the profile's)")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu, cuda, cuda:1, ...")
    p.add_argument("--data", help="folder holding cifar10/ or imagenette/ (default: $ALEXNET_DATA, then "
                                  "~/.cache/alexnet)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                   help="override a profile setting (JSON value), e.g. --set max_epochs=2; repeatable")
    p.add_argument("--progress", action="store_true", help="show progress bars")
    p.add_argument("--threads", type=int, help="CPU threads of torch (torch.set_num_threads; default: torch's)")
    p.add_argument("--fresh", action="store_true",
                   help="discard the finished runs recorded beside the JSON (default: reuse them and continue; "
                        "the ci profile always starts afresh)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..experiments import run as run_experiment

    if args.threads is not None:
        if args.threads < 1:
            raise AlexNetError(f"--threads must be at least 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    overrides = _parse_set(args.set)
    if args.seeds is not None:
        overrides["seeds"] = args.seeds
    command = "python -m alexnet " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["experiment"] else None
    result = run_experiment(args.name, args.profile, out=args.out, device=args.device, data=args.data,
                            progress=args.progress, command=command, resume=False if args.fresh else None,
                            **overrides)
    done, made = result.progress, result.provenance
    print(f"{done.records} runs recorded, {done.trained_now} of them trained by this command")
    print(f"{result.experiment} ({result.profile}, {made.device}, {made.wall_seconds:.0f} s): {result.verdict} -- "
          f"{result.claim.explanation}")
    if result.data.synthetic:
        print("NOTE: ran on GENERATED data; the numbers say nothing about the paper")
    print(f"wrote {result.path}")
    return 0
