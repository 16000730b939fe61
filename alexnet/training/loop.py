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

Exact resumption. Every random choice is a function of the position in the run, never of its
history: the data order of epoch ``e`` comes from ``(seed, e)``, each image's crop, flip and PCA
lighting from ``(seed, e, index)`` (:mod:`alexnet.training.sampler`), and the dropout masks of step ``s``
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
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import AlexNetError
from ..evaluate import topk_error_counts
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
from .history import EpochRecord
from .sampler import ResumableSampler, SeededDataset, derive_seed
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


# ---------------------------------------------------------------------------- environment
def _tower_devices(spec: str | None, towers: int, info: dist_utils.DistInfo) -> tuple[torch.device, ...] | None:
    if not spec:
        return None
    if towers != 2:
        raise AlexNetError("setting 'tower_devices' needs the two-tower net (towers=2)")
    if spec == "split":
        if not torch.cuda.is_available() or torch.cuda.device_count() < 2 * (info.local_rank + 1):
            raise AlexNetError(f"setting 'tower_devices' = 'split' needs GPUs {2 * info.local_rank} and "
                               f"{2 * info.local_rank + 1} for local rank {info.local_rank}")
        return (torch.device("cuda", 2 * info.local_rank), torch.device("cuda", 2 * info.local_rank + 1))
    devs = tuple(torch.device(d.strip()) for d in spec.split(","))
    if len(devs) != 2:
        raise AlexNetError(f"setting 'tower_devices' = {spec!r}: give two devices, e.g. cuda:0,cuda:1")
    return devs


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


# ---------------------------------------------------------------------------- data
def _resolve_data(cfg: TrainConfig) -> Path:
    from ..data import resolve_data_root

    if cfg.data == "synthetic":
        return resolve_data_root(None, "synthetic")
    return resolve_data_root(cfg.data, cfg.dataset)


def _build_data(cfg: TrainConfig, root: Path):
    from ..data import build_datasets

    return build_datasets(root, resize=cfg.resize, crop=cfg.crop, augment=cfg.augment,
                          pca_lighting=cfg.pca_lighting, mean_image=cfg.mean_image, skip_bad=cfg.skip_bad,
                          max_per_class=cfg.max_per_class)


def _build_store_data(cfg: TrainConfig, root: Path, log) -> tuple[Any, Any, Any]:
    """Section 2's images decoded once into cached uint8 stores (:mod:`alexnet.data.store`):
    ``(bundle, train store, val store)``; the bundle's mean image and PCA come from the store."""
    from ..data import build_datasets, mean_image, pca_stats
    from ..data.stats import IMAGENET_MEAN_RGB
    from ..data.store import StoreImages, cached_store

    bundle = build_datasets(root, resize=cfg.resize, crop=cfg.crop, augment=cfg.augment, pca_lighting=False,
                            mean_image=False, skip_bad=cfg.skip_bad, max_per_class=cfg.max_per_class)
    train_raw, val_raw = bundle.train.raw, bundle.val.raw
    train_store = cached_store(train_raw, root, "train", workers=cfg.workers, log=log)
    val_store = cached_store(val_raw, root, "val", workers=cfg.workers, log=log)
    train_images = StoreImages(train_store, train_raw)
    if cfg.mean_image:  # the same cache file as the images path computes (same keys, same pixels)
        mean = mean_image(train_images, root, workers=0) * bundle.scale
    else:
        mean = torch.tensor(IMAGENET_MEAN_RGB).view(3, 1, 1) * bundle.scale
    pca = pca_stats(train_images, root, workers=0) if (cfg.augment and cfg.pca_lighting) else None
    return dataclasses.replace(bundle, mean=mean, pca=pca), train_store, val_store


def _loader(dataset, batch_size: int, sampler, workers: int | None, seed: int, train: bool):
    from ..data import make_loader

    return make_loader(dataset, batch_size, train=train, workers=workers, seed=seed, sampler=sampler)


# ---------------------------------------------------------------------------- metrics
def read_metrics(run: str | Path) -> list[dict[str, Any]]:
    """The per-epoch records of ``metrics.jsonl`` in ``run`` (a run folder or an exported results folder).

    Each line is checked against the history schema (:class:`~alexnet.training.history.EpochRecord`:
    an :class:`AlexNetError` names the file, the line and the missing or unknown key) and returned
    as the dict it holds (``EpochRecord.from_dict(row)`` gives the record).
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


def _write_json(path: Path, payload: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def _write_metrics(path: Path, history: list[dict[str, Any]]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in history))
    os.replace(tmp, path)


def _fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


# ---------------------------------------------------------------------------- the loop
@torch.no_grad()
def _validate(model: nn.Module, loader, device: torch.device, autocast, channels_last: bool) -> list[float]:
    """``[loss_sum, top1_errors, top5_errors, n]`` over this process's share of the validation set."""
    model.eval()
    sums = [0.0, 0.0, 0.0, 0.0]
    for x, y in loader:
        x = x.to(device, non_blocking=True, memory_format=torch.channels_last if channels_last else torch.preserve_format)
        with autocast():
            logits = model(x)
        y = y.to(logits.device, non_blocking=True)
        loss = F.cross_entropy(logits.float(), y, reduction="sum")
        e1, e5 = topk_error_counts(logits, y)
        sums[0] += float(loss)
        sums[1] += e1
        sums[2] += e5
        sums[3] += len(y)
    return sums


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
    def __init__(self, cfg: TrainConfig, info: dist_utils.DistInfo) -> None:
        self.cfg, self.info = cfg, info
        if cfg.out is None:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            cfg.out = str(dist_utils.broadcast_object(str(ROOT / "runs" / stamp), info))
        self.out = Path(cfg.out)
        self.main = info.is_main
        self.show_bar = cfg.progress and not cfg.quiet and self.main

    def log(self, message: str) -> None:
        if self.main:
            print(message, flush=True)

    # -------------------------------------------------------------- setup
    def _load_resume_state(self) -> dict[str, Any] | None:
        cfg, out = self.cfg, self.out
        saved_cfg = out / "config.json"
        if not cfg.resume:
            if (out / "last.pt").exists() or (out / "metrics.jsonl").exists():
                raise AlexNetError(f"run folder {out} already holds a run; pass --resume to continue it "
                                   "or choose another --out")
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

    def run(self) -> Path:
        cfg, info = self.cfg, self.info
        t_start = time.perf_counter()
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        device = resolve_device(cfg.device, "setting 'device' =", info.local_rank)
        tower_devs = _tower_devices(cfg.tower_devices, cfg.towers, info)
        if tower_devs is not None:
            device = tower_devs[0]
        set_deterministic(cfg.deterministic, device)
        state = self._load_resume_state()

        root = _resolve_data(cfg)
        if cfg.loader == "store":
            bundle, train_store, val_store = _build_store_data(cfg, root, self.log)
        else:
            bundle = _build_data(cfg, root)
        classes = list(bundle.classes)
        model_config = cfg.model_config(len(classes))
        if state is not None:
            check_model_config(state["model_config"], model_config, self.out / "last.pt")
            if list(state.get("classes") or classes) != classes:
                raise AlexNetError(f"checkpoint {self.out / 'last.pt'} was trained on other classes than {root}")

        # model, optimiser, schedule (Sections 3 and 5)
        torch.manual_seed(cfg.seed)
        model = AlexNet(**model_config, devices=tower_devs, fast=MODEL_PATHS[cfg.model])
        if tower_devs is None:
            model.to(device)
        if cfg.channels_last:
            model.to(memory_format=torch.channels_last)
        if cfg.optimizer == "paper":
            optimizer = PaperSGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
        else:
            optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                                        weight_decay=cfg.weight_decay)
        schedule = make_schedule(cfg.lr_schedule, optimizer, factor=cfg.lr_factor, patience=cfg.patience,
                                 max_reductions=cfg.max_lr_drops, step_size=cfg.step_size)
        amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(cfg.amp)
        scaler = torch.amp.GradScaler(device.type, enabled=cfg.amp == "fp16")

        epoch, batch, global_step, elapsed = 0, 0, 0, 0.0
        step_time, step_images, data_wait = 0.0, 0, 0.0  # this session's share of the epoch (not checkpointed)
        accum = [0.0, 0.0, 0.0, 0.0]
        epoch_train_time = 0.0
        history: list[dict[str, Any]] = []
        best: dict[str, Any] = {"val_top1_error": math.inf, "epoch": None}
        if state is not None:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            schedule.load_state_dict(state["schedule"])
            if state.get("scaler"):
                scaler.load_state_dict(state["scaler"])
            epoch, batch, global_step = int(state["epoch"]), int(state["batch"]), int(state["global_step"])
            accum = [float(v) for v in state["accum"]]
            epoch_train_time = float(state.get("epoch_train_time", 0.0))
            history = [dict(r) for r in state["history"]]
            best = dict(state["best"])
            elapsed = float(state.get("elapsed", 0.0))
            restore_rng_states(state["rng"])
            self.log(f"resuming {self.out} at epoch {epoch + 1}, batch {batch} (step {global_step})")
        del state

        # the run folder
        if self.main:
            self.out.mkdir(parents=True, exist_ok=True)
            _write_json(self.out / "config.json", {
                "config": asdict(cfg), "model_config": model_config,
                "parameters": sum(p.numel() for p in model.parameters()),
                "paper_size": model_config["widths"] == PAPER_WIDTHS and model_config["fc"] == PAPER_FC
                and cfg.towers == 2,
                "data": {"root": str(root), "description": bundle.description, "synthetic": bool(bundle.synthetic),
                         "classes": len(classes), "train_images": len(bundle.train), "val_images": len(bundle.val)},
                "world_size": info.world_size, "provenance": provenance_record(device).to_dict(),
            })
            _write_metrics(self.out / "metrics.jsonl", history)
        dist_utils.barrier(info)

        core = model
        net: nn.Module = model
        if info.enabled:
            from torch.nn.parallel import DistributedDataParallel as DDP

            net = DDP(model, device_ids=[device.index] if device.type == "cuda" and tower_devs is None else None)
        if cfg.compile:
            net = torch.compile(net)

        # data order (resumable) and loaders
        sampler = ResumableSampler(len(bundle.train), cfg.batch_size, cfg.seed, rank=info.rank,
                                   world_size=info.world_size, steps_per_epoch=cfg.steps_per_epoch)
        local_batch = cfg.batch_size // info.world_size
        val_sampler = range(info.rank, len(bundle.val), info.world_size)
        if cfg.loader == "store":
            from ..data.gpu_pipeline import GPUAugment
            from ..data.store import StoreBatches

            augment = GPUAugment(bundle.mean, cfg.crop, scale=bundle.scale, flip=cfg.augment, pca=bundle.pca,
                                 channels_last=cfg.channels_last)
            train_loader = StoreBatches(train_store, augment, device, train=True, sampler=sampler, seed=cfg.seed,
                                        random_crops=cfg.augment)
            val_loader = StoreBatches(val_store, augment, device, train=False, indices=val_sampler,
                                      batch_size=cfg.eval_batch_size or local_batch)
        else:
            train_loader = _loader(SeededDataset(bundle.train), local_batch, sampler, cfg.workers, cfg.seed, True)
            val_loader = _loader(bundle.val, cfg.eval_batch_size or local_batch, val_sampler, cfg.workers, cfg.seed,
                                 False)
        steps = sampler.num_batches()
        # the training set's mean image (Section 2): evaluation subtracts this one, whatever folder it reads
        data_mean = bundle.mean.detach().to(torch.float32).cpu().clone()
        memory_format = torch.channels_last if cfg.channels_last else torch.preserve_format

        def autocast():
            return torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None)

        def snapshot(next_epoch: int, next_batch: int, sums: list[float], train_time: float) -> dict[str, Any]:
            return {
                "format": FORMAT, "model": core.state_dict(), "model_config": model_config,
                "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
                "scaler": scaler.state_dict() if scaler.is_enabled() else {},
                "epoch": next_epoch, "batch": next_batch, "global_step": global_step,
                "accum": list(sums), "epoch_train_time": train_time,
                "history": history, "best": best, "rng": rng_states(), "config": asdict(cfg),
                "classes": classes, "class_names": list(bundle.class_names), "data_config": cfg.data_config(),
                "data_mean": data_mean,
                "elapsed": elapsed + time.perf_counter() - t_start, "world_size": info.world_size,
                "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            }

        if self.show_bar:
            from tqdm.auto import tqdm
        else:  # no bar: do not even import tqdm.auto (it warns in kernels without ipywidgets)
            tqdm = _NoBar

        self.log(f"training {sum(p.numel() for p in model.parameters()):,} parameters on {device} "
                 f"({info.world_size} process{'es' if info.world_size > 1 else ''}); {len(bundle.train)} training "
                 f"images, {len(bundle.val)} validation images, {steps} steps per epoch, run folder {self.out}")
        while epoch < cfg.epochs:
            net.train()
            sampler.set_position(epoch, batch)
            lr_used = schedule.lr
            bar = tqdm(total=steps, initial=batch, desc=f"epoch {epoch + 1}/{cfg.epochs}", disable=not self.show_bar,
                       leave=False, dynamic_ncols=True)
            t_epoch = time.perf_counter()
            cpu_epoch = time.process_time()
            t_seen = 0
            t_ready = time.perf_counter()
            for b, (x, y) in enumerate(train_loader, start=batch):
                t_got = time.perf_counter()
                data_wait += t_got - t_ready
                torch.manual_seed(derive_seed(cfg.seed, 0xD209, epoch, b, info.rank))  # dropout masks of this step
                x = x.to(device, non_blocking=True, memory_format=memory_format)
                with autocast():
                    logits = net(x)
                y = y.to(logits.device, non_blocking=True)
                loss = F.cross_entropy(logits.float(), y)
                e1, e5 = topk_error_counts(logits.detach(), y)
                sums = dist_utils.all_reduce_sum([float(loss.detach()) * len(y), e1, e5, len(y)], info, device)
                if not math.isfinite(sums[0]):
                    bar.close()
                    raise NonFiniteLossError(
                        f"the loss became {sums[0] / max(sums[3], 1):.4g} at epoch {epoch + 1}, batch {b + 1} "
                        f"(step {global_step + 1}); stopped. The last good checkpoint is {self.out / 'last.pt'}"
                        f"{'' if (self.out / 'last.pt').exists() else ' (none written yet)'}; try a lower --lr")
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                step_time += time.perf_counter() - t_got
                step_images += len(y)
                global_step += 1
                accum = [a + s for a, s in zip(accum, sums)]
                t_seen += int(sums[3])
                now = time.perf_counter()
                rate = t_seen / max(now - t_epoch, 1e-9)
                left = ((steps - b - 1) + (cfg.epochs - epoch - 1) * steps) * cfg.batch_size / max(rate, 1e-9)
                bar.update(1)
                if self.show_bar:
                    bar.set_postfix(loss=f"{accum[0] / accum[3]:.3f}", img_s=f"{rate:.0f}", left=_fmt_time(left))
                elif cfg.quiet and (global_step % max(cfg.log_every, 1) == 0):
                    self.log(f"epoch {epoch + 1}/{cfg.epochs} batch {b + 1}/{steps} loss {accum[0] / accum[3]:.4f} "
                             f"top1-err {accum[1] / accum[3]:.3f} lr {lr_used:g} {rate:.0f} img/s left {_fmt_time(left)}")
                if cfg.checkpoint_every and global_step % cfg.checkpoint_every == 0 and b + 1 < steps and self.main:
                    save_checkpoint(snapshot(epoch, b + 1, accum, epoch_train_time + time.perf_counter() - t_epoch),
                                    self.out / "last.pt")
                t_ready = time.perf_counter()
            bar.close()
            epoch_train_time += time.perf_counter() - t_epoch

            # end of epoch: validation (reduced over processes), schedule, records, checkpoints
            t_val = time.perf_counter()
            val = dist_utils.all_reduce_sum(_validate(core if info.enabled else net, val_loader, device, autocast,
                                                      cfg.channels_last), info, device)
            val_time = time.perf_counter() - t_val
            cores = (time.process_time() - cpu_epoch) / max(time.perf_counter() - t_epoch, 1e-9)
            train_loss, train_e1, train_e5 = (accum[0] / accum[3], accum[1] / accum[3], accum[2] / accum[3])
            val_loss, val_e1, val_e5 = (val[0] / val[3], val[1] / val[3], val[2] / val[3])
            reduced = schedule.step(val_e1)
            epoch += 1
            batch = 0
            record = EpochRecord(
                epoch=epoch, step=global_step, lr=lr_used,
                train_loss=train_loss, train_top1_error=train_e1, train_top5_error=train_e5,
                val_loss=val_loss, val_top1_error=val_e1, val_top5_error=val_e5,
                lr_reduced=reduced, next_lr=schedule.lr,
                model=cfg.model, loader=cfg.loader,
                images_per_s=accum[3] / max(epoch_train_time, 1e-9), epoch_time_s=epoch_train_time,
                # the bare training step (forward, backward, update) of this process in this epoch's session
                step_images_per_s=step_images / max(step_time, 1e-9), step_time_s=step_time,
                data_wait_s=data_wait, val_time_s=val_time, val_images_per_s=val[3] / max(val_time, 1e-9),
                # CPU time of this process over wall time, this session's training and validation: on a
                # shared machine, how many cores the run actually had
                cpu_cores_used=cores,
                wall_time_s=elapsed + time.perf_counter() - t_start,
            )
            history.append(record.to_dict())
            improved = val_e1 < best["val_top1_error"]
            if improved:
                best = {"val_top1_error": val_e1, "val_top5_error": val_e5, "epoch": epoch}
            accum, epoch_train_time = [0.0, 0.0, 0.0, 0.0], 0.0
            step_time, step_images, data_wait = 0.0, 0, 0.0
            if self.main:
                snap = snapshot(epoch, 0, accum, 0.0)
                if improved:
                    save_checkpoint(snap, self.out / "best.pt")
                save_checkpoint(snap, self.out / "last.pt")
                with open(self.out / "metrics.jsonl", "a") as f:
                    f.write(json.dumps(record.to_dict()) + "\n")
            self.log(f"epoch {epoch}/{cfg.epochs}: train loss {train_loss:.4f}, top-1/top-5 error "
                     f"{train_e1:.4f}/{train_e5:.4f}; val top-1/top-5 error {val_e1:.4f}/{val_e5:.4f}; lr {lr_used:g}"
                     f"{' -> ' + format(schedule.lr, 'g') if reduced else ''}; training {record.epoch_time_s:.0f} s, "
                     f"{record.images_per_s:.1f} img/s (the training step alone {record.step_images_per_s:.1f} "
                     f"img/s; {record.data_wait_s:.1f} s waiting for data); validation {record.val_time_s:.0f} s, "
                     f"{record.val_images_per_s:.0f} img/s; {cores:.2f} CPU cores busy")
            dist_utils.barrier(info)

        if self.main:
            final = history[-1] if history else {}
            _write_json(self.out / "summary.json", {
                "run": str(self.out), "finished": True, "epochs": len(history), "steps": global_step,
                "final": final, "best": best, "lr_reductions": int(getattr(schedule, "reductions", 0)),
                "final_lr": schedule.lr, "wall_time_s": elapsed + time.perf_counter() - t_start,
                "data": {"root": str(root), "description": bundle.description, "synthetic": bool(bundle.synthetic)},
                "model_config": model_config, "checkpoints": {"last": str(self.out / "last.pt"),
                                                              "best": str(self.out / "best.pt")},
            })
            self.log(f"done: best val top-1 error {best['val_top1_error']:.4f} at epoch {best['epoch']}; "
                     f"run folder {self.out}")
        dist_utils.barrier(info)
        return self.out


class _NoBar:
    """Stands in for a disabled tqdm bar."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass


def _norm(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v
