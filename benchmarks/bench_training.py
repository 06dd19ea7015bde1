"""Training throughput: single vs batched runs, GFLOP/s against the matmul peak.

Usage: python benchmarks/bench_training.py [lcne bench options, e.g. --iterations 40 --json]
"""
from lcne.experiments.bench import main

if __name__ == "__main__":
    raise SystemExit(main())
