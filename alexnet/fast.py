"""The fast path of :class:`alexnet.model.AlexNet` (``fast=True``): the same function with fewer,
larger kernels.

On one device, the towers of every layer run side by side along the channels: conv1 and conv3 of
all towers as one convolution over their concatenated kernels; conv2, conv4 and conv5, where each
tower sees only its own maps (Section 3.2), as one convolution with ``groups`` equal to the number
of towers; ReLU and LRN fused into one kernel whose window stays inside each tower
(:func:`alexnet.layers.lrn`), and on the CPU ReLU, LRN and the max pooling after it (3.4) as one
C++ kernel that never writes the normalised maps (:func:`alexnet.kernels.lrn_cpu.lrn_pool_cpp`).
The parameters are the reference's own (``towers[i].convK``), read
in place; ``tests/test_fast_model.py`` checks outputs and gradients against
:meth:`AlexNet.features`.

This module only reads the model it is given (its towers, activation, LRN and pooling layers): it
imports nothing from :mod:`alexnet.model`, which imports it. The benchmark's other tower strategies
(one convolution per tower, a block-diagonal kernel) are in :mod:`alexnet.bench.variants`.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .layers import lrn, resolve_lrn_impl

__all__ = ["path_ok", "features", "grouped_conv", "stacked"]

#: How conv2, conv4 and conv5 (own tower only) are computed: ``(model, h, name, padding) -> output``.
OwnTowerConv = Callable[[nn.Module, torch.Tensor, str, int], torch.Tensor]


def path_ok(model: nn.Module) -> bool:
    """The fast path needs every tower on one device and equal kernel counts per tower.

    It calls the layers' weights directly, so a forward hook on a tower's layer (as
    :func:`alexnet.summary.summary` registers) sends the forward through the reference.
    """
    if model.devices is not None and len(set(model.devices)) > 1:
        return False
    if any(m._forward_hooks or m._forward_pre_hooks for t in model.towers for m in t.children()):
        return False
    convs = [[m for m in t.children() if isinstance(m, nn.Conv2d)] for t in model.towers]
    return all(a.weight.shape == b.weight.shape for tower in convs for a, b in zip(tower, convs[0]))


def stacked(model: nn.Module, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Layer ``name``'s kernels and biases of all towers, stacked along the output channels."""
    layers = [getattr(t, name) for t in model.towers]
    if len(layers) == 1:
        return layers[0].weight, layers[0].bias
    return torch.cat([m.weight for m in layers]), torch.cat([m.bias for m in layers])


def grouped_conv(model: nn.Module, h: torch.Tensor, name: str, padding: int) -> torch.Tensor:
    """conv2/conv4/conv5: each tower's kernels see only its own channels (Section 3.2), as one
    convolution with one group per tower."""
    g = len(model.towers)
    if g == 1:
        conv = getattr(model.towers[0], name)
        return F.conv2d(h, conv.weight, conv.bias, padding=padding)
    w, b = stacked(model, name)
    return F.conv2d(h, w, b, padding=padding, groups=g)


def _act_lrn(model: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """ReLU then LRN (3.1, 3.3) with the towers side by side: one fused kernel where possible."""
    if isinstance(model.lrn, nn.Identity):
        return model.act(h)
    lrn_module = model.lrn
    relu = isinstance(model.act, nn.ReLU)
    if not relu:
        h = model.act(h)
    return lrn(h, lrn_module.size, lrn_module.alpha, lrn_module.beta, lrn_module.k,
               impl=model.lrn_impl, groups=len(model.towers), relu=relu)


def _fusable_pool(pool: nn.Module) -> tuple[int, int] | None:
    """(window, stride) of a square max pooling without padding, dilation or ceil mode, else None."""
    if type(pool) is not nn.MaxPool2d or pool.return_indices or pool.ceil_mode:
        return None
    pair = lambda v: v if isinstance(v, tuple) else (v, v)  # noqa: E731
    (k, k2), (s, s2) = pair(pool.kernel_size), pair(pool.stride)
    if k != k2 or s != s2 or pair(pool.padding) != (0, 0) or pair(pool.dilation) != (1, 1):
        return None
    return k, s


def _act_lrn_pool(model: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """pool(LRN(ReLU(h))) (3.1, 3.3, 3.4): one C++ kernel where the C++ LRN serves ``h``, else the
    three layers one after the other. The two give the same values and gradients (the tests)."""
    window = _fusable_pool(model.pool)
    if (window is None or isinstance(model.lrn, nn.Identity) or not isinstance(model.act, nn.ReLU)
            or torch.compiler.is_compiling() or resolve_lrn_impl(model.lrn_impl, h) != "cpp"):
        return model.pool(_act_lrn(model, h))
    from .kernels.lrn_cpu import lrn_pool_cpp

    m = model.lrn
    with torch.profiler.record_function("LRN + max pooling"):
        return lrn_pool_cpp(h, m.size, m.alpha, m.beta, m.k, groups=len(model.towers), relu=True,
                            pool_size=window[0], pool_stride=window[1])


def _act(model: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """The activation of a convolution's fresh output: ReLU in place (the output is not needed for
    the convolution's backward, so no copy is made), any other activation as the module computes it."""
    return torch.relu_(h) if isinstance(model.act, nn.ReLU) else model.act(h)


def features(model: nn.Module, x: torch.Tensor, own_tower_conv: OwnTowerConv = grouped_conv) -> torch.Tensor:
    """:meth:`AlexNet.features` on one device with the towers side by side along the channels.

    Same parameters and same function as :meth:`AlexNet.features` (the tests check outputs and
    gradients); the output channels of every layer are ordered tower 0 first, exactly as
    the reference concatenates them before conv3 and fc6. ``own_tower_conv`` computes conv2,
    conv4 and conv5 (:func:`grouped_conv`; the benchmark passes its other strategies).
    """
    x = model._conv1_input(x)
    c1 = model.towers[0].conv1
    w, b = stacked(model, "conv1")  # conv1 of every tower reads the whole image
    h = _act_lrn_pool(model, F.conv2d(x, w, b, stride=c1.stride, padding=c1.padding))
    h = _act_lrn_pool(model, own_tower_conv(model, h, "conv2", 2))
    w, b = stacked(model, "conv3")  # conv3 reads both towers
    h = _act(model, F.conv2d(h, w, b, padding=1))
    if model.towers[0].conv4 is not None:  # removed in Section 7's depth ablation
        h = _act(model, own_tower_conv(model, h, "conv4", 1))
    h = model.pool(_act(model, own_tower_conv(model, h, "conv5", 1)))
    return torch.flatten(model.avgpool(h), 1)
