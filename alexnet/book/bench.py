"""Tables and figures of the "Performance" chapter from the committed ``results/bench/*.json``.

Every number comes from a JSON written by ``python -m alexnet bench`` (or ``scripts/gpu_bench.sh``)
and carries the machine it was measured on; every table and chart names the file it comes from.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..bench.model import CPU_MODES, MODES
from ..provenance import Provenance

__all__ = ["PERFORMANCE_PROFILES", "load_results", "machines_table", "model_table", "ratio_table", "mfu_table",
           "floor_table", "lrn_table", "data_table", "plot_rates", "plot_all_rates", "run_label", "spread_table",
           "profile_table", "cifar_table", "loop_table", "section", "ratio_value", "rate_runs", "step_ms",
           "lrn_price", "lrn_gap_text", "profile_parts", "goal_text"]

#: The notebook's profiles. ``live_lrn``: also time the LRN on this machine, tiny (seconds).
PERFORMANCE_PROFILES = {
    "ci": {"results_dir": "results/bench", "live_lrn": True, "live_shape": [4, 96, 27, 27]},
    "full": {"results_dir": "results/bench", "live_lrn": True, "live_shape": [32, 96, 55, 55]},
}

_MODE_ORDER = list(dict.fromkeys([*MODES, *CPU_MODES]))


def load_results(folder: str | Path) -> dict[str, dict]:
    """``{stem: record}`` for every ``*.json`` in ``folder`` written by the bench command."""
    folder = Path(folder)
    out: dict[str, dict] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(data, dict) and "sections" in data and "machine" in data:
            out[path.stem] = data
    return out


def _provenance(stem: str, rec: dict) -> Provenance:
    return Provenance.from_dict(rec.get("provenance", {}), f"results file {stem}.json")


def _machine_label(rec: dict) -> str:
    m = rec["machine"]
    return m.get("gpu") or f"CPU: {m.get('cpu')} ({m.get('cpu_cores')} cores)"


def run_label(stem: str, rec: dict, short: bool = False) -> str:
    """``cpu.json: CPU: ... (2 cores), 1 thread, torch 2.14.1, 2026-11-28``: which run a table is from
    (``short``: without the torch version and the date, for a chart's title)."""
    m = rec["machine"]
    threads = m.get("torch_threads")
    th = f", {threads} thread{'s' if threads != 1 else ''}" if threads and not m.get("gpu") else ""
    label = f"{stem}.json: {_machine_label(rec)}{th}"
    if short:
        return label
    return f"{label}, torch {str(m.get('torch')).split('+')[0]}, {_provenance(stem, rec).date[:10]}"


def machines_table(results: dict[str, dict]) -> pd.DataFrame:
    """Which machine and software each results file comes from."""
    rows = []
    for stem, rec in results.items():
        m = rec["machine"]
        rows.append({"file": f"{stem}.json", "machine": _machine_label(rec), "torch": m.get("torch"),
                     "torchvision": m.get("torchvision"), "triton": m.get("triton"),
                     "threads": m.get("torch_threads"), "load average (1 min)":
                         (m.get("load_average") or [None])[0], "date": _provenance(stem, rec).date,
                     "commit": _provenance(stem, rec).git_commit})
    return pd.DataFrame(rows)


def _rows(rec: dict) -> list[dict]:
    return [r for r in rec["sections"].get("model", {}).get("rows", []) if "images_per_s" in r]


def model_table(rec: dict, value: str = "images_per_s") -> pd.DataFrame:
    """Models x precision modes of one results file (images/s by default)."""
    rows = _rows(rec)
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows).pivot_table(index="model", columns="mode", values=value, aggfunc="first")
    df = df[[m for m in _MODE_ORDER if m in df.columns]]
    df.columns.name = None  # no empty header row over the index when shown
    return df


def mfu_table(rec: dict) -> pd.DataFrame:
    """Model FLOP utilisation (%) per model and mode: flop_counter FLOPs x rate / measured peak."""
    return model_table(rec, "mfu") * 100


def ratio_table(rec: dict) -> pd.DataFrame:
    """Ours (the faster tower strategy) over torchvision's alexnet, per mode and best against best."""
    summary = rec["sections"].get("model", {}).get("summary", {})
    rows = [{"comparison": f"ours / torchvision, {mode}", "ratio": ratio}
            for mode, ratio in summary.get("per_mode", {}).items()]
    best = summary.get("best", {})
    if "ours_best_over_torchvision_best" in summary:
        o = summary["ours_best_model"]
        rows.append({"comparison": f"ours at its best ({o}, {best[o]['mode']}) / torchvision at its best "
                                   f"({best['torchvision']['mode']})",
                     "ratio": summary["ours_best_over_torchvision_best"]})
    return pd.DataFrame(rows)


def best_ratio(rec: dict) -> float | None:
    return rec["sections"].get("model", {}).get("summary", {}).get("ours_best_over_torchvision_best")


def floor_table(rec: dict) -> pd.DataFrame:
    """The arithmetic floor: FLOPs per training image over the measured peak, and how close we get."""
    model = rec["sections"].get("model", {})
    summary = model.get("summary", {})
    best = summary.get("best", {})
    rows = []
    for name, f in summary.get("arithmetic_floor", {}).items():
        got = best.get(name, {}).get("images_per_s")
        rows.append({"model": name, "GFLOP per training image": f["flops_per_image"] / 1e9,
                     "peak TFLOP/s (measured matmul)": f["peak_tflops"],
                     "floor: max images/s": f["max_images_per_s"],
                     "best measured images/s": got,
                     "share of the floor (%)": 100 * got / f["max_images_per_s"] if got else None})
    return pd.DataFrame(rows)


def lrn_table(rec: dict) -> pd.DataFrame:
    """LRN forward+backward milliseconds: implementations x (dtype, layout); former implementation
    names under their current ones (``torch`` is ``hand_backward``)."""
    from ..layers import DEPRECATED_LRN_IMPLS

    rows = [r for r in rec["sections"].get("lrn", {}).get("rows", []) if "ms" in r]
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows)
    df["impl"] = df["impl"].replace(DEPRECATED_LRN_IMPLS)
    df["setting"] = df["dtype"] + ", " + df["layout"]
    table = df.pivot_table(index="impl", columns="setting", values="ms", aggfunc="first")
    table.columns.name = None
    return table.reset_index().rename(columns={"impl": "implementation"})


def section(results: dict[str, dict], name: str) -> tuple[str, dict] | tuple[None, None]:
    """The newest results file (by its provenance date) holding section ``name``: ``(stem, record)``,
    or ``(None, None)``."""
    holding = [(rec.get("provenance", {}).get("date") or "", stem) for stem, rec in results.items()
               if rec["sections"].get(name)]
    if not holding:
        return None, None
    stem = max(holding)[1]
    return stem, results[stem]


def rate_runs(results: dict[str, dict]) -> dict[str, dict]:
    """The results files that hold training-rate rows (``bench model``)."""
    return {stem: rec for stem, rec in results.items() if not model_table(rec).empty}


def spread_table(rec: dict) -> pd.DataFrame:
    """Per model and mode: median images/s, its quartiles, rounds and the load while it ran."""
    rows = []
    for r in _rows(rec):
        load = (r.get("load_average_before") or [None])[0], (r.get("load_average_after") or [None])[0]
        rows.append({"model": r["model"], "mode": r["mode"], "images/s (median)": r["images_per_s"],
                     "quartiles": f"{r['images_per_s_q1']:.1f}-{r['images_per_s_q3']:.1f}"
                     if "images_per_s_q1" in r else "-",
                     "rounds": r.get("repeats"), "load before, after": "-" if load[0] is None else
                     f"{load[0]:.1f}, {load[1]:.1f}"})
    return pd.DataFrame(rows)


def ratio_value(rec: dict | None, mode: str | None = None) -> float | None:
    """Ours over torchvision in ``mode`` (median of the per-round ratios), or best against best."""
    if rec is None:
        return None
    summary = rec["sections"].get("model", {}).get("summary", {})
    return summary.get("per_mode", {}).get(mode) if mode else summary.get("ours_best_over_torchvision_best")


def step_ms(rec: dict | None, model: str, mode: str) -> float | None:
    """Median milliseconds per training step of ``model`` in ``mode``, or None where not measured."""
    for r in _rows(rec) if rec else []:
        if r["model"] == model and r["mode"] == mode:
            return r["step_ms"]
    return None


def lrn_price(rec: dict | None, mode: str) -> dict | None:
    """What LRN (Section 3.3) adds to a training step: ours against ``ours_nolrn`` (the same network
    without LRN) in the same interleaved rounds, in milliseconds and as a share of our step."""
    ours, bare = step_ms(rec, "ours", mode), step_ms(rec, "ours_nolrn", mode)
    if ours is None or bare is None:
        return None
    tv = step_ms(rec, "torchvision", mode)
    return {"ms": ours - bare, "percent": 100 * (ours - bare) / ours, "ours_ms": ours, "without_ms": bare,
            "torchvision_ms": tv, "without_over_torchvision": tv / bare if tv is not None else None}


def lrn_gap_text(recs: list[dict], modes: tuple[str, ...] = ("fp32", "fp32_cl")) -> str:
    """Whether ours is at least as fast as torchvision's in ``modes`` of every run in ``recs``, and
    whether our network without LRN is (fp32): the chapter's sentence, from the records only."""
    ratios = [x for r in recs for m in modes if (x := ratio_value(r, m)) is not None]
    if not ratios:
        return "These runs are not in the results folder: not run."
    met = min(ratios) >= 1.0
    said = (f"On an idle machine the faithful network is {'at least as fast as' if met else 'slower than'} "
            f"torchvision's alexnet in every mode of every run ({min(ratios):.2f}x to {max(ratios):.2f}x), so the "
            f"goal of at least 1.0x is {'met' if met else 'not met'} on this CPU.")
    without = [p["without_over_torchvision"] for r in recs if (p := lrn_price(r, "fp32"))
               and p["without_over_torchvision"] is not None]
    if not without:
        return said
    said += (f" Without LRN the same network runs at {min(without):.2f}x to {max(without):.2f}x torchvision's fp32 "
             "rate, so ")
    if min(without) >= 0.98:
        return said + ("the gap is LRN (its passes over conv1's and conv2's outputs, forward and backward), not the "
                       "grouped convolutions, the wider layers or the paper's SGD.")
    return said + "LRN is not the whole gap."


def goal_text(recs: list[dict], modes: tuple[str, ...] = ("fp32", "bf16_cl")) -> str:
    """Mode by mode, and best against best, whether ours is at least as fast as torchvision's in every
    run of ``recs`` (the goal of at least 1.0x): the chapter's sentence, from the records only."""
    names = {"fp32": "fp32", "fp32_cl": "fp32 with channels-last", "bf16_cl": "bf16 with channels-last"}
    parts, met, missed = [], [], []
    for mode in (*modes, None):
        vals = [x for r in recs if (x := ratio_value(r, mode)) is not None]
        if not vals:
            continue
        name = names.get(mode, mode) if mode else "best mode against best mode"
        span = f"{min(vals):.2f}x" if f"{min(vals):.2f}" == f"{max(vals):.2f}" else f"{min(vals):.2f}x to {max(vals):.2f}x"
        parts.append(f"{name} {span}")
        (met if min(vals) >= 1.0 else missed).append(name)
    if not parts:
        return "These runs are not in the results folder: not run."
    runs = "both runs" if len(recs) == 2 else f"all {len(recs)} runs" if len(recs) > 2 else "the run"
    said = f"Ours over torchvision's alexnet, over {runs}: {'; '.join(parts)}. "
    if not missed:
        return said + "The goal of at least 1.0x is met in every mode of every run on this CPU."
    if not met:
        return said + "The goal of at least 1.0x is not met in any mode on this CPU."
    return said + (f"The goal of at least 1.0x is met in {' and '.join(met)} and not met in {' and '.join(missed)} "
                   "on this CPU.")


def profile_table(rec: dict, mode: str) -> pd.DataFrame:
    """Milliseconds per step and share by part (in :data:`alexnet.bench.profile.CATEGORIES` order),
    one column pair per network, for one mode; CifarNet in its own loop's mode beside them."""
    from ..bench.profile import CATEGORIES

    rows = rec["sections"].get("profile", {}).get("rows", [])
    cols = {}
    for r in rows:
        if r["mode"] == mode or r["network"] == "cifarnet":
            label = r["network"] if r["network"] != "cifarnet" else f"cifarnet ({r['mode']})"
            cols[label] = {p["part"]: p for p in r["parts"]}
            cols[label]["total"] = {"ms": r["step_ms"], "percent": 100.0}
    seen = {p for c in cols.values() for p in c}
    parts = [c for c in CATEGORIES if c in seen] + ["total"]
    table = pd.DataFrame({"part": parts})
    for label, by_part in cols.items():
        table[f"{label} ms"] = [by_part.get(p, {}).get("ms") for p in parts]
        table[f"{label} %"] = [by_part.get(p, {}).get("percent") for p in parts]
    return table


def profile_parts(rec: dict | None, network: str, mode: str) -> dict[str, float]:
    """One profiled step's milliseconds by part (and ``"total"``) for ``network`` in ``mode``; empty
    where the record has no such row."""
    for r in (rec or {}).get("sections", {}).get("profile", {}).get("rows", []):
        if r["network"] == network and r["mode"] == mode:
            return {**{p["part"]: p["ms"] for p in r["parts"]}, "total": r["step_ms"]}
    return {}


def cifar_table(rec: dict) -> pd.DataFrame:
    """The in-memory loop's images/s per variant, with quartiles and how much faster the default is."""
    rows = rec["sections"].get("cifar", {}).get("rows", [])
    return pd.DataFrame([{"variant": r["variant"], "images/s (median)": r["images_per_s"],
                          "quartiles": f"{r['images_per_s_q1']:.0f}-{r['images_per_s_q3']:.0f}",
                          "default / this": r.get("default_speedup")} for r in rows])


def loop_table(rec: dict) -> pd.DataFrame:
    """``train``'s epoch against the bare step, per mode, with the data wait."""
    rows = rec["sections"].get("loop", {}).get("rows", [])
    return pd.DataFrame([{"mode": r["mode"], "train, images/s over the epoch": r["loop_images_per_s"],
                          "bare step, images/s": r["bare_images_per_s"], "train / bare step": r["loop_over_bare"],
                          "data wait (% of the epoch)": r["data_wait_percent"], "rounds": r["rounds"]}
                         for r in rows])


def data_table(rec: dict) -> pd.DataFrame:
    """Input pipeline images/s: the device-side pipeline and the CPU loader."""
    data = rec["sections"].get("data", {})
    rows = []
    for r in data.get("gpu_pipeline", []):
        rows.append({"pipeline": f"{r.get('source')} -> {r.get('device', '?')}",
                     "images/s": r.get("images_per_s"), "batch": r.get("batch_size"), "note": r.get("error", "")})
    loader = data.get("cpu_loader")
    if isinstance(loader, list):
        for r in loader:
            rows.append({"pipeline": f"CPU DataLoader, {r.get('workers')} workers (decode + transforms)",
                         "images/s": r.get("images_per_s"), "batch": r.get("batch_size"), "note": r.get("error", "")})
    elif isinstance(loader, dict):
        rows.append({"pipeline": "CPU DataLoader", "images/s": None, "batch": None, "note": loader.get("error", "")})
    return pd.DataFrame(rows)


def plot_rates(rec: dict, ax=None, title: str | None = None):
    """Bars: training images/s of torchvision's alexnet and ours in each mode of one results file."""
    import matplotlib.pyplot as plt

    table = model_table(rec)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.8, 3.2))
    if table.empty:
        ax.text(0.5, 0.5, "no model rows", ha="center")
        return ax
    table.T.plot.bar(ax=ax, rot=0)
    ax.set_ylabel("training images / s")
    ax.set_xlabel("precision mode")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # a fixed place: "best" is slow
    return ax


def plot_all_rates(results: dict[str, dict]):
    """One bar chart per results file with training measurements, stacked, each titled with its run."""
    import matplotlib.pyplot as plt

    with_rows = {stem: rec for stem, rec in results.items() if not model_table(rec).empty}
    fig, axes = plt.subplots(max(1, len(with_rows)), 1, figsize=(7.8, 3.3 * max(1, len(with_rows))),
                             squeeze=False)
    for ax, (stem, rec) in zip(axes[:, 0], with_rows.items()):
        plot_rates(rec, ax=ax, title=run_label(stem, rec, short=True))
    fig.tight_layout()
    return fig


def show_machine(stem: str, rec: dict) -> None:
    """Display one results file's training tables (rates with their spread, ratios, MFU), each
    captioned with its run; tables without an index column, numbers formatted."""
    from IPython.display import display

    label = run_label(stem, rec)
    table = model_table(rec)
    if table.empty:
        return
    modes = list(table.columns)
    display(table.reset_index().style.format({m: "{:,.1f}" for m in modes}, na_rep="-").hide(axis="index")
            .set_caption(f"Training images / s, median of the rounds ({label})"))
    display(spread_table(rec).style.format({"images/s (median)": "{:,.1f}"}, na_rep="-").hide(axis="index")
            .set_caption(f"Spread and load of each figure ({stem}.json)"))
    display(ratio_table(rec).style.format({"ratio": "{:.2f}x"}).hide(axis="index")
            .set_caption(f"Ours over torchvision's alexnet ({stem}.json)"))
    display(mfu_table(rec).reset_index().style.format({m: "{:.1f}%" for m in modes}, na_rep="-")
            .hide(axis="index").set_caption(f"MFU ({stem}.json)"))


def ratio_text(recs: dict[str, dict]) -> str:
    """Ours at its best over torchvision at its best, from the first file that has it, with its machine."""
    for rec in recs.values():
        r = best_ratio(rec)
        if r is not None:
            return f"{r:.2f}x ({_machine_label(rec)})"
    return "not measured yet"


def per_mode_text(recs: dict[str, dict], mode: str) -> str:
    """Ours over torchvision in one precision mode, from the first file that measured it."""
    for rec in recs.values():
        r = rec["sections"].get("model", {}).get("summary", {}).get("per_mode", {}).get(mode)
        if r is not None:
            return f"{r:.2f}x"
    return "not measured"
