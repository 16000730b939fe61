"""``python -m alexnet bench WHAT``: training speed of the model, the LRN kernels and the data pipeline.

``model``, ``lrn``, ``data`` and ``all`` measure on one device and write ``results/bench/<device>.json``
(:mod:`alexnet.bench.model`); ``loader`` measures the CPU DataLoader on an image folder
(:mod:`alexnet.bench.data`). ``python -m alexnet.bench ...`` is the same command.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

from ..bench.data import default_root, machine_info, pipeline_rate
from ..bench.model import (
    CPU_DEFAULT_MODES, CPU_MODES, MODES, Recorder, _csv, bench_data, bench_lrn, bench_model, device_name, parse_mode,
    print_model_table,
)
from ..bench.variants import MODELS
from ..errors import AlexNetError
from ..provenance import ROOT, record, resolve_device

__all__ = ["add_parser", "run", "main"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="training speed: our model vs torchvision's, LRN, data pipeline")
    _add_subcommands(p)


def _add_subcommands(p: argparse.ArgumentParser) -> None:
    bsub = p.add_subparsers(dest="bench_command", required=True, metavar="WHAT")
    for name, text in (("model", "training images/s and MFU per precision mode, ours vs torchvision's alexnet"),
                       ("lrn", "LRN forward+backward per implementation"),
                       ("data", "input pipeline images/s (GPU-side store and JPEG decoding; CPU loader)"),
                       ("all", "model, lrn and data into one JSON"),
                       ("profile", "where one training step's time goes, by part (torch.profiler), each network"),
                       ("cifar", "the CIFAR-10 ablations' in-memory loop (fit_in_memory), images/s per variant"),
                       ("loop", "the training loop (train) against its bare step, and its data wait")):
        q = bsub.add_parser(name, help=text)
        q.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
        q.add_argument("--threads", type=int, default=None,
                       help="CPU threads of torch (default torch's: the cores); 1 is steadier on a busy machine")
        q.add_argument("--out", default=None,
                       help="JSON file (default: results/bench/<device>.json; 'none' to write nothing)")
        if name in ("model", "all"):
            q.add_argument("--models", default=None, help=f"comma-separated from {MODELS} (default torchvision,ours)")
            q.add_argument("--modes", default=None, help=f"comma-separated (GPU default {','.join(MODES)}; "
                                                         f"CPU default {','.join(CPU_DEFAULT_MODES)}; CPU also "
                                                         f"{','.join(m for m in CPU_MODES if m not in CPU_DEFAULT_MODES)})")
            q.add_argument("--compile-models", default=None, help="models to compile in *_compile modes (default all)")
            q.add_argument("--batch-size", type=int, default=None, help="default 256 on a GPU, 32 on a CPU")
            q.add_argument("--steps", type=int, default=None, help="steps per round (GPU 20, CPU 1)")
            q.add_argument("--warmup", type=int, default=None, help="untimed rounds first (GPU 1, CPU 5)")
            q.add_argument("--repeats", type=int, default=None,
                           help="timed rounds, the models alternating (GPU 3, CPU 20); each figure is their median")
        if name in ("profile", "loop"):
            q.add_argument("--modes", default=None, help="comma-separated precision modes (default fp32,bf16_cl for "
                                                         "profile, bf16_cl for loop: the Imagenette preset's)")
        if name == "profile":
            q.add_argument("--networks", default="torchvision,ours,cifarnet")
            q.add_argument("--profile-steps", type=int, default=3, help="profiled steps (after 3 warm-up steps)")
        if name == "cifar":
            q.add_argument("--variants", default="default,relu_copy,lrn_hand_backward",
                           help="comma-separated from alexnet.bench.cifar.CIFAR_VARIANTS")
            q.add_argument("--rounds", type=int, default=10)
            q.add_argument("--steps", type=int, default=8, help="training steps per timed call")
        if name == "loop":
            q.add_argument("--data", default=None, help="image folder (default: generated 256x256 images)")
            q.add_argument("--steps", type=int, default=8, help="steps per epoch")
            q.add_argument("--rounds", type=int, default=3)
            q.add_argument("--batch-size", type=int, default=32)
        if name in ("lrn", "all"):
            q.add_argument("--lrn-shape", default=None, help="N,C,H,W (default 256,96,55,55 on a GPU, 16,96,55,55 on a CPU)")
            q.add_argument("--lrn-reps", type=int, default=None)
            q.add_argument("--lrn-impls", default=None,
                           help="comma-separated: nn.LocalResponseNorm and alexnet.layers.LRN_IMPLS (default all)")
            q.add_argument("--lrn-dtypes", default=None,
                           help="comma-separated from float32, bfloat16, float16 (default float32 on a CPU, "
                                "float32,bfloat16 on a GPU)")
        if name in ("data", "all"):
            q.add_argument("--images", type=int, default=None, help="images written for the store (GPU 4096, CPU 256)")
            q.add_argument("--data-batches", type=int, default=None)
            q.add_argument("--data-batch-size", type=int, default=None)
            q.add_argument("--workers", default="0", help="CPU loader worker counts, comma-separated")
            q.add_argument("--no-cpu-loader", action="store_true", help="skip alexnet.bench.data's CPU loader")
        q.set_defaults(func=run)
    q = bsub.add_parser("loader", help="CPU DataLoader images/s on an image folder (alexnet.bench.data)")
    _add_loader_arguments(q)
    q.set_defaults(func=_run_loader)


def run(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    if args.threads is not None:
        if args.threads < 1:
            raise AlexNetError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    what = args.bench_command
    if args.out in (None, ""):
        out = ROOT / "results" / "bench" / f"{device_name(device)}.json"
    elif args.out.lower() == "none":
        out = None
    else:
        out = Path(args.out)
    argv = sys.argv[1:]
    if argv[:1] == ["bench"]:
        argv = argv[1:]
    rec = Recorder(out, device, ["bench", *argv])
    print(f"bench {what} on {device} ({rec.data['machine'].get('gpu') or rec.data['machine']['cpu']}); "
          f"torch {torch.__version__}")
    if what in ("model", "all"):
        models = _csv(args.models) or ("torchvision", "ours")
        bad = [m for m in models if m not in MODELS]
        if bad:
            raise AlexNetError(f"--models: unknown {bad}; choose from {MODELS}")
        modes = _csv(args.modes)
        for m in modes or ():
            parse_mode(m)
        partial: list[dict] = []

        def keep(row: dict) -> None:
            partial.append(row)
            rec.put("model", {"rows": list(partial), "complete": False})

        result = bench_model(device, models=models, modes=modes, batch_size=args.batch_size, steps=args.steps,
                             warmup=args.warmup, repeats=args.repeats, compile_models=_csv(args.compile_models),
                             on_row=keep)
        result["complete"] = True
        rec.put("model", result)
        print_model_table(result)
    if what in ("lrn", "all"):
        shape = tuple(int(v) for v in args.lrn_shape.split(",")) if args.lrn_shape else None
        if shape is not None and len(shape) != 4:
            raise AlexNetError(f"--lrn-shape must be N,C,H,W, got {args.lrn_shape!r}")
        dtypes = _csv(args.lrn_dtypes)
        for name in dtypes or ():
            if name not in ("float32", "bfloat16", "float16"):
                raise AlexNetError(f"--lrn-dtypes: {name!r} is not one of float32, bfloat16, float16")
        lrn_rows: list[dict] = []

        def keep_lrn(row: dict) -> None:
            lrn_rows.append(row)
            rec.put("lrn", {"rows": list(lrn_rows), "shape": list(row["shape"]), "complete": False})

        rec.put("lrn", dict(bench_lrn(device, shape=shape, reps=args.lrn_reps, impls=_csv(args.lrn_impls),
                                      dtypes=dtypes, on_row=keep_lrn), complete=True))
    if what in ("data", "all"):
        rec.put("data", bench_data(device, images=args.images, batch_size=args.data_batch_size,
                                   batches=args.data_batches, workers=args.workers,
                                   cpu_loader=not args.no_cpu_loader,
                                   on_update=lambda d: rec.put("data", dict(d, complete=False))))
    _run_more(what, args, device, rec)
    if out is not None:
        print(f"wrote {out}")
    return 0


def _run_more(what: str, args: argparse.Namespace, device: torch.device, rec: Recorder) -> None:
    """``profile``, ``cifar`` and ``loop`` (:mod:`alexnet.bench.profile`, ``.cifar``, ``.loop``)."""
    if what == "profile":
        from ..bench.profile import profile_networks

        rec.put("profile", profile_networks(device, modes=_csv(args.modes) or ("fp32", "bf16_cl"),
                                            networks=_csv(args.networks), steps=args.profile_steps))
    if what == "cifar":
        from ..bench.cifar import bench_cifar

        rec.put("cifar", bench_cifar(device, variants=_csv(args.variants), rounds=args.rounds, steps=args.steps))
    if what == "loop":
        from ..bench.loop import bench_loop

        rec.put("loop", bench_loop(device, modes=_csv(args.modes) or ("bf16_cl",), data=args.data,
                                   batch_size=args.batch_size, steps=args.steps, rounds=args.rounds))


def main(argv: list[str] | None = None) -> int:
    """``python -m alexnet.bench ...``: the same command without the rest of the CLI's imports
    (what ``scripts/gpu_bench.sh`` calls on a bare GPU machine)."""
    parser = argparse.ArgumentParser(prog="python -m alexnet.bench", description="training speed: our model vs "
                                     "torchvision's, LRN, data pipeline")
    _add_subcommands(parser)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (AlexNetError, FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def _add_loader_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``bench loader``."""
    parser.add_argument("--data", default=None,
                        help="image folder (default: ImageNet, else imagenet-sample, else generated 384 px images)")
    parser.add_argument("--workers", default="0,1", help="comma-separated worker counts to measure")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--crop", type=int, default=224)
    parser.add_argument("--resize", type=int, default=256)
    parser.add_argument("--out", default=None, help="write the results as JSON here (e.g. results/bench/cpu-data.json)")


def _run_loader(args: argparse.Namespace) -> int:
    """Measure each worker count, print a table, write JSON when ``--out`` is given."""

    root = default_root(args.data)
    command = (f"python -m alexnet bench loader --data {args.data} --workers {args.workers} --batch-size "
               f"{args.batch_size} --batches {args.batches} --crop {args.crop} --resize {args.resize} --out {args.out}")
    made, start = record("cpu", command), time.perf_counter()
    try:
        workers = [int(w) for w in str(args.workers).split(",") if w.strip()]
    except ValueError:
        raise AlexNetError(f"--workers must be comma-separated integers, got {args.workers!r}") from None
    rows = [pipeline_rate(root, workers=w, batch_size=args.batch_size, batches=args.batches, crop=args.crop,
                          resize=args.resize) for w in workers]
    print(f"data pipeline on {root}")
    print(f"{'workers':>8} {'images/s':>10} {'per worker':>11}")
    for r in rows:
        print(f"{r['workers']:>8} {r['images_per_s']:>10.1f} {r['images_per_s_per_worker']:>11.1f}")
    if args.out:
        payload = {"provenance": made.finished(time.perf_counter() - start).to_dict(),
                  "machine": machine_info(), "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                  "data": str(root), "results": rows}
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {out}")
    return 0
