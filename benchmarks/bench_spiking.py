"""Benchmark: spiking LC population, 1,500 cells and 10 s of biological time.

Reports the wall time of the simulation itself, after code generation and compilation
(target: <= 10 s on 2 cores), per Brian2 code generation target:

* ``cpp_standalone``: the generated C++ program is compiled first (not timed); the time is
  the program's own run time (``device._last_run_time``), single-threaded.
* ``cython``: a short warm-up run compiles (or loads from cache) every code object; the
  timed run builds a fresh network from the cache and simulates.
* ``numpy``: no compilation (for reference; slow).

Usage::

    python benchmarks/bench_spiking.py                       # cpp_standalone and cython
    python benchmarks/bench_spiking.py --targets cython --n-cells 1500 --duration 10

Prints one JSON line per target. The population is the default LC population (gap
junctions on, ~8 partners per cell) under a pulse every 2 s, so bursts are included.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time

__all__ = ["bench"]


def bench(target: str, n_cells: int = 1500, duration_s: float = 10.0, seed: int = 0) -> dict:
    """Simulate ``n_cells`` cells for ``duration_s`` s with ``target``; return the timings."""
    import brian2

    from lcne.spiking import LCPopulation, pulses

    stim = pulses(duration_s * 1000.0, [1000.0 + 2000.0 * k for k in range(int(duration_s // 2))], 100.0)
    build_dir = tempfile.mkdtemp(prefix="lcne_bench_standalone_") if target == "cpp_standalone" else None
    pop = LCPopulation(n_cells, seed=seed, target=target, build_dir=build_dir)
    if target == "cython":  # compile or load every code object once, untimed
        pop.run(pulses(50.0, [10.0], 10.0), warmup_ms=0.0)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        ds = pop.run(stim, warmup_ms=0.0)
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        if build_dir:
            shutil.rmtree(build_dir, ignore_errors=True)
    return {
        "target": target,
        "n_cells": n_cells,
        "biological_s": duration_s,
        "simulation_wall_s": round(float(ds.attrs["simulation_time_s"]), 3),
        "total_wall_s": round(total, 3),
        # CPU time of this process for the timed run: close to the wall time on an idle
        # machine (runtime targets); for cpp_standalone the work happens in a child process
        "process_cpu_s": round(cpu, 3) if target != "cpp_standalone" else None,
        "timed_part": "program run time" if target == "cpp_standalone" else "Network.run (code loaded from cache)",
        "spikes": int(ds.sizes["spike"]),
        "mean_rate_hz": round(float(ds.rate.mean()), 3),
        "gap_synapses": int(ds.attrs["n_gap_synapses"]),
        "dt_ms": float(json.loads(ds.attrs["params"])["dt_ms"]),
        "cores_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "brian2": brian2.__version__,
        "python": platform.python_version(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="cpp_standalone,cython",
                        help="comma list of cpp_standalone, cython, numpy")
    parser.add_argument("--n-cells", type=int, default=1500)
    parser.add_argument("--duration", type=float, default=10.0, help="biological seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for target in [t.strip() for t in args.targets.split(",") if t.strip()]:
        print(json.dumps(bench(target, args.n_cells, args.duration, args.seed)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
