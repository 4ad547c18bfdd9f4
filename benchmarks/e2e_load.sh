#!/bin/bash
# End-to-end corpus load per embedder implementation (issue 14):
#   bash benchmarks/e2e_load.sh ../shared/datasets/scifact torch onnx onnx-int8
# Each implementation gets a fresh embedded server in a temporary data directory, runs
# `supercore eval retrieval <folder> --mode dense -k 100` and prints the progress bar's final
# line (corpus-load wall time, texts/s), the scores, the wall time and the load average.
# The ONNX files of .supercore/models are copied in first, so no export is timed.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD TOKENIZERS_PARALLELISM=false
S=${SUPERCORE:-.venv/bin/supercore}
DATASET=$(realpath "$1"); shift
for impl in "$@"; do
  dir=$(mktemp -d)
  [ -d .supercore/models ] && cp -r .supercore/models "$dir/models"
  export SUPERCORE_DATA_DIR=$dir SUPERCORE_EMBEDDER=$impl
  echo "=== $impl $(date -u +%H:%M:%S) $(uptime)"
  $S db start >/dev/null && $S db upgrade >/dev/null
  start=$(date +%s)
  $S eval retrieval "$DATASET" --mode dense -k 100 2>&1 | tr '\r' '\n' \
    | grep -E "load corpus.*100%|queries.*100%|nDCG|R@100|RR@10|rror"
  echo "wall $(( $(date +%s) - start )) s; $(uptime)"
  $S db stop >/dev/null
  rm -rf "$dir"
done
