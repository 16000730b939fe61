#!/usr/bin/env bash
# The Imagenette claims' queue (issue 16), seed by seed, so a stopped queue leaves whole pairs:
# for each seed k the baseline, footnote 2's one-tower net (Section 3.2) and the net without LRN
# (Section 3.3). Every finished run is a record in results/<experiment>/full.records.jsonl; a run
# stopped by a kill resumes from its last.pt (every 25 steps). Rerunning the script continues it.
#
#   git worktree add ../runs-imagenette <commit> && cd ../runs-imagenette
#   setsid nohup scripts/imagenette_queue.sh ../shared/data 3 2 > queue.log 2>&1 &
#
# Arguments: the folder holding imagenette/, the number of seeds, the threads. CLAIMS (default
# "towers imagenette_lrn") names the claims; the optional ones are imagenette_pooling (3.4),
# imagenette_pca (4.1) and imagenette_depth (7).
set -euo pipefail
DATA=${1:?the folder holding imagenette/}
SEEDS=${2:-3}
THREADS=${3:-2}
PY=${PY:-python}
CLAIMS=${CLAIMS:-towers imagenette_lrn}
for n in $(seq 1 "$SEEDS"); do
  for claim in $CLAIMS; do
    echo "== $(date -u +%FT%TZ) $claim, seeds 0..$((n - 1))"
    PYTHONPATH=. "$PY" -m alexnet experiment "$claim" --profile full --seeds "$n" --threads "$THREADS" --data "$DATA"
  done
done
echo "== $(date -u +%FT%TZ) done"
