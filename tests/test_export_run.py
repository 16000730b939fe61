"""The exporter (alexnet.export_run): a run folder turned into small committed results (Sections 6, 6.1)."""
import json

import numpy as np
import pytest
import torch

from alexnet.errors import AlexNetError
from alexnet.export_run import FORMAT, RUN_FILES, ExportProvenance, check_run, export_run, load_results, pixel_nearest
from alexnet.provenance import Provenance

G = torch.Generator().manual_seed(0)


def test_pixel_nearest_matches_brute_force_across_chunks():
    gallery = torch.randint(0, 256, (37, 48), generator=G, dtype=torch.uint8)
    queries = torch.cat([gallery[[4, 30]], torch.randint(0, 256, (5, 48), generator=G, dtype=torch.uint8)])
    dist, idx = pixel_nearest(queries, gallery, k=6, query_chunk=3, gallery_chunk=8)
    ref = torch.cdist(queries.double(), gallery.double())
    ref_d, ref_i = ref.topk(6, dim=1, largest=False)
    assert torch.equal(idx, ref_i)
    assert torch.allclose(dist.double(), ref_d, atol=1e-3)
    assert idx[:2, 0].tolist() == [4, 30] and (dist[:2, 0] == 0).all()  # an image is its own nearest
    assert dist.dtype == torch.float32 and idx.dtype == torch.int64


def test_pixel_nearest_refuses_what_it_cannot_do():
    g = torch.zeros(5, 4, dtype=torch.uint8)
    with pytest.raises(ValueError, match="uint8"):
        pixel_nearest(g.float(), g)
    with pytest.raises(ValueError, match="k must be"):
        pixel_nearest(g, g, k=6)
    with pytest.raises(ValueError, match=r"\(Q, D\)"):
        pixel_nearest(g[:, :3], g)


def test_an_unfinished_run_is_named(tmp_path):
    with pytest.raises(AlexNetError, match="does not exist"):
        check_run(tmp_path / "nowhere")
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "metrics.jsonl").write_text("")
    with pytest.raises(AlexNetError, match="has no summary.json .*not finished"):
        check_run(tmp_path)


def test_the_command_names_a_missing_run_in_one_line(tmp_path, capsys):
    from alexnet.cli import main

    assert main(["export-run", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nowhere" in err[0]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A two-epoch run of a slim net on generated data, exported: what the committed results are, in small."""
    from alexnet.data import make_synthetic
    from alexnet.training import TrainConfig, train

    base = tmp_path_factory.mktemp("export")
    data = make_synthetic(base / "data", num_classes=4, train_per_class=8, val_per_class=3, size=40, seed=1)
    run = train(TrainConfig(data=str(data), out=str(base / "run"), resize=72, crop=67, adaptive_pool=True,
                            width_mult=0.125, init="torch", epochs=2, batch_size=8, lr=0.005, workers=0,
                            threads=1, quiet=True, progress=False, checkpoint_every=0, log_every=10**6))
    out = export_run(run, data, base / "results" / "imagenette", batch_size=8, workers=0, permutations=200,
                     predictions=4, neighbour_queries=3, neighbours=6, command="python -m alexnet export-run RUN")
    return run, data, out


@pytest.mark.slow
def test_export_writes_every_file_small_and_without_machine_paths(exported):
    run, data, out = exported
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "metrics.jsonl", "summary.json", "evaluation.json", "conv1_kernels.npz", "colour.json",
            "figure4.json", "neighbours.npz", "figure4_left.png", "figure4_right.png", "provenance.json",
            "README.md"} <= names
    assert not any(n.endswith(".pt") for n in names)  # never a checkpoint
    assert sum(p.stat().st_size for p in out.iterdir()) < 3_000_000
    for p in out.iterdir():
        if p.suffix in (".json", ".jsonl", ".md"):
            text = p.read_text()
            assert str(run) not in text and str(data) not in text and str(out) not in text, p.name
    readme = (out / "README.md").read_text()
    prov = json.loads((out / "provenance.json").read_text())
    assert "python -m alexnet export-run RUN" in readme and prov["training"]["provenance"]["command"] in readme
    assert (out / "metrics.jsonl").read_text() == (run / "metrics.jsonl").read_text()


@pytest.mark.slow
def test_export_evaluates_last_as_headline_and_labels_best(exported):
    run, _, out = exported
    ev = json.loads((out / "evaluation.json").read_text())
    head = ev["headline"]
    assert head["checkpoint"] == "last.pt" and head["epoch"] == 2 and "headline" in head["note"]
    for view in ("centre", "ten_crop"):  # one patch and ten patches, top-1 and top-5
        assert 0 <= head[view]["top5_error"] <= head[view]["top1_error"] <= 1
    assert head["data"]["images"] == 12 and head["data"]["classes"] == 4
    assert len(head["per_class"]) == 4 and sum(r["images"] for r in head["per_class"]) == 12
    # the last epoch's centre-patch error is the one the run itself measured after that epoch
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert head["centre"]["top1_error"] == pytest.approx(metrics[-1]["val_top1_error"], abs=1e-6)
    best = ev["best"]
    assert best["checkpoint"] == "best.pt" and "not a headline" in best["note"]
    summary = json.loads((run / "summary.json").read_text())
    assert best["epoch"] == summary["best"]["epoch"]


@pytest.mark.slow
def test_export_figure3_and_figure4_data(exported):
    _, data, out = exported
    results = load_results(out)
    kernels = results.kernels()
    assert [k.shape for k in kernels] == [(6, 3, 11, 11)] * 2 and kernels[0].dtype == torch.float32
    from alexnet.qualitative import tower_colour_stats

    assert [s["mean"] for s in results.colour["towers"]] == pytest.approx(
        [s.mean for s in tower_colour_stats(kernels)])
    assert 0 < results.colour["pvalue"] <= 1 and results.colour["verdict"]
    f4 = results.figure4
    assert f4["queries"] == 12 and f4["gallery"] == 32 and f4["neighbours"] == 6
    assert len(f4["left"]) == 4 and len(f4["left"][0]["top5"]) == 4  # top-5 capped at the 4 classes
    assert len(f4["right"]) == 3 and len(f4["right"][0]["features"]) == len(f4["right"][0]["pixels"]) == 6
    assert all((data / r["path"]).is_file() for r in f4["right"] for r in [r, *r["features"], *r["pixels"]])
    nb = results.neighbours()
    assert nb["feature_idx"].shape == nb["pixel_idx"].shape == (12, 6)
    assert nb["top5_indices"].shape == (12, 4) and len(nb["train_paths"]) == 32
    same = (nb["train_labels"][nb["pixel_idx"]] == nb["val_labels"][:, None]).mean()
    assert f4["same_class_share"]["pixels"] == pytest.approx(float(same))
    assert 0 <= f4["same_class_share"]["features"] <= 1 and f4["same_class_share"]["chance"] == pytest.approx(0.25)
    assert np.all(np.diff(nb["pixel_dist"], axis=1) >= 0)  # nearest first


@pytest.mark.slow
def test_export_provenance(exported):
    run, _, out = exported
    prov = ExportProvenance.from_dict(json.loads((out / "provenance.json").read_text()))
    summary = json.loads((run / "summary.json").read_text())
    config = json.loads((run / "config.json").read_text())
    t, e = prov.training, prov.export
    # the run's own record (config.json) and the export's have one shape: Provenance
    assert Provenance.from_dict(config["provenance"]).git_commit == t.provenance.git_commit
    assert t.provenance.wall_seconds == pytest.approx(summary["wall_time_s"], abs=0.01)
    assert t.epochs == 2 and t.provenance.device.startswith("CPU ")
    assert e.provenance.wall_seconds > 0 and e.provenance.command == "python -m alexnet export-run RUN"
    assert load_results(out).provenance == prov
    assert set(RUN_FILES) <= {p.name for p in run.iterdir()}


def test_an_older_provenance_layout_is_named(tmp_path):
    with pytest.raises(AlexNetError, match="layout 1"):
        ExportProvenance.from_dict({"format": 1, "training": {}, "export": {}}, "x/provenance.json")
    with pytest.raises(AlexNetError, match="lacks git_commit"):
        ExportProvenance.from_dict({"format": FORMAT, "data": {}, "export": {}, "training": {
            "provenance": {"command": "c", "device": "d", "date": "t"}}}, "x/provenance.json")


def test_load_results_of_a_missing_folder_is_none_and_a_partial_one_is_named(tmp_path):
    assert load_results(tmp_path / "none") is None
    (tmp_path / "partial").mkdir()
    (tmp_path / "partial" / "config.json").write_text("{}")
    with pytest.raises(AlexNetError, match="has no metrics.jsonl"):
        load_results(tmp_path / "partial")


def test_timing_words_say_a_resume_and_the_median_epoch():
    from alexnet.export_run import TrainingRecord, epoch_time_stats, timing_words

    metrics = [{"epoch_time_s": t, "val_time_s": 10.0} for t in (100.0, 1800.0, 140.0, 120.0)]
    stats = epoch_time_stats(metrics)
    assert stats == {"median_epoch_time_s": 140.0, "fastest_epoch_time_s": 110.0, "slowest_epoch_time_s": 1810.0}
    made = Provenance(command="python -m alexnet train --resume", git_commit="abc", device="cpu",
                      date="2026-11-29T13:35:56+00:00", wall_seconds=10925.0)
    t = TrainingRecord(provenance=made, finished="2026-11-29T14:17:06+00:00", epochs=4, steps=292,
                       mean_epoch_time_s=None, mean_images_per_s=None, resumed=True, **stats)
    words = timing_words(t)
    assert "the last command (a resume) started 2026-11-29 13:35 UTC" in words and "3 h 02 min" in words
    assert "a median of 2 min 20 s, between 1 min 50 s and 30 min 10 s" in words
    t.resumed = False
    assert timing_words(t).startswith("started 2026-11-29 13:35 UTC")
