"""Where a training step's time goes: ``python -m alexnet bench profile``.

One training step (forward, loss, backward, optimiser) of each network, timed op by op with
``torch.profiler`` after a warm-up, the ops' own (self) CPU time summed into the parts of the
paper's design a reader asks about: the convolutions (the own-tower ones of Section 3.2, grouped,
apart), LRN forward and backward (3.3), max pooling (3.4), the two fused on the CPU, ReLU (3.1), dropout (4.2), the fully
connected layers, the optimiser step (Section 5) and the casts of mixed precision.
"""
from __future__ import annotations

from collections.abc import Callable

import torch

__all__ = ["CATEGORIES", "category", "profile_steps", "profile_networks"]

#: The parts a step's time is summed into, in the order of the table.
CATEGORIES = ("convolutions", "own-tower convolutions (grouped)", "LRN", "max pooling", "LRN + max pooling (fused)",
              "ReLU", "dropout",
              "fully connected", "optimiser step", "precision casts", "loss", "other")

_NAMES = {
    "LRN": ("lrn", "compiledfxgraph", "local_response_norm", "avg_pool3d"),
    "max pooling": ("max_pool",),
    "ReLU": ("relu", "clamp_min", "threshold_backward"),
    "dropout": ("bernoulli", "dropout"),
    "fully connected": ("addmm", "aten::mm", "aten::linear", "matmul"),
    "precision casts": ("copy_", "_to_copy", "aten::to"),
    "loss": ("log_softmax", "nll_loss", "cross_entropy"),
}


def _grouped(event) -> bool:
    """A convolution whose kernels see fewer channels than its input has (``groups`` > 1); an
    event without shapes (an autograd node) is judged by the convolution it runs."""
    shapes = [s for s in (event.input_shapes or []) if isinstance(s, list) and len(s) == 4]
    if len(shapes) < 2:
        return any(_grouped(c) for c in event.cpu_children if "convolution" in c.name.lower())
    if "backward" in event.name:  # (grad_output, input, weight)
        shapes = shapes[1:]
    return shapes[0][1] != shapes[1][1]


#: Ancestors that put an op into LRN: the label :mod:`alexnet.layers` gives its forward, our LRN
#: functions' backward nodes, and the backward nodes only the reference LRN's formula has.
_LRN_ANCESTORS = ("LRN", "LRNCompiledFunction", "LRNCppFunction", "LRNTorchFunction", "LRNFunction", "PowBackward",
                  "AvgPool3DBackward", "ConstantPadNdBackward")


def category(event) -> str:
    """The part of the step one profiler event belongs to (its own time is counted there)."""
    parent = event
    while parent is not None:
        if parent.name.startswith("Optimizer.step") or parent.name.startswith("Optimizer.zero_grad"):
            return "optimiser step"
        if parent.name == "LRN + max pooling" or "LRNPoolCppFunction" in parent.name:
            return "LRN + max pooling (fused)"
        if parent.name == "LRN" or any(k in parent.name for k in _LRN_ANCESTORS[1:]):
            return "LRN"
        parent = parent.cpu_parent
    name = event.name.lower()
    if "convolution" in name:
        return "own-tower convolutions (grouped)" if _grouped(event) else "convolutions"
    for cat, keys in _NAMES.items():
        if any(k in name for k in keys):
            return cat
    return "other"


def profile_steps(step: Callable[[], None], steps: int = 3, warmup: int = 3) -> dict:
    """Milliseconds per step of each :data:`CATEGORIES` entry, averaged over ``steps`` profiled steps."""
    from torch.profiler import ProfilerActivity, profile

    for _ in range(warmup):
        step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(steps):
            step()
    totals = dict.fromkeys(CATEGORIES, 0.0)
    for event in prof.events():
        totals[category(event)] += event.self_cpu_time_total / 1000.0
    step_ms = sum(totals.values()) / steps
    return {"step_ms": round(step_ms, 1), "steps": steps, "parts": [
        {"part": c, "ms": round(totals[c] / steps, 1), "percent": round(100 * totals[c] / steps / step_ms, 1)}
        for c in CATEGORIES if totals[c] > 0]}


def _cifar_step(mode: dict, batch_size: int) -> Callable[[], None]:
    """One step of the CIFAR-10 ablations' network (CifarNet with LRN) as their loop runs it."""
    import torch.nn.functional as F

    from ..optim import PaperSGD
    from ..small_nets import CifarNet

    model = CifarNet(lrn=True, input_size=24).to(memory_format=torch.channels_last).train()
    opt = PaperSGD(model.parameters(), lr=0.01, weight_decay=0.0)
    x = torch.randn(batch_size, 3, 24, 24).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch_size,))

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mode["precision"] == "bf16"):
            loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def profile_networks(device: torch.device, *, modes: tuple[str, ...] = ("fp32", "bf16_cl"),
                     networks: tuple[str, ...] = ("torchvision", "ours", "cifarnet"), batch_size: int = 32,
                     cifar_batch_size: int = 128, steps: int = 3, warmup: int = 3,
                     log: Callable[[str], None] = print) -> dict:
    """:func:`profile_steps` of each network in each mode (CifarNet: fp32 channels-last, its loop's)."""
    from .model import _make_step, parse_mode

    rows = []
    for name in networks:
        for mode_name in (("fp32_cl",) if name == "cifarnet" else modes):
            mode = parse_mode(mode_name)
            if name == "cifarnet":
                step, batch = _cifar_step(mode, cifar_batch_size), cifar_batch_size
            else:
                step, batch = _make_step(name, mode, device, batch_size, 224, 1000), batch_size
            prof = profile_steps(step, steps=steps, warmup=warmup)
            rows.append({"network": name, "mode": mode_name, "batch_size": batch, **prof})
            log(f"  profile {name:12s} {mode_name:8s} {prof['step_ms']:8.1f} ms per step: " +
                ", ".join(f"{p['part']} {p['percent']:.0f}%" for p in prof["parts"] if p["percent"] >= 5))
    return {"what": "self CPU time of one training step, by part, averaged over the profiled steps",
            "steps": steps, "warmup": warmup, "rows": rows}
