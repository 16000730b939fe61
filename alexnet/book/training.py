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
from ..provenance import ROOT, is_dirty
from ..export_run import ExportProvenance, timing_words
from .page import device_words
from ..training import TRAINING_PROFILES, TrainConfig, read_metrics
from ..training.config import _CI_DATA

__all__ = [
    "TRAINING_PROFILES", "TRAINING_CHECKS", "RESULTS_PROFILES", "RESULTS_CHECKS", "training_config",
    "distance_from_paper_rule", "run_dir", "ensure_run", "command_line", "shown_command", "plot_training", "lr_drops", "PAPER_ROWS", "table_with_ours",
    "results_folder", "shown_folder", "curve_words", "run_words", "headline_words", "chance_words", "best_words", "preset_table",
    "preset_differences", "training_flops",
    "gpu_time_estimate",
    "results_table", "plot_per_class", "run_data_root",
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


def curve_words(records: Sequence[Mapping[str, Any]]) -> str:
    """How loss and error moved over a run, and when the learning rate was divided, in words."""
    first, last = records[0], records[-1]

    def went(key: str) -> str:
        a, b = first[key], last[key]
        verb = "fell" if b < a else "rose" if b > a else "stayed"
        return f"{verb} from {a:.2f} to {b:.2f}" if verb != "stayed" else f"stayed at {a:.2f}"

    drops = lr_drops(records)
    when = (f"divided by 10 after epoch{'s' if len(drops) > 1 else ''} {', '.join(map(str, drops))}" if drops
            else "never divided")
    return (f"Over {len(records)} epochs the training loss {went('train_loss')} and the validation loss "
            f"{went('val_loss')}; the learning rate was {when}. In the last epoch the error on the training batches "
            f"was {_pct(last['train_top1_error'])} top-1 against {_pct(last['val_top1_error'])} on the validation "
            "images.")


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
#: ILSVRC's size (Section 2): about 1.2 million training, 50,000 validation and 150,000 test images.
ILSVRC_IMAGES = {"val": "50 k", "test": "150 k"}


def _count(n: int) -> str:
    return f"{n / 1000:.1f} k" if n >= 10_000 else f"{n:,}"


def table_with_ours(table: int, evaluation: Mapping[str, Any] | None, data: Mapping[str, Any] | None) -> pd.DataFrame:
    """The paper's Table ``table`` (1 or 2) with our rows below it: one patch and ten patches.

    ``evaluation`` and ``data`` are a results folder's ``evaluation.json`` and ``provenance.json``'s
    ``data`` (:mod:`alexnet.export_run`); ``None`` gives the paper's rows alone. Every row names its
    data set, classes, training / test images and patches; errors in %.
    """
    if table not in PAPER_ROWS:
        raise AlexNetError(f"table must be 1 or 2 (the paper's Section 6 tables), got {table!r}")
    rows = []
    for model, data_set, patches, top1, top5 in PAPER_ROWS[table]:
        rows.append({"model": model, "data set": data_set, "classes": "1,000",
                     "train / test": f"1.2 M / {ILSVRC_IMAGES[data_set.rsplit(' ', 1)[1]]}",
                     "patches": "-" if patches is None else str(patches), "top-1": top1, "top-5": top5})
    if evaluation is not None:
        head = evaluation["headline"]
        d = data or {}
        train = d.get("train_images")
        for view, patches in (("centre", "1"), ("ten_crop", "10")):
            rows.append({"model": "ours", "data set": "Imagenette val", "classes": f"{head['data']['classes']:,}",
                         "train / test": f"{_count(train) if train else '?'} / {_count(head['data']['images'])}",
                         "patches": patches, "top-1": 100 * head[view]["top1_error"],
                         "top-5": 100 * head[view]["top5_error"]})
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


# ---------------------------------------------------------------------------- words about a run
def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, m = divmod(seconds // 60, 60)
    if h:
        return f"{h} h {m:02d} min"
    return f"{m} min {seconds % 60:02d} s" if m else f"{seconds} s"


def _commit(commit: str | None) -> str:
    if not commit:
        return "an unrecorded commit"
    return f"commit `{commit[:8]}`" + (" (with uncommitted changes)" if is_dirty(commit) else "")


def run_words(provenance: ExportProvenance) -> str:
    """Where, when and how long: the training run and the export of a results folder, in words."""
    t, e = provenance.training.provenance, provenance.export.provenance
    return (f"Trained by `{t.command}` at {_commit(t.git_commit)} on {device_words(t.device)}: "
            f"{timing_words(provenance.training)} Evaluated and exported by `{e.command}` at {_commit(e.git_commit)} "
            f"on {device_words(e.device)} on {e.date[:10]} in {_duration(e.wall_seconds)}.")


def headline_words(evaluation: Mapping[str, Any]) -> str:
    """The headline (last epoch, validation set) with one and ten patches, and the ten-patch gain beside the paper's."""
    h = evaluation["headline"]
    c, t = h["centre"], h["ten_crop"]
    gain = 100 * (c["top1_error"] - t["top1_error"])
    change = (f"lower the top-1 error by {gain:.1f} points" if gain > 0.05 else
              f"raise the top-1 error by {-gain:.1f} points" if gain < -0.05 else "leave the top-1 error unchanged")
    return (f"After its last epoch (epoch {h['epoch']}) the network misclassifies {_pct(c['top1_error'])} of the "
            f"{h['data']['images']:,} validation images (top-1) and misses the true class among its five best "
            f"guesses for {_pct(c['top5_error'])} (top-5) with one centre patch; with ten patches "
            f"{_pct(t['top1_error'])} and {_pct(t['top5_error'])}. Ten patches {change} (the paper's Table 1: "
            f"1.5 points, 39.0% to 37.5%).")


def chance_words(classes: int) -> str:
    """What top-5 means among ``classes`` classes, against ImageNet's 1,000: the errors of guessing."""
    k = min(5, classes)
    return (f"Guessing gives {_pct(1 - 1 / classes)} top-1 and {_pct(1 - k / classes)} top-5 error among "
            f"{classes} classes, against {_pct(1 - 1 / 1000)} and {_pct(1 - 5 / 1000)} among ImageNet's 1,000: "
            f"top-5 of {classes} classes is a much easier task than top-5 of 1,000, and neither error is comparable "
            f"with the paper's.")


def best_words(evaluation: Mapping[str, Any]) -> str:
    """``best.pt`` said for what it is: chosen on the same validation images, not a headline."""
    b = evaluation.get("best")
    if not b:
        return "The run kept no best.pt."
    if b.get("same_as_last"):
        return (f"The epoch with the lowest validation top-1 error (best.pt) is the last one (epoch {b['epoch']}), "
                "so best.pt holds the same weights as the headline.")
    return (f"best.pt, the weights of epoch {b['epoch']} (the lowest validation top-1 error), has "
            f"{_pct(b['centre']['top1_error'])} top-1 and {_pct(b['centre']['top5_error'])} top-5 error with one "
            f"patch and {_pct(b['ten_crop']['top1_error'])} / {_pct(b['ten_crop']['top5_error'])} with ten; it was "
            "chosen on these same validation images, so it is not a headline: choosing the epoch on the images one "
            "reports on flatters the number.")


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


def preset_table(name: str) -> pd.DataFrame:
    """Every setting of preset ``name`` (``alexnet/training/presets/<name>.yaml``) beside the paper's value
    (:class:`TrainConfig`'s defaults are the paper's), and whether the preset changes it."""
    from ..training import load_preset

    values = load_preset(name)
    paper = TrainConfig()
    rows = []
    for key, value in values.items():
        if key in ("differences", "preset"):
            continue
        default = getattr(paper, key, None)
        rows.append({"setting": key, "preset": _show(value), "the paper": _show(default),
                     "changed": "" if _same(value, default) else "yes"})
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
