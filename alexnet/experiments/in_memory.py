"""A small training loop on in-memory tensors for the CIFAR-10 ablations (Sections 3.1-4.2).

Everything stays on one device: the uint8 images, the augmentation (:mod:`.tensors`), the model
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
from .tensors import TensorData, centre_crop, channel_stats, normalise, pca_lighting, random_crop_flip, rgb_pca

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


def fit_in_memory(model: nn.Module, data: TensorData, cfg: InMemoryConfig, *, seed: int = 0,
          device: str | torch.device = "cpu", progress: bool = False, desc: str = "") -> InMemoryHistory:
    """Train ``model`` on ``data`` (already on ``device``) as ``cfg`` says; returns the history
    (:class:`InMemoryHistory`: one record per check, the epochs to the target, the final errors)."""
    device = torch.device(device)
    torch.manual_seed(seed)
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    model.to(device).train()
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    layout = _layout(model)
    opt = PaperSGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.input_norm not in ("standardise", "centre"):
        raise ValueError(f"input_norm must be 'standardise' or 'centre', got {cfg.input_norm!r}")
    mean, std = channel_stats(data.train_x)
    if cfg.input_norm == "centre":
        std = torch.ones_like(std)  # Section 2: "centered raw RGB values"
    mean, std = mean.to(device), std.to(device)
    eig = None
    if cfg.pca_std > 0:
        if "rgb_pca" not in data.stats:  # computed once per data set
            data.stats["rgb_pca"] = rgb_pca(data.train_x.cpu())
        eig = data.stats["rgb_pca"]
    n = len(data.train_y)
    steps_per_epoch = max(1, n // cfg.batch_size)  # drop the last partial batch
    total_steps = max(1, round(cfg.epochs * steps_per_epoch))
    cpe = max(1, min(cfg.checks_per_epoch, steps_per_epoch))
    marks = {round(steps_per_epoch * (j + 1) / cpe) % steps_per_epoch for j in range(cpe)}
    drop_step = round(cfg.lr_drop_at * total_steps) if cfg.lr_drop_at else None
    records: list[EpochRecord] = []
    epochs_to_target: float | None = None
    diverged = False
    wrong = torch.zeros((), device=device)
    loss_sum = torch.zeros((), device=device)
    seen = 0
    start = time.perf_counter()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=total_steps, desc=desc, leave=False)
    perm = torch.randperm(n, device=device, generator=gen)
    step = 0
    while step < total_steps:
        k = step % steps_per_epoch
        if k == 0 and step > 0:
            perm = torch.randperm(n, device=device, generator=gen)
        if drop_step is not None and step == drop_step:
            for group in opt.param_groups:
                group["lr"] = cfg.lr / 10
        idx = perm[k * cfg.batch_size:(k + 1) * cfg.batch_size]
        xb, yb = data.train_x[idx], data.train_y[idx]
        if cfg.crop is not None:
            xb = random_crop_flip(xb, cfg.crop, gen)
        xb = xb.float()
        if eig is not None:
            xb = pca_lighting(xb, eig[0], eig[1], cfg.pca_std, gen)
        out = model(normalise(xb, mean, std).contiguous(memory_format=layout))
        loss = F.cross_entropy(out, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            wrong += (~topk_hits(out, yb, (1,))).sum()
            loss_sum += loss.detach() * len(yb)
        seen += len(yb)
        step += 1
        if bar is not None:
            bar.update(1)
        if step % steps_per_epoch in marks or step == total_steps:
            err, mean_loss = float(wrong) / seen, float(loss_sum) / seen
            epoch = round(step / steps_per_epoch, 4)
            diverged = not math.isfinite(mean_loss)
            test_err = None
            if not diverged and (step % steps_per_epoch == 0 or step == total_steps):
                test_err = evaluate_in_memory(model, data.test_x, data.test_y, mean, std, cfg.crop)
            records.append(EpochRecord(
                epoch=epoch, step=step, lr=opt.param_groups[0]["lr"], train_loss=mean_loss, train_top1_error=err,
                train_top5_error=None, val_loss=None, val_top1_error=test_err, val_top5_error=None,
                wall_time_s=round(time.perf_counter() - start, 3)))
            wrong.zero_(), loss_sum.zero_()
            seen = 0
            if diverged:
                break
            if cfg.target_train_error is not None and epochs_to_target is None and err <= cfg.target_train_error:
                epochs_to_target = epoch
            if epochs_to_target is not None:
                break
    if bar is not None:
        bar.close()
    sel = torch.arange(0, n, max(1, n // max(1, cfg.train_eval_size)), device=device)[:cfg.train_eval_size]
    last = records[-1] if records else None
    final_test_error = (last.val_top1_error if last is not None and last.val_top1_error is not None
                        else evaluate_in_memory(model, data.test_x, data.test_y, mean, std, cfg.crop))
    final_train_error = evaluate_in_memory(model, data.train_x[sel], data.train_y[sel], mean, std, cfg.crop)
    return InMemoryHistory(
        records=records, epochs_to_target=epochs_to_target, diverged=diverged, final_test_error=final_test_error,
        final_train_error=final_train_error, epochs_trained=last.epoch if last is not None else 0.0,
        seconds=round(time.perf_counter() - start, 3), mean=mean.tolist(), std=std.tolist(), seed=seed)
