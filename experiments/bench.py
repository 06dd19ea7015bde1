"""Throughput benchmark of the training engine (not a test: numbers vary by machine).

Reports, measured in one process so the ratios are meaningful on a noisy machine:

* the machine's float32 matmul peak: the best of several trials of a large square GEMM
  and of the batched matmuls the training itself runs, with the spread over trials
  (see :func:`matmul_peak_gflops`),
* iterations per second per run for runs executed one after another and batched,
* achieved GFLOP/s of training plus evaluation and its fraction of the matmul peak,
  never above 1 (see :func:`benchmark_training`).

FLOPs are counted analytically for the MLP: a forward pass costs 2*sum(in*out) per
sample, a training step 3x that (forward + two backward matmuls); evaluation is a
forward pass over the test samples of every seen task.

The command line is ``lcne bench`` (:mod:`lcne.experiments.cli_bench`); this module
holds only the measurements.
"""
from __future__ import annotations

import math
import statistics
import time
from typing import Dict, List, NamedTuple, Optional, Sequence

import torch

from lcne.experiments.config import RunConfig
from lcne.experiments.runner import run_experiment
from lcne.experiments.streams import build_stream

__all__ = ["MatmulShape", "matmul_peak_gflops", "benchmark_training", "format_report"]

#: the MLP of the MNIST benchmarks (input, hidden, hidden, classes)
_MLP_SIZES = (784, 400, 400, 10)
_BATCH_SIZE = 128
_EVAL_CHUNK = 2000  # the runner's evaluation chunk for MLP benchmarks


def _is_cuda(device) -> bool:
    return str(device).startswith("cuda")


def _sync(device: str) -> None:
    if _is_cuda(device):
        torch.cuda.synchronize(device)


class MatmulShape(NamedTuple):
    """One batched matmul of the training: (runs, rows, k) @ (runs, k, m), the call
    :class:`~lcne.models.gain_linear.GainLinear` makes; with ``shared_input`` the input is
    one (rows, k) matrix broadcast over the runs, as in the evaluation pass."""

    runs: int
    rows: int
    k: int
    m: int
    shared_input: bool = False

    def label(self) -> str:
        x = f"({self.rows}x{self.k})" if self.shared_input else f"{self.runs}x({self.rows}x{self.k})"
        return f"matmul {x}@{self.runs}x({self.k}x{self.m})"

    def flops(self) -> int:
        return 2 * self.runs * self.rows * self.k * self.m


def _workloads(n: int, run_shapes: Sequence[MatmulShape], device: str):
    """``(label, a, b, flops)``: the square GEMM first, then one per run shape."""
    loads = [(f"gemm {n}x{n}x{n}", torch.randn(n, n, device=device), torch.randn(n, n, device=device), 2 * n**3)]
    for shape in run_shapes:
        shape = MatmulShape(*shape)
        x_shape = (shape.rows, shape.k) if shape.shared_input else (shape.runs, shape.rows, shape.k)
        loads.append((shape.label(), torch.randn(*x_shape, device=device),
                      torch.randn(shape.runs, shape.k, shape.m, device=device), shape.flops()))
    return loads


def matmul_peak_gflops(
    n: Optional[int] = None,
    repeats: int = 3,
    device: str = "cpu",
    trials: int = 5,
    run_shapes: Sequence[MatmulShape] = (),
) -> Dict[str, object]:
    """Float32 matmul peak (GFLOP/s) as the best of ``trials`` trials, with the spread.

    Workloads: a square GEMM of ``n x n`` matrices (n: 2048 on CPU, 8192 on a GPU) and one
    ``torch.matmul`` per :class:`MatmulShape` of ``run_shapes``, the batched matmuls that
    dominate batched training, so that the peak is measured on the same kind of work the
    training does. Every workload is warmed up once; each trial then times one batch of
    calls per workload (``repeats`` square GEMMs, and about as many FLOPs of each run
    shape) and keeps the best workload rate. The peak is the maximum over trials; the
    spread (min, median, max over trials) shows how noisy the machine was. Torch's
    default TF32 setting applies.

    Returns a dict: ``peak_gflops`` (the maximum), ``peak_gflops_min``,
    ``peak_gflops_median``, ``peak_gflops_max``, ``peak_trials`` and ``peak_workloads``
    (labels). Even the best trial can fall below a rate the training reached between two
    noisy moments; :func:`benchmark_training` handles that case.
    """
    if trials < 1 or repeats < 1:
        raise ValueError("trials and repeats must be >= 1")
    n = n or (8192 if _is_cuda(device) else 2048)
    loads = _workloads(n, run_shapes, device)
    target = repeats * loads[0][3]  # FLOPs of one timed batch
    plan = [(a, b, flops, repeats if i == 0 else max(1, math.ceil(target / flops)))
            for i, (_label, a, b, flops) in enumerate(loads)]
    for a, b, _flops, _reps in plan:
        torch.matmul(a, b)  # warm-up
    _sync(device)
    rates: List[float] = []
    for _ in range(trials):
        best = 0.0
        for a, b, flops, reps in plan:
            t = time.perf_counter()
            for _ in range(reps):
                torch.matmul(a, b)
            _sync(device)
            best = max(best, reps * flops / (time.perf_counter() - t) / 1e9)
        rates.append(best)
    return {
        "peak_gflops": max(rates),
        "peak_gflops_min": min(rates),
        "peak_gflops_median": statistics.median(rates),
        "peak_gflops_max": max(rates),
        "peak_trials": trials,
        "peak_workloads": [label for label, *_ in loads],
    }


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
    peak_trials: int = 5,
) -> Dict[str, object]:
    """Time the grid ``optimizers x seeds``: each run alone, one after another, then all
    runs as one batched computation (what ``lcne run`` does).

    The matmul peak is measured after the timings with :func:`matmul_peak_gflops`
    (``peak_trials`` trials; the square GEMM and the first layer's batched matmuls of
    this grid, training batch and evaluation chunk). ``fraction_of_peak`` is the batched
    rate over that peak and never exceeds 1: if the batched training still ran faster
    than every trial (noise), the peak is reported as the training's rate,
    ``peak_from_training`` is ``True`` and the fraction is 1. The spread over trials is
    returned as ``peak_gflops_min``, ``peak_gflops_median``, ``peak_gflops_max``.
    """
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
    n_in, n_hidden = _MLP_SIZES[0], _MLP_SIZES[1]
    eval_rows = min(_EVAL_CHUNK, int(stream.test_end(stream.n_tasks)))
    peak = matmul_peak_gflops(device=device, trials=peak_trials,
                              run_shapes=[MatmulShape(len(runs), _BATCH_SIZE, n_in, n_hidden),
                                          MatmulShape(len(runs), eval_rows, n_in, n_hidden, shared_input=True)])
    n_iter = iterations * stream.n_tasks
    flops = _flops_per_iteration(stream, _MLP_SIZES, _BATCH_SIZE, iterations) * n_iter * len(runs)
    gflops = flops / batched / 1e9
    from_training = gflops > peak["peak_gflops"]
    peak_gflops = max(peak["peak_gflops"], gflops)
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
        "gflops": gflops,
        **peak,
        "peak_gflops": peak_gflops,
        "peak_from_training": from_training,
        "fraction_of_peak": gflops / peak_gflops,
    }


def format_report(r: Dict[str, object]) -> str:
    """The result of :func:`benchmark_training` as an aligned two-column text table."""
    peak = f"{r['peak_gflops']:.1f}"
    if "peak_gflops_median" in r:
        peak += (f"  (best of {r['peak_trials']} trials; min / median / max "
                 f"{r['peak_gflops_min']:.1f} / {r['peak_gflops_median']:.1f} / {r['peak_gflops_max']:.1f})")
    if r.get("peak_from_training"):
        peak += "  [raised to the batched training rate, which exceeded every trial]"
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
        ("matmul peak GFLOP/s", peak),
        ("batched fraction of peak", f"{100 * r['fraction_of_peak']:.0f} %"),
    ]
    return "\n".join(f"{k:<30}{v}" for k, v in rows)
