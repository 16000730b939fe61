"""What the Section 5 and Section 6 chapters call: profiles, run folders, the paper's tables, figures.

The notebooks ``05_training`` and ``06_results`` stay thin: they resolve a profile from the tables
here, call :func:`alexnet.train.train` / :func:`alexnet.evaluate.evaluate`, and draw with the
functions below.

* ``ci``: minutes on two CPU cores. The generated data set (:func:`alexnet.data.make_synthetic`:
  10 classes of coloured stripes, plainly labelled SYNTHETIC) at 67 px with ``adaptive_pool``, and
  a network a quarter of the paper's width (NOT the paper's size). At that width the paper's
  N(0, 0.01^2) initialisation leaves the net at chance level for longer than a CI budget, so the
  ``ci`` profile uses PyTorch's default initialisation and a learning rate of 0.005; everything
  else is Section 5's recipe (PaperSGD, momentum 0.9, weight decay 5e-4, divide by 10 on a plateau,
  at most three times).
* ``full``: the paper. ImageNet at 224 px (``$ALEXNET_DATA/imagenet`` or ``data=...``), the
  two-tower network at full size, N(0, 0.01^2) initialisation, batch 128, lr 0.01, 90 epochs. It
  needs a GPU; on a machine without papermill run the same thing with the command that
  :func:`command_line` prints (``python -m alexnet train --profile full ...``).
"""
from __future__ import annotations

import dataclasses
import json
import shlex
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import AlexNetError
from .profiles import resolve
from .train import ROOT, TrainConfig, provenance, read_metrics

__all__ = [
    "TRAINING_PROFILES", "TRAINING_CHECKS", "RESULTS_PROFILES", "RESULTS_CHECKS", "training_config",
    "run_dir", "ensure_run", "command_line", "plot_training", "paper_table1", "paper_table2",
    "results_table", "plot_per_class", "write_result", "run_data_root",
]

_CI_DATA = {"num_classes": 10, "train_per_class": 48, "val_per_class": 10, "size": 64}

#: Section 5 chapter (``05_training``): TrainConfig fields plus ``synthetic`` (sizes of the generated
#: set used when ``data`` is ``"synthetic"``) and ``fresh`` (start over instead of resuming).
TRAINING_PROFILES: dict[str, dict[str, Any]] = {
    "ci": {
        "data": "synthetic", "synthetic": _CI_DATA, "dataset": "synthetic", "resize": 80, "crop": 67,
        "adaptive_pool": True, "width_mult": 0.25, "init": "torch", "lr": 0.005, "epochs": 12, "batch_size": 32,
        "patience": 3, "max_lr_drops": 3, "seed": 0, "workers": 0, "threads": 1, "device": "auto", "amp": "none",
        "channels_last": False, "compile": False, "checkpoint_every": 0, "max_per_class": None, "fresh": True,
    },
    "full": {
        "data": None, "synthetic": _CI_DATA, "dataset": "imagenet", "resize": 256, "crop": 224,
        "adaptive_pool": False, "width_mult": 1.0, "init": "paper", "lr": 0.01, "epochs": 90, "batch_size": 128,
        "patience": 5, "max_lr_drops": 3, "seed": 0, "workers": None, "threads": None, "device": "auto", "amp": "none",
        "channels_last": False, "compile": False, "checkpoint_every": 1000, "max_per_class": None, "fresh": False,
    },
}
TRAINING_CHECKS = {
    "epochs": lambda v: isinstance(v, int) and v >= 1,
    "batch_size": lambda v: isinstance(v, int) and v >= 1,
    "lr": lambda v: v > 0,
    "width_mult": lambda v: v > 0,
    "crop": lambda v: v >= 67,
    "amp": lambda v: v in ("none", "bf16", "fp16"),
    "workers": lambda v: v is None or v >= 0,
}

#: Section 6 chapter (``06_results``): which runs to evaluate and how.
RESULTS_PROFILES: dict[str, dict[str, Any]] = {
    "ci": {"runs": None, "extra_members": 1, "member_epochs": 8, "data": None, "ten_crop": True,
           "max_per_class": None, "workers": 0, "threads": 1, "batch_size": 64, "device": "auto"},
    "full": {"runs": None, "extra_members": 0, "member_epochs": 90, "data": None, "ten_crop": True,
             "max_per_class": None, "workers": None, "threads": None, "batch_size": 128, "device": "auto"},
}
RESULTS_CHECKS = {
    "extra_members": lambda v: isinstance(v, int) and v >= 0,
    "member_epochs": lambda v: isinstance(v, int) and v >= 1,
    "runs": lambda v: v is None or (isinstance(v, (list, tuple)) and len(v) >= 1),
}


def run_dir(name: str, profile: str) -> Path:
    """``runs/<name>-<profile>`` under the checkout (git-ignored)."""
    return ROOT / "runs" / f"{name}-{profile}"


def training_config(settings: Mapping[str, Any], out: str | Path, **overrides: Any) -> TrainConfig:
    """The :class:`TrainConfig` of a resolved ``TRAINING_PROFILES`` entry (generating the data if asked)."""
    values = {k: v for k, v in settings.items() if k in TrainConfig.field_names()}
    values.update(out=str(out), progress=False, quiet=True, resume=not settings.get("fresh", False))
    values.update(overrides)
    if values.get("data") == "synthetic":
        from .data import make_synthetic
        from .data.cache import cache_dir

        size = dict(settings.get("synthetic") or _CI_DATA)
        tag = "x".join(str(size[k]) for k in ("num_classes", "train_per_class", "val_per_class", "size"))
        values["data"] = str(make_synthetic(cache_dir() / f"synthetic-{tag}", **size))
    return TrainConfig(**values).validate()


def ensure_run(config: TrainConfig, fresh: bool = False) -> Path:
    """Train ``config`` (``fresh``: first delete a previous run in its folder; else resume it)."""
    from .train import train

    out = Path(config.out)
    if fresh and out.exists():
        if not (out / "config.json").exists() and any(out.iterdir()):
            raise AlexNetError(f"{out} exists and is not a run folder; refusing to delete it")
        shutil.rmtree(out)
    return train(dataclasses.replace(config, resume=not fresh))


def command_line(config: TrainConfig, launcher: str = "python -m alexnet train") -> str:
    """The shell command that trains ``config`` (settings that differ from the defaults)."""
    defaults = TrainConfig()
    parts = [launcher]
    for f in dataclasses.fields(TrainConfig):
        value, default = getattr(config, f.name), getattr(defaults, f.name)
        if f.name in ("progress", "quiet", "resume") or value == default or (
                isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)) and list(value) == list(default)):
            continue
        flag = "--" + f.name.replace("_", "-")
        if isinstance(value, bool):
            parts.append(flag if value else "--no-" + f.name.replace("_", "-"))
        elif isinstance(value, (list, tuple)):
            parts.append(flag + " " + " ".join(map(str, value)))
        else:
            parts.append(f"{flag} {shlex.quote(str(value))}")
    return " \\\n    ".join(parts)


def run_data_root(run: str | Path) -> str:
    """The data folder a run was trained on (from its ``config.json``)."""
    cfg = Path(run) / "config.json"
    if not cfg.exists():
        raise FileNotFoundError(f"{cfg} does not exist (is {run} a run folder?)")
    return json.loads(cfg.read_text())["data"]["root"]


# ---------------------------------------------------------------------------- figures
def plot_training(run: str | Path, title: str | None = None):
    """Loss, top-1/top-5 error (train and validation) and learning rate per epoch of one run."""
    import matplotlib.pyplot as plt

    rows = read_metrics(run)
    if not rows:
        raise AlexNetError(f"{run} has no finished epoch yet")
    df = pd.DataFrame(rows)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    axes[0].plot(df.epoch, df.train_loss, "o-", label="train")
    axes[0].plot(df.epoch, df.val_loss, "s--", label="validation")
    axes[0].set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    for key, style in (("train_top1_error", "o-"), ("val_top1_error", "s-"), ("train_top5_error", "o:"),
                       ("val_top5_error", "s:")):
        axes[1].plot(df.epoch, 100 * df[key], style, label=key.replace("_", " ").replace("top", "top-"))
    axes[1].set(xlabel="epoch", ylabel="error (%)", title="top-1 and top-5 error", ylim=(0, 100))
    axes[2].step(df.epoch, df.lr, where="post")
    axes[2].set(xlabel="epoch", ylabel="learning rate", yscale="log", title="learning rate (Section 5)")
    for ax in axes[:2]:
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_per_class(result: Mapping[str, Any], top: int = 20):
    """Top-1 error of the worst classes of :func:`alexnet.evaluate.evaluate`'s headline predictor."""
    import matplotlib.pyplot as plt

    rows = list(result["per_class"])[:top]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1))
    ax.barh([r["name"][:30] for r in rows][::-1], [100 * r["top1_error"] for r in rows][::-1], label="top-1")
    ax.barh([r["name"][:30] for r in rows][::-1], [100 * r["top5_error"] for r in rows][::-1], label="top-5")
    h = result["headline"]
    ax.set(xlabel="error (%)", title=f"per-class error ({h['predictor']}, {h['view'].replace('_', ' ')})")
    ax.legend()
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------- tables
def paper_table1() -> pd.DataFrame:
    """Table 1 of the paper: ILSVRC-2010 test set, error in %."""
    return pd.DataFrame([
        {"model": "Sparse coding", "top-1": 47.1, "top-5": 28.2},
        {"model": "SIFT + FVs", "top-1": 45.7, "top-5": 25.7},
        {"model": "CNN (ten patches)", "top-1": 37.5, "top-5": 17.0},
        {"model": "CNN (one centre patch; Section 6 text)", "top-1": 39.0, "top-5": 18.3},
    ]).assign(**{"data set": "ILSVRC-2010 test", "scale": "1.2 M images, 1000 classes, 224 px"})


def paper_table2() -> pd.DataFrame:
    """Table 2 of the paper: ILSVRC-2012, error in % (``None``: not reported)."""
    rows = [("SIFT + FVs", None, None, 26.2), ("1 CNN", 40.7, 18.2, None), ("5 CNNs", 38.1, 16.4, 16.4),
            ("1 CNN* (pre-trained on Fall 2011)", 39.0, 16.6, None), ("7 CNNs*", 36.7, 15.4, 15.3)]
    return pd.DataFrame([{"model": m, "top-1 (val)": a, "top-5 (val)": b, "top-5 (test)": c} for m, a, b, c in rows]
                        ).assign(**{"data set": "ILSVRC-2012", "scale": "1.2 M images, 1000 classes, 224 px"})


def results_table(result: Mapping[str, Any], labels: Sequence[str] | None = None, scale: str = "") -> pd.DataFrame:
    """Our error rates (%) in the shape of Table 2: one row per model and one for the ensemble."""
    def row(name: str, r: Mapping[str, Any]) -> dict[str, Any]:
        out = {"model": name,
               "top-1 (centre)": 100 * r["centre"]["top1_error"], "top-5 (centre)": 100 * r["centre"]["top5_error"]}
        if "ten_crop" in r:
            out["top-1 (ten patches)"] = 100 * r["ten_crop"]["top1_error"]
            out["top-5 (ten patches)"] = 100 * r["ten_crop"]["top5_error"]
        return out

    models = list(result["models"])
    labels = list(labels) if labels else [Path(m["checkpoint"]).parent.name for m in models]
    rows = [row(f"1 CNN ({label})", m) for label, m in zip(labels, models)]
    if result.get("ensemble"):
        rows.append(row(f"{result['ensemble']['members']} CNNs (averaged softmax)", result["ensemble"]))
    d = result["data"]
    return pd.DataFrame(rows).assign(**{
        "data set": f"{d['description'] or d['root']} ({d['split']})",
        "scale": scale or f"{d['images']} images, {d['classes']} classes"})


# ---------------------------------------------------------------------------- results JSON
def write_result(name: str, profile: str, payload: Mapping[str, Any], *, wall_time_s: float,
                 data_description: str, device: str = "cpu") -> Path:
    """``results/<name>/<profile>.json`` with provenance (command, commit, device, date, wall time, data)."""
    path = ROOT / "results" / name / f"{profile}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"experiment": name, "profile": profile, "provenance": {**provenance(device), "wall_time_s": wall_time_s,
                                                                     "data": data_description},
              **payload}
    path.write_text(json.dumps(record, indent=2, default=str) + "\n")
    return path


def ensemble_members(profile: str, runs: Sequence[str | Path] | None = None, extra_members: int = 0,
                     member_epochs: int | None = None) -> list[Path]:
    """The run folders the Section 6 chapter evaluates.

    ``runs`` given: those (each must hold a checkpoint). Otherwise the Section 5 chapter's run of
    ``profile`` (trained now if it is missing) plus ``extra_members`` more networks that differ only
    in their seed (the paper's "five similar CNNs"), trained for ``member_epochs`` epochs.
    """
    if runs:
        paths = [Path(r) for r in runs]
        for p in paths:
            if not ((p / "best.pt").exists() or (p / "last.pt").exists() or p.is_file()):
                raise FileNotFoundError(f"run {p} holds no best.pt or last.pt")
        return paths
    settings = resolve(TRAINING_PROFILES, profile)
    base = run_dir("05_training", profile)
    if not (base / "summary.json").exists():
        if profile != "ci":
            raise AlexNetError(f"no finished run in {base}: train it first (days on a GPU), e.g. "
                               f"python -m alexnet train --profile {profile} --out {base} --data DIR, "
                               "or pass runs=[...]")
        ensure_run(training_config(settings, base), fresh=bool(settings["fresh"]))
    members = [base]
    for seed in range(1, extra_members + 1):
        out = run_dir("06_results", profile) / f"seed{seed}"
        overrides = {"seed": seed}
        if member_epochs is not None:
            overrides["epochs"] = member_epochs
        members.append(ensure_run(training_config(settings, out, **overrides), fresh=bool(settings["fresh"])))
    return members
