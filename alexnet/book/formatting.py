"""The book's one home for formatting numbers: percentages, points, counts, durations, dates, commits.

Every chapter helper of :mod:`alexnet.book` formats through these, so a number reads the same on
every page (``12.3%``, ``+1.23`` points, ``3 h 02 min``, ``2026-11-29 14:56 UTC``). Values that are
missing or not finite read ``n/a``.
"""
from __future__ import annotations

import math

__all__ = ["pct", "points", "count", "duration", "day", "short_commit"]


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def pct(x: float | None, digits: int = 1) -> str:
    """A fraction as a percentage (``0.123`` -> ``12.3%``); ``n/a`` for none."""
    return f"{100 * x:.{digits}f}%" if _finite(x) else "n/a"


def points(x: float | None, digits: int = 2, sign: bool = True) -> str:
    """A difference of two error fractions in percentage points (``0.0123`` -> ``+1.23``)."""
    if not _finite(x):
        return "n/a"
    return f"{100 * x:+.{digits}f}" if sign else f"{100 * x:.{digits}f}"


def count(n: float, one: str, many: str | None = None) -> str:
    """``"1 seed"``, ``"12 training runs"``: a number with its noun, singular for one."""
    return f"{n:,g} {one if n == 1 else (many or one + 's')}"


def duration(seconds: float | None) -> str:
    """``"45 s"``, ``"12 min 05 s"``, ``"3 h 02 min"``; ``n/a`` for none."""
    if not _finite(seconds):
        return "n/a"
    whole = int(round(seconds))
    hours, minutes = divmod(whole // 60, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {whole % 60:02d} s" if minutes else f"{whole} s"


def day(stamp: str | None) -> str:
    """An ISO time stamp as ``2026-11-29 14:56 UTC``; ``n/a`` for none."""
    return stamp[:16].replace("T", " ") + " UTC" if stamp else "n/a"


def short_commit(commit: str | None) -> str:
    """A git commit as its first ten characters, ``-dirty`` kept when the tree had uncommitted changes."""
    from ..provenance import is_dirty

    if not commit:
        return "unrecorded"
    return commit[:10] + ("-dirty" if is_dirty(commit) else "")
