"""Error rates as Section 6 reports them: top-1 and top-5, one centre patch or ten, one net or several.

* Section 2: "top-5 error rate is the fraction of test images for which the correct label is not
  among the five labels considered most probable by the model".
* Section 4.1: at test time the network "extracts five 224x224 patches (the four corner patches
  and the center patch) as well as their horizontal reflections (hence ten patches in all), and
  averag[es] the predictions made by the network's softmax layer on the ten patches".
* Section 6 (Table 2): "averaging the predictions of five similar CNNs gives an error rate of
  16.4%": an ensemble averages the softmax outputs of several networks.

:func:`evaluate` does all of it in one pass per model and view and returns a JSON-ready dict:
the error rates of every single model (centre crop, and ten patches with ``ten_crop=True``), of
the ensemble when several checkpoints are given, the per-class errors and the most confused
pairs of the headline predictor (the ensemble if any, ten patches if computed).
"""
from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from .errors import AlexNetError
from .provenance import resolve_device, utc_now

__all__ = ["evaluate", "topk_hits", "topk_error_counts", "topk_errors", "predict_proba", "resolve_checkpoint", "confused_pairs",
           "per_class_errors", "format_report", "fast_copy"]


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint file; a run folder stands for its ``best.pt`` (else ``last.pt``)."""
    path = Path(path)
    if path.is_dir():
        for name in ("best.pt", "last.pt"):
            if (path / name).exists():
                return path / name
        raise FileNotFoundError(f"run folder {path} holds no best.pt or last.pt")
    if not path.exists():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    return path


def fast_copy(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` on the fast path (``AlexNet(fast="grouped")``: the same function with the same
    parameters, the towers side by side in grouped convolutions), keeping what
    :func:`alexnet.training.checkpoint.load_model` attached (classes, data settings, mean image)."""
    from .model import AlexNet

    if getattr(model, "fast", False) or not hasattr(model, "config"):
        return model
    device = next(model.parameters()).device
    copy = AlexNet(**model.config, fast="grouped")
    copy.load_state_dict(model.state_dict())
    for name in ("classes", "class_names", "data_config", "data_mean"):
        if hasattr(model, name):
            setattr(copy, name, getattr(model, name))
    return copy.to(device).train(model.training)


def topk_hits(scores: torch.Tensor, labels: torch.Tensor, ks: Sequence[int] = (1, 5)) -> torch.Tensor:
    """``(N, len(ks))`` booleans: whether each label is among the ``k`` highest scores (Section 6's
    top-1 and top-5), ``k`` capped at the number of classes. The one top-k rule of the package."""
    kmax = min(max(ks), scores.shape[1])
    hit = scores.topk(kmax, dim=1).indices == labels[:, None].to(scores.device)
    return torch.stack([hit[:, :min(k, kmax)].any(dim=1) for k in ks], dim=1)


def topk_error_counts(scores: torch.Tensor, labels: torch.Tensor, ks: Sequence[int] = (1, 5)) -> list[int]:
    """Number of examples whose label is not among the ``k`` highest scores, for each ``k``."""
    return [int(n) for n in (~topk_hits(scores, labels, ks)).sum(dim=0).tolist()]


def topk_errors(probs: torch.Tensor, labels: torch.Tensor, ks: Sequence[int] = (1, 5)) -> dict[str, float]:
    """``{"top1_error": ..., "top5_error": ...}``: fraction of labels outside the ``k`` best scores."""
    miss = (~topk_hits(probs, labels, ks)).double().mean(dim=0).tolist()
    return {f"top{k}_error": float(m) for k, m in zip(ks, miss)}


@torch.no_grad()
def predict_proba(model: torch.nn.Module, loader, device: torch.device, *, amp: str = "none",
                  progress: bool = False, desc: str = "") -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax outputs ``(N, C)`` and labels ``(N,)``; ``(B, 10, 3, H, W)`` batches are averaged over
    their ten patches (Section 4.1)."""
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(loader, desc=desc, leave=False)
    else:
        batches = loader
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)
    model.eval()
    probs, labels = [], []
    for x, y in batches:
        views = x.shape[1] if x.dim() == 5 else 1
        x = x.reshape(-1, *x.shape[-3:]).to(device, non_blocking=True)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            logits = model(x)
        p = torch.softmax(logits.float(), dim=1).reshape(-1, views, logits.shape[1]).mean(dim=1)
        probs.append(p.cpu())
        labels.append(torch.as_tensor(y).cpu())
    if not probs:
        raise AlexNetError("the evaluation data set is empty")
    return torch.cat(probs), torch.cat(labels)


def per_class_errors(probs: torch.Tensor, labels: torch.Tensor, classes: Sequence[str],
                     names: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Top-1 and top-5 error of every class, worst first."""
    names = list(names or classes)
    k = min(5, probs.shape[1])
    top = probs.topk(k, dim=1).indices
    wrong1 = top[:, 0] != labels
    wrong5 = ~(top == labels[:, None]).any(dim=1)
    rows = []
    for c, cls in enumerate(classes):
        mask = labels == c
        n = int(mask.sum())
        if n == 0:
            continue
        rows.append({"class": cls, "name": names[c], "images": n,
                     "top1_error": float(wrong1[mask].double().mean()), "top5_error": float(wrong5[mask].double().mean())})
    rows.sort(key=lambda r: (-r["top1_error"], -r["top5_error"], r["class"]))
    return rows


def confused_pairs(probs: torch.Tensor, labels: torch.Tensor, classes: Sequence[str],
                   names: Sequence[str] | None = None, top: int = 10) -> list[dict[str, Any]]:
    """The ``top`` most frequent (true class, predicted class) mistakes of the top-1 prediction."""
    names = list(names or classes)
    c = len(classes)
    pred = probs.argmax(dim=1)
    counts = torch.bincount(labels * c + pred, minlength=c * c).reshape(c, c)
    counts.fill_diagonal_(0)
    per_class = torch.bincount(labels, minlength=c).clamp(min=1)
    flat = counts.flatten()
    order = torch.argsort(flat, descending=True, stable=True)[:top]
    out = []
    for i in order.tolist():
        n = int(flat[i])
        if n == 0:
            break
        t, p = divmod(i, c)
        out.append({"true": classes[t], "true_name": names[t], "predicted": classes[p], "predicted_name": names[p],
                    "count": n, "fraction_of_true_class": n / int(per_class[t])})
    return out


def _eval_dataset(root: Path, split: str, data_config: dict[str, Any], mean: torch.Tensor | None, ten_crop: bool,
                  max_per_class, skip_bad: bool):
    """The split with the model's preprocessing; the mean subtracted is the *training* set's (Section 2),
    stored in the checkpoint, so data folders without a training split work too."""
    from .data import build_eval_dataset

    resize = int(data_config.get("resize", 256))
    mean_image = bool(data_config.get("mean_image", True))
    if mean is not None and (mean.shape[-1] == 1 or mean.shape[-1] == resize):
        mean_image = mean
    return build_eval_dataset(root, split, resize=resize, crop=int(data_config.get("crop", 224)), ten_crop=ten_crop,
                              mean_image=mean_image, skip_bad=skip_bad, max_per_class=max_per_class)


def _classes_of(dataset) -> tuple[list[str], list[str]]:
    classes = list(getattr(dataset, "classes", []) or [])
    names = list(getattr(dataset, "class_names", []) or classes)
    return classes, names


def evaluate(checkpoints: str | Path | Sequence[str | Path], data: str | Path | None = None, ten_crop: bool = False,
             *, split: str = "val", dataset: str = "imagenet", batch_size: int = 128, workers: int | None = None,
             device: str = "auto", amp: str = "none", max_per_class: int | None = None, skip_bad: bool = False,
             top_confused: int = 10, progress: bool = False, threads: int | None = None,
             fast: bool = False) -> dict[str, Any]:
    """Top-1/top-5 error of one or several checkpoints on ``data``'s ``split`` (Section 6).

    Args:
        checkpoints: one checkpoint (or run folder) or several; several form an ensemble whose
            prediction is the average of their softmax outputs (Table 2's "5 CNNs").
        data: data set folder (``None``: the one the first checkpoint's run was trained on, from its
            ``config.json``; else ``$ALEXNET_DATA/<dataset>``).
        ten_crop: also compute the ten-patch errors (Section 4.1).
        split: ``val`` (also finds a folder called ``test``) or ``train``.
        threads: CPU threads of torch (``None``: leave the setting alone).
        fast: evaluate each network on the fast path (:func:`fast_copy`; the same function).

    Returns a dict with ``models`` (per checkpoint: ``centre`` and maybe ``ten_crop`` errors),
    ``ensemble`` (or ``None``), ``headline`` (which predictor the per-class table describes),
    ``per_class``, ``confused_pairs`` and provenance (data set, images, device, date).
    """
    from .data import make_loader, resolve_data_root

    paths, loaded = _load_checkpoints(checkpoints, threads, fast)  # every one readable before any data is touched
    root = resolve_data_root(_trained_on(paths[0]) if data is None else data, dataset)
    dev = resolve_device(device, what="device")
    t0 = time.perf_counter()
    views = ["centre"] + (["ten_crop"] if ten_crop else [])
    sums: dict[str, torch.Tensor] = {}   # softmax outputs summed over the checkpoints, per view
    labels_ref: torch.Tensor | None = None
    classes: list[str] = []
    names: list[str] = []
    datasets: dict[tuple, Any] = {}      # one data set per data settings, mean image and view
    models = []
    for path, model in zip(paths, loaded):
        model.to(dev)
        entry: dict[str, Any] = {"checkpoint": str(path), "num_classes": model.num_classes}
        for view in views:
            ds = _dataset_for(model, view, root, split, max_per_class, skip_bad, datasets)
            classes, names = _classes_checked(path, model, ds, root)
            loader = make_loader(ds, batch_size if view == "centre" else max(1, batch_size // 10), train=False,
                                 workers=workers)
            probs, labels = predict_proba(model, loader, dev, amp=amp, progress=progress, desc=f"{path.name} {view}")
            if labels_ref is not None and not torch.equal(labels_ref, labels):
                raise AlexNetError(f"checkpoint {path}: its data settings give another image list than the first "
                                   "checkpoint's; an ensemble needs the same images")
            labels_ref = labels
            entry[view] = topk_errors(probs, labels)
            sums[view] = sums[view] + probs if view in sums else probs.clone()
        models.append(entry)
        model.cpu()
    assert labels_ref is not None
    head_view = views[-1]
    head_probs = sums[head_view] / len(paths)
    if not classes:
        classes = names = [str(i) for i in range(head_probs.shape[1])]
    ensemble = None
    if len(paths) > 1:
        ensemble = {"members": len(paths), **{view: topk_errors(sums[view] / len(paths), labels_ref) for view in views}}
    description = getattr(datasets[next(iter(datasets))], "description", None)
    return {
        "data": {"root": str(root), "split": split, "images": int(labels_ref.numel()), "classes": len(classes),
                 "description": description, "max_per_class": max_per_class},
        "models": models,
        "ensemble": ensemble,
        "headline": {"predictor": f"ensemble of {len(paths)}" if len(paths) > 1 else "single model",
                     "view": head_view, **topk_errors(head_probs, labels_ref)},
        "per_class": per_class_errors(head_probs, labels_ref, classes, names),
        "confused_pairs": confused_pairs(head_probs, labels_ref, classes, names, top_confused),
        "device": str(dev),
        "amp": amp,
        "wall_time_s": time.perf_counter() - t0,
        "date": utc_now(),
    }


def _load_checkpoints(checkpoints, threads: int | None, fast: bool) -> tuple[list[Path], list[torch.nn.Module]]:
    from .training.checkpoint import load_model

    paths = [checkpoints] if isinstance(checkpoints, (str, Path)) else list(checkpoints)
    if not paths:
        raise AlexNetError("evaluate: give at least one checkpoint")
    paths = [resolve_checkpoint(p) for p in paths]
    if threads:
        torch.set_num_threads(threads)
    loaded = [load_model(p) for p in paths]
    return paths, [fast_copy(m) for m in loaded] if fast else loaded


def _trained_on(checkpoint: Path) -> str | None:
    """The data set folder the checkpoint's run was trained on (its ``config.json``), if it says."""
    config = checkpoint.parent / "config.json"
    if not config.exists():
        return None
    try:
        return json.loads(config.read_text())["data"]["root"]
    except (ValueError, KeyError):
        return None


def _dataset_for(model, view: str, root: Path, split: str, max_per_class: int | None, skip_bad: bool,
                 cache: dict[tuple, Any]):
    """The evaluation set for ``model``'s data settings and mean image, one view; built once per settings."""
    mean = getattr(model, "data_mean", None)
    mean_key = None if mean is None else (tuple(mean.shape), float(mean.double().sum()))
    key = (tuple(sorted(model.data_config.items())), mean_key, view)
    if key not in cache:
        cache[key] = _eval_dataset(root, split, model.data_config, mean, view == "ten_crop", max_per_class, skip_bad)
    return cache[key]


def _classes_checked(path: Path, model, ds, root: Path) -> tuple[list[str], list[str]]:
    """The classes (folder names) and their names; an error when the checkpoint's do not match the data's."""
    ds_classes, ds_names = _classes_of(ds)
    if ds_classes and model.classes and ds_classes != model.classes:
        raise AlexNetError(f"checkpoint {path} was trained on {len(model.classes)} classes "
                           f"({model.classes[:3]}...), the data set {root} has {len(ds_classes)} "
                           f"({ds_classes[:3]}...)")
    n_classes = len(ds_classes) if ds_classes else model.num_classes
    if n_classes != model.num_classes:
        raise AlexNetError(f"checkpoint {path} has {model.num_classes} outputs but {root} has {n_classes} classes")
    return (ds_classes or model.classes), (ds_names or model.class_names)


def format_report(result: dict[str, Any], per_class: int = 5) -> str:
    """A short human-readable table of :func:`evaluate`'s result."""
    d = result["data"]
    lines = [f"{d['images']} images, {d['classes']} classes ({d['root']}, split {d['split']})",
             f"{'model':<48} {'view':<9} {'top-1 err':>9} {'top-5 err':>9}"]
    rows = [(m["checkpoint"], m) for m in result["models"]]
    if result["ensemble"]:
        rows.append((f"ensemble of {result['ensemble']['members']} (mean softmax)", result["ensemble"]))
    for name, r in rows:
        for view in ("centre", "ten_crop"):
            if view in r:
                lines.append(f"{name[-48:]:<48} {view:<9} {100 * r[view]['top1_error']:>8.2f}% "
                             f"{100 * r[view]['top5_error']:>8.2f}%")
    h = result["headline"]
    lines.append(f"worst classes ({h['predictor']}, {h['view']}): " + ", ".join(
        f"{r['name']} {100 * r['top1_error']:.0f}%" for r in result["per_class"][:per_class]))
    if result["confused_pairs"]:
        lines.append("most confused: " + ", ".join(
            f"{p['true_name']} -> {p['predicted_name']} ({p['count']})" for p in result["confused_pairs"][:per_class]))
    return "\n".join(lines)


def write_report(result: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path
