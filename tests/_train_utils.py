"""Shared helpers of the training, resume, evaluation and distributed tests (not a test module)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
from alexnet.training import TIMING_KEYS as TIMING  # noqa: E402  (fields that depend on the machine's speed)


def tiny_data(root: Path) -> Path:
    """A small generated data set (4 classes, 16 training and 4 validation images each)."""
    from alexnet.data import make_synthetic

    return make_synthetic(root, num_classes=4, train_per_class=16, val_per_class=4, size=40, seed=1)


#: A slim network on 67-pixel crops: NOT the paper's size, but every layer of it, in seconds on a CPU.
TINY = ["--resize", "72", "--crop", "67", "--adaptive-pool", "--widths", "8", "16", "24", "24", "16",
        "--fc", "32", "32", "--batch-size", "16", "--workers", "0", "--deterministic", "--quiet", "--seed", "3"]


def tiny_config(data: Path, out: Path, **overrides):
    from alexnet.training import TrainConfig

    values = dict(data=str(data), out=str(out), resize=72, crop=67, adaptive_pool=True, widths=[8, 16, 24, 24, 16],
                  fc=[32, 32], batch_size=16, workers=0, deterministic=True, quiet=True, progress=False, seed=3,
                  epochs=2, checkpoint_every=0)
    values.update(overrides)
    return TrainConfig(**values)


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.setdefault("OMP_NUM_THREADS", "1")
    e.setdefault("ALEXNET_CACHE", str(Path(tempfile.gettempdir()) / "alexnet-test-cache"))  # stores of test data
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    for key in ("ALEXNET_CKPT_WRITE_DELAY", "ALEXNET_CKPT_WRITE_DELAY_AT"):
        e.pop(key, None)
    return e


def cli(*args: str, extra_env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    e = env()
    e.update(extra_env or {})
    return subprocess.run([sys.executable, "-m", "alexnet", *args], capture_output=True, text=True, env=e,
                          cwd=ROOT, timeout=kw.pop("timeout", 300), **kw)


def metrics(run: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


def weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, map_location="cpu", weights_only=True)["model"]


def assert_same_state(a: Path, b: Path) -> None:
    """Bit-identical weights and momentum buffers in two checkpoints."""
    sa = torch.load(a, map_location="cpu", weights_only=True)
    sb = torch.load(b, map_location="cpu", weights_only=True)
    assert sa["model"].keys() == sb["model"].keys()
    for k in sa["model"]:
        assert torch.equal(sa["model"][k], sb["model"][k]), f"weights {k} differ"
    for i, st in sa["optimizer"]["state"].items():
        assert torch.equal(st["momentum_buffer"], sb["optimizer"]["state"][i]["momentum_buffer"]), f"momentum {i}"
    assert (sa["epoch"], sa["batch"], sa["global_step"]) == (sb["epoch"], sb["batch"], sb["global_step"])
    assert sa["schedule"] == sb["schedule"]
