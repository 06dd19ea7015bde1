"""Throughput benchmark of the training engine (not a test: numbers vary by machine).

Reports, measured in one process so the ratios are meaningful on a noisy machine:

* the machine's float32 matmul peak (best of several large square GEMMs),
* iterations per second per run for runs executed one after another and batched,
* achieved GFLOP/s of training plus evaluation and its fraction of the matmul peak.

FLOPs are counted analytically for the MLP: a forward pass costs 2*sum(in*out) per
sample, a training step 3x that (forward + two backward matmuls); evaluation is a
forward pass over the test samples of every seen task.
"""
from __future__ import annotations

import time
from typing import Dict, Sequence

import torch

from lcne.experiments.config import RunConfig
from lcne.experiments.runner import run_experiment
from lcne.experiments.streams import build_stream

__all__ = ["matmul_peak_gflops", "benchmark_training", "format_report"]


def _is_cuda(device) -> bool:
    return str(device).startswith("cuda")


def _sync(device: str) -> None:
    if _is_cuda(device):
        torch.cuda.synchronize(device)


def matmul_peak_gflops(n: int = None, repeats: int = 5, device: str = "cpu") -> float:
    """Best observed float32 GEMM rate (GFLOP/s) for n x n matrices (n: 2048 on CPU,
    8192 on a GPU), with torch's default TF32 setting."""
    n = n or (8192 if _is_cuda(device) else 2048)
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b  # warm-up
    _sync(device)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def _flops_per_iteration(stream, sizes: Sequence[int], batch_size: int, iterations_per_task: int) -> float:
    """Average FLOPs of one training iteration plus its evaluation, for one run."""
    fwd = 2 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    total = 0.0
    for k in range(1, stream.n_tasks + 1):
        total += iterations_per_task * (3 * fwd * batch_size + fwd * stream.test_end(k))
    return total / (iterations_per_task * stream.n_tasks)


def benchmark_training(
    benchmark: str = "split-mnist",
    seeds: Sequence[int] = (42, 43, 44, 45, 46),
    optimizers: Sequence[str] = ("ngm", "sgd", "msgd", "adam"),
    iterations: int = 40,
    device: str = "cpu",
) -> Dict[str, float]:
    """Time the grid ``optimizers x seeds``: each run alone, one after another, then all
    runs as one batched computation (what ``lcne run`` does)."""
    stream = build_stream(benchmark)
    cfg = dict(benchmark=benchmark, iterations=iterations, device=device)
    runs = [(o, s) for o in optimizers for s in seeds]
    # warm-up (allocator, thread pool)
    run_experiment(RunConfig(optimizers=[optimizers[0]], seeds=[seeds[0]], **{**cfg, "iterations": 2}),
                   stream=stream, progress=False)
    _sync(device)
    t = time.perf_counter()
    for o, s in runs:
        run_experiment(RunConfig(optimizers=[o], seeds=[s], **cfg), stream=stream, progress=False)
    _sync(device)
    sequential = time.perf_counter() - t
    t = time.perf_counter()
    run_experiment(RunConfig(optimizers=list(optimizers), seeds=list(seeds), **cfg), stream=stream, progress=False)
    _sync(device)
    batched = time.perf_counter() - t
    peak = matmul_peak_gflops(device=device)
    n_iter = iterations * stream.n_tasks
    flops = _flops_per_iteration(stream, (784, 400, 400, 10), 128, iterations) * n_iter * len(runs)
    return {
        "benchmark": benchmark,
        "device": torch.cuda.get_device_name(device) if _is_cuda(device) else "cpu",
        "runs": len(runs),
        "iterations_per_run": n_iter,
        "threads": torch.get_num_threads(),
        "sequential_s": sequential,
        "batched_s": batched,
        "speedup": sequential / batched,
        "it_per_s_per_run_sequential": n_iter * len(runs) / sequential,
        "it_per_s_per_run_batched": n_iter * len(runs) / batched,
        "gflops_sequential": flops / sequential / 1e9,
        "gflops": flops / batched / 1e9,
        "peak_gflops": peak,
        "fraction_of_peak": flops / batched / 1e9 / peak,
    }


def format_report(r: Dict[str, float]) -> str:
    rows = [
        ("benchmark", r["benchmark"]),
        ("device", r.get("device", "cpu")),
        ("runs x iterations", f"{r['runs']} x {r['iterations_per_run']}"),
        ("torch threads", r["threads"]),
        ("sequential wall (s)", f"{r['sequential_s']:.2f}"),
        ("batched wall (s)", f"{r['batched_s']:.2f}"),
        ("speed-up batched/sequential", f"{r['speedup']:.2f}x"),
        ("it/s per run, sequential", f"{r['it_per_s_per_run_sequential']:.1f}"),
        ("it/s per run, batched", f"{r['it_per_s_per_run_batched']:.1f}"),
        ("GFLOP/s sequential", f"{r['gflops_sequential']:.1f}"),
        ("GFLOP/s batched", f"{r['gflops']:.1f}"),
        ("matmul peak GFLOP/s", f"{r['peak_gflops']:.1f}"),
        ("batched fraction of peak", f"{100 * r['fraction_of_peak']:.0f} %"),
    ]
    return "\n".join(f"{k:<30}{v}" for k, v in rows)

