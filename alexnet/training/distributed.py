"""Data-parallel training on several processes (``torchrun``), NCCL on GPUs and gloo on CPUs.

The paper trained one network split over two GPUs (Section 3.2: model parallelism). Today the
usual way to use several GPUs is data parallelism: every process holds a whole replica, sees its
slice of each global batch, and the gradients are averaged before each update, so the update is
the one a single process would compute on the whole global batch. Both can be combined: with
``--tower-devices split`` each replica spans two GPUs with the paper's two-tower placement.

Launching on one machine (``N`` processes, one per GPU)::

    torchrun --standalone --nproc_per_node=N -m alexnet train --data DIR --out RUN ...

On several machines, start the same command on every machine with torchrun's rendezvous
(``c10d`` backend); ``--nnodes`` is the number of machines, ``--rdzv-endpoint`` the address and a
free port of one of them (the same on all machines), ``--rdzv-id`` any job name shared by all::

    torchrun --nnodes=2 --nproc_per_node=8 --rdzv-backend=c10d \\
        --rdzv-endpoint=host0.example.org:29400 --rdzv-id=alexnet-run1 \\
        -m alexnet train --data /data/imagenet --out /shared/runs/run1 --batch-size 128

The machines must reach each other on that port (and NCCL on the interfaces it picks:
``NCCL_SOCKET_IFNAME`` selects one), the data set must be at the same path on every machine, and
``--out`` should be on a shared file system if you want to resume from another machine (only
rank 0 writes). ``--batch-size`` is the *global* batch; it must divide by the number of processes.
torchrun sets ``RANK``, ``LOCAL_RANK`` and ``WORLD_SIZE``; :func:`setup` reads them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["DistInfo", "setup", "cleanup", "all_reduce_sum", "barrier", "broadcast_object"]


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands: its rank, the number of processes, its local GPU index."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Only rank 0 writes files and prints."""
        return self.rank == 0


def setup(device: str = "auto") -> DistInfo:
    """Join the process group torchrun prepared (if any): NCCL on CUDA, gloo otherwise.

    Without ``WORLD_SIZE`` > 1 in the environment this is a no-op returning a single-process
    :class:`DistInfo`.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device != "cpu" and not str(device).startswith("cpu")
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(local % torch.cuda.device_count())
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return DistInfo(rank, world, local, backend)


def cleanup(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(values: list[float], info: DistInfo, device: torch.device | str = "cpu") -> list[float]:
    """Sum a list of numbers over all processes (float64); identity in a single process."""
    if not info.enabled:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.cpu().tolist()


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def broadcast_object(obj, info: DistInfo):
    """Rank 0's ``obj`` on every rank."""
    if not info.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]
