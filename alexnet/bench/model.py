"""``python -m alexnet bench {model,lrn,data,all}``: how fast the reproduction trains, measured.

* ``model``: training images per second (one full step: forward, loss, backward, optimiser) of our
  faithful model (Section 3: two towers, paper LRN, dropout, paper SGD of Section 5) and of
  torchvision's ``alexnet`` in the same run, in each precision mode (fp32, TF32, bf16,
  bf16 + channels_last, + ``torch.compile``), with the model FLOP utilisation (MFU): FLOPs per
  training image from ``torch.utils.flop_counter`` times the measured rate, over the matrix-multiply
  peak measured on the same device in the same precision.
* ``lrn``: the LRN layer alone (forward and backward), each implementation.
* ``data``: the input pipeline: the GPU-side pipeline of :mod:`alexnet.data.gpu_pipeline` (uint8
  store and batched JPEG decoding, crops, flips, PCA lighting, mean subtraction on the device)
  and the CPU loader of :mod:`alexnet.bench.data`.
* ``all``: the three, into one JSON.

Each prints a table and writes JSON with the device, the versions and the settings. Ratios come
from the same run: ours against torchvision's under the same settings, and ours at its best
against torchvision's at its best. Measurement never happens in tests; tests run it tiny.
"""
from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

from ..allocator import large_blocks_in_heap
from ..errors import AlexNetError
from ..files import atomic_write
from ..kernels import lrn_cpu
from ..provenance import cpu_model, load_average, record, usable_cores
from . import variants
from .timing import interleaved_times, ratio_of_rounds, rate_row

__all__ = ["MODES", "CPU_MODES", "CPU_DEFAULT_MODES", "parse_mode", "device_info", "measure_peak", "flops_per_image", "bench_model",
           "bench_lrn", "bench_data", "build_model"]

#: Precision modes, in the order of the issue's table. ``_cl``: channels_last; ``_compile``: torch.compile.
MODES = ("fp32", "tf32", "bf16", "bf16_cl", "bf16_cl_compile")
CPU_MODES = ("fp32", "fp32_cl", "bf16", "bf16_cl", "bf16_cl_compile")
#: Our faithful network's variants whose best is compared with torchvision's.
OURS_MODELS = ("ours", "ours_split", "ours_dense")


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def parse_mode(mode: str) -> dict:
    """``"bf16_cl_compile"`` -> ``{"precision": "bf16", "channels_last": True, "compile": True}``."""
    parts = mode.split("_")
    if not parts or parts[0] not in ("fp32", "tf32", "bf16"):
        raise AlexNetError(f"unknown precision mode {mode!r}; a mode is fp32|tf32|bf16 with optional _cl and _compile")
    extra = set(parts[1:])
    if not extra <= {"cl", "compile"}:
        raise AlexNetError(f"unknown precision mode {mode!r}; a mode is fp32|tf32|bf16 with optional _cl and _compile")
    return {"precision": parts[0], "channels_last": "cl" in extra, "compile": "compile" in extra}


@contextlib.contextmanager
def _precision(precision: str, device: torch.device):
    """TF32 on or off and bf16 autocast for the duration of a measurement."""
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    tf32 = precision in ("tf32", "bf16")
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    try:
        if precision == "bf16":
            with torch.autocast(device.type, dtype=torch.bfloat16):
                yield
        else:
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


# ---------------------------------------------------------------------------------------- device
def device_info(device: torch.device) -> dict:
    """The machine and the software, for the record: which machine each number comes from."""
    import numpy
    import torchvision

    cpu, cores = cpu_model(), usable_cores()
    info = {
        "device": str(device), "cpu": cpu, "cpu_cores": cores, "torch_threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "platform": platform.platform(),
        "python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__,
        "numpy": numpy.__version__, "triton": None, "cuda": torch.version.cuda, "cudnn": None, "gpu": None,
        "load_average": load_average(),
        # PyTorch's CPU allocator asks for transparent huge pages when this is set (before torch starts):
        # far fewer page faults for large fresh tensors on a virtual machine
        "thp_mem_alloc_enable": os.environ.get("THP_MEM_ALLOC_ENABLE"),
        # large tensors from glibc's heap, not a fresh mmap each step (alexnet/allocator.py)
        "large_blocks_in_heap": large_blocks_in_heap(), "glibc_tunables": os.environ.get("GLIBC_TUNABLES"),
    }
    try:
        import triton

        info["triton"] = triton.__version__
    except Exception:
        pass
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(gpu=props.name, gpu_memory_gb=round(props.total_memory / 2**30, 1),
                    sm_count=props.multi_processor_count, cudnn=torch.backends.cudnn.version())
    return info


def device_name(device: torch.device) -> str:
    """A file-name-friendly name of the machine: ``h100-80gb-hbm3``, or ``cpu``."""
    if device.type != "cuda":
        return "cpu"
    name = torch.cuda.get_device_name(device).lower().replace("nvidia", "").strip()
    return "-".join("".join(ch if ch.isalnum() else " " for ch in name).split()) or "cuda"


def measure_peak(device: torch.device, precision: str, size: int | None = None, reps: int | None = None) -> float:
    """Measured matrix-multiply throughput (FLOP/s) of ``size x size`` matrices in ``precision``."""
    if size is None:
        size = 8192 if device.type == "cuda" else 1024
    if reps is None:
        reps = 20 if device.type == "cuda" else 3
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    with _precision("tf32" if precision == "tf32" else "fp32", device):
        for _ in range(2):
            a @ b
        _sync(device)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(reps):
                a @ b
            _sync(device)
            best = min(best, (time.perf_counter() - start) / reps)
    return 2 * size**3 / best


# ---------------------------------------------------------------------------------------- model
def build_model(name: str, num_classes: int = 1000, lrn_impl: str | None = None) -> torch.nn.Module:
    """One of :data:`alexnet.bench.variants.MODELS`: ``torchvision``, ``ours`` (``AlexNet(fast=True)``),
    ``ours_split``, ``ours_dense`` (the other tower strategies) or ``reference`` (``AlexNet()``)."""
    return variants.build(name, num_classes, lrn_impl)


def _optimizer(name: str, model: torch.nn.Module):
    """torchvision's model trains with torch's SGD (its reference recipe), ours with the paper's."""
    if name == "torchvision":
        return torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    from ..optim import PaperSGD

    return PaperSGD(model.parameters(), lr=0.01)


def flops_per_image(name: str, input_size: int = 224, num_classes: int = 1000) -> int:
    """FLOPs of one training image (forward and backward) by ``torch.utils.flop_counter``.

    Counted on the ``meta`` device (no arithmetic is done) with batch 2, divided by 2. The input
    needs no gradient, so conv1's input gradient is not counted (as in training). Ours is counted
    on the reference forward (two convolutions per layer, not one grouped one): the counter's rule
    for a grouped convolution's backward over-counts (4.96 instead of 4.14 GFLOP per image; the
    tests check the count against the layer arithmetic). ``name="ours_grouped_counter"`` gives
    the over-count, for the record.
    """
    from torch.utils.flop_counter import FlopCounterMode

    with torch.device("meta"):
        if name == "ours_grouped_counter":
            model = build_model("ours", num_classes, lrn_impl="reference")
        else:
            model = build_model("reference" if name.startswith("ours") else name, num_classes, lrn_impl="reference")
        x = torch.randn(2, 3, input_size, input_size)
        target = torch.zeros(2, dtype=torch.long)
    counter = FlopCounterMode(display=False)
    with counter:
        F.cross_entropy(model(x), target).backward()
    return counter.get_total_flops() // 2


def _make_step(name: str, mode: dict, device: torch.device, batch_size: int, input_size: int,
               num_classes: int) -> Callable[[], None]:
    model = build_model(name, num_classes).to(device).train()
    fmt = torch.channels_last if mode["channels_last"] else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = _optimizer(name, model)
    x = torch.randn(batch_size, 3, input_size, input_size, device=device).contiguous(memory_format=fmt)
    y = torch.randint(0, num_classes, (batch_size,), device=device)
    fwd = torch.compile(model) if mode["compile"] else model

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with _precision(mode["precision"], device):
            loss = F.cross_entropy(fwd(x), y)
        loss.backward()
        opt.step()

    return step


def _time_steps(step: Callable[[], None], device: torch.device, steps: int) -> float:
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    return time.perf_counter() - start


#: Defaults per device type: batch, steps per round, warm-up rounds, timed rounds. On the CPU one
#: step per round, many rounds: the models alternate step by step and each figure is a median.
DEFAULTS = {"cuda": dict(batch_size=256, steps=20, warmup=1, repeats=3),
            "cpu": dict(batch_size=32, steps=1, warmup=5, repeats=20)}
#: The CPU modes ``bench model`` measures unless told (the others are slower, or compile for minutes).
CPU_DEFAULT_MODES = ("fp32", "bf16_cl")


def _build_steppers(mode_name: str, mode: dict, chosen: list[str], device: torch.device, batch_size: int,
                    input_size: int, num_classes: int, errors: dict[str, str],
                    log: Callable[[str], None]) -> dict[str, Callable[[], None]]:
    steppers: dict[str, Callable[[], None]] = {}
    for name in chosen:
        try:
            t0 = time.perf_counter()
            steppers[name] = _make_step(name, mode, device, batch_size, input_size, num_classes)
            steppers[name]()  # first step: allocations, compilation of compiled modes
            _sync(device)
            log(f"  {mode_name:16s} {name:12s} ready ({time.perf_counter() - t0:.1f} s incl. one step)")
        except Exception as err:  # one failing configuration must not lose the others
            errors[name] = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:300]
            log(f"  {mode_name:16s} {name:12s} FAILED: {errors[name]}")
    return steppers


def bench_model(device: torch.device, *, models: tuple[str, ...] = ("torchvision", "ours"),
                modes: tuple[str, ...] | None = None, batch_size: int | None = None, steps: int | None = None,
                warmup: int | None = None, repeats: int | None = None, input_size: int = 224,
                num_classes: int = 1000, compile_models: tuple[str, ...] | None = None,
                log: Callable[[str], None] = print, on_row: Callable[[dict], None] | None = None) -> dict:
    """Training images/s of each model in each mode, the models interleaved round by round.

    Every (mode, model) pair is built and stepped once; then ``warmup`` untimed and ``repeats``
    timed rounds of ``steps`` steps of every model, the order reversed every other round
    (:func:`alexnet.bench.timing.interleaved_times`), so that a shared machine's load falls on
    all alike. Each rate is the median of the rounds, with its quartiles; each ratio the median of
    the per-round ratios. ``compile_models`` limits the compiled modes to some models.
    """
    cuda = device.type == "cuda"
    d = DEFAULTS["cuda" if cuda else "cpu"]
    modes = modes or (MODES if cuda else CPU_DEFAULT_MODES)
    batch_size, steps = batch_size or d["batch_size"], steps or d["steps"]
    warmup = d["warmup"] if warmup is None else warmup
    repeats = repeats or d["repeats"]
    if cuda:
        torch.backends.cudnn.benchmark = True
    peaks: dict[str, float] = {}
    flops = {name: flops_per_image(name, input_size, num_classes) for name in models}
    rows: list[dict] = []
    round_ratios: dict[str, dict] = {}
    for mode_name in modes:
        mode = parse_mode(mode_name)
        if mode["precision"] == "tf32" and not cuda:
            log(f"skip {mode_name}: TF32 is a GPU mode")
            continue
        chosen = [m for m in models if not mode["compile"] or compile_models is None or m in compile_models]
        if mode["precision"] not in peaks:
            peaks[mode["precision"]] = measure_peak(device, mode["precision"])
        errors: dict[str, str] = {}
        load_before = load_average()
        steppers = _build_steppers(mode_name, mode, chosen, device, batch_size, input_size, num_classes, errors, log)
        times = interleaved_times(steppers, rounds=repeats, warmup=warmup, steps=steps, device=device,
                                  on_error=lambda n, e: errors.__setitem__(n, f"{type(e).__name__}: {e}"[:300]))
        mode_rows = [_model_row(name, mode_name, mode, times.get(name), errors.get(name), batch_size, steps,
                                warmup, input_size, flops[name], peaks[mode["precision"]]) for name in chosen]
        round_ratios[mode_name] = _round_ratio(mode_rows, times)
        load_after = load_average()
        for row in mode_rows:
            row.update(load_average_before=load_before, load_average_after=load_after)
            rows.append(row)
            if on_row:
                on_row(row)
            if "images_per_s" in row:
                log(f"  {mode_name:16s} {row['model']:12s} {row['images_per_s']:8.1f} images/s "
                    f"(quartiles {row['images_per_s_q1']:.1f}-{row['images_per_s_q3']:.1f})")
        del steppers
        if cuda:
            torch.cuda.empty_cache()
    return {"rows": rows, "peak_flops": dict(peaks), "flops_per_image": flops,
            "flop_counter_on_grouped_convs": flops_per_image("ours_grouped_counter", input_size, num_classes),
            "settings": {"batch_size": batch_size, "steps_per_round": steps, "warmup_rounds": warmup,
                         "rounds": repeats, "order": "interleaved, reversed every other round"},
            "summary": model_summary(rows, flops, peaks, round_ratios)}


def _model_row(name: str, mode_name: str, mode: dict, seconds: list[float] | None, error: str | None,
               batch_size: int, steps: int, warmup: int, input_size: int, flops: int, peak: float) -> dict:
    row = {"model": name, "mode": mode_name, **mode, "batch_size": batch_size, "steps": steps,
           "warmup": warmup, "input_size": input_size}
    if not seconds or error:
        row["error"] = error or "not measured"
        return row
    row.update(rate_row(seconds, batch_size * steps))
    rate = row["images_per_s"]
    achieved = flops * rate
    row.update(step_ms=round(1000 * batch_size / rate, 2), step_ms_all=[round(1000 * t / steps, 1) for t in seconds],
               repeats=len(seconds), flops_per_image=flops, tflops=round(achieved / 1e12, 3),
               peak_tflops=round(peak / 1e12, 2), mfu=round(achieved / peak, 4))
    return row


def _round_ratio(rows: list[dict], times: dict[str, list[float]]) -> dict:
    """Ours (the fastest of our variants by median) over torchvision, round by round."""
    rate = {r["model"]: r["images_per_s"] for r in rows if "images_per_s" in r}
    ours = [m for m in OURS_MODELS if m in rate]
    if "torchvision" not in rate or not ours:
        return {}
    best = max(ours, key=lambda m: rate[m])
    s = ratio_of_rounds(times["torchvision"], times[best])
    return {"model": best, "median": round(s["median"], 3), "q1": round(s["q1"], 3), "q3": round(s["q3"], 3)}


def model_summary(rows: list[dict], flops: dict[str, int], peaks: dict[str, float],
                  round_ratios: dict[str, dict] | None = None) -> dict:
    """Ratios (same run): ours/torchvision per mode and best against best; the arithmetic floor.

    ``per_mode`` is the median of the per-round ratios where the rounds are known
    (``round_ratios``, with their quartiles in ``per_mode_spread``), else the ratio of the medians.
    """
    rate = {(r["model"], r["mode"]): r["images_per_s"] for r in rows if "images_per_s" in r}
    out: dict = {"per_mode": {}, "per_mode_spread": {}, "best": {}}
    ours_names = [m for m in OURS_MODELS if any(k[0] == m for k in rate)]
    for mode in dict.fromkeys(r["mode"] for r in rows):
        tv = rate.get(("torchvision", mode))
        ours = max((rate[(m, mode)] for m in ours_names if (m, mode) in rate), default=None)
        if (round_ratios or {}).get(mode):
            out["per_mode"][mode] = round_ratios[mode]["median"]
            out["per_mode_spread"][mode] = round_ratios[mode]
        elif tv and ours:
            out["per_mode"][mode] = round(ours / tv, 3)
    for name in {r["model"] for r in rows}:
        got = [(v, mode) for (m, mode), v in rate.items() if m == name]
        if got:
            v, mode = max(got)
            out["best"][name] = {"images_per_s": v, "mode": mode}
    best_ours = max((out["best"][m]["images_per_s"], m) for m in ours_names if m in out["best"]) if any(
        m in out["best"] for m in ours_names) else None
    if best_ours and "torchvision" in out["best"]:
        out["ours_best_over_torchvision_best"] = round(best_ours[0] / out["best"]["torchvision"]["images_per_s"], 3)
        out["ours_best_model"] = best_ours[1]
    peak = peaks.get("bf16") or max(peaks.values(), default=None)
    if peak:
        out["arithmetic_floor"] = {
            name: {"flops_per_image": f, "peak_tflops": round(peak / 1e12, 2),
                   "max_images_per_s": round(peak / f, 1)}
            for name, f in flops.items()
        }
    return out


# ---------------------------------------------------------------------------------------- LRN
def bench_lrn(device: torch.device, *, shape: tuple[int, int, int, int] | None = None,
              dtypes: tuple[str, ...] | None = None, impls: tuple[str, ...] | None = None, reps: int | None = None,
              log: Callable[[str], None] = print, on_row: Callable[[dict], None] | None = None) -> dict:
    """Forward + backward of ReLU then LRN on ``shape`` (conv1's output by default), per implementation.

    ``nn.LocalResponseNorm`` (alpha 5e-4 over all channels, what a straightforward model uses) is
    the baseline; ours normalise each tower on its own and fuse the ReLU.
    """
    from ..layers import lrn
    from ..kernels.lrn_triton import triton_available

    cuda = device.type == "cuda"
    shape = shape or ((256, 96, 55, 55) if cuda else (16, 96, 55, 55))
    dtypes = dtypes or (("float32", "bfloat16") if cuda else ("float32",))
    reps = reps or (10 if cuda else 2)
    all_impls = impls is None
    if impls is None:
        impls = ("nn.LocalResponseNorm", "reference", "hand_backward")
        if cuda and triton_available(device):
            impls = impls + ("triton",)
        if not cuda and lrn_cpu.available():
            impls = impls + ("cpp",)
        impls = impls + ("formula", "compiled")  # compiling comes last: the rest survives a timeout
    from ..layers import canonical_lrn_impl

    impls = tuple(i if i == "nn.LocalResponseNorm" else canonical_lrn_impl(i, "--lrn-impls") for i in impls)
    nn_lrn = torch.nn.LocalResponseNorm(5, alpha=5e-4, beta=0.75, k=2.0)
    rows = []
    for dtype_name in dtypes:
        dtype = getattr(torch, dtype_name)
        for layout in ("nchw", "channels_last"):
            x0 = torch.randn(shape, device=device, dtype=dtype) * 20
            if layout == "channels_last":
                x0 = x0.contiguous(memory_format=torch.channels_last)
            g = torch.randn_like(x0)
            for impl in impls:
                if all_impls and cuda and dtype_name == "float32" and impl in ("formula", "compiled"):
                    continue  # each compile costs seconds of a short GPU slot: bf16 shows the point
                def fb(impl=impl):
                    x = x0.detach().requires_grad_()
                    y = nn_lrn(torch.relu(x)) if impl == "nn.LocalResponseNorm" else lrn(x, impl=impl, groups=2,
                                                                                         relu=True)
                    y.backward(g)
                try:
                    fb()
                    fb()
                    _sync(device)
                    best = float("inf")
                    for _ in range(3):
                        t = _time_steps(fb, device, reps) / reps
                        best = min(best, t)
                    rows.append({"impl": impl, "dtype": dtype_name, "layout": layout, "shape": list(shape),
                                 "ms": round(1000 * best, 3)})
                except Exception as err:
                    rows.append({"impl": impl, "dtype": dtype_name, "layout": layout, "shape": list(shape),
                                 "error": f"{type(err).__name__}: {err}"[:300]})
                log(f"  lrn {impl:22s} {dtype_name:9s} {layout:14s} " +
                    (f"{rows[-1]['ms']:9.3f} ms" if "ms" in rows[-1] else rows[-1]["error"]))
                if on_row:
                    on_row(rows[-1])
    return {"what": "ReLU + LRN forward and backward (ours: two towers of 48 channels, ReLU fused)",
            "shape": list(shape), "rows": rows}


# ---------------------------------------------------------------------------------------- data
def bench_data(device: torch.device, *, images: int | None = None, batch_size: int | None = None,
               batches: int | None = None, workers: str | None = None, jpeg_sizes: tuple[int, ...] = (256, 500),
               cpu_loader: bool = True, log: Callable[[str], None] = print,
               on_update: Callable[[dict], None] | None = None) -> dict:
    """The input pipeline's images/s into device tensors, on data written on the spot.

    GPU pipeline (:mod:`alexnet.data.gpu_pipeline`): a uint8 ``256 x 256`` store (memmap) read in
    batches into pinned memory, moved to the device and augmented there; and batched JPEG decoding
    (on the device where torchvision can) of generated JPEGs of each size in ``jpeg_sizes``,
    rescaled and centre-cropped to 256 and augmented. CPU loader: :func:`alexnet.bench.data.pipeline_rate`.
    """
    from ..data import gpu_pipeline as gp

    cuda = device.type == "cuda"
    images = images or (4096 if cuda else 256)
    batch_size = batch_size or (256 if cuda else 32)
    batches = batches or (20 if cuda else 3)
    out: dict = {"gpu_pipeline": [], "cpu_loader": None}
    update = on_update or (lambda d: None)
    with tempfile.TemporaryDirectory(prefix="alexnet-bench-") as tmp:
        tmp = Path(tmp)
        try:
            store = gp.write_random_store(tmp / "store", images, size=256)
            row = gp.store_rate(store, device, batch_size=batch_size, batches=batches)
            out["gpu_pipeline"].append(row)
            log(f"  data uint8 store -> {device}: {row['images_per_s']:.0f} images/s")
        except Exception as err:
            out["gpu_pipeline"].append({"source": "uint8 store", "error": f"{type(err).__name__}: {err}"[:300]})
            log(f"  data uint8 store FAILED: {err}")
        update(out)
        for size in jpeg_sizes:
            try:
                files = gp.write_jpegs(tmp / f"jpeg{size}", min(images, 1024 if cuda else 64), size=size)
                row = gp.jpeg_rate(files, device, batch_size=batch_size, batches=batches)
                out["gpu_pipeline"].append(row)
                log(f"  data JPEG {size}px decode on {row['decode_device']}: {row['images_per_s']:.0f} images/s")
            except Exception as err:
                out["gpu_pipeline"].append({"source": f"jpeg {size}px", "error": f"{type(err).__name__}: {err}"[:300]})
                log(f"  data JPEG {size}px FAILED: {err}")
            update(out)
        if cpu_loader:
            out["cpu_loader"] = _cpu_loader_rates(tmp, workers, log)
    return out


def _cpu_loader_rates(tmp: Path, workers: str | None, log: Callable[[str], None]) -> dict | list:
    import importlib

    try:
        data_bench = importlib.import_module("alexnet.bench.data")
    except ImportError as err:
        msg = f"alexnet.bench.data is not available yet ({err}); the CPU loader rate is not measured"
        log("  " + msg)
        return {"error": msg}
    from ..data import make_synthetic

    root = make_synthetic(tmp / "synthetic", num_classes=4, train_per_class=48, val_per_class=1, size=384)
    counts = [int(w) for w in (workers or "0").split(",") if w.strip()]
    rows = []
    for w in counts:
        try:
            r = data_bench.pipeline_rate(root, workers=w, batch_size=32, batches=4)
            rows.append(r)
            log(f"  data CPU loader, {w} workers: {r['images_per_s']:.0f} images/s")
        except Exception as err:
            rows.append({"workers": w, "error": f"{type(err).__name__}: {err}"[:300]})
    return rows


# ---------------------------------------------------------------------------------------- output
def print_model_table(result: dict, out=sys.stdout) -> None:
    rows = [r for r in result["rows"]]
    print(f"{'model':12s} {'mode':16s} {'images/s':>10s} {'quartiles':>13s} {'step ms':>9s} {'TFLOP/s':>8s} "
          f"{'MFU':>6s}", file=out)
    for r in rows:
        if "images_per_s" in r:
            q = f"{r['images_per_s_q1']:.1f}-{r['images_per_s_q3']:.1f}" if "images_per_s_q1" in r else ""
            print(f"{r['model']:12s} {r['mode']:16s} {r['images_per_s']:10.1f} {q:>13s} {r['step_ms']:9.2f} "
                  f"{r['tflops']:8.2f} {100 * r['mfu']:5.1f}%", file=out)
        else:
            print(f"{r['model']:12s} {r['mode']:16s} {'failed: ' + r.get('error', '')[:60]}", file=out)
    s = result["summary"]
    for mode, ratio in s["per_mode"].items():
        q = s.get("per_mode_spread", {}).get(mode)
        spread = f" (per-round ratios' quartiles {q['q1']:.3f}-{q['q3']:.3f}, {q['model']})" if q else ""
        print(f"ours / torchvision, {mode}: {ratio:.3f}x{spread}", file=out)
    if "ours_best_over_torchvision_best" in s:
        b = s["best"]
        print(f"ours at its best ({s['ours_best_model']}, {b[s['ours_best_model']]['mode']}) / torchvision at its best "
              f"({b['torchvision']['mode']}): {s['ours_best_over_torchvision_best']:.2f}x", file=out)


class Recorder:
    """Collects the sections into one JSON file, rewritten after every section (partial results survive)."""

    def __init__(self, path: Path | None, device: torch.device, argv: list[str]) -> None:
        self.path = path
        self.provenance = record(device, "python -m alexnet " + " ".join(argv))
        self.data: dict = {"provenance": self.provenance.to_dict(), "machine": device_info(device), "sections": {}}
        if path is not None and path.exists():
            try:
                old = json.loads(path.read_text())
                self.data["sections"] = old.get("sections", {})
            except (OSError, ValueError):
                pass

    def put(self, name: str, value) -> None:
        if name == "model":
            value = self._merge_model(value)
        # each section says which run wrote it (the file's top level names the latest run only)
        m = self.data["machine"]
        value = dict(value, provenance=self.provenance.to_dict(), torch_threads=m["torch_threads"],
                     load_average=m["load_average"])
        self.data["sections"][name] = value
        self.data["machine"]["load_average_end"] = load_average()
        self.write()

    def _merge_model(self, value: dict) -> dict:
        """Rows of earlier ``bench model`` runs into this file (other models or modes) are kept:
        a script can measure the eager modes and the compiled ones in separate, guarded steps."""
        old = self.data["sections"].get("model") or {}
        key = lambda r: (r["model"], r["mode"])  # noqa: E731
        new_rows = [dict(r, run_date=r.get("run_date", self.provenance.date)) for r in value.get("rows", [])]
        new_keys = {key(r) for r in new_rows}
        rows = [r for r in old.get("rows", []) if key(r) not in new_keys] + new_rows
        merged = dict(value, rows=rows)
        flops = {**old.get("flops_per_image", {}), **value.get("flops_per_image", {})}
        peaks = {**old.get("peak_flops", {}), **value.get("peak_flops", {})}
        spreads = {**old.get("summary", {}).get("per_mode_spread", {}),
                   **value.get("summary", {}).get("per_mode_spread", {})}
        if flops:
            merged.update(flops_per_image=flops, peak_flops=peaks,
                          summary=model_summary(rows, flops, peaks, spreads))
        return merged

    def write(self) -> None:
        if self.path is None:
            return
        atomic_write(self.path, json.dumps(self.data, indent=2) + "\n")


def _csv(text: str | None) -> tuple[str, ...] | None:
    return tuple(t.strip() for t in text.split(",") if t.strip()) if text else None
