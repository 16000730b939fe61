"""DataLoaders with sensible defaults for the paper's pipeline.

Workers decode and augment in parallel (``ALEXNET_WORKERS`` or ``min(8, cores - 1)``); memory is
pinned when CUDA is available; workers persist across epochs; training shuffles with a seeded
generator and drops the last incomplete batch (the paper's batches are all 128 images).
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..provenance import usable_cores

__all__ = ["default_workers", "make_loader"]


def default_workers() -> int:
    """``$ALEXNET_WORKERS`` when set, else ``min(8, cores - 1)`` (at least 0)."""
    env = os.environ.get("ALEXNET_WORKERS")
    if env is not None:
        return max(0, int(env))
    return max(0, min(8, usable_cores() - 1))


def _seed_worker(worker_id: int) -> None:
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def make_loader(
    dataset: Dataset,
    batch_size: int,
    *,
    train: bool,
    workers: int | None = None,
    seed: int = 0,
    sampler=None,
    drop_last: bool | None = None,
) -> DataLoader:
    """A DataLoader for ``dataset``: shuffled with ``seed`` and ``drop_last`` for training (when there is
    more than one batch; unless a
    ``sampler`` is given), in order for evaluation; pinned memory with CUDA, persistent workers."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    workers = default_workers() if workers is None else workers
    generator = torch.Generator().manual_seed(seed)
    kwargs = {}
    if workers > 0:
        kwargs.update(persistent_workers=True, prefetch_factor=4, worker_init_fn=_seed_worker)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=train and sampler is None,
        sampler=sampler,
        num_workers=workers,
        pin_memory=torch.cuda.is_available(),
        drop_last=(train and len(dataset) > batch_size) if drop_last is None else drop_last,
        generator=generator,
        **kwargs,
    )
