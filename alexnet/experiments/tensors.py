"""Where the CIFAR-10 ablations' in-memory data used to live; kept so that existing imports
(``alexnet.experiments.tensors``: the experiments, the chapters, ``scripts/gpu_experiments.sh``) keep
working. The loading is :mod:`alexnet.data.tensors`, the batched augmentation :mod:`alexnet.data.augment`."""
from ..data.augment import centre_crop, normalise, random_crop_flip
from ..data.augment import random_lighting as pca_lighting  # the name it had here; not alexnet.data.pca_lighting
from ..data.cache import cache_dir
from ..data.tensors import TensorData, channel_stats, load_cifar10, load_folder_tensors, rgb_pca

__all__ = [
    "TensorData", "load_folder_tensors", "load_cifar10", "cache_dir", "random_crop_flip", "centre_crop",
    "pca_lighting", "normalise", "rgb_pca", "channel_stats",
]
