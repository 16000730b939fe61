"""Fused kernels for local response normalisation (Section 3.3): :mod:`.lrn_triton` (Triton, GPU)
and :mod:`.lrn_cpu` (C++ loops, CPU; built on first use).

The formula itself, its hand-written backward and the compiled path are in :mod:`alexnet.layers`
(``LRN_IMPLS``); this package holds the implementations that need a compiler beyond PyTorch.
"""
