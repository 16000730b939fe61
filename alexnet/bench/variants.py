"""The models ``bench model`` compares: torchvision's alexnet, ours, and our other tower strategies.

``ours`` is the faithful network on its fast path (``AlexNet(fast=True)``: conv2, conv4 and conv5
as one grouped convolution); ``reference`` the plain two-tower forward (``AlexNet()``). Two more
ways to compute the own-tower convolutions (Section 3.2) live only here, to measure whether a
device prefers them: ``ours_split``, one convolution per tower on its half of the channels, and
``ours_dense``, one ordinary convolution whose kernel is block-diagonal (the towers' kernels on the
diagonal, exact zeros elsewhere: the same sums with more multiplications by zero). All compute
the same function with the same parameters (``tests/test_fast_model.py``).

``ours_nolrn`` is *not* the paper's network: ``ours`` with LRN (Section 3.3) left out, a
diagnostic that prices LRN inside a whole training step (its difference from ``ours``, measured
in the same interleaved rounds). It never counts as "ours" in a ratio.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .. import fast
from ..errors import AlexNetError
from ..model import AlexNet

__all__ = ["MODELS", "build", "split_conv", "dense_conv", "SplitTowersAlexNet", "DenseTowersAlexNet"]

#: Models ``bench model`` knows: torchvision's, ours with each tower strategy, the plain reference.
MODELS = ("torchvision", "ours", "ours_split", "ours_dense", "reference", "ours_nolrn")


def split_conv(model: nn.Module, h: torch.Tensor, name: str, padding: int) -> torch.Tensor:
    """Own-tower convolution as one convolution per tower on its channel half."""
    parts = h.chunk(len(model.towers), dim=1)
    return torch.cat([F.conv2d(p, getattr(t, name).weight, getattr(t, name).bias, padding=padding)
                      for t, p in zip(model.towers, parts)], dim=1)


def dense_conv(model: nn.Module, h: torch.Tensor, name: str, padding: int) -> torch.Tensor:
    """Own-tower convolution as one ordinary convolution with a block-diagonal kernel."""
    g = len(model.towers)
    w, b = fast.stacked(model, name)
    o, i = w.shape[0] // g, w.shape[1]
    rows = [torch.cat([w[t * o:(t + 1) * o] if u == t else w.new_zeros(o, i, *w.shape[2:]) for u in range(g)], dim=1)
            for t in range(g)]
    return F.conv2d(h, torch.cat(rows, dim=0), b, padding=padding)


class SplitTowersAlexNet(AlexNet):
    """``AlexNet(fast=True)`` with :func:`split_conv` for conv2, conv4 and conv5."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if fast.path_ok(self):
            return self.classifier(fast.features(self, x, own_tower_conv=split_conv))
        return self.classifier(self.features(x))


class DenseTowersAlexNet(AlexNet):
    """``AlexNet(fast=True)`` with :func:`dense_conv` for conv2, conv4 and conv5."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if fast.path_ok(self):
            return self.classifier(fast.features(self, x, own_tower_conv=dense_conv))
        return self.classifier(self.features(x))


def build(name: str, num_classes: int = 1000, lrn_impl: str | None = None, **kwargs) -> nn.Module:
    """One of :data:`MODELS` (``kwargs`` go to :class:`AlexNet` for ours)."""
    if name == "torchvision":
        import torchvision

        return torchvision.models.alexnet(num_classes=num_classes)
    classes = {"ours": AlexNet, "ours_split": SplitTowersAlexNet, "ours_dense": DenseTowersAlexNet}
    if name in classes:
        return classes[name](num_classes, fast=True, lrn_impl=lrn_impl, **kwargs)
    if name == "reference":
        return AlexNet(num_classes, lrn_impl=lrn_impl, **kwargs)
    if name == "ours_nolrn":  # a diagnostic, not the paper's network
        return AlexNet(num_classes, fast=True, lrn=False, **kwargs)
    raise AlexNetError(f"unknown model {name!r}; choose from {MODELS}")
