"""Finished runs of an experiment, kept one JSON line each, so that a stopped experiment continues.

An experiment is many independent training runs (a variant of the network and a seed, or a
learning rate of Figure 1's grid). Each run is written to ``<result>.records.jsonl`` as soon as it
ends (appended, flushed and synced), keyed by everything that determines it: the network, the
training settings and the seed. Running the experiment again reads the file and trains only the
runs that are missing, so an experiment killed at any moment loses at most the run it was in, and
its rerun ends with the same records as a run that was never stopped (the runs are deterministic
given their key; ``tests/test_experiments.py`` kills one to check).

A record that was written under another data set or device type (the ``context``) is not reused.
A half-written last line (a kill during the write) is cut off when the file is opened. Runs that
several experiments share (the CIFAR-10 ablations' baseline) live in a :meth:`Records.sibling`
file, trained by whichever experiment needs them first; before training a run, the file is read
again, so a run another process finished meanwhile is not trained twice.

Several processes may work through one experiment at once (one per core, each ``--threads 1``):
a run being trained holds a lock (:func:`fcntl.flock` on a file in ``.locks/`` beside the
records, released by the kernel when its process ends, even by a kill). Another process skips a
locked run and goes on to the next; once it has nothing else to train it waits for the skipped
runs (:attr:`Records.wait`), and trains any whose process died before finishing it.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..provenance import utc_now

try:
    import fcntl
except ImportError:  # not a POSIX system: one process per experiment, no locks
    fcntl = None

__all__ = ["Records", "records_path"]


def records_path(result: Path) -> Path:
    """``results/x/full.json`` -> ``results/x/full.records.jsonl``."""
    return result.with_name(result.stem + ".records.jsonl")


class Records:
    """The finished runs of one experiment under one ``context`` (data set, device type).

    ``run(key, train)`` returns the record stored under ``key``, or calls ``train()`` and stores
    what it returns. In ``replay`` mode a missing record is not trained: ``run`` returns ``None``
    (used to summarise a partial experiment). A run another process is training now is skipped
    (``None``, counted in :attr:`skipped`) unless :attr:`wait` is set, when ``run`` waits for it.
    ``on_new()`` is called after each new record.
    """

    def __init__(self, path: Path | None, context: dict[str, Any], *, fresh: bool = False,
                 stamp: dict[str, Any] | None = None, on_new: Callable[[], None] | None = None) -> None:
        self.path = path
        self.context = context
        self.stamp = stamp or {}
        self.on_new = on_new
        self._replay = False
        self._wait = False
        self._fresh = fresh
        self._siblings: dict[str, Records] = {}
        self.done: dict[str, dict] = {}
        self.meta: dict[str, dict] = {}
        self.ignored = 0
        self.new = 0
        self.skipped_here = 0
        if path is None:
            return
        if fresh and path.exists():
            path.unlink()
        if path.exists():
            self._load(path, repair=True)

    @property
    def replay(self) -> bool:
        """Replay mode: missing runs are not trained (also for the siblings)."""
        return self._replay

    @replay.setter
    def replay(self, value: bool) -> None:
        self._replay = value
        for other in self._siblings.values():
            other.replay = value

    @property
    def wait(self) -> bool:
        """Wait for a run another process is training (else skip it); also for the siblings.
        Setting it starts the count of :attr:`skipped` afresh."""
        return self._wait

    @wait.setter
    def wait(self, value: bool) -> None:
        self._wait = value
        self.skipped_here = 0
        for other in self._siblings.values():
            other.wait = value

    @property
    def skipped(self) -> int:
        """Runs skipped because another process was training them (with the siblings')."""
        return self.skipped_here + sum(other.skipped_here for other in self._siblings.values())

    def sibling(self, name: str) -> Records:
        """The records of ``name``, runs shared by several experiments, kept beside this one's
        (``results/<name>/<this file's name>``, :meth:`_sibling_path`) under the same data set and device type.

        Its new records also call this one's ``on_new`` (so the experiment's result is rewritten).
        """
        if name not in self._siblings:
            path = None if self.path is None else self._sibling_path(name)
            other = Records(path, {**self.context, "experiment": name}, fresh=self._fresh, stamp=self.stamp,
                            on_new=lambda: self.on_new() if self.on_new is not None else None)
            other.replay = self.replay
            other.wait = self.wait
            self._siblings[name] = other
        return self._siblings[name]

    def _sibling_path(self, name: str) -> Path:
        """``results/<name>/<file>`` in the repository's layout (this file in a folder named after its
        experiment); otherwise ``<name>.<file>`` beside this file, so unrelated folders never share."""
        assert self.path is not None
        if self.path.parent.name == self.context.get("experiment"):
            return self.path.parent.parent / name / self.path.name
        return self.path.with_name(f"{name}.{self.path.name}")

    def _load(self, path: Path, repair: bool = False) -> None:
        self.ignored = 0
        raw = path.read_bytes()
        if raw and not raw.endswith(b"\n"):  # killed while writing (or being written): drop the partial line
            raw = raw[:raw.rfind(b"\n") + 1]
            if repair:
                with open(path, "r+b") as f:
                    f.truncate(len(raw))
        for n, line in enumerate(raw.decode().splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                key, record = entry["key"], entry["record"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise ValueError(f"{path}: line {n} is not a record; move the file away to start afresh") from None
            if entry.get("context") != self.context:
                self.ignored += 1
                continue
            k = _canonical(key)
            self.done[k] = record
            self.meta[k] = {x: entry.get(x) for x in ("date", "git_commit", "device")}

    def __len__(self) -> int:
        return len(self.done)

    def run(self, key: dict[str, Any], train: Callable[[], dict]) -> dict | None:
        """The record of ``key``: stored, or trained now (``None`` in replay mode when missing)."""
        k = _canonical(key)
        if k in self.done:
            return self.done[k]
        if self.replay:
            return None
        with self._lock(k) as mine:
            if self.path is not None and self.path.exists():
                self._load(self.path)  # another process may have finished it meanwhile
                if k in self.done:
                    return self.done[k]
            if not mine:
                self.skipped_here += 1
                return None
            return self._store(key, k, train())

    @contextmanager
    def _lock(self, k: str) -> Iterator[bool]:
        """Hold the lock of the run ``k`` while the body runs: yields ``False`` when another process
        holds it (and :attr:`wait` is off), else ``True`` once this process holds it."""
        if self.path is None or fcntl is None:
            yield True
            return
        with open(self._lock_file(k), "a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def lock_path(self, key: dict[str, Any]) -> Path:
        """The file whose lock a process holds while it trains the run ``key`` (its folder is made)."""
        return self._lock_file(_canonical(key))

    def _lock_file(self, k: str) -> Path:
        assert self.path is not None
        folder = self.path.parent / ".locks"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{self.path.name}.{hashlib.sha1(k.encode()).hexdigest()[:16]}.lock"

    def _store(self, key: dict[str, Any], k: str, record: dict) -> dict:
        """Append the new ``record`` of ``key`` to the file and keep it; returns it as read back."""
        meta = {"date": utc_now(), **self.stamp}
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            line = json.dumps({"key": key, "context": self.context, **meta, "record": record},
                              default=_jsonable)
            with open(self.path, "a") as f:
                f.write(line + "\n")
                f.flush()
                os.fsync(f.fileno())
            record = json.loads(line)["record"]  # exactly what a rerun will read back
        self.done[k] = record
        self.meta[k] = {x: meta.get(x) for x in ("date", "git_commit", "device")}
        self.new += 1
        if self.on_new is not None:
            self.on_new()
        return record

    def provenance(self) -> dict[str, Any]:
        """When, by which commits and on which devices the records (with the siblings' used so far)
        were made, and their compute time."""
        books = [self, *self._siblings.values()]
        meta = [m for b in books for m in b.meta.values()]
        done = [r for b in books for r in b.done.values()]
        dates = sorted(m["date"] for m in meta if m.get("date"))
        seconds = sum(float(r.get("seconds") or 0.0) for r in done)
        return {"records": len(done), "trained_now": sum(b.new for b in books), "first": dates[0] if dates else None,
                "last": dates[-1] if dates else None,
                "git_commits": sorted({m["git_commit"] for m in meta if m.get("git_commit")}),
                "devices": sorted({m["device"] for m in meta if m.get("device")}),
                "train_seconds": round(seconds, 1)}


def _canonical(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True, default=_jsonable)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, (tuple, set)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return str(obj)
