"""The paper's building blocks that PyTorch does not provide with the paper's semantics.

* :class:`LocalResponseNorm` -- Section 3.3, with ``alpha`` as the paper writes it.
* :class:`PaperDropout` -- Section 4.2, zeroing outputs at train time and halving them at test
  time (the paper's wording), with inverted dropout as an option.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LocalResponseNorm", "PaperDropout", "local_response_norm"]


def local_response_norm(
    x: torch.Tensor, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0
) -> torch.Tensor:
    """Section 3.3 of the paper, across channels (dimension 1)::

        b[i] = a[i] / (k + alpha * sum_{j=max(0, i-n/2)}^{min(N-1, i+n/2)} a[j]^2) ** beta

    ``alpha`` is the paper's: it multiplies the plain *sum* of squares. ``torch.nn.LocalResponseNorm``
    and Caffe multiply the *mean* (they divide alpha by ``size``), so the paper's ``alpha=1e-4``
    is torch's ``alpha=5e-4`` at ``size=5``. This reference path delegates to
    ``torch.nn.functional.local_response_norm`` with ``alpha * size``; the window is
    ``size // 2`` channels before and ``(size - 1) // 2`` after, i.e. the paper's ``i +- n/2``
    for odd ``n``.
    """
    if x.dim() < 3:
        raise ValueError(f"local_response_norm expects (N, C, ...) input, got shape {tuple(x.shape)}")
    return F.local_response_norm(x, size, alpha=alpha * size, beta=beta, k=k)


class LocalResponseNorm(nn.Module):
    """Local response normalisation with the paper's parameters (Section 3.3).

    Defaults are the paper's: ``n=5, alpha=1e-4, beta=0.75, k=2``. Note that ``alpha`` is **not**
    divided by ``size`` (torch and Caffe divide it).
    """

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0) -> None:
        super().__init__()
        if size < 1:
            raise ValueError(f"LocalResponseNorm: size must be >= 1, got {size}")
        if k <= 0 and beta != 0:
            raise ValueError(f"LocalResponseNorm: k must be > 0 so the denominator is positive, got {k}")
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return local_response_norm(x, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k} (paper's alpha)"


class PaperDropout(nn.Module):
    """Dropout as Section 4.2 describes it.

    ``mode="paper"``: while training each output is zeroed with probability ``p`` and left
    unscaled; at test time every output is multiplied by ``1 - p`` (0.5 in the paper).
    ``mode="inverted"``: the modern equivalent (``torch.nn.Dropout``): survivors are scaled by
    ``1 / (1 - p)`` while training and the test-time pass is the identity. Both give the same
    expected activation at train time relative to test time.
    """

    def __init__(self, p: float = 0.5, mode: str = "paper") -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"PaperDropout: p must be in [0, 1), got {p}")
        if mode not in ("paper", "inverted"):
            raise ValueError(f"PaperDropout: mode must be 'paper' or 'inverted', got {mode!r}")
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.p == 0.0:
            return x
        if self.mode == "inverted":
            return F.dropout(x, self.p, self.training)
        if self.training:
            keep = torch.empty_like(x).bernoulli_(1.0 - self.p)
            return x * keep
        return x * (1.0 - self.p)

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode!r}"
