"""Training throughput: single vs batched runs, GFLOP/s against the matmul peak.

Usage: python benchmarks/bench_training.py [lcne bench options, e.g. --iterations 40 --json]
(the same as ``lcne bench [options]``).
"""
import sys

from lcne.experiments.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["bench", *sys.argv[1:]]))
