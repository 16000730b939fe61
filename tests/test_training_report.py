"""What the Section 5 and 6 chapters call (alexnet.book.training): tables beside the paper's, words
computed from the numbers, the preset's differences, the GPU estimate, and the chapters' parameters."""
import json

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from alexnet.book import training as T  # noqa: E402
from alexnet.errors import AlexNetError  # noqa: E402
from alexnet.profiles import resolve  # noqa: E402


def fake_evaluation(centre=(0.30, 0.05), ten=(0.25, 0.04), best_same=False):
    data = {"images": 3925, "classes": 10}
    head = {"checkpoint": "last.pt", "epoch": 30, "note": "the headline", "data": data,
            "centre": {"top1_error": centre[0], "top5_error": centre[1]},
            "ten_crop": {"top1_error": ten[0], "top5_error": ten[1]}}
    best = ({"checkpoint": "best.pt", "epoch": 30, "note": "chosen on these same images", "same_as_last": True}
            if best_same else {**head, "checkpoint": "best.pt", "epoch": 27, "note": "chosen on these same images",
                               "same_as_last": False})
    return {"headline": head, "best": best}


DATA = "data: classes, train / test images"


def test_tables_one_and_two_beside_ours():
    t1 = T.table_with_ours(1, None, None)
    assert list(t1.columns[:3]) == ["model", "top-1", "top-5"]  # the errors first: a phone shows them
    assert list(t1["top-1"]) == [47.1, 45.7, 39.0, 37.5] and list(t1["patches"]) == ["-", "-", "1", "10"]
    assert set(t1[DATA]) == {"ILSVRC-2010 test: 1,000, 1.2 M / 150 k"}
    t2 = T.table_with_ours(2, fake_evaluation(), {"train_images": 9469})
    ours = t2[t2.model == "ours"]
    assert list(ours["patches"]) == ["1", "10"] and list(ours["top-1"]) == pytest.approx([30.0, 25.0])
    assert list(ours["top-5"]) == pytest.approx([5.0, 4.0])
    assert set(ours[DATA]) == {"Imagenette val: 10, 9,469 / 3,925"}
    test_rows = t2[t2[DATA].str.startswith("ILSVRC-2012 test")]
    assert set(test_rows[DATA]) == {"ILSVRC-2012 test: 1,000, 1.2 M / 100 k"}  # ILSVRC-2012's test set: 100,000
    assert t2[(t2.model == "7 CNNs*") & t2[DATA].str.startswith("ILSVRC-2012 test")]["top-5"].item() == 15.3
    assert t2.notna().sum()["top-1"] == 4 + 2  # the test-set rows of Table 2 report top-5 only
    with pytest.raises(AlexNetError, match="table must be 1 or 2"):
        T.table_with_ours(3, None, None)


def test_table_fits_the_page():
    from alexnet.book.tooling.checks import table_widths
    from alexnet.book.page import PAGE_PX

    for n in (1, 2):
        html = T.table_with_ours(n, fake_evaluation(), {"train_images": 9469}).style.hide(axis="index").to_html()
        assert max(table_widths(html)) <= PAGE_PX


def test_glued_values_follow_the_numbers():
    v = T.headline_values(fake_evaluation())
    assert (v["centre_top1"], v["ten_top1"], v["ten_gain"], v["epoch"]) == ("30.0%", "25.0%", "5.0", 30)
    assert T.headline_values(fake_evaluation(centre=(0.2, 0.1), ten=(0.22, 0.1)))["ten_gain"] == "-2.0"
    assert (v["best_epoch"], v["best_ten_top1"]) == (27, "25.0%")
    assert set(T.headline_values(None).values()) == {"n/a"} and set(T.headline_values(None)) == set(v)
    chance = T.chance_values(10)
    assert (chance["guess_top1"], chance["guess_top5"]) == ("90.0%", "50.0%")
    assert (chance["guess_top1_imagenet"], chance["guess_top5_imagenet"]) == ("99.9%", "99.5%")


def test_run_values_say_when_and_why_the_rate_was_divided():
    from alexnet.export_run import load_results

    run = load_results(T.ROOT / "results" / "imagenette")
    if run is None:
        pytest.skip("no committed Imagenette run")
    v = T.run_values(run)
    drops = T.lr_drops(run.metrics)
    assert v["lr_drops"] == len(drops) == run.summary["lr_reductions"] and v["epochs"] == len(run.metrics)
    errors = [r["val_top1_error"] for r in run.metrics]
    assert v["last_best_epoch"] == run.metrics[errors.index(min(errors))]["epoch"]
    assert v["epochs_after_best"] < v["patience"]  # why the rule did not divide again before the end
    assert set(T.run_values(None).values()) == {"n/a"}
    curves = T.curve_values(run.metrics)
    assert curves["drop_epochs"] == v["drop_epochs"] and curves["epochs"] == v["epochs"]


def test_the_rerun_evaluates_the_last_epoch(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "best.pt").write_bytes(b"")
    (tmp_path / "a" / "last.pt").write_bytes(b"")
    assert T.last_checkpoints([tmp_path / "a"]) == [tmp_path / "a" / "last.pt"]
    assert T.last_checkpoints([tmp_path / "a" / "best.pt"]) == [tmp_path / "a" / "best.pt"]  # a file named stays
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "best.pt").write_bytes(b"")
    with pytest.raises(AlexNetError, match="holds no last.pt"):
        T.last_checkpoints([tmp_path / "b"])


def test_lr_drops_and_curves():
    records = [{"epoch": e, "lr": lr, "next_lr": nxt, "lr_reduced": nxt < lr, "train_loss": 2.0, "val_loss": 2.1,
                "train_top1_error": 0.5, "val_top1_error": 0.5, "train_top5_error": 0.1, "val_top5_error": 0.1}
               for e, lr, nxt in ((1, 0.01, 0.01), (2, 0.01, 0.001), (3, 0.001, 0.001), (4, 0.001, 0.0001))]
    assert T.lr_drops(records) == [2, 4]
    fig = T.plot_training(records)
    assert len(fig.axes) == 4 and fig.get_figwidth() == pytest.approx(7.8)
    with pytest.raises(FileNotFoundError):
        T.plot_training("no/such/run")


def test_preset_is_shown_against_the_paper():
    table = T.preset_table("imagenette")
    changed = set(table[table.changed == "yes"].setting)
    assert "epochs" in changed and "lr" not in changed and "batch_size" not in changed
    paper = table.set_index("setting")["the paper"]
    assert paper["lr"] == "0.01 (5)" and paper["epochs"] == "about 90 (5)"
    # only what the paper says: settings it does not give are "not given", never a default of the code
    assert paper["patience"] == paper["checkpoint_every"] == paper["seed"] == "not given"
    assert "patience" in changed
    reasons = dict(T.preset_differences("imagenette"))
    assert changed - set(reasons) == set()  # every change is explained or said to be layout only
    assert all(why for why in reasons.values())


def test_gpu_estimate_from_bench_files(tmp_path):
    assert T.gpu_time_estimate(tmp_path) == {"flops_per_image": None, "images": 108_000_000}
    rows = [{"model": "ours", "mode": "fp32", "images_per_s": 20.0, "flops_per_image": 4e9}]
    (tmp_path / "cpu.json").write_text(json.dumps({"machine": {"gpu": None}, "sections": {"model": {"rows": rows}}}))
    gpu_rows = [{"model": "ours", "mode": "bf16", "images_per_s": 6000.0, "flops_per_image": 4e9},
                {"model": "torchvision", "mode": "bf16", "images_per_s": 9000.0}]
    (tmp_path / "h200.json").write_text(json.dumps({"machine": {"gpu": "NVIDIA H200"},
                                                    "sections": {"model": {"rows": gpu_rows}}}))
    est = T.gpu_time_estimate(tmp_path, sustained_tflops=(100,))
    assert est["total_flops"] == pytest.approx(4e9 * 108e6)
    assert est["paper_tflops"] == pytest.approx([4e9 * 108e6 / (6 * 86400) / 1e12, 4e9 * 108e6 / (5 * 86400) / 1e12])
    assert est["assumed"][0]["hours"] == pytest.approx(4e9 * 108e6 / 100e12 / 3600)
    (measured,) = est["measured"]
    assert measured["gpu"] == "NVIDIA H200" and measured["hours"] == pytest.approx(108e6 / 6000 / 3600)


def test_chapter_parameters_name_bad_values():
    assert resolve(T.RESULTS_PROFILES, "ci", T.RESULTS_CHECKS)["results"] == "results/imagenette"
    with pytest.raises(AlexNetError, match="results"):
        resolve(T.RESULTS_PROFILES, "ci", T.RESULTS_CHECKS, results="")
    with pytest.raises(AlexNetError, match="unknown parameter 'result'"):
        resolve(T.RESULTS_PROFILES, "ci", T.RESULTS_CHECKS, result="x")
    with pytest.raises(AlexNetError, match="unknown parameter 'preset'"):
        resolve(T.TRAINING_PROFILES, "ci", T.TRAINING_CHECKS, preset="x")
    assert T.results_folder("results/imagenette") == T.ROOT / "results" / "imagenette"


@pytest.mark.parametrize("chapter, bad", [("05_training", "epoch"), ("06_results", "result")])
def test_the_chapters_refuse_an_unknown_parameter(tmp_path, chapter, bad):
    from alexnet.book import ROOT, execute_notebook

    with pytest.raises(AlexNetError, match=rf"unknown parameter\(s\) \['{bad}'\]"):
        execute_notebook(ROOT / "notebooks" / f"{chapter}.md", tmp_path / "out.ipynb", {"profile": "ci", bad: 1})


def test_distance_from_paper_rule_separates_paper_sgd_from_torch_sgd():
    import torch

    from alexnet import PaperSGD

    ours = T.distance_from_paper_rule(lambda p: PaperSGD(p, lr=0.01))
    theirs = T.distance_from_paper_rule(lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, weight_decay=5e-4))
    assert len(ours) == 10 and max(ours) < 1e-5
    assert max(theirs[:5]) < 1e-5 and theirs[-1] > 1e-2  # they part only after the rate is divided
