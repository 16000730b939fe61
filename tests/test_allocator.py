"""alexnet.allocator: after it, a large tensor comes from the heap, not from a memory map of its own."""
import subprocess
import sys

import pytest

SCRIPT = r"""
import sys, torch
from alexnet.allocator import keep_large_blocks_in_heap, large_blocks_in_heap
if sys.argv[1] == "tuned":
    assert keep_large_blocks_in_heap() and large_blocks_in_heap()
t = torch.empty(48 << 20, dtype=torch.uint8)  # 48 MiB: above glibc's largest mmap threshold
addr = t.data_ptr()
for line in open("/proc/self/maps"):
    lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
    if lo <= addr < hi:
        print("heap" if line.rstrip().endswith("[heap]") else "mapping")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize("setting, where", [("default", "mapping"), ("tuned", "heap")])
def test_large_tensor_lives_in_the_heap_only_when_asked(setting, where):
    out = subprocess.run([sys.executable, "-c", SCRIPT, setting], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == where

