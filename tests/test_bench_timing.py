"""The shared-machine timing of the benchmarks: interleaving, medians, spread, the parts of a step,
and the loop and CIFAR-10 benchmarks run tiny (never timed in tests)."""
import pytest
import torch

from alexnet.bench import profile, timing


def test_interleaved_times_alternates_the_order_and_skips_the_warm_up():
    calls = []
    steppers = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    times = timing.interleaved_times(steppers, rounds=3, warmup=1)
    assert calls == ["a", "b", "b", "a", "a", "b", "b", "a"]
    assert [len(v) for v in times.values()] == [3, 3]


def test_a_failing_stepper_is_dropped_and_reported():
    errors = {}

    def boom():
        raise RuntimeError("no")

    times = timing.interleaved_times({"ok": lambda: None, "bad": boom}, rounds=2, warmup=0,
                                     on_error=lambda n, e: errors.setdefault(n, str(e)))
    assert errors == {"bad": "no"} and times["bad"] == [] and len(times["ok"]) == 2


def test_spread_ratio_and_rate_row():
    s = timing.spread([1.0, 2.0, 3.0, 4.0, 5.0])
    assert s["median"] == 3.0 and s["q1"] == 2.0 and s["q3"] == 4.0 and s["iqr_rel"] == pytest.approx(2 / 3)
    assert timing.ratio_of_rounds([2.0, 4.0, 6.0], [1.0, 2.0, 2.0])["median"] == 2.0
    row = timing.rate_row([0.5, 1.0, 2.0], 10)
    assert row["images_per_s"] == 10.0 and row["images_per_s_all"] == [20.0, 10.0, 5.0] and row["rounds"] == 3


def test_profile_sums_a_step_into_its_parts():
    conv = torch.nn.Conv2d(4, 8, 3, groups=2)
    opt = torch.optim.SGD(conv.parameters(), lr=0.1)
    x = torch.randn(2, 4, 9, 9)

    def step():
        opt.zero_grad()
        torch.nn.functional.max_pool2d(torch.relu(conv(x)), 2).sum().backward()
        opt.step()

    res = profile.profile_steps(step, steps=1, warmup=1)
    parts = {p["part"] for p in res["parts"]}
    assert {"own-tower convolutions (grouped)", "ReLU", "max pooling", "optimiser step"} <= parts
    assert "convolutions" not in parts  # the only convolution is grouped
    assert sum(p["percent"] for p in res["parts"]) == pytest.approx(100, abs=0.5)


def test_the_lrn_is_labelled_for_the_profiler():
    from torch.profiler import profile as torch_profile

    from alexnet.layers import LocalResponseNorm

    x = torch.randn(2, 8, 4, 4, requires_grad=True)
    with torch_profile() as prof:
        LocalResponseNorm()(x).sum().backward()
    cats = {profile.category(e) for e in prof.events() if "avg_pool3d" in e.name}
    assert cats == {"LRN"}


@pytest.mark.slow
def test_bench_cifar_and_loop_tiny(tmp_path):
    from alexnet.bench.cifar import bench_cifar
    from alexnet.bench.loop import bench_loop

    res = bench_cifar(torch.device("cpu"), variants=("default", "relu_copy"), batch_size=8, steps=1, rounds=1,
                      warmup=0, log=lambda s: None)
    assert [r["variant"] for r in res["rows"]] == ["default", "relu_copy"] and res["rows"][1]["default_speedup"] > 0
    with pytest.raises(ValueError, match="unknown variants"):
        bench_cifar(torch.device("cpu"), variants=("turbo",))
    loop = bench_loop(torch.device("cpu"), modes=("fp32",), batch_size=2, steps=1, rounds=1, log=lambda s: None)
    row = loop["rows"][0]
    assert row["loop_images_per_s"] > 0 and row["bare_images_per_s"] > 0 and 0 <= row["data_wait_percent"] < 100
