"""Writes notebooks/07_performance.ipynb (the "Performance" chapter) with nbformat; run from the repository root."""
import nbformat as nbf

md, code = nbf.v4.new_markdown_cell, nbf.v4.new_code_cell
cells = [
md(r"""# Performance: training the faithful network fast

> "Our network takes between five and six days to train on two GTX 580 3GB GPUs." (Section 1)

A reproduction nobody can afford to run is not a reproduction. This chapter measures how fast the faithful network
of Section 3 (two towers, the paper's LRN, dropout, the paper's SGD of Section 5) trains, next to torchvision's
`alexnet` (one tower, no LRN) **in the same run on the same machine**, in each precision mode: fp32, TF32, bf16,
bf16 with channels-last memory, and the last with `torch.compile`. It also reports the model FLOP utilisation (MFU),
the arithmetic floor, the LRN layer alone and the input pipeline.

Nothing on this page is measured by hand: the numbers come from `results/bench/<machine>.json`, written by
`python -m alexnet bench` (`alexnet/bench.py`); the GPU file by `bash scripts/gpu_bench.sh`, one command of about
five minutes. Each table says which machine it comes from.

**The fast path** (`AlexNet(fast=True)`, `alexnet/model.py`) computes exactly the reference function with the same
parameters (`towers[i].convK`, same state dict):

* conv1 and conv3 of both towers run as one convolution over the towers' concatenated kernels; conv2, conv4 and
  conv5, which see only their own tower (Section 3.2), run as one convolution with `groups=2` (or, `fast="split"`,
  one per tower, or, `fast="dense"`, one ordinary convolution with a block-diagonal kernel: the towers' kernels on
  the diagonal and exact zeros elsewhere, more multiplications for better-tuned kernels);
* ReLU and LRN are fused into one kernel each way: Triton on a GPU (`alexnet/lrn_triton.py`, its own backward, the
  window kept inside each tower), and on a CPU the formula with a hand-written backward, each direction compiled
  into one loop; inside a `torch.compile`d model, the plain formula, which the compiler fuses with its neighbours;
* the tests (`tests/test_fast_*.py`) check every fast path against the float64 formula and the reference model,
  outputs and gradients, on the CPU (the Triton kernels through Triton's interpreter) and, where present, on a GPU."""),
code('''# Parameters (papermill). profile: "ci" (reads the committed results, times a tiny LRN here: seconds)
# or "full" (the same, with a larger live LRN timing).
profile = "ci"
results_dir = None  # folder of bench JSON files (default results/bench)
live_lrn = None  # also time the LRN on this machine (tiny)''', metadata={"tags": ["parameters"]}),
code('''from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import torch
from IPython.display import display
from myst_nb import glue

from alexnet import bench, bench_report as R
from alexnet.profiles import resolve

p = resolve(R.PERFORMANCE_PROFILES, profile, {"results_dir": lambda v: isinstance(v, str) and v != ""},
            results_dir=results_dir, live_lrn=live_lrn)
folder = Path(p["results_dir"])
if not folder.is_absolute():
    folder = Path("..") / folder  # notebooks run from notebooks/
results = R.load_results(folder)
gpu = {k: v for k, v in results.items() if v["machine"].get("gpu")}
cpu = {k: v for k, v in results.items() if not v["machine"].get("gpu")}
print(f"{len(results)} results file(s) in {folder}: {sorted(results)}")'''),
md(r"""## Where each number comes from

One row per results file: the machine (the GPU, or the CPU and its cores), the library versions, the load on the
machine when the run started, the date and the commit. The CPU runs of this book were made on two cores shared with
other jobs: the models' repeats are interleaved so that both see the same load, which keeps the *ratios* meaningful,
but absolute CPU rates move with the load, and so does the CPU "peak" that their MFU divides by (it is measured under
the same load). The `threads` column tells one-thread runs from two-thread ones; two files of one machine are two
repeats of the measurement."""),
code('''display(R.machines_table(results).style.hide(axis="index"))'''),
md(r"""## Training speed: ours against torchvision's alexnet

Images per second of one full training step (forward, loss, backward, optimiser step; random inputs already on the
device), the median of three interleaved repeats. `ours` is the fast path with grouped towers, `ours_split` with one
convolution per tower, `ours_dense` with block-diagonal kernels, `reference` the plain two-tower forward of
`AlexNet()`; the ratios take the fastest of the three fast paths. Then the ratios, measured in the same
run, and the model FLOP utilisation: FLOPs per training image counted by `torch.utils.flop_counter`, times the
measured rate, over the matrix-multiply peak measured on the same device in the same precision."""),
code('''for stem, rec in {**gpu, **cpu}.items():
    R.show_machine(stem, rec)
if not gpu:
    print("No GPU results are committed yet: `bash scripts/gpu_bench.sh` writes results/bench/<gpu>.json.")'''),
code('''glue("gpu_best_ratio", R.ratio_text(gpu), display=False)
glue("cpu_best_ratio", R.ratio_text(cpu), display=False)
glue("cpu_fp32_ratio", R.per_mode_text(cpu, "fp32"), display=False)
glue("gpu_compile_ratio", R.per_mode_text(gpu, "bf16_cl_compile"), display=False)'''),
md(r"""Ours at its best against torchvision's alexnet at its best, same run: on the GPU {glue:text}`gpu_best_ratio`
(with both compiled, bf16, channels-last: {glue:text}`gpu_compile_ratio`); on the CPU {glue:text}`cpu_best_ratio`
(fp32: {glue:text}`cpu_fp32_ratio`). The goal of issue 6 is at least 1.0x on a GPU and 0.9x on a CPU."""),
md(r"""## The arithmetic floor

The paper's network costs about as many multiply-adds as torchvision's (its conv1 is wider, its conv2, conv4 and conv5
are grouped): the floor below is the FLOPs of one training image over the measured bf16 matrix-multiply peak (fp32 on
a CPU without bf16 results): the rate at which the machine would train if every FLOP ran at peak. The last column says
how much of it the best measured mode reaches."""),
code('''for stem, rec in {**gpu, **cpu}.items():
    ft = R.floor_table(rec)
    if not ft.empty:
        print(f"== {stem}.json: {R._machine_label(rec)}")
        display(ft.style.format(precision=2, na_rep="-").hide(axis="index"))
first = next(iter({**gpu, **cpu}.values()), None)
model_sec = first["sections"].get("model", {}) if first else {}
ours_flops = model_sec.get("flops_per_image", {}).get("ours", 0) / 1e9
tv_flops = model_sec.get("flops_per_image", {}).get("torchvision", 0) / 1e9
grouped_count = model_sec.get("flop_counter_on_grouped_convs", 0) / 1e9
glue("ours_gflop", ours_flops, display=False)
glue("tv_gflop", tv_flops, display=False)
glue("grouped_gflop", grouped_count, display=False)'''),
md(r"""Counted on the reference (two convolutions per grouped layer), one training image of ours costs
{glue:text}`ours_gflop:.2f` GFLOP, torchvision's {glue:text}`tv_gflop:.2f`. The same counter run on the grouped fast
model reports {glue:text}`grouped_gflop:.2f`: `torch.utils.flop_counter`'s rule for the backward of a grouped
convolution over-counts, which is where the 4.96 GFLOP of the issue's starting table came from. `tests/test_bench.py`
checks our count against the layer arithmetic."""),
md(r"""## LRN alone

ReLU then LRN on conv1's output (two towers of 48 channels), forward and backward. `nn.LocalResponseNorm` (with
alpha 5e-4 over all 96 channels, what a straightforward model writes) is the baseline; `reference` is ours through
`F.local_response_norm` per tower; `formula` the formula as tensor ops; `torch` the formula with a hand-written
backward; `compiled` the same with each direction compiled by `torch.compile` (the CPU's fast path); `triton` the
fused kernels (the GPU's)."""),
code('''for stem, rec in {**gpu, **cpu}.items():
    lt = R.lrn_table(rec)
    if not lt.empty:
        print(f"== {stem}.json: {R._machine_label(rec)}, shape {rec['sections']['lrn']['shape']}")
        display(lt.style.format("{:.3f} ms", na_rep="-"))
if p["live_lrn"]:
    live = bench.bench_lrn(torch.device("cpu"), shape=tuple(p["live_shape"]), reps=2,
                           impls=("nn.LocalResponseNorm", "reference", "torch"), log=lambda s: None)
    live_rows = pd.DataFrame(live["rows"])
    print(f"== this machine, now (the page's build), shape {live['shape']}:")
    display(live_rows.pivot_table(index="impl", columns="layout", values="ms").style.format("{:.2f} ms"))'''),
md(r"""## The input pipeline

The model is only as fast as its input. `alexnet/data/gpu_pipeline.py` does the paper's training transforms (the
random 224 patch and its mirror of Section 4.1, the mean image of Section 2, the PCA colour shift of Section 4.1) for a
whole batch at once on the device, from a pre-resized uint8 store of 256 x 256 images (a memory map, gathered into
pinned memory by a background thread) or from JPEGs decoded in batches (nvJPEG on a GPU). The CPU DataLoader of
`alexnet/data/` is measured beside it. The store's rate is read from the page cache: a full ImageNet store is
251 GB, so an epoch from disk needs about 5 GB/s of disk to feed 25,000 images/s; pre-resized 256-pixel JPEGs
(about 25 GB, which fit in memory) decoded on the GPU are the other way."""),
code('''for stem, rec in {**gpu, **cpu}.items():
    dt = R.data_table(rec)
    if not dt.empty:
        print(f"== {stem}.json: {R._machine_label(rec)}")
        display(dt.style.format({"images/s": "{:,.0f}"}, na_rep="-").hide(axis="index"))'''),
md(r"""## Where we started

For comparison only, the table of issue 6: measured by an earlier session on one H100 80GB with PyTorch 2.11,
batch 256, images/s of a full training step. Not measured by this book's code."""),
code('''display(pd.DataFrame(R.PREVIOUS_H100).T.style.format("{:,.0f}", na_rep="-"))'''),
]

nb = nbf.v4.new_notebook()
nb.cells = cells
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
nbf.write(nb, "notebooks/07_performance.ipynb")
print("wrote notebooks/07_performance.ipynb")
