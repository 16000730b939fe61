"""Experiment results are typed (alexnet.experiments.ExperimentResult): the committed JSON files read
back into the type and write out unchanged, and a file that is not a result is named."""
import json
from pathlib import Path

import pytest

from alexnet.errors import AlexNetError
from alexnet.experiments import EXPERIMENTS, ExperimentResult, Verdict, read_result

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = sorted((ROOT / "results").glob("*/full.json"))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.parent.name for p in COMMITTED])
def test_committed_results_read_back_and_write_out_unchanged(path):
    r = read_result(path)
    assert r.experiment == path.parent.name and r.experiment in EXPERIMENTS and r.path == path
    assert r.verdict in ("agrees", "disagrees", "equivalent", "inconclusive") and r.claim.agrees_with_paper is (r.verdict == "agrees")
    full_size = 9469 if r.data.description.startswith("Imagenette") else 50000  # Imagenette's or CIFAR-10's training set
    assert r.progress.records >= 1 and r.data.train_images == full_size and not r.data.synthetic
    assert r.provenance.git_commit and r.provenance.device
    # the runs behind it (Table 2's ensemble holds its members' and the ensembles' errors instead)
    assert ("runs" in r.findings or {"ensembles", "members"} <= set(r.findings)) and "verdict" not in r.findings
    assert r.to_dict() == json.loads(path.read_text())


def test_a_file_that_is_not_a_result_is_named(tmp_path):
    bad = tmp_path / "lrn.json"
    bad.write_text(json.dumps({"experiment": "lrn", "profile": "full"}))
    with pytest.raises(AlexNetError, match=r"lrn.json: not an experiment result \(no paper_section"):
        read_result(bad)
    bad.write_text("[1, 2]")
    with pytest.raises(AlexNetError, match="lrn.json: not a result JSON"):
        read_result(bad)


def test_a_further_verdict_is_typed_and_a_missing_one_named():
    v = {"verdict": "agrees", "agrees_with_paper": True, "explanation": "x", "interval": [0.1, 0.2],
         "min_effect": 0.0, "improvement": {"mean": 0.15, "n": 2}}
    assert Verdict.from_dict(v).interval == [0.1, 0.2]
    with pytest.raises(AlexNetError, match="overfitting: not a verdict \\(no interval"):
        Verdict.from_dict({k: x for k, x in v.items() if k != "interval"}, "overfitting")
    pooling = ROOT / "results" / "pooling" / "full.json"
    if pooling.exists():
        r = read_result(pooling)
        assert r.verdict_of("overfitting").verdict in ("agrees", "disagrees", "equivalent", "inconclusive")
        with pytest.raises(AlexNetError, match="no verdict 'speedup'"):
            r.verdict_of("speedup")
        assert isinstance(ExperimentResult.from_dict(json.loads(pooling.read_text())), ExperimentResult)
