"""The shared recipe of the with/without ablations (Sections 3.3, 3.4, 4.1, 4.2).

Each variant is a :class:`alexnet.small_nets.CifarNet` configuration plus training overrides. For
every seed, every variant is trained with the same seed (same initial draw where the shapes agree,
same batches), so differences are paired by seed. Each (variant, seed) run is one record
(:mod:`.records`): written as soon as it ends, and not trained again when the experiment is rerun.
"""
from __future__ import annotations

from dataclasses import asdict, replace

import torch

from ..small_nets import CifarNet
from .common import summarise, verdict
from .in_memory import InMemoryConfig, fit_in_memory
from .records import Records
from .tensors import TensorData

__all__ = ["train_config", "compare", "paired", "table"]


def train_config(s: dict, **over) -> InMemoryConfig:
    """The :class:`InMemoryConfig` of settings ``s`` (the profile), with ``over`` replacing fields."""
    cfg = InMemoryConfig(epochs=s["epochs"], lr=s["lr"], batch_size=s["batch_size"], weight_decay=s["weight_decay"],
                      crop=s["crop"], lr_drop_at=s["lr_drop_at"], checks_per_epoch=1,
                      train_eval_size=s.get("train_eval_size", 10000))
    return replace(cfg, **over)


def compare(variants: dict[str, tuple[dict, dict]], s: dict, data: TensorData, device: torch.device,
            records: Records, progress: bool = False, after_train=None) -> dict[str, list[dict]]:
    """Train every variant (``name -> (CifarNet kwargs, InMemoryConfig overrides)``) for each seed.

    Returns ``name -> [run, ...]`` where a run has the seed, final test and (eval-mode) training
    error, the overfitting gap (test - train), the test-error curve and the seconds taken; only
    seeds that every variant has finished are returned (the comparison is paired).
    ``after_train(name, model, run, history)`` (``history``: the :class:`.in_memory.InMemoryHistory`) may add
    measurements to a run.
    """
    runs: dict[str, dict[int, dict]] = {name: {} for name in variants}
    for seed in range(s["seeds"]):
        for name, (net_kw, cfg_over) in variants.items():
            cfg = train_config(s, **cfg_over)
            net = dict(num_classes=len(data.classes), input_size=cfg.crop or data.train_x.shape[-1], **net_kw)

            def one(name=name, cfg=cfg, net=net, seed=seed) -> dict:
                torch.manual_seed(seed)
                model = CifarNet(**net)
                h = fit_in_memory(model, data, cfg, seed=seed, device=device, progress=progress, desc=f"{name} seed={seed}")
                run = {"seed": seed, "test_error": h.final_test_error, "train_error": h.final_train_error,
                       "gap": h.final_test_error - h.final_train_error, "epochs_trained": h.epochs_trained,
                       "diverged": h.diverged, "test_curve": h.test_curve(), "train_curve": h.train_curve(),
                       "seconds": h.seconds}
                if after_train is not None:
                    after_train(name, model, run, h)
                return run

            run = records.run({"variant": name, "seed": seed, "net": net, "train": asdict(cfg)}, one)
            if run is not None:
                runs[name][seed] = run
    common = sorted(set.intersection(*(set(r) for r in runs.values()))) if runs else []
    return {name: [rs[seed] for seed in common] for name, rs in runs.items()}


def table(runs: dict[str, list[dict]], keys=("test_error", "train_error", "gap")) -> dict[str, dict]:
    """``variant -> {metric -> summary over seeds}``."""
    return {name: {k: summarise([r[k] for r in rs]) for k in keys} for name, rs in runs.items()}


def paired(runs: dict[str, list[dict]], better: str, worse: str, key: str, claim: str, what: str,
           n_test: int | None = None) -> dict:
    """Verdict on "``better`` has a lower ``key`` than ``worse``", paired by seed.

    With ``n_test`` test images, differences below three images' worth (``3 / n_test``) count as noise.
    """
    diffs = [w[key] - b[key] for b, w in zip(runs[better], runs[worse])]
    return verdict(diffs, claim, what, min_effect=3.0 / n_test if n_test else 0.0)
