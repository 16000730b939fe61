"""The CIFAR-10 ablations' training speed: ``python -m alexnet bench cifar``.

Times :func:`alexnet.experiments.in_memory.fit_in_memory` itself (the loop every CIFAR-10 ablation
runs: batches gathered from uint8 tensors, random 24x24 crops and mirrors, normalisation, the step
of :class:`alexnet.CifarNet` with LRN and the paper's SGD) on generated 32x32 images, a few steps
per call, the variants interleaved call by call (:func:`alexnet.bench.timing.interleaved_times`).

Variants: ``default`` (the code as the experiments run it), ``relu_copy`` (the ReLUs writing a new
tensor, as before they ran in place: the same numbers, the previous speed), and the LRN options
off by default because they change the last bits (``lrn_hand_backward``, ``lrn_compiled``,
``lrn_cpp``: the C++ loops of :mod:`alexnet.kernels.lrn_cpu`).
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .timing import interleaved_times, ratio_of_rounds, rate_row

__all__ = ["CIFAR_VARIANTS", "bench_cifar"]

#: Variant name -> CifarNet keyword arguments on top of ``lrn=True, input_size=24``.
CIFAR_VARIANTS = {"default": {}, "relu_copy": {}, "lrn_hand_backward": {"lrn_params": {"impl": "hand_backward"}},
                  "lrn_compiled": {"lrn_params": {"impl": "compiled"}}, "lrn_cpp": {"lrn_params": {"impl": "cpp"}}}


def _data(images: int, seed: int = 0):
    from ..data.tensors import TensorData

    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (images, 3, 32, 32), dtype=torch.uint8, generator=g)
    y = torch.randint(0, 10, (images,), generator=g)
    return TensorData(x, y, x[:256], y[:256], [str(i) for i in range(10)], "generated", True, "generated")


def _fit_call(variant: str, data, steps: int, batch_size: int) -> Callable[[], None]:
    from ..experiments.in_memory import InMemoryConfig, fit_in_memory
    from ..small_nets import CifarNet

    n = len(data.train_y)
    cfg = InMemoryConfig(epochs=steps * batch_size / n, batch_size=batch_size, crop=24, checks_per_epoch=1,
                         train_eval_size=batch_size, weight_decay=5e-4)
    kwargs = CIFAR_VARIANTS[variant]

    def call() -> None:
        model = CifarNet(lrn=True, input_size=24, **kwargs)
        if variant == "relu_copy":
            for m in model.modules():
                if isinstance(m, nn.ReLU):
                    m.inplace = False
        fit_in_memory(model, data, cfg, seed=0)

    return call


def bench_cifar(device: torch.device, *, variants: tuple[str, ...] = ("default", "relu_copy", "lrn_hand_backward"),
                batch_size: int = 128, steps: int = 8, rounds: int = 10, warmup: int = 2,
                log: Callable[[str], None] = print) -> dict:
    """Training images/s of each variant (median of ``rounds`` interleaved calls of ``steps`` steps)."""
    bad = [v for v in variants if v not in CIFAR_VARIANTS]
    if bad:
        raise ValueError(f"bench cifar: unknown variants {bad}; choose from {tuple(CIFAR_VARIANTS)}")
    data = _data(batch_size * steps)
    calls = {v: _fit_call(v, data, steps, batch_size) for v in variants}
    times = interleaved_times(calls, rounds=rounds, warmup=warmup, device=device)
    rows = []
    for v in variants:
        row = {"variant": v, "batch_size": batch_size, "steps_per_call": steps, **rate_row(times[v], batch_size * steps)}
        if v != "default":
            s = ratio_of_rounds(times[v], times["default"]) if "default" in times else {}
            row["default_speedup"] = round(s["median"], 3) if s else None
        rows.append(row)
        log(f"  cifar {v:18s} {row['images_per_s']:8.1f} images/s (quartiles {row['images_per_s_q1']:.1f}-"
            f"{row['images_per_s_q3']:.1f})")
    return {"what": "fit_in_memory (CifarNet with LRN, 24x24 crops, the paper's SGD) on generated 32x32 images; "
                    "each call builds the network and trains it for steps_per_call steps (its short test pass included)",
            "rounds": rounds, "warmup": warmup, "rows": rows}
