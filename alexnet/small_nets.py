"""Small CIFAR-10 networks for the paper's ablations, built from the package's layers.

The paper backs two claims with "a four-layer convolutional neural network" on CIFAR-10:
Figure 1 / Section 3.1 (ReLU reaches 25% training error six times faster than tanh) and
Section 3.3 (13% test error without local response normalisation, 11% with it). The paper does
not give that network's layout. We take the shape of cuda-convnet's CIFAR-10 example
(``layers-18pct``), which the authors' code shipped: three 5x5 convolutional layers with
32, 32 and 64 kernels, each followed by the non-linearity and max pooling, then one fully
connected softmax layer -- four learned layers. Optional pieces turn it into the ablation
variants:

* ``activation``: ``"relu"`` (3.1) or ``"tanh"``;
* ``lrn``: the paper's local response normalisation (3.3) after the pooling of conv1 and conv2
  (:class:`alexnet.LocalResponseNorm`, paper's ``alpha``: not divided by ``n``);
* ``pool``: ``"overlapping"`` (window 3, stride 2; 3.4) or ``"non-overlapping"`` (2, 2). Both
  give the same output size (cuda-convnet's rounding: the last window may hang over the edge,
  ``ceil_mode=True``), so only the overlap differs;
* ``hidden``: fully connected hidden layers before the classifier, with ``dropout`` (4.2) on
  their outputs (:class:`alexnet.PaperDropout`: the paper's test-time scaling or inverted).

Weights use PyTorch's default initialisation by default (the same for every variant); ``init="paper"``
draws every weight from N(0, 0.01^2) as Section 5 does.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .layers import LocalResponseNorm, PaperDropout

__all__ = ["CifarNet", "pool_layer"]


def pool_layer(kind: str) -> nn.MaxPool2d:
    """Max pooling of Section 3.4: ``"overlapping"`` = z=3, s=2; ``"non-overlapping"`` = z=2, s=2.

    ``ceil_mode=True`` for the overlapping kind gives the same output size as 2/2 pooling
    (32 -> 16 -> 8 -> 4), as cuda-convnet sizes pooling outputs.
    """
    if kind == "overlapping":
        return nn.MaxPool2d(3, 2, ceil_mode=True)
    if kind == "non-overlapping":
        return nn.MaxPool2d(2, 2)
    raise ValueError(f"pool must be 'overlapping' or 'non-overlapping', got {kind!r}")


class CifarNet(nn.Module):
    """The four-layer CIFAR-10 CNN of Figure 1 / Section 3.3 and its ablation variants.

    Args:
        num_classes: outputs of the last layer (10 for CIFAR-10).
        widths: kernels of the three 5x5 convolutional layers (cuda-convnet's 32, 32, 64).
        hidden: neurons of fully connected hidden layers before the classifier (none: the
            four-layer net; e.g. ``(512, 512)`` for the dropout study of Section 4.2).
        activation: ``"relu"`` or ``"tanh"`` (Section 3.1).
        lrn: local response normalisation after pool1 and pool2 (Section 3.3).
        lrn_params: ``size, alpha, beta, k`` of the LRN (default: the paper's 5, 1e-4, 0.75, 2).
        pool: ``"overlapping"`` (3/2) or ``"non-overlapping"`` (2/2), Section 3.4.
        dropout: probability of dropping an output of each hidden layer (Section 4.2).
        dropout_mode: ``"paper"`` (halve at test time) or ``"inverted"``.
        input_size: height and width of the input images (32, or 24 for cropped patches).
        init: ``"torch"`` (PyTorch's fan-in-scaled default) or ``"paper"`` (every weight from
            N(0, ``init_std``^2), biases 0: the fixed-scale Gaussian of Section 5 and cuda-convnet).
    """

    def __init__(
        self,
        num_classes: int = 10,
        *,
        widths: Sequence[int] = (32, 32, 64),
        hidden: Sequence[int] = (),
        activation: str = "relu",
        lrn: bool = False,
        lrn_params: dict | None = None,
        pool: str = "overlapping",
        dropout: float = 0.0,
        dropout_mode: str = "paper",
        input_size: int = 32,
        init: str = "torch",
        init_std: float = 0.01,
    ) -> None:
        super().__init__()
        if activation not in ("relu", "tanh"):
            raise ValueError(f"CifarNet: activation must be 'relu' or 'tanh', got {activation!r}")
        widths = tuple(int(w) for w in widths)
        if len(widths) != 3 or min(widths) < 1:
            raise ValueError(f"CifarNet: widths must be 3 positive kernel counts, got {widths}")
        if init not in ("torch", "paper"):
            raise ValueError(f"CifarNet: init must be 'torch' or 'paper', got {init!r}")
        if input_size < 8:
            raise ValueError(f"CifarNet: input_size must be >= 8, got {input_size}")
        self.config = dict(num_classes=num_classes, widths=widths, hidden=tuple(hidden),
                           activation=activation, lrn=lrn, lrn_params=lrn_params, pool=pool,
                           dropout=dropout, dropout_mode=dropout_mode, input_size=input_size, init=init,
                           init_std=init_std)
        # ReLU in place: it follows a convolution or a linear layer, whose output its backward does not
        # need, so the same numbers come out without a copy of every activation
        act = (lambda: nn.ReLU(inplace=True)) if activation == "relu" else nn.Tanh
        layers: list[nn.Module] = []
        cin = 3
        for i, w in enumerate(widths):
            layers += [nn.Conv2d(cin, w, 5, padding=2), act(), pool_layer(pool)]
            if lrn and i < 2:
                layers.append(LocalResponseNorm(**(lrn_params or {})))
            cin = w
        self.features = nn.Sequential(*layers)
        with torch.no_grad():
            fin = self.features(torch.zeros(1, 3, input_size, input_size)).numel()
        head: list[nn.Module] = [nn.Flatten()]
        for h in hidden:
            head += [nn.Linear(fin, h), act(), PaperDropout(dropout, dropout_mode)]
            fin = h
        head.append(nn.Linear(fin, num_classes))
        self.classifier = nn.Sequential(*head)
        if init == "paper":
            with torch.no_grad():
                for m in self.modules():
                    if isinstance(m, (nn.Conv2d, nn.Linear)):
                        m.weight.normal_(0.0, init_std)
                        m.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"CifarNet expects (N, 3, H, W) images, got shape {tuple(x.shape)}")
        return self.classifier(self.features(x))
