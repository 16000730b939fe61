"""Never lose work: a run SIGKILLed at any moment and resumed ends bit-for-bit like an uninterrupted one.

Deterministic CPU mode, images read from the cached uint8 store (``--loader store``: each batch's
crops, mirrors and lighting drawn from ``(seed, epoch, batch)``). The interrupted run is killed five times: during its very first
checkpoint write (no last.pt yet), during a mid-epoch write, during the epoch-end writes of
best.pt and of last.pt, and at a random moment shortly after a checkpoint landed; every kill
inside a write leaves a half-written temporary file behind. The writes are made to pause with
``ALEXNET_CKPT_WRITE_DELAY(_AT)`` so the kill lands inside them; the test waits for the paused
write's own temporary file, so it never races the process.
"""
from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from _train_utils import ROOT, TINY, assert_same_state, cli, env, metrics, tiny_data

pytestmark = pytest.mark.slow

ARGS = [*TINY, "--epochs", "3", "--checkpoint-every", "1", "--patience", "1", "--lr", "0.02", "--loader", "store"]
WAIT = 900  # seconds a step may take on a very busy machine (niced under a training run) before the test gives up


def _start(args: list[str], extra: dict[str, str] | None = None) -> subprocess.Popen:
    e = env()
    e.update(extra or {})
    return subprocess.Popen([sys.executable, "-m", "alexnet", *args], env=e, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait(p: subprocess.Popen, ready, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not ready():
        if p.poll() is not None:
            raise AssertionError(f"the run ended before {what}: {p.stdout.read()[-2000:]}")
        if time.monotonic() > deadline:
            p.kill()
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _kill(p: subprocess.Popen) -> None:
    p.send_signal(signal.SIGKILL)
    p.wait()
    p.stdout.close()


def _position(out: Path):
    if not (out / "last.pt").exists():
        return None
    s = torch.load(out / "last.pt", weights_only=True)
    return s["global_step"]


def _kill_inside_write(args: list[str], out: Path, n: int) -> None:
    """Start a run whose ``n``-th checkpoint write pauses; SIGKILL it inside that write."""
    p = _start(args, {"ALEXNET_CKPT_WRITE_DELAY": "600", "ALEXNET_CKPT_WRITE_DELAY_AT": str(n)})

    def paused() -> bool:  # the temporary file exists and its first bytes are flushed: the write sleeps
        return any(f.stat().st_size > 0 for f in out.glob(f".*.pt.tmp-{p.pid}-{n}"))

    _wait(p, paused, f"checkpoint write {n}")
    _kill(p)


def _kill_after_next_checkpoint(args: list[str], out: Path, rng: random.Random) -> None:
    before = (out / "last.pt").stat().st_mtime_ns if (out / "last.pt").exists() else 0
    p = _start(args)
    _wait(p, lambda: (out / "last.pt").exists() and (out / "last.pt").stat().st_mtime_ns != before,
          "a new checkpoint")
    time.sleep(rng.uniform(0.0, 0.3))
    _kill(p)


def test_sigkill_anywhere_then_resume_is_bit_identical(tmp_path):
    data = tiny_data(tmp_path / "data")
    ref, out = tmp_path / "ref", tmp_path / "killed"
    base = ["train", "--data", str(data), *ARGS]
    reference = _start([*base, "--out", str(ref)])  # runs alongside the interrupted one

    _kill_inside_write([*base, "--out", str(out)], out, 1)  # the very first write: no last.pt yet
    assert _position(out) is None
    resume = ["train", "--out", str(out), "--resume"]  # the saved config.json supplies every setting
    _kill_inside_write(resume, out, 3)  # mid-epoch 1: steps 1 and 2 are saved
    assert _position(out) == 2
    _kill_inside_write(resume, out, 2)  # from step 2: write 1 saves step 3, write 2 is epoch 1's best.pt
    assert _position(out) == 3 and not (out / "best.pt").exists()
    _kill_inside_write(resume, out, 2)  # from step 3: best.pt lands, then the kill inside epoch 1's last.pt
    assert _position(out) == 3 and (out / "best.pt").exists()
    _kill_after_next_checkpoint(resume, out, random.Random(0))  # any moment after a checkpoint

    r = cli(*resume)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "resuming" in r.stdout
    assert reference.wait(timeout=WAIT) == 0, reference.stdout.read()
    reference.stdout.close()

    assert not list(out.glob(".*.tmp-*"))
    assert metrics(out) == metrics(ref)  # every loss, error and learning rate, bit for bit
    assert len(metrics(out)) == 3 and metrics(out)[-1]["step"] == 12
    assert_same_state(ref / "last.pt", out / "last.pt")  # weights and momentum, bit for bit
    assert_same_state(ref / "best.pt", out / "best.pt")


def test_resume_before_anything_was_written_starts_fresh(tmp_path, capsys):
    """``--resume`` on an empty folder starts the run; on a finished run it only rewrites the summary;
    a stale temporary file from a killed write is removed."""
    from alexnet.cli import main

    data = tiny_data(tmp_path / "data")
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), *TINY, "--epochs", "1", "--out", str(out), "--resume"]) == 0
    assert "no last.pt yet" in capsys.readouterr().out
    before = metrics(out)
    (out / ".last.pt.tmp-1-1").write_bytes(b"half a checkpoint")
    assert main(["train", "--out", str(out), "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "resuming" in printed and "removed .last.pt.tmp-1-1" in printed
    assert metrics(out) == before and not (out / ".last.pt.tmp-1-1").exists()


def test_stopped_right_after_a_mid_epoch_checkpoint_resumes_bit_identically(tmp_path, monkeypatch):
    """The same guarantee in one process, in seconds: stop after the third checkpoint (mid-epoch,
    batch 3 of 4), resume, and end exactly where an uninterrupted run ends (store loader)."""
    import alexnet.training.loop as train_module
    from _train_utils import tiny_config
    from alexnet.training.checkpoint import load_checkpoint

    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    data = tiny_data(tmp_path / "data")
    settings = dict(epochs=2, checkpoint_every=1, loader="store", lr=0.02)
    ref = train_module.train(tiny_config(data, tmp_path / "ref", **settings))
    real, writes = train_module.save_checkpoint, []

    def stop_after_third(state, path):
        real(state, path)
        writes.append(path)
        if len(writes) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "save_checkpoint", stop_after_third)
    out = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        train_module.train(tiny_config(data, out, **settings))
    monkeypatch.setattr(train_module, "save_checkpoint", real)
    state = load_checkpoint(out / "last.pt")
    assert (state["epoch"], state["batch"], state["global_step"]) == (0, 3, 3)
    train_module.train(tiny_config(data, out, resume=True, **settings))
    assert metrics(out) == metrics(ref) and len(metrics(out)) == 2
    assert_same_state(ref / "last.pt", out / "last.pt")
    assert_same_state(ref / "best.pt", out / "best.pt")
