"""A layer table for the network of Section 3.5: output shape, parameters, neurons, multiply-adds.

The paper quotes "60 million parameters and 650,000 neurons" (Section 3); :func:`summary` counts
them exactly, combining the two towers of each layer into one row.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from .model import AlexNet

if TYPE_CHECKING:
    import pandas as pd

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
def summary(model: AlexNet, input_size: int = 224) -> "pd.DataFrame":
    """One row per learned layer (both towers together) and a total row.

    Columns: ``layer``, ``input from`` (the tower's own maps or both towers'), ``output``
    (C x H x W or features), ``parameters``, ``neurons`` (output units per image) and
    ``mult-adds`` (per image).
    """
    import pandas as pd  # the table's only use of pandas; ``import alexnet`` does not load it

    if not isinstance(model, AlexNet):
        raise TypeError(f"summary expects an alexnet.AlexNet, got {type(model).__name__}")
    names = [n for n, _ in model.towers[0].layers()]  # without conv4 in Section 7's depth ablation
    rows: dict[str, dict] = {n: dict(parameters=0, neurons=0, macs=0, shape=None) for n in names}
    hooks = []
    for tower in model.towers:
        for name, layer in tower.layers():
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
        for n in names
    ]
    table.append({"layer": "total", "input from": "", "output": "",
                  "parameters": sum(r["parameters"] for r in table),
                  "neurons": sum(r["neurons"] for r in table),
                  "mult-adds": sum(r["mult-adds"] for r in table)})
    return pd.DataFrame(table)
