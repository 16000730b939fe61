"""The training loop of Section 5, with checkpoints that survive a kill and a run folder per run.

The defaults are the paper's recipe (Section 5): minibatches of 128, :class:`alexnet.PaperSGD`
(learning rate 0.01, momentum 0.9, weight decay 0.0005), the paper's initialisation, the learning
rate divided by 10 when the validation error stops improving (:mod:`alexnet.training.schedule`), at most
three times, 90 epochs. Everything is a field of :class:`~alexnet.training.config.TrainConfig`; ``python -m alexnet train``
exposes each field as a flag (and reads YAML/JSON config files), and :func:`train` is the Python
entry point the notebooks use.

A run folder holds:

* ``config.json``: the resolved configuration, the model's constructor arguments, the data set,
  the git commit and package versions, the command line;
* ``metrics.jsonl``: one line per epoch, an :class:`~alexnet.training.history.EpochRecord` (train loss
  and top-1/top-5 error, validation loss and top-1/top-5 error, learning rate, images per second,
  wall time);
* ``last.pt`` (after every epoch and every ``checkpoint_every`` steps) and ``best.pt`` (lowest
  validation top-1 error), written atomically (:mod:`alexnet.training.checkpoint`);
* ``summary.json`` when the run ends.

The loop itself is ``_Trainer.run``, ten lines: ``set_up`` (device, the resumed state, data, model,
optimiser and schedule, the run folder, loaders), then for every epoch ``train_epoch`` (one
``train_step`` per minibatch), ``validate`` and ``end_epoch`` (the schedule, the epoch's record,
checkpoints), and ``finish``. What it counts are small typed objects: :class:`Sums` (loss and errors
summed over images), :class:`EpochClock` (this session's timings of an epoch) and :class:`Position`
(everything a checkpoint holds besides the weights, the optimiser and the random states).

Exact resumption. Every random choice is a function of the position in the run, never of its
history: the data order of epoch ``e`` comes from ``(seed, e)``, each image's crop, flip and PCA
lighting from ``(seed, e, index)`` (:mod:`alexnet.data.sampler`), and the dropout masks of step ``s``
from ``(seed, e, s, rank)``. With ``deterministic=True`` on a CPU, a run killed at any moment
(even while it writes a checkpoint) and resumed with ``resume=True`` ends with bit-identical
weights and metrics to a run that was never interrupted (``tests/test_resume.py``).
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import torch
import torch.nn.functional as F
from torch import nn

from ..allocator import keep_large_blocks_in_heap
from ..errors import AlexNetError
from ..evaluate import topk_error_counts
from ..files import atomic_write
from ..formatting import clock
from ..model import PAPER_FC, PAPER_WIDTHS, AlexNet
from ..optim import PaperSGD
from ..provenance import ROOT, resolve_device
from ..provenance import record as provenance_record
from . import distributed as dist_utils
from .checkpoint import (
    FORMAT, check_model_config, load_checkpoint, remove_stale_temporaries, restore_rng_states,
    rng_states, save_checkpoint,
)
from .config import MODEL_PATHS, TrainConfig
from .history import EpochRecord, read_metrics
from ..data.sampler import ResumableSampler, SeededDataset, derive_seed
from .schedule import make_schedule

__all__ = ["train", "read_metrics", "TIMING_KEYS", "NonFiniteLossError"]
#: Per-epoch fields that depend on the machine's speed, not on the computation.
TIMING_KEYS = ("images_per_s", "epoch_time_s", "wall_time_s", "step_images_per_s", "step_time_s",
               "data_wait_s", "val_time_s", "val_images_per_s", "cpu_cores_used")
#: Fields that may change when a run is resumed (they do not change what is computed).
RESUMABLE_CHANGES = ("resume", "quiet", "progress", "workers", "data", "out", "epochs", "checkpoint_every",
                     "log_every", "eval_batch_size", "device", "threads", "model", "preset", "differences")


class NonFiniteLossError(AlexNetError):
    """The loss became NaN or infinite; the run stopped, its last good checkpoint is kept."""


# ---------------------------------------------------------------------------- what the loop counts
@dataclass
class Sums:
    """Sums over the images seen so far of an epoch (training) or a pass (validation)."""

    loss: float = 0.0   # cross-entropy, summed over images
    top1: float = 0.0   # images whose label is not the top-1 guess
    top5: float = 0.0   # ... not among the top 5
    images: float = 0.0

    def __add__(self, other: Sums) -> Sums:
        return Sums(self.loss + other.loss, self.top1 + other.top1, self.top5 + other.top5,
                    self.images + other.images)

    def means(self) -> tuple[float, float, float]:
        """Mean loss, top-1 and top-5 error per image."""
        return self.loss / self.images, self.top1 / self.images, self.top5 / self.images

    def as_list(self) -> list[float]:
        """``[loss, top1, top5, images]``: a checkpoint's ``accum``, the form summed over processes."""
        return [self.loss, self.top1, self.top5, self.images]

    def reduced(self, info: dist_utils.DistInfo, device: torch.device) -> Sums:
        """The sums of all processes together."""
        return Sums(*dist_utils.all_reduce_sum(self.as_list(), info, device))


@dataclass
class EpochClock:
    """The clocks of this session's share of one epoch (the timing fields of its record)."""

    earlier_s: float = 0.0                                   # training seconds of this epoch in killed sessions
    start: float = field(default_factory=time.perf_counter)
    cpu_start: float = field(default_factory=time.process_time)
    step_s: float = 0.0                                      # the bare steps: forward, backward, update
    step_images: int = 0
    data_wait_s: float = 0.0
    images: int = 0                                          # images trained in this session (for the rate)

    def since_start(self) -> float:
        return time.perf_counter() - self.start

    def training_s(self) -> float:
        """This epoch's training wall time so far, over all sessions."""
        return self.earlier_s + self.since_start()

    def cpu_cores(self) -> float:
        """CPU time of this process over wall time since the epoch started: on a shared machine, how
        many cores the run actually had."""
        return (time.process_time() - self.cpu_start) / max(self.since_start(), 1e-9)


@dataclass
class Position:
    """Where the run stands: what a checkpoint holds besides weights, optimiser and random states."""

    epoch: int = 0                # epochs finished
    batch: int = 0                # batches of the current epoch finished
    step: int = 0                 # optimiser steps taken
    sums: Sums = field(default_factory=Sums)  # the current epoch's training sums so far
    epoch_train_s: float = 0.0    # the current epoch's training seconds in earlier sessions
    history: list[dict[str, Any]] = field(default_factory=list)  # one EpochRecord dict per finished epoch
    best: dict[str, Any] = field(default_factory=lambda: {"val_top1_error": math.inf, "epoch": None})
    elapsed_s: float = 0.0        # wall seconds of earlier sessions

    @classmethod
    def from_checkpoint(cls, state: dict[str, Any]) -> Position:
        return cls(epoch=int(state["epoch"]), batch=int(state["batch"]), step=int(state["global_step"]),
                   sums=Sums(*(float(v) for v in state["accum"])),
                   epoch_train_s=float(state.get("epoch_train_time", 0.0)),
                   history=[dict(r) for r in state["history"]], best=dict(state["best"]),
                   elapsed_s=float(state.get("elapsed", 0.0)))


# ---------------------------------------------------------------------------- environment
def _tower_devices(spec: str | None, towers: int, info: dist_utils.DistInfo) -> tuple[torch.device, ...] | None:
    """The two towers' devices (Section 3.2) from ``--tower-devices``; one error naming it when impossible."""
    if not spec:
        return None
    what = f"setting 'tower_devices' (--tower-devices) = {spec!r}:"
    if towers != 2:
        raise AlexNetError(f"{what} needs the two-tower net (towers=2)")
    if spec == "split":
        first = 2 * info.local_rank
        if not torch.cuda.is_available() or torch.cuda.device_count() < first + 2:
            raise AlexNetError(f"{what} needs GPUs {first} and {first + 1} for local rank {info.local_rank}; this "
                               f"machine has {torch.cuda.device_count() if torch.cuda.is_available() else 'no'} GPUs")
        return torch.device("cuda", first), torch.device("cuda", first + 1)
    names = [d.strip() for d in spec.split(",")]
    if len(names) != 2 or not all(names):
        raise AlexNetError(f"{what} give two devices, e.g. cuda:0,cuda:1")
    return tuple(resolve_device(name, f"{what} device", info.local_rank) for name in names)


def set_deterministic(on: bool, device: torch.device | None = None) -> None:
    """Deterministic algorithms (bit-for-bit repeatable runs on the CPU).

    On CUDA some kernels this network needs (the backward passes of max pooling and of the
    average pooling inside LRN) have no deterministic implementation; there PyTorch is asked to
    warn instead of stopping, and runs are repeatable only up to those kernels.
    """
    if on:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=device is not None and device.type == "cuda")
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    else:
        torch.backends.cudnn.benchmark = True


def _progress_bar(show: bool, **kwargs: Any):
    """A tqdm bar, or a disabled one (from plain ``tqdm``: ``tqdm.auto`` warns in kernels without ipywidgets)."""
    if show:
        from tqdm.auto import tqdm
    else:
        from tqdm import tqdm
    return tqdm(disable=not show, **kwargs)


def _write_json(path: Path, payload: Any) -> None:
    atomic_write(path, json.dumps(payload, indent=2, default=str) + "\n")


def _norm(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v


# ---------------------------------------------------------------------------- data
def _resolve_data(cfg: TrainConfig) -> Path:
    from ..data import resolve_data_root

    if cfg.data == "synthetic":
        return resolve_data_root(None, "synthetic")
    return resolve_data_root(cfg.data, cfg.dataset)


def _build_data(cfg: TrainConfig, root: Path, log) -> tuple[Any, Any, Any]:
    """``(bundle, train store, val store)``: the data set as ``cfg.loader`` reads it (no stores for
    ``images``); at least two classes (a one-class set would give a meaningless perfect score)."""
    from ..data import build_datasets
    from ..data.store import build_store_data

    settings = dict(resize=cfg.resize, crop=cfg.crop, augment=cfg.augment, pca_lighting=cfg.pca_lighting,
                    mean_image=cfg.mean_image, skip_bad=cfg.skip_bad, max_per_class=cfg.max_per_class)
    if cfg.loader == "store":
        bundle, train_store, val_store = build_store_data(root, workers=cfg.workers, log=log, **settings)
    else:
        bundle, train_store, val_store = build_datasets(root, **settings), None, None
    if len(bundle.classes) < 2:
        raise AlexNetError(f"data folder {root} holds {len(bundle.classes)} class ({', '.join(bundle.classes)}): "
                           "training needs at least two class folders")
    return bundle, train_store, val_store


@torch.no_grad()
def _validate(model: nn.Module, loader, device: torch.device, autocast, channels_last: bool) -> Sums:
    """Loss and errors summed over this process's share of the validation set."""
    model.eval()
    sums = Sums()
    memory_format = torch.channels_last if channels_last else torch.preserve_format
    for x, y in loader:
        x = x.to(device, non_blocking=True, memory_format=memory_format)
        with autocast():
            logits = model(x)
        y = y.to(logits.device, non_blocking=True)
        loss = F.cross_entropy(logits.float(), y, reduction="sum")
        e1, e5 = topk_error_counts(logits, y)
        sums.loss += float(loss)
        sums.top1 += e1
        sums.top5 += e5
        sums.images += len(y)
    return sums


# ---------------------------------------------------------------------------- the loop
def train(config: TrainConfig) -> Path:
    """Train one network as ``config`` says; returns the run folder (see the module docstring).

    With ``config.resume`` the run in ``config.out`` continues from its ``last.pt`` (or starts, if
    it has none yet). Raises :class:`AlexNetError` for impossible settings, a run folder that
    already holds another run, an unreadable or incompatible checkpoint, and a non-finite loss
    (:class:`NonFiniteLossError`, after which the last good checkpoint is still in place).
    """
    cfg = dataclasses.replace(config).validate()
    info = dist_utils.setup(cfg.device)
    try:
        return _Trainer(cfg, info).run()
    finally:
        dist_utils.cleanup(info)


class _Trainer:
    """One training run: :meth:`run` is the whole loop, each step of it a method below."""

    def __init__(self, cfg: TrainConfig, info: dist_utils.DistInfo) -> None:
        self.cfg, self.info = cfg, info
        if cfg.out is None:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            cfg.out = str(dist_utils.broadcast_object(str(ROOT / "runs" / stamp), info))
        self.out = Path(cfg.out)
        self.main = info.is_main
        self.show_bar = cfg.progress and not cfg.quiet and self.main
        self.t_start = time.perf_counter()

    def log(self, message: str) -> None:
        if self.main:
            print(message, flush=True)

    def run(self) -> Path:
        """Section 5's recipe: set up, then epoch after epoch train, validate and end the epoch
        (schedule, record, checkpoints), then the summary."""
        self.set_up()
        while self.pos.epoch < self.cfg.epochs:
            epoch_clock = self.train_epoch()
            val, val_time = self.validate()
            self.end_epoch(epoch_clock, val, val_time)
        self.finish()
        return self.out

    # -------------------------------------------------------------- set up
    def set_up(self) -> None:
        """Device, the resumed state, data, model, optimiser and schedule, the run folder, loaders."""
        cfg = self.cfg
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.device = resolve_device(cfg.device, "setting 'device' =", self.info.local_rank)
        if self.device.type == "cpu":
            keep_large_blocks_in_heap()  # the same arithmetic, a third less time per step (allocator.py)
        self.tower_devs = _tower_devices(cfg.tower_devices, cfg.towers, self.info)
        if self.tower_devs is not None:
            self.device = self.tower_devs[0]
        set_deterministic(cfg.deterministic, self.device)
        state = self._load_resume_state()
        self.root = _resolve_data(cfg)
        self.bundle, train_store, val_store = _build_data(cfg, self.root, self.log)
        self.classes = list(self.bundle.classes)
        self.model_config = cfg.model_config(len(self.classes))
        if state is not None:
            check_model_config(state["model_config"], self.model_config, self.out / "last.pt")
            if list(state.get("classes") or self.classes) != self.classes:
                raise AlexNetError(f"checkpoint {self.out / 'last.pt'} was trained on other classes than {self.root}")
        self._build_model()
        self.pos = Position()
        if state is not None:
            self._restore(state)
        del state
        self._write_run_folder()
        self._wrap_model()
        self._build_loaders(train_store, val_store)
        self.log(f"training {sum(p.numel() for p in self.core.parameters()):,} parameters on {self.device} "
                 f"({self.info.world_size} process{'es' if self.info.world_size > 1 else ''}); "
                 f"{len(self.bundle.train)} training images, {len(self.bundle.val)} validation images, "
                 f"{self.steps} steps per epoch, run folder {self.out}")

    def _load_resume_state(self) -> dict[str, Any] | None:
        cfg, out = self.cfg, self.out
        saved_cfg = out / "config.json"
        if not cfg.resume:
            if (out / "last.pt").exists() or (out / "metrics.jsonl").exists():
                raise AlexNetError(f"run folder {out} already holds a run; pass --resume to continue it "
                                   "or choose another --out")
            dist_utils.barrier(self.info)  # every process has looked before the main one writes there
            return None
        if saved_cfg.exists():
            try:
                saved = json.loads(saved_cfg.read_text())["config"]
            except (ValueError, KeyError) as err:
                raise AlexNetError(f"{saved_cfg} is not a run configuration ({err})") from None
            mine = asdict(cfg)
            diffs = [k for k in mine if k not in RESUMABLE_CHANGES and k in saved
                     and _norm(saved[k]) != _norm(mine[k])]
            if diffs:
                detail = "; ".join(f"{k}: run {saved[k]!r}, now {mine[k]!r}" for k in diffs)
                raise AlexNetError(f"cannot resume {out} with different settings ({detail})")
        if self.main:
            for stale in remove_stale_temporaries(out) if out.exists() else []:
                self.log(f"removed {stale.name} (a checkpoint write that was interrupted)")
        dist_utils.barrier(self.info)
        last = out / "last.pt"
        if not last.exists():
            self.log(f"{out} has no last.pt yet: starting the run from the beginning")
            return None
        return load_checkpoint(last)

    def _build_model(self) -> None:
        """Sections 3 and 5: the network (seeded initialisation), the update rule, the schedule."""
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        model = AlexNet(**self.model_config, devices=self.tower_devs, fast=MODEL_PATHS[cfg.model])
        if self.tower_devs is None:
            model.to(self.device)
        if cfg.channels_last:
            model.to(memory_format=torch.channels_last)
        sgd = PaperSGD if cfg.optimizer == "paper" else torch.optim.SGD
        self.optimizer = sgd(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
        self.schedule = make_schedule(cfg.lr_schedule, self.optimizer, factor=cfg.lr_factor, patience=cfg.patience,
                                      max_reductions=cfg.max_lr_drops, step_size=cfg.step_size)
        amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.amp)
        self.autocast = lambda: torch.autocast(self.device.type, dtype=amp_dtype, enabled=amp_dtype is not None)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=cfg.amp == "fp16")
        self.core: nn.Module = model

    def _restore(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint: weights, momentum, schedule, position, random states."""
        self.core.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.schedule.load_state_dict(state["schedule"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.pos = Position.from_checkpoint(state)
        restore_rng_states(state["rng"])
        self.log(f"resuming {self.out} at epoch {self.pos.epoch + 1}, batch {self.pos.batch} (step {self.pos.step})")

    def _write_run_folder(self) -> None:
        """``config.json`` and the ``metrics.jsonl`` of the epochs finished so far."""
        cfg, mc, bundle = self.cfg, self.model_config, self.bundle
        if self.main:
            self.out.mkdir(parents=True, exist_ok=True)
            _write_json(self.out / "config.json", {
                "config": asdict(cfg), "model_config": mc,
                "parameters": sum(p.numel() for p in self.core.parameters()),
                "paper_size": mc["widths"] == PAPER_WIDTHS and mc["fc"] == PAPER_FC and cfg.towers == 2,
                "data": {"root": str(self.root), "description": bundle.description,
                         "synthetic": bool(bundle.synthetic), "classes": len(self.classes),
                         "train_images": len(bundle.train), "val_images": len(bundle.val)},
                "world_size": self.info.world_size, "provenance": provenance_record(self.device).to_dict(),
            })
            atomic_write(self.out / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in self.pos.history))
        dist_utils.barrier(self.info)

    def _wrap_model(self) -> None:
        """``self.net``: the model as trained (DistributedDataParallel over processes, compiled)."""
        self.net: nn.Module = self.core
        if self.info.enabled:
            from torch.nn.parallel import DistributedDataParallel as DDP

            on_one_gpu = self.device.type == "cuda" and self.tower_devs is None
            self.net = DDP(self.core, device_ids=[self.device.index] if on_one_gpu else None)
        if self.cfg.compile:
            self.net = torch.compile(self.net)

    def _build_loaders(self, train_store, val_store) -> None:
        """The resumable data order and the training and validation batches (:mod:`alexnet.data`)."""
        cfg, info, bundle = self.cfg, self.info, self.bundle
        self.sampler = ResumableSampler(len(bundle.train), cfg.batch_size, cfg.seed, rank=info.rank,
                                        world_size=info.world_size, steps_per_epoch=cfg.steps_per_epoch)
        local_batch = cfg.batch_size // info.world_size
        val_batch = cfg.eval_batch_size or local_batch
        val_indices = range(info.rank, len(bundle.val), info.world_size)
        if cfg.loader == "store":
            from ..data.augment import GPUAugment
            from ..data.store import StoreBatches

            augment = GPUAugment(bundle.mean, cfg.crop, scale=bundle.scale, flip=cfg.augment, pca=bundle.pca,
                                 channels_last=cfg.channels_last)
            self.train_loader = StoreBatches(train_store, augment, self.device, train=True, sampler=self.sampler,
                                             seed=cfg.seed, random_crops=cfg.augment)
            self.val_loader = StoreBatches(val_store, augment, self.device, train=False, indices=val_indices,
                                           batch_size=val_batch)
        else:
            from ..data import make_loader

            self.train_loader = make_loader(SeededDataset(bundle.train), local_batch, train=True,
                                            workers=cfg.workers, seed=cfg.seed, sampler=self.sampler)
            self.val_loader = make_loader(bundle.val, val_batch, train=False, workers=cfg.workers, seed=cfg.seed,
                                          sampler=val_indices)
        self.steps = self.sampler.num_batches()
        # the training set's mean image (Section 2): evaluation subtracts this one, whatever folder it reads
        self.data_mean = bundle.mean.detach().to(torch.float32).cpu().clone()

    # -------------------------------------------------------------- one epoch
    def train_epoch(self) -> EpochClock:
        """Train from the current position to the end of the epoch; returns its clock."""
        cfg, pos = self.cfg, self.pos
        self.net.train()
        self.sampler.set_position(pos.epoch, pos.batch)
        self.lr_used = self.schedule.lr
        epoch_clock = EpochClock(earlier_s=pos.epoch_train_s)
        bar = _progress_bar(self.show_bar, total=self.steps, initial=pos.batch, leave=False, dynamic_ncols=True,
                            desc=f"epoch {pos.epoch + 1}/{cfg.epochs}")
        try:
            t_ready = time.perf_counter()
            for b, (x, y) in enumerate(self.train_loader, start=pos.batch):
                t_got = time.perf_counter()
                epoch_clock.data_wait_s += t_got - t_ready
                sums = self.train_step(x, y, b)
                epoch_clock.step_s += time.perf_counter() - t_got
                epoch_clock.step_images += len(y)
                epoch_clock.images += int(sums.images)
                pos.step += 1
                pos.sums = pos.sums + sums
                self._report_step(b, epoch_clock, bar)
                if cfg.checkpoint_every and pos.step % cfg.checkpoint_every == 0 and b + 1 < self.steps and self.main:
                    save_checkpoint(self.snapshot(pos.epoch, b + 1, pos.sums, epoch_clock.training_s()),
                                    self.out / "last.pt")
                t_ready = time.perf_counter()
        finally:
            bar.close()
        pos.epoch_train_s = epoch_clock.training_s()
        return epoch_clock

    def train_step(self, x: torch.Tensor, y: torch.Tensor, b: int) -> Sums:
        """One minibatch of Section 5's SGD; returns its sums over all processes."""
        torch.manual_seed(derive_seed(self.cfg.seed, 0xD209, self.pos.epoch, b, self.info.rank))  # dropout masks
        memory_format = torch.channels_last if self.cfg.channels_last else torch.preserve_format
        x = x.to(self.device, non_blocking=True, memory_format=memory_format)
        with self.autocast():
            logits = self.net(x)
        y = y.to(logits.device, non_blocking=True)
        loss = F.cross_entropy(logits.float(), y)
        e1, e5 = topk_error_counts(logits.detach(), y)
        sums = Sums(float(loss.detach()) * len(y), e1, e5, len(y)).reduced(self.info, self.device)
        if not math.isfinite(sums.loss):
            self._stop_diverged(sums, b)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return sums

    def _stop_diverged(self, sums: Sums, b: int) -> NoReturn:
        """Stop the run: the loss is not finite (the checkpoint on disk, if any, is still good)."""
        last = self.out / "last.pt"
        kept = f"the last good checkpoint is {last}" if last.exists() else "no checkpoint was written yet"
        raise NonFiniteLossError(
            f"the loss became {sums.loss / max(sums.images, 1):.4g} at epoch {self.pos.epoch + 1}, batch {b + 1} "
            f"(step {self.pos.step + 1}); stopped: {kept}. Try a lower --lr (now {self.lr_used:g})")

    def _report_step(self, b: int, epoch_clock: EpochClock, bar) -> None:
        """The progress bar's loss, speed and time left; with ``quiet``, a log line every ``log_every`` steps."""
        cfg, pos = self.cfg, self.pos
        rate = epoch_clock.images / max(epoch_clock.since_start(), 1e-9)
        left = ((self.steps - b - 1) + (cfg.epochs - pos.epoch - 1) * self.steps) * cfg.batch_size / max(rate, 1e-9)
        loss, top1, _ = pos.sums.means()
        bar.update(1)
        if self.show_bar:
            bar.set_postfix(loss=f"{loss:.3f}", img_s=f"{rate:.0f}", left=clock(left))
        elif cfg.quiet and pos.step % max(cfg.log_every, 1) == 0:
            self.log(f"epoch {pos.epoch + 1}/{cfg.epochs} batch {b + 1}/{self.steps} loss {loss:.4f} "
                     f"top1-err {top1:.3f} lr {self.lr_used:g} {rate:.0f} img/s left {clock(left)}")

    def validate(self) -> tuple[Sums, float]:
        """The validation loss and errors, summed over the processes, and the seconds they took."""
        t_val = time.perf_counter()
        model = self.core if self.info.enabled else self.net
        val = _validate(model, self.val_loader, self.device, self.autocast, self.cfg.channels_last)
        return val.reduced(self.info, self.device), time.perf_counter() - t_val

    # -------------------------------------------------------------- the end of an epoch
    def end_epoch(self, epoch_clock: EpochClock, val: Sums, val_time: float) -> None:
        """Schedule (Section 5), the epoch's record, checkpoints, the log line."""
        pos = self.pos
        cores = epoch_clock.cpu_cores()
        val_e1 = val.means()[1]
        reduced = self.schedule.step(val_e1)
        pos.epoch, pos.batch = pos.epoch + 1, 0
        record = self._record(epoch_clock, val, val_time, reduced, cores)
        pos.history.append(record.to_dict())
        improved = val_e1 < pos.best["val_top1_error"]
        if improved:
            pos.best = {"val_top1_error": val_e1, "val_top5_error": record.val_top5_error, "epoch": pos.epoch}
        pos.sums, pos.epoch_train_s = Sums(), 0.0
        if self.main:
            snap = self.snapshot(pos.epoch, 0, pos.sums, 0.0)
            if improved:
                save_checkpoint(snap, self.out / "best.pt")
            save_checkpoint(snap, self.out / "last.pt")
            with open(self.out / "metrics.jsonl", "a") as f:
                f.write(json.dumps(record.to_dict()) + "\n")
        self._log_epoch(record)
        dist_utils.barrier(self.info)

    def _record(self, epoch_clock: EpochClock, val: Sums, val_time: float, reduced: bool, cores: float) -> EpochRecord:
        pos, train_s = self.pos, self.pos.epoch_train_s
        train_loss, train_e1, train_e5 = pos.sums.means()
        val_loss, val_e1, val_e5 = val.means()
        return EpochRecord(
            epoch=pos.epoch, step=pos.step, lr=self.lr_used,
            train_loss=train_loss, train_top1_error=train_e1, train_top5_error=train_e5,
            val_loss=val_loss, val_top1_error=val_e1, val_top5_error=val_e5,
            lr_reduced=reduced, next_lr=self.schedule.lr, model=self.cfg.model, loader=self.cfg.loader,
            images_per_s=pos.sums.images / max(train_s, 1e-9), epoch_time_s=train_s,
            # the bare training step (forward, backward, update) of this process in this epoch's session
            step_images_per_s=epoch_clock.step_images / max(epoch_clock.step_s, 1e-9), step_time_s=epoch_clock.step_s,
            data_wait_s=epoch_clock.data_wait_s, val_time_s=val_time, val_images_per_s=val.images / max(val_time, 1e-9),
            cpu_cores_used=cores, wall_time_s=self.wall_time_s(),
        )

    def _log_epoch(self, r: EpochRecord) -> None:
        self.log(f"epoch {r.epoch}/{self.cfg.epochs}: train loss {r.train_loss:.4f}, top-1/top-5 error "
                 f"{r.train_top1_error:.4f}/{r.train_top5_error:.4f}; val top-1/top-5 error "
                 f"{r.val_top1_error:.4f}/{r.val_top5_error:.4f}; lr {r.lr:g}"
                 f"{' -> ' + format(r.next_lr, 'g') if r.lr_reduced else ''}; training {r.epoch_time_s:.0f} s, "
                 f"{r.images_per_s:.1f} img/s (the training step alone {r.step_images_per_s:.1f} "
                 f"img/s; {r.data_wait_s:.1f} s waiting for data); validation {r.val_time_s:.0f} s, "
                 f"{r.val_images_per_s:.0f} img/s; {r.cpu_cores_used:.2f} CPU cores busy")

    def wall_time_s(self) -> float:
        """Seconds since the run started, earlier sessions included."""
        return self.pos.elapsed_s + time.perf_counter() - self.t_start

    def snapshot(self, next_epoch: int, next_batch: int, sums: Sums, train_time: float) -> dict[str, Any]:
        """Everything a checkpoint holds (:mod:`alexnet.training.checkpoint`)."""
        pos = self.pos
        return {
            "format": FORMAT, "model": self.core.state_dict(), "model_config": self.model_config,
            "optimizer": self.optimizer.state_dict(), "schedule": self.schedule.state_dict(),
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else {},
            "epoch": next_epoch, "batch": next_batch, "global_step": pos.step,
            "accum": sums.as_list(), "epoch_train_time": train_time,
            "history": pos.history, "best": pos.best, "rng": rng_states(), "config": asdict(self.cfg),
            "classes": self.classes, "class_names": list(self.bundle.class_names),
            "data_config": self.cfg.data_config(), "data_mean": self.data_mean,
            "elapsed": self.wall_time_s(), "world_size": self.info.world_size,
            "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }

    def finish(self) -> None:
        """``summary.json`` and the last line."""
        pos = self.pos
        if self.main:
            _write_json(self.out / "summary.json", {
                "run": str(self.out), "finished": True, "epochs": len(pos.history), "steps": pos.step,
                "final": pos.history[-1] if pos.history else {}, "best": pos.best,
                "lr_reductions": int(getattr(self.schedule, "reductions", 0)),
                "final_lr": self.schedule.lr, "wall_time_s": self.wall_time_s(),
                "data": {"root": str(self.root), "description": self.bundle.description,
                         "synthetic": bool(self.bundle.synthetic)},
                "model_config": self.model_config,
                "checkpoints": {"last": str(self.out / "last.pt"), "best": str(self.out / "best.pt")},
            })
            self.log(f"done: best val top-1 error {pos.best['val_top1_error']:.4f} at epoch {pos.best['epoch']}; "
                     f"run folder {self.out}")
        dist_utils.barrier(self.info)
