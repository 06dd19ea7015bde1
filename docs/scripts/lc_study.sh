#!/usr/bin/env bash
# LC study of issue 5 (point 2): explicit LC models and uncertainty front ends against the
# paper's integrator and the baselines, Split MNIST and Rotated MNIST, 5 seeds.
# Usage: docs/scripts/lc_study.sh [OUT_ROOT]   (default results/lc_study)
# Each configuration writes OUT_ROOT/<benchmark>/<name>/<benchmark>.nc; then run
#   python docs/scripts/lc_study_report.py OUT_ROOT
set -u
OUT=${1:-results/lc_study}
SEEDS=42,43,44,45,46
run() {  # run BENCH NAME ARGS...
  local bench=$1 name=$2; shift 2
  local dir="$OUT/$bench/$name"
  if [ -f "$dir/$bench.nc" ]; then echo "skip $bench/$name"; return; fi
  mkdir -p "$dir"
  echo "$(date +%T) start $bench/$name"
  python -m experiments.cli run "$bench" --seeds $SEEDS --out "$dir" --no-figure --quiet "$@" \
    > "$dir/log.txt" 2>&1 || echo "FAILED $bench/$name (see $dir/log.txt)"
  echo "$(date +%T) done  $bench/$name"
}
for bench in split-mnist rotated-mnist; do
  run $bench baselines          --optimizers sgd,msgd,adam
  run $bench paper              --optimizers ngm
  run $bench gilzenrat-phasic   --optimizers ngm --lc gilzenrat-phasic
  run $bench gilzenrat-tonic    --optimizers ngm --lc gilzenrat-tonic
  run $bench adaptive           --optimizers ngm --lc adaptive
  run $bench phasic-cpp         --optimizers ngm --lc gilzenrat-phasic --uncertainty cpp
  run $bench phasic-unexpected  --optimizers ngm --lc gilzenrat-phasic --uncertainty unexpected
  run $bench adaptive-cpp       --optimizers ngm --lc adaptive --uncertainty cpp
  run $bench paper-cpp          --optimizers ngm --uncertainty cpp
done
