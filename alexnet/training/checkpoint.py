"""Checkpoints that survive a kill at any moment, and the models they hold.

A checkpoint is one ``torch.save`` file holding everything a run needs to continue exactly where
it stopped: the model's weights (the paper's network of Section 3.5 or a variant, with its
constructor arguments), the optimiser's momentum buffers (Section 5's ``v``), the learning-rate
schedule, the epoch and step, the position in the data order, the running sums of the current
epoch's metrics, the metrics history, and every random number generator's state (torch CPU and
CUDA, numpy, Python's ``random``).

Writes are atomic: the bytes go to a temporary file in the same folder, which is flushed,
``fsync``-ed and then renamed over the old checkpoint with :func:`os.replace`. A reader therefore
sees either the old file or the new one, never half of one. Every value stored is a tensor or a
plain Python value, so checkpoints load with ``torch.load(weights_only=True)``.

For tests, the environment variable ``ALEXNET_CKPT_WRITE_DELAY`` (seconds) makes a write pause
after its first bytes reached the temporary file, so a test can kill the process mid-write;
``ALEXNET_CKPT_WRITE_DELAY_AT=n`` restricts the pause to the ``n``-th write of the process.
"""
from __future__ import annotations

import io
import os
import random
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import AlexNetError
from ..files import atomic_open
from ..model import AlexNet

__all__ = [
    "FORMAT", "save_checkpoint", "load_checkpoint", "load_model", "model_from_checkpoint",
    "rng_states", "restore_rng_states", "check_model_config", "remove_stale_temporaries",
]

#: Version of the checkpoint layout; bumped when keys change incompatibly.
FORMAT = 1
WRITE_DELAY_ENV = "ALEXNET_CKPT_WRITE_DELAY"
WRITE_DELAY_AT_ENV = "ALEXNET_CKPT_WRITE_DELAY_AT"
_writes = 0
_TMP_MARK = ".tmp-"


# ---------------------------------------------------------------------------- random states
def rng_states() -> dict[str, Any]:
    """The state of every random number generator the training process uses."""
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "python": random.getstate(),
    }


def restore_rng_states(states: Mapping[str, Any]) -> None:
    """Put back the generators saved by :func:`rng_states`."""
    torch.set_rng_state(states["torch"])
    if states.get("cuda") and torch.cuda.is_available():
        cuda = list(states["cuda"])[: torch.cuda.device_count()]
        torch.cuda.set_rng_state_all(cuda)
    name, keys, *rest = states["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    py = states["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))


# ---------------------------------------------------------------------------- atomic writes
class _PausingWriter(io.RawIOBase):
    """A file wrapper that sleeps once, after the first ``pause_after`` bytes (test hook)."""

    def __init__(self, f, pause_after: int, seconds: float) -> None:
        self.f, self.pause_after, self.seconds, self.written, self.paused = f, pause_after, seconds, 0, False

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        n = self.f.write(b)
        self.written += n
        if not self.paused and self.written >= self.pause_after:
            self.f.flush()
            os.fsync(self.f.fileno())
            self.paused = True
            time.sleep(self.seconds)
        return n


def save_checkpoint(state: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``state`` to ``path`` atomically (:func:`alexnet.files.atomic_open`: temporary file,
    fsync, :func:`os.replace`)."""
    path = Path(path)
    global _writes
    _writes += 1
    tmp = path.with_name(f".{path.name}{_TMP_MARK}{os.getpid()}-{_writes}")
    delay = float(os.environ.get(WRITE_DELAY_ENV, "0") or 0)
    at = os.environ.get(WRITE_DELAY_AT_ENV)
    if at and int(at) != _writes:
        delay = 0.0
    with atomic_open(path, "wb", tmp=tmp, fsync=True) as f:
        torch.save(dict(state), _PausingWriter(f, 1, delay) if delay > 0 else f)
    return path


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete temporary files left by writes that were killed halfway; returns them."""
    stale = [p for p in Path(folder).glob(f".*{_TMP_MARK}*") if p.is_file()]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


# ---------------------------------------------------------------------------- reading
def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`; one clear error if it is not one."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    if path.is_dir():
        raise AlexNetError(f"checkpoint {path} is a folder; give a .pt file (for example {path / 'best.pt'})")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # truncated zip, bad pickle, wrong file type ...
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise AlexNetError(f"checkpoint {path} is corrupt or not a checkpoint ({reason[:160]})") from None
    if not isinstance(state, dict) or "model" not in state or "model_config" not in state:
        raise AlexNetError(f"checkpoint {path} is not an alexnet checkpoint (no model and model_config)")
    if state.get("format", FORMAT) > FORMAT:
        raise AlexNetError(f"checkpoint {path} has format {state['format']}; this version reads up to {FORMAT}")
    return state


def _tuples(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}


def check_model_config(saved: Mapping[str, Any], wanted: Mapping[str, Any], path: str | Path) -> None:
    """Raise a one-line :class:`AlexNetError` if ``saved`` and ``wanted`` describe different nets."""
    saved, wanted = _tuples(saved), _tuples(wanted)
    diffs = [f"{k}: checkpoint {saved.get(k)!r}, wanted {wanted.get(k)!r}"
             for k in sorted(set(saved) | set(wanted)) if saved.get(k) != wanted.get(k)]
    if diffs:
        what = "number of classes" if diffs[0].startswith("num_classes") and len(diffs) == 1 else "architecture"
        raise AlexNetError(f"checkpoint {path} is from another {what} ({'; '.join(diffs)})")


def model_from_checkpoint(state: Mapping[str, Any], path: str | Path = "checkpoint") -> AlexNet:
    """Build the :class:`AlexNet` described by ``state["model_config"]`` and load its weights."""
    try:
        model = AlexNet(**_tuples(state["model_config"]))
    except (TypeError, ValueError) as err:
        raise AlexNetError(f"checkpoint {path} describes a model this version cannot build: {err}") from None
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        raise AlexNetError(f"checkpoint {path}: weights do not fit its architecture ({' '.join(first[:2])[:200]})") from None
    return model


def load_model(path: str | Path, device: str | torch.device = "cpu") -> AlexNet:
    """The trained network stored in ``path`` (``best.pt`` or ``last.pt``), in eval mode.

    The returned model carries ``model.classes`` (the class folder names it was trained on) and
    ``model.data_config`` (resize, crop, mean image ...) and ``model.data_mean`` (the mean image
    subtracted in training, Section 2) when the checkpoint recorded them.
    """
    state = load_checkpoint(path)
    model = model_from_checkpoint(state, path)
    model.classes = list(state.get("classes") or [])
    model.class_names = list(state.get("class_names") or model.classes)
    model.data_config = dict(state.get("data_config") or {})
    model.data_mean = state.get("data_mean")  # the training set's mean image, (3, R, R) or (3, 1, 1)
    return model.to(device).eval()
