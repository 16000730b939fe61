"""Benchmarks: how fast the model trains (:mod:`.model`: ours against torchvision's, per precision
mode, the LRN kernels, the GPU input pipeline) and how fast the CPU loader feeds it (:mod:`.data`).

Run them with ``python -m alexnet bench WHAT`` (:mod:`alexnet.cli.bench`); the book's Performance
chapter reads the JSON they write (``results/bench/``).
"""
from .model import CPU_MODES, MODES, bench_data, bench_lrn, bench_model, device_info, device_name, parse_mode

__all__ = ["MODES", "CPU_MODES", "parse_mode", "device_info", "device_name", "bench_model", "bench_lrn", "bench_data"]
