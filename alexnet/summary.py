"""A layer table for the network of Section 3.5: output shape, parameters, neurons, multiply-adds.

The paper quotes "60 million parameters and 650,000 neurons" (Section 3); :func:`summary` counts
them exactly, combining the two towers of each layer into one row.
"""
from __future__ import annotations

import pandas as pd
import torch
from torch import nn

from .model import LAYER_NAMES, AlexNet

__all__ = ["summary", "count_parameters"]


def count_parameters(model: nn.Module) -> int:
    """Number of learnable scalars in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _macs(module: nn.Module, out: torch.Tensor) -> int:
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return out[0].numel() * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features
    raise TypeError(f"no multiply-add rule for {type(module).__name__}")


@torch.no_grad()
def summary(model: AlexNet, input_size: int = 224) -> pd.DataFrame:
    """One row per learned layer (both towers together) and a total row.

    Columns: ``layer``, ``input from`` (the tower's own maps or both towers'), ``output``
    (C x H x W or features), ``parameters``, ``neurons`` (output units per image) and
    ``mult-adds`` (per image).
    """
    if not isinstance(model, AlexNet):
        raise TypeError(f"summary expects an alexnet.AlexNet, got {type(model).__name__}")
    rows: dict[str, dict] = {n: dict(parameters=0, neurons=0, macs=0, shape=None) for n in LAYER_NAMES}
    hooks = []
    for tower in model.towers:
        for name in LAYER_NAMES:
            layer = getattr(tower, name)

            def hook(mod, inp, out, name=name):
                row = rows[name]
                row["parameters"] += sum(p.numel() for p in mod.parameters())
                row["neurons"] += out[0].numel()
                row["macs"] += _macs(mod, out)
                shape = list(out.shape[1:])
                if row["shape"] is None:
                    row["shape"] = shape
                else:  # towers stack along channels / features
                    row["shape"][0] += shape[0]

            hooks.append(layer.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        device = next(model.parameters()).device
        model(torch.zeros(1, 3, input_size, input_size, device=device))
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    two = len(model.towers) > 1
    cross = {"conv3": "both towers", "fc6": "both towers", "fc7": "both towers",
             "fc8": "both towers"}
    table = [
        {
            "layer": n,
            "input from": "image" if n == "conv1" else (cross.get(n, "own tower") if two else "previous layer"),
            "output": " x ".join(str(s) for s in rows[n]["shape"]),
            "parameters": rows[n]["parameters"],
            "neurons": rows[n]["neurons"],
            "mult-adds": rows[n]["macs"],
        }
        for n in LAYER_NAMES
    ]
    table.append({"layer": "total", "input from": "", "output": "",
                  "parameters": sum(r["parameters"] for r in table),
                  "neurons": sum(r["neurons"] for r in table),
                  "mult-adds": sum(r["mult-adds"] for r in table)})
    return pd.DataFrame(table)


#: Profiles of the architecture chapter (notebooks/03_architecture.md).
ARCHITECTURE_PROFILES = {
    "ci": {"input_size": 224, "devices": "cpu,cpu"},
    "full": {"input_size": 224, "devices": "auto"},
}


def placement_devices(spec: str) -> tuple[str, str]:
    """``"auto"`` -> two GPUs if present, else CPU + GPU, else CPU + CPU; or ``"a,b"`` literally."""
    import torch

    if spec == "auto":
        n = torch.cuda.device_count()
        return ("cuda:0", "cuda:1") if n >= 2 else ("cpu", "cuda:0") if n == 1 else ("cpu", "cpu")
    parts = tuple(p.strip() for p in spec.split(","))
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"devices must be 'auto' or two comma-separated devices like 'cpu,cuda:0', got {spec!r}")
    for p in parts:
        torch.device(p)  # raises on a malformed name
    return parts  # type: ignore[return-value]


@torch.no_grad()
def _clone_to(model: AlexNet, devices) -> AlexNet:
    twin = AlexNet(**model.config)
    twin.load_state_dict(model.state_dict())
    return twin.place(devices)


def placement_check(devices: tuple[str, str], input_size: int = 224, seed: int = 0) -> dict:
    """Section 3.2: run the same weights on one device and on ``devices``; compare outputs and grads.

    Dropout is off so both runs see the same function. Returns the largest absolute differences.
    """
    torch.manual_seed(seed)
    ref = AlexNet(num_classes=1000, dropout=0.0)
    placed = _clone_to(ref, devices)
    x = torch.randn(2, 3, input_size, input_size) * 50
    y_ref, y = ref(x), placed(x.to(devices[0]))
    y_ref.square().mean().backward()
    y.square().mean().backward()
    grad_diff = max(
        (a.grad.cpu() - b.grad.cpu()).abs().max().item()
        for a, b in zip(ref.parameters(), placed.parameters())
    )
    return {
        "devices": list(devices),
        "tower_devices": [str(next(t.parameters()).device) for t in placed.towers],
        "max_output_diff": (y.detach().cpu() - y_ref.detach()).abs().max().item(),
        "max_grad_diff": grad_diff,
    }
