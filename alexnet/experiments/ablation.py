"""The shared recipe of the with/without ablations (Sections 3.3, 3.4, 4.1, 4.2).

Each variant is a :class:`alexnet.small_nets.CifarNet` configuration plus training overrides. For
every seed, every variant is trained with the same seed (same initial draw where the shapes agree,
same batches), so differences are paired by seed. Each (variant, seed) run is one record
(:mod:`.records`): written as soon as it ends, and not trained again when the experiment is rerun.

The LRN, pooling and PCA-lighting ablations share one baseline -- the four-layer net with LRN,
overlapping pooling and no PCA lighting, on the paper's centred raw pixels (Section 2) -- whose
runs live in one record file (``results/cifar_baseline/<profile>.records.jsonl``), trained by
whichever experiment needs them first and read by the others. The learning rate is chosen on that
baseline alone (:func:`choose_rate`, a small grid, seed 0) and then held fixed for every variant.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ..layers import LocalResponseNorm
from ..small_nets import CifarNet
from .common import summarise, verdict
from .in_memory import InMemoryConfig, InMemoryHistory, fit_in_memory
from .records import Records
from ..data.augment import centre_crop
from ..data.tensors import TensorData

__all__ = ["Variant", "train_config", "baseline_net", "compare", "paired", "table", "choose_rate",
           "length_check", "with_chosen_rate", "shared_baseline", "lrn_divisor", "SHARED_BASELINE"]

#: The record file's experiment name of the runs the LRN, pooling and PCA ablations share.
SHARED_BASELINE = "cifar_baseline"


@dataclass
class Variant:
    """One arm of an ablation: CifarNet arguments, training overrides, and where its runs are kept
    (``shared``: the name of a record file several experiments share; ``None``: the experiment's own)."""

    net: dict[str, Any]
    train: dict[str, Any] = field(default_factory=dict)
    shared: str | None = None


def train_config(s: dict, **over) -> InMemoryConfig:
    """The :class:`InMemoryConfig` of settings ``s`` (the profile), with ``over`` replacing fields."""
    cfg = InMemoryConfig(epochs=s["epochs"], lr=s["lr"], batch_size=s["batch_size"], weight_decay=s["weight_decay"],
                         crop=s["crop"], lr_drop_at=s["lr_drop_at"], checks_per_epoch=1,
                         train_eval_size=s.get("train_eval_size", 10000),
                         input_norm=s.get("input_norm", "standardise"))
    return replace(cfg, **over)


def baseline_net(s: dict, **over) -> dict[str, Any]:
    """CifarNet arguments of the shared baseline (LRN, overlapping pooling), ``over`` replacing some."""
    return {"widths": s["widths"], "lrn": True, "pool": "overlapping", "init": s.get("init", "torch"), **over}


def shared_baseline(s: dict) -> Variant:
    """The baseline the LRN, pooling and PCA-lighting ablations share (its runs in one record file)."""
    return Variant(baseline_net(s), {}, shared=SHARED_BASELINE)


def _train_one(name: str, net: dict, cfg: InMemoryConfig, seed: int, data: TensorData, device: torch.device,
               progress: bool, after_train: Callable | None) -> dict:
    torch.manual_seed(seed)
    model = CifarNet(**net)
    h = fit_in_memory(model, data, cfg, seed=seed, device=device, progress=progress, desc=f"{name} seed={seed}")
    run = {"seed": seed, "test_error": h.final_test_error, "train_error": h.final_train_error,
           "gap": h.final_test_error - h.final_train_error, "epochs_trained": h.epochs_trained,
           "diverged": h.diverged, "test_curve": h.test_curve(), "train_curve": h.train_curve(),
           "seconds": h.seconds}
    if net.get("lrn"):
        run["lrn_divisor"] = lrn_divisor(model, data, h)
    if after_train is not None:
        after_train(name, model, run, h)
    return run


def _one_run(name: str, v: Variant, s: dict, seed: int, data: TensorData, device: torch.device, records: Records,
             progress: bool = False, after_train: Callable | None = None) -> dict | None:
    """Train (or read back) variant ``v`` with ``seed``; ``None`` in replay mode when it is missing."""
    cfg = train_config(s, **v.train)
    net = dict(num_classes=len(data.classes), input_size=cfg.crop or data.train_x.shape[-1], **v.net)
    book = records.sibling(v.shared) if v.shared else records
    key_name = "baseline" if v.shared else name
    return book.run({"variant": key_name, "seed": seed, "net": net, "train": asdict(cfg)},
                    lambda: _train_one(name, net, cfg, seed, data, device, progress, after_train))


def compare(variants: dict[str, Variant | tuple], s: dict, data: TensorData, device: torch.device,
            records: Records, progress: bool = False, after_train=None) -> dict[str, list[dict]]:
    """Train every variant (``name -> Variant``, or ``(net kwargs, overrides)``) for each seed.

    Returns ``name -> [run, ...]`` where a run has the seed, final test and (eval-mode) training
    error, the overfitting gap (test - train), the test-error curve and the seconds taken; only
    seeds that every variant has finished are returned (the comparison is paired).
    ``after_train(name, model, run, history)`` (``history``: the :class:`.in_memory.InMemoryHistory`) may add
    measurements to a run.
    """
    arms = {name: v if isinstance(v, Variant) else Variant(*v) for name, v in variants.items()}
    runs: dict[str, dict[int, dict]] = {name: {} for name in arms}
    for seed in range(s["seeds"]):
        for name, v in arms.items():
            run = _one_run(name, v, s, seed, data, device, records, progress, after_train)
            if run is not None:
                runs[name][seed] = run
    common = sorted(set.intersection(*(set(r) for r in runs.values()))) if runs else []
    return {name: [rs[seed] for seed in common] for name, rs in runs.items()}


def choose_rate(name: str, base: Variant, s: dict, data: TensorData, device: torch.device, records: Records,
                progress: bool = False) -> dict[str, Any]:
    """The learning rate of every variant, chosen on the baseline ``base`` (called ``name``) only, seed 0.

    Each rate of ``s["lr_grid"]`` trains the baseline for ``s["grid_epochs"]`` epochs (the same
    schedule shape: the rate divided by 10 after ``lr_drop_at`` of them); the rate with the lowest
    final test error is chosen. ``inside`` says whether it lies strictly inside the grid (not at
    an edge, where a better rate could lie beyond). Without a grid the profile's ``lr`` is used.
    """
    grid = s.get("lr_grid")
    if not grid:
        return {"lr": s["lr"], "grid": [], "inside": None, "epochs": None}
    rows = []
    for lr in sorted(grid):
        arm = replace(base, train={**base.train, "lr": lr, "epochs": s["grid_epochs"]})
        run = _one_run(name, arm, s, 0, data, device, records, progress)
        if run is not None:
            rows.append({"lr": lr, "test_error": run["test_error"], "train_error": run["train_error"],
                         "diverged": run["diverged"], "test_curve": run["test_curve"], "seconds": run["seconds"]})
    finite = [r for r in rows if not r["diverged"]]
    if len(rows) < len(grid) or not finite:
        return {"lr": None, "grid": rows, "inside": None, "epochs": s["grid_epochs"]}
    best = min(finite, key=lambda r: r["test_error"])
    inside = sorted(grid)[0] < best["lr"] < sorted(grid)[-1]
    return {"lr": best["lr"], "grid": rows, "inside": inside, "epochs": s["grid_epochs"]}


def length_check(name: str, base: Variant, s: dict, data: TensorData, device: torch.device, records: Records,
                 progress: bool = False) -> dict[str, Any] | None:
    """Is the schedule long enough? The baseline (seed 0) trained for 1.5 times ``s["epochs"]``.

    Returns both runs' final test and training errors (``None`` in replay mode until both exist):
    the schedule is long enough when the longer run changes the test error by less than the
    effects being measured, and the training error lies clearly below the test error.
    """
    longer = replace(base, train={**base.train, "epochs": 1.5 * s["epochs"]})
    runs = [_one_run(name, arm, s, 0, data, device, records, progress) for arm in (base, longer)]
    if any(r is None for r in runs):
        return None
    a, b = runs
    return {"epochs": [s["epochs"], 1.5 * s["epochs"]], "test_error": [a["test_error"], b["test_error"]],
            "train_error": [a["train_error"], b["train_error"]], "test_curves": [a["test_curve"], b["test_curve"]],
            "change": b["test_error"] - a["test_error"]}


def with_chosen_rate(name: str, base: Variant, s: dict, data: TensorData, device: torch.device, records: Records,
                     progress: bool = False) -> tuple[dict, dict[str, Any]]:
    """The settings ``s`` with the rate chosen on the baseline (:func:`choose_rate`), and what the
    schedule's choice rests on (the rate grid; the length check of :func:`length_check`, where the
    profile asks for it): ``(settings, schedule)``. The settings' ``lr`` is ``None`` until the grid is done."""
    rate = choose_rate(name, base, s, data, device, records, progress)
    chosen = {**s, "lr": rate["lr"]}
    schedule = {"rate": rate, "length_check": None}
    if rate["lr"] is not None and s.get("length_check"):
        schedule["length_check"] = length_check(name, base, chosen, data, device, records, progress)
    return chosen, schedule


@torch.no_grad()
def lrn_divisor(model: CifarNet, data: TensorData, h: InMemoryHistory, images: int = 1000) -> dict[str, list[float]]:
    """The LRN divisor ``(k + alpha * sum of squares over n adjacent maps) ** beta`` (Section 3.3)
    that the trained ``model`` applies to ``images`` training images (test-time view): its 1st, 50th
    and 99th percentile and maximum at each LRN layer. A silent window gives ``k ** beta``."""
    norms = [m for m in model.modules() if isinstance(m, LocalResponseNorm)]
    seen: dict[int, torch.Tensor] = {}
    hooks = [m.register_forward_hook(lambda mod, inp, out, i=i: seen.__setitem__(i, inp[0].float()))
             for i, m in enumerate(norms)]
    x = data.train_x[torch.arange(0, len(data.train_x), max(1, len(data.train_x) // images))[:images]]
    crop = model.config["input_size"]
    if crop < x.shape[-1]:
        x = centre_crop(x, crop)
    mean = torch.tensor(h.mean, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(h.std, device=x.device).view(1, 3, 1, 1)
    was = model.training
    model.eval()
    model((x.float() - mean) / std)
    model.train(was)
    for hook in hooks:
        hook.remove()
    out = {}
    for i, m in enumerate(norms):
        sq = seen[i].pow(2)
        half = m.size // 2
        padded = F.pad(sq, (0, 0, 0, 0, half, m.size - 1 - half))
        window = sum(padded[:, j:j + sq.shape[1]] for j in range(m.size))
        d = (m.k + m.alpha * window).pow(m.beta).flatten()
        q = torch.quantile(d[torch.randperm(len(d), generator=torch.Generator().manual_seed(0))[:1_000_000]],
                           torch.tensor([0.01, 0.5, 0.99], dtype=d.dtype))
        out[f"lrn{i + 1}"] = [*(round(float(v), 4) for v in q), round(float(d.max()), 4)]
    return out


def table(runs: dict[str, list[dict]], keys=("test_error", "train_error", "gap")) -> dict[str, dict]:
    """``variant -> {metric -> summary over seeds}``."""
    return {name: {k: summarise([r[k] for r in rs]) for k in keys} for name, rs in runs.items()}


def paired(runs: dict[str, list[dict]], better: str, worse: str, key: str, claim: str, what: str,
           n_test: int | None = None, paper_effect: float | None = None) -> dict:
    """Verdict on "``better`` has a lower ``key`` than ``worse``", paired by seed.

    With ``n_test`` test images, differences below three images' worth (``3 / n_test``) count as noise;
    ``paper_effect`` is the paper's reported improvement (an interval inside +-it is "equivalent").
    """
    diffs = [w[key] - b[key] for b, w in zip(runs[better], runs[worse])]
    return verdict(diffs, claim, what, min_effect=3.0 / n_test if n_test else 0.0, paper_effect=paper_effect)
