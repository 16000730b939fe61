"""What the Section 6.1 chapter (``notebooks/06_1_qualitative.md``) calls: its profiles and the
trained model and images of its rerun (:func:`prepare`). The measurements themselves are
:mod:`alexnet.qualitative`'s.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import AlexNetError
from ..qualitative import stack_dataset

__all__ = ["PROFILES", "CHECKS", "QualitativeRun", "train_config", "prepare", "committed_values", "glue_committed",
           "colour_histogram", "check_code_runs", "PERMUTATIONS"]

# --------------------------------------------------------------------------------------- profiles
#: Notebook settings. ``results``: the committed results of a full run (:mod:`alexnet.export_run`),
#: which the chapter shows first. Then a rerun: ``ci`` trains a small two-tower net here with
#: :func:`alexnet.training.train` for a fixed number of steps (CIFAR-10 upscaled to 80 px, 67 px crops;
#: far from the paper's scale; a check that the code still runs); ``full`` loads a checkpoint
#: (``checkpoint=...``, e.g. the Imagenette run's ``last.pt``) and its data set.
PROFILES: dict[str, dict[str, Any]] = {
    "ci": dict(
        results="results/imagenette",  # committed results (relative to the repository); shown first
        data=None,              # data root (None: $ALEXNET_DATA, else generated images)
        dataset="cifar10",      # folder looked for under the data root
        checkpoint=None,        # a trained model's checkpoint; None trains one here
        resize=80, crop=67,     # CIFAR-10 images upscaled so conv1's 11x11 stride-4 kernels fit
        widths=[96, 64, 96, 96, 64],  # the paper's 96 conv1 kernels; conv2-conv5 narrowed for a CPU
        fc=1024,                # fc6 / fc7 width (the paper: 4096)
        init="torch",           # PyTorch's default; from the paper's N(0, 0.01) a few steps do not learn
        train_per_class=200,    # training (and validation) images per class of the small run
        gallery_per_class=100,  # training images per class searched for neighbours
        val_per_class=50,       # held-out images per class
        epochs=4,               # the run: epochs x steps_per_epoch steps of batch_size images
        steps_per_epoch=30,
        batch_size=32,
        lr=0.01,
        predictions=8,          # Figure 4 left: eight held-out images, as in the paper
        neighbour_queries=5,    # Figure 4 right: five query rows
        neighbours=6,           # six nearest training images, as in the paper
        seed=0,
    ),
    "full": dict(
        results="results/imagenette",
        data=None,              # None: the data set the checkpoint's run was trained on
        dataset="imagenette",
        checkpoint="",          # required: a trained model, e.g. ~/.cache/alexnet/runs/imagenette/last.pt
        resize=256, crop=224,
        widths=[96, 256, 384, 384, 256],  # only used to train here; a checkpoint brings its own
        fc=4096,
        init="paper",
        train_per_class=0,      # no training under the full profile
        gallery_per_class=100,  # training images per class searched for neighbours
        val_per_class=10,
        epochs=0,
        steps_per_epoch=1,
        batch_size=128,
        lr=0.01,
        predictions=8,
        neighbour_queries=5,
        neighbours=6,
        seed=0,
    ),
}

#: Impossible values, named in the error :func:`alexnet.profiles.resolve` raises.
CHECKS = {
    "resize": lambda v: v >= 11,
    "crop": lambda v: 11 <= v,
    "train_per_class": lambda v: v >= 0,
    "gallery_per_class": lambda v: v >= 1,
    "val_per_class": lambda v: v >= 1,
    "epochs": lambda v: v >= 0,
    "steps_per_epoch": lambda v: v >= 1,
    "batch_size": lambda v: v >= 1,
    "lr": lambda v: v > 0,
    "init": lambda v: v in ("paper", "torch"),
    "widths": lambda v: len(v) == 5 and all(int(w) >= 2 for w in v),
    "fc": lambda v: v >= 2,
    "predictions": lambda v: 1 <= v <= 32,
    "neighbour_queries": lambda v: 1 <= v <= 32,
    "neighbours": lambda v: 1 <= v <= 20,
}



@dataclass
class QualitativeRun:
    """What the chapter works on: a trained model, its classes and the images it is shown."""

    model: nn.Module
    class_names: list[str]
    val_images: torch.Tensor
    val_labels: torch.Tensor
    gallery_images: torch.Tensor
    gallery_labels: torch.Tensor
    data_description: str
    synthetic: bool
    model_description: str
    history: list[dict[str, Any]] = field(default_factory=list)  # the run's metrics.jsonl, when trained here
    run_folder: Path | None = None
    mean: torch.Tensor | None = None   # the mean image subtracted from the inputs, for display


def _resolve_root(settings: dict[str, Any]) -> Path:
    """The data set folder; generated images (flagged as such) when none is found without a checkpoint."""
    from .. import data as D
    from ..data.cache import cache_dir

    try:
        return D.resolve_data_root(settings["data"], dataset=settings["dataset"])
    except AlexNetError:
        if settings.get("checkpoint") or settings["data"] is not None:
            raise
    return D.make_synthetic(cache_dir() / "synthetic-qualitative", num_classes=10, train_per_class=60,
                            val_per_class=10, size=64, seed=0)


def train_config(settings: dict[str, Any], root: Path, out: Path):
    """The :class:`alexnet.training.TrainConfig` of the ``ci`` rerun: a fixed number of steps
    (``epochs`` x ``steps_per_epoch`` batches of ``batch_size``), deterministic, one thread.

    Everything not set here is the paper's recipe (Section 5: :class:`alexnet.PaperSGD`, momentum
    0.9, weight decay 5e-4; Section 4.1: random crops, flips, PCA lighting; Section 2: mean image).
    """
    from ..training import TrainConfig

    return TrainConfig(
        data=str(root), out=str(out), resize=settings["resize"], crop=settings["crop"], adaptive_pool=True,
        widths=list(settings["widths"]), fc=[settings["fc"], settings["fc"]], init=settings["init"],
        lr=settings["lr"], batch_size=settings["batch_size"], epochs=settings["epochs"],
        steps_per_epoch=settings["steps_per_epoch"], max_per_class=settings["train_per_class"],
        seed=settings["seed"], deterministic=True, threads=1, workers=0, checkpoint_every=0,
        quiet=True, progress=False, log_every=10**9,
    ).validate()


def prepare(settings: dict[str, Any], out: str | Path | None = None) -> QualitativeRun:
    """The trained model and images for the chapter's rerun, under resolved ``settings`` (see :data:`PROFILES`).

    With ``checkpoint`` set, the model is loaded with :func:`alexnet.training.checkpoint.load_model`.
    Otherwise a two-tower AlexNet of the profile's ``widths`` and ``fc`` (the paper's 96 conv1
    kernels in two towers of 48; adaptive pooling for small inputs) is trained from scratch by
    :func:`alexnet.training.train` (:func:`train_config`) into the run folder ``out`` (default
    ``runs/06_1_qualitative-ci``, replaced each time) for exactly ``epochs`` x ``steps_per_epoch``
    steps, and its ``last.pt`` is loaded: the same settings give the same model. The held-out
    images and a gallery of training images are centre crops without augmentation, with the
    model's training mean image subtracted (Section 2).
    """
    from .. import data as D
    from ..training import load_model

    torch.manual_seed(settings["seed"])
    if settings["checkpoint"] == "":
        raise AlexNetError("the full profile needs checkpoint=PATH, a trained model (e.g. a run folder's last.pt)")
    root = _resolve_root(settings) if not settings["checkpoint"] or settings["data"] else None
    history: list[dict[str, Any]] = []
    run_folder = None
    if settings["checkpoint"]:
        path = Path(settings["checkpoint"]).expanduser()
        if not path.exists():
            raise AlexNetError(f"checkpoint={str(path)!r} does not exist; train one with `python -m alexnet train`")
        if root is None:  # the data set the checkpoint's run was trained on
            from .training import run_data_root

            try:
                root = D.resolve_data_root(run_data_root(path.parent))
            except FileNotFoundError:
                raise AlexNetError(f"checkpoint={str(path)!r}: no config.json beside it names its data; "
                                   "pass data=DIR") from None
        description = f"loaded from {path.name} ({path.parent.name})"
    else:
        from ..training import read_metrics
        from .training import ensure_run, run_dir

        if settings["train_per_class"] < 1 or settings["epochs"] < 1:
            raise AlexNetError("without a checkpoint the model is trained here: train_per_class and epochs must be >= 1")
        run_folder = Path(out) if out is not None else run_dir("06_1_qualitative", "ci")
        ensure_run(train_config(settings, root, run_folder), fresh=True)
        path = run_folder / "last.pt"
        history = read_metrics(run_folder)
        widths = "/".join(str(w) for w in settings["widths"])
        last = history[-1]
        description = (f"a two-tower AlexNet (conv widths {widths}, fc6/fc7 {settings['fc']}, {settings['init']} "
                       f"initialisation, {settings['crop']}-pixel inputs) trained here by alexnet.training.train for "
                       f"{last['step']} steps of {settings['batch_size']} images ({settings['epochs']} "
                       f"epoch{'s' if settings['epochs'] != 1 else ''} of {settings['steps_per_epoch']} steps, "
                       f"{settings['train_per_class']} training images per class, seed {settings['seed']})")
    model = load_model(path, device="cpu")
    data_config = dict(getattr(model, "data_config", None) or {})
    ev = dict(resize=int(data_config.get("resize", settings["resize"])), crop=int(data_config.get("crop", settings["crop"])))
    mean = getattr(model, "data_mean", None)
    mean_image = mean if mean is not None else bool(data_config.get("mean_image", True))
    train_ds = D.build_eval_dataset(root, "train", max_per_class=settings["gallery_per_class"], mean_image=mean_image,
                                    **ev)
    val_ds = D.build_eval_dataset(root, "val", max_per_class=settings["val_per_class"], mean_image=mean_image, **ev)
    gal_x, gal_y = stack_dataset(train_ds)
    val_x, val_y = stack_dataset(val_ds)
    class_names = list(getattr(model, "class_names", None) or train_ds.class_names)
    if len(class_names) != model.num_classes:
        raise AlexNetError(f"checkpoint {path} has {model.num_classes} classes, the data at {root} {len(class_names)}")
    return QualitativeRun(model, class_names, val_x, val_y, gal_x, gal_y, val_ds.description, D.is_synthetic(root),
                          description, history=history, run_folder=run_folder, mean=train_ds.mean)


# ------------------------------------------------------------------------------ the committed run
#: Random splits of the 96 kernels in the permutation test of the towers' gap.
PERMUTATIONS = 20_000


def colour_histogram(stats):
    """Each kernel's colour specificity, by tower, against the value of random weights."""
    import matplotlib.pyplot as plt

    from ..qualitative import random_kernel_baseline
    from .page import PAGE_INCHES

    fig, ax = plt.subplots(figsize=(PAGE_INCHES, 3.0))
    bins = torch.linspace(0, 1, 26).tolist()
    for st in stats:
        values = st.values[~torch.isnan(st.values)].numpy()
        ax.hist(values, bins=bins, alpha=0.6, label=f"tower {st.tower} (mean {st.mean:.2f})")
    ax.axvline(random_kernel_baseline(), color="black", ls="--", lw=1, label="random weights")
    ax.set(xlabel="colour specificity of a kernel (0: grey, 1: pure colour)", ylabel="kernels")
    ax.legend()
    fig.tight_layout()
    return fig


def committed_values(run: Any | None) -> dict[str, Any]:
    """What the chapter's prose says of the committed run (:class:`alexnet.export_run.CommittedRun`;
    ``None``: ``n/a``): its epochs, updates and training images (why its kernels are noisy), the
    towers' colour specificity and p-value, Figure 4's shares, and the scorecard's verdicts."""
    keys = ("epoch", "ten_top1", "epochs", "steps", "train_images", "tower1", "tower2", "baseline", "pvalue", "level",
            "permutations", "colour_verdict", "left_hits", "left_shown", "queries", "top5_share", "gallery",
            "neighbours", "feature_share", "pixel_share", "chance_share", "overlap", "figure4_verdict")
    if run is None:
        return dict.fromkeys(keys, "n/a")
    import inspect

    from ..qualitative import colour_verdict, random_kernel_baseline
    from .formatting import pct
    from .scorecard import imagenette_rows

    head, colour, f4 = run.evaluation["headline"], run.colour, run.figure4
    verdicts = imagenette_rows(run.folder)
    share = f4["same_class_share"]
    return {"epoch": head["epoch"], "ten_top1": pct(head["ten_crop"]["top1_error"]), "epochs": run.summary["epochs"],
            "steps": f"{run.summary['steps']:,}", "train_images": f"{run.provenance.data['train_images']:,}",
            "tower1": f"{colour['towers'][0]['mean']:.2f}", "tower2": f"{colour['towers'][1]['mean']:.2f}",
            "baseline": f"{random_kernel_baseline():.2f}", "pvalue": f"{colour['pvalue']:.3f}",
            "level": f"{inspect.signature(colour_verdict).parameters['level'].default:g}",
            "permutations": f"{colour['permutations']:,}", "colour_verdict": verdicts["colour"].verdict,
            "left_hits": sum(any(t["class"] == q["class"] for t in q["top5"]) for q in f4["left"]),
            "left_shown": len(f4["left"]), "queries": f"{f4['queries']:,}", "top5_share": pct(f4["top5_correct_share"]),
            "gallery": f"{f4['gallery']:,}", "neighbours": f4["neighbours"], "feature_share": pct(share["features"]),
            "pixel_share": pct(share["pixels"]), "chance_share": pct(share["chance"]), "overlap": pct(f4["overlap"]),
            "figure4_verdict": verdicts["figure4"].verdict}


def glue_committed(run: Any | None) -> dict[str, Any]:
    """Glue :func:`committed_values` (``q_<key>``) and the committed figures: Figure 3's kernels and their
    histogram (drawn from ``conv1_kernels.npz``), Figure 4 left and right (the PNGs the export drew)."""
    from IPython.display import Image
    from myst_nb import glue

    from .. import viz
    from ..qualitative import tower_colour_stats
    from .page import figure
    from .results import glue_values, not_run_figure

    if run is None:
        for name in ("fig-imagenette-kernels", "fig-imagenette-colour", "fig-imagenette-left", "fig-imagenette-right"):
            figure(name, not_run_figure("no committed Imagenette run"))
    else:
        kernels = run.kernels()
        stats = tower_colour_stats(kernels)
        figure("fig-imagenette-kernels", viz.filter_grid(kernels, stats=[st.mean for st in stats], cols=16, title=None))
        figure("fig-imagenette-colour", colour_histogram(stats))
        for side in ("left", "right"):
            glue(f"fig-imagenette-{side}", Image(filename=str(run.folder / f"figure4_{side}.png")), display=False)
    return glue_values("q", committed_values(run))


# ------------------------------------------------------------------------------- the folded check
def _directive(name: str, caption: str):
    from IPython.display import Markdown

    return Markdown(f"```{{glue:figure}} {name}\n:name: {name}\n\n{caption}\n```")


def check_code_runs(settings: dict[str, Any], profile: str) -> QualitativeRun:
    """The chapter's folded check: train (or load) the rerun's network and draw Figures 3 and 4 from
    it, with its errors and neighbour shares in one table; no verdict (a network trained for a minute,
    on generated images above all, decides nothing)."""
    import contextlib
    import io

    import pandas as pd
    from IPython.display import display

    from .. import qualitative as Q
    from .. import viz
    from .page import figure, say_data
    from .training import plot_training

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        run = prepare(settings)  # its training log stays off the page
    display(say_data(f"{run.val_images.shape[0]} held-out and {run.gallery_images.shape[0]} training images of "
                     f"{len(run.class_names)} classes", generated=run.synthetic, profile=profile))
    if run.history:
        figure("fig-rerun-curves", plot_training(run.history))
        display(_directive("fig-rerun-curves", "The check's training, per epoch."))
    logits, features = Q.outputs(run.model, run.val_images)
    top1_ok, top5_ok = Q.predictions(logits, k=5).correct(run.val_labels)
    stats = Q.tower_colour_stats(Q.conv1_kernels(run.model))
    figure("fig-rerun-kernels", viz.filter_grid(Q.conv1_kernels(run.model), stats=[st.mean for st in stats],
                                                cols=16, title=None))
    display(_directive("fig-rerun-kernels", "Figure 3 from the check's network: its 96 conv1 kernels by tower."))
    shown = Q.pick_queries(run.val_labels, settings["predictions"], seed=settings["seed"])
    preds = Q.predictions(logits[shown], k=5)
    figure("fig-rerun-left", viz.prediction_panels(run.val_images[shown], preds.probs, preds.indices, run.class_names,
                                                   targets=run.val_labels[shown], mean=run.mean, title=None))
    display(_directive("fig-rerun-left", "Figure 4 (left) from the check's network."))
    gallery = Q.hidden_features(run.model, run.gallery_images)
    queries = Q.pick_queries(run.val_labels, settings["neighbour_queries"], seed=settings["seed"] + 1)
    nb = Q.neighbours(run.model, run.val_images[queries], run.gallery_images, k=settings["neighbours"],
                      gallery_features=gallery, query_features=features[queries])
    figure("fig-rerun-right", viz.neighbour_panels(run.val_images[queries], run.gallery_images, nb.feature_idx,
                                                   nb.pixel_idx, run.class_names, run.val_labels[queries],
                                                   run.gallery_labels, mean=run.mean, title=None))
    display(_directive("fig-rerun-right", "Figure 4 (right) from the check's network: fc7 neighbours (upper row), "
                                          "pixel neighbours (lower row)."))
    every = Q.neighbours(run.model, run.val_images, run.gallery_images, k=settings["neighbours"],
                         gallery_features=gallery, query_features=features)
    feature_same, pixel_same = every.same_class(run.val_labels, run.gallery_labels)
    display(pd.DataFrame([{"top-1 error": f"{100 * (1 - top1_ok.double().mean().item()):.1f}%",
                           "top-5 error": f"{100 * (1 - top5_ok.double().mean().item()):.1f}%",
                           "colour specificity by tower": " / ".join(f"{st.mean:.2f}" for st in stats),
                           "same class: fc7 / pixels": f"{100 * feature_same:.0f}% / {100 * pixel_same:.0f}%"}])
            .style.hide(axis="index"))
    return run
