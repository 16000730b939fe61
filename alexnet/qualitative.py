"""Section 6.1 of the paper, measured: what the trained network's kernels and features look like.

The paper shows three things qualitatively; this module turns each into numbers:

* **Figure 3**, the 96 conv1 kernels: "the kernels on GPU 1 are largely colour-agnostic, while the
  kernels on GPU 2 are largely colour-specific". :func:`colour_specificity` measures, for each
  kernel, the fraction of its energy that is *not* grey, and :func:`tower_colour_stats` averages it
  over each tower, with a permutation test of whether the towers differ more than a random split
  of the same kernels would.
* **Figure 4 (left)**, held-out images with the five most probable labels: :func:`top_k`.
* **Figure 4 (right)**, the six training images whose last hidden layer (the 4096-d output of fc7)
  is closest in Euclidean distance to a test image's: :func:`hidden_features` and
  :func:`nearest`, set beside the six nearest in pixel space by :func:`neighbours`, with the share
  of neighbours of the query's own class in each space (:class:`Neighbours`).

The figures are drawn by :mod:`alexnet.viz`. :func:`prepare` gives the chapter a trained two-tower
model: under the ``ci`` profile a small-scale one trained here in about a minute on two CPU cores
(not the paper's scale), under ``full`` one loaded from a checkpoint trained on ImageNet.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .errors import AlexNetError

__all__ = [
    "PROFILES",
    "CHECKS",
    "colour_specificity",
    "random_kernel_baseline",
    "conv1_kernels",
    "TowerColour",
    "tower_colour_stats",
    "tower_gap_pvalue",
    "colour_verdict",
    "Predictions",
    "top_k",
    "outputs",
    "predictions",
    "hidden_features",
    "nearest",
    "Neighbours",
    "neighbours",
    "neighbour_verdict",
    "QualitativeRun",
    "prepare",
    "he_init",
    "pick_queries",
    "first_per_class",
    "stack_dataset",
]

# --------------------------------------------------------------------------------------- profiles
#: Notebook / experiment settings. ``ci``: a small two-tower net trained here in about a minute on
#: two CPU cores (CIFAR-10 upscaled to 80 px, 67 px crops; far from the paper's scale). ``full``: a
#: checkpoint of a model trained on ImageNet (pass ``checkpoint=...``) and the ImageNet validation
#: images.
PROFILES: dict[str, dict[str, Any]] = {
    "ci": dict(
        data=None,              # data root (None: $ALEXNET_DATA, else generated images)
        dataset="cifar10",      # folder looked for under the data root
        checkpoint=None,        # a trained model's checkpoint; None trains one here
        resize=80, crop=67,     # CIFAR-10 images upscaled so conv1's 11x11 stride-4 kernels fit
        widths=[96, 64, 96, 96, 64],  # the paper's 96 conv1 kernels; conv2-conv5 narrowed for a CPU
        fc=1024,                # fc6 / fc7 width (the paper: 4096)
        init="he",              # the paper's N(0, 0.01) and torch's default do not learn in a minute
        train_per_class=400,    # training images per class for the small run
        gallery_per_class=150,  # training images per class searched for neighbours
        val_per_class=50,       # held-out images per class
        epochs=10,
        train_seconds=50.0,     # wall-clock cap on training (stops after the current batch)
        batch_size=32,
        lr=0.01,
        predictions=8,          # Figure 4 left: eight held-out images, as in the paper
        neighbour_queries=5,    # Figure 4 right: five query rows
        neighbours=6,           # six nearest training images, as in the paper
        seed=0,
    ),
    "full": dict(
        data=None,
        dataset="imagenet",
        checkpoint="",          # required: a model trained on ImageNet (python -m alexnet train)
        resize=256, crop=224,
        widths=[96, 256, 384, 384, 256],  # only used to train here; a checkpoint brings its own
        fc=4096,
        init="paper",
        train_per_class=0,      # no training under the full profile
        gallery_per_class=10,   # 10,000 training images (6 GB as 224-pixel float crops) searched for neighbours
        val_per_class=5,
        epochs=0,
        train_seconds=0.0,
        batch_size=128,
        lr=0.01,
        predictions=8,
        neighbour_queries=5,
        neighbours=6,
        seed=0,
    ),
}

#: Impossible values, named in the error :func:`alexnet.profiles.resolve` raises.
CHECKS = {
    "resize": lambda v: v >= 11,
    "crop": lambda v: 11 <= v,
    "train_per_class": lambda v: v >= 0,
    "gallery_per_class": lambda v: v >= 1,
    "val_per_class": lambda v: v >= 1,
    "epochs": lambda v: v >= 0,
    "train_seconds": lambda v: v >= 0,
    "batch_size": lambda v: v >= 1,
    "lr": lambda v: v > 0,
    "init": lambda v: v in ("paper", "torch", "he"),
    "widths": lambda v: len(v) == 5 and all(int(w) >= 2 for w in v),
    "fc": lambda v: v >= 2,
    "predictions": lambda v: 1 <= v <= 32,
    "neighbour_queries": lambda v: 1 <= v <= 32,
    "neighbours": lambda v: 1 <= v <= 20,
}


# ------------------------------------------------------------------- Figure 3: colour specificity
def colour_specificity(kernels: torch.Tensor) -> torch.Tensor:
    """The share of each RGB kernel's energy that is not grey (Section 6.1, Figure 3).

    For a kernel ``w`` of shape ``(3, h, w)``:

    1. subtract its mean over all ``3*h*w`` weights (a uniform grey offset, which responds only to
       the overall brightness of the patch and says nothing about colour or structure);
    2. split every pixel's RGB vector into its projection on the grey direction ``(1, 1, 1)/sqrt(3)``
       (the per-pixel channel mean) and the rest, the chromatic part;
    3. return ``||chromatic||^2 / ||w - mean||^2``.

    0 means colour-agnostic (R = G = B at every position: the kernel sees luminance only); 1 means
    purely colour-opponent (the channels sum to zero at every position: the kernel is blind to
    luminance). A per-channel offset (a uniform colour tint) counts as colour: it makes the kernel
    prefer one hue. Kernels with i.i.d. random weights score about 2/3
    (:func:`random_kernel_baseline`), since two of the three colour directions are chromatic.

    Args:
        kernels: ``(N, 3, h, w)`` (conv1 weights) or ``(3, h, w)``.
    Returns:
        ``(N,)`` float64 values in [0, 1] (a scalar tensor for one kernel); NaN for a constant
        kernel, which has no energy left once its mean is removed.
    """
    single = kernels.dim() == 3
    w = kernels.detach().to("cpu", torch.float64)
    if single:
        w = w.unsqueeze(0)
    if w.dim() != 4 or w.shape[1] != 3:
        raise ValueError(f"colour_specificity expects (N, 3, h, w) RGB kernels, got shape {tuple(kernels.shape)}")
    w = w - w.mean(dim=(1, 2, 3), keepdim=True)
    chroma = w - w.mean(dim=1, keepdim=True)
    total = w.pow(2).sum(dim=(1, 2, 3))
    ratio = chroma.pow(2).sum(dim=(1, 2, 3)) / total
    ratio = torch.where(total > 1e-24 * w[0].numel(), ratio, torch.full_like(ratio, math.nan))
    return ratio[0] if single else ratio


def random_kernel_baseline(height: int = 11, width: int = 11) -> float:
    """Expected :func:`colour_specificity` of a kernel with i.i.d. Gaussian weights.

    After removing the mean, ``3hw - 1`` directions remain, ``2hw`` of them chromatic, so the
    expected share is ``2hw / (3hw - 1)`` (0.669 for 11x11): what an untrained conv1 scores.
    """
    n = height * width
    return 2 * n / (3 * n - 1)


def conv1_kernels(model: nn.Module) -> list[torch.Tensor]:
    """conv1's weights, one ``(k, 3, 11, 11)`` tensor per tower (the paper's GPU 1 and GPU 2)."""
    towers = getattr(model, "towers", None)
    if towers is None:
        raise AlexNetError(f"conv1_kernels: expected an alexnet.AlexNet with .towers, got {type(model).__name__}")
    return [t.conv1.weight.detach().cpu() for t in towers]


@dataclass
class TowerColour:
    """Colour specificity of one tower's conv1 kernels."""

    tower: int               # 1-based, as the paper numbers its GPUs
    kernels: int
    mean: float
    std: float
    median: float
    values: torch.Tensor = field(repr=False)

    def as_dict(self) -> dict[str, float | int]:
        return dict(tower=self.tower, kernels=self.kernels, mean=self.mean, std=self.std, median=self.median)


def tower_colour_stats(kernels: Sequence[torch.Tensor] | nn.Module) -> list[TowerColour]:
    """:func:`colour_specificity` averaged over each tower's kernels (constant kernels ignored)."""
    if isinstance(kernels, nn.Module):
        kernels = conv1_kernels(kernels)
    stats = []
    for i, k in enumerate(kernels, start=1):
        v = colour_specificity(k)
        ok = v[~torch.isnan(v)]
        if ok.numel() == 0:
            raise AlexNetError(f"tower {i}: every conv1 kernel is constant; colour specificity is undefined")
        stats.append(TowerColour(
            tower=i, kernels=int(v.numel()), mean=float(ok.mean()),
            std=float(ok.std()) if ok.numel() > 1 else 0.0, median=float(ok.median()), values=v,
        ))
    return stats


def tower_gap_pvalue(a: torch.Tensor, b: torch.Tensor, permutations: int = 10_000, seed: int = 0) -> float:
    """Two-sided permutation test: could a random split of the kernels give this gap in means?

    Returns the share of random re-assignments of the pooled kernels to two groups of the same sizes
    whose difference of mean colour specificity is at least ``|mean(a) - mean(b)|`` (with the
    observed split counted, so never 0). Small values mean the towers really differ, as the paper
    says they do.
    """
    a = a[~torch.isnan(a)].double()
    b = b[~torch.isnan(b)].double()
    if a.numel() == 0 or b.numel() == 0:
        raise ValueError("tower_gap_pvalue: both towers need at least one non-constant kernel")
    pooled = torch.cat([a, b])
    observed = (a.mean() - b.mean()).abs()
    g = torch.Generator().manual_seed(seed)
    perms = torch.argsort(torch.rand(permutations, pooled.numel(), generator=g), dim=1)
    shuffled = pooled[perms]
    gaps = (shuffled[:, : a.numel()].mean(1) - shuffled[:, a.numel():].mean(1)).abs()
    return float(((gaps >= observed - 1e-12).sum() + 1) / (permutations + 1))


def colour_verdict(stats: Sequence[TowerColour], pvalue: float, level: float = 0.01) -> str:
    """One sentence comparing the towers with the paper's claim (one colour-agnostic tower, one
    colour-specific), for the book's prose."""
    if len(stats) != 2:
        return f"the model has {len(stats)} tower(s); the paper's two-tower comparison does not apply"
    lo, hi = sorted(stats, key=lambda s: s.mean)
    if pvalue < level:
        return (f"tower {lo.tower}'s kernels are less colour-specific than tower {hi.tower}'s "
                f"({lo.mean:.2f} against {hi.mean:.2f}, a gap no random split of the kernels reaches "
                f"at p = {pvalue:.3f}): the pattern the paper reports")
    return (f"the towers do not differ more than a random split of their kernels would ({lo.mean:.2f} against "
            f"{hi.mean:.2f}, p = {pvalue:.2f}): the paper's specialisation does not appear at this scale")


# ------------------------------------------------------------------- Figure 4 left: top-5 labels
@dataclass
class Predictions:
    """The ``k`` most probable classes of each image, most probable first."""

    probs: torch.Tensor      # (N, k) softmax probabilities
    indices: torch.Tensor    # (N, k) class indices

    def labels(self, class_names: Sequence[str]) -> list[list[str]]:
        return [[class_names[int(j)] for j in row] for row in self.indices]

    def correct(self, targets: Sequence[int] | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Boolean ``(N,)`` tensors: the true class is first (top-1), among the k (top-k)."""
        t = torch.as_tensor(targets).view(-1, 1)
        return self.indices[:, 0] == t[:, 0], (self.indices == t).any(dim=1)


def _batches(x: torch.Tensor, batch_size: int) -> Iterable[torch.Tensor]:
    for i in range(0, x.shape[0], batch_size):
        yield x[i : i + batch_size]


@torch.no_grad()
def outputs(model: nn.Module, images: torch.Tensor, batch_size: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """``(logits, hidden)`` of each image in one pass, in evaluation mode (dropout off, with the
    Section 4.2 test-time scaling): ``hidden`` is the last hidden layer, fc7's output (4096-d in the
    paper), as ``model.classifier(model.features(x), return_hidden=True)`` gives it."""
    if images.dim() != 4:
        raise ValueError(f"expected a batch (N, 3, H, W) of images, got shape {tuple(images.shape)}")
    was_training = model.training
    model.eval()
    logits, hidden = [], []
    try:
        device = next(model.parameters()).device
        for b in _batches(images, batch_size):
            z, h = model.classifier(model.features(b.to(device)), return_hidden=True)
            logits.append(z.float().cpu())
            hidden.append(h.float().cpu())
    finally:
        model.train(was_training)
    return torch.cat(logits), torch.cat(hidden)


def predictions(logits: torch.Tensor, k: int = 5) -> Predictions:
    """The ``k`` most probable classes of softmax(``logits``) (``k`` capped at the number of classes)."""
    p, i = F.softmax(logits.float(), dim=1).topk(min(k, logits.shape[1]), dim=1)
    return Predictions(p, i)


def top_k(model: nn.Module, images: torch.Tensor, k: int = 5, batch_size: int = 128) -> Predictions:
    """Figure 4 (left): the ``k`` most probable classes of each image, in evaluation mode."""
    return predictions(outputs(model, images, batch_size)[0], k)


# ------------------------------------------------------------- Figure 4 right: nearest neighbours
def hidden_features(model: nn.Module, images: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    """The last hidden layer (fc7's output, 4096-d in the paper) for each image, in eval mode."""
    return outputs(model, images, batch_size)[1]


def nearest(queries: torch.Tensor, gallery: torch.Tensor, k: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean ``k`` nearest gallery rows of each query row: ``(distances, indices)``, nearest first.

    Inputs of any shape ``(N, ...)`` are flattened per row, so this serves pixel space as well.
    """
    q = queries.reshape(queries.shape[0], -1).float()
    g = gallery.reshape(gallery.shape[0], -1).float()
    if q.shape[1] != g.shape[1]:
        raise ValueError(f"nearest: queries have {q.shape[1]} dimensions, the gallery {g.shape[1]}")
    if not 1 <= k <= g.shape[0]:
        raise ValueError(f"nearest: k must be between 1 and the gallery size {g.shape[0]}, got {k}")
    d = torch.cdist(q, g, compute_mode="use_mm_for_euclid_dist")  # float32, via one matrix product
    dist, idx = d.topk(k, dim=1, largest=False)
    return dist, idx


@dataclass
class Neighbours:
    """Nearest training images of each query, in feature space (fc7) and in pixel space."""

    feature_idx: torch.Tensor    # (Q, k) gallery indices, nearest first
    feature_dist: torch.Tensor
    pixel_idx: torch.Tensor
    pixel_dist: torch.Tensor

    def same_class(self, query_labels: torch.Tensor, gallery_labels: torch.Tensor) -> tuple[float, float]:
        """Share of neighbours with the query's class: (feature space, pixel space)."""
        q = torch.as_tensor(query_labels).view(-1, 1)
        g = torch.as_tensor(gallery_labels)
        return (float((g[self.feature_idx] == q).double().mean()), float((g[self.pixel_idx] == q).double().mean()))

    def overlap(self) -> float:
        """Share of feature-space neighbours that are also among the pixel-space ones."""
        shared = [len(set(f.tolist()) & set(p.tolist())) for f, p in zip(self.feature_idx, self.pixel_idx)]
        return sum(shared) / max(1, self.feature_idx.numel())


def neighbour_verdict(feature_same: float, pixel_same: float, chance: float) -> str:
    """One sentence on Figure 4's claim (close in the last hidden layer, not in pixels), from the
    shares of neighbours of the query's class in each space and the share for a random image."""
    if feature_same > pixel_same + 0.02:
        return (f"neighbours in the last hidden layer share the query's class more often than neighbours in pixel "
                f"space ({100 * feature_same:.0f}% against {100 * pixel_same:.0f}%, {100 * chance:.0f}% by chance), "
                f"as the paper's Figure 4 suggests")
    if feature_same < pixel_same - 0.02:
        return (f"neighbours in pixel space share the query's class more often than those in the last hidden layer "
                f"({100 * pixel_same:.0f}% against {100 * feature_same:.0f}%): the opposite of the paper's Figure 4, "
                f"a sign the model has learned little")
    return (f"neighbours in the last hidden layer and in pixel space share the query's class about as often "
            f"({100 * feature_same:.0f}% and {100 * pixel_same:.0f}%, {100 * chance:.0f}% by chance): "
            f"the paper's contrast does not show at this scale")


def neighbours(
    model: nn.Module, queries: torch.Tensor, gallery: torch.Tensor, k: int = 6,
    gallery_features: torch.Tensor | None = None, batch_size: int = 128,
    query_features: torch.Tensor | None = None,
) -> Neighbours:
    """Figure 4 (right): the ``k`` training images nearest to each query in fc7 and in pixels.

    ``queries`` and ``gallery`` are preprocessed image batches (the same transform for both);
    pixel distance is the Euclidean distance between those (mean-subtracted) pixel arrays.
    Pass ``gallery_features`` and ``query_features`` (from :func:`hidden_features` or
    :func:`outputs`) to avoid recomputing them.
    """
    if gallery_features is None:
        gallery_features = hidden_features(model, gallery, batch_size)
    if query_features is None:
        query_features = hidden_features(model, queries, batch_size)
    fd, fi = nearest(query_features, gallery_features, k)
    pd, pi = nearest(queries, gallery, k)
    return Neighbours(fi, fd, pi, pd)


# ---------------------------------------------------------------------------- data and the model
def stack_dataset(dataset, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``limit`` items of a ``(image, label)`` data set as ``(images, labels)`` tensors."""
    n = len(dataset) if limit is None else min(limit, len(dataset))
    images, labels = [], []
    for i in range(n):
        x, y = dataset[i]
        images.append(x)
        labels.append(int(y))
    if not images:
        raise AlexNetError("the data set is empty; check the data root and max_per_class")
    return torch.stack(images), torch.tensor(labels)


def first_per_class(labels: torch.Tensor, n: int) -> torch.Tensor:
    """Indices of the first ``n`` items of each class, in their original order."""
    seen: dict[int, int] = {}
    keep = []
    for i, y in enumerate(labels.tolist()):
        if seen.get(y, 0) < n:
            seen[y] = seen.get(y, 0) + 1
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long)


def pick_queries(labels: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """``n`` indices into ``labels``, spread over the classes (one per class in turn), seeded."""
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(labels.numel(), generator=g)
    by_class: dict[int, list[int]] = {}
    for i in order.tolist():
        by_class.setdefault(int(labels[i]), []).append(i)
    picked: list[int] = []
    classes = sorted(by_class)
    rnd = 0
    while len(picked) < min(n, labels.numel()):
        for c in classes:
            if rnd < len(by_class[c]) and len(picked) < n:
                picked.append(by_class[c][rnd])
        rnd += 1
    return torch.tensor(picked)


@dataclass
class QualitativeRun:
    """What the chapter works on: a trained model, its classes and the images it is shown."""

    model: nn.Module
    class_names: list[str]
    val_images: torch.Tensor
    val_labels: torch.Tensor
    gallery_images: torch.Tensor
    gallery_labels: torch.Tensor
    data_description: str
    synthetic: bool
    model_description: str
    history: list[dict[str, float]] = field(default_factory=list)
    train_seconds: float = 0.0
    mean: torch.Tensor | None = None   # the mean image subtracted from the inputs, for display


def _resolve_root(settings: dict[str, Any]) -> Path:
    """The data set folder; generated images (flagged as such) when none is found without a checkpoint."""
    from . import data as D
    from .data.cache import cache_dir

    try:
        return D.resolve_data_root(settings["data"], dataset=settings["dataset"])
    except AlexNetError:
        if settings.get("checkpoint") or settings["data"] is not None:
            raise
    return D.make_synthetic(cache_dir() / "synthetic-qualitative", num_classes=10, train_per_class=60,
                            val_per_class=10, size=64, seed=0)


def he_init(model: nn.Module) -> nn.Module:
    """He et al. (2015) initialisation: weights ~ N(0, 2 / fan_in), biases 0.

    Not the paper's (Section 5: N(0, 0.01^2), biases 1 or 0). The ``ci`` profile uses it because it
    keeps the signal's scale through the eight layers, so a small network learns within a minute
    on a CPU; from the paper's initialisation (or PyTorch's default) the loss stays at ln(10) for
    the first hundreds of steps.
    """
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)
    return model


def _fit(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, settings: dict[str, Any],
         val: tuple[torch.Tensor, torch.Tensor], log_every: int = 20, val_images: int = 200) -> list[dict[str, float]]:
    """A plain training loop on in-memory tensors, stopped after ``epochs`` or ``train_seconds``.

    The paper's update rule (:class:`alexnet.PaperSGD`, Section 5: momentum 0.9, weight decay
    5e-4) with the profile's learning rate and batch size; random horizontal flips (Section 4.1)
    as the only augmentation, the crops having been taken once, centrally. Every ``log_every``
    steps (and once before the first) it records the mean training loss and error since the last
    record and the top-1 and top-5 error on ``val_images`` held-out images spread over the classes.
    """
    from .optim import PaperSGD

    g = torch.Generator().manual_seed(settings["seed"])
    opt = PaperSGD(model.parameters(), lr=settings["lr"])
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    bs, n = settings["batch_size"], images.shape[0]
    step, seen, loss_sum, wrong, total = 0, 0, 0.0, 0, 0
    probe = pick_queries(val[1], min(val_images, val[1].numel()), seed=settings["seed"])

    def record() -> None:
        nonlocal seen, loss_sum, wrong
        top1, top5 = top_k(model, val[0][probe], k=5).correct(val[1][probe])
        history.append(dict(
            step=step, epoch=total / n, train_loss=loss_sum / seen, train_error=wrong / seen,
            val_top1_error=1 - float(top1.double().mean()), val_top5_error=1 - float(top5.double().mean()),
            seconds=time.perf_counter() - start,
        ))
        seen, loss_sum, wrong = 0, 0.0, 0

    record_start = time.perf_counter()
    top1, top5 = top_k(model, val[0][probe], k=5).correct(val[1][probe])
    history.append(dict(step=0, epoch=0.0, val_top1_error=1 - float(top1.double().mean()),
                        val_top5_error=1 - float(top5.double().mean()), seconds=0.0))
    start += time.perf_counter() - record_start  # the clock is for training, not for this first look
    done = False
    for _ in range(settings["epochs"]):
        order = torch.randperm(n, generator=g)
        for i in range(0, n, bs):
            model.train()
            idx = order[i : i + bs]
            x, y = images[idx], labels[idx]
            flip = torch.rand(x.shape[0], generator=g) < 0.5
            x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
            out = model(x)
            loss = F.cross_entropy(out, y)
            if not torch.isfinite(loss):
                raise AlexNetError(f"training diverged (loss {loss.item()}) at step {step}; lower lr={settings['lr']}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            total += y.numel()
            seen += y.numel()
            loss_sum += loss.item() * y.numel()
            wrong += int((out.argmax(1) != y).sum())
            done = time.perf_counter() - start > settings["train_seconds"]
            if step % log_every == 0 or done:
                record()
            if done:
                break
        if done:
            break
    if seen:
        record()
    model.eval()
    return history


def prepare(settings: dict[str, Any]) -> QualitativeRun:
    """The trained model and images for the chapter, under resolved ``settings`` (see :data:`PROFILES`).

    With ``checkpoint`` set, the model is loaded with :func:`alexnet.checkpoint.load_model`;
    otherwise a two-tower AlexNet of the profile's ``widths`` and ``fc`` (the paper's 96 conv1
    kernels in two towers of 48; adaptive pooling for small inputs) is trained here for at most
    ``epochs`` and ``train_seconds`` by a plain loop (:func:`_fit`). The held-out images and a
    gallery of training images are centre crops without augmentation, with the mean image of the
    training images loaded here subtracted (Section 2).
    """
    from . import data as D
    from .model import AlexNet

    torch.manual_seed(settings["seed"])
    if settings["checkpoint"] == "":
        raise AlexNetError("the full profile needs checkpoint=PATH, a model trained on ImageNet")
    model, data_config = None, {}
    if settings["checkpoint"]:
        from .checkpoint import load_model

        path = Path(settings["checkpoint"])
        if not path.exists():
            raise AlexNetError(f"checkpoint={str(path)!r} does not exist; train one with `python -m alexnet train`")
        model = load_model(path, device="cpu")
        data_config = dict(getattr(model, "data_config", None) or {})
    root = _resolve_root(settings)
    # a checkpoint's own preprocessing wins over the profile's
    ev = dict(resize=int(data_config.get("resize", settings["resize"])), crop=int(data_config.get("crop", settings["crop"])))
    per_class = max(settings["train_per_class"], settings["gallery_per_class"])
    if model is not None:
        # the mean image the model was trained with (Section 2): over its training images, cached
        mean_source = D.build_eval_dataset(root, "train", max_per_class=data_config.get("max_per_class"),
                                           mean_image=bool(data_config.get("mean_image", True)), **ev)
        train_ds = D.build_eval_dataset(root, "train", max_per_class=per_class, mean_image=mean_source.mean, **ev)
    else:
        train_ds = D.build_eval_dataset(root, "train", max_per_class=per_class, **ev)
    # one mean image (over the training images loaded here) for every input, as in training
    val_ds = D.build_eval_dataset(root, "val", max_per_class=settings["val_per_class"], mean_image=train_ds.mean, **ev)
    train_x, train_y = stack_dataset(train_ds)
    val_x, val_y = stack_dataset(val_ds)
    gallery = first_per_class(train_y, settings["gallery_per_class"])
    gal_x, gal_y = train_x[gallery], train_y[gallery]
    class_names = list(train_ds.class_names)
    mean, synthetic = train_ds.mean, D.is_synthetic(root)
    data_description = val_ds.description

    if model is not None:
        class_names = list(getattr(model, "class_names", None) or class_names)
        if len(class_names) != model.num_classes:
            raise AlexNetError(f"checkpoint={settings['checkpoint']!r} has {model.num_classes} classes, "
                               f"the data at {root} {len(class_names)}")
        return QualitativeRun(model, class_names, val_x, val_y, gal_x, gal_y, data_description, synthetic,
                              f"loaded from {settings['checkpoint']}", mean=mean)

    if settings["train_per_class"] < 1 or settings["epochs"] < 1:
        raise AlexNetError("without a checkpoint the model is trained here: train_per_class and epochs must be >= 1")
    chosen = first_per_class(train_y, settings["train_per_class"])
    train_x, train_y = train_x[chosen], train_y[chosen]
    if settings["init"] == "he":
        # He initialisation assumes inputs of unit variance: divide by the training images' std
        std = float(train_x.std())
        train_x, val_x, gal_x, mean = train_x / std, val_x / std, gal_x / std, mean / std
    model = AlexNet(len(train_ds.classes), widths=tuple(settings["widths"]), fc=(settings["fc"], settings["fc"]),
                    adaptive_pool=True, init="torch" if settings["init"] == "he" else settings["init"])
    if settings["init"] == "he":
        he_init(model)
    start = time.perf_counter()
    history = _fit(model, train_x, train_y, settings, (val_x, val_y))
    seconds = time.perf_counter() - start
    widths = "/".join(str(w) for w in settings["widths"])
    desc = (f"a two-tower AlexNet (conv widths {widths}, fc6/fc7 {settings['fc']}, {settings['init']} "
            f"initialisation, {settings['crop']}-pixel inputs) trained here for {history[-1]['step']} steps of "
            f"{settings['batch_size']} images ({history[-1]['epoch']:.1f} epochs over {train_x.shape[0]} images) "
            f"in {seconds:.0f} s")
    return QualitativeRun(model, class_names, val_x, val_y, gal_x, gal_y, data_description, synthetic, desc,
                          history=history, train_seconds=seconds, mean=mean)
