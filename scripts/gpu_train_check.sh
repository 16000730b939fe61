#!/usr/bin/env bash
# GPU checks of the training and evaluation code (issue 4), a few minutes on one GPU:
# the paper's full-size network at 224 px on a generated data set, float32 and the modern options
# (bf16 + channels_last, fp16 with a gradient scaler, torch.compile, both towers placed explicitly),
# deterministic resume on the GPU (1 epoch + resume to 2 == 2 epochs, bit for bit), and evaluation
# with ten patches and an ensemble. NOT a benchmark: the images/s printed include data loading.
# (On CUDA, --deterministic is only as repeatable as the kernels allow: det_compare reports it.)
#   bash scripts/gpu_train_check.sh            # logs and JSON to ${OUT:-/tmp/gpu_train_check}
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] && PY=.venv/bin/python
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
DEST=${OUT:-/tmp/gpu_train_check}
W=/tmp/gpu_train_check_work
mkdir -p "$DEST" "$W"
FAILED=()
step() {  # step NAME SECONDS COMMAND...
  local name=$1 limit=$2; shift 2
  echo "== $name ($(date -u +%T))"
  local t0=$(date +%s)
  if timeout "$limit" "$@" > "$W/$name.log" 2>&1; then echo "   ok in $(( $(date +%s) - t0 )) s"; else echo "   FAILED ($?)"; FAILED+=("$name"); fi
  grep -E "^epoch [0-9]+/[0-9]+:|^done|error|Error|differ|identical" "$W/$name.log" | tail -n 6
  { echo "===== $name"; tail -n 60 "$W/$name.log"; } >> "$DEST/steps.log"
}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
$PY -c "from pathlib import Path; from alexnet.data import make_synthetic; make_synthetic(Path('$W/data'), num_classes=10, train_per_class=64, val_per_class=16, size=256)"
COMMON=(--data "$W/data" --batch-size 128 --workers 8 --quiet --log-every 1)
step fp32 150 $PY -m alexnet train "${COMMON[@]}" --out "$W/fp32" --epochs 2 --checkpoint-every 3
step det_full 150 $PY -m alexnet train "${COMMON[@]}" --out "$W/det2" --epochs 2 --deterministic --checkpoint-every 2
step det_half 100 $PY -m alexnet train "${COMMON[@]}" --out "$W/det1" --epochs 1 --deterministic --checkpoint-every 2
step det_resume 100 $PY -m alexnet train --out "$W/det1" --resume --epochs 2
step det_compare 60 $PY - "$W" <<'PY'
import sys, torch
w = sys.argv[1]
a = torch.load(f"{w}/det2/last.pt", weights_only=True)["model"]
b = torch.load(f"{w}/det1/last.pt", weights_only=True)["model"]
bad = [k for k in a if not torch.equal(a[k], b[k])]
print("resume on the GPU: weights identical" if not bad else f"resume on the GPU: {len(bad)} tensors differ, e.g. {bad[:3]}")
sys.exit(1 if bad else 0)
PY
step bf16_cl 150 $PY -m alexnet train "${COMMON[@]}" --out "$W/bf16" --epochs 1 --amp bf16 --channels-last
step fp16 150 $PY -m alexnet train "${COMMON[@]}" --out "$W/fp16" --epochs 1 --amp fp16
step towers 150 $PY -m alexnet train "${COMMON[@]}" --out "$W/towers" --epochs 1 --tower-devices cuda:0,cuda:0
step evaluate 120 $PY -m alexnet evaluate --data "$W/data" --checkpoint "$W/fp32" --ensemble "$W/bf16/last.pt" --ten-crop --out "$DEST/eval.json" --quiet
step compile 240 $PY -m alexnet train "${COMMON[@]}" --out "$W/compile" --epochs 1 --amp bf16 --channels-last --compile
for r in fp32 det2 det1 bf16 fp16 towers compile; do
  [ -f "$W/$r/metrics.jsonl" ] && { echo "== $r"; cat "$W/$r/metrics.jsonl"; } >> "$DEST/metrics.txt"
done
echo "== failed: ${FAILED[*]:-none}"
