"""Keep a CPU training step's large tensors in the heap instead of fresh memory maps.

glibc's ``malloc`` serves any block larger than its mmap threshold (at most 32 MiB on 64-bit
Linux) with a new ``mmap`` and hands it back with ``munmap`` when it is freed. A training step of
the paper's network (Section 3) at batch 32 in float32 has activations of that size at conv1
(32 x 96 x 55 x 55 floats is 37 MB), so every step maps them afresh and the kernel zeroes their
pages again on first touch: a page fault every 4 KiB, in every step, inside the ReLU, LRN and
pooling that first write them. ``mallopt(M_MMAP_MAX, 0)`` makes malloc take every block from the
heap, and a high ``M_TRIM_THRESHOLD`` keeps freed memory there, so the next step reuses the same
pages. The arithmetic is untouched (PyTorch aligns every CPU tensor to 64 bytes either way); only
the time changes, measured by ``python -m alexnet bench model`` (``results/bench/cpu-alloc*.json``).

The same setting from outside a process: ``GLIBC_TUNABLES=glibc.malloc.mmap_max=0:\
glibc.malloc.trim_threshold=4294967296``.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

#: mallopt's parameter numbers (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
#: Freed heap memory kept before malloc returns any of it to the system (mallopt takes an int: 2 GiB)
TRIM_THRESHOLD = 2**31 - 1

_kept = False


def keep_large_blocks_in_heap() -> bool:
    """Turn off glibc's mmap for large blocks in this process, once; True where it took effect.

    Does nothing (False) where the C library is not glibc (macOS, Windows, musl). It cannot be
    undone for the process, which is why only the command line and ``train`` on a CPU call it.
    """
    global _kept
    if _kept:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _kept = bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _kept


def large_blocks_in_heap() -> bool:
    """Whether this process turned glibc's mmap for large blocks off (for the benchmark's record)."""
    return _kept
