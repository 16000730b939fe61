"""The CIFAR-10 ablations' shared regime (issue 17): the rate chosen on the baseline from a grid, the
length check, one baseline record file for LRN, pooling and PCA lighting, the LRN divisor, and the
"equivalent" verdict."""
import json
import math

import pytest

from alexnet.experiments import run
from alexnet.experiments.common import verdict

SMALL = dict(train_per_class=6, test_per_class=3, seeds=2, widths=[2, 2, 4], batch_size=16, epochs=2.0,
             lr_grid=[0.005, 0.02, 0.08], grid_epochs=1.0, length_check=True)


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    monkeypatch.delenv("ALEXNET_DATA", raising=False)
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    return tmp_path


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.exists() else []


def test_verdict_rule_agrees_disagrees_equivalent_inconclusive():
    assert verdict([0.02, 0.03, 0.025], "c", "w", paper_effect=0.01)["verdict"] == "agrees"
    assert verdict([-0.02, -0.03, -0.025], "c", "w", paper_effect=0.01)["verdict"] == "disagrees"
    eq = verdict([0.001, -0.001, 0.0005, -0.0005], "c", "w", paper_effect=0.01)
    assert eq["verdict"] == "equivalent" and eq["half_width"] < 0.01 and eq["paper_effect"] == 0.01
    assert verdict([0.001, -0.001, 0.0005, -0.0005], "c", "w")["verdict"] == "inconclusive"  # no paper effect
    assert verdict([0.05, -0.05, 0.04], "c", "w", paper_effect=0.01)["verdict"] == "inconclusive"
    lo, hi = eq["interval"]
    assert math.isclose(eq["half_width"], (hi - lo) / 2)


@pytest.mark.slow
def test_the_rate_is_chosen_on_the_shared_baseline_and_every_ablation_reuses_its_runs(no_data):
    out = no_data / "results"
    lrn = run("lrn", "ci", out=out / "lrn" / "ci.json", device="cpu", resume=True, **SMALL)
    shared = _lines(out / "cifar_baseline" / "ci.records.jsonl")
    grid = [e for e in shared if e["key"]["train"]["epochs"] == 1.0]
    assert sorted(e["key"]["train"]["lr"] for e in grid) == [0.005, 0.02, 0.08]
    rate = lrn.findings["schedule"]["rate"]
    finite = [g for g in rate["grid"] if not g["diverged"]]
    assert rate["lr"] == min(finite, key=lambda g: g["test_error"])["lr"]
    assert rate["inside"] == (rate["lr"] == 0.02)
    own = _lines(out / "lrn" / "ci.records.jsonl")
    assert {e["key"]["variant"] for e in own} == {"without_lrn"}
    assert all(e["key"]["train"]["lr"] == rate["lr"] for e in own)  # every variant at the chosen rate
    length = lrn.findings["schedule"]["length_check"]
    assert length["epochs"] == [2.0, 3.0] and math.isclose(length["change"], length["test_error"][1] - length["test_error"][0])
    divisor = lrn.findings["runs"]["with_lrn"][0]["lrn_divisor"]
    assert set(divisor) == {"lrn1", "lrn2"}
    for p1, p50, p99, top in divisor.values():  # k ** beta is the smallest divisor there is
        assert 2 ** 0.75 - 1e-4 <= p1 <= p50 <= p99 <= top
    assert "lrn_divisor" not in lrn.findings["runs"]["without_lrn"][0]
    assert lrn.claim.paper_effect == 0.02 and lrn.claim.half_width is not None
    n_shared = len(shared)
    pool = run("pooling", "ci", out=out / "pooling" / "ci.json", device="cpu", resume=True, **SMALL)
    assert len(_lines(out / "cifar_baseline" / "ci.records.jsonl")) == n_shared  # nothing of the baseline retrained
    assert pool.progress.trained_now == 2 and pool.findings["schedule"] == lrn.findings["schedule"]
    assert [r["test_error"] for r in pool.findings["runs"]["overlapping"]] == \
        [r["test_error"] for r in lrn.findings["runs"]["with_lrn"]]
    _check_book_helpers(lrn)


def _check_book_helpers(lrn):
    from alexnet.book import schedule

    table = schedule.rate_grid_table(lrn)
    assert len(table) == 3 and table["learning rate"].str.contains("chosen").sum() == 1
    values = schedule.schedule_values(lrn)
    assert values["epochs"] == "2" and values["longer_epochs"] == "3" and values["grid_rates"] == "0.005, 0.02, 0.08"
    assert schedule.length_figure(lrn) is not None
    assert set(schedule.divisor_table(lrn)["layer"]) == {"LRN1", "LRN2"}
    assert schedule.schedule_values(None)["epochs"] == "not run" and schedule.divisor_table(None).empty
