"""One record per check of a training run: the history schema both training loops write.

The paper plots and reports two kinds of numbers about training. Figure 1 (Section 3.1) plots the
*training* error rate against epochs (on CIFAR-10, to show how soon 25% is reached); Section 6
reports the top-1 and top-5 error rates on the *validation* (and test) set. An :class:`EpochRecord`
holds both, plus the loss and the learning rate, at one point of a run:

* the streaming loop (:func:`alexnet.training.train`) writes one record per epoch to a run folder's
  ``metrics.jsonl`` (read back with :func:`alexnet.training.read_metrics`), with every field filled
  and the machine's speed in the optional timing fields;
* the in-memory loop of the CIFAR-10 ablations (:func:`alexnet.experiments.in_memory.fit_in_memory`)
  keeps one record per check (every ``1 / checks_per_epoch`` of an epoch, so ``epoch`` may be
  fractional). It measures the running top-1 error and loss of the training batches at every check
  and the held-out top-1 error only at epoch ends; what it does not measure (top-5 errors, the
  held-out loss, the held-out error between epoch ends) is ``None``.

The held-out set is called "val" throughout; for the CIFAR-10 ablations it is CIFAR-10's test set
(CIFAR-10 has no separate validation set).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..errors import AlexNetError

__all__ = ["EpochRecord", "REQUIRED_KEYS", "OPTIONAL_KEYS", "read_metrics"]


@dataclass(kw_only=True)
class EpochRecord:
    """The state of a training run at one check (the end of an epoch, or a fraction of one).

    Error rates are fractions (0.25 is 25%); losses are the mean cross-entropy per image; ``lr`` is
    the learning rate of the last step before the check; ``wall_time_s`` the seconds since the run
    started (including earlier sessions of a resumed run). The fields after ``val_top5_error`` up to
    ``wall_time_s`` are the streaming loop's own and stay ``None`` in the in-memory loop.
    """

    epoch: float                    # epochs trained so far (an int at epoch ends of the streaming loop)
    step: int                       # optimiser steps taken so far
    lr: float
    train_loss: float               # running mean over the training batches since the previous check
    train_top1_error: float
    train_top5_error: float | None  # None where not measured
    val_loss: float | None          # the held-out set ("val"; CIFAR-10's test set in the ablations)
    val_top1_error: float | None    # None where not measured (between epoch ends in the in-memory loop)
    val_top5_error: float | None
    # the streaming loop's extra fields (None: not recorded)
    lr_reduced: bool | None = None  # the plateau rule (Section 5) divided the rate after this epoch
    next_lr: float | None = None
    model: str | None = None        # "reference" or "fast" implementation
    loader: str | None = None       # "images" or "store"
    images_per_s: float | None = None
    epoch_time_s: float | None = None
    step_images_per_s: float | None = None
    step_time_s: float | None = None
    data_wait_s: float | None = None
    val_time_s: float | None = None
    val_images_per_s: float | None = None
    cpu_cores_used: float | None = None
    wall_time_s: float

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict: every required key (``None`` where not measured), and the
        optional keys that are set, in the field order (the keys of a ``metrics.jsonl`` line)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name in REQUIRED_KEYS or getattr(self, f.name) is not None}

    @classmethod
    def from_dict(cls, row: dict[str, Any], where: str = "history record") -> EpochRecord:
        """The record of ``row`` (as :meth:`to_dict` writes it); an :class:`AlexNetError` naming
        ``where`` and the key when a required key is missing or an unknown key is present."""
        if not isinstance(row, dict):
            raise AlexNetError(f"{where}: expected a JSON object, got {type(row).__name__}")
        missing = [k for k in REQUIRED_KEYS if k not in row]
        if missing:
            raise AlexNetError(f"{where}: missing key {missing[0]!r} (a history record needs "
                               f"{', '.join(REQUIRED_KEYS)})")
        unknown = [k for k in row if k not in REQUIRED_KEYS and k not in OPTIONAL_KEYS]
        if unknown:
            raise AlexNetError(f"{where}: unknown key {unknown[0]!r}")
        return cls(**row)


#: Keys every record has (their value may be ``None`` where not measured).
REQUIRED_KEYS: tuple[str, ...] = tuple(f.name for f in fields(EpochRecord) if f.default is not None)
#: Keys only the streaming loop fills (left out of :meth:`EpochRecord.to_dict` when ``None``).
OPTIONAL_KEYS: tuple[str, ...] = tuple(f.name for f in fields(EpochRecord) if f.default is None)


def read_metrics(run: str | Path) -> list[dict[str, Any]]:
    """The per-epoch records of ``metrics.jsonl`` in ``run`` (a run folder or an exported results folder).

    Each line is checked against the history schema (:class:`EpochRecord`: an :class:`AlexNetError`
    names the file, the line and the missing or unknown key) and returned as the dict it holds
    (``EpochRecord.from_dict(row)`` gives the record).
    """
    path = Path(run) / "metrics.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist (is {run} a run folder?)")
    rows = []
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as err:
            raise AlexNetError(f"{path}, line {i}: not JSON ({err})") from None
        rows.append(EpochRecord.from_dict(row, f"{path}, line {i}").to_dict())
    return rows
