"""A small training loop on in-memory tensors for the CIFAR-10 ablations (Sections 3.1-4.2).

Everything stays on one device: the uint8 images, the augmentation (:mod:`alexnet.data.augment`), the model
and the paper's SGD update (:class:`alexnet.PaperSGD`, Section 5). The loop records, in the
history schema of both training loops (:class:`alexnet.training.history.EpochRecord`, one per check),

* the running training error and loss over each ``1 / checks_per_epoch`` of an epoch (what Figure 1
  plots: the error on the mini-batches as they are trained on), so "epochs until 25% training
  error" has a resolution finer than one epoch;
* the test error after every epoch (centre patch at test time when training used crops), as the
  records' ``val_top1_error`` (CIFAR-10's test set is the held-out set here);
* at the end, the error on (a subset of) the *training* images with test-time preprocessing and
  the network in evaluation mode -- the overfitting gap is test error minus this.

Training stops early once ``target_train_error`` is reached or when the loss becomes NaN
(``diverged``); how much is trained never depends on wall-clock time.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..evaluate import topk_hits
from ..optim import PaperSGD
from ..training.history import EpochRecord
from ..data.augment import centre_crop, normalise, random_crop_flip, random_lighting
from ..data.tensors import TensorData, channel_stats, rgb_pca

__all__ = ["InMemoryConfig", "InMemoryHistory", "fit_in_memory", "evaluate_in_memory"]


@dataclass
class InMemoryConfig:
    """How one network is trained. Defaults: the paper's SGD (Section 5) without weight decay."""

    epochs: float = 10
    lr: float = 0.01
    batch_size: int = 128
    momentum: float = 0.9
    weight_decay: float = 0.0
    crop: int | None = None          # random crop size + flips (Section 4.1); None: no augmentation
    pca_std: float = 0.0             # PCA lighting's sigma (0.1 in the paper); 0: off
    lr_drop_at: float | None = None  # fraction of training after which lr is divided by 10
    target_train_error: float | None = None
    checks_per_epoch: int = 4
    train_eval_size: int = 10000     # training images scored at the end (eval mode, no augmentation)
    input_norm: str = "standardise"  # per-channel (x - mean) / std; "centre": x - mean (the paper's raw RGB)
    channels_last: bool = True       # memory layout only (same function); about 2x faster on CPUs


@dataclass
class InMemoryHistory:
    """What :func:`fit_in_memory` measured.

    ``records`` holds one :class:`~alexnet.training.history.EpochRecord` per check (the running
    training error and loss of the batches since the previous check; the test error, as
    ``val_top1_error``, at epoch ends and at the last step). ``epochs_to_target`` is the epoch of
    the first check at or below ``target_train_error`` (``None``: not reached); ``final_train_error``
    is measured in evaluation mode on training images; ``mean`` and ``std`` are the per-channel input
    normalisation used.
    """

    records: list[EpochRecord]
    epochs_to_target: float | None
    diverged: bool
    final_test_error: float
    final_train_error: float
    epochs_trained: float
    seconds: float
    mean: list[float]
    std: list[float]
    seed: int

    def train_curve(self) -> list[list[float]]:
        """``[[epoch, running training error, running loss], ...]``, one per check (Figure 1's curve)."""
        return [[r.epoch, r.train_top1_error, r.train_loss] for r in self.records]

    def test_curve(self) -> list[list[float]]:
        """``[[epoch, test error, seconds since the start], ...]``, one per test-set evaluation."""
        return [[r.epoch, r.val_top1_error, r.wall_time_s] for r in self.records if r.val_top1_error is not None]


@torch.no_grad()
def evaluate_in_memory(model: nn.Module, x: torch.Tensor, y: torch.Tensor, mean: torch.Tensor, std: torch.Tensor,
             crop: int | None = None, batch_size: int = 1000) -> float:
    """Top-1 error (fraction) of ``model`` in evaluation mode on uint8 images ``x``."""
    was_training = model.training
    model.eval()
    wrong = torch.zeros((), device=x.device)
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size]
        if crop is not None and crop < xb.shape[-1]:
            xb = centre_crop(xb, crop)
        xb = normalise(xb, mean, std).contiguous(memory_format=_layout(model))
        wrong += (~topk_hits(model(xb), y[i:i + batch_size], (1,))).sum()  # stays on the device
    model.train(was_training)
    return float(wrong) / max(len(x), 1)


def _layout(model: nn.Module) -> torch.memory_format:
    """The memory format of ``model``'s first 4-d weight (inputs are laid out to match it)."""
    for p in model.parameters():
        if p.dim() == 4:
            return torch.channels_last if p.is_contiguous(memory_format=torch.channels_last) and \
                not p.is_contiguous() else torch.contiguous_format
    return torch.contiguous_format


@dataclass
class _Steps:
    """How long one run trains, in optimiser steps, and where it checks (Figure 1's resolution)."""

    per_epoch: int       # the last partial batch of an epoch is dropped
    total: int
    marks: set[int]      # values of step % per_epoch at which the running errors are recorded
    drop_at: int | None  # the step at which the rate is divided by 10

    @classmethod
    def of(cls, images: int, cfg: InMemoryConfig) -> _Steps:
        per_epoch = max(1, images // cfg.batch_size)
        total = max(1, round(cfg.epochs * per_epoch))
        checks = max(1, min(cfg.checks_per_epoch, per_epoch))
        marks = {round(per_epoch * (j + 1) / checks) % per_epoch for j in range(checks)}
        return cls(per_epoch, total, marks, round(cfg.lr_drop_at * total) if cfg.lr_drop_at else None)

    def is_check(self, done: int) -> bool:
        """Is a check due after ``done`` steps?"""
        return done % self.per_epoch in self.marks or done == self.total

    def is_epoch_end(self, done: int) -> bool:
        return done % self.per_epoch == 0 or done == self.total


@dataclass
class _Inputs:
    """What every batch goes through: the per-channel mean (and with ``input_norm="standardise"`` the
    std) removed; with ``input_norm="centre"`` Section 2's "centered raw RGB values". PCA lighting's
    eigenvectors and eigenvalues (Section 4.1), or ``None`` when it is off."""

    mean: torch.Tensor
    std: torch.Tensor
    eig: tuple[torch.Tensor, torch.Tensor] | None

    @classmethod
    def of(cls, data: TensorData, cfg: InMemoryConfig, device: torch.device) -> _Inputs:
        if cfg.input_norm not in ("standardise", "centre"):
            raise ValueError(f"input_norm must be 'standardise' or 'centre', got {cfg.input_norm!r}")
        mean, std = channel_stats(data.train_x)
        if cfg.input_norm == "centre":
            std = torch.ones_like(std)
        eig = None
        if cfg.pca_std > 0:
            if "rgb_pca" not in data.stats:  # computed once per data set
                data.stats["rgb_pca"] = rgb_pca(data.train_x.cpu())
            eig = data.stats["rgb_pca"]
        return cls(mean.to(device), std.to(device), eig)


@dataclass
class _Running:
    """The training error and loss summed over the batches since the last check, on the device (read
    back only at a check, so that the loop does not wait for the device after every step)."""

    wrong: torch.Tensor
    loss: torch.Tensor
    seen: int = 0

    @classmethod
    def zeros(cls, device: torch.device) -> _Running:
        return cls(torch.zeros((), device=device), torch.zeros((), device=device))

    @torch.no_grad()
    def add(self, out: torch.Tensor, y: torch.Tensor, loss: torch.Tensor) -> None:
        self.wrong += (~topk_hits(out, y, (1,))).sum()
        self.loss += loss.detach() * len(y)
        self.seen += len(y)

    def take(self) -> tuple[float, float]:
        """The mean error and loss since the last check; the sums start again from zero."""
        err, loss = float(self.wrong) / self.seen, float(self.loss) / self.seen
        self.wrong.zero_(), self.loss.zero_()
        self.seen = 0
        return err, loss


def _train_step(model: nn.Module, opt: torch.optim.Optimizer, xb: torch.Tensor, yb: torch.Tensor,
                inputs: _Inputs, cfg: InMemoryConfig, gen: torch.Generator,
                layout: torch.memory_format) -> tuple[torch.Tensor, torch.Tensor]:
    """One SGD step on the uint8 batch ``xb``: crop and flip, PCA lighting, the mean removed
    (Sections 4.1, 2), then the paper's update (Section 5). Returns the outputs and the loss."""
    if cfg.crop is not None:
        xb = random_crop_flip(xb, cfg.crop, gen)
    xb = xb.float()
    if inputs.eig is not None:
        xb = random_lighting(xb, inputs.eig[0], inputs.eig[1], cfg.pca_std, gen)
    out = model(normalise(xb, inputs.mean, inputs.std).contiguous(memory_format=layout))
    loss = F.cross_entropy(out, yb)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return out, loss


def fit_in_memory(model: nn.Module, data: TensorData, cfg: InMemoryConfig, *, seed: int = 0,
          device: str | torch.device = "cpu", progress: bool = False, desc: str = "") -> InMemoryHistory:
    """Train ``model`` on ``data`` (already on ``device``) as ``cfg`` says; returns the history
    (:class:`InMemoryHistory`: one record per check, the epochs to the target, the final errors)."""
    device = torch.device(device)
    torch.manual_seed(seed)  # dropout's masks
    gen = torch.Generator(device=device)  # the order, crops, flips and lighting
    gen.manual_seed(seed)
    model.to(device).train()
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    layout = _layout(model)
    opt = PaperSGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    inputs = _Inputs.of(data, cfg, device)
    n = len(data.train_y)
    steps = _Steps.of(n, cfg)
    records: list[EpochRecord] = []
    epochs_to_target: float | None = None
    diverged = False
    running = _Running.zeros(device)
    start = time.perf_counter()
    bar = _progress_bar(steps.total, desc) if progress else None
    for done in range(1, steps.total + 1):
        k = (done - 1) % steps.per_epoch
        if k == 0:
            perm = torch.randperm(n, device=device, generator=gen)  # a new order every epoch
        if done - 1 == steps.drop_at:
            for group in opt.param_groups:
                group["lr"] = cfg.lr / 10
        idx = perm[k * cfg.batch_size:(k + 1) * cfg.batch_size]
        yb = data.train_y[idx]
        out, loss = _train_step(model, opt, data.train_x[idx], yb, inputs, cfg, gen, layout)
        running.add(out, yb, loss)
        if bar is not None:
            bar.update(1)
        if not steps.is_check(done):
            continue
        err, mean_loss = running.take()
        epoch = round(done / steps.per_epoch, 4)
        diverged = not math.isfinite(mean_loss)
        test_err = None
        if not diverged and steps.is_epoch_end(done):
            test_err = evaluate_in_memory(model, data.test_x, data.test_y, inputs.mean, inputs.std, cfg.crop)
        records.append(EpochRecord(
            epoch=epoch, step=done, lr=opt.param_groups[0]["lr"], train_loss=mean_loss, train_top1_error=err,
            train_top5_error=None, val_loss=None, val_top1_error=test_err, val_top5_error=None,
            wall_time_s=round(time.perf_counter() - start, 3)))
        if diverged:
            break
        if cfg.target_train_error is not None and err <= cfg.target_train_error:
            epochs_to_target = epoch
            break
    if bar is not None:
        bar.close()
    return _history(model, data, cfg, inputs, records, epochs_to_target, diverged, start, seed)


def _progress_bar(total: int, desc: str):
    from tqdm.auto import tqdm  # only when asked: the command line runs without it

    return tqdm(total=total, desc=desc, leave=False)


def _history(model: nn.Module, data: TensorData, cfg: InMemoryConfig, inputs: _Inputs, records: list[EpochRecord],
             epochs_to_target: float | None, diverged: bool, start: float, seed: int) -> InMemoryHistory:
    """The run's history, with its final errors: on the test set (the last check's, where it measured one) and
    on ``cfg.train_eval_size`` training images spread over the set, both in evaluation mode."""
    n = len(data.train_y)
    sel = torch.arange(0, n, max(1, n // max(1, cfg.train_eval_size)), device=data.train_y.device)[:cfg.train_eval_size]
    last = records[-1] if records else None
    final_test_error = (last.val_top1_error if last is not None and last.val_top1_error is not None
                        else evaluate_in_memory(model, data.test_x, data.test_y, inputs.mean, inputs.std, cfg.crop))
    final_train_error = evaluate_in_memory(model, data.train_x[sel], data.train_y[sel], inputs.mean, inputs.std,
                                           cfg.crop)
    return InMemoryHistory(
        records=records, epochs_to_target=epochs_to_target, diverged=diverged, final_test_error=final_test_error,
        final_train_error=final_train_error, epochs_trained=last.epoch if last is not None else 0.0,
        seconds=round(time.perf_counter() - start, 3), mean=inputs.mean.tolist(), std=inputs.std.tolist(), seed=seed)
