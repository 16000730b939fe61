"""The settings of one training run (Section 5): :class:`TrainConfig`, its named presets and profiles.

Every field has the paper's value as its default and its ``--help`` text attached;
``python -m alexnet train`` makes one flag of each (:mod:`alexnet.cli.train`). Settings files
shipped with the package (``alexnet/training/presets/<name>.yaml``, e.g. ``imagenette``: the
paper's recipe on Imagenette, each difference from the paper stated with its reason) are read by
:func:`load_preset`; :data:`TRAINING_PROFILES` are the ``ci`` and ``full`` settings of the Section 5
chapter (``--profile``).
"""
from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AlexNetError
from ..model import ONE_TOWER_WIDTHS, PAPER_FC, PAPER_WIDTHS, pool5_size

__all__ = ["TrainConfig", "MODEL_PATHS", "PRESET_DIR", "preset_names", "load_preset", "TRAINING_PROFILES"]


#: ``model`` values and the :class:`AlexNet` ``fast`` argument each builds (same function, same parameters).
MODEL_PATHS = {"fast": True, "reference": False}


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
    conv4: bool = _f(True, "conv4; --no-conv4 removes it, conv5 reading conv3's maps (Section 7's depth "
                     "ablation: \"removing any of the middle layers\")", group="model")
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
        for name in ("lr", "momentum", "weight_decay", "lr_factor", "width_mult", "dropout"):
            if not math.isfinite(getattr(self, name)):
                bad(name, "must be a finite number")
        if self.lr < 0:
            bad("lr", "must be >= 0 (Section 5: 0.01)")
        if not 0 <= self.momentum < 1:
            bad("momentum", "must be in [0, 1) (Section 5: 0.9)")
        if self.weight_decay < 0:
            bad("weight_decay", "must be >= 0 (Section 5: 0.0005)")
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
                    adaptive_pool=self.adaptive_pool, init=self.init,
                    **({} if self.conv4 else {"conv4": False}))  # named only when removed: older checkpoints match

    def data_config(self) -> dict[str, Any]:
        return dict(resize=self.resize, crop=self.crop, mean_image=self.mean_image, augment=self.augment,
                    pca_lighting=self.pca_lighting, max_per_class=self.max_per_class)


PRESET_DIR = Path(__file__).resolve().parent / "presets"


def preset_names() -> list[str]:
    """The presets shipped with the package (``alexnet/training/presets/<name>.yaml``)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def load_preset(name: str) -> dict[str, Any]:
    """The settings of preset ``name``, with ``preset`` set to its name; one clear error if unknown."""
    path = PRESET_DIR / f"{name}.yaml"
    if not path.is_file():
        raise AlexNetError(f"unknown preset {name!r}; the presets are {preset_names()} (in {PRESET_DIR})")
    values = TrainConfig.from_file(path)
    values.setdefault("preset", name)
    return values


_CI_DATA = {"num_classes": 10, "train_per_class": 48, "val_per_class": 10, "size": 64}

#: Section 5 chapter (``05_training``): TrainConfig fields plus ``synthetic`` (sizes of the generated
#: set used when ``data`` is ``"synthetic"``) and ``fresh`` (start over instead of resuming).
TRAINING_PROFILES: dict[str, dict[str, Any]] = {
    "ci": {
        "data": "synthetic", "synthetic": _CI_DATA, "dataset": "synthetic", "resize": 80, "crop": 67,
        "adaptive_pool": True, "width_mult": 0.25, "init": "torch", "lr": 0.005, "epochs": 12, "batch_size": 32,
        "patience": 3, "max_lr_drops": 3, "seed": 0, "workers": 0, "threads": 1, "device": "auto", "amp": "none",
        "channels_last": False, "compile": False, "checkpoint_every": 0, "max_per_class": None, "fresh": True,
        "results": "results/imagenette", "show_preset": "imagenette",
    },
    "full": {
        "data": None, "synthetic": _CI_DATA, "dataset": "imagenet", "resize": 256, "crop": 224,
        "adaptive_pool": False, "width_mult": 1.0, "init": "paper", "lr": 0.01, "epochs": 90, "batch_size": 128,
        "patience": 5, "max_lr_drops": 3, "seed": 0, "workers": None, "threads": None, "device": "auto", "amp": "none",
        "channels_last": False, "compile": False, "checkpoint_every": 1000, "max_per_class": None, "fresh": False,
        "results": "results/imagenette", "show_preset": "imagenette",
    },
}
