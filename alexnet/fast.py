"""The fast path of :class:`alexnet.model.AlexNet`: the same function with fewer, larger kernels.

On one device, the towers of every layer run side by side along the channels: conv1 and conv3 of
all towers as one convolution over their concatenated kernels; conv2, conv4 and conv5, where each
tower sees only its own maps (Section 3.2), as one convolution with ``groups`` (``"grouped"``), one
per tower (``"split"``) or one block-diagonal kernel (``"dense"``); ReLU and LRN fused into one
kernel whose window stays inside each tower (:func:`alexnet.layers.lrn`). The parameters are the
reference's own (``towers[i].convK``), read in place; ``tests/test_fast_model.py`` checks outputs
and gradients against :meth:`AlexNet.features`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from .layers import lrn

if TYPE_CHECKING:
    from .model import AlexNet

__all__ = ["path_ok", "features"]


def path_ok(model: AlexNet) -> bool:
    """The fast path needs every tower on one device and equal kernel counts per tower.

    It calls the layers' weights directly, so a forward hook on a tower's layer (as
    :func:`alexnet.summary.summary` registers) sends the forward through the reference.
    """
    from .model import CONV_NAMES

    if model.devices is not None and len(set(model.devices)) > 1:
        return False
    if any(m._forward_hooks or m._forward_pre_hooks for t in model.towers for m in t.children()):
        return False
    first = model.towers[0]
    return all(
        getattr(t, name).weight.shape == getattr(first, name).weight.shape
        for t in model.towers for name in CONV_NAMES
    )


def _cat(model: AlexNet, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Layer ``name``'s kernels and biases of all towers, stacked along the output channels."""
    layers = [getattr(t, name) for t in model.towers]
    if len(layers) == 1:
        return layers[0].weight, layers[0].bias
    return torch.cat([m.weight for m in layers]), torch.cat([m.bias for m in layers])


def _own_tower_conv(model: AlexNet, h: torch.Tensor, name: str, padding: int) -> torch.Tensor:
    """conv2/conv4/conv5: each tower's kernels see only its own channels (Section 3.2)."""
    g = len(model.towers)
    if g == 1:
        conv = getattr(model.towers[0], name)
        return F.conv2d(h, conv.weight, conv.bias, padding=padding)
    if model.fast == "split":
        parts = h.chunk(g, dim=1)
        return torch.cat([
            F.conv2d(p, getattr(t, name).weight, getattr(t, name).bias, padding=padding)
            for t, p in zip(model.towers, parts)
        ], dim=1)
    w, b = _cat(model, name)
    if model.fast == "dense":  # block-diagonal kernel: tower t's kernels see only tower t's channels
        o, i = w.shape[0] // g, w.shape[1]
        rows = [torch.cat([w[t * o:(t + 1) * o] if u == t else w.new_zeros(o, i, *w.shape[2:])
                           for u in range(g)], dim=1) for t in range(g)]
        return F.conv2d(h, torch.cat(rows, dim=0), b, padding=padding)
    return F.conv2d(h, w, b, padding=padding, groups=g)


def _act_lrn(model: AlexNet, h: torch.Tensor) -> torch.Tensor:
    """ReLU then LRN (3.1, 3.3) with the towers side by side: one fused kernel where possible."""
    if isinstance(model.lrn, nn.Identity):
        return model.act(h)
    lrn_module = model.lrn
    relu = isinstance(model.act, nn.ReLU)
    if not relu:
        h = model.act(h)
    return lrn(h, lrn_module.size, lrn_module.alpha, lrn_module.beta, lrn_module.k,
               impl=model.lrn_impl, groups=len(model.towers), relu=relu)


def features(model: AlexNet, x: torch.Tensor) -> torch.Tensor:
    """:meth:`AlexNet.features` on one device with the towers side by side along the channels.

    Same parameters and same function as :meth:`AlexNet.features` (the tests check outputs and
    gradients); the output channels of every layer are ordered tower 0 first, exactly as
    the reference concatenates them before conv3 and fc6.
    """
    x = model._conv1_input(x)
    c1 = model.towers[0].conv1
    w, b = _cat(model, "conv1")  # conv1 of every tower reads the whole image
    h = model.pool(_act_lrn(model, F.conv2d(x, w, b, stride=c1.stride, padding=c1.padding)))
    h = model.pool(_act_lrn(model, _own_tower_conv(model, h, "conv2", 2)))
    w, b = _cat(model, "conv3")  # conv3 reads both towers
    h = model.act(F.conv2d(h, w, b, padding=1))
    h = model.act(_own_tower_conv(model, h, "conv4", 1))
    h = model.pool(model.act(_own_tower_conv(model, h, "conv5", 1)))
    return torch.flatten(model.avgpool(h), 1)
