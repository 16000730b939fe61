"""The data pipeline of the paper (Sections 2 and 4.1): data sets, preprocessing, augmentation.

>>> from alexnet.data import resolve_data_root, build_datasets, make_loader
>>> bundle = build_datasets(resolve_data_root(dataset="cifar10"), resize=32, crop=28)
>>> loader = make_loader(bundle.train, 128, train=True)

One input path per purpose, each ending in the same Section 4.1 augmentation (:mod:`.augment`):

* per image in DataLoader workers (the training loop's ``--loader images``): :mod:`.datasets`
  (``build_datasets``), :mod:`.transforms` (the paper's per-image transforms), :mod:`.loader`;
* whole batches from a uint8 store (the training loop's default): :mod:`.store` (the store, its
  cache, the prefetching batches), :mod:`.augment` (batched crop, mirror and lighting on the device);
* a data set held in memory as one tensor (the CIFAR-10 ablations): :mod:`.tensors`, with
  :mod:`.augment`.

Also: :mod:`.sampler` (the resumable data order and per-item seeds), :mod:`.images` (decoding
messy files), :mod:`.folders` (the ILSVRC layout), :mod:`.stats` (mean image, PCA, cached),
:mod:`.root` (finding data), :mod:`.synthetic` (the offline set), :mod:`.prepare` (the 256x256
copy), :mod:`.imagenet_val` (the flat validation folder), :mod:`.packed` and :mod:`.cifar` (other
file formats), :mod:`.gpu_pipeline` (the pipeline's speed on a device, for the benchmarks).
"""
from .augment import PCALighting, pca_lighting
from .datasets import DataBundle, PaperDataset, build_datasets, build_eval_dataset
from .images import BadImageError, load_image, resize_centre_crop
from .loader import default_workers, make_loader
from .root import resolve_data_root
from .stats import IMAGENET_PCA, PCAStats, mean_image, pca_stats
from .synthetic import is_synthetic, make_synthetic
from .transforms import CentreCrop, RandomCropFlip, TenCrop, augmentation_factor

__all__ = [
    "BadImageError", "CentreCrop", "DataBundle", "IMAGENET_PCA", "PCALighting", "PCAStats", "PaperDataset",
    "RandomCropFlip", "TenCrop", "augmentation_factor", "build_datasets", "build_eval_dataset",
    "default_workers", "is_synthetic", "load_image", "make_loader", "make_synthetic", "mean_image",
    "pca_lighting", "pca_stats", "resize_centre_crop", "resolve_data_root",
]
