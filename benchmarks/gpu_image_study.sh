#!/usr/bin/env bash
# The image part of the fair study (experiments/studies/fair_image.yaml), reduced, on a GPU,
# on random-pixel stand-ins of the real files at their real sizes (benchmarks/fake_image_data.py).
# Reduced: ITER iterations per context (spec default: 400 CIFAR, 800 mini-ImageNet) and the
# two selection seeds for the test phase too. Per benchmark it prints the wall time, so the
# full study's cost can be extrapolated. Usage: benchmarks/gpu_image_study.sh OUTDIR [ITER] [BUDGET_S]
set -u
OUT=${1:?output folder}; ITER=${2:-4}; BUDGET=${3:-120}
DATA=/tmp/lcne_fake_images; DEVICE=${DEVICE:-cuda}
SIZES="--cifar10-per-batch 10000 --cifar10-test 10000 --cifar100-train 500 --cifar100-test 100 --mini-per-class 600"
[ "${SMALL:-0}" = 1 ] && SIZES="--cifar10-per-batch 20 --cifar10-test 40 --cifar100-train 2 --cifar100-test 1 --mini-per-class 102"
mkdir -p "$OUT"; rm -rf /tmp/fi
t0=$(date +%s.%N)
python3 benchmarks/fake_image_data.py "$DATA" $SIZES || exit 1
echo "data written in $(python3 -c "print(round($(date +%s.%N)-$t0,1))") s"
for b in split-cifar10 domain-cifar100 split-miniimagenet; do
    t=$(date +%s.%N)
    timeout "$BUDGET" python3 -c "import sys; from lcne.experiments.cli import main; sys.exit(main(sys.argv[1:]))" \
        sweep experiments/studies/fair_image.yaml --device $DEVICE --no-dask --out "/tmp/fi/$b" \
        --set base.data_dir=$DATA --set base.iterations=$ITER --set "seeds=[42,43]" --set "benchmarks=[$b]" \
        > "$OUT/$b.log" 2>&1
    rc=$?
    n=$(ls /tmp/fi/$b/tuning/batches/*.nc /tmp/fi/$b/batches/*.nc 2>/dev/null | wc -l)
    echo "$b: rc=$rc, $n batch files, wall $(python3 -c "print(round($(date +%s.%N)-$t,1))") s"
done
tar czf "$OUT/fair_image_reduced.tgz" -C /tmp fi
