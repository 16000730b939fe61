"""The package's one home for writing numbers as words: percentages, points, counts, durations.

The library (training logs, export READMEs) and the book layer format through these, so a number
reads the same everywhere (``12.3%``, ``+1.23`` points, ``3 h 02 min``, ``0:03:12`` on a progress
bar). Values that are missing or not finite read ``n/a`` (``?`` on a clock).
"""
from __future__ import annotations

import math

__all__ = ["pct", "points", "count", "duration", "clock"]


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def pct(x: float | None, digits: int = 1, missing: str = "n/a") -> str:
    """A fraction as a percentage (``0.123`` -> ``12.3%``); ``missing`` for none."""
    return f"{100 * x:.{digits}f}%" if _finite(x) else missing


def points(x: float | None, digits: int = 2, sign: bool = True) -> str:
    """A difference of two error fractions in percentage points (``0.0123`` -> ``+1.23``)."""
    if not _finite(x):
        return "n/a"
    return f"{100 * x:+.{digits}f}" if sign else f"{100 * x:.{digits}f}"


def count(n: float, one: str, many: str | None = None) -> str:
    """``"1 seed"``, ``"12 training runs"``: a number with its noun, singular for one."""
    return f"{n:,g} {one if n == 1 else (many or one + 's')}"


def duration(seconds: float | None) -> str:
    """``"45 s"``, ``"12 min 05 s"``, ``"3 h 02 min"`` (rounded to the second); ``n/a`` for none."""
    if not _finite(seconds):
        return "n/a"
    whole = int(round(seconds))
    hours, minutes = divmod(whole // 60, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {whole % 60:02d} s" if minutes else f"{whole} s"


def clock(seconds: float | None) -> str:
    """``"1:02:03"`` (hours, minutes, seconds; truncated to the second), as a progress bar shows time
    left; ``?`` when unknown."""
    if not _finite(seconds):
        return "?"
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
