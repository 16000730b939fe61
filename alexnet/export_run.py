"""``python -m alexnet export-run``: a finished training run turned into small files worth committing.

A run folder (:mod:`alexnet.training`: ``config.json``, ``metrics.jsonl``, ``last.pt``, ``best.pt``,
``summary.json``) holds checkpoints of hundreds of megabytes and absolute paths of the machine it ran
on. :func:`export_run` reads it with the data it was trained on and writes a folder of a few
megabytes from which the book draws Sections 6 and 6.1 on a machine that has neither:

* ``config.json``, ``metrics.jsonl``, ``summary.json``: the run's own records (paths made relative);
* ``evaluation.json``: Section 6's error rates of the **last** epoch's weights (the headline) on the
  validation split, with one centre patch and with ten patches (Section 4.1), top-1 and top-5, per
  class and the most confused pairs; the same for ``best.pt``, which was chosen on these same
  validation images and so is labelled as such, never the headline;
* ``conv1_kernels.npz`` and ``colour.json``: Figure 3's 96 conv1 kernels by tower, with the colour
  statistic of :mod:`alexnet.qualitative` and its permutation test;
* ``figure4.json``, ``neighbours.npz``, ``figure4_left.png``, ``figure4_right.png``: Figure 4, left
  (validation photographs with their five most probable labels) and right (the six nearest training
  photographs in the last hidden layer, fc7, beside the six nearest in pixel space), with the share
  of same-class neighbours in each space over every validation image;
* ``provenance.json`` and ``README.md``: the command, commit, device, date and wall time of the
  training and of this export, and how to reproduce both.

:func:`load_results` reads such a folder back for the book.
"""
from __future__ import annotations

import importlib.util
import json
import math
import shlex
import shutil
import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from .errors import AlexNetError
from .formatting import duration, pct
from .provenance import Provenance

__all__ = ["export_run", "load_results", "CommittedRun", "ExportProvenance", "TrainingRecord", "ExportRecord",
           "pixel_nearest", "RUN_FILES", "FORMAT"]

#: Version of the folder's layout, written into ``provenance.json`` (2: provenance records of
#: :class:`alexnet.provenance.Provenance`'s shape).
FORMAT = 2
#: Files a run folder must hold to be exported (``best.pt`` is optional).
RUN_FILES = ("config.json", "metrics.jsonl", "summary.json", "last.pt")
#: What ``best.pt`` is, said wherever its numbers appear.
BEST_NOTE = "the epoch of lowest top-1 error, chosen on these same validation images: not a headline"
HEADLINE_NOTE = "the weights after the last epoch: the headline"


# ------------------------------------------------------------------------------- provenance
@dataclass
class TrainingRecord:
    """How the exported run was trained: the run's provenance (its wall time: training in all, over
    every resume) and the epochs' timing."""

    provenance: Provenance
    finished: str | None            # when the last checkpoint was written (UTC)
    epochs: int
    steps: int | None
    mean_epoch_time_s: float | None
    mean_images_per_s: float | None
    median_epoch_time_s: float | None
    fastest_epoch_time_s: float | None
    slowest_epoch_time_s: float | None
    resumed: bool                   # the recorded command is a resume (``--resume``)


@dataclass
class ExportRecord:
    """How the results folder was made from the run: the export's provenance."""

    provenance: Provenance
    max_per_class: int | None
    words_recomputed: dict[str, Any] | None = None  # words redrawn later from the same numbers, and by what


@dataclass
class ExportProvenance:
    """``provenance.json`` of a results folder: the data set, the training run and the export."""

    format: int
    data: dict[str, Any]
    training: TrainingRecord
    export: ExportRecord

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "provenance.json") -> ExportProvenance:
        """Read ``provenance.json`` back; an older layout or a missing part raises an error naming ``source``."""
        if values.get("format") != FORMAT:
            raise AlexNetError(f"{source} has layout {values.get('format')!r}, this version reads {FORMAT}; "
                               "export the run again with `python -m alexnet export-run`")
        try:
            t, e = dict(values["training"]), dict(values["export"])
            t["provenance"] = Provenance.from_dict(t["provenance"], f"{source}: training")
            e["provenance"] = Provenance.from_dict(e["provenance"], f"{source}: export")
            return cls(format=values["format"], data=values["data"], training=TrainingRecord(**t),
                       export=ExportRecord(**e))
        except (KeyError, TypeError) as err:
            raise AlexNetError(f"{source}: {err}") from None


# ------------------------------------------------------------------------------------ paths
def _scrub(value: Any, replacements: list[tuple[str, str]]) -> Any:
    """``value`` with every absolute path prefix in ``replacements`` replaced (recursively)."""
    if isinstance(value, str):
        for old, new in replacements:
            if old and old in value:
                value = value.replace(old, new)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, replacements) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, replacements) for v in value]
    return value


def _replacements(run: Path, root: Path, out: Path) -> list[tuple[str, str]]:
    """Path prefixes, longest first: the data set folder -> ``DATA/<its name>``, the run folder ->
    ``RUN``, the results folder -> its path in the checkout (else ``OUT``), the home folder -> ``~``."""
    from .provenance import ROOT

    out_abs = out.resolve()
    out_name = str(out_abs.relative_to(ROOT)) if out_abs.is_relative_to(ROOT) else "OUT"
    data = f"DATA/{root.resolve().name}"
    pairs = [(str(root.resolve()), data), (str(root), data), (str(run.resolve()), "RUN"), (str(run), "RUN"),
             (str(out_abs), out_name), (str(Path.home()), "~")]
    return sorted({p for p in pairs if p[0] not in ("", "/", ".")}, key=lambda p: -len(p[0]))


def _command(text: str) -> str:
    """A recorded command line as a user types it (``__main__.py train`` -> ``python -m alexnet train``)."""
    for name in ("__main__.py ", "alexnet "):
        if text.startswith(name):
            return "python -m alexnet " + text[len(name):]
    return text


def check_run(run: Path) -> None:
    """Raise :class:`AlexNetError` naming the first file of :data:`RUN_FILES` the run folder lacks."""
    if not run.is_dir():
        raise AlexNetError(f"run folder {run} does not exist")
    for name in RUN_FILES:
        if not (run / name).is_file():
            extra = " (the run has not finished: summary.json is written at its end)" if name == "summary.json" else ""
            raise AlexNetError(f"run folder {run} has no {name}{extra}")


# ------------------------------------------------------------------- images and features
class _Crops(Dataset):
    """Items ``(network input, uint8 centre crop, label)`` of an evaluation data set.

    The input is the data set's own centre patch (mean subtracted, Section 2); the crop is the
    same patch before the mean is subtracted, for pixel distances and for display.
    """

    def __init__(self, dataset) -> None:
        self.dataset = dataset
        self.crop = int(dataset.transform.crop)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int):
        raw = self.dataset.raw[i]
        h, w = raw.shape[-2:]
        top, left = (h - self.crop) // 2, (w - self.crop) // 2
        crop = raw[:, top:top + self.crop, left:left + self.crop].contiguous()
        return self.dataset.transform(raw), crop, self.dataset.raw.targets[i]


@torch.no_grad()
def _embed(model, dataset, batch_size: int, workers: int | None, device: torch.device, amp: str, progress: bool,
           desc: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(logits, fc7 outputs, uint8 crops (N, 3*c*c), labels)`` of every image, in eval mode."""
    from .data import make_loader
    from .qualitative import model_outputs

    loader = make_loader(_Crops(dataset), batch_size, train=False, workers=workers)
    if progress:
        from tqdm.auto import tqdm

        loader = tqdm(loader, desc=desc, leave=False)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)
    model.eval()
    logits, hidden, crops, labels = [], [], [], []
    for x, crop, y in loader:
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            z, h = model_outputs(model, x.to(device))
        logits.append(z.float().cpu())
        hidden.append(h.float().cpu())
        crops.append(crop.reshape(crop.shape[0], -1))
        labels.append(torch.as_tensor(y))
    return torch.cat(logits), torch.cat(hidden), torch.cat(crops), torch.cat(labels)


def pixel_nearest(queries: torch.Tensor, gallery: torch.Tensor, k: int = 6, query_chunk: int = 256,
                  gallery_chunk: int = 1024, progress: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` gallery rows nearest to each query row in Euclidean pixel distance, nearest first.

    ``queries`` ``(Q, D)`` and ``gallery`` ``(N, D)`` are ``uint8`` pixel arrays (centre crops before
    mean subtraction: one mean image subtracted from both leaves every distance unchanged). The
    candidates come from float32 matrix products in chunks (the whole gallery never needs to be
    float), and the ``k`` nearest are re-ranked with exact integer distances. Returns
    ``(distances float32 (Q, k), indices int64 (Q, k))``.
    """
    if queries.dtype != torch.uint8 or gallery.dtype != torch.uint8:
        raise ValueError("pixel_nearest expects uint8 pixel arrays")
    if queries.dim() != 2 or gallery.dim() != 2 or queries.shape[1] != gallery.shape[1]:
        raise ValueError(f"pixel_nearest: queries {tuple(queries.shape)} and gallery {tuple(gallery.shape)} "
                         "must be (Q, D) and (N, D)")
    n = gallery.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"pixel_nearest: k must be between 1 and the gallery size {n}, got {k}")
    m = min(n, k + 10)  # candidates kept from the float32 pass

    def centred(x: torch.Tensor) -> torch.Tensor:  # smaller numbers, smaller float32 rounding
        return x.float() - 128.0

    g_norm = torch.cat([centred(g).pow(2).sum(1) for g in gallery.split(gallery_chunk)])
    out_d, out_i = [], []
    chunks = list(queries.split(query_chunk))
    if progress:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, desc="pixel neighbours", leave=False)
    for q in chunks:
        qf = centred(q)
        q_norm = qf.pow(2).sum(1, keepdim=True)
        best_d = torch.full((q.shape[0], 0), math.inf)
        best_i = torch.zeros((q.shape[0], 0), dtype=torch.long)
        for start in range(0, n, gallery_chunk):
            g = centred(gallery[start:start + gallery_chunk])
            d2 = q_norm + g_norm[start:start + g.shape[0]] - 2 * qf @ g.T
            cand_d = torch.cat([best_d, d2], dim=1)
            cand_i = torch.cat([best_i, torch.arange(start, start + g.shape[0]).expand(q.shape[0], -1)], dim=1)
            keep = cand_d.topk(min(m, cand_d.shape[1]), dim=1, largest=False).indices
            best_d, best_i = cand_d.gather(1, keep), cand_i.gather(1, keep)
        # exact squared distances of the candidates, in integers
        exact = torch.stack([
            (gallery[best_i[r]].to(torch.int32) - q[r].to(torch.int32)).pow(2).sum(1) for r in range(q.shape[0])
        ])
        order = torch.argsort(exact * n + best_i, dim=1)[:, :k]  # ties broken by the lower index
        out_d.append(exact.gather(1, order).double().sqrt().float())
        out_i.append(best_i.gather(1, order))
    return torch.cat(out_d), torch.cat(out_i)


# ----------------------------------------------------------------------------- the export
def _rel_paths(dataset, root: Path) -> list[str]:
    return [str(Path(p).relative_to(root)) if Path(p).is_relative_to(root) else Path(p).name
            for p in dataset.raw.paths]


def _evaluation(path: Path, root: Path, epoch: int, note: str, replacements, **kwargs) -> dict[str, Any]:
    from .evaluate import evaluate

    result = evaluate(path, root, ten_crop=True, **kwargs)
    single = result["models"][0]
    return _scrub({
        "checkpoint": path.name, "epoch": epoch, "note": note,
        "centre": single["centre"], "ten_crop": single["ten_crop"],
        "per_class": result["per_class"], "per_class_view": result["headline"]["view"],
        "confused_pairs": result["confused_pairs"], "data": result["data"],
        "device": result["device"], "amp": result["amp"], "wall_time_s": result["wall_time_s"],
    }, replacements)


def _share_same(idx: torch.Tensor, query_labels: torch.Tensor, gallery_labels: torch.Tensor) -> float:
    return float((gallery_labels[idx] == query_labels.view(-1, 1)).double().mean())


def _chance_same(query_labels: torch.Tensor, gallery_labels: torch.Tensor, classes: int) -> float:
    """Share of same-class neighbours if neighbours were drawn at random from the gallery."""
    q = torch.bincount(query_labels, minlength=classes).double() / query_labels.numel()
    g = torch.bincount(gallery_labels, minlength=classes).double() / gallery_labels.numel()
    return float((q * g).sum())


def export_run(run: str | Path, data: str | Path | None, out: str | Path, *, batch_size: int = 64,
               workers: int | None = None, threads: int | None = None, device: str = "auto",
               max_per_class: int | None = None, amp: str = "none", predictions: int = 8,
               neighbour_queries: int = 5, neighbours: int = 6, permutations: int = 20_000, seed: int = 0, dpi: int = 100,
               progress: bool = False, command: str | None = None) -> Path:
    """Write the committed results of the run folder ``run`` into ``out`` (see the module docstring).

    Args:
        run: a finished run folder (:data:`RUN_FILES`).
        data: the data set it was trained on (``None``: the folder its ``config.json`` names).
        out: the results folder (created; files of an earlier export are replaced).
        max_per_class: evaluate and search at most this many images per class (``None``: every
            validation image and every training image, as the committed results are).
        amp: autocast of the evaluation (``none``: float32, the default; ``bf16``; ``fp16``). The
            networks run on the fast path (:func:`alexnet.evaluate.fast_copy`, the same function).
        predictions, neighbour_queries, neighbours: Figure 4's eight images (left), five rows and
            six neighbours per row (right), as in the paper.
        permutations: random splits in Figure 3's permutation test.
        command: the command line to record (default: this process's).
    Returns ``out``.
    """
    from .data import resolve_data_root
    from .evaluate import fast_copy
    from .provenance import resolve_device, utc_now
    from .training.checkpoint import load_model

    t0, started = time.perf_counter(), utc_now()
    run, out = Path(run).expanduser(), Path(out).expanduser()
    _check_export(run, out, predictions=predictions, neighbour_queries=neighbour_queries, neighbours=neighbours,
                  batch_size=batch_size, permutations=permutations)
    config, summary = _read_json(run, "config.json"), _read_json(run, "summary.json")
    root = resolve_data_root(data if data is not None else config.get("data", {}).get("root")).resolve()
    if threads:
        torch.set_num_threads(threads)
    dev = resolve_device(device)
    rep = _replacements(run, root, out)
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "config.json", _scrub(config, rep))  # the run's records
    shutil.copyfile(run / "metrics.jsonl", out / "metrics.jsonl")
    _write_json(out / "summary.json", _scrub(summary, rep))
    evaluation, saved_at = _evaluate_checkpoints(run, root, out, rep, batch_size=batch_size, workers=workers,
                                                 device=str(dev), max_per_class=max_per_class, progress=progress,
                                                 amp=amp, fast=True)
    model = fast_copy(load_model(run / "last.pt", device=dev))
    colour = _figure3(model, out, permutations, seed)
    figure4 = _figure4(model, root, out, max_per_class=max_per_class, predictions=predictions,
                       neighbour_queries=neighbour_queries, neighbours=neighbours, seed=seed, dpi=dpi,
                       embed=dict(batch_size=batch_size, workers=workers, device=dev, amp=amp, progress=progress))
    del model
    provenance = _provenance(run, config, summary, rep, saved_at=saved_at, device=dev, command=command,
                             started=started, seconds=time.perf_counter() - t0, max_per_class=max_per_class)
    _write_json(out / "provenance.json", provenance.to_dict())
    (out / "README.md").write_text(_readme(out, config, summary, evaluation, colour, figure4, provenance))
    return out


def _check_export(run: Path, out: Path, **counts: int) -> None:
    """One clear error for a run folder, a results folder or a setting that cannot work, before the
    long evaluation."""
    check_run(run)
    if importlib.util.find_spec("matplotlib") is None:
        raise AlexNetError("export-run draws Figure 4 with matplotlib, which is not installed: "
                           "pip install 'alexnet-repro[plots]'")
    for name, v in counts.items():
        if not isinstance(v, int) or v < 1:
            raise AlexNetError(f"export-run: {name} must be an integer >= 1, got {v!r}")
    if out.resolve() == run.resolve() or out.resolve().is_relative_to(run.resolve()):
        raise AlexNetError(f"--out {out} lies inside the run folder {run}; choose another folder")


def _read_json(run: Path, name: str) -> dict[str, Any]:
    try:
        return json.loads((run / name).read_text())
    except ValueError as err:
        raise AlexNetError(f"run folder {run}: {name} is not JSON ({err})") from None


def _write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=2) + "\n")


def _evaluate_checkpoints(run: Path, root: Path, out: Path, rep, **kwargs: Any) -> tuple[dict[str, Any], str | None]:
    """Section 6: ``last.pt`` (the headline) and ``best.pt`` (chosen on the validation images) into
    ``evaluation.json``; returns it and when ``last.pt`` was written."""
    from .training.checkpoint import load_checkpoint

    last_state = load_checkpoint(run / "last.pt")
    last_epoch, saved_at = int(last_state["epoch"]), last_state.get("saved_at")
    del last_state
    headline = _evaluation(run / "last.pt", root, last_epoch, HEADLINE_NOTE, rep, **kwargs)
    best = None
    if (run / "best.pt").is_file():
        best_epoch = int(load_checkpoint(run / "best.pt")["epoch"])
        if best_epoch == last_epoch:
            best = {"checkpoint": "best.pt", "epoch": best_epoch, "note": BEST_NOTE, "same_as_last": True}
        else:
            best = {**_evaluation(run / "best.pt", root, best_epoch, BEST_NOTE, rep, **kwargs), "same_as_last": False}
    evaluation = {"headline": headline, "best": best,
                  "note": "the headline is the last epoch's error on the validation images, which the learning-rate "
                          "schedule also watched (as the paper's did); best.pt was chosen on the same images"}
    _write_json(out / "evaluation.json", evaluation)
    return evaluation, saved_at


def _figure3(model, out: Path, permutations: int, seed: int) -> dict[str, Any]:
    """Figure 3: conv1's kernels by tower, their colour statistic and the permutation test
    (``conv1_kernels.npz``, ``colour.json``)."""
    from . import qualitative as Q

    kernels = Q.conv1_kernels(model)
    np.savez_compressed(out / "conv1_kernels.npz", **{f"tower{i}": k.numpy().astype(np.float32)
                                                      for i, k in enumerate(kernels, start=1)})
    stats = Q.tower_colour_stats(kernels)
    colour: dict[str, Any] = {"towers": [s.as_dict() for s in stats], "random_baseline": Q.random_kernel_baseline(
        *kernels[0].shape[-2:]), "permutations": permutations, "seed": seed}
    if len(stats) == 2:
        colour["pvalue"] = Q.tower_gap_pvalue(stats[0].values, stats[1].values, permutations, seed)
        colour["verdict"] = Q.colour_verdict(stats, colour["pvalue"])
    _write_json(out / "colour.json", colour)
    return colour


@dataclass
class _Searched:
    """Figure 4's search: every validation image against every training image, in fc7 and in pixels."""

    names: list[str]
    k: int                        # neighbours per query
    crop: int
    resize: int
    val_paths: list[str]
    train_paths: list[str]
    val_labels: torch.Tensor
    train_labels: torch.Tensor
    val_pixels: torch.Tensor
    train_pixels: torch.Tensor
    top: Any                      # qualitative.predictions: top-5 indices and probabilities
    feature_idx: torch.Tensor
    feature_dist: torch.Tensor
    pixel_idx: torch.Tensor
    pixel_dist: torch.Tensor

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path, val_paths=np.array(self.val_paths), train_paths=np.array(self.train_paths),
            val_labels=self.val_labels.numpy().astype(np.int16), train_labels=self.train_labels.numpy().astype(np.int16),
            top5_indices=self.top.indices.numpy().astype(np.int16), top5_probs=self.top.probs.numpy().astype(np.float32),
            feature_idx=self.feature_idx.numpy().astype(np.int32), feature_dist=self.feature_dist.numpy().astype(np.float32),
            pixel_idx=self.pixel_idx.numpy().astype(np.int32), pixel_dist=self.pixel_dist.numpy().astype(np.float32),
            class_names=np.array(self.names),
        )


def _search(model, root: Path, max_per_class: int | None, neighbours: int, embed: dict[str, Any]) -> _Searched:
    from . import qualitative as Q
    from .data import build_eval_dataset

    dc = dict(model.data_config)
    ds_kwargs = dict(resize=int(dc.get("resize", 256)), crop=int(dc.get("crop", 224)),
                     mean_image=model.data_mean if model.data_mean is not None else bool(dc.get("mean_image", True)),
                     max_per_class=max_per_class)
    val_ds = build_eval_dataset(root, "val", **ds_kwargs)
    train_ds = build_eval_dataset(root, "train", **ds_kwargs)
    names = list(model.class_names or val_ds.class_names)
    val_logits, val_hidden, val_pixels, val_labels = _embed(model, val_ds, desc="val", **embed)
    _, train_hidden, train_pixels, train_labels = _embed(model, train_ds, desc="train", **embed)
    k = min(neighbours, train_labels.numel())
    feature_dist, feature_idx = Q.nearest(val_hidden, train_hidden, k)
    pixel_dist, pixel_idx = pixel_nearest(val_pixels, train_pixels, k, progress=embed["progress"])
    return _Searched(names, k, ds_kwargs["crop"], ds_kwargs["resize"], _rel_paths(val_ds, root), _rel_paths(train_ds, root),
                     val_labels, train_labels, val_pixels, train_pixels, Q.predictions(val_logits, k=5),
                     feature_idx, feature_dist, pixel_idx, pixel_dist)


def _figure4(model, root: Path, out: Path, *, max_per_class: int | None, predictions: int, neighbour_queries: int,
             neighbours: int, seed: int, dpi: int, embed: dict[str, Any]) -> dict[str, Any]:
    """Figure 4 (``neighbours.npz``, ``figure4.json``, its two PNGs): the search, the shares of
    same-class neighbours in each space, and the images the figure shows."""
    from . import qualitative as Q

    f = _search(model, root, max_per_class, neighbours, embed)
    f.save(out / "neighbours.npz")
    feature_same = _share_same(f.feature_idx, f.val_labels, f.train_labels)
    pixel_same = _share_same(f.pixel_idx, f.val_labels, f.train_labels)
    chance = _chance_same(f.val_labels, f.train_labels, len(f.names))
    left = Q.pick_queries(f.val_labels, predictions, seed=seed)
    right = Q.pick_queries(f.val_labels, neighbour_queries, seed=seed + 1)

    def image(i: int, labels: torch.Tensor, paths: list[str]) -> dict[str, Any]:
        return {"index": i, "path": paths[i], "label": int(labels[i]), "class": f.names[int(labels[i])]}

    def neighbours_of(i: int, idx: torch.Tensor, dist: torch.Tensor) -> list[dict[str, Any]]:
        return [{**image(int(j), f.train_labels, f.train_paths), "distance": float(d)} for j, d in zip(idx[i], dist[i])]

    figure4 = {
        "classes": f.names,
        "queries": len(f.val_paths), "gallery": len(f.train_paths), "neighbours": f.k,
        "max_per_class": max_per_class,
        "space": {"features": "fc7 output (the last hidden layer), Euclidean distance",
                  "pixels": f"{f.crop}x{f.crop} centre crops of the {f.resize}-pixel "
                            "images, Euclidean distance between RGB values"},
        "same_class_share": {"features": feature_same, "pixels": pixel_same, "chance": chance},
        "overlap": Q.Neighbours(f.feature_idx, f.feature_dist, f.pixel_idx, f.pixel_dist).overlap(),
        "verdict": Q.neighbour_verdict(feature_same, pixel_same, chance),
        "top5_correct_share": float(f.top.correct(f.val_labels)[1].double().mean()),
        "left": [{**image(int(i), f.val_labels, f.val_paths),
                  "top5": [{"class": f.names[int(c)], "probability": float(p)}
                           for c, p in zip(f.top.indices[i], f.top.probs[i])]} for i in left.tolist()],
        "right": [{**image(int(i), f.val_labels, f.val_paths),
                   "features": neighbours_of(i, f.feature_idx, f.feature_dist),
                   "pixels": neighbours_of(i, f.pixel_idx, f.pixel_dist)} for i in right.tolist()],
    }
    _write_json(out / "figure4.json", figure4)
    _draw_figure4(out, f.val_pixels, f.train_pixels, f.val_labels, f.train_labels, f.top, f.feature_idx, f.pixel_idx,
                  left, right, f.names, f.crop, dpi)
    return figure4


def _provenance(run: Path, config: dict[str, Any], summary: dict[str, Any], rep, *, saved_at: str | None, device,
                command: str | None, started: str, seconds: float, max_per_class: int | None) -> ExportProvenance:
    """``provenance.json``: how the run was trained (from its records) and how this export was made."""
    from .provenance import cpu_model, record, usable_cores
    from .training import read_metrics

    metrics = read_metrics(run)
    trained = Provenance.from_dict(_scrub({**config.get("provenance", {}), "command": _command(str(
        config.get("provenance", {}).get("command", "")))}, rep), f"{run / 'config.json'}")
    if trained.device == "cpu" and config.get("provenance", {}).get("host") == socket.gethostname():
        # run folders written before the device was recorded in words: this machine, in words
        trained.device = (f"CPU {cpu_model()} ({usable_cores()} cores), "
                          f"{config['provenance'].get('cpu_threads', '?')} thread(s) (torch {torch.__version__})")
    training = TrainingRecord(
        provenance=trained.finished(summary.get("wall_time_s") or 0.0),
        finished=saved_at,
        epochs=len(metrics),
        steps=summary.get("steps"),
        mean_epoch_time_s=(sum(r.get("epoch_time_s", 0.0) for r in metrics) / len(metrics)) if metrics else None,
        mean_images_per_s=(sum(r.get("images_per_s", 0.0) for r in metrics) / len(metrics)) if metrics else None,
        **epoch_time_stats(metrics),
        resumed=" --resume" in f" {trained.command}",
    )
    made = record(device, command if command is not None else _scrub(
        " ".join(["python -m alexnet", *map(shlex.quote, sys.argv[1:])]), rep))
    made.date = started
    export = ExportRecord(provenance=made.finished(seconds), max_per_class=max_per_class)
    return ExportProvenance(format=FORMAT, data=_scrub(config.get("data", {}), rep), training=training, export=export)


def timing_words(t: TrainingRecord) -> str:
    """When and how long a training run took, from its provenance record, as one sentence."""
    started = t.provenance.date[:16].replace("T", " ")
    when = f"the last command (a resume) started {started} UTC" if t.resumed else f"started {started} UTC"
    text = (f"{when} and the run finished {str(t.finished)[:16].replace('T', ' ')} UTC; {t.epochs} epochs "
            f"({t.steps:,} steps) took {duration(t.provenance.wall_seconds or 0)} of training wall time in all")
    if t.median_epoch_time_s:
        text += (f", an epoch (training and validation) a median of {duration(t.median_epoch_time_s)}, "
                 f"between {duration(t.fastest_epoch_time_s)} and {duration(t.slowest_epoch_time_s)}")
    elif t.mean_epoch_time_s:
        text += f", {duration(t.mean_epoch_time_s)} per epoch on average"
    return text + "."


def epoch_time_stats(metrics: list[dict[str, Any]]) -> dict[str, float | None]:
    """Median, fastest and slowest epoch (training plus validation seconds): on a machine shared with
    other work the mean hides what an epoch takes."""
    times = sorted(r.get("epoch_time_s", 0.0) + r.get("val_time_s", 0.0) for r in metrics)
    if not times:
        return {"median_epoch_time_s": None, "fastest_epoch_time_s": None, "slowest_epoch_time_s": None}
    mid = len(times) // 2
    median = times[mid] if len(times) % 2 else (times[mid - 1] + times[mid]) / 2
    return {"median_epoch_time_s": median, "fastest_epoch_time_s": times[0], "slowest_epoch_time_s": times[-1]}


def _draw_figure4(out: Path, val_pixels, train_pixels, val_labels, train_labels, top, feature_idx, pixel_idx,
                  left, right, names, crop: int, dpi: int) -> None:
    """Figure 4 as this run draws it, PNGs beside the data (a build without the photographs shows these)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from . import viz

    val_img = val_pixels.view(-1, 3, crop, crop)
    train_img = train_pixels.view(-1, 3, crop, crop)
    fig = viz.prediction_panels(val_img[left], top.probs[left], top.indices[left], names, targets=val_labels[left],
                                title=None)
    fig.savefig(out / "figure4_left.png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    fig = viz.neighbour_panels(val_img[right], train_img, feature_idx[right], pixel_idx[right], names,
                               val_labels[right], train_labels, title=None)
    fig.savefig(out / "figure4_right.png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)


def _pct(x: float | None) -> str:
    return pct(x, missing="-")


def _readme(out: Path, config, summary, evaluation, colour, figure4, provenance: ExportProvenance) -> str:
    """The results folder's README: what is here, what it took, how to make it again."""
    t, e = provenance.training.provenance, provenance.export.provenance
    h, b = evaluation["headline"], evaluation["best"]
    data = provenance.data
    files = sorted(p.name for p in out.iterdir() if p.is_file() and p.name != "README.md") + ["README.md"]
    lines = [
        f"# {out.name}: a training run of this project, exported by `python -m alexnet export-run`",
        "",
        f"Data: {data.get('description', '?')}.",
        f"Trained with `{t.command}` at commit `{t.git_commit}` on {t.device}: {timing_words(provenance.training)}",
        f"Exported with `{e.command}` at commit `{e.git_commit}` on {e.device} on {e.date} in "
        f"{duration(e.wall_seconds)}.",
        "",
        "## Error rates (Section 6), validation images",
        "",
        "| weights | epoch | top-1, one patch | top-5, one patch | top-1, ten patches | top-5, ten patches |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| last.pt ({h['note']}) | {h['epoch']} | {_pct(h['centre']['top1_error'])} | "
        f"{_pct(h['centre']['top5_error'])} | {_pct(h['ten_crop']['top1_error'])} | {_pct(h['ten_crop']['top5_error'])} |",
    ]
    if b and not b.get("same_as_last"):
        lines.append(f"| best.pt ({b['note']}) | {b['epoch']} | {_pct(b['centre']['top1_error'])} | "
                     f"{_pct(b['centre']['top5_error'])} | {_pct(b['ten_crop']['top1_error'])} | "
                     f"{_pct(b['ten_crop']['top5_error'])} |")
    elif b:
        lines.append(f"| best.pt ({b['note']}) | {b['epoch']} | the same weights as last.pt | | | |")
    lines += [
        "",
        f"{h['data']['images']} validation images, {h['data']['classes']} classes. "
        f"{evaluation['note'][:1].upper()}{evaluation['note'][1:]}.",
        "",
        "## Figures 3 and 4 (Section 6.1)",
        "",
    ]
    towers = ", ".join(f"tower {s['tower']} {s['mean']:.3f}" for s in colour["towers"])
    lines.append(f"Colour specificity of conv1's kernels (mean per tower; random weights "
                 f"{colour['random_baseline']:.3f}): {towers}"
                 + (f"; permutation test p = {colour['pvalue']:.4f}: {colour['verdict']}." if "pvalue" in colour else "."))
    s = figure4["same_class_share"]
    lines += [
        "",
        f"Same-class share of the {figure4['neighbours']} nearest training images over {figure4['queries']} validation "
        f"images (gallery: {figure4['gallery']} training images): fc7 {_pct(s['features'])}, pixels "
        f"{_pct(s['pixels'])}, chance {_pct(s['chance'])}.",
        "",
        "## Files",
        "",
        *[f"- `{f}`" for f in files],
        "",
        "In paths and commands, `DATA/<name>` stands for the data set's folder, `RUN` for the run folder and `~` for "
        "the home folder; Figure 4's photographs are named relative to the data set's folder.",
        "",
        "## Reproduce",
        "",
        "```bash",
        t.command,
        e.command,
        "```",
        "",
        "The run folder keeps the checkpoints (`last.pt`, `best.pt`), which are not committed.",
        "",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ reading back
@dataclass
class CommittedRun:
    """A results folder written by :func:`export_run`, as the book reads it."""

    folder: Path
    config: dict[str, Any]
    metrics: list[dict[str, Any]]
    summary: dict[str, Any]
    evaluation: dict[str, Any]
    colour: dict[str, Any]
    figure4: dict[str, Any]
    provenance: ExportProvenance

    def kernels(self) -> list[torch.Tensor]:
        """conv1's kernels, one ``(k, 3, 11, 11)`` float32 tensor per tower."""
        with np.load(self.folder / "conv1_kernels.npz") as z:
            return [torch.from_numpy(z[name]) for name in sorted(z.files)]

    def neighbours(self) -> dict[str, np.ndarray]:
        """Every validation image's top-5 and neighbours (``neighbours.npz``)."""
        with np.load(self.folder / "neighbours.npz") as z:
            return {name: z[name] for name in z.files}


def load_results(folder: str | Path) -> CommittedRun | None:
    """The results folder ``folder`` (``None`` when it does not exist; an error naming the file when one is missing)."""
    folder = Path(folder)
    if not folder.exists():
        return None
    names = ("config.json", "metrics.jsonl", "summary.json", "evaluation.json", "colour.json", "figure4.json",
             "provenance.json", "conv1_kernels.npz", "neighbours.npz", "figure4_left.png", "figure4_right.png")
    for name in names:
        if not (folder / name).is_file():
            raise AlexNetError(f"results folder {folder} has no {name}; export it again with "
                               "`python -m alexnet export-run`")

    def read(name: str) -> Any:
        return json.loads((folder / name).read_text())

    from .training import read_metrics

    metrics = read_metrics(folder)
    return CommittedRun(folder, read("config.json"), metrics, read("summary.json"), read("evaluation.json"),
                        read("colour.json"), read("figure4.json"),
                        ExportProvenance.from_dict(read("provenance.json"), str(folder / "provenance.json")))


# ----------------------------------------------------------------------------- command line
