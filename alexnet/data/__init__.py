"""The data pipeline of the paper (Sections 2 and 4.1): data sets, preprocessing, augmentation.

>>> from alexnet.data import resolve_data_root, build_datasets, make_loader
>>> bundle = build_datasets(resolve_data_root(dataset="cifar10"), resize=32, crop=28)
>>> loader = make_loader(bundle.train, 128, train=True)

Modules: :mod:`.images` (decoding messy files), :mod:`.folders` (the ILSVRC layout),
:mod:`.transforms` (the paper's transforms), :mod:`.stats` (mean image, PCA, cached),
:mod:`.datasets` (``build_datasets``), :mod:`.loader`, :mod:`.root` (finding data),
:mod:`.synthetic` (the offline set), :mod:`.prepare` (the 256x256 copy), :mod:`.imagenet_val`
(the flat validation folder), :mod:`.bench` (images per second).
"""
from .datasets import DataBundle, PaperDataset, build_datasets, build_eval_dataset
from .images import BadImageError, load_image, resize_centre_crop
from .loader import default_workers, make_loader
from .root import resolve_data_root
from .stats import IMAGENET_PCA, PCAStats, mean_image, pca_stats
from .synthetic import is_synthetic, make_synthetic
from .transforms import CentreCrop, PCALighting, RandomCropFlip, TenCrop, augmentation_factor, pca_lighting

__all__ = [
    "BadImageError", "CentreCrop", "DataBundle", "IMAGENET_PCA", "PCALighting", "PCAStats", "PaperDataset",
    "RandomCropFlip", "TenCrop", "augmentation_factor", "build_datasets", "build_eval_dataset",
    "default_workers", "is_synthetic", "load_image", "make_loader", "make_synthetic", "mean_image",
    "pca_lighting", "pca_stats", "resize_centre_crop", "resolve_data_root",
]
