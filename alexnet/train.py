"""The training loop of Section 5, with checkpoints that survive a kill and a run folder per run.

The defaults are the paper's recipe (Section 5): minibatches of 128, :class:`alexnet.PaperSGD`
(learning rate 0.01, momentum 0.9, weight decay 0.0005), the paper's initialisation, the learning
rate divided by 10 when the validation error stops improving (:mod:`alexnet.schedule`), at most
three times, 90 epochs. Everything is a field of :class:`TrainConfig`; ``python -m alexnet train``
exposes each field as a flag (and reads YAML/JSON config files), and :func:`train` is the Python
entry point the notebooks use.

A run folder holds:

* ``config.json``: the resolved configuration, the model's constructor arguments, the data set,
  the git commit and package versions, the command line;
* ``metrics.jsonl``: one line per epoch (train loss and top-1/top-5 error, validation loss and
  top-1/top-5 error, learning rate, images per second, wall time);
* ``last.pt`` (after every epoch and every ``checkpoint_every`` steps) and ``best.pt`` (lowest
  validation top-1 error), written atomically (:mod:`alexnet.checkpoint`);
* ``summary.json`` when the run ends.

Exact resumption. Every random choice is a function of the position in the run, never of its
history: the data order of epoch ``e`` comes from ``(seed, e)``, each image's crop, flip and PCA
lighting from ``(seed, e, index)`` (:mod:`alexnet.sampler`), and the dropout masks of step ``s``
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
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from . import distributed as dist_utils
from .checkpoint import (
    FORMAT, check_model_config, load_checkpoint, remove_stale_temporaries, restore_rng_states,
    rng_states, save_checkpoint,
)
from .errors import AlexNetError
from .model import ONE_TOWER_WIDTHS, PAPER_FC, PAPER_WIDTHS, AlexNet
from .optim import PaperSGD
from .sampler import ResumableSampler, SeededDataset, derive_seed
from .schedule import make_schedule

__all__ = ["TrainConfig", "train", "read_metrics", "TIMING_KEYS", "NonFiniteLossError"]

ROOT = Path(__file__).resolve().parent.parent
#: Per-epoch fields that depend on the machine's speed, not on the computation.
TIMING_KEYS = ("images_per_s", "epoch_time_s", "wall_time_s", "step_images_per_s", "step_time_s",
               "data_wait_s", "val_time_s", "val_images_per_s", "cpu_cores_used")
#: Fields that may change when a run is resumed (they do not change what is computed).
RESUMABLE_CHANGES = ("resume", "quiet", "progress", "workers", "data", "out", "epochs", "checkpoint_every",
                     "log_every", "eval_batch_size", "device", "threads", "model", "preset", "differences")
#: ``model`` values and the :class:`AlexNet` ``fast`` argument each builds (same function, same parameters).
MODEL_PATHS = {"fast": "grouped", "reference": False}


def _f(default: Any, help: str, **meta: Any):
    """A dataclass field with its ``--help`` text (and CLI metadata) attached."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **meta})
    return field(default=default, metadata={"help": help, **meta})


@dataclass
class TrainConfig:
    """Everything that defines a training run; defaults are the paper's (Section 5)."""

    # ---- data (Section 2, 4.1)
    data: str | None = _f(None, "data set folder (holding train/ and val/ or test/), 'synthetic' for the "
                          "generated set, or None: $ALEXNET_DATA/<dataset>, then ~/.cache/alexnet", group="data")
    dataset: str = _f("imagenet", "data set name looked up when --data is not given", group="data")
    out: str | None = _f(None, "run folder (default: runs/<date>-<time>)", group="data")
    resize: int = _f(256, "shorter side is rescaled to this, then the central square is kept (Section 2)", group="data")
    crop: int = _f(224, "training patch and test crop size (Section 4.1; 227 as Caffe; >= 67)", group="data")
    augment: bool = _f(True, "random crops and horizontal flips (Section 4.1)", group="data")
    pca_lighting: bool = _f(True, "PCA colour augmentation (Section 4.1)", group="data")
    mean_image: bool = _f(True, "subtract the training set's mean image (Section 2)", group="data")
    max_per_class: int | None = _f(None, "use at most this many images per class (quick runs)", group="data")
    skip_bad: bool = _f(False, "skip unreadable images instead of stopping", group="data")
    loader: str = _f("store", "store: decode the resize x resize images once into a cached uint8 store and crop, "
                     "mirror and light whole batches (alexnet.data.store); images: decode every image at every "
                     "epoch in DataLoader workers", group="data", choices=("store", "images"))

    # ---- model (Section 3)
    towers: int = _f(2, "2: the paper's two-tower net (3.2); 1: footnote 2's one-tower net", group="model", choices=(1, 2))
    widths: list[int] | None = _f(None, "kernels of conv1..conv5 over all towers; None: the paper's "
                                  "96 256 384 384 256 (one tower: 48 128 192 192 256)", group="model", nargs=5)
    fc: list[int] = _f(list(PAPER_FC), "neurons of fc6 and fc7 (the paper's 4096 4096)", group="model", nargs=2)
    width_mult: float = _f(1.0, "multiply every width and fc size by this (e.g. 0.25 for CI); anything "
                           "but 1 is NOT the paper's network", group="model")
    lrn: bool = _f(True, "local response normalisation after conv1 and conv2 (3.3)", group="model")
    pool: str = _f("overlapping", "max pooling: overlapping (3x3, stride 2; 3.4) or non-overlapping (2x2)",
                   group="model", choices=("overlapping", "non-overlapping"))
    activation: str = _f("relu", "relu (3.1) or tanh", group="model", choices=("relu", "tanh"))
    dropout: float = _f(0.5, "dropout probability on fc6 and fc7 (4.2); 0 disables it", group="model")
    dropout_mode: str = _f("paper", "paper: scale by 1-p at test time; inverted: scale 1/(1-p) in training",
                           group="model", choices=("paper", "inverted"))
    dropout_on: str = _f("outputs", "dropout on the outputs of fc6/fc7 (paper) or their inputs (torchvision)",
                         group="model", choices=("outputs", "inputs"))
    conv1_padding: str = _f("convnet", "conv1 padding: convnet (cuda-convnet rounding, 224 -> 55) or an int",
                            group="model")
    adaptive_pool: bool = _f(False, "resize pool5 to 6x6 (lets inputs from 67 px work; torchvision's layout)",
                             group="model")
    init: str = _f("paper", "paper: N(0, 0.01^2) weights, biases 1/0 (Section 5); torch: PyTorch's default",
                   group="model", choices=("paper", "torch"))
    model: str = _f("fast", "fast: the towers side by side in grouped convolutions (AlexNet(fast=True)); reference: "
                    "each tower's layers one by one. Same function, same parameters: checkpoints of one resume "
                    "with the other (two tower devices always use the reference)", group="model",
                    choices=tuple(MODEL_PATHS))

    # ---- optimisation (Section 5)
    epochs: int = _f(90, "passes over the training set (about 90 in the paper)", group="optimisation")
    batch_size: int = _f(128, "global minibatch, over all processes (128 in the paper)", group="optimisation")
    lr: float = _f(0.01, "initial learning rate, the same for all layers (Section 5)", group="optimisation")
    momentum: float = _f(0.9, "momentum (Section 5)", group="optimisation")
    weight_decay: float = _f(5e-4, "weight decay (Section 5)", group="optimisation")
    optimizer: str = _f("paper", "paper: Section 5's update (alexnet.PaperSGD); torch: torch.optim.SGD",
                        group="optimisation", choices=("paper", "torch"))
    lr_schedule: str = _f("plateau", "plateau: divide when the validation error stops improving (Section 5); "
                          "step: every --step-size epochs", group="optimisation", choices=("plateau", "step"))
    lr_factor: float = _f(0.1, "multiply the learning rate by this at each reduction (divide by 10)",
                          group="optimisation")
    patience: int = _f(5, "epochs without a lower validation top-1 error before the rate is divided "
                       "(the paper gives no number)", group="optimisation")
    max_lr_drops: int = _f(3, "reduce the learning rate at most this many times (3 in the paper)",
                           group="optimisation")
    step_size: int = _f(30, "epochs between reductions with --lr-schedule step", group="optimisation")
    steps_per_epoch: int | None = _f(None, "use only the first N batches of each epoch (quick runs)",
                                     group="optimisation")

    # ---- system
    device: str = _f("auto", "auto (cuda:<local rank> if CUDA is available, else cpu), cpu, cuda, cuda:1 ...",
                     group="system")
    tower_devices: str | None = _f(None, "put the two towers on two GPUs (3.2): 'split' (GPUs 2r and 2r+1 for "
                                   "local rank r) or 'cuda:0,cuda:1'", group="system")
    amp: str = _f("none", "autocast: none (float32), bf16 or fp16 (fp16 uses a gradient scaler)",
                  group="system", choices=("none", "bf16", "fp16"))
    channels_last: bool = _f(False, "channels_last memory format (faster convolutions on recent GPUs)", group="system")
    compile: bool = _f(False, "torch.compile the model", group="system")
    workers: int | None = _f(None, "data loader processes (None: the data module's default; 0: load in the "
                             "main process)", group="system")
    threads: int | None = _f(None, "CPU threads of torch (torch.set_num_threads; None: torch's default). "
                             "1 is much faster for small networks on a busy machine", group="system")
    eval_batch_size: int | None = _f(None, "validation batch per process (default: the training batch)",
                                     group="system")
    seed: int = _f(0, "seed of the initialisation, the data order, augmentation and dropout", group="system")
    deterministic: bool = _f(False, "deterministic algorithms: bit-for-bit repeatable (and resumable) runs on a "
                             "CPU; on CUDA only as far as its kernels allow",
                             group="system")
    checkpoint_every: int = _f(1000, "also write last.pt every N steps (0: only after each epoch)", group="system")
    log_every: int = _f(50, "with --quiet, print a line every N steps", group="system")
    resume: bool = _f(False, "continue the run in --out from its last.pt", group="system")
    quiet: bool = _f(False, "plain log lines instead of a progress bar", group="system")
    progress: bool = _f(True, "show a progress bar (ignored with --quiet)", group="system")
    preset: str | None = _f(None, "name of the preset these settings started from (--preset; recorded in "
                            "config.json)", group="system", cli=False)
    differences: dict = _f({}, "setting -> why it differs from the paper at this scale (set by presets, recorded in "
                           "config.json)", group="system", cli=False)

    # ------------------------------------------------------------------ helpers
    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], source: str = "config") -> TrainConfig:
        """Build from a mapping; keys may use dashes; unknown keys raise :class:`AlexNetError`."""
        names = set(cls.field_names())
        clean: dict[str, Any] = {}
        for key, value in values.items():
            name = str(key).replace("-", "_")
            if name not in names:
                raise AlexNetError(f"{source}: unknown setting {key!r}; the settings are {sorted(names)}")
            clean[name] = value
        return cls(**clean)

    @classmethod
    def from_file(cls, path: str | Path) -> dict[str, Any]:
        """The settings in a YAML or JSON file (a mapping of field names to values)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file {path} does not exist")
        text = path.read_text()
        try:
            if path.suffix.lower() == ".json":
                values = json.loads(text)
            else:
                import yaml

                values = yaml.safe_load(text)
        except Exception as err:
            raise AlexNetError(f"config file {path} cannot be parsed: {err}".splitlines()[0]) from None
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise AlexNetError(f"config file {path} must hold a mapping of settings, got {type(values).__name__}")
        cls.from_dict(values, str(path))  # validates the names
        return {str(k).replace("-", "_"): v for k, v in values.items()}

    def validate(self) -> TrainConfig:
        """Raise :class:`AlexNetError` naming the first impossible setting."""
        def bad(name: str, why: str) -> None:
            raise AlexNetError(f"setting {name!r} = {getattr(self, name)!r}: {why}")

        for name in ("epochs", "batch_size", "resize", "crop", "patience", "step_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                bad(name, "must be an integer >= 1")
        if self.crop > self.resize:
            bad("crop", f"larger than resize {self.resize}")
        if self.crop < 67:
            bad("crop", "AlexNet needs inputs of at least 67 px (with adaptive_pool)")
        if not self.adaptive_pool and pool5_size(self.crop, self.pool, self.conv1_padding) != 6:
            bad("crop", f"gives a {pool5_size(self.crop, self.pool, self.conv1_padding)}-pixel pool5, not the "
                "6x6 fc6 expects; use adaptive_pool (e.g. --adaptive-pool with --crop 67 for CIFAR-size images)")
        if not 0 <= self.dropout < 1:
            bad("dropout", "must be in [0, 1)")
        if self.lr < 0 or self.momentum < 0 or self.weight_decay < 0:
            bad("lr", "lr, momentum and weight_decay must be >= 0")
        if not 0 < self.lr_factor < 1:
            bad("lr_factor", "must be in (0, 1)")
        if self.max_lr_drops < 0:
            bad("max_lr_drops", "must be >= 0")
        if self.width_mult <= 0:
            bad("width_mult", "must be > 0")
        if self.widths is not None and len(self.widths) != 5:
            bad("widths", "needs 5 numbers (conv1..conv5)")
        if len(self.fc) != 2:
            bad("fc", "needs 2 numbers (fc6, fc7)")
        for name in ("max_per_class", "steps_per_epoch", "workers", "eval_batch_size", "threads"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v < (0 if name == "workers" else 1)):
                bad(name, "must be a positive integer or None")
        if self.checkpoint_every < 0:
            bad("checkpoint_every", "must be >= 0")
        if self.conv1_padding != "convnet":
            try:
                if int(self.conv1_padding) < 0:
                    raise ValueError
            except (TypeError, ValueError):
                bad("conv1_padding", "must be 'convnet' or an integer >= 0")
        if self.amp not in ("none", "bf16", "fp16"):
            bad("amp", "must be none, bf16 or fp16")
        if self.model not in MODEL_PATHS:
            bad("model", f"must be one of {', '.join(MODEL_PATHS)}")
        if self.loader not in ("store", "images"):
            bad("loader", "must be store or images")
        if not isinstance(self.differences, dict):
            bad("differences", "must be a mapping of setting names to reasons")
        return self

    def model_config(self, num_classes: int) -> dict[str, Any]:
        """The :class:`AlexNet` keyword arguments this configuration describes."""
        base = list(self.widths) if self.widths is not None else list(PAPER_WIDTHS if self.towers == 2 else ONE_TOWER_WIDTHS)
        widths = [max(self.towers, round(w * self.width_mult)) for w in base]
        fc = [max(self.towers, round(f * self.width_mult)) for f in self.fc]
        pad = self.conv1_padding if self.conv1_padding == "convnet" else int(self.conv1_padding)
        return dict(num_classes=num_classes, towers=self.towers, widths=tuple(widths), fc=tuple(fc), lrn=self.lrn,
                    pool=self.pool, activation=self.activation, dropout=self.dropout,
                    dropout_mode=self.dropout_mode, dropout_on=self.dropout_on, conv1_padding=pad,
                    adaptive_pool=self.adaptive_pool, init=self.init)

    def data_config(self) -> dict[str, Any]:
        return dict(resize=self.resize, crop=self.crop, mean_image=self.mean_image, augment=self.augment,
                    pca_lighting=self.pca_lighting, max_per_class=self.max_per_class)


def pool5_size(size: int, pool: str = "overlapping", conv1_padding: str | int = "convnet") -> int:
    """Side of pool5's maps for a ``size`` x ``size`` input (6 for 224 and 227)."""
    if conv1_padding == "convnet":
        n = -(-(size - 11) // 4) + 1
    else:
        n = (size + 2 * int(conv1_padding) - 11) // 4 + 1
    window = 3 if pool == "overlapping" else 2
    for _ in range(3):
        n = (n - window) // 2 + 1
    return n


class NonFiniteLossError(AlexNetError):
    """The loss became NaN or infinite; the run stopped, its last good checkpoint is kept."""


# ---------------------------------------------------------------------------- environment
def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(device: torch.device | str) -> dict[str, Any]:
    """Where and with what a run was made: commit, versions, machine, command line, date."""
    import numpy
    import torchvision

    from . import __version__

    dev = str(device)
    if str(device).startswith("cuda") and torch.cuda.is_available():
        dev += f" ({torch.cuda.get_device_name(torch.device(device))})"
    return {
        "git_commit": _git_commit(),
        "versions": {"alexnet": __version__, "python": platform.python_version(), "torch": torch.__version__,
                     "torchvision": torchvision.__version__, "numpy": numpy.__version__},
        "device": dev,
        "cpu_threads": torch.get_num_threads(),
        "host": socket.gethostname(),
        "platform": platform.platform(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "",
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _pick_device(name: str, info: dist_utils.DistInfo) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", info.local_rank % torch.cuda.device_count())
        return torch.device("cpu")
    dev = torch.device(name)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise AlexNetError(f"setting 'device' = {name!r}: CUDA is not available on this machine")
        if dev.index is None:
            dev = torch.device("cuda", info.local_rank % torch.cuda.device_count())
    return dev


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
    from .data import resolve_data_root

    if cfg.data == "synthetic":
        return resolve_data_root(None, "synthetic")
    return resolve_data_root(cfg.data, cfg.dataset)


def _build_data(cfg: TrainConfig, root: Path):
    from .data import build_datasets

    return build_datasets(root, resize=cfg.resize, crop=cfg.crop, augment=cfg.augment,
                          pca_lighting=cfg.pca_lighting, mean_image=cfg.mean_image, skip_bad=cfg.skip_bad,
                          max_per_class=cfg.max_per_class)


def _build_store_data(cfg: TrainConfig, root: Path, log) -> tuple[Any, Any, Any]:
    """Section 2's images decoded once into cached uint8 stores (:mod:`alexnet.data.store`):
    ``(bundle, train store, val store)``; the bundle's mean image and PCA come from the store."""
    from .data import build_datasets, mean_image, pca_stats
    from .data.stats import IMAGENET_MEAN_RGB
    from .data.store import StoreImages, cached_store

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
    from .data import make_loader

    return make_loader(dataset, batch_size, train=train, workers=workers, seed=seed, sampler=sampler)


# ---------------------------------------------------------------------------- metrics
def topk_error_counts(logits: torch.Tensor, target: torch.Tensor, ks: Sequence[int] = (1, 5)) -> list[int]:
    """Number of examples whose label is not among the ``k`` highest scores, for each ``k``."""
    kmax = min(max(ks), logits.shape[1])
    top = logits.topk(kmax, dim=1).indices
    hit = top == target[:, None]
    return [int((~hit[:, :min(k, kmax)].any(dim=1)).sum()) for k in ks]


def read_metrics(run: str | Path) -> list[dict[str, Any]]:
    """The per-epoch records of a run folder's ``metrics.jsonl``."""
    path = Path(run) / "metrics.jsonl"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist (is {run} a run folder?)")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


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
        device = _pick_device(cfg.device, info)
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
                "world_size": info.world_size, "provenance": provenance(device),
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
            from .data.gpu_pipeline import GPUAugment
            from .data.store import StoreBatches

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
            record = {
                "epoch": epoch, "step": global_step, "lr": lr_used,
                "train_loss": train_loss, "train_top1_error": train_e1, "train_top5_error": train_e5,
                "val_loss": val_loss, "val_top1_error": val_e1, "val_top5_error": val_e5,
                "lr_reduced": reduced, "next_lr": schedule.lr,
                "model": cfg.model, "loader": cfg.loader,
                "images_per_s": accum[3] / max(epoch_train_time, 1e-9), "epoch_time_s": epoch_train_time,
                # the bare training step (forward, backward, update) of this process in this epoch's session
                "step_images_per_s": step_images / max(step_time, 1e-9), "step_time_s": step_time,
                "data_wait_s": data_wait, "val_time_s": val_time, "val_images_per_s": val[3] / max(val_time, 1e-9),
                # CPU time of this process over wall time, this session's training and validation: on a
                # shared machine, how many cores the run actually had
                "cpu_cores_used": cores,
                "wall_time_s": elapsed + time.perf_counter() - t_start,
            }
            history.append(record)
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
                    f.write(json.dumps(record) + "\n")
            self.log(f"epoch {epoch}/{cfg.epochs}: train loss {train_loss:.4f}, top-1/top-5 error "
                     f"{train_e1:.4f}/{train_e5:.4f}; val top-1/top-5 error {val_e1:.4f}/{val_e5:.4f}; lr {lr_used:g}"
                     f"{' -> ' + format(schedule.lr, 'g') if reduced else ''}; training {record['epoch_time_s']:.0f} s, "
                     f"{record['images_per_s']:.1f} img/s (the training step alone {record['step_images_per_s']:.1f} "
                     f"img/s; {record['data_wait_s']:.1f} s waiting for data); validation {record['val_time_s']:.0f} s, "
                     f"{record['val_images_per_s']:.0f} img/s; {cores:.2f} CPU cores busy")
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
