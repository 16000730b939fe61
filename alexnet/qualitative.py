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

The figures are drawn by :mod:`alexnet.viz`. The book shows a full run's committed results first
(:mod:`alexnet.export_run` computes them with the functions here); the chapter's rerun, its
profiles and its model (trained by :func:`alexnet.training.train`) are in :mod:`alexnet.book.qualitative`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .errors import AlexNetError

__all__ = [
    "colour_specificity",
    "random_kernel_baseline",
    "conv1_kernels",
    "TowerColour",
    "tower_colour_stats",
    "tower_gap_pvalue",
    "colour_verdict",
    "Predictions",
    "top_k",
    "model_outputs",
    "outputs",
    "predictions",
    "hidden_features",
    "nearest",
    "Neighbours",
    "neighbours",
    "neighbour_verdict",
    "pick_queries",
    "stack_dataset",
]

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
    return (f"tower {lo.tower}'s kernels are less colour-specific than tower {hi.tower}'s ({lo.mean:.2f} against "
            f"{hi.mean:.2f}), but a random split of the kernels gives a gap this large with probability "
            f"p = {pvalue:.3f}, not below {level:g}: the paper's specialisation does not appear clearly at this scale")


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


def model_outputs(model: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(logits, hidden)`` of one batch in the model's current mode: ``hidden`` is fc7's output
    (Section 6.1's last hidden layer). The fast path (:func:`alexnet.fast.features`, the
    same function) is used when the model has it switched on."""
    from . import fast

    on_fast_path = getattr(model, "fast", False) and fast.path_ok(model)
    return model.classifier(fast.features(model, x) if on_fast_path else model.features(x), return_hidden=True)


@torch.no_grad()
def outputs(model: nn.Module, images: torch.Tensor, batch_size: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """``(logits, hidden)`` of each image in one pass, in evaluation mode (dropout off, with the
    Section 4.2 test-time scaling): ``hidden`` is the last hidden layer, fc7's output (4096-d in the
    paper), as :func:`model_outputs` gives it."""
    if images.dim() != 4:
        raise ValueError(f"expected a batch (N, 3, H, W) of images, got shape {tuple(images.shape)}")
    was_training = model.training
    model.eval()
    logits, hidden = [], []
    try:
        device = next(model.parameters()).device
        for b in _batches(images, batch_size):
            z, h = model_outputs(model, b.to(device))
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
