"""The book's formatting: the package's one home (:mod:`alexnet.formatting`: percentages, points,
counts, durations) and the two forms only pages need, dates and commits.

Every chapter helper of :mod:`alexnet.book` formats through these, so a number reads the same on
every page (``12.3%``, ``+1.23`` points, ``3 h 02 min``, ``2026-11-29 14:56 UTC``).
"""
from __future__ import annotations

import re

from ..formatting import count, duration, pct, points
from ..provenance import is_dirty

__all__ = ["pct", "points", "count", "duration", "day", "short_commit", "short_device"]


def day(stamp: str | None) -> str:
    """An ISO time stamp as ``2026-11-29 14:56 UTC``; ``n/a`` for none."""
    return stamp[:16].replace("T", " ") + " UTC" if stamp else "n/a"


def short_commit(commit: str | None) -> str:
    """A git commit as its first ten characters, ``-dirty`` kept when the tree had uncommitted changes."""
    if not commit:
        return "unrecorded"
    return commit[:10] + ("-dirty" if is_dirty(commit) else "")


def short_device(described: str) -> str:
    """A provenance device (:func:`alexnet.provenance.device_description`) in a few words:
    ``"2-core CPU"`` or ``"NVIDIA H200 GPU"``."""
    cpu = re.fullmatch(r"CPU .*?\((\d+) cores\).*", described)
    if cpu:
        return f"{cpu.group(1)}-core CPU"
    if " (CUDA " in described:
        return described.split(" (CUDA ", 1)[0] + " GPU"
    if described.startswith("CPU"):
        return "CPU"
    return described
