"""The front page's scorecard (alexnet.book.scorecard): every row computed from results/, on the
committed files, on none at all, and on a partial result."""
import json
import shutil

import pytest

from alexnet.book import scorecard as S
from alexnet.provenance import ROOT
from alexnet.experiments import load_result

VERDICTS = {"agrees", "disagrees", "inconclusive"}


def test_one_row_per_claim_of_the_paper_in_its_order():
    table = S.rows()
    assert len(table) == len(S.ORDER) == 16
    sections = [r.section for r in table]
    assert sections[0] == "3.1, Fig. 1" and sections[-1] == "6.1, Fig. 4"
    assert all(r.chapter.startswith("notebooks/") and (ROOT / f"{r.chapter}.md").is_file() for r in table)


def test_committed_experiment_rows_follow_their_files():
    by_source = {r.source: r for r in S.rows()}
    for name in S.CLAIMS:
        row = by_source[f"results/{name}/full.json"]
        r = load_result(name)
        if r is None:
            assert row.verdict == "not run" and row.ours == "n/a" and row.run == "-"
        elif r.progress.complete:
            assert row.verdict == r.verdict
            assert row.seeds == str(r.settings["seeds"]) and f"{r.data.train_images:,} train" in row.data
        else:
            assert row.verdict.startswith("partial: ") and row.verdict not in VERDICTS


def test_imagenette_rows_read_the_exported_run():
    folder = ROOT / "results" / "imagenette"
    if not (folder / "evaluation.json").exists():
        pytest.skip("no committed Imagenette run")
    head = json.loads((folder / "evaluation.json").read_text())["headline"]
    rows = S.imagenette_rows(folder)
    ten = rows["ten_patches"]
    assert f"{100 * head['centre']['top1_error']:.1f}%" in ten.ours
    assert f"{100 * head['ten_crop']['top1_error']:.1f}%" in ten.ours
    assert ten.verdict not in VERDICTS  # no per-image pairing is committed, so no verdict is claimed
    assert rows["single_net"].verdict.startswith("not comparable")
    colour = json.loads((folder / "colour.json").read_text())
    assert rows["colour"].verdict == ("agrees" if colour["pvalue"] < 0.01 else "inconclusive")
    assert f"p = {colour['pvalue']:.3f}" in rows["colour"].ours
    assert "Imagenette" in rows["figure4"].data and rows["figure4"].seeds == "1"


def test_no_committed_results_say_not_run_everywhere(tmp_path):
    table = S.rows(tmp_path)
    assert len(table) == len(S.ORDER)
    assert {r.verdict for r in table} == {"not run"}
    assert {r.ours for r in table} == {"n/a"}
    assert S.counts(table)["not run"] == len(table)


def _committed(name: str):
    """A committed result file of experiment ``name`` (or its superseded record) to build test files from."""
    for path in (ROOT / "results" / name / "full.json",
                 ROOT / "results" / "superseded" / "standardised-15-epochs" / name / "full.json"):
        if path.exists():
            return path
    pytest.skip(f"no committed {name} result")


def test_a_partial_result_is_shown_as_partial_never_as_a_verdict(tmp_path):
    src = _committed("lrn")
    values = json.loads(src.read_text())
    values["progress"]["complete"] = False
    values["progress"]["records"] = 3
    values["settings"]["seeds"] = 5
    (tmp_path / "results" / "lrn").mkdir(parents=True)
    (tmp_path / "results" / "lrn" / "full.json").write_text(json.dumps(values))
    row = {r.source: r for r in S.rows(tmp_path)}["results/lrn/full.json"]
    n = values["improvement"]["n"]
    assert row.verdict == f"partial: {n} of 5 seeds"  # the paired seeds finished, of those asked for
    assert S.counts([row])["partial"] == 1


def test_a_result_still_to_come_is_read_when_it_appears(tmp_path):
    src = _committed("pooling")
    values = json.loads(src.read_text())
    values["experiment"] = "imagenette_depth"
    (tmp_path / "results" / "imagenette_depth").mkdir(parents=True)
    (tmp_path / "results" / "imagenette_depth" / "full.json").write_text(json.dumps(values))
    shutil.copytree(ROOT / "results" / "imagenette", tmp_path / "results" / "imagenette")
    row = {r.source: r for r in S.rows(tmp_path)}["results/imagenette_depth/full.json"]
    assert row.claim == "depth matters"
    if values["progress"]["complete"]:
        assert row.verdict == values["verdict"]
    else:  # a partial result is shown as such, never with its provisional verdict
        assert row.verdict.startswith("partial: ") and values["verdict"] not in row.verdict
    assert f"{100 * values['improvement']['mean']:+.2f} points" in row.ours


def test_numbers_and_table():
    lo, hi = S.binomial_interval(0.2, 4000)
    assert 0.187 < lo < 0.2 < hi < 0.213
    assert S.short_device("CPU Intel(R) Xeon(R) Processor (2 cores), 1 thread(s) (torch 2.14.1)") == "2-core CPU"
    assert S.short_device("NVIDIA H200 (CUDA 13.0, 139 GiB)") == "NVIDIA H200 GPU"
    table = S.rows()
    text = S.markdown_table(table)
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert len(lines) == len(table) + 2 and all(line.count(" | ") == 4 for line in lines[2:])
    assert text.startswith("```{container} scorecard")
    assert "{doc}`3.3 <../notebooks/03_3_lrn>`" in text
    row = S.Row("a | b", "1", "p")
    assert "a \\| b" in S.markdown_table([row])


def test_thumbnails_are_drawn_from_committed_files_or_say_not_run(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figures = S.thumbnails(tmp_path)
    assert set(figures) == {"thumb-figure1", "thumb-kernels", "thumb-figure4"}
    for fig in figures.values():
        assert any("not run" in t.get_text() for t in fig.findobj(matplotlib.text.Text))
        plt.close(fig)
    for fig in S.thumbnails().values():
        plt.close(fig)


def test_a_rows_data_cell_names_the_set_and_counts_its_images_once():
    r = load_result("towers", "full")
    if r is None:
        pytest.skip("no committed towers result")
    cell = S.experiment_row("towers", r).data
    assert cell.count(f"{r.data.train_images:,}") == 1 and cell.startswith("Imagenette")
