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


def test_tables_one_and_two_beside_ours():
    t1 = T.table_with_ours(1, None, None)
    assert list(t1["top-1"]) == [47.1, 45.7, 39.0, 37.5] and list(t1["patches"]) == ["-", "-", "1", "10"]
    assert set(t1["data set"]) == {"ILSVRC-2010 test"} and set(t1["classes"]) == {"1,000"}
    t2 = T.table_with_ours(2, fake_evaluation(), {"train_images": 9469})
    ours = t2[t2.model == "ours"]
    assert list(ours["patches"]) == ["1", "10"] and list(ours["top-1"]) == pytest.approx([30.0, 25.0])
    assert list(ours["top-5"]) == pytest.approx([5.0, 4.0])
    assert set(ours["data set"]) == {"Imagenette val"} and set(ours["classes"]) == {"10"}
    assert set(ours["train / test"]) == {"9,469 / 3,925"}
    assert t2[(t2.model == "7 CNNs*") & (t2["data set"] == "ILSVRC-2012 test")]["top-5"].item() == 15.3
    assert t2.notna().sum()["top-1"] == 4 + 2  # the test-set rows of Table 2 report top-5 only
    with pytest.raises(AlexNetError, match="table must be 1 or 2"):
        T.table_with_ours(3, None, None)


def test_table_fits_the_page():
    from alexnet.book.checks import table_widths
    from alexnet.book.page import PAGE_PX

    for n in (1, 2):
        html = T.table_with_ours(n, fake_evaluation(), {"train_images": 9469}).style.hide(axis="index").to_html()
        assert max(table_widths(html)) <= PAGE_PX


def test_words_follow_the_numbers():
    lower = T.headline_words(fake_evaluation())
    assert "30.0%" in lower and "25.0%" in lower and "lower the top-1 error by 5.0 points" in lower
    assert "raise the top-1 error by 2.0 points" in T.headline_words(fake_evaluation(centre=(0.2, 0.1), ten=(0.22, 0.1)))
    assert "unchanged" in T.headline_words(fake_evaluation(centre=(0.2, 0.1), ten=(0.2, 0.1)))
    chance = T.chance_words(10)
    assert "90.0% top-1 and 50.0% top-5" in chance and "99.9% and 99.5%" in chance
    best = T.best_words(fake_evaluation())
    assert "epoch 27" in best and "chosen on these same validation images" in best and "25.0%" in best
    assert "same weights" in T.best_words(fake_evaluation(best_same=True))


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
    assert table.set_index("setting").loc["lr", "the paper"] == "0.01"
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
