"""Training-pipeline images per second on the CPU: ``python -m alexnet bench loader`` (this module's
own options) and the CPU part of ``python -m alexnet bench data`` (:mod:`alexnet.bench`).

Measures decode (``torchvision.io``), the Section 2 rescale and centre crop, and the Section 4.1
random crop, mirror, mean subtraction and PCA lighting, through :func:`make_loader` with a given
number of worker processes, on the images of a folder. (GPU-side decoding is measured by the fast
path's ``alexnet.data.gpu_pipeline``.) The command is in :mod:`alexnet.cli.bench`.
"""
from __future__ import annotations

import platform
import statistics
import time
from pathlib import Path

import torch

from ..errors import AlexNetError
from ..provenance import cpu_model, load_average, usable_cores

__all__ = ["pipeline_rate", "machine_info", "default_root"]


def machine_info() -> dict:
    """CPU model, cores and library versions, for the record."""
    import PIL
    import torchvision

    cpu, usable, load = cpu_model(), usable_cores(), load_average()
    return {"cpu": cpu, "cores": usable, "load_average_1_5_15_min": load, "platform": platform.platform(), "python": platform.python_version(),
            "torch": torch.__version__, "torchvision": torchvision.__version__, "pillow": PIL.__version__,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def _bench_dataset(root: Path, resize: int, crop: int):
    from ..data.datasets import FolderImages, PaperDataset
    from ..data.folders import find_split, scan_split
    from ..data.stats import IMAGENET_MEAN_RGB, IMAGENET_PCA
    from ..data.transforms import PCALighting, RandomCropFlip

    split_dir = None
    for split in ("train", "val"):
        try:
            split_dir = find_split(root, split)
            break
        except AlexNetError:
            continue
    if split_dir is None:
        raise AlexNetError(f"{root} holds no train/ or val/ folder of images to benchmark")
    samples, classes = scan_split(split_dir)
    mean = torch.tensor(IMAGENET_MEAN_RGB).view(3, 1, 1) * 255.0  # same cost as the mean image
    tf = RandomCropFlip(mean, crop, scale=255.0, lighting=PCALighting(IMAGENET_PCA, scale=255.0))
    return PaperDataset(FolderImages(samples, resize, root), tf, classes, f"{split_dir}"), split_dir


def pipeline_rate(root, *, workers: int, batch_size: int = 128, batches: int = 10, crop: int = 224,
                  resize: int = 256) -> dict:
    """Images per second of the training pipeline on the CPU, total and per worker.

    One warm-up batch (worker start-up) is not timed; then ``batches`` batches of ``batch_size``
    images drawn at random with replacement from the folder's training split (or its validation
    split when there is no training split).
    """
    from ..data.loader import make_loader

    root = Path(root)
    ds, split_dir = _bench_dataset(root, resize, crop)
    sampler = torch.utils.data.RandomSampler(ds, replacement=True, num_samples=(batches + 1) * batch_size,
                                             generator=torch.Generator().manual_seed(0))
    loader = make_loader(ds, batch_size, train=True, workers=workers, sampler=sampler, drop_last=True)
    it = iter(loader)
    next(it)
    start = time.perf_counter()
    n = 0
    for x, _ in it:
        n += x.shape[0]
    seconds = time.perf_counter() - start
    sizes = [ds.raw.paths[i].stat().st_size for i in range(min(50, len(ds)))]
    rate = n / seconds
    return {
        "what": "training pipeline on the CPU: decode + rescale/centre crop + random crop, flip, mean, PCA lighting",
        "folder": str(split_dir), "images_in_folder": len(ds), "median_file_kb": round(statistics.median(sizes) / 1024, 1),
        "workers": workers, "batch_size": batch_size, "batches": batches, "resize": resize, "crop": crop,
        "images": n, "seconds": round(seconds, 3), "images_per_s": round(rate, 1),
        "images_per_s_per_worker": round(rate / max(1, workers), 1),
    }


def default_root(data: str | None) -> Path:
    from ..data.cache import cache_dir
    from ..data.root import resolve_data_root
    from ..data.synthetic import make_synthetic

    if data is not None:
        return resolve_data_root(data, "imagenet")
    for name in ("imagenet", "imagenet-sample"):
        try:
            return resolve_data_root(None, name)
        except AlexNetError:
            pass
    return make_synthetic(cache_dir() / "synthetic-bench", num_classes=4, train_per_class=64, val_per_class=1,
                          size=384)
