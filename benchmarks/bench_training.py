"""Training throughput: single vs batched runs, GFLOP/s against the matmul peak; with
``--full-size``, the evaluation modes (schedules, subsets, bf16) on full-size Split
Fashion-MNIST.

Usage: python benchmarks/bench_training.py [lcne bench options, e.g. --iterations 40 --json,
or --full-size --schedules switch:50/10 --subset 1000]
(the same as ``lcne bench [options]``).
"""
import sys

from lcne.experiments.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", *sys.argv[1:]]))
