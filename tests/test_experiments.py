"""The CIFAR-10 experiments of Sections 3.1-4.2: small nets, tensor data, training loop, verdicts, CLI."""
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from alexnet import LocalResponseNorm, PaperDropout
from alexnet.cli import main
from alexnet.errors import AlexNetError
from alexnet.experiments import EXPERIMENTS, run
from alexnet.experiments.common import summarise, verdict
from alexnet.experiments.in_memory import InMemoryConfig, fit_in_memory
from alexnet.data.augment import centre_crop, random_crop_flip, random_lighting
from alexnet.data.tensors import TensorData, load_cifar10, load_folder_tensors, rgb_pca
from alexnet.small_nets import CifarNet

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """No CIFAR-10 anywhere: an empty cache folder and no $ALEXNET_DATA."""
    monkeypatch.delenv("ALEXNET_DATA", raising=False)
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    return tmp_path


# ----------------------------------------------------------------------------- small nets
@pytest.mark.parametrize("size", [32, 24])
@pytest.mark.parametrize("pool", ["overlapping", "non-overlapping"])
def test_cifarnet_pooling_variants_have_same_shapes(size, pool):
    net = CifarNet(pool=pool, input_size=size, lrn=True)
    feats = net.features(torch.zeros(2, 3, size, size))
    assert feats.shape == (2, 64, math.ceil(size / 8), math.ceil(size / 8))
    assert net(torch.zeros(2, 3, size, size)).shape == (2, 10)
    windows = {(m.kernel_size, m.stride) for m in net.modules() if isinstance(m, torch.nn.MaxPool2d)}
    assert windows == ({(3, 2)} if pool == "overlapping" else {(2, 2)})


def test_cifarnet_is_four_layers_with_paper_lrn_and_dropout_options():
    net = CifarNet()
    learned = [m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert len(learned) == 4  # "a four-layer convolutional neural network"
    lrn = [m for m in CifarNet(lrn=True).modules() if isinstance(m, LocalResponseNorm)]
    assert len(lrn) == 2 and (lrn[0].size, lrn[0].alpha, lrn[0].beta, lrn[0].k) == (5, 1e-4, 0.75, 2.0)
    drop = CifarNet(hidden=(16, 16), dropout=0.5, dropout_mode="inverted")
    assert [m.mode for m in drop.modules() if isinstance(m, PaperDropout)] == ["inverted", "inverted"]
    assert any(isinstance(m, torch.nn.Tanh) for m in CifarNet(activation="tanh").modules())
    with pytest.raises(ValueError, match="activation"):
        CifarNet(activation="sigmoid")
    with pytest.raises(ValueError, match="pool"):
        CifarNet(pool="avg")


def test_cifarnet_paper_initialisation():
    torch.manual_seed(0)
    net = CifarNet(init="paper", widths=(32, 32, 64))
    conv2 = net.features[3]
    assert isinstance(conv2, torch.nn.Conv2d)
    assert abs(conv2.weight.std().item() - 0.01) < 0.001 and torch.all(conv2.bias == 0)
    default = CifarNet(widths=(32, 32, 64)).features[3]
    assert default.weight.std().item() > 0.02  # PyTorch's fan-in scaling: 1/sqrt(3*800)
    with pytest.raises(ValueError, match="init"):
        CifarNet(init="xavier")


# ----------------------------------------------------------------------------- tensors
def test_random_crop_flip_returns_patches_or_their_mirrors():
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).view(2, 3, 6, 6)
    g = torch.Generator().manual_seed(0)
    seen_flip = seen_plain = False
    for _ in range(20):
        out = random_crop_flip(x, 4, g)
        assert out.shape == (2, 3, 4, 4)
        for i in range(2):
            patches = [x[i, :, r:r + 4, c:c + 4] for r in range(3) for c in range(3)]
            plain = any(torch.equal(out[i], p) for p in patches)
            mirrored = any(torch.equal(out[i], p.flip(-1)) for p in patches)
            assert plain or mirrored
            seen_plain |= plain
            seen_flip |= mirrored and not plain
    assert seen_flip and seen_plain
    assert torch.equal(centre_crop(x, 4), x[..., 1:5, 1:5])
    with pytest.raises(ValueError, match="larger"):
        random_crop_flip(x, 7)


def test_rgb_pca_and_lighting_follow_section_4_1():
    g = torch.Generator().manual_seed(0)
    base = torch.randint(0, 256, (50, 1, 8, 8), generator=g)
    x = torch.cat([base, (base * 0.5).round(), torch.randint(0, 20, (50, 1, 8, 8), generator=g)], 1).to(torch.uint8)
    vals, vecs = rgb_pca(x)
    assert torch.all(vals[:-1] >= vals[1:])
    torch.testing.assert_close(vecs.T @ vecs, torch.eye(3), atol=1e-5, rtol=0)
    cov = torch.cov(x.permute(0, 2, 3, 1).reshape(-1, 3).double().T / 255).float()
    torch.testing.assert_close(vecs @ torch.diag(vals) @ vecs.T, cov, atol=1e-5, rtol=1e-4)
    img = x.float()
    out = random_lighting(img, vals, vecs, 0.1, torch.Generator().manual_seed(1))
    shift = out - img
    assert torch.allclose(shift, shift[:, :, :1, :1].expand_as(shift), atol=1e-3)  # one shift per image, every pixel
    assert shift.abs().max() > 0 and not torch.allclose(shift[0], shift[1])
    # the shift lies along the eigenvectors weighted by the eigenvalues (scaled to 0..255 units)
    coeffs = (shift[:, :, 0, 0] / 255.0) @ vecs / vals
    assert coeffs.std() < 0.5  # a ~ N(0, 0.1)


def _write_folder(root: Path, per_class: int = 3, size: int = 8) -> Path:
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for c in ("cat", "dog"):
            (root / split / c).mkdir(parents=True)
            for i in range(per_class):
                Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(root / split / c / f"{i}.png")
    return root


def test_folder_tensors_are_decoded_once_and_cached(no_data):
    root = _write_folder(no_data / "cifar10")
    x, y, classes, cached = load_folder_tensors(root / "train")
    assert x.dtype == torch.uint8 and x.shape == (6, 3, 8, 8) and y.tolist() == [0, 0, 0, 1, 1, 1]
    assert classes == ["cat", "dog"] and not cached
    png = np.array(Image.open(root / "train" / "dog" / "1.png"))
    assert torch.equal(x[4], torch.from_numpy(png).permute(2, 0, 1))
    x2, _, _, cached = load_folder_tensors(root / "train")
    assert cached and torch.equal(x, x2)
    sub, ysub, _, cached = load_folder_tensors(root / "train", per_class=2)
    assert cached and ysub.tolist() == [0, 0, 1, 1] and torch.equal(sub[2], x[3])
    resized, *_ = load_folder_tensors(root / "test", size=4)
    assert resized.shape == (6, 3, 4, 4)


def test_load_cifar10_falls_back_to_generated_data_only_when_allowed(no_data):
    with pytest.raises(AlexNetError, match="CIFAR-10 not found"):
        load_cifar10(no_data / "nowhere")
    d = load_cifar10(None, allow_synthetic=True)
    assert d.synthetic and d.description.startswith("SYNTHETIC")
    assert d.train_x.shape[1:] == (3, 32, 32) and len(d.classes) == 10 and len(d.test_y) > 0


def test_load_cifar10_reads_a_given_folder(no_data):
    root = _write_folder(no_data / "data" / "cifar10", size=32)
    d = load_cifar10(no_data / "data", train_per_class=2)
    assert not d.synthetic and d.description.startswith("CIFAR-10") and len(d.train_y) == 4 and len(d.test_y) == 6
    assert d.root == str(root)


# ----------------------------------------------------------------------------- statistics
def test_summarise_and_verdicts():
    s = summarise([1.0, 3.0, None])
    assert s["mean"] == 2.0 and s["n"] == 2 and math.isclose(s["std"], math.sqrt(2))
    assert verdict([0.02, 0.03, 0.025], "claim", "x")["verdict"] == "agrees"
    assert verdict([0.02, 0.03, 0.025], "claim", "x")["agrees_with_paper"] is True
    assert verdict([-0.02, -0.03, -0.025], "claim", "x")["verdict"] == "disagrees"
    assert verdict([0.05, -0.04, 0.01], "claim", "x")["verdict"] == "inconclusive"
    assert verdict([0.002, 0.002], "claim", "x", min_effect=0.01)["verdict"] == "inconclusive"
    assert verdict([], "claim", "x")["agrees_with_paper"] is False


# ----------------------------------------------------------------------------- training loop
def _separable(n: int = 256, seed: int = 0) -> TensorData:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randint(0, 60, (n, 3, 12, 12), generator=g, dtype=torch.uint8)
    x[y == 1, 0] += 150  # class 1 is red
    return TensorData(x, y, x[:64].clone(), y[:64].clone(), ["a", "b"], "separable", True, "")


def test_training_learns_and_stops_at_the_target():
    torch.manual_seed(0)
    net = CifarNet(2, widths=(4, 4, 8), input_size=12)
    h = fit_in_memory(net, _separable(), InMemoryConfig(epochs=6, lr=0.05, batch_size=32, target_train_error=0.1))
    assert h.epochs_to_target is not None and h.epochs_to_target <= 6
    assert h.records[-1].epoch == h.epochs_to_target == h.epochs_trained  # stopped there
    assert h.records[-1].train_top1_error <= 0.1
    assert h.final_test_error < 0.2 and h.final_train_error < 0.2 and not h.diverged


def test_training_with_augmentation_and_divergence_flag():
    torch.manual_seed(0)
    net = CifarNet(2, widths=(4, 4, 8), input_size=10, lrn=True, hidden=(8,), dropout=0.5)
    h = fit_in_memory(net, _separable(), InMemoryConfig(epochs=1, lr=0.01, batch_size=32, crop=10, pca_std=0.1, lr_drop_at=0.5))
    assert h.test_curve() and 0 <= h.final_test_error <= 1
    bad = fit_in_memory(CifarNet(2, widths=(4, 4, 8), input_size=12), _separable(),
                InMemoryConfig(epochs=3, lr=1e6, batch_size=32))
    assert bad.diverged and not math.isfinite(bad.records[-1].train_loss)
    centred = fit_in_memory(CifarNet(2, widths=(4, 4, 8), input_size=12, init="paper"), _separable(),
                    InMemoryConfig(epochs=1, lr=0.001, batch_size=32, input_norm="centre"))
    assert centred.std == [1.0, 1.0, 1.0] and centred.mean[0] > 60  # raw pixel units, centred
    with pytest.raises(ValueError, match="input_norm"):
        fit_in_memory(CifarNet(2, widths=(4, 4, 8), input_size=12), _separable(), InMemoryConfig(input_norm="whiten"))


# ----------------------------------------------------------------------------- experiments and CLI
def test_profiles_are_complete_and_full_is_the_paper_setting():
    assert set(EXPERIMENTS) == {"relu_tanh", "lrn", "pooling", "pca_lighting", "dropout",
                                "towers", "imagenette_lrn", "ensemble", "tower_colour", "imagenette_pooling",
                                "imagenette_pca", "imagenette_depth"}
    for name, exp in EXPERIMENTS.items():
        assert set(exp.PROFILES) == {"ci", "full"}, name
        assert set(exp.PROFILES["ci"]) == set(exp.PROFILES["full"]), name
        assert exp.PAPER_CLAIM.startswith('"') and exp.SECTION
    full = EXPERIMENTS["relu_tanh"].PROFILES["full"]
    assert full["target_train_error"] == 0.25 and full["seeds"] >= 3 and full["train_per_class"] is None
    assert len(full["lr_grid_relu"]) >= 2 and len(full["lr_grid_tanh"]) >= 2


TINY = dict(train_per_class=6, test_per_class=3, seeds=2, widths=[2, 2, 4], batch_size=16)


@pytest.mark.parametrize("name, extra", [
    ("relu_tanh", dict(max_epochs=1, target_train_error=0.85, lr_grid_relu=[0.05], lr_grid_tanh=[0.05, 0.02])),
    ("lrn", dict(epochs=1.0)),
    ("dropout", dict(epochs=1.0, hidden=[8, 8])),
])
def test_experiment_writes_json_with_provenance_and_verdict(no_data, name, extra):
    out = no_data / "out" / f"{name}.json"
    r = run(name, "ci", out=out, device="cpu", **TINY, **extra)
    saved = json.loads(out.read_text())
    assert saved["experiment"] == name and saved["profile"] == "ci"
    assert saved["data"]["synthetic"] is True and "SYNTHETIC" in saved["data"]["description"]
    for key in ("command", "git_commit", "device", "date", "wall_seconds"):
        assert saved["provenance"][key], key
    assert saved["paper_claim"].startswith('"') and saved["verdict"] in ("agrees", "disagrees", "equivalent", "inconclusive")
    assert saved["agrees_with_paper"] is (saved["verdict"] == "agrees")
    assert saved["settings"]["seeds"] == 2 and r.path == out
    if name == "relu_tanh":
        assert set(saved["best_lr"]) == {"relu", "tanh"} and len(saved["tuning"]) == 3
        assert {"mean", "std", "n"} <= set(saved["speedup"])
    else:
        assert all(len(runs) == 2 for runs in saved["runs"].values())
        assert {"mean", "std"} <= set(next(iter(saved["summary"].values()))["test_error"])
    if name == "dropout":
        assert "test_error_paper_without_scaling" in saved["scaling"]


def test_cli_runs_an_experiment_and_rejects_bad_input(no_data, capsys):
    out = no_data / "res"
    args = ["experiment", "pooling", "--profile", "ci", "--device", "cpu", "--out", str(out), "--seeds", "1",
            "--set", "train_per_class=4", "--set", "test_per_class=2", "--set", "epochs=1.0",
            "--set", "widths=[2,2,4]"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "GENERATED data" in printed and (out / "pooling" / "ci.json").exists()
    saved = json.loads((out / "pooling" / "ci.json").read_text())
    assert saved["provenance"]["command"].startswith("python -m alexnet experiment pooling")
    assert main(["experiment", "nope"]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err
    assert main(["experiment", "lrn", "--set", "epoch=3"]) == 2
    assert "unknown parameter 'epoch'" in capsys.readouterr().err
    assert main(["experiment", "lrn", "--seeds", "0"]) == 2
    assert "'seeds'" in capsys.readouterr().err
    assert main(["experiment", "lrn", "--profile", "ci", "--set", "epochs"]) == 2


def test_gpu_script_is_valid_bash_and_runs_every_experiment():
    script = ROOT / "scripts" / "gpu_experiments.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text()
    for name, exp in EXPERIMENTS.items():  # the CIFAR-10 ones (Imagenette does not fit what travels to a GPU)
        if not hasattr(exp, "load_data"):
            assert f"run_one {name} " in text, name
    assert "--profile full" in text and "ALEXNET_DATA" in text and "/full.json" in text


# ----------------------------------------------------------------------------- resumable records
def test_t_interval_and_verdict_use_the_95_percent_interval():
    from alexnet.experiments.common import t_interval

    lo, hi = t_interval([1.0, 2.0, 3.0])  # mean 2, std 1, n 3: t(2) = 4.303
    assert math.isclose(hi - 2.0, 4.303 / math.sqrt(3), rel_tol=1e-6) and math.isclose(lo + hi, 4.0)
    assert t_interval([1.0]) is None
    v = verdict([0.01, 0.03], "claim", "x")  # positive mean, but two seeds give a wide interval
    assert v["verdict"] == "inconclusive" and v["interval"][0] < 0 < v["interval"][1]
    assert verdict([0.02], "claim", "x")["verdict"] == "inconclusive"  # one seed: no interval


def test_records_skip_finished_runs_and_drop_a_half_written_line(tmp_path):
    from alexnet.experiments.records import Records

    path = tmp_path / "r.records.jsonl"
    calls = []
    rec = Records(path, {"data": "x"})
    assert rec.run({"seed": 0}, lambda: calls.append(0) or {"v": (1, 2), "seconds": 1.5}) == {"v": [1, 2], "seconds": 1.5}
    with open(path, "a") as f:
        f.write('{"key": {"seed": 1}, "cont')  # a kill in the middle of a write
    again = Records(path, {"data": "x"})
    assert len(again) == 1 and path.read_text().endswith("\n")
    assert again.run({"seed": 0}, lambda: calls.append(1) or {}) == {"v": [1, 2], "seconds": 1.5}
    again.replay = True
    assert again.run({"seed": 1}, lambda: calls.append(2) or {}) is None
    assert calls == [0]
    other = Records(path, {"data": "y"})  # another data set: nothing reused
    assert len(other) == 0 and other.ignored == 1
    assert len(Records(path, {"data": "x"}, fresh=True)) == 0 and not path.exists()
    path.write_text("not json\n")
    with pytest.raises(ValueError, match="line 1"):
        Records(path, {"data": "x"})


def test_records_skip_a_run_another_process_trains_and_wait_for_it(tmp_path):
    import fcntl
    import threading

    from alexnet.experiments.records import Records

    path = tmp_path / "r.records.jsonl"
    Records(path, {"data": "x"}).run({"seed": 0}, lambda: {"v": 0})
    rec = Records(path, {"data": "x"})
    holder = open(rec.lock_path({"seed": 1}), "a")  # another process is training seed 1
    fcntl.flock(holder, fcntl.LOCK_EX)
    assert rec.run({"seed": 0}, lambda: {"v": "twice"}) == {"v": 0}
    assert rec.run({"seed": 1}, lambda: {"v": "twice"}) is None and rec.skipped == 1  # skipped, not trained
    assert rec.run({"seed": 2}, lambda: {"v": 2}) == {"v": 2}  # the next run is not held up
    rec.wait = True
    assert rec.skipped == 0
    threading.Timer(0.3, lambda: fcntl.flock(holder, fcntl.LOCK_UN)).start()  # it ends without finishing
    assert rec.run({"seed": 1}, lambda: {"v": 1}) == {"v": 1}  # waited for the lock, then trained it
    assert rec.skipped == 0 and len(Records(path, {"data": "x"})) == 3
    holder.close()


_KILLABLE = """
import sys
from alexnet.experiments import run
import torch
torch.set_num_threads(1)
run("lrn", "ci", out=sys.argv[1], device="cpu", resume=True, train_per_class=6, test_per_class=3, seeds=3,
    widths=[2, 2, 4], batch_size=16, epochs=2.0)
"""


def _records(path: Path) -> list[dict]:
    """The records of the LRN experiment at ``path`` and of the baseline it shares (beside it)."""
    out = []
    shared = path.with_name("cifar_baseline." + path.name)
    for line in path.read_text().splitlines() + (shared.read_text().splitlines() if shared.exists() else []):
        r = json.loads(line)
        rec = dict(r["record"])
        rec.pop("seconds")
        rec["test_curve"] = [c[:2] for c in rec["test_curve"]]  # drop the wall-clock column
        out.append((json.dumps(r["key"], sort_keys=True), rec))
    return sorted(out, key=lambda x: x[0])


@pytest.mark.slow
def test_a_killed_experiment_continues_and_ends_with_the_records_of_an_unstopped_one(no_data):
    import os
    import signal
    import sys
    import time

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    whole = no_data / "whole" / "lrn.json"
    subprocess.run([sys.executable, "-c", _KILLABLE, str(whole)], check=True, env=env, cwd=ROOT, timeout=600)
    cut = no_data / "cut" / "lrn.json"
    recs = cut.with_name("lrn.records.jsonl")
    shared = cut.with_name("cifar_baseline.lrn.records.jsonl")  # the with-LRN baseline's runs

    def count() -> int:
        return sum(f.read_text().count("\n") for f in (recs, shared) if f.exists())

    proc = subprocess.Popen([sys.executable, "-c", _KILLABLE, str(cut)], env=env, cwd=ROOT)
    deadline = time.monotonic() + 600
    while count() < 2:
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = count()
    partial = json.loads(cut.read_text())  # the partial result written after a finished run
    assert partial["progress"]["complete"] is False and kept - 1 <= partial["progress"]["records"] <= kept
    assert 2 <= kept < 6
    subprocess.run([sys.executable, "-c", _KILLABLE, str(cut)], check=True, env=env, cwd=ROOT, timeout=600)
    done = json.loads(cut.read_text())
    assert done["progress"]["complete"] is True and done["progress"]["records"] == 6
    assert done["progress"]["trained_now"] == 6 - kept
    assert _records(recs) == _records(whole.with_name("lrn.records.jsonl"))
    full = json.loads(whole.read_text())
    assert done["summary"] == full["summary"] and done["verdict"] == full["verdict"]


@pytest.mark.slow
def test_two_processes_share_one_experiment_and_train_each_run_once(no_data):
    import os
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = no_data / "shared" / "lrn.json"
    load_cifar10(train_per_class=6, test_per_class=3, allow_synthetic=True)  # the data made once, before both
    script = _KILLABLE + "print('trained', run_result.progress.trained_now)\n"
    script = script.replace('run("lrn"', 'run_result = run("lrn"')
    procs = [subprocess.Popen([sys.executable, "-c", script, str(out)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    trained = [int(o.split("trained")[-1]) for o in outs]
    keys = [k for k, _ in _records(out.with_name("lrn.records.jsonl"))]
    assert len(keys) == len(set(keys)) == 6 and sum(trained) == 6  # every run trained once, by one of them
    done = json.loads(out.read_text())
    assert done["progress"]["complete"] is True and done["progress"]["records"] == 6
