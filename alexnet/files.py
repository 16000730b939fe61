"""Files written whole or not at all: the package's one atomic write.

A run killed at any moment (Section 5's training takes days) must never leave half a checkpoint,
half a metrics file or half a cached array behind. Every file the package writes for later reading
therefore goes to a temporary file in the same folder, which is renamed over the target with
:func:`os.replace` only once it is complete: a reader sees the old file or the new one, never a mix.
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["atomic_open", "atomic_write"]


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb", *, tmp: str | Path | None = None,
                fsync: bool = False) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; when the block ends without an error it is
    flushed (and ``fsync``-ed with ``fsync=True``, the rename too) and renamed over ``path``; on an
    error it is removed. ``tmp`` names the temporary file (default: a unique
    ``.<name>.tmp-XXXX.tmp`` in the same folder, which readers of the folder skip as hidden).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = {} if "b" in mode else {"encoding": "utf-8"}
    if tmp is None:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-", suffix=".tmp")
        os.chmod(name, 0o644)
        handle = os.fdopen(fd, mode, **text)
    else:
        name = str(tmp)
        handle = open(name, mode, **text)
    try:
        with handle:
            yield handle
            handle.flush()
            if fsync:
                os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    if fsync:
        _fsync_folder(path.parent)


def atomic_write(path: str | Path, data: str | bytes, *, fsync: bool = False) -> Path:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` atomically (:func:`atomic_open`)."""
    with atomic_open(path, "w" if isinstance(data, str) else "wb", fsync=fsync) as f:
        f.write(data)
    return Path(path)


def _fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (where the file system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass
