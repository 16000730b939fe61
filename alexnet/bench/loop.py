"""The training loop against its bare step: ``python -m alexnet bench loop``.

In each round, :func:`alexnet.training.train` (the paper's recipe as ``train`` runs it: the
uint8 store, crops, mirrors, PCA lighting and the mean image, the faithful network on its fast
path, the paper's SGD, validation and the epoch's record) trains a fresh run for two short epochs,
and the bare step of the same network and precision (``bench model``'s step on random tensors)
runs as many steps; the two alternate round by round. The loop's figure is its second epoch's
(the first carries the start-up): images per second over the epoch, the step alone and the wait
for data, as ``metrics.jsonl`` records them.
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from .timing import spread

__all__ = ["bench_loop"]


def _generated_data(root: Path, images: int) -> Path:
    from ..data.synthetic import make_synthetic

    return make_synthetic(root, num_classes=4, train_per_class=max(1, images // 4), val_per_class=2, size=256, seed=0)


def _train_epoch(data: Path, out: Path, mode: dict, batch_size: int, steps: int) -> dict:
    """The second epoch's record of a fresh two-epoch run."""
    from ..training import TrainConfig, train
    from ..training.history import read_metrics

    cfg = TrainConfig(data=str(data), out=str(out), epochs=2, steps_per_epoch=steps, batch_size=batch_size,
                      amp="bf16" if mode["precision"] == "bf16" else "none", channels_last=mode["channels_last"],
                      workers=0, quiet=True, progress=False, checkpoint_every=0, device="cpu", model="fast")
    train(cfg)
    return read_metrics(out)[-1]


def bench_loop(device: torch.device, *, modes: tuple[str, ...] = ("bf16_cl",), data: str | None = None,
               batch_size: int = 32, steps: int = 8, rounds: int = 3, log: Callable[[str], None] = print) -> dict:
    """Per mode: the loop's epoch images/s, its step alone and data wait, and the bare step's, per round."""
    from .model import _make_step, parse_mode

    if device.type != "cpu":
        raise ValueError("bench loop measures the CPU training loop; use --device cpu")
    rows = []
    with tempfile.TemporaryDirectory(prefix="alexnet-bench-loop-") as tmp:
        root = Path(data) if data else _generated_data(Path(tmp) / "data", batch_size * steps)
        for mode_name in modes:
            mode = parse_mode(mode_name)
            epochs, bare = [], []
            classes = len([p for p in (root / "train").iterdir() if p.is_dir()])
            step = _make_step("ours", mode, device, batch_size, 224, classes)
            for _ in range(2):
                step()
            for r in range(rounds):
                for part in (("loop", "bare") if r % 2 == 0 else ("bare", "loop")):
                    if part == "loop":
                        epochs.append(_train_epoch(root, Path(tmp) / f"run-{mode_name}-{r}", mode, batch_size, steps))
                    else:
                        start = time.perf_counter()
                        for _ in range(steps):
                            step()
                        bare.append(batch_size * steps / (time.perf_counter() - start))
            rows.append(_loop_row(mode_name, epochs, bare, batch_size, steps))
            log(f"  loop {mode_name}: {rows[-1]['loop_images_per_s']:.1f} images/s over the epoch, bare step "
                f"{rows[-1]['bare_images_per_s']:.1f}: {rows[-1]['loop_over_bare']:.3f}x; data wait "
                f"{rows[-1]['data_wait_percent']:.2f}% of the epoch")
    return {"what": "train (second of two epochs of steps_per_epoch steps, fresh run each round) against the bare "
                    "training step of the same network and precision, alternating round by round",
            "data": str(data) if data else "generated 256x256 images (4 classes)", "rows": rows}


def _loop_row(mode: str, epochs: list[dict], bare: list[float], batch_size: int, steps: int) -> dict:
    loop = [e["images_per_s"] for e in epochs]
    ratios = [a / b for a, b in zip(loop, bare)]
    wait = [100 * e["data_wait_s"] / e["epoch_time_s"] for e in epochs]
    return {"mode": mode, "batch_size": batch_size, "steps_per_epoch": steps, "rounds": len(loop),
            "loop_images_per_s": round(spread(loop)["median"], 2), "loop_images_per_s_all": [round(v, 2) for v in loop],
            "loop_step_images_per_s": round(spread([e["step_images_per_s"] for e in epochs])["median"], 2),
            "bare_images_per_s": round(spread(bare)["median"], 2), "bare_images_per_s_all": [round(v, 2) for v in bare],
            "loop_over_bare": round(spread(ratios)["median"], 3), "loop_over_bare_all": [round(v, 3) for v in ratios],
            "data_wait_percent": round(spread(wait)["median"], 2), "data_wait_percent_all": [round(v, 2) for v in wait]}
