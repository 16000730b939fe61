"""The paper's network (Section 3.5, Figure 2) and its ablation variants, from one class.

``AlexNet()`` is the paper's two-tower network: five convolutional and three fully connected
layers, each layer's kernels split between two towers (the paper's two GPUs, Section 3.2).
conv2, conv4 and conv5 see only their own tower's maps; conv3 and the fully connected layers see
both. Every layer is followed by ReLU (3.1); LRN (3.3) follows the ReLU of conv1 and conv2;
overlapping max pooling (3.4) follows LRN1, LRN2 and conv5; dropout (4.2) acts on the outputs of
fc6 and fc7. Weights start from N(0, 0.01^2), biases from 1 in conv2, conv4, conv5, fc6 and fc7 and
from 0 elsewhere (Section 5).

The towers can live on two devices (``devices=("cuda:0", "cuda:1")``): activations cross between
them only where the paper connects the towers (into conv3, fc6, fc7 and fc8).

The fast path (``fast=True``, one device) computes the same function with fewer, larger kernels:
conv1 and conv3 of both towers as one convolution over the towers' concatenated kernels, conv2,
conv4 and conv5 as one convolution with ``groups=2`` (each tower's kernels see only its own half of
the channels, Section 3.2), and ReLU + LRN fused into one kernel whose window stays inside each
tower (:func:`alexnet.layers.lrn`). It lives beside this file, in :mod:`alexnet.fast` (which this
module imports, never the other way), so that this one reads like Figure 2. The parameters stay
where they are (``towers[i].convK``), so state dicts, the summary and two-device placement are
unchanged; ``fast=False`` is the reference.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from . import fast
from .layers import LocalResponseNorm, PaperDropout, canonical_lrn_impl

__all__ = ["AlexNet", "Tower", "PAPER_WIDTHS", "ONE_TOWER_WIDTHS", "PAPER_FC", "conv1_extra_padding", "FAST_MODES"]

#: Values of ``AlexNet(fast=...)``: the reference (``False``) and the fast path (``True``).
#: ``"grouped"`` is the fast path's former name, still accepted (deprecated: say ``True``).
FAST_MODES = (False, True)
_FAST_ALIASES = {"grouped": True}
#: Former fast-path values that are now benchmark variants (:mod:`alexnet.bench.variants`).
_MOVED_TO_BENCH = ("split", "dense")

#: Total kernels of conv1..conv5 over both towers (Section 3.5).
PAPER_WIDTHS: tuple[int, int, int, int, int] = (96, 256, 384, 384, 256)
#: Footnote 2: one tower with half the kernels in conv1-conv4 and a full-size conv5.
ONE_TOWER_WIDTHS: tuple[int, int, int, int, int] = (48, 128, 192, 192, 256)
#: Neurons of fc6 and fc7 over both towers.
PAPER_FC: tuple[int, int] = (4096, 4096)

CONV_NAMES = ("conv1", "conv2", "conv3", "conv4", "conv5")
FC_NAMES = ("fc6", "fc7", "fc8")
LAYER_NAMES = CONV_NAMES + FC_NAMES
#: Section 5: biases initialised to 1 in these layers and to 0 in the others.
BIAS_ONE_LAYERS = ("conv2", "conv4", "conv5", "fc6", "fc7")


def conv1_extra_padding(size: int, kernel: int = 11, stride: int = 4) -> int:
    """Zero pixels cuda-convnet adds at the right/bottom so conv1 covers the whole input.

    cuda-convnet sizes the output as ``1 + ceil((W - F) / s)``: a 224 input gives 55 outputs, as if
    the image had 3 more zero columns and rows at the end. 227 (Caffe's crop) needs none.
    """
    if size < kernel:
        raise ValueError(f"input size {size} is smaller than conv1's {kernel}x{kernel} kernel")
    return (-(size - kernel)) % stride


def pool5_size(size: int, pool: str = "overlapping", conv1_padding: str | int = "convnet") -> int:
    """Side of pool5's maps for a ``size`` x ``size`` input (6 for 224 and 227); < 1 if too small.

    ``pool``: ``"overlapping"`` (window 3, stride 2; Section 3.4) or ``"non-overlapping"`` (2, 2).
    """
    if conv1_padding == "convnet":
        n = -(-(size - 11) // 4) + 1 if size >= 11 else 0
    else:
        n = (size + 2 * int(conv1_padding) - 11) // 4 + 1
    k, s = (3, 2) if pool == "overlapping" else (2, 2)
    for _ in range(3):  # pool1, pool2, pool5 (conv2-conv5 keep the size)
        n = (n - k) // s + 1 if n >= k else 0
    return n


def _split(total: int, parts: int) -> list[int]:
    """Split ``total`` units over ``parts`` towers, the first towers taking any remainder."""
    return [total // parts + (i < total % parts) for i in range(parts)]


class Tower(nn.Module):
    """The layers that live on one of the paper's GPUs.

    Arguments are this tower's own output sizes and the input sizes each layer sees
    (conv3, fc6, fc7 and fc8 read the outputs of every tower). Without ``conv4`` (Section 7's
    depth ablation) the tower's ``conv4`` is ``None`` and conv5 reads conv3's maps.
    """

    def __init__(self, out: Sequence[int], inp: Sequence[int], conv1_padding: int, conv4: bool = True) -> None:
        super().__init__()
        c1, c2, c3, c4, c5, f6, f7, f8 = out
        i3, i6, i7, i8 = inp
        self.conv1 = nn.Conv2d(3, c1, 11, stride=4, padding=conv1_padding)
        self.conv2 = nn.Conv2d(c1, c2, 5, padding=2)
        self.conv3 = nn.Conv2d(i3, c3, 3, padding=1)
        self.conv4 = nn.Conv2d(c3, c4, 3, padding=1) if conv4 else None
        self.conv5 = nn.Conv2d(c4 if conv4 else c3, c5, 3, padding=1)
        self.fc6 = nn.Linear(i6, f6)
        self.fc7 = nn.Linear(i7, f7)
        self.fc8 = nn.Linear(i8, f8)

    def layers(self) -> list[tuple[str, nn.Module]]:
        """(name, layer) of every layer this tower has, conv1 to fc8."""
        return [(n, getattr(self, n)) for n in LAYER_NAMES if getattr(self, n) is not None]


class AlexNet(nn.Module):
    """The network of Section 3.5 (defaults) and the paper's ablations (keyword arguments).

    Args:
        num_classes: outputs of fc8 (1000 for ILSVRC).
        towers: 2 for the paper's two-GPU layout (3.2), 1 for footnote 2's single tower.
        widths: total kernels of conv1..conv5 over all towers. Default: the paper's
            ``(96, 256, 384, 384, 256)`` for two towers, footnote 2's ``(48, 128, 192, 192, 256)``
            for one.
        fc: total neurons of fc6 and fc7 (``(4096, 4096)``).
        lrn: local response normalisation after the ReLU of conv1 and conv2 (3.3).
        pool: ``"overlapping"`` (window 3, stride 2; 3.4) or ``"non-overlapping"`` (2, 2).
        activation: ``"relu"`` (3.1) or ``"tanh"``.
        dropout: probability of dropping a neuron of fc6 and fc7 (4.2); 0 disables dropout.
        dropout_mode: ``"paper"`` (scale by 1-p at test) or ``"inverted"`` (scale 1/(1-p) in
            training).
        dropout_on: ``"outputs"`` of fc6, fc7 (the paper) or ``"inputs"`` of fc6, fc7
            (torchvision's placement).
        conv1_padding: ``"convnet"`` (cuda-convnet's rounding: zeros at the right and bottom so
            a 224 input gives 55x55; none for 227) or a symmetric int padding (torchvision: 2).
        adaptive_pool: resize pool5 to 6x6 with adaptive average pooling (torchvision's layout).
        init: ``"paper"`` (Section 5) or ``"torch"`` (PyTorch's default initialisation).
        conv4: ``False`` removes conv4, so that conv5 reads conv3's maps (Section 7: "removing any
            of the middle layers results in a loss of about 2% for the top-1 performance"; conv4
            is the middle layer whose removal leaves every other layer's shape as it is).
        devices: ``None`` (one device, moved with ``.to``) or one device per tower.
        fast: ``False`` (the reference: each tower's layers run one by one) or ``True`` (the
            fast path of :mod:`alexnet.fast`: the towers side by side, own-tower convolutions as
            one ``groups=2`` convolution, ReLU and LRN fused). Same function, same parameters.
            ``"grouped"`` still means ``True`` (its former name, deprecated).
        lrn_impl: LRN implementation (:data:`alexnet.layers.LRN_IMPLS`); ``None`` means
            ``"reference"`` for ``fast=False`` and ``"auto"`` (Triton on CUDA, the fastest
            measured CPU kernel elsewhere) for the fast path.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        *,
        towers: int = 2,
        widths: Sequence[int] | None = None,
        fc: Sequence[int] = PAPER_FC,
        lrn: bool = True,
        pool: str = "overlapping",
        activation: str = "relu",
        dropout: float = 0.5,
        dropout_mode: str = "paper",
        dropout_on: str = "outputs",
        conv1_padding: str | int = "convnet",
        adaptive_pool: bool = False,
        init: str = "paper",
        conv4: bool = True,
        devices: Sequence[str | torch.device] | None = None,
        fast: bool | str = False,
        lrn_impl: str | None = None,
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"AlexNet: num_classes must be >= 1, got {num_classes}")
        if towers not in (1, 2):
            raise ValueError(f"AlexNet: towers must be 1 or 2, got {towers}")
        if widths is None:
            widths = PAPER_WIDTHS if towers == 2 else ONE_TOWER_WIDTHS
        widths = tuple(int(w) for w in widths)
        if len(widths) != 5 or any(w < towers for w in widths):
            raise ValueError(f"AlexNet: widths must be 5 kernel counts >= towers, got {widths}")
        fc = tuple(int(f) for f in fc)
        if len(fc) != 2 or any(f < towers for f in fc):
            raise ValueError(f"AlexNet: fc must be 2 neuron counts >= towers, got {fc}")
        if pool not in ("overlapping", "non-overlapping"):
            raise ValueError(f"AlexNet: pool must be 'overlapping' or 'non-overlapping', got {pool!r}")
        if activation not in ("relu", "tanh"):
            raise ValueError(f"AlexNet: activation must be 'relu' or 'tanh', got {activation!r}")
        if dropout_on not in ("outputs", "inputs"):
            raise ValueError(f"AlexNet: dropout_on must be 'outputs' or 'inputs', got {dropout_on!r}")
        if init not in ("paper", "torch"):
            raise ValueError(f"AlexNet: init must be 'paper' or 'torch', got {init!r}")
        if conv1_padding != "convnet" and not (isinstance(conv1_padding, int) and conv1_padding >= 0):
            raise ValueError(f"AlexNet: conv1_padding must be 'convnet' or an int >= 0, got {conv1_padding!r}")
        if fast in _MOVED_TO_BENCH:
            raise ValueError(f"AlexNet: fast={fast!r} is a benchmark variant now: "
                             f"alexnet.bench.variants.build('ours_{fast}'); the model takes fast=False or True")
        fast = _FAST_ALIASES.get(fast, fast) if isinstance(fast, str) else fast
        if fast not in FAST_MODES or not isinstance(fast, bool):
            raise ValueError(f"AlexNet: fast must be False or True, got {fast!r}")
        if lrn_impl is None:
            lrn_impl = "auto" if fast else "reference"
        lrn_impl = canonical_lrn_impl(lrn_impl, "AlexNet: lrn_impl")

        self.config = dict(
            num_classes=num_classes, towers=towers, widths=widths, fc=fc, lrn=lrn, pool=pool,
            activation=activation, dropout=dropout, dropout_mode=dropout_mode,
            dropout_on=dropout_on, conv1_padding=conv1_padding, adaptive_pool=adaptive_pool,
            init=init, **({} if conv4 else {"conv4": False}),  # named only when removed: older configs match
        )
        self.num_classes = num_classes
        self.conv1_padding = conv1_padding
        per = [_split(w, towers) for w in (*widths, *fc, num_classes)]
        inputs = (widths[1], widths[4] * 36, fc[0], fc[1])
        self.towers = nn.ModuleList(
            Tower([p[t] for p in per], inputs, conv1_padding if isinstance(conv1_padding, int) else 0, conv4)
            for t in range(towers)
        )
        self.act = nn.ReLU() if activation == "relu" else nn.Tanh()
        self.lrn = LocalResponseNorm(impl=lrn_impl) if lrn else nn.Identity()
        self.fast: bool = fast
        self.lrn_impl = lrn_impl
        self.pool = nn.MaxPool2d(3, 2) if pool == "overlapping" else nn.MaxPool2d(2, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6)) if adaptive_pool else nn.Identity()
        self.dropout = PaperDropout(dropout, dropout_mode)
        self.dropout_on = dropout_on
        if init == "paper":
            self.reset_parameters()
        self.devices: tuple[torch.device, ...] | None = None
        if devices is not None:
            self.place(devices)

    # ----------------------------------------------------------------- initialisation (Section 5)
    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Section 5: weights ~ N(0, 0.01^2); biases 1 in conv2, conv4, conv5, fc6, fc7, else 0."""
        for tower in self.towers:
            for name, layer in tower.layers():
                layer.weight.normal_(0.0, 0.01)
                layer.bias.fill_(1.0 if name in BIAS_ONE_LAYERS else 0.0)

    # ----------------------------------------------------------------- device placement (3.2)
    def place(self, devices: Sequence[str | torch.device]) -> AlexNet:
        """Put tower ``i`` on ``devices[i]`` (the paper's "one half of the kernels on each GPU")."""
        devices = tuple(torch.device(d) for d in devices)
        if len(devices) != len(self.towers):
            raise ValueError(f"AlexNet.place: need {len(self.towers)} devices (one per tower), got {len(devices)}")
        for tower, device in zip(self.towers, devices):
            tower.to(device)
        self.devices = devices
        return self

    def _devices(self, x: torch.Tensor) -> tuple[torch.device, ...]:
        return self.devices if self.devices is not None else (x.device,) * len(self.towers)

    # ----------------------------------------------------------------- forward
    def _conv1_input(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"AlexNet expects (N, 3, H, W) images, got shape {tuple(x.shape)}")
        self.check_input_size(x.shape[2], x.shape[3])
        if self.conv1_padding == "convnet":
            pad_h, pad_w = conv1_extra_padding(x.shape[2]), conv1_extra_padding(x.shape[3])
            if pad_h or pad_w:
                x = F.pad(x, (0, pad_w, 0, pad_h))
        return x

    def pool5_size(self, size: int) -> int:
        """Side of pool5's maps for a ``size`` x ``size`` input (6 for 224 and 227); < 1 if too small."""
        return pool5_size(size, "overlapping" if self.pool.kernel_size == 3 else "non-overlapping",
                          self.conv1_padding)

    def min_input_size(self) -> int:
        """The smallest square input this configuration accepts (63-67 pixels, by padding and pooling)."""
        return next(n for n in range(11, 1024) if self.pool5_size(n) >= 1)

    def check_input_size(self, height: int, width: int) -> None:
        """Raise ``ValueError`` naming the input size when the network cannot take it."""
        for side in (height, width):
            n = self.pool5_size(side)
            if n < 1:
                raise ValueError(f"input of {height}x{width} pixels is too small for AlexNet: "
                                 f"pool5 would be empty (at least {self.min_input_size()} pixels are needed)")
            if n != 6 and isinstance(self.avgpool, nn.Identity):
                raise ValueError(f"input of {height}x{width} pixels gives {n}x{n} maps after pool5, but fc6 "
                                 "expects 6x6: use 224 or 227 pixels, or AlexNet(adaptive_pool=True)")

    def _cross(self, parts: list[torch.Tensor], device: torch.device) -> torch.Tensor:
        """Concatenate every tower's output on ``device``: where the paper's GPUs communicate."""
        return torch.cat([p.to(device, non_blocking=True) for p in parts], dim=1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """conv1..pool5, flattened to ``(N, 9216)`` on the first tower's device."""
        devs = self._devices(x)
        x = self._conv1_input(x)
        a = [self.pool(self.lrn(self.act(t.conv1(x.to(d))))) for t, d in zip(self.towers, devs)]
        a = [self.pool(self.lrn(self.act(t.conv2(h)))) for t, h in zip(self.towers, a)]
        a = [self.act(t.conv3(self._cross(a, d))) for t, d in zip(self.towers, devs)]
        if self.towers[0].conv4 is not None:
            a = [self.act(t.conv4(h)) for t, h in zip(self.towers, a)]
        a = [self.pool(self.act(t.conv5(h))) for t, h in zip(self.towers, a)]
        return torch.flatten(self.avgpool(self._cross(a, devs[0])), 1)

    def classifier(self, x: torch.Tensor, return_hidden: bool = False):
        """fc6..fc8 from pool5 features; with ``return_hidden`` also fc7's 4096-d output (6.1)."""
        devs = self._devices(x)
        parts = [x]
        for name in ("fc6", "fc7"):
            if self.dropout_on == "inputs":
                parts = [self.dropout(p) for p in parts]
            parts = [self.act(getattr(t, name)(self._cross(parts, d))) for t, d in zip(self.towers, devs)]
            if self.dropout_on == "outputs":
                parts = [self.dropout(p) for p in parts]
        logits = self._cross([t.fc8(self._cross(parts, d)) for t, d in zip(self.towers, devs)], devs[0])
        return (logits, self._cross(parts, devs[0])) if return_hidden else logits

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fast and fast.path_ok(self):
            return self.classifier(fast.features(self, x))
        return self.classifier(self.features(x))
