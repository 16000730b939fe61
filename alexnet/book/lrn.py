"""The Section 3.3 chapter (``03_3_lrn``): the constants as the paper, torch and Caffe write them, and
what LRN does to a column of activities. Needs matplotlib and pandas."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .page import PAGE_INCHES

__all__ = ["lrn_parameter_table", "lrn_figure"]


def lrn_parameter_table() -> pd.DataFrame:
    """Section 3.3's constants as the paper, torch and Caffe write them."""
    return pd.DataFrame([
        {"source": "paper (Section 3.3)", "n": "5", "α": "1e-4 × sum", "β": "0.75", "k": "2",
         "the paper's function in torch": "alexnet.LocalResponseNorm()"},
        {"source": "torch", "n": "size=5", "α": "alpha × mean", "β": "0.75", "k": "2",
         "the paper's function in torch": "nn.LocalResponseNorm(5, 5e-4, 0.75, 2)"},
        {"source": "Caffe bvlc_alexnet", "n": "local_size=5", "α": "1e-4 × mean", "β": "0.75", "k": "1",
         "the paper's function in torch": "not the same (α = 2e-5, k = 1)"},
    ])


def lrn_figure(seed: int = 0):
    """What LRN does: (left) a column of activations across 32 channels before and after; (right) the
    factor ``(k + alpha * S) ** -beta`` against the neighbourhood's sum of squares ``S``."""
    import torch

    from ..layers import local_response_norm

    g = torch.Generator().manual_seed(seed)
    a = torch.relu(torch.randn(32, generator=g)) * 20
    a[8:11] += torch.tensor([300.0, 500.0, 300.0])  # three strongly active neighbouring kernels
    a[24] += 400.0  # one isolated strong kernel
    b = local_response_norm(a.view(1, 32, 1, 1)).view(32)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(PAGE_INCHES, 3.4))
    x = np.arange(32)
    ax1.bar(x - 0.2, a.numpy(), width=0.4, label="a (after the ReLU)")
    ax1.bar(x + 0.2, (b * 2 ** 0.75).numpy(), width=0.4, label=r"$b \times 2^{0.75}$ (after LRN)")
    ax1.set(xlabel="kernel (channel) at one position", ylabel="activity")
    ax1.legend(frameon=False)
    s = np.logspace(0, 6, 200)
    for k, alpha, label in ((2, 1e-4, "paper: k = 2, α = 1e-4"), (1, 2e-5, "Caffe: k = 1, α = 2e-5")):
        ax2.semilogx(s, (k + alpha * s) ** -0.75, label=label)
    ax2.set(xlabel="sum of squares S over n = 5 kernels", ylabel="factor b / a")
    ax2.legend(frameon=False)
    fig.tight_layout()
    return fig, a, b


