"""A data order that can be resumed mid-epoch, and augmentation that does not depend on history.

For a run that is killed and resumed to end bit-for-bit where an uninterrupted run ends, every
random choice must be a function of the checkpointed position, not of what happened before:

* :class:`ResumableSampler` draws epoch ``e``'s order from a generator seeded with
  ``(seed, e)``, cuts it into global batches (the last partial batch is dropped, as SGD over
  fixed-size minibatches of Section 5 implies), gives each of ``world_size`` processes its slice
  of every global batch, and can start at any batch of the epoch.
* Each index it yields travels with its own seed (``(seed, epoch, index)``); :class:`SeededDataset`
  seeds the random number generators with it just for that item, so the random crop, flip and PCA
  lighting of Section 4.1 are the same whichever worker process loads the item and whenever.
"""
from __future__ import annotations

import random
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

__all__ = ["ResumableSampler", "SeededDataset", "derive_seed"]


def derive_seed(*parts: int) -> int:
    """A 63-bit seed that depends on every integer in ``parts`` (numpy's SeedSequence hash)."""
    words = np.random.SeedSequence([int(p) & 0xFFFFFFFF for p in parts]).generate_state(2, np.uint32)
    return int(words[0]) << 31 ^ int(words[1])


class ResumableSampler(Sampler):
    """Indices of one epoch, shuffled from ``(seed, epoch)``, for one rank, from a given batch.

    Args:
        length: number of items in the data set.
        batch_size: the *global* batch (all ranks together); must divide by ``world_size``.
        seed: run seed.
        shuffle: False keeps the data set's order (validation).
        rank, world_size: this process's slice of each global batch (distributed training).
        drop_last: drop the last incomplete global batch.
        steps_per_epoch: use only the first this-many batches of every epoch (quick runs).

    Yields ``(index, item_seed)`` pairs for :class:`SeededDataset`. Call :meth:`set_position`
    before iterating an epoch.
    """

    def __init__(self, length: int, batch_size: int, seed: int = 0, *, shuffle: bool = True,
                 rank: int = 0, world_size: int = 1, drop_last: bool = True,
                 steps_per_epoch: int | None = None) -> None:
        if batch_size % world_size:
            raise ValueError(f"batch size {batch_size} does not divide over {world_size} processes")
        if drop_last and length < batch_size:
            raise ValueError(f"the data set has {length} items, fewer than one batch of {batch_size}")
        self.length, self.batch_size, self.seed, self.shuffle = length, batch_size, seed, shuffle
        self.rank, self.world_size, self.drop_last = rank, world_size, drop_last
        self.local_batch = batch_size // world_size
        self.steps_per_epoch = steps_per_epoch
        self.epoch, self.start_batch = 0, 0

    def num_batches(self) -> int:
        """Global batches per epoch."""
        n = self.length // self.batch_size if self.drop_last else -(-self.length // self.batch_size)
        return min(n, self.steps_per_epoch) if self.steps_per_epoch else n

    def set_position(self, epoch: int, start_batch: int = 0) -> None:
        """Iterate epoch ``epoch`` from its batch ``start_batch`` (0-based)."""
        self.epoch, self.start_batch = epoch, start_batch

    def order(self, epoch: int) -> torch.Tensor:
        if not self.shuffle:
            return torch.arange(self.length)
        g = torch.Generator().manual_seed(derive_seed(self.seed, 0x5A3, epoch))
        return torch.randperm(self.length, generator=g)

    def batches(self) -> Iterator[tuple[int, list[int]]]:
        """``(batch number, this rank's indices)`` of the current epoch from its start batch: the
        same indices :meth:`__iter__` yields, a batch at a time (for loaders that read and augment
        whole batches, :class:`alexnet.data.store.StoreBatches`)."""
        order = self.order(self.epoch).tolist()
        for b in range(self.start_batch, self.num_batches()):
            lo = b * self.batch_size + self.rank * self.local_batch
            yield b, order[lo:min(lo + self.local_batch, self.length)]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for _, indices in self.batches():
            for i in indices:
                yield i, derive_seed(self.seed, 0xA06, self.epoch, i)

    def __len__(self) -> int:
        return max(0, self.num_batches() - self.start_batch) * self.local_batch


class SeededDataset(Dataset):
    """Loads ``dataset[index]`` with the random generators seeded from the item's own seed.

    Accepts ``(index, seed)`` keys from :class:`ResumableSampler` (plain integer keys load without
    seeding). The generators of the calling process (torch, numpy, ``random``) are restored
    afterwards, so with ``workers=0`` the main process's state is untouched.
    """

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)  # type: ignore[arg-type]

    def __getattr__(self, name: str):
        if name == "dataset":
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, key):
        if isinstance(key, (tuple, list)):
            index, seed = key
            torch_state, np_state, py_state = torch.get_rng_state(), np.random.get_state(), random.getstate()
            torch.default_generator.manual_seed(seed)  # CPU only: CUDA's generator is not ours
            np.random.seed(seed & 0xFFFFFFFF)
            random.seed(seed)
            try:
                return self.dataset[index]
            finally:
                torch.set_rng_state(torch_state)
                np.random.set_state(np_state)
                random.setstate(py_state)
        return self.dataset[key]
