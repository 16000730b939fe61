"""Timing on a shared machine: steps of several candidates interleaved, medians and spread.

A CPU's step time swings by a third from one step to the next and keeps rising for several steps
after the start (``/work/shared/MEASURED.md``); other jobs on the machine add their own load. So
the candidates of one comparison (ours and torchvision's alexnet, the training loop and its bare
step) are timed in alternation, A B B A A B ..., after a warm-up of each: a slow patch of the
machine falls on both alike. Each figure is the median of its rounds with its interquartile range,
and a ratio is the median of the per-round ratios (each round's two timings lie seconds apart).
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

__all__ = ["interleaved_times", "spread", "ratio_of_rounds", "rate_row"]


def _sync(device: torch.device | None) -> None:
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved_times(steppers: dict[str, Callable[[], None]], *, rounds: int, warmup: int, steps: int = 1,
                      device: torch.device | None = None,
                      on_error: Callable[[str, Exception], None] | None = None) -> dict[str, list[float]]:
    """Seconds per round of each stepper: ``warmup`` untimed rounds, then ``rounds`` timed rounds
    of ``steps`` calls each, the steppers' order reversed every other round (A B, B A, ...).

    A stepper that raises is dropped (``on_error`` is told) and the others go on.
    """
    live = dict(steppers)
    times: dict[str, list[float]] = {name: [] for name in steppers}
    for r in range(warmup + rounds):
        order = list(live) if r % 2 == 0 else list(live)[::-1]
        for name in order:
            try:
                _sync(device)
                start = time.perf_counter()
                for _ in range(steps):
                    live[name]()
                _sync(device)
                if r >= warmup:
                    times[name].append(time.perf_counter() - start)
            except Exception as err:  # one failing candidate must not lose the others
                live.pop(name)
                times[name] = []
                if on_error is not None:
                    on_error(name, err)
                else:
                    raise
    return times


def spread(values: list[float]) -> dict[str, float]:
    """Median, first and third quartiles and the relative interquartile range of ``values``."""
    med = statistics.median(values)
    if len(values) >= 2:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:
        q1 = q3 = med
    return {"median": med, "q1": q1, "q3": q3, "iqr_rel": (q3 - q1) / med if med else 0.0}


def ratio_of_rounds(numerator: list[float], denominator: list[float]) -> dict[str, float]:
    """Spread of the per-round ratios ``numerator[i] / denominator[i]`` (rounds measured together)."""
    pairs = [a / b for a, b in zip(numerator, denominator) if b > 0]
    return spread(pairs) if pairs else {}


def rate_row(seconds: list[float], items_per_round: int) -> dict:
    """Items per second of each round, summarised: median, quartiles, all rounds, median step ms."""
    rates = [items_per_round / t for t in seconds]
    s = spread(rates)
    return {"images_per_s": round(s["median"], 2), "images_per_s_q1": round(s["q1"], 2),
            "images_per_s_q3": round(s["q3"], 2), "iqr_percent": round(100 * s["iqr_rel"], 1),
            "images_per_s_all": [round(r, 2) for r in rates], "rounds": len(rates)}
