"""The Imagenette claims (Sections 3.2, 3.3, 6, 6.1) on generated images: records, pairing, resume, ensembles."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from alexnet.experiments import EXPERIMENTS, run
from alexnet.experiments.imagenette import SHARED, ensemble_errors

ROOT = Path(__file__).resolve().parent.parent
TINY = dict(seeds=2)


@pytest.fixture
def out(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return tmp_path / "results"


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


@pytest.mark.slow
def test_claims_share_the_baseline_pair_by_seed_and_commit_softmax_outputs(out):
    towers = run("towers", "ci", out=out / "towers" / "ci.json", device="cpu", **TINY)
    base = _lines(out / SHARED / "ci.records.jsonl")
    own = _lines(out / "towers" / "ci.records.jsonl")
    assert [e["key"]["variant"] for e in base] == ["baseline", "baseline"]
    assert [e["key"]["variant"] for e in own] == ["one_tower", "one_tower"]
    for b, o in zip(base, own):  # paired: the same seed, the same settings but the switch
        assert b["key"]["seed"] == o["key"]["seed"]
        diff = {k for k in b["key"]["train"] if b["key"]["train"][k] != o["key"]["train"][k]}
        assert diff == {"towers"} and o["key"]["train"]["towers"] == 1
        assert o["record"]["parameters"] < b["record"]["parameters"]
    assert towers.progress.complete and towers.progress.records == 4
    assert towers.data.synthetic and towers.claim.interval is not None
    assert set(towers.findings["ten_crop"]) == {"top1_error", "top5_error"}
    for e in base:  # the softmax outputs of both views are committed beside the records
        z = np.load(out / e["record"]["probs"])
        assert z["centre"].dtype == np.float16 and z["centre"].shape == z["ten_crop"].shape
        assert np.allclose(z["centre"].astype(np.float32).sum(1), 1.0, atol=1e-2)
        assert e["record"]["colour"]["colour_specific_tower"] in (1, 2)
    # the LRN claim trains only its variant; the ensemble and the colour test train nothing
    lrn = run("imagenette_lrn", "ci", out=out / "imagenette_lrn" / "ci.json", device="cpu", resume=True, **TINY)
    assert lrn.progress.trained_now == 2 and len(_lines(out / SHARED / "ci.records.jsonl")) == 2
    ens = run("ensemble", "ci", out=out / "ensemble" / "ci.json", device="cpu", resume=True, **TINY)
    assert ens.progress.trained_now == 0 and ens.findings["members"] == 2
    sizes = ens.findings["ensembles"]["centre"]["sizes"]
    assert [s["k"] for s in sizes] == [1, 2]
    assert sizes[0]["top1_error"] == ens.findings["ensembles"]["centre"]["members"][0]["top1_error"]
    colour = run("tower_colour", "ci", out=out / "tower_colour" / "ci.json", device="cpu", resume=True, **TINY)
    assert colour.progress.trained_now == 0 and len(colour.findings["runs"]) == 2
    assert colour.verdict in ("agrees", "disagrees", "inconclusive")
    _check_book_tables(towers, ens, colour)


@pytest.mark.slow
def test_the_optional_claims_pair_with_the_shared_baseline_and_change_only_their_switch(out):
    """Sections 3.4, 4.1 and 7: one switch each (pooling, PCA lighting, conv4), the baseline trained once."""
    switches = {"imagenette_pooling": ("pool", "non-overlapping"), "imagenette_pca": ("pca_lighting", False),
                "imagenette_depth": ("conv4", False)}
    for n, (name, (setting, value)) in enumerate(switches.items()):
        r = run(name, "ci", out=out / name / "ci.json", device="cpu", resume=True, **TINY)
        assert r.progress.complete and r.progress.trained_now == (4 if n == 0 else 2), name
        base, own = _lines(out / SHARED / "ci.records.jsonl"), _lines(out / name / "ci.records.jsonl")
        assert len(base) == 2 and [e["key"]["seed"] for e in own] == [0, 1]
        for b, o in zip(base, own):
            diff = {k for k in set(b["key"]["train"]) | set(o["key"]["train"])
                    if b["key"]["train"].get(k) != o["key"]["train"].get(k)}
            assert diff == {setting} and o["key"]["train"][setting] == value, name
        assert set(r.findings["summary"]) == set(r.findings["runs"]) and r.claim.paper_effect is not None
    assert "conv4" not in base[0]["key"]["train"]  # a setting added later is left out of the key at its default
    later = run("imagenette_depth", "ci", out=out / "imagenette_depth" / "ci.json", device="cpu", resume=True,
                seeds=1, first_seed=1)  # seeds from first_seed on: seed 1 alone, trained already
    assert later.progress.trained_now == 0 and later.claim.improvement["n"] == 1
    assert [r["seed"] for r in later.findings["runs"]["without_conv4"]] == [1]
    depth = _lines(out / "imagenette_depth" / "ci.records.jsonl")
    assert depth[0]["record"]["parameters"] < base[0]["record"]["parameters"]


def _check_book_tables(towers, ens, colour):
    """The chapters' tables and glued values come from these results (and say "not run" without one)."""
    from alexnet.book import imagenette_claims as ic

    values = ic.claim_values(towers, "towers")
    assert values["towers_status"] == "complete" and values["towers_seeds"] == "2"
    assert values["towers_top1_verdict"] == towers.verdict and values["towers_top1_paper"] == "1.70"
    assert ic.claim_values(None, "towers")["towers_top1_verdict"] == "not run"
    assert list(ic.arms_table(towers, "towers")["seeds"]) == [2, 2]
    assert all("±" in v for v in ic.arms_table(towers, "towers")["top-1 (1 patch)"])
    runs = ic.runs_table(towers, "towers")
    assert len(runs) == 4 and runs["parameters"].nunique() == 2
    # each run names the commit that trained it, the shared baseline's from the baseline's records
    commits = {e["git_commit"][:7] for name in ("towers", SHARED)
               for e in _lines(towers.path.parent.parent / name / "ci.records.jsonl")}
    assert len(commits) == 1 and set(runs["commit"]) == commits and set(ic.colour_table(colour)["commit"]) == commits
    assert list(ic.ensemble_table(ens)["networks averaged"]) == [1, 2]
    base = ic.baseline_values(ens)  # the headline over the baseline seeds, from the ensemble's members
    assert base["base_seeds"] == "2 seeds" and "±" in base["base_centre_top1_error"]
    assert ic.baseline_values(None)["base_ten_crop_top1_error"] == "not run"
    assert list(ic.colour_table(colour)["seed"]) == [0, 1] and ic.colour_table(None).empty


def test_one_seed_shows_no_spread():
    """One seed has no standard deviation: the arms table shows the mean alone, not "± 0.00"."""
    from types import SimpleNamespace

    from alexnet.book import imagenette_claims as ic

    one = {"mean": 0.2, "std": 0.0, "n": 1}
    summary = {k: one for k in ("centre_top1_error", "centre_top5_error", "ten_crop_top1_error",
                                "ten_crop_top5_error")}
    summary["seconds"] = {"mean": 3600.0, "std": 0.0, "n": 1}
    r = SimpleNamespace(findings={"summary": {key: summary for key, _ in ic.ARMS["towers"]}})
    table = ic.arms_table(r, "towers")
    assert list(table["seeds"]) == [1, 1] and not any("±" in v for v in table["top-1 (1 patch)"])


def test_ensemble_errors_average_softmax_outputs(tmp_path):
    labels = np.array([0, 1, 2, 0])
    a = np.array([[.6, .3, .1], [.6, .3, .1], [.1, .2, .7], [.2, .7, .1]], dtype=np.float16)  # 2 of 4 wrong
    b = np.array([[.1, .8, .1], [.1, .8, .1], [.1, .2, .7], [.9, .05, .05]], dtype=np.float16)  # 1 of 4 wrong
    for name, p in (("a", a), ("b", b)):
        np.savez(tmp_path / f"{name}.npz", centre=p, ten_crop=p, labels=labels)
    runs = [{"probs": "a.npz"}, {"probs": "b.npz"}]
    e = ensemble_errors(runs, tmp_path)
    assert [m["top1_error"] for m in e["members"]] == [0.5, 0.25]
    # average: [.35,.55,.1] -> 1 (wrong), [.35,.55,.1] -> 1 (right), 2 (right), [.55,.375,.075] -> 0 (right)
    assert e["all"]["top1_error"] == 0.25 and e["sizes"][0]["top1_error"] == 0.5


def test_every_claim_is_registered_with_its_section():
    names = ("towers", "imagenette_lrn", "ensemble", "tower_colour", "imagenette_pooling", "imagenette_pca",
             "imagenette_depth")
    assert [EXPERIMENTS[n].SECTION for n in names] == ["3.2", "3.3", "6", "6.1", "3.4", "4.1", "7"]
    assert EXPERIMENTS["towers"].PROFILES["full"]["seeds"] >= 3


_KILLABLE = """
import sys
from alexnet.experiments import run
run("towers", "ci", out=sys.argv[1], device="cpu", resume=True, seeds=2)
"""


@pytest.mark.slow
def test_a_killed_queue_resumes_its_run_and_ends_with_the_same_records(out):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    whole = out / "whole" / "towers.json"
    subprocess.run([sys.executable, "-c", _KILLABLE, str(whole)], check=True, env=env, cwd=ROOT, timeout=900)
    cut = out / "cut" / "towers.json"
    shared = cut.with_name(f"{SHARED}.towers.records.jsonl")
    proc = subprocess.Popen([sys.executable, "-c", _KILLABLE, str(cut)], env=env, cwd=ROOT)
    deadline = time.monotonic() + 900
    while not shared.exists() or shared.read_text().count("\n") < 1:  # the first baseline run is recorded
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)  # into the next run
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    subprocess.run([sys.executable, "-c", _KILLABLE, str(cut)], check=True, env=env, cwd=ROOT, timeout=900)

    def errors(path):
        return sorted((e["key"]["variant"], e["key"]["seed"], e["record"]["centre"]["top1_error"], e["record"]["ten_crop"]["top5_error"])
                      for e in _lines(path))
    for name in ("towers.records.jsonl", f"{SHARED}.towers.records.jsonl"):
        assert errors(cut.with_name(name)) == errors(whole.with_name(name)), name
    assert json.loads(cut.read_text())["progress"]["complete"] is True


def test_commits_note_says_which_commit_trained_which_seed(tmp_path):
    """Seeds trained at different commits are named on the page, and a pair split across commits is flagged."""
    import json
    from types import SimpleNamespace

    from alexnet.book import imagenette_claims as ic

    def write(name, entries):
        (tmp_path / name).mkdir()
        (tmp_path / name / "full.records.jsonl").write_text(
            "".join(json.dumps({"key": {"variant": v, "seed": s}, "git_commit": c * 40}) + "\n" for v, s, c in entries))
    write(SHARED, [("baseline", 0, "a"), ("baseline", 1, "a"), ("baseline", 2, "b")])
    write("towers", [("one_tower", 0, "a"), ("one_tower", 1, "a"), ("one_tower", 2, "b")])
    r = SimpleNamespace(path=tmp_path / "towers" / "full.json", findings={"shared_baseline": SHARED})
    note = ic.commits_note(r, "Why they differ.")
    assert note.startswith("The runs come from 2 commits: seeds 0, 1 at commit aaaaaaa; seed 2 at commit bbbbbbb.")
    assert "Why they differ." in note and "one commit" in note and "mix" not in note
    write("imagenette_lrn", [("no_lrn", 0, "a"), ("no_lrn", 2, "a")])
    r.path = tmp_path / "imagenette_lrn" / "full.json"
    assert "The pairs of seed 2 mix commits." in ic.commits_note(r)
    (tmp_path / "one").mkdir()
    (tmp_path / "one" / "full.records.jsonl").write_text(json.dumps({"key": {"variant": "x", "seed": 0}, "git_commit": "c" * 40}))
    assert ic.commits_note(SimpleNamespace(path=tmp_path / "one" / "full.json", findings={})) == ""


def test_paper_where_places_the_papers_effect_against_our_interval():
    from alexnet.book.imagenette_claims import claim_values, paper_where

    assert paper_where(0.014, (-0.028, 0.012)).startswith("above our interval")
    assert paper_where(0.017, (-0.017, 0.031)) == "inside our interval"
    assert paper_where(0.004, (0.01, 0.03)) == "below our interval"
    assert paper_where(None, (0.0, 0.1)) == "no figure in the paper" and paper_where(0.01, None) == "no interval yet"
    assert claim_values(None, "x", {"top1_error": 0.02})["x_top1_paper_where"] == "no interval yet"
