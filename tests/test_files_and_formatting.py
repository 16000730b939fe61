"""The package's one atomic write and its one home for number formatting."""
from __future__ import annotations

import math

import pytest

from alexnet.files import atomic_open, atomic_write
from alexnet.formatting import clock, count, duration, pct, points


def test_atomic_write_replaces_whole_files_and_leaves_nothing_behind(tmp_path):
    path = tmp_path / "sub" / "record.json"
    atomic_write(path, "old\n")
    atomic_write(path, "new\n")
    assert path.read_text() == "new\n"
    atomic_write(tmp_path / "blob.bin", b"\x00\x01")
    assert (tmp_path / "blob.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["blob.bin", "record.json"]


def test_a_write_that_fails_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    path = tmp_path / "last.pt"
    atomic_write(path, b"good")
    with pytest.raises(RuntimeError, match="killed"):
        with atomic_open(path, "wb", fsync=True) as f:
            f.write(b"half")
            raise RuntimeError("killed halfway")
    assert path.read_bytes() == b"good" and [p.name for p in tmp_path.iterdir()] == ["last.pt"]
    with atomic_open(path, "wb", tmp=tmp_path / ".last.pt.tmp-1-1") as f:  # a caller's own temporary name
        f.write(b"better")
    assert path.read_bytes() == b"better" and not (tmp_path / ".last.pt.tmp-1-1").exists()


def test_numbers_read_the_same_everywhere():
    assert pct(0.1234) == "12.3%" and pct(None) == "n/a" and pct(math.nan, missing="-") == "-"
    assert points(0.0123) == "+1.23" and points(-0.5, 1, sign=False) == "-50.0" and points(None) == "n/a"
    assert count(1, "seed") == "1 seed" and count(12, "run") == "12 runs" and count(2, "class", "classes") == "2 classes"
    assert [duration(s) for s in (44.6, 725, 3 * 3600 + 125, None)] == ["45 s", "12 min 05 s", "3 h 02 min", "n/a"]
    assert clock(3723.9) == "1:02:03" and clock(math.inf) == "?"
