"""Where the data pipeline keeps what it computes once: the cache folder and statistics files.

The cache folder is ``$ALEXNET_CACHE`` when set, else ``~/.cache/alexnet``. Statistics of a data
set (its mean image and PCA, Sections 2 and 4.1) are stored next to the data in
``<root>/.alexnet-cache/`` when that folder is writable, else under
``<cache>/stats/<hash of the data folder>/`` (for read-only copies such as ``/work/shared/data``).
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

__all__ = ["cache_dir", "stats_dir", "hash_strings"]


def cache_dir() -> Path:
    """``$ALEXNET_CACHE`` or ``~/.cache/alexnet`` (not created)."""
    env = os.environ.get("ALEXNET_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "alexnet"


def _writable(folder: Path) -> bool:
    """Writable for us *and* meant to be written: root ignores permission bits, we do not."""
    if not os.access(folder, os.W_OK) or not folder.stat().st_mode & 0o222:
        return False
    try:  # os.access can be wrong on read-only mounts
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".alexnet-probe-"):
            return True
    except OSError:
        return False


def stats_dir(root: Path) -> Path:
    """The folder holding cached statistics of the data set at ``root`` (created)."""
    root = Path(root).resolve()
    local = root / ".alexnet-cache"
    if local.is_dir() and _writable(local):
        return local
    if root.is_dir() and _writable(root):
        local.mkdir(exist_ok=True)
        return local
    folder = cache_dir() / "stats" / hashlib.sha1(str(root).encode()).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def hash_strings(items) -> str:
    """A short stable hash of an iterable of strings (file lists, settings)."""
    h = hashlib.sha1()
    for item in items:
        h.update(str(item).encode())
        h.update(b"\n")
    return h.hexdigest()[:16]
