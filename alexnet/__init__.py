"""alexnet: a faithful, runnable reproduction of Krizhevsky, Sutskever and Hinton (NIPS 2012).

``import alexnet`` needs torch, torchvision, numpy and Pillow only; the book layer
(:mod:`alexnet.book`, the ``[book]`` extra) is imported by the chapters, never by the library.
"""
from .layers import LocalResponseNorm, PaperDropout, local_response_norm
from .model import AlexNet
from .optim import PaperSGD
from .small_nets import CifarNet
from .summary import count_parameters, summary
from .torchvision_compat import load_torchvision_state_dict, torchvision_layout
from .training import TrainConfig, load_model

from .provenance import PACKAGE_VERSION as __version__

__all__ = [
    "AlexNet",
    "CifarNet",
    "LocalResponseNorm",
    "PaperDropout",
    "PaperSGD",
    "TrainConfig",
    "count_parameters",
    "load_model",
    "load_torchvision_state_dict",
    "local_response_norm",
    "summary",
    "torchvision_layout",
]
