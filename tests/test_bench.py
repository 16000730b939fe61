"""``python -m alexnet bench``: the measuring code, run tiny on the CPU (never timed in tests)."""
import json
import sys

import pytest
import torch

from alexnet.bench import model as bench
from alexnet.cli.bench import main as bench_main
from alexnet.cli import main
from alexnet.layers import LocalResponseNorm
from alexnet.provenance import Provenance


def test_parse_mode():
    assert bench.parse_mode("bf16_cl_compile") == {"precision": "bf16", "channels_last": True, "compile": True}
    assert bench.parse_mode("tf32") == {"precision": "tf32", "channels_last": False, "compile": False}
    for bad in ("fp16", "bf16_fast", ""):
        with pytest.raises(bench.AlexNetError, match="precision mode"):
            bench.parse_mode(bad)


def test_flops_per_training_image_from_flop_counter():
    ours, tv = bench.flops_per_image("ours"), bench.flops_per_image("torchvision")
    # forward multiply-adds of the paper model at 224 (55x55 after conv1): 724.2 M; training is
    # 3x that minus conv1's input gradient (the image needs none), 2 FLOPs per multiply-add
    fwd_macs = (55 * 55 * 96 * 363 + 27 * 27 * 256 * 25 * 48 + 13 * 13 * 384 * 9 * 256 + 13 * 13 * 384 * 9 * 192
                + 13 * 13 * 256 * 9 * 192 + 9216 * 4096 + 4096 * 4096 + 4096 * 1000)
    assert ours == 2 * (3 * fwd_macs - 55 * 55 * 96 * 363)
    assert 4.0e9 < tv < 4.3e9 and abs(ours / tv - 1) < 0.01
    # the fast (grouped) model does the same forward arithmetic; the flop counter's rule for the
    # backward of a grouped convolution over-counts (why bench counts on the two-conv reference)
    from torch.utils.flop_counter import FlopCounterMode

    from alexnet import AlexNet

    with torch.device("meta"):
        m = AlexNet(fast=True, lrn_impl="reference")
        x = torch.randn(2, 3, 224, 224)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        m(x)
    assert counter.get_total_flops() // 2 == 2 * fwd_macs


@pytest.mark.slow
def test_bench_model_tiny_rows_mfu_and_ratios():
    res = bench.bench_model(torch.device("cpu"), models=("torchvision", "ours"), modes=("fp32",), batch_size=2,
                            steps=1, warmup=1, repeats=2, num_classes=10, log=lambda s: None)
    rows = {r["model"]: r for r in res["rows"]}
    assert set(rows) == {"torchvision", "ours"}
    for r in rows.values():
        assert r["images_per_s"] > 0 and len(r["images_per_s_all"]) == 2 and 0 < r["mfu"] < 1
        assert r["flops_per_image"] > 1e9
    ratio = res["summary"]["per_mode"]["fp32"]  # the median of the per-round ratios, inside their quartiles
    spread = res["summary"]["per_mode_spread"]["fp32"]
    assert spread["q1"] <= ratio <= spread["q3"] and spread["model"] == "ours"
    floor = res["summary"]["arithmetic_floor"]["ours"]
    assert floor["max_images_per_s"] == pytest.approx(res["peak_flops"]["fp32"] / rows["ours"]["flops_per_image"],
                                                      rel=1e-2)


def test_model_summary_best_against_best():
    rows = [dict(model="torchvision", mode="bf16", images_per_s=100.0), dict(model="ours", mode="bf16", images_per_s=90.0),
            dict(model="torchvision", mode="bf16_cl_compile", images_per_s=200.0),
            dict(model="ours_split", mode="bf16_cl_compile", images_per_s=210.0),
            dict(model="ours", mode="fp32", error="boom")]
    s = bench.model_summary(rows, {"ours": 4e9, "torchvision": 4e9}, {"bf16": 1e15})
    assert s["per_mode"] == {"bf16": 0.9, "bf16_cl_compile": 1.05}
    assert s["ours_best_over_torchvision_best"] == 1.05 and s["ours_best_model"] == "ours_split"
    assert s["arithmetic_floor"]["ours"]["max_images_per_s"] == 250000.0


def test_recorder_merges_model_rows_across_runs(tmp_path):
    path = tmp_path / "dev.json"
    dev = torch.device("cpu")
    first = bench.Recorder(path, dev, ["bench", "model"])
    first.put("model", {"rows": [dict(model="torchvision", mode="fp32", images_per_s=10.0)],
                        "flops_per_image": {"torchvision": 4e9}, "peak_flops": {"fp32": 1e12}})
    second = bench.Recorder(path, dev, ["bench", "model"])
    second.put("model", {"rows": [dict(model="ours", mode="fp32", images_per_s=9.5)],
                         "flops_per_image": {"ours": 4e9}, "peak_flops": {"fp32": 1e12}})
    data = json.loads(path.read_text())
    assert {r["model"] for r in data["sections"]["model"]["rows"]} == {"torchvision", "ours"}
    assert data["sections"]["model"]["summary"]["per_mode"] == {"fp32": 0.95}
    assert data["machine"]["torch"] == torch.__version__ and data["machine"]["cpu_cores"] >= 1


def test_cli_bench_lrn_writes_json(tmp_path, capsys):
    out = tmp_path / "b.json"
    rc = main(["bench", "lrn", "--device", "cpu", "--lrn-shape", "1,8,5,5", "--lrn-reps", "1",
               "--lrn-impls", "nn.LocalResponseNorm,reference,torch", "--out", str(out)])
    assert rc == 0
    data = json.loads(out.read_text())
    rows = data["sections"]["lrn"]["rows"]
    # "torch", the hand-written backward's former name, is accepted and recorded under its new name
    assert {r["impl"] for r in rows} == {"nn.LocalResponseNorm", "reference", "hand_backward"}
    assert all(r["ms"] > 0 for r in rows) and data["machine"]["device"] == "cpu"
    prov = Provenance.from_dict(data["provenance"])  # the one provenance shape
    assert prov.command.startswith("python -m alexnet bench") and prov.git_commit and prov.versions["torch"]
    assert data["sections"]["lrn"]["provenance"] == data["provenance"]
    assert "lrn hand_backward" in capsys.readouterr().out


@pytest.mark.parametrize("argv, match", [
    (["bench", "model", "--device", "cpu", "--modes", "fp16", "--out", "none"], "precision mode"),
    (["bench", "model", "--device", "cpu", "--models", "vgg", "--out", "none"], "--models"),
    (["bench", "lrn", "--device", "cpu", "--lrn-shape", "1,2,3", "--out", "none"], "--lrn-shape"),
])
def test_cli_bench_bad_arguments_exit_2(argv, match, capsys):
    assert main(argv) == 2
    assert match in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_cli_bench_cuda_without_gpu_is_a_clear_error(capsys):
    assert main(["bench", "lrn", "--device", "cuda", "--out", "none"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_bench_data_says_when_the_cpu_loader_is_missing(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "alexnet.bench.data", None)  # import fails as if not written yet
    msgs = []
    res = bench._cpu_loader_rates(tmp_path, "0", msgs.append)
    assert "not available" in res["error"] and "not available" in msgs[0]


def test_standalone_entry_point_parses():
    with pytest.raises(SystemExit):
        bench_main(["--help"])


def test_ours_without_lrn_is_a_diagnostic_that_never_counts_as_ours():
    from alexnet.bench import variants

    model = variants.build("ours_nolrn", num_classes=10)
    assert isinstance(model.lrn, torch.nn.Identity) and isinstance(variants.build("ours", 10).lrn, LocalResponseNorm)
    rows = [dict(model="torchvision", mode="fp32", images_per_s=100.0), dict(model="ours", mode="fp32", images_per_s=90.0),
            dict(model="ours_nolrn", mode="fp32", images_per_s=120.0)]
    s = bench.model_summary(rows, {"ours": 4e9, "torchvision": 4e9, "ours_nolrn": 4e9}, {"fp32": 1e12})
    assert s["per_mode"] == {"fp32": 0.9} and s["ours_best_model"] == "ours"
