#!/usr/bin/env bash
# LC study of issue 5 (point 2): explicit LC models and uncertainty front ends against the
# paper's integrator and the baselines, Split MNIST and Rotated MNIST, 5 seeds.
#
# Usage: docs/scripts/lc_study.sh [OUT_ROOT [BENCHMARK]]   (default results/lc_study, both)
# Each configuration writes OUT_ROOT/<benchmark>/<name>/<benchmark>.nc. Several copies of
# this script may run at once (one per core): a configuration is claimed by creating
# <name>/.lock, and finished ones are skipped. Then:
#   python docs/scripts/lc_study_report.py OUT_ROOT
set -u
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}  # one thread per run: far faster on a shared CPU
OUT=${1:-results/lc_study}
ONLY=${2:-all}
SEEDS=42,43,44,45,46

run() {  # run BENCH NAME ARGS...
  local bench=$1 name=$2; shift 2
  local dir="$OUT/$bench/$name"
  if [ "$ONLY" != all ] && [ "$ONLY" != "$bench" ]; then return; fi
  if [ -f "$dir/$bench.nc" ]; then return; fi
  mkdir -p "$dir"
  mkdir "$dir/.lock" 2>/dev/null || return  # another worker has it
  echo "$(date +%T) start $bench/$name"
  python -m lcne.experiments.cli run "$bench" --seeds $SEEDS --out "$dir" --no-figure --quiet "$@" \
    > "$dir/log.txt" 2>&1 || echo "FAILED $bench/$name (see $dir/log.txt)"
  rmdir "$dir/.lock"
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
done
# Split MNIST only: the cpp front end with the other controllers, and two controls for the
# size of the gain (the paper's integrator with half its burst scale; a constant gain of
# 1.25, about the LC models' mean gain).
run split-mnist adaptive-cpp    --optimizers ngm --lc adaptive --uncertainty cpp
run split-mnist paper-cpp       --optimizers ngm --uncertainty cpp
run split-mnist paper-eta0.2    --optimizers ngm --eta 0.2
run split-mnist constant-1.25   --optimizers ngm --lc constant --lc-param value=1.25
# Rotated MNIST: the same two controls, sized to the LC models' mean gain there (~1.45)
run rotated-mnist paper-eta0.15   --optimizers ngm --eta 0.15
run rotated-mnist constant-1.45   --optimizers ngm --lc constant --lc-param value=1.45
