"""The Performance chapter's tables come straight from bench JSON files."""
import json

import pandas as pd

from alexnet.book import bench as R


def _record(gpu=None):
    rows = [dict(model="torchvision", mode="fp32", images_per_s=100.0, mfu=0.10),
            dict(model="ours", mode="fp32", images_per_s=95.0, mfu=0.095),
            dict(model="torchvision", mode="bf16_cl_compile", images_per_s=300.0, mfu=0.2),
            dict(model="ours", mode="bf16_cl_compile", images_per_s=310.0, mfu=0.21),
            dict(model="ours_split", mode="fp32", error="boom")]
    flops = {"ours": 4.1e9, "torchvision": 4.1e9}
    from alexnet.bench.model import model_summary

    return {"machine": {"gpu": gpu, "cpu": "Test CPU", "cpu_cores": 2, "torch": "2.x", "load_average": [1.0, 1, 1]},
            "provenance": {"command": "python -m alexnet bench model", "git_commit": "abc", "device": "Test CPU",
                           "date": "2026-01-01T00:00:00+00:00"},
            "sections": {"model": {"rows": rows, "flops_per_image": flops, "flop_counter_on_grouped_convs": 4.9e9,
                                   "summary": model_summary(rows, flops, {"bf16": 8e14})},
                         "lrn": {"shape": [2, 96, 5, 5], "rows": [
                             dict(impl="triton", dtype="bfloat16", layout="nchw", ms=1.5),
                             dict(impl="nn.LocalResponseNorm", dtype="bfloat16", layout="nchw", ms=6.0)]},
                         "data": {"gpu_pipeline": [dict(source="uint8 store", device="cuda", images_per_s=40000.0,
                                                        batch_size=256)],
                                  "cpu_loader": {"error": "alexnet.bench.data is not available yet"}}}}


def test_tables_from_a_results_folder(tmp_path):
    (tmp_path / "h100.json").write_text(json.dumps(_record("NVIDIA H100 80GB HBM3")))
    (tmp_path / "cpu.json").write_text(json.dumps(_record()))
    (tmp_path / "other.json").write_text(json.dumps({"not": "a bench file"}))
    results = R.load_results(tmp_path)
    assert sorted(results) == ["cpu", "h100"]
    machines = R.machines_table(results)
    assert set(machines["machine"]) == {"NVIDIA H100 80GB HBM3", "CPU: Test CPU (2 cores)"}
    rec = results["h100"]
    table = R.model_table(rec)
    assert list(table.columns) == ["fp32", "bf16_cl_compile"] and table.loc["ours", "fp32"] == 95.0
    assert "ours_split" not in table.index  # failed rows are not numbers
    ratios = R.ratio_table(rec).set_index("comparison")["ratio"]
    assert ratios["ours / torchvision, fp32"] == 0.95
    assert R.best_ratio(rec) == round(310 / 300, 3)
    assert R.mfu_table(rec).loc["ours", "bf16_cl_compile"] == 21.0
    floor = R.floor_table(rec).set_index("model")
    assert floor.loc["ours", "floor: max images/s"] == round(8e14 / 4.1e9, 1)
    assert R.lrn_table(rec).set_index("implementation").loc["triton", "bfloat16, nchw"] == 1.5
    data = R.data_table(rec)
    assert data["images/s"].iloc[0] == 40000.0 and "not available" in data["note"].iloc[1]


def test_empty_sections_give_empty_tables():
    rec = {"machine": {"cpu": "x"}, "sections": {}}
    assert R.model_table(rec).empty and R.lrn_table(rec).empty and R.data_table(rec).empty
    assert R.best_ratio(rec) is None and R.ratio_table(rec).empty


def test_profile_loop_cifar_and_spread_tables():
    rec = {"machine": {"cpu": "x"}, "sections": {
        "profile": {"rows": [
            {"network": "ours", "mode": "fp32", "batch_size": 32, "step_ms": 100.0,
             "parts": [{"part": "LRN", "ms": 10.0, "percent": 10.0}, {"part": "other", "ms": 90.0, "percent": 90.0}]},
            {"network": "ours", "mode": "bf16_cl", "batch_size": 32, "step_ms": 50.0, "parts": []},
            {"network": "cifarnet", "mode": "fp32_cl", "batch_size": 128, "step_ms": 20.0,
             "parts": [{"part": "LRN", "ms": 7.0, "percent": 35.0}]}]},
        "cifar": {"rows": [dict(variant="default", images_per_s=300.0, images_per_s_q1=290.0, images_per_s_q3=310.0),
                           dict(variant="relu_copy", images_per_s=250.0, images_per_s_q1=240.0, images_per_s_q3=260.0,
                                default_speedup=1.2)]},
        "loop": {"rows": [dict(mode="bf16_cl", loop_images_per_s=9.5, bare_images_per_s=10.0, loop_over_bare=0.95,
                               data_wait_percent=0.5, rounds=3)]},
        "model": {"rows": [dict(model="ours", mode="fp32", images_per_s=10.0, images_per_s_q1=9.0,
                                images_per_s_q3=11.0, repeats=20, load_average_before=[1.5, 1, 1],
                                load_average_after=[2.0, 1, 1])]}}}
    prof = R.profile_table(rec, "fp32").set_index("part")
    assert prof.loc["LRN", "ours ms"] == 10.0 and prof.loc["total", "ours %"] == 100
    assert prof.loc["LRN", "cifarnet (fp32_cl) %"] == 35.0 and list(prof.index) == ["LRN", "other", "total"]
    assert not any("bf16_cl" in c for c in prof.columns)
    assert R.cifar_table(rec)["default / this"].tolist()[1] == 1.2
    assert R.loop_table(rec)["train / bare step"].tolist() == [0.95]
    spread = R.spread_table(rec)
    assert spread["quartiles"].tolist() == ["9.0-11.0"] and spread["load before, after"].tolist() == ["1.5, 2.0"]
    assert R.section({"a": rec}, "loop")[0] == "a" and R.section({"a": rec}, "lrn") == (None, None)
    assert R.rate_runs({"a": rec}) == {"a": rec}


def test_lrn_price_is_ours_against_ours_without_lrn_in_the_same_run():
    rec = {"sections": {"model": {"rows": [dict(model="ours", mode="fp32", images_per_s=20.0, step_ms=1600.0),
                                           dict(model="ours_nolrn", mode="fp32", images_per_s=22.0, step_ms=1400.0),
                                           dict(model="torchvision", mode="fp32", images_per_s=21.0, step_ms=1500.0)]}}}
    price = R.lrn_price(rec, "fp32")
    assert price["ms"] == 200.0 and price["percent"] == 12.5 and price["torchvision_ms"] == 1500.0
    assert R.lrn_price(rec, "fp32_cl") is None and R.lrn_price(None, "fp32") is None


def test_lrn_gap_text_says_met_or_not_from_the_records():
    from alexnet.bench.model import model_summary

    def rec(ours_ms):
        rows = [dict(model=m, mode="fp32", images_per_s=32000 / ms, step_ms=ms)
                for m, ms in (("torchvision", 1500.0), ("ours", ours_ms), ("ours_nolrn", 1400.0))]
        return {"sections": {"model": {"rows": rows, "summary": model_summary(rows, {}, {})}}}

    slow = R.lrn_gap_text([rec(1600.0)])
    assert "slower than" in slow and "not met" in slow and "the gap is LRN" in slow and "1.07x to 1.07x" in slow
    assert "is not met" in slow and "is met on" in R.lrn_gap_text([rec(1450.0)])
    assert R.lrn_gap_text([]).endswith("not run.")
    assert R.lrn_price(rec(1600.0), "fp32")["without_over_torchvision"] == 1500.0 / 1400.0


def test_goal_text_mode_by_mode_from_the_records():
    def rec(per_mode, best):
        return {"sections": {"model": {"summary": {"per_mode": per_mode, "ours_best_over_torchvision_best": best}}}}

    mixed = R.goal_text([rec({"fp32": 0.98, "bf16_cl": 1.04}, 1.04), rec({"fp32": 1.00, "bf16_cl": 1.03}, 1.03)])
    assert "fp32 0.98x to 1.00x" in mixed and "bf16 with channels-last 1.03x to 1.04x" in mixed
    assert "met in bf16 with channels-last and best mode against best mode and not met in fp32" in mixed
    assert "over both runs" in mixed
    assert R.goal_text([rec({"fp32": 1.01, "bf16_cl": 1.2}, 1.2)]).endswith("met in every mode of every run on this CPU.")
    assert "not met in any mode" in R.goal_text([rec({"fp32": 0.9, "bf16_cl": 0.8}, 0.9)])
    assert R.goal_text([]).endswith("not run.")
