"""The experiment chapters' display code (alexnet.book.experiments): words computed from results never
contradict them, partial and missing results are said so, tables and figures come from any result."""
import json

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from alexnet.book import experiments as bx  # noqa: E402
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
    r.update(extra)
    return ExperimentResult.from_dict(r)


def test_load_says_none_for_a_missing_result_and_names_a_bad_file(tmp_path):
    assert bx.load("lrn", results_dir=tmp_path) is None
    (tmp_path / "lrn").mkdir()
    (tmp_path / "lrn" / "full.json").write_text("{not json")
    with pytest.raises(AlexNetError, match=r"lrn/full.json: not a result JSON"):
        bx.load("lrn", results_dir=tmp_path)
    (tmp_path / "lrn" / "full.json").write_text(json.dumps({"experiment": "lrn", "progress": {}}))
    with pytest.raises(AlexNetError, match="lrn/full.json: not an experiment result"):
        bx.load("lrn", results_dir=tmp_path)
    (tmp_path / "lrn" / "full.json").write_text(json.dumps(_result("pooling").to_dict()))
    with pytest.raises(AlexNetError, match="a result of experiment 'pooling', not 'lrn'"):
        bx.load("lrn", results_dir=tmp_path)
    with pytest.raises(AlexNetError, match="results_dir .* is not a folder"):
        bx.load("lrn", results_dir=tmp_path / "absent")


def test_committed_words_say_missing_partial_and_complete():
    missing = bx.committed_words("lrn", None)
    assert "no committed result" in missing and "results/lrn/full.json" in missing and "--profile full" in missing
    partial = bx.committed_words("pooling", _result(complete=False, records=3))
    assert "{warning}" in partial and "3 training runs so far; the experiment is not finished" in partial
    done = bx.committed_words("pooling", _result(records=4))
    assert "complete: 4 training runs" in done and "not finished" not in done
    assert "50,000" in done and "15 epochs" in done and "24x24 crops" in done and "CPU Xeon" in done
    assert "0123456789" in done and "2.0 h of training" in done
    elsewhere = _result()
    elsewhere.provenance.command += " --out /tmp/x/pooling.json --data=/data/cifar"
    assert "/tmp/" not in bx.committed_words("pooling", elsewhere)  # no folder of the machine that ran it


def test_interval_words_follow_the_verdict_and_the_interval():
    inconclusive = bx.interval_words(_verdict([0.01, 0.012], [-0.002, 0.024], "inconclusive"), what="x")
    assert "**inconclusive**" in inconclusive and "contains zero" in inconclusive and "agrees" not in inconclusive
    small = bx.interval_words(_verdict([0.003, 0.004], [0.001, 0.005], "inconclusive"), what="x")
    assert "excludes zero but does not clear" in small
    disagrees = bx.interval_words(_verdict([-0.05, -0.04], [-0.1, -0.02], "disagrees"), what="x")
    assert "**disagrees**" in disagrees and "inconclusive" not in disagrees and "-10.00 to -2.00" in disagrees
    agrees = bx.interval_words(_verdict([0.03, 0.02], [0.01, 0.04], "agrees"), what="x", paper=2.0)
    assert "**agrees**" in agrees and "The paper's +2.00 points lies inside the interval" in agrees
    one = bx.interval_words(_verdict([0.02], None, "inconclusive"), what="x")
    assert "one finished seed" in one and "no confidence interval" in one
    assert "nothing yet" in bx.interval_words(_verdict([], None, "inconclusive"), what="x")


def test_resolution_words_compare_the_papers_effect_with_the_interval():
    wide = bx.resolution_words(_verdict([0.01, 0.012], [-0.02, 0.04], "inconclusive"), 0.4, "on ImageNet")
    assert "cannot be told from the noise" in wide and "3.00 points" in wide
    narrow = bx.resolution_words(_verdict([0.01, 0.012], [0.009, 0.013], "agrees"), 1.0, "on ImageNet")
    assert "would show" in narrow


def test_scaling_words_never_call_a_large_difference_close():
    r = _result("dropout", summary={"paper": {"test_error": _stats(0.4650)}},
                scaling={"test_error_paper_without_scaling": _stats(0.7133), "equivalent": False,
                         "difference_paper_minus_inverted": _stats(0.02)})
    text = bx.scaling_words(r)
    assert "46.50%" in text and "71.33%" in text and "costs 24.83 points" in text
    assert "within the seeds' spread" not in text and "different beyond" in text
    near = _result("dropout", summary={"paper": {"test_error": _stats(0.465)}},
                   scaling={"test_error_paper_without_scaling": _stats(0.468), "equivalent": True,
                            "difference_paper_minus_inverted": _stats(0.001)})
    assert "within the seeds' spread" in bx.scaling_words(near)


def test_pca_words_describe_the_first_component_from_its_weights():
    mixed = _result("pca_lighting", eigenvalues=[0.05, 0.003, 0.001],
                    eigenvectors=[[0.69, 0.7, 0.1], [-0.54, 0.1, 0.8], [-0.48, 0.7, 0.6]])
    assert "change of colour more than of brightness" in bx.pca_words(mixed)
    assert "(0.69, -0.54, -0.48)" in bx.pca_words(mixed) and "nearly the same amount" not in bx.pca_words(mixed)
    grey = _result("pca_lighting", eigenvalues=[0.05, 0.003, 0.001],
                   eigenvectors=[[0.57, 0.7, 0.1], [0.58, 0.1, 0.8], [0.58, 0.7, 0.6]])
    assert "nearly the same amount" in bx.pca_words(grey)
    assert list(bx.pca_table(grey)["share"]) == ["92.6%", "5.6%", "1.9%"]


def test_ablation_tables_and_figure_come_from_the_result():
    r = _result()
    table = bx.summary_table(r)
    assert list(table["variant"]) == ["overlapping (z = 3, s = 2)", "non-overlapping (z = 2, s = 2)"]
    assert table.iloc[0]["test error %"] == "30.00\u00a0±\u00a01.00" and (table["seeds"] == 2).all()
    v = bx.verdict_table({"claim": r.claim})
    assert v.iloc[0]["95% interval (points)"] == "-0.20 to +2.40" and v.iloc[0]["verdict"] == "inconclusive"
    fig = bx.ablation_figure(r, (("test_curve", "test"), ("train_curve", "train")))
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 6  # two seeds and a mean per variant
    plt.close(fig)


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


def test_figure1_tables_and_words_of_the_relu_experiment():
    r = _relu()
    fig = bx.figure1(r)
    styles = {line.get_linestyle() for line in fig.axes[0].lines}
    assert {"-", "--", ":"} <= styles and len(fig.axes[0].lines) == 7  # 3 ReLU, 3 tanh, the target
    plt.close(fig)
    plt.close(bx.tuning_figure(r))
    table = bx.tuning_table(r)
    assert list(table["chosen"]) == ["", "yes", "", "", "yes"] and table.iloc[0]["epochs to target"] == "not by 30.00"
    sp = bx.speedup_table(r)
    assert list(sp["speed-up"]) == ["6.00x", "5.17x", "at least 4.29x"]
    words = bx.speedup_words(r)
    assert "mean 5.80 over 3 seeds" in words and "lower bound" in words and "5.00 to 6.60" in words
    assert "**agrees**" in words and "The paper's 6 times lies inside it" in words
    grid = bx.grid_words(r)
    assert "ReLU: 0.001, inside the grid" in grid and "tanh: 0.002, at the edge of the grid" in grid
    assert "so far" in bx.grid_words(_relu(complete=False))
    unreached = _relu()
    unreached.findings["tuning"] = [t for t in unreached.findings["tuning"] if t["activation"] == "relu"] + [
        {**t, "epochs_to_target": None} for t in unreached.findings["tuning"] if t["activation"] == "tanh"]
    assert "tanh: none of the rates tried (0.001, 0.002) reached the target" in bx.grid_words(unreached)
    scale = bx.scale_words(r)
    assert "all 50,000 CIFAR-10 training images" in scale and "N(0, 0.01²)" in scale and "25%" in scale


def test_words_of_a_relu_result_without_runs_yet():
    r = _relu(complete=False)
    r.findings["runs"] = {"relu": [], "tanh": []}
    r.findings["speedup"] = {"mean": None, "std": None, "n": 0, "values": [], "interval": None, "lower_bound": False,
                    "paper": 6.0}
    assert "No seed has finished both runs yet" in bx.speedup_words(r)
    assert bx.speedup_table(r).empty


@pytest.mark.slow
def test_display_code_reads_real_results_of_every_experiment(tmp_path, monkeypatch):
    """Tiny runs of every experiment (generated data) go through the page helpers without error."""
    from alexnet.experiments import run

    monkeypatch.delenv("ALEXNET_DATA", raising=False)
    monkeypatch.setenv("ALEXNET_CACHE", str(tmp_path / "cache"))
    tiny = dict(train_per_class=6, test_per_class=3, seeds=2, widths=[2, 2, 4], batch_size=16)
    rt = run("relu_tanh", "ci", out=tmp_path, device="cpu", **tiny, max_epochs=1, target_train_error=0.85,
             lr_grid_relu=[0.05], lr_grid_tanh=[0.05], max_grid_extensions=0)
    assert bx.load("relu_tanh", "ci", tmp_path).progress.complete is True
    plt.close(bx.figure1(rt)), plt.close(bx.tuning_figure(rt))
    assert len(bx.tuning_table(rt)) == 2 and bx.speedup_words(rt) and bx.grid_words(rt)
    assert "generated" in bx.data_words(rt) and "ci" in bx.rerun_words(rt)
    for name, extra in (("lrn", {}), ("pooling", {}), ("pca_lighting", {}), ("dropout", {"hidden": [4, 4]})):
        r = run(name, "ci", out=tmp_path, device="cpu", **tiny, epochs=1.0, **extra)
        assert len(bx.summary_table(r)) == len(r.findings["runs"]) and bx.scale_words(r)
        plt.close(bx.ablation_figure(r, (("test_curve", "t"), ("train_curve", "r"))))
        assert "**" in bx.interval_words(r.claim, what="x")
    assert "%" in bx.scaling_words(r)
    assert "component" in bx.pca_words(bx.load("pca_lighting", "ci", tmp_path))
    before = sorted(tmp_path.rglob("*"))
    check = bx.rerun("pooling", "ci", device="cpu", **tiny, epochs=1.0)  # into a temporary folder
    assert check.path is None and check.progress.complete and sorted(tmp_path.rglob("*")) == before
    fig, a, b = bx.lrn_figure()
    assert (b[8:11] / a[8:11] < b[24] / a[24]).all()  # the crowded peak is damped more than the lone one
    plt.close(fig)
    assert len(bx.lrn_parameter_table()) == 3
