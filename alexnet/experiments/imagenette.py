"""The paper's ImageNet claims on ImageNet photographs (Imagenette): the runs they share.

Every run is the full network trained by the streaming loop (:func:`alexnet.training.train`) with
the ``imagenette`` preset -- the paper's recipe at ten-class scale, with its plateau schedule
(Section 5: the rate divided by 10 when the validation error stops improving, at most three
times) -- changed only by the claim's switch (``--towers 1``, ``--no-lrn``, ...). Runs are paired
by seed: the same seed gives the same initial draw where the shapes agree, the same data order
and the same augmentation draws, so the switch is the only difference.

Each run trains in its own folder (``<cache>/imagenette-runs/<variant>-seed<k>/``; checkpoints
every 25 steps, so a kill loses a few minutes: the next command resumes it from ``last.pt``).
When it ends, its last epoch is evaluated on the 3,925 validation photographs with one centre
patch and with ten (Section 4.1), conv1's colour test of Section 6.1 is made on its kernels, and
its validation softmax outputs are written to ``results/imagenette_runs/<variant>-seed<k>.npz``
(float16, small enough to commit), so that ensembles of any subset (Table 2) and the spread over
seeds are computed from committed files. Then the run becomes one record (:mod:`.records`); the
baseline's records (``results/imagenette_baseline/``) are shared by every claim.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data import make_synthetic, resolve_data_root
from ..data.cache import cache_dir
from .common import summarise, verdict
from .records import Records

__all__ = ["FolderData", "load_data", "baseline_runs", "paired_runs", "paired_errors", "paired_claim", "ensemble_errors",
           "summary",
           "results_root",
           "SHARED", "PROFILES", "CHECKS"]

#: The record file's experiment name of the baseline runs every Imagenette claim shares.
SHARED = "imagenette_baseline"
#: Run settings that say how, not what, is computed: left out of a record's key.
_SYSTEM_KEYS = ("data", "out", "resume", "quiet", "progress", "threads", "workers", "log_every", "device",
                "differences")  # the last: the preset's explanations, not settings
#: Settings added after the first records were written, left out of a record's key at these defaults,
#: so that the records written before them keep their keys.
_ADDED_LATER = {"conv4": True}

#: ``ci``: a slim network on generated images in seconds (a check that the code runs); ``full``:
#: the imagenette preset on Imagenette.
PROFILES = {
    "ci": dict(seeds=2, first_seed=0, data_set="synthetic", threads=None, runs_dir=None,
               train=dict(resize=72, crop=67, adaptive_pool=True, width_mult=0.0625, fc=[512, 512],
                          batch_size=16, epochs=2, deterministic=True, checkpoint_every=0, amp="none",
                          channels_last=False, workers=0, loader="images"),
               note=("ci profile: generated images, the networks at 1/16 of their widths (6-16-24-24-16 kernels, fc 32) "
                     "on 67-pixel "
                     "crops, 2 epochs, 2 seeds: a check that the code runs, not the paper's setting")),
    "full": dict(seeds=3, first_seed=0, data_set="imagenette", threads=2, runs_dir=None, train={},
                 note=("full profile: the paper's network (two towers, 60,965,224 parameters) trained from scratch by "
                       "the imagenette preset on Imagenette's 9,469 training photographs (ten ILSVRC-2012 classes), "
                       "30 epochs with the paper's plateau schedule, evaluated on its 3,925 validation photographs, "
                       "3 paired seeds")),
}
CHECKS = {"threads": lambda v: v is None or (isinstance(v, int) and v >= 1),
          "first_seed": lambda v: isinstance(v, int) and v >= 0,
          "data_set": lambda v: v in ("imagenette", "synthetic")}


@dataclass
class FolderData:
    """The image folder the runs train on, described for the result (:class:`.result.DataUsed`)."""

    root: Path
    description: str
    synthetic: bool
    train_images: int
    test_images: int
    stats: dict = dataclasses.field(default_factory=dict)

    def to(self, device: Any) -> FolderData:
        return self  # the streaming loop reads the folder itself


def _count(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in (".jpeg", ".jpg", ".png"))


def load_data(data: str | Path | None, settings: dict, profile: str, out: Path) -> FolderData:
    """Imagenette (``data``, else ``$ALEXNET_DATA/imagenette``) or, under ``data_set: synthetic``,
    a generated set beside ``out``."""
    if settings["data_set"] == "synthetic":
        root = make_synthetic(out.parent / "synthetic-images", num_classes=4, train_per_class=12, val_per_class=4,
                              size=40, seed=1)
        synthetic = True
    else:
        root = resolve_data_root(data, "imagenette", download=False)
        synthetic = False
    val = root / "val" if (root / "val").is_dir() else root / "test"
    n_train, n_val = _count(root / "train"), _count(val)
    kind = "SYNTHETIC generated images" if synthetic else "Imagenette (ten ILSVRC-2012 classes)"
    return FolderData(root=root, description=f"{kind}: {n_train:,} training and {n_val:,} validation images",
                      synthetic=synthetic, train_images=n_train, test_images=n_val)


def _config(variant: str, switch: dict, seed: int, s: dict, data: FolderData, out: Path):
    from ..training import TrainConfig, load_preset

    values = {**load_preset("imagenette"), **s["train"], **switch, "seed": seed}
    values.update(data=str(data.root), out=str(out), quiet=True, progress=False, threads=s["threads"])
    return TrainConfig(**{k: v for k, v in values.items() if k in {f.name for f in dataclasses.fields(TrainConfig)}})


def _key(variant: str, seed: int, cfg) -> dict:
    settings = {k: v for k, v in dataclasses.asdict(cfg).items()
                if k not in _SYSTEM_KEYS and not (k in _ADDED_LATER and v == _ADDED_LATER[k])}
    return {"variant": variant, "seed": seed, "train": settings}


def _runs_dir(s: dict, results: Path, synthetic: bool) -> Path:
    if s.get("runs_dir"):
        return Path(s["runs_dir"])
    return results / "_runs" if synthetic else cache_dir() / "imagenette-runs"


def _validation(run: Path, root: Path, device: torch.device) -> tuple[dict, dict[str, np.ndarray], np.ndarray]:
    """Errors of ``run``'s last epoch on the validation images, one centre patch and ten, and the
    softmax outputs of both views (float16) with the labels."""
    from ..data import make_loader
    from ..evaluate import _eval_dataset, predict_proba, topk_errors
    from ..training import load_model

    model = load_model(run / "last.pt").to(device)
    errors, probs, labels = {}, {}, None
    for view in ("centre", "ten_crop"):
        ds = _eval_dataset(root, "val", model.data_config, getattr(model, "data_mean", None), view == "ten_crop",
                           None, False)
        loader = make_loader(ds, 64 if view == "centre" else 8, train=False, workers=0)
        p, y = predict_proba(model, loader, device)
        errors[view] = topk_errors(p, y)
        probs[view] = p.numpy().astype(np.float16)
        labels = y.numpy()
    return errors, probs, labels


def _colour(run: Path) -> dict | None:
    """Section 6.1's colour test on ``run``'s conv1 kernels (two towers only)."""
    from ..qualitative import tower_colour_stats, tower_gap_pvalue
    from ..training import load_model

    model = load_model(run / "last.pt")
    stats = tower_colour_stats(model)
    if len(stats) != 2:
        return None
    p = tower_gap_pvalue(stats[0].values, stats[1].values)
    specific = max(stats, key=lambda t: t.mean).tower
    return {"towers": [t.as_dict() for t in stats], "p_value": p, "colour_specific_tower": specific}


def _train_one(variant: str, cfg, seed: int, results: Path, data: FolderData, device: torch.device) -> dict:
    from ..training import read_metrics, train

    run = Path(cfg.out)
    if (run / "last.pt").exists():
        cfg = dataclasses.replace(cfg, resume=True)  # a run stopped by a kill continues where it was
    train(cfg)
    metrics = read_metrics(run)
    errors, probs, labels = _validation(run, data.root, device)
    probs_file = results / "imagenette_runs" / f"{variant}-seed{seed}.npz"
    probs_file.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(probs_file, centre=probs["centre"], ten_crop=probs["ten_crop"], labels=labels)
    lrs = [m["lr"] for m in metrics]
    return {"seed": seed, "variant": variant, "epochs": len(metrics), **errors,
            "lr_drops": sum(1 for a, b in zip(lrs, lrs[1:]) if b < a), "final_lr": lrs[-1] if lrs else None,
            "seconds": round(sum(m.get("epoch_time_s") or 0.0 for m in metrics), 1), "colour": _colour(run),
            "train_top1_error": metrics[-1]["train_top1_error"] if metrics else None,
            "parameters": _parameters(run), "probs": str(probs_file.relative_to(results))}


def _parameters(run: Path) -> int:
    from ..training import load_model

    return sum(p.numel() for p in load_model(run / "last.pt").parameters())


def _runs(variant: str, switch: dict, s: dict, data: FolderData, device: torch.device, records: Records,
          seeds: range | None = None) -> list[dict]:
    """The finished runs of ``variant`` (the preset changed by ``switch``) for each seed, trained now
    when missing (unless the records replay)."""
    results = results_root(records)
    out = []
    for seed in seeds if seeds is not None else seed_range(s):
        cfg = _config(variant, switch, seed, s, data, Path("."))
        key = _key(variant, seed, cfg)
        digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:8]  # other settings, other folder
        cfg = dataclasses.replace(cfg, out=str(_runs_dir(s, results, data.synthetic) / f"{variant}-seed{seed}-{digest}"))
        run = records.run(key, lambda: _train_one(variant, cfg, seed, results, data, device))
        if run is not None:
            out.append(run)
    return out


def seed_range(s: dict) -> range:
    """The seeds settings ``s`` ask for: ``seeds`` of them from ``first_seed`` on."""
    first = s.get("first_seed", 0)
    return range(first, first + s["seeds"])


def results_root(records: Records) -> Path:
    """The folder the softmax outputs' paths are relative to: ``results/`` when the record file lies in
    ``results/<experiment>/``, else the record file's own folder."""
    assert records.path is not None, "the Imagenette runs need a record file"
    folder = records.path.parent
    return folder.parent if folder.name == records.context.get("experiment") else folder


def baseline_runs(s: dict, data: FolderData, device: torch.device, records: Records,
                  seeds: range | None = None) -> list[dict]:
    """The preset itself, for each seed (the runs every claim shares)."""
    return _runs("baseline", {}, s, data, device, records.sibling(SHARED), seeds)


def paired_runs(variant: str, switch: dict, s: dict, data: FolderData, device: torch.device,
                records: Records) -> tuple[list[dict], list[dict]]:
    """The baseline's and the variant's (the preset changed by ``switch``) runs, seed by seed (so a
    stopped queue leaves whole pairs): ``seeds`` seeds from ``first_seed`` on (so that a claim added
    later can pair with the baseline seeds of one commit)."""
    base, other = [], []
    for seed in seed_range(s):
        base += baseline_runs(s, data, device, records, range(seed, seed + 1))
        other += _runs(variant, switch, s, data, device, records, range(seed, seed + 1))
    return base, other


def paired_errors(base: list[dict], other: list[dict], claim: str, what: str, paper: dict[str, float],
                  n_test: int, view: str = "centre") -> dict[str, dict]:
    """Verdicts on "the baseline's top-1 / top-5 error is lower", paired by seed, for ``view``.

    ``paper`` holds the paper's reported improvements (``{"top1_error": 0.017, "top5_error": 0.012}``); differences
    below three of the ``n_test`` validation images count as noise."""
    by_seed = {r["seed"]: r for r in other}
    pairs = [(b, by_seed[b["seed"]]) for b in base if b["seed"] in by_seed]
    out = {}
    for k in ("top1_error", "top5_error"):
        diffs = [o[view][k] - b[view][k] for b, o in pairs]
        out[k] = verdict(diffs, claim, f"{what} ({k[:4].replace('top', 'top-')} error, {view.replace('_', ' ')})",
                         min_effect=3.0 / n_test, paper_effect=paper.get(k))
    return out


def paired_claim(variant: str, switch: dict, arms: tuple[str, str], what: str, claim: str, paper: dict[str, float],
                 s: dict, data: FolderData, device: torch.device, records: Records) -> dict[str, Any]:
    """A with/without claim on Imagenette: the baseline and ``variant`` (the preset changed by ``switch``)
    for each seed, the verdicts on top-1 (the main one) and top-5 error with one patch and with ten,
    each arm's summary and runs under ``arms`` (the baseline's name first)."""
    base, other = paired_runs(variant, switch, s, data, device, records)
    centre = paired_errors(base, other, claim, what, paper, data.test_images)
    ten = paired_errors(base, other, claim, what, paper, data.test_images, view="ten_crop")
    return {**centre["top1_error"], "top5": centre["top5_error"], "ten_crop": ten,
            "summary": {arms[0]: summary(base), arms[1]: summary(other)},
            "runs": {arms[0]: base, arms[1]: other}, "shared_baseline": SHARED}


def ensemble_errors(runs: list[dict], results: Path, view: str = "centre") -> dict[str, Any]:
    """Table 2's ensembles from committed softmax outputs: the errors of the first ``k`` networks'
    averaged predictions for k = 1..N, and each member's error against the ensemble of all N."""
    from ..evaluate import topk_errors

    probs, labels = [], None
    for r in runs:
        z = np.load(results / r["probs"])
        probs.append(torch.from_numpy(z[view].astype(np.float32)))
        labels = torch.from_numpy(z["labels"]).long()
    if not probs:
        return {"sizes": [], "members": [], "all": None}
    sizes = [{"k": k, **topk_errors(sum(probs[:k]) / k, labels)} for k in range(1, len(probs) + 1)]
    return {"sizes": sizes, "members": [topk_errors(p, labels) for p in probs], "all": sizes[-1]}


def summary(runs: list[dict]) -> dict[str, dict]:
    """Mean and spread over seeds of the centre and ten-patch errors and the training time."""
    out = {f"{view}_{k}": summarise([r[view][k] for r in runs]) for view in ("centre", "ten_crop")
           for k in ("top1_error", "top5_error")}
    out["seconds"] = summarise([r["seconds"] for r in runs])
    return out
