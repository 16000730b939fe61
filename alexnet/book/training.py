"""What the Section 5 and Section 6 chapters call: profiles, run folders, the paper's tables, figures.

The notebooks ``05_training`` and ``06_results`` stay thin: they resolve a profile from the tables
here, call :func:`alexnet.training.train` / :func:`alexnet.evaluate.evaluate`, and draw with the
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

from ..errors import AlexNetError
from ..profiles import resolve
from ..provenance import ROOT
from ..export_run import ExportProvenance
from .formatting import day, duration, pct, points, short_commit, short_device
from ..training import TRAINING_PROFILES, TrainConfig, read_metrics
from ..training.config import _CI_DATA

__all__ = [
    "TRAINING_PROFILES", "TRAINING_CHECKS", "RESULTS_PROFILES", "RESULTS_CHECKS", "training_config",
    "distance_from_paper_rule", "run_dir", "ensure_run", "command_line", "shown_command", "plot_training", "lr_drops",
    "PAPER_ROWS", "PAPER_SETTINGS", "table_with_ours", "results_folder", "shown_folder", "provenance_line",
    "run_values", "curve_values", "headline_values", "chance_values", "preset_table", "preset_differences",
    "last_checkpoints", "estimate_values", "check_code_runs", "check_evaluation_runs", "training_flops",
    "gpu_time_estimate", "results_table", "plot_per_class", "run_data_root",
]

TRAINING_CHECKS = {
    "epochs": lambda v: isinstance(v, int) and v >= 1,
    "batch_size": lambda v: isinstance(v, int) and v >= 1,
    "lr": lambda v: v > 0,
    "width_mult": lambda v: v > 0,
    "crop": lambda v: v >= 67,
    "amp": lambda v: v in ("none", "bf16", "fp16"),
    "workers": lambda v: v is None or v >= 0,
}

#: Section 6 chapter (``06_results``): the committed results it shows first (``results``, a folder
#: written by ``python -m alexnet export-run``, relative to the repository), then which runs the
#: rerun evaluates and how.
RESULTS_PROFILES: dict[str, dict[str, Any]] = {
    "ci": {"results": "results/imagenette", "runs": None, "extra_members": 1, "member_epochs": 8, "data": None,
           "ten_crop": True, "max_per_class": None, "workers": 0, "threads": 1, "batch_size": 64, "device": "auto"},
    "full": {"results": "results/imagenette", "runs": None, "extra_members": 0, "member_epochs": 90, "data": None,
             "ten_crop": True, "max_per_class": None, "workers": None, "threads": None, "batch_size": 128,
             "device": "auto"},
}
RESULTS_CHECKS = {
    "results": lambda v: isinstance(v, str) and v != "",
    "extra_members": lambda v: isinstance(v, int) and v >= 0,
    "member_epochs": lambda v: isinstance(v, int) and v >= 1,
    "runs": lambda v: v is None or (isinstance(v, (list, tuple)) and len(v) >= 1),
}


def results_folder(path: str | Path) -> Path:
    """A results folder named by a chapter's parameter: relative paths are relative to the repository."""
    path = Path(path).expanduser()
    return path if path.is_absolute() else ROOT / path


def shown_folder(path: str | Path) -> str:
    """A folder as a page names it: relative to the repository when inside it, else by its name."""
    path = Path(path).expanduser().resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def run_dir(name: str, profile: str) -> Path:
    """``runs/<name>-<profile>`` under the checkout (git-ignored)."""
    return ROOT / "runs" / f"{name}-{profile}"


def training_config(settings: Mapping[str, Any], out: str | Path, **overrides: Any) -> TrainConfig:
    """The :class:`TrainConfig` of a resolved ``TRAINING_PROFILES`` entry (generating the data if asked)."""
    values = {k: v for k, v in settings.items() if k in TrainConfig.field_names()}
    values.update(out=str(out), progress=False, quiet=True, resume=not settings.get("fresh", False))
    values.update(overrides)
    if values.get("data") == "synthetic":
        from ..data import make_synthetic
        from ..data.cache import cache_dir

        size = dict(settings.get("synthetic") or _CI_DATA)
        tag = "x".join(str(size[k]) for k in ("num_classes", "train_per_class", "val_per_class", "size"))
        values["data"] = str(make_synthetic(cache_dir() / f"synthetic-{tag}", **size))
    return TrainConfig(**values).validate()


def ensure_run(config: TrainConfig, fresh: bool = False) -> Path:
    """Train ``config`` (``fresh``: first delete a previous run in its folder; else resume it)."""
    from ..training import train

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


def shown_command(config: TrainConfig) -> str:
    """:func:`command_line` as a page shows it: folders in the checkout relative to it, the home folder as ``~``."""
    text = command_line(config)
    for prefix, short in ((str(ROOT) + "/", ""), (str(Path.home()) + "/", "~/")):
        text = text.replace(prefix, short)
    return text


def run_data_root(run: str | Path) -> str:
    """The data folder a run was trained on (from its ``config.json``)."""
    cfg = Path(run) / "config.json"
    if not cfg.exists():
        raise FileNotFoundError(f"{cfg} does not exist (is {run} a run folder?)")
    return json.loads(cfg.read_text())["data"]["root"]


# ---------------------------------------------------------------------------- figures
def lr_drops(records: Sequence[Mapping[str, Any]]) -> list[int]:
    """Epochs after which the learning rate was divided (Section 5's rule at work)."""
    return [int(r["epoch"]) for r in records if r.get("lr_reduced") or r.get("next_lr", r["lr"]) < r["lr"]]


def plot_training(run: str | Path | Sequence[Mapping[str, Any]], title: str | None = None, width: float = 7.8):
    """Loss, top-1 and top-5 error (train and validation) and the learning rate per epoch of one run.

    ``run`` is a run folder, a results folder (anything holding ``metrics.jsonl``) or its records.
    Dotted vertical lines mark the epochs after which the learning rate was divided by 10.
    """
    import matplotlib.pyplot as plt

    rows = read_metrics(run) if isinstance(run, (str, Path)) else list(run)
    if not rows:
        raise AlexNetError(f"{run} has no finished epoch yet")
    df = pd.DataFrame(rows)
    fig, axes = plt.subplots(2, 2, figsize=(width, 0.7 * width), sharex=True)
    (loss, top1), (top5, lr) = axes
    marker = "o" if len(df) <= 30 else None
    loss.plot(df.epoch, df.train_loss, marker=marker, ms=3, label="training")
    loss.plot(df.epoch, df.val_loss, marker=marker, ms=3, ls="--", label="validation")
    loss.set(ylabel="cross-entropy loss", title="loss")
    for ax, k in ((top1, 1), (top5, 5)):
        ax.plot(df.epoch, 100 * df[f"train_top{k}_error"], marker=marker, ms=3, label="training")
        ax.plot(df.epoch, 100 * df[f"val_top{k}_error"], marker=marker, ms=3, ls="--", label="validation")
        ax.set(ylabel="error (%)", title=f"top-{k} error", ylim=(0, 100))
    lr.step(df.epoch, df.lr, where="mid", color="black")
    lr.set(ylabel="learning rate", yscale="log", title="learning rate used in each epoch")
    for ax in axes.flat:
        for e in lr_drops(rows):
            ax.axvline(e + 0.5, color="grey", ls=":", lw=1)
        ax.grid(alpha=0.3)
    from matplotlib.ticker import MaxNLocator

    for ax in axes[1]:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    loss.legend()
    top1.legend()
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
#: The paper's Table 1 (ILSVRC-2010 test set) and Table 2 (ILSVRC-2012), error in %, with the
#: number of test patches where the paper states it (Section 6: 39.0 / 18.3 without the ten-patch
#: averaging). ``None``: not reported. The starred models of Table 2 have a sixth convolutional layer
#: and were pre-trained on ImageNet Fall 2011.
PAPER_ROWS = {
    1: [("Sparse coding", "ILSVRC-2010 test", None, 47.1, 28.2), ("SIFT + FVs", "ILSVRC-2010 test", None, 45.7, 25.7),
        ("CNN", "ILSVRC-2010 test", 1, 39.0, 18.3), ("CNN", "ILSVRC-2010 test", 10, 37.5, 17.0)],
    2: [("SIFT + FVs", "ILSVRC-2012 test", None, None, 26.2), ("1 CNN", "ILSVRC-2012 val", None, 40.7, 18.2),
        ("5 CNNs", "ILSVRC-2012 val", None, 38.1, 16.4), ("5 CNNs", "ILSVRC-2012 test", None, None, 16.4),
        ("1 CNN*", "ILSVRC-2012 val", None, 39.0, 16.6), ("7 CNNs*", "ILSVRC-2012 val", None, 36.7, 15.4),
        ("7 CNNs*", "ILSVRC-2012 test", None, None, 15.3)],
}
#: ILSVRC's test and validation sets: 50,000 validation images each year; 150,000 test images in
#: ILSVRC-2010 (Section 2), 100,000 in ILSVRC-2012.
ILSVRC_IMAGES = {"ILSVRC-2010 test": "150 k", "ILSVRC-2012 test": "100 k", "ILSVRC-2012 val": "50 k"}


def _count(n: int) -> str:
    return f"{n / 1000:.1f} k" if n >= 10_000 else f"{n:,}"


def table_with_ours(table: int, evaluation: Mapping[str, Any] | None, data: Mapping[str, Any] | None) -> pd.DataFrame:
    """The paper's Table ``table`` (1 or 2) with our rows below it: one patch and ten patches.

    ``evaluation`` and ``data`` are a results folder's ``evaluation.json`` and ``provenance.json``'s
    ``data`` (:mod:`alexnet.export_run`); ``None`` gives the paper's rows alone. The error columns
    (%) come right after the model, so a narrow page shows them first; the last column names each
    row's data set, classes and training / test images.
    """
    if table not in PAPER_ROWS:
        raise AlexNetError(f"table must be 1 or 2 (the paper's Section 6 tables), got {table!r}")
    rows = []
    for model, data_set, patches, top1, top5 in PAPER_ROWS[table]:
        rows.append({"model": model, "top-1": top1, "top-5": top5, "patches": "-" if patches is None else str(patches),
                     "data: classes, train / test images": f"{data_set}: 1,000, 1.2 M / {ILSVRC_IMAGES[data_set]}"})
    if evaluation is not None:
        head = evaluation["headline"]
        train = (data or {}).get("train_images")
        for view, patches in (("centre", "1"), ("ten_crop", "10")):
            rows.append({"model": "ours", "top-1": 100 * head[view]["top1_error"],
                         "top-5": 100 * head[view]["top5_error"], "patches": patches,
                         "data: classes, train / test images": f"Imagenette val: {head['data']['classes']:,}, "
                         f"{_count(train) if train else '?'} / {_count(head['data']['images'])}"})
    return pd.DataFrame(rows)


def results_table(result: Mapping[str, Any], labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Error rates (%) of :func:`alexnet.evaluate.evaluate`'s result, one row per network (or their
    averaged softmax) and number of patches, with the data's classes and images on every row."""
    models = list(result["models"])
    labels = list(labels) if labels else [Path(m["checkpoint"]).parent.name for m in models]
    named = [(f"1 CNN ({label})", m) for label, m in zip(labels, models)]
    if result.get("ensemble"):
        named.append((f"{result['ensemble']['members']} CNNs", result["ensemble"]))
    d = result["data"]
    rows = []
    for name, r in named:
        for view, patches in (("centre", 1), ("ten_crop", 10)):
            if view in r:
                rows.append({"model": name, "patches": patches, "classes": d["classes"], "images": d["images"],
                             "top-1": 100 * r[view]["top1_error"], "top-5": 100 * r[view]["top5_error"]})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------- values a page glues in
def provenance_line(provenance: ExportProvenance) -> str:
    """One line under a committed run's results: how it was trained and exported, where, when, how long."""
    t, e = provenance.training, provenance.export.provenance
    return (f"*Provenance: trained by `{t.provenance.command}` at commit {short_commit(t.provenance.git_commit)} on a "
            f"{short_device(t.provenance.device)}, finished {day(str(t.finished))}, {duration(t.provenance.wall_seconds)}"
            f" of training wall time (median epoch {duration(t.median_epoch_time_s)}); exported by `{e.command}` at "
            f"commit {short_commit(e.git_commit)} on {day(e.date)} in {duration(e.wall_seconds)}.*")


def run_values(run: Any | None) -> dict:
    """What the training chapter says about a committed run (:class:`alexnet.export_run.CommittedRun`;
    ``None``: every value ``n/a``): its epochs, when the plateau rule divided the learning rate and how
    often, its patience, the last epoch with a new lowest validation error and the epochs after it."""
    keys = ("epochs", "lr_drops", "drop_epochs", "patience", "max_lr_drops", "last_best_epoch", "epochs_after_best",
            "final_lr", "first_lr")
    if run is None:
        return dict.fromkeys(keys, "n/a")
    records, cfg = run.metrics, run.config.get("config", run.config)
    drops = lr_drops(records)
    errors = [r["val_top1_error"] for r in records]
    best = min(range(len(errors)), key=errors.__getitem__)
    return {"epochs": len(records), "lr_drops": len(drops), "drop_epochs": ", ".join(map(str, drops)) or "none",
            "patience": cfg.get("patience", "n/a"), "max_lr_drops": cfg.get("max_lr_drops", "n/a"),
            "last_best_epoch": records[best]["epoch"], "epochs_after_best": len(records) - 1 - best,
            "final_lr": f"{float(run.summary['final_lr']):g}", "first_lr": f"{float(records[0]['lr']):g}"}


def _missing(keys: Sequence[str]) -> dict:
    return dict.fromkeys(keys, "n/a")


CURVE_KEYS = ("epochs", "train_loss_first", "train_loss_last", "val_loss_first", "val_loss_last", "train_top1_last",
              "val_top1_last", "drop_epochs")


def curve_values(records: Sequence[Mapping[str, Any]] | None) -> dict:
    """The first and last epoch's losses, the last epoch's top-1 errors (training batches and
    validation) and the epochs after which the learning rate was divided; ``n/a`` without a run."""
    if not records:
        return _missing(CURVE_KEYS)
    first, last = records[0], records[-1]
    return {"epochs": len(records), "train_loss_first": f"{first['train_loss']:.2f}",
            "train_loss_last": f"{last['train_loss']:.2f}", "val_loss_first": f"{first['val_loss']:.2f}",
            "val_loss_last": f"{last['val_loss']:.2f}", "train_top1_last": pct(last["train_top1_error"]),
            "val_top1_last": pct(last["val_top1_error"]), "drop_epochs": ", ".join(map(str, lr_drops(records))) or "none"}


HEADLINE_KEYS = ("epoch", "images", "classes", "centre_top1", "centre_top5", "ten_top1", "ten_top5", "ten_gain",
                 "best_epoch", "best_centre_top1", "best_ten_top1")


def headline_values(evaluation: Mapping[str, Any] | None) -> dict:
    """The headline (the last epoch on the validation images) with one and with ten patches, how many
    points ten patches lower the top-1 error, and ``best.pt`` (chosen on the same images); ``n/a``
    without an evaluation."""
    if evaluation is None:
        return _missing(HEADLINE_KEYS)
    h = evaluation["headline"]
    c, t = h["centre"], h["ten_crop"]
    b = evaluation.get("best") or {}
    return {"epoch": h["epoch"], "images": f"{h['data']['images']:,}", "classes": h["data"]["classes"],
            "centre_top1": pct(c["top1_error"]), "centre_top5": pct(c["top5_error"]),
            "ten_top1": pct(t["top1_error"]), "ten_top5": pct(t["top5_error"]),
            "ten_gain": points(c["top1_error"] - t["top1_error"], 1, sign=False),
            "best_epoch": b.get("epoch", "n/a"), "best_centre_top1": pct(b.get("centre", {}).get("top1_error")),
            "best_ten_top1": pct(b.get("ten_crop", {}).get("top1_error"))}


def chance_values(classes: int | None) -> dict:
    """The top-1 and top-5 errors of guessing among ``classes`` classes and among ImageNet's 1,000."""
    if not classes:
        return _missing(("classes", "guess_top1", "guess_top5", "guess_top1_imagenet", "guess_top5_imagenet"))
    k = min(5, classes)
    return {"classes": classes, "guess_top1": pct(1 - 1 / classes), "guess_top5": pct(1 - k / classes),
            "guess_top1_imagenet": pct(1 - 1 / 1000), "guess_top5_imagenet": pct(1 - 5 / 1000)}


def check_evaluation_runs(s: Mapping[str, Any], profile: str, progress: bool = False) -> dict:
    """Section 6's folded check: evaluate the training chapter's run of ``profile`` and its extra seeds
    (trained here when missing) from their ``last.pt``, one network and their ensemble, with
    :func:`alexnet.evaluate.evaluate`; show the data and the error table, no verdict."""
    import contextlib
    import io

    from IPython.display import display

    from ..evaluate import evaluate
    from .page import say_data

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        members = ensemble_members(profile, s["runs"], s["extra_members"], s["member_epochs"])  # trained quietly
    result = evaluate(last_checkpoints(members), s["data"] or run_data_root(members[0]), ten_crop=s["ten_crop"],
                      workers=s["workers"], batch_size=s["batch_size"], device=s["device"],
                      max_per_class=s["max_per_class"], threads=s["threads"], progress=progress)
    d = result["data"]
    synthetic = "SYNTHETIC" in (d["description"] or "")
    display(say_data(f"{d['images']} validation images of {d['classes']} classes"
                     + (" generated for the test" if synthetic else ""),
                     generated=synthetic, profile=profile, device=result["device"]))
    table = results_table(result, labels=[f"seed {i}, last.pt" for i in range(len(members))])
    display(table.style.format(precision=1, na_rep="-").hide(axis="index"))
    return result


# ---------------------------------------------------------------------------- Section 5: the update rule
def distance_from_paper_rule(make_optimizer, steps: int = 10, drop_at: int = 5, seed: int = 0) -> list[float]:
    """Largest element gap, after each step, between an optimiser and Section 5's update rule typed
    from the paper (``v <- 0.9 v - 0.0005 lr w - lr g``, ``w <- w + v``) on one 64x64 weight tensor,
    with the learning rate 0.01 divided by 10 before step ``drop_at`` as the paper's schedule does."""
    import torch

    torch.manual_seed(seed)
    w = torch.nn.Parameter(torch.randn(64, 64))
    grads = [torch.randn(64, 64) for _ in range(steps)]
    opt = make_optimizer([w])
    hand_w, hand_v, lr, gaps = w.detach().clone(), torch.zeros(64, 64), 0.01, []
    for i, g in enumerate(grads):
        if i == drop_at:
            lr /= 10
            for group in opt.param_groups:
                group["lr"] = lr
        w.grad = g.clone()
        opt.step()
        hand_v = 0.9 * hand_v - 0.0005 * lr * hand_w - lr * g
        hand_w = hand_w + hand_v
        gaps.append((w.detach() - hand_w).abs().max().item())
    return gaps


# ---------------------------------------------------------------------------- Section 5: the preset and its cost
#: Settings that change how the computation is laid out, where its data is looked up or how it is
#: recorded, not what is computed; said as such where a preset changes them without a reason.
LAYOUT_ONLY = {
    "channels_last": "the memory layout of the tensors, not what is computed",
    "checkpoint_every": "how often last.pt is written, not what is computed",
    "model": "the fast or the reference forward pass: the same function",
    "loader": "how the images reach the network: the same pixels",
    "compile": "torch.compile: the same function",
    "workers": "loader processes, not what is computed",
    "threads": "CPU threads, not what is computed",
    "dataset": "the folder looked up under $ALEXNET_DATA when --data is not given",
}


def _same(value: Any, default: Any) -> bool:
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return list(value) == list(default)
    return value == default


#: What the paper itself says of each training setting (Sections 2-5), as the preset table shows it;
#: a setting not listed here the paper does not give.
PAPER_SETTINGS = {
    "resize": "256 (2)", "crop": "224 (4.1)", "augment": "patches, mirrors (4.1)", "pca_lighting": "σ = 0.1 (4.1)",
    "mean_image": "subtracted (2)", "towers": "2 (3.2)", "widths": "96 256 384 384 256 (3.5)",
    "fc": "4096 4096 (3.5)", "lrn": "after conv1, conv2 (3.3)", "pool": "overlapping 3/2 (3.4)",
    "activation": "relu (3.1)", "dropout": "0.5 (4.2)", "dropout_mode": "halved at test (4.2)",
    "dropout_on": "outputs of fc6, fc7 (4.2)", "init": "N(0, 0.01²) (5)", "optimizer": "Section 5's rule",
    "lr": "0.01 (5)", "momentum": "0.9 (5)", "weight_decay": "0.0005 (5)", "batch_size": "128 (5)",
    "lr_schedule": "÷10 on a plateau (5)", "lr_factor": "0.1 (5)", "max_lr_drops": "3 (5)", "epochs": "about 90 (5)",
}
NOT_GIVEN = "not given"


def preset_table(name: str) -> pd.DataFrame:
    """Every setting of preset ``name`` (``alexnet/training/presets/<name>.yaml``) beside what the paper
    says of it (:data:`PAPER_SETTINGS`, with its section; "not given" where the paper says nothing),
    and whether the preset departs from the paper (a stated difference, or a value the paper gives)."""
    from ..training import load_preset

    values = load_preset(name)
    paper = TrainConfig()
    stated = dict(values.get("differences") or {})
    rows = []
    for key, value in values.items():
        if key in ("differences", "preset"):
            continue
        changed = key in stated or (key in PAPER_SETTINGS and not _same(value, getattr(paper, key, None)))
        rows.append({"setting": key, "preset": _show(value), "the paper": PAPER_SETTINGS.get(key, NOT_GIVEN),
                     "changed": "yes" if changed else ""})
    return pd.DataFrame(rows)


def preset_differences(name: str) -> list[tuple[str, str]]:
    """``(setting, reason)`` for every difference from the paper that preset ``name`` states, then
    the settings it changes without a stated reason (those of :data:`LAYOUT_ONLY` said as such)."""
    from ..training import load_preset

    values = load_preset(name)
    reasons = {k: " ".join(str(v).split()) for k, v in dict(values.get("differences") or {}).items()}
    paper = TrainConfig()
    out = list(reasons.items())
    for key, value in values.items():
        if key in ("differences", "preset") or key in reasons or _same(value, getattr(paper, key, None)):
            continue
        out.append((key, LAYOUT_ONLY.get(key, "no reason stated in the preset")))
    return out


def _show(value: Any) -> str:
    if value is None:
        return "paper's"
    if isinstance(value, (list, tuple)):
        return " ".join(map(str, value))
    return str(value)


#: ILSVRC-2012's training images (Section 2: "roughly 1.2 million") and the paper's epochs (Section 5).
IMAGENET_TRAIN_IMAGES = 1_200_000
PAPER_EPOCHS = 90


def training_flops(bench_dir: str | Path = ROOT / "results" / "bench") -> float | None:
    """FLOPs of one training step per image of the paper's network (forward and backward), as counted
    by ``python -m alexnet bench`` (``torch.utils.flop_counter``) in ``results/bench``."""
    from .bench import load_results as load_bench

    for rec in load_bench(bench_dir).values():
        for row in rec["sections"].get("model", {}).get("rows", []):
            if row.get("model") == "ours" and row.get("flops_per_image"):
                return float(row["flops_per_image"])
    return None


def gpu_time_estimate(bench_dir: str | Path = ROOT / "results" / "bench",
                      sustained_tflops: Sequence[float] = (25, 50, 100, 200)) -> dict[str, Any]:
    """What 90 epochs of ImageNet cost, from the FLOPs the bench counted: the rate the paper's 5 to 6
    days imply, the hours at a few assumed sustained rates, and measured GPU rates where
    ``results/bench`` has any (the fastest training mode of each GPU file; data loading not included)."""
    from .bench import load_results as load_bench

    flops = training_flops(bench_dir)
    images = IMAGENET_TRAIN_IMAGES * PAPER_EPOCHS
    out: dict[str, Any] = {"flops_per_image": flops, "images": images}
    if flops is None:
        return out
    total = flops * images
    out["total_flops"] = total
    out["paper_tflops"] = [total / (d * 86400) / 1e12 for d in (6, 5)]  # five to six days (Section 5)
    out["assumed"] = [{"sustained TFLOP/s": r, "hours": total / (r * 1e12) / 3600,
                       "images/s needed": images / (total / (r * 1e12))} for r in sustained_tflops]
    measured = []
    for stem, rec in load_bench(bench_dir).items():
        gpu = rec["machine"].get("gpu")
        rows = [r for r in rec["sections"].get("model", {}).get("rows", []) if str(r.get("model", "")).startswith(
            "ours") and r.get("images_per_s")]
        if gpu and rows:
            best = max(rows, key=lambda r: r["images_per_s"])
            measured.append({"file": f"{stem}.json", "gpu": gpu, "mode": best.get("mode"),
                             "images/s": best["images_per_s"], "hours": images / best["images_per_s"] / 3600})
    out["measured"] = measured
    return out


def estimate_values(est: Mapping[str, Any], run: Any | None = None) -> dict:
    """The numbers the training chapter quotes from :func:`gpu_time_estimate` (``n/a`` where the bench
    counted nothing), and the days 90 epochs of ImageNet would take at the committed run's rate."""
    out = dict.fromkeys(("gflops", "million_images", "total", "paper_lo", "paper_hi", "run_rate", "run_days"), "n/a")
    out["million_images"] = f"{est['images'] / 1e6:.0f}"
    if est.get("total_flops") is not None:
        lo, hi = est["paper_tflops"]
        out.update(gflops=f"{est['flops_per_image'] / 1e9:.2f}", total=f"{est['total_flops']:.2e}",
                   paper_lo=f"{lo:.2f}", paper_hi=f"{hi:.2f}")
    rate = run.provenance.training.mean_images_per_s if run is not None else None
    if rate:
        out.update(run_rate=f"{rate:.0f}", run_days=f"{est['images'] / rate / 86400:.0f}")
    return out


def check_code_runs(settings: Mapping[str, Any], profile: str, progress: bool = False) -> Path:
    """The training chapter's folded check: train ``settings``' run (``runs/05_training-<profile>``,
    resumed when it exists) and show its command, data, curves and per-epoch table; no verdict."""
    import contextlib
    import io

    from IPython.display import Markdown, display

    from .page import figure, say_data

    config = training_config(settings, run_dir("05_training", profile), progress=progress, quiet=not progress)
    display(Markdown(f"```bash\n{shown_command(config)}\n```"))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        run = ensure_run(config, fresh=bool(settings["fresh"]))  # its log lines stay off the page
    records = read_metrics(run)
    cfg = json.loads((run / "config.json").read_text())
    d = cfg["data"]
    display(say_data(f"{d['train_images']} training and {d['val_images']} validation images of {d['classes']} classes",
                     generated=d["synthetic"], profile=profile, device=cfg["provenance"]["device"]))
    figure("fig-training-rerun", plot_training(records))
    display(Markdown("```{glue:figure} fig-training-rerun\n:name: fig-training-rerun\n\nThe check's run, per epoch: "
                     "loss, top-1 and top-5 error on its training batches and validation images, learning rate.\n```"))
    table = pd.DataFrame(records)[["epoch", "lr", "train_loss", "train_top1_error", "val_loss", "val_top1_error",
                                   "val_top5_error", "images_per_s"]]
    table.columns = ["epoch", "lr", "train loss", "train top-1", "val loss", "val top-1", "val top-5", "img/s"]
    fmt = {c: "{:.3f}" for c in table.columns[2:-1]}
    display(table.style.format({"lr": "{:g}", "img/s": "{:.0f}", **fmt}).hide(axis="index"))
    return run


def last_checkpoints(runs: Sequence[str | Path]) -> list[Path]:
    """Each run folder's ``last.pt`` (a checkpoint file stays itself): the weights after the last
    epoch, the headline of Section 6's chapter, never ``best.pt`` (chosen on the images it is scored on)."""
    out = []
    for run in map(Path, runs):
        path = run if run.is_file() else run / "last.pt"
        if not path.is_file():
            raise AlexNetError(f"run {run} holds no last.pt")
        out.append(path)
    return out


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
