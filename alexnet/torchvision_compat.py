"""torchvision's one-tower AlexNet layout, built from :class:`alexnet.AlexNet`.

torchvision's ``alexnet`` follows Krizhevsky's later "one weird trick" variant rather than the
paper: one tower with 64/192/384/256/256 kernels, conv1 padded by 2, no LRN, an adaptive 6x6
average pool, and (inverted) dropout on the *inputs* of fc6 and fc7 where the paper drops their
*outputs* (Section 4.2). :func:`torchvision_layout` builds that network with our class, and
:func:`load_torchvision_state_dict` loads a ``torchvision.models.alexnet`` state dict into it, so
published torchvision weights can be evaluated with this package.
"""
from __future__ import annotations

from collections.abc import Mapping

import torch

from .model import AlexNet

__all__ = ["torchvision_layout", "load_torchvision_state_dict", "TORCHVISION_KEYS"]

#: torchvision's parameter prefixes and ours (the single tower is ``towers.0``).
TORCHVISION_KEYS = {
    "features.0": "towers.0.conv1",
    "features.3": "towers.0.conv2",
    "features.6": "towers.0.conv3",
    "features.8": "towers.0.conv4",
    "features.10": "towers.0.conv5",
    "classifier.1": "towers.0.fc6",
    "classifier.4": "towers.0.fc7",
    "classifier.6": "towers.0.fc8",
}


def torchvision_layout(num_classes: int = 1000, dropout: float = 0.5) -> AlexNet:
    """An :class:`AlexNet` with exactly ``torchvision.models.alexnet``'s layers and arithmetic."""
    return AlexNet(
        num_classes, towers=1, widths=(64, 192, 384, 256, 256), lrn=False, dropout=dropout,
        dropout_mode="inverted", dropout_on="inputs", conv1_padding=2, adaptive_pool=True,
        init="torch",
    )


def load_torchvision_state_dict(model: AlexNet, state_dict: Mapping[str, torch.Tensor]) -> AlexNet:
    """Load a ``torchvision.models.alexnet`` state dict into ``model`` (see :func:`torchvision_layout`).

    Raises ``KeyError`` naming any key that is missing or unexpected, and ``ValueError`` naming a
    tensor whose shape does not fit.
    """
    mapped: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        prefix, _, leaf = key.rpartition(".")
        if prefix not in TORCHVISION_KEYS:
            raise KeyError(f"unexpected key {key!r}: not a parameter of torchvision's alexnet")
        mapped[f"{TORCHVISION_KEYS[prefix]}.{leaf}"] = value
    own = model.state_dict()
    missing = sorted(set(own) - set(mapped))
    if missing:
        raise KeyError(f"torchvision state dict lacks {missing}")
    for key, value in mapped.items():
        if own[key].shape != value.shape:
            raise ValueError(f"{key}: checkpoint has shape {tuple(value.shape)}, model has {tuple(own[key].shape)}"
                             " (build the model with alexnet.torchvision_layout())")
    model.load_state_dict(mapped)
    return model
