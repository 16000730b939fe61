"""The experiment chapters' helpers (alexnet.book.results, .ablations, .relu, .pca, .lrn): the values
glued into a chapter's prose follow the result (complete, partial or missing), tables and figures
come from any result, and the folded check shows no interval or verdict."""
import json

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from alexnet.book import ablations, lrn, pca, relu, results  # noqa: E402
from alexnet.errors import AlexNetError  # noqa: E402
from alexnet.experiments import ExperimentResult, Verdict  # noqa: E402


def _verdict_fields(values, interval, word, min_effect=0.006):
    n = len(values)
    mean = sum(values) / n if n else None
    return {"verdict": word, "agrees_with_paper": word == "agrees", "explanation": word, "interval": interval,
            "min_effect": min_effect, "improvement": {"mean": mean, "std": 0.01 if n > 1 else 0.0, "n": n,
                                                      "values": values}}


def _verdict(values, interval, word, min_effect=0.006):
    return Verdict.from_dict(_verdict_fields(values, interval, word, min_effect))


def _stats(mean, std=0.01, n=2):
    return {"mean": mean, "std": std, "n": n, "min": mean, "max": mean, "values": [mean] * n}


def _result(name="pooling", *, complete=True, records=4, synthetic=False, **extra):
    settings = {"train_per_class": None, "test_per_class": None, "seeds": 2, "widths": [32, 32, 64], "epochs": 15.0,
                "lr": 0.01, "weight_decay": 5e-4, "crop": 24, "lr_drop_at": 0.75, "batch_size": 128}
    run = {"seed": 0, "test_error": 0.3, "train_error": 0.2, "gap": 0.1,
           "test_curve": [[1.0, 0.5, 1.0], [2.0, 0.4, 2.0]], "train_curve": [[1.0, 0.6, 1.5], [2.0, 0.5, 1.2]]}
    r = {"experiment": name, "profile": "full", "settings": settings, "paper_section": "3.4", "paper_claim": "claim",
         "setting_note": "full profile",
         "data": {"description": "CIFAR-10", "root": None, "synthetic": synthetic, "train_images": 50000,
                  "test_images": 10000},
         "progress": {"complete": complete, "records": records, "trained_now": 1, "first": "2026-11-29T10:00:00+00:00",
                      "last": "2026-11-29T11:00:00+00:00", "git_commits": ["0123456789abcdef"],
                      "devices": ["CPU Xeon (2 cores), 2 thread(s)"], "train_seconds": 7200.0},
         "provenance": {"device": "CPU Xeon (2 cores), 2 thread(s)", "git_commit": "0123456789abcdef",
                        "date": "2026-11-29T11:00:00+00:00", "wall_seconds": 1800.0,
                        "command": f"python -m alexnet experiment {name} --profile full"},
         "summary": {"overlapping": {k: _stats(v) for k, v in (("test_error", 0.30), ("train_error", 0.2), ("gap", 0.1))},
                     "non_overlapping": {k: _stats(v) for k, v in (("test_error", 0.31), ("train_error", 0.2),
                                                                   ("gap", 0.11))}},
         "runs": {"overlapping": [run, {**run, "seed": 1}], "non_overlapping": [run, {**run, "seed": 1}]},
         **_verdict_fields([0.01, 0.012], [-0.002, 0.024], "inconclusive")}
    if name == "pooling":
        r["overfitting"] = _verdict_fields([0.01, 0.01], [0.005, 0.015], "agrees")
    r.update(extra)
    return ExperimentResult.from_dict(r)


def test_load_says_none_for_a_missing_result_and_names_a_bad_file(tmp_path):
    assert results.load("lrn", results_dir=tmp_path) is None
    (tmp_path / "lrn").mkdir()
    (tmp_path / "lrn" / "full.json").write_text("{not json")
    with pytest.raises(AlexNetError, match=r"lrn/full.json: not a result JSON"):
        results.load("lrn", results_dir=tmp_path)
    (tmp_path / "lrn" / "full.json").write_text(json.dumps({"experiment": "lrn", "progress": {}}))
    with pytest.raises(AlexNetError, match="lrn/full.json: not an experiment result"):
        results.load("lrn", results_dir=tmp_path)
    (tmp_path / "lrn" / "full.json").write_text(json.dumps(_result("pooling").to_dict()))
    with pytest.raises(AlexNetError, match="a result of experiment 'pooling', not 'lrn'"):
        results.load("lrn", results_dir=tmp_path)
    with pytest.raises(AlexNetError, match="results_dir .* is not a folder"):
        results.load("lrn", results_dir=tmp_path / "absent")


def test_status_and_provenance_line_say_what_a_result_is():
    assert results.status(None) == "not run"
    assert results.status(_result()) == "complete"
    assert results.status(_result(complete=False, records=3)) == "partial: 2 of 2 seeds"  # paired seeds, of those asked
    line = results.provenance_line(_result())
    assert "0123456789" in line and "2 h 00 min of training" in line and "4 training runs" in line
    assert line.startswith("*Provenance:") and "/tmp/" not in line


def test_glued_values_follow_the_result():
    done = ablations.result_values("pooling", _result())
    assert done["status"] == "complete" and done["test_verdict"] == "inconclusive"
    assert (done["test_mean"], done["test_lo"], done["test_hi"]) == ("+1.10", "-0.20", "+2.40")
    assert done["test_paper_where"] == "inside" and done["test_half"] == "1.30"  # the paper's 0.4 points
    assert done["err_overlapping"] == "30.00%" and done["epochs"] == "15" and done["crop"] == 24
    partial = ablations.result_values("pooling", _result(complete=False, records=3))
    assert partial["test_verdict"] == "partial: 2 of 2 seeds"  # never a verdict while the experiment runs
    missing = ablations.result_values("pooling", None)
    assert missing["status"] == "not run" and missing["test_verdict"] == "not run"
    assert set(missing) == set(done)  # the same keys in every case, so the page always builds
    assert done["seeds_said"] == "The profile's 5 seeds were changed to 2."  # the fake result's 2
    more = _result(settings={**_result().settings, "seeds": 7})
    assert ablations.result_values("pooling", more)["seeds_said"].endswith("to 7 to narrow the interval.")
    assert missing["seeds_said"] == "It has not been run."
    assert missing["length_said"] == "The length check is not compared with the paper's effect here."
    checked = {"length_check": {"change": -0.0064, "test_error": [0.23, 0.2236], "train_error": [0.18, 0.17]}}
    said = ablations.result_values("pooling", _result(schedule=checked))["length_said"]
    assert said.startswith("That change is larger than the paper's 0.40 points")  # 0.64 points against 0.4
    said = ablations.result_values("lrn", _result("lrn", schedule=checked))["length_said"]
    assert said.startswith("That change is smaller than the paper's 2.00 points")


def test_dropout_values_include_the_test_time_scaling():
    summary = {v: {k: _stats(m) for k, m in (("test_error", e), ("train_error", 0.1), ("gap", e - 0.1))}
               for v, e in (("none", 0.3), ("paper", 0.25), ("inverted", 0.26))}
    scaling = {"difference_paper_minus_inverted": _stats(-0.01), "equivalent": True,
               "test_error_paper_without_scaling": _stats(0.40)}
    r = _result("dropout", summary=summary, scaling=scaling,
                test_error_verdict=_verdict_fields([0.05, 0.04], [0.01, 0.08], "agrees"))
    values = ablations.result_values("dropout", r)
    assert (values["scaled"], values["unscaled"], values["vs_inverted"]) == ("25.00%", "40.00%", "-1.00")
    assert values["equivalent"] == "equivalent" and values["test_verdict"] == "agrees"
    assert ablations.result_values("dropout", None)["equivalent"] == "not run"


def test_ablation_tables_and_figure_come_from_the_result():
    r = _result()
    table = ablations.summary_table(r)
    assert list(table["variant"]) == ["overlapping (z = 3, s = 2)", "non-overlapping (z = 2, s = 2)"]
    assert table.iloc[0]["test error %"] == "30.00\u00a0±\u00a01.00" and (table["seeds"] == 2).all()
    v = ablations.verdict_table({"claim": r.claim})
    assert v.iloc[0]["95% interval (points)"] == "-0.20 to +2.40" and v.iloc[0]["verdict"] == "inconclusive"
    assert ablations.verdict_table({"claim": r.claim}, "partial: 2 of 2 seeds").iloc[0]["verdict"].startswith("partial")
    fig = ablations.ablation_figure(r, (("test_curve", "test"), ("train_curve", "train")))
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 6  # two seeds and a mean per variant
    plt.close(fig)
    empty = ablations.ablation_figure(None)
    assert any("no finished runs" in t.get_text() for t in empty.axes[0].texts)
    plt.close(empty)


def test_judging_code_shows_the_pairing_and_the_interval():
    from alexnet.experiments import pooling

    text = ablations.judging_code(pooling.compute, with_compare=True).data
    for name in ("def compute", "def compare", "def paired", "def verdict", "def t_interval"):
        assert name in text


def _relu(complete=True):
    def run(act, seed, lr, epochs):
        return {"activation": act, "seed": seed, "lr": lr, "epochs_to_target": epochs, "epochs_trained": epochs or 30.0,
                "curve": [[0.25, 0.9, 2.3], [1.0, 0.5, 1.5], [epochs or 30.0, 0.24, 0.7]], "diverged": False}
    runs = {"relu": [run("relu", s, 0.001, 5.0 + s) for s in range(3)],
            "tanh": [run("tanh", s, 0.002, 30.0 + s) for s in range(2)] + [run("tanh", 2, 0.002, None)]}
    tuning = [run("relu", 0, lr, e) for lr, e in ((0.0005, None), (0.001, 5.0), (0.002, None))]
    tuning += [run("tanh", 0, lr, e) for lr, e in ((0.001, None), (0.002, 30.0))]
    r = _result("relu_tanh", complete=complete, records=9, runs=runs, tuning=tuning, tuning_curves=tuning,
                target_train_error=0.25, best_lr={"relu": 0.001, "tanh": 0.002},
                best_lr_inside_grid={"relu": True, "tanh": False},
                speedup={"mean": 5.8, "std": 0.3, "n": 3, "values": [6.0, 5.2, 6.2], "interval": [5.0, 6.6],
                         "lower_bound": True, "paper": 6.0},
                **_verdict_fields([5.0, 4.2, 5.2], [4.0, 5.6], "agrees", 0.05))
    r.settings = {"train_per_class": None, "seeds": 3, "widths": [32, 32, 64], "batch_size": 128, "init": "paper",
                     "input_norm": "centre", "target_train_error": 0.25, "max_epochs": 60}
    return r


def test_figure1_tables_and_values_of_the_relu_experiment():
    r = _relu()
    fig = relu.figure1(r)
    styles = {line.get_linestyle() for line in fig.axes[0].lines}
    assert {"-", "--", ":"} <= styles and len(fig.axes[0].lines) == 7  # 3 ReLU, 3 tanh, the target
    plt.close(fig)
    plt.close(relu.tuning_figure(r))
    plt.close(relu.figure1(None))
    table = relu.tuning_table(r)
    assert list(table["chosen"]) == ["", "yes", "", "", "yes"] and table.iloc[0]["epochs to target"] == "not by 30.00"
    sp = relu.speedup_table(r)
    assert list(sp["speed-up"]) == ["6.00x", "5.17x", "at least 4.29x"]
    v = relu.speedup_values(r)
    assert (v["mean"], v["n"], v["lo"], v["hi"], v["bound"]) == ("5.80", 3, "5.00", "6.60", "at least ")
    assert v["verdict"] == "agrees" and v["paper_where"] == "inside" and v["target"] == "25%"
    assert (v["lr_relu"], v["grid_relu"], v["grid_tanh"]) == ("0.001", "inside", "at the edge of")
    assert v["epochs_relu"] == "5.00-7.00" and v["epochs_tanh"] == "30.00-31.00"
    assert relu.speedup_values(_relu(complete=False))["verdict"].startswith("partial")
    assert relu.speedup_values(None)["verdict"] == "not run"


def test_values_of_a_relu_result_without_runs_yet():
    r = _relu(complete=False)
    r.findings["runs"] = {"relu": [], "tanh": []}
    r.findings["speedup"] = {"mean": None, "std": None, "n": 0, "values": [], "interval": None, "lower_bound": False,
                             "paper": 6.0}
    assert relu.speedup_values(r)["mean"] == "n/a"
    assert relu.speedup_table(r).empty


def test_pca_values_describe_the_first_component_from_its_weights():
    mixed = _result("pca_lighting", eigenvalues=[0.05, 0.003, 0.001],
                    eigenvectors=[[0.69, 0.5, 0.5], [-0.54, 0.6, 0.5], [-0.48, 0.6, 0.7]])
    assert pca.pca_values(mixed) == {"p1_share": "93", "p1_weights": "0.69, -0.54, -0.48", "p1_kind": "colour"}
    grey = _result("pca_lighting", eigenvalues=[0.05, 0.003, 0.001],
                   eigenvectors=[[0.58, 0.5, 0.5], [0.57, 0.6, 0.5], [0.58, 0.6, 0.7]])
    assert pca.pca_values(grey)["p1_kind"] == "brightness"
    assert list(pca.pca_table(grey)["share"]) == ["92.6%", "5.6%", "1.9%"]


@pytest.mark.slow
def test_helpers_read_real_results_of_every_experiment(tmp_path, monkeypatch):
    """Tiny runs of every experiment (generated data) go through the page helpers without error, and the
    folded check shows neither an interval nor a verdict."""
    from alexnet.experiments import run

    monkeypatch.delenv("ALEXNET_DATA", raising=False)
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    tiny = dict(train_per_class=6, test_per_class=3, seeds=2, widths=[2, 2, 4], batch_size=16)
    rt = run("relu_tanh", "ci", out=tmp_path, device="cpu", **tiny, max_epochs=1, target_train_error=0.85,
             lr_grid_relu=[0.05], lr_grid_tanh=[0.05], max_grid_extensions=0)
    assert results.load("relu_tanh", "ci", tmp_path).progress.complete is True
    plt.close(relu.figure1(rt)), plt.close(relu.tuning_figure(rt))
    assert len(relu.tuning_table(rt)) == 2 and relu.speedup_values(rt)["status"] == "complete"
    for name, extra in (("lrn", {}), ("pooling", {}), ("pca_lighting", {}), ("dropout", {"hidden": [4, 4]})):
        r = run(name, "ci", out=tmp_path, device="cpu", **tiny, epochs=1.0, **extra)
        assert len(ablations.summary_table(r)) == len(r.findings["runs"])
        assert ablations.result_values(name, r)["status"] == "complete"
        plt.close(ablations.ablation_figure(r, (("test_curve", "t"), ("train_curve", "r"))))
    assert pca.pca_values(results.load("pca_lighting", "ci", tmp_path))["p1_kind"]
    before = sorted(tmp_path.rglob("*"))
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    check = ablations.check_code_runs("pooling", "ci", None, device="cpu", **tiny, epochs=1.0)
    assert check.path is None and check.progress.complete and sorted(tmp_path.rglob("*")) == before
    text = " ".join(getattr(o, "markdown", "") + (o.data.to_html() if hasattr(o, "data") and hasattr(o.data, "to_html")
                                                   else "") for o in shown)
    assert "interval" not in text and "verdict" not in text and "Generated data" in text
    fig, a, b = lrn.lrn_figure()
    assert (b[8:11] / a[8:11] < b[24] / a[24]).all()  # the crowded peak is damped more than the lone one
    plt.close(fig)
    assert len(lrn.lrn_parameter_table()) == 3
