#!/usr/bin/env bash
# The full profiles of the book's CIFAR-10 experiments (Sections 3.1, 3.3, 3.4, 4.1, 4.2) in one GPU job.
#
# The whole of CIFAR-10 is decoded once into a uint8 tensor (cached in ~/.cache/alexnet), held in GPU
# memory, and augmented on the GPU. Every finished training run is recorded beside its JSON, so an
# experiment stopped by its `timeout` (a hard limit that keeps the job within $BUDGET seconds, default
# 280; the raw-pixel, 40-epoch, 5-seed ablations need several such jobs) leaves a partial result, and running the script again continues where it stopped; one failing
# experiment does not stop the others.
#
#   ALEXNET_DATA=/data OUT=/out bash scripts/gpu_experiments.sh   # needs /data/cifar10/{train,test}
#   PACK=cifar10.npz OUT=/out bash scripts/gpu_experiments.sh       # CIFAR-10 as ONE packed file, made by
#       python -m alexnet pack-images ../shared/data/cifar10 cifar10.npz   (60 MB: carry it, not 60,000 files)
#   -> /out/<experiment>/full.json and its records (copy /out/* into results/); the LRN, pooling and PCA
#      ablations share one baseline record file, /out/cifar_baseline/full.records.jsonl
#   Without OUT: results/<experiment>/full.json.
#   Smoke test on a CPU (tiny settings, seconds): SMOKE=1 DEVICE=cpu bash scripts/gpu_experiments.sh
# The package needs only torch, torchvision, numpy and Pillow here (tests/test_layout.py), as on a bare GPU image.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
DEVICE=${DEVICE:-cuda}
BUDGET=${BUDGET:-280}
SMOKE=${SMOKE:-0}
START=$(date +%s)
FAILED=()

echo "== gpu_experiments: device=$DEVICE data=${PACK:-${ALEXNET_DATA:-<unset>}} out=${OUT:-results/} budget=${BUDGET}s smoke=$SMOKE"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
$PY -c "import torch, torchvision; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'cuda', torch.cuda.is_available())"

out_for() {  # where experiment $1 writes its JSON
  if [ -n "${OUT:-}" ]; then mkdir -p "$OUT/$1"; echo "$OUT/$1/full.json"; else echo "results/$1/full.json"; fi
}

smoke_args() {  # tiny settings for a CPU smoke test of this script
  [ "$SMOKE" = 1 ] || return 0
  local common="--set train_per_class=20 --set test_per_class=10 --set seeds=2 --set widths=[4,4,8]"
  case "$1" in
    relu_tanh) echo "$common --set max_epochs=1 --set target_train_error=0.85 --set lr_grid_relu=[0.05] --set lr_grid_tanh=[0.05] --set batch_size=32" ;;
    dropout) echo "$common --set epochs=1.0 --set hidden=[16,16] --set batch_size=32 --set lr_grid=[0.01,0.02] --set grid_epochs=0.5" ;;
    *) echo "$common --set epochs=1.0 --set batch_size=32 --set lr_grid=[0.01,0.02] --set grid_epochs=0.5" ;;
  esac
}

run_one() {  # name, hard timeout (s)
  local name=$1 hard=$(( $2 * BUDGET / 280 ))  # sized for BUDGET=280
  local now left
  now=$(date +%s); left=$((BUDGET - (now - START)))
  if [ "$left" -lt 15 ]; then
    echo "== SKIPPED $name: only ${left}s of the ${BUDGET}s budget left"; FAILED+=("$name(skipped)"); return
  fi
  if [ "$hard" -gt "$left" ]; then hard=$left; fi
  local out; out=$(out_for "$name")
  echo "== $name: hard limit ${hard}s -> $out"
  # shellcheck disable=SC2046
  if timeout -k 5 "$hard" $PY -m alexnet experiment "$name" --profile full --device "$DEVICE" --out "$out" \
      ${PACK:+--data "$PACK"} $(smoke_args "$name"); then
    echo "== $name done after $(( $(date +%s) - now ))s"
  else
    echo "== FAILED $name (exit $?) after $(( $(date +%s) - now ))s"; FAILED+=("$name")
  fi
}

# Decode CIFAR-10 once (16 processes) into the tensor cache the experiments read.
[ "$SMOKE" = 1 ] || timeout -k 5 90 $PY -c "
from alexnet.data.tensors import load_cifar10
import time; t = time.time(); d = load_cifar10('${PACK:-}' or None, train_per_class=None, test_per_class=None)
print(d.description, f'({time.time() - t:.1f} s)')" || echo "== data warm-up failed (the experiments will say why)"

run_one relu_tanh 145
run_one lrn 55
run_one pooling 55
run_one dropout 55
run_one pca_lighting 55

echo "== total $(( $(date +%s) - START ))s; failed or skipped: ${FAILED[*]:-none}"
for f in ${OUT:+$OUT/*/full.json} ; do [ -f "$f" ] && $PY -c "
import json, sys; r = json.load(open(sys.argv[1]))
print(f\"{r['experiment']}: {r['verdict']} ({r['provenance']['wall_seconds']} s on {r['provenance']['device']}): {r['explanation']}\")" "$f"; done
[ ${#FAILED[@]} -eq 0 ]
