"""Full-size evaluation benchmark: the cost of each evaluation mode, measured in one process.

``lcne bench --full-size`` (:mod:`lcne.experiments.cli_bench`) times the default grid
(4 methods x 5 seeds, every seen task evaluated) on a full-size benchmark (Split
Fashion-MNIST, 60,000 / 10,000 images, by default) for a short run of ``iterations`` per
context, once per evaluation mode (:func:`eval_modes`):

* ``exact``: fp32, every iteration, whole test sets (what ``lcne run`` does by default);
* each evaluation schedule given (``switch:W/K``, ``every:K``;
  :mod:`lcne.experiments.eval_schedule`);
* a fixed stratified subset of N test images per task, every iteration, and the first
  schedule on that subset (:mod:`lcne.experiments.eval_subset`);
* bf16 evaluation, or the reason :func:`~lcne.experiments.eval_schedule.check_precision`
  refuses it on this device.

All modes run in the same process one after another, so their ratios are meaningful on a
loaded machine; their absolute times are not.

Time scales. With a short run a schedule evaluates a different fraction of the iterations
than in the full-length run (``switch:50/10`` evaluates every one of 20 iterations), so
each mode also reports

* the analytic fraction of the full-length run's evaluation FLOPs (and of all its FLOPs)
  the schedule keeps, from :meth:`EvalSchedule.context_mask` at the benchmark's real
  iterations per context, and
* a predicted full-length wall time and speed-up: ``T = I*K*t_train + sum_k n_k * e_k``
  with I the real iterations per context, K the contexts, ``n_k`` the iterations the
  schedule evaluates in context k, ``t_train`` seconds of one batched training iteration
  (everything outside the evaluation calls, the median over the timed modes) and ``e_k``
  seconds of one evaluation of the whole batch in context k (measured by timing every
  call of :func:`lcne.experiments.protocol.evaluate`, pooled over the modes that evaluate
  the same way: same subset, same precision).

FLOPs are counted analytically as in :mod:`lcne.experiments.bench`: a forward pass of the
MLP costs ``2 * sum(in * out)`` per image, a training step 3x a forward pass per batch
image, an evaluation one forward pass per evaluated test image -- counted only at the
evaluated iterations and only over the subset where there is one.
"""
from __future__ import annotations

import contextlib
import statistics
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

from lcne.experiments.bench import MatmulShape, matmul_peak_gflops
from lcne.experiments.config import RunConfig
from lcne.experiments.errors import ConfigError
from lcne.experiments.eval_schedule import EvalSchedule, check_precision
from lcne.experiments.runner import run_experiment
from lcne.experiments.streams import BENCHMARKS, build_stream

__all__ = [
    "FULL_SIZE_BENCHMARK",
    "DEFAULT_SCHEDULES",
    "DEFAULT_SUBSET",
    "DEFAULT_ITERATIONS",
    "EvalMode",
    "eval_modes",
    "forward_flops",
    "eval_images_per_context",
    "mode_flops",
    "predict_wall",
    "benchmark_eval_modes",
    "format_eval_report",
]

#: benchmark of ``lcne bench --full-size`` unless ``--benchmark`` says otherwise
FULL_SIZE_BENCHMARK = "split-fashion-mnist"
#: schedules timed by default
DEFAULT_SCHEDULES = ("switch:50/10", "switch:100/10")
#: test images per task of the subset mode
DEFAULT_SUBSET = 1000
#: iterations per context of the short timed run
DEFAULT_ITERATIONS = 20

#: the MLP of the MNIST-family benchmarks (input, hidden, hidden, classes)
MLP_SIZES = (784, 400, 400, 10)
_EVAL_CHUNK = 2000  # the runner's evaluation chunk for MLP benchmarks


@dataclass(frozen=True)
class EvalMode:
    """One way of evaluating: a schedule spec, a subset size (None: whole test sets) and a
    precision (``"fp32"`` or ``"bf16"``); ``name`` labels it in the report."""

    name: str
    schedule: str = "every"
    subset: Optional[int] = None
    precision: str = "fp32"

    @property
    def is_exact(self) -> bool:
        """fp32, every iteration, whole test sets: the reference of every speed-up."""
        return self.schedule == "every" and self.subset is None and self.precision == "fp32"

    @property
    def kind(self) -> tuple:
        """What one evaluation call costs depends on this (subset, precision) only."""
        return (self.subset, self.precision)


def _check_subset(subset) -> Optional[int]:
    if subset is None:
        return None
    if isinstance(subset, bool) or not isinstance(subset, (int, np.integer)) or subset < 1:
        raise ConfigError(f"subset: {subset!r} must be a positive integer (test images per task), e.g. 1000")
    return int(subset)


def eval_modes(schedules: Sequence[str] = DEFAULT_SCHEDULES, subset: Optional[int] = DEFAULT_SUBSET) -> List[EvalMode]:
    """The modes timed, in order: exact; each schedule (canonical spec, duplicates and
    ``every`` dropped); with ``subset`` N: every iteration on the subset and the first
    schedule on the subset; bf16 (every iteration, whole test sets).

    A bad schedule or subset is a one-line :class:`ConfigError`.

    >>> [m.name for m in eval_modes(["switch:50/10", "every:5"], 1000)]
    ['exact', 'switch:50/10', 'every:5', 'subset 1000', 'switch:50/10 + subset 1000', 'bf16']
    """
    n = _check_subset(subset)
    specs: List[str] = []
    for spec in schedules:
        canonical = EvalSchedule.parse(spec).to_spec()
        if canonical != "every" and canonical not in specs:
            specs.append(canonical)
    modes = [EvalMode("exact")]
    modes += [EvalMode(s, schedule=s) for s in specs]
    if n is not None:
        modes.append(EvalMode(f"subset {n}", subset=n))
        if specs:
            modes.append(EvalMode(f"{specs[0]} + subset {n}", schedule=specs[0], subset=n))
    modes.append(EvalMode("bf16", precision="bf16"))
    return modes


def forward_flops(sizes: Sequence[int] = MLP_SIZES) -> int:
    """FLOPs of one MLP forward pass per image: ``2 * sum(in * out)`` over the layers."""
    return 2 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))


def eval_images_per_context(test_counts: Sequence[int], subset: Optional[int] = None) -> np.ndarray:
    """int64 (K,): test images one evaluation of one run covers in context k (tasks 1..k
    seen): the cumulative test-set sizes, or with a subset of N the cumulative
    ``min(N, n_j)`` (a stratified subset of a task with at most N images is all of it).

    >>> eval_images_per_context([7, 5], subset=6).tolist()
    [6, 11]
    """
    counts = np.asarray(test_counts, dtype=np.int64)
    if subset is not None:
        counts = np.minimum(counts, int(subset))
    return np.cumsum(counts)


def mode_flops(test_counts: Sequence[int], mode: EvalMode, iterations_per_task: int,
               sizes: Sequence[int] = MLP_SIZES, batch_size: int = 128) -> Dict[str, int]:
    """Analytic FLOPs of one run of ``iterations_per_task`` iterations per context.

    ``test_counts``: test images per task (K tasks); every seen task is evaluated.
    Returns ints: ``train_flops`` (``3 * forward * batch_size`` per iteration),
    ``eval_flops`` (``forward * images`` at the evaluated iterations only, over the subset
    where ``mode.subset`` is set), ``evaluated_iterations`` and ``iterations`` of the run.
    """
    K = len(test_counts)
    per_context = int(EvalSchedule.parse(mode.schedule).context_mask(iterations_per_task).sum())
    fwd = forward_flops(sizes)
    images = eval_images_per_context(test_counts, mode.subset)
    return {
        "train_flops": int(3 * fwd * batch_size * iterations_per_task * K),
        "eval_flops": int(fwd * per_context * int(images.sum())),
        "evaluated_iterations": per_context * K,
        "iterations": int(iterations_per_task) * K,
    }


def predict_wall(schedule: str, iterations_per_task: int, n_tasks: int, train_s_per_iteration: float,
                 eval_s_per_context: Sequence[float]) -> float:
    """Predicted wall seconds of a run: ``I*K*t_train + sum_k n_k * e_k``.

    ``train_s_per_iteration``: seconds of one batched training iteration;
    ``eval_s_per_context[k]``: seconds of one evaluation of the batch in context k+1;
    ``n_k``: iterations of context k the schedule evaluates (the same in every context).
    """
    n_k = int(EvalSchedule.parse(schedule).context_mask(iterations_per_task).sum())
    if len(eval_s_per_context) != n_tasks:
        raise ValueError(f"eval_s_per_context needs {n_tasks} entries, got {len(eval_s_per_context)}")
    return iterations_per_task * n_tasks * train_s_per_iteration + n_k * float(np.sum(eval_s_per_context))


def _is_cuda(device) -> bool:
    return str(device).startswith("cuda")


def _sync(device) -> None:
    if _is_cuda(device):
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def _timed_evaluation(device, log: list):
    """Within the block every call of :func:`lcne.experiments.protocol.evaluate` (the one
    :func:`~lcne.experiments.protocol.train_joint` makes after each evaluated iteration)
    appends ``(context, seconds)`` to ``log``; the function is restored on exit."""
    from lcne.experiments import protocol

    original = protocol.evaluate

    def timed(model, stream, context, *args, **kwargs):
        _sync(device)
        start = time.perf_counter()
        out = original(model, stream, context, *args, **kwargs)
        _sync(device)
        log.append((int(context), time.perf_counter() - start))
        return out

    protocol.evaluate = timed
    try:
        yield log
    finally:
        protocol.evaluate = original


def _time_mode(mode: EvalMode, base: dict, stream, device) -> dict:
    row = {"name": mode.name, "schedule": mode.schedule, "subset": mode.subset, "precision": mode.precision,
           "refused": None}
    try:
        check_precision(mode.precision, device)
    except ConfigError as exc:
        row["refused"] = str(exc)
        return row
    cfg = RunConfig(**base, eval_schedule=mode.schedule, eval_subset=mode.subset, eval_precision=mode.precision)
    log: list = []
    with _timed_evaluation(device, log):
        _sync(device)
        start = time.perf_counter()
        run_experiment(cfg, stream=stream, progress=False)
        _sync(device)
        wall = time.perf_counter() - start
    row.update(wall_s=wall, eval_s=sum(s for _, s in log), eval_calls=log)
    return row


def benchmark_eval_modes(
    benchmark: str = FULL_SIZE_BENCHMARK,
    schedules: Sequence[str] = DEFAULT_SCHEDULES,
    subset: Optional[int] = DEFAULT_SUBSET,
    iterations: int = DEFAULT_ITERATIONS,
    seeds: Sequence[int] = (42, 43, 44, 45, 46),
    optimizers: Sequence[str] = ("ngm", "sgd", "msgd", "adam"),
    device: str = "cpu",
    data_dir: Optional[str] = None,
    peak_trials: int = 5,
) -> Dict[str, object]:
    """Time the grid ``optimizers x seeds`` (one batched ``run_experiment`` per mode) in
    every mode of :func:`eval_modes`, ``iterations`` per context, in one process.

    Returns a dict (JSON-ready): the setting (``benchmark``, ``runs``, ``iterations_per_task``,
    ``full_iterations_per_task``, ``n_tasks``, ``test_counts``, ``threads``, ``device``), the
    fitted ``train_s_per_iteration`` and ``eval_s_per_context`` (per mode kind), the matmul
    peak (:func:`~lcne.experiments.bench.matmul_peak_gflops`, best of ``peak_trials``
    trials, raised to the best mode's rate and flagged ``peak_from_training`` if a mode ran
    faster) and ``modes``: one dict per mode with ``wall_s``, ``eval_s``, ``train_s``,
    ``speedup`` (exact wall / this wall), ``gflop`` (analytic, all runs), ``gflops``,
    ``fraction_of_peak``, ``evaluated_fraction`` (of this short run),
    ``full_eval_flop_fraction`` and ``full_flop_fraction`` (analytic, full-length run,
    relative to exact), ``predicted_full_s`` and ``predicted_full_speedup``; or, for a mode
    refused on this device, ``refused`` (the one-line reason) and nothing timed.
    """
    if benchmark not in BENCHMARKS or BENCHMARKS[benchmark].model != "mlp":
        mlp = ", ".join(n for n, b in BENCHMARKS.items() if b.model == "mlp")
        raise ConfigError(f"benchmark: {benchmark!r} is not an MLP benchmark; bench --full-size counts the "
                          f"MLP's FLOPs, use one of {mlp}")
    modes = eval_modes(schedules, subset)
    base = dict(benchmark=benchmark, iterations=int(iterations), device=device, data_dir=data_dir,
                optimizers=list(optimizers), seeds=list(seeds))
    probe = RunConfig(**{**base, "iterations": None}).resolved()  # validates; the real iterations per context
    full_iterations = int(probe.iterations)
    batch_size = int(probe.batch_size)
    stream = build_stream(benchmark, data_dir)
    K = int(stream.n_tasks)
    test_counts = [int(c) for c in stream.test_counts().tolist()]
    runs = len(optimizers) * len(seeds)
    # warm-up (allocator, thread pool, cached test inputs): one run, 1 iteration per context
    run_experiment(RunConfig(**{**base, "iterations": 1, "optimizers": [optimizers[0]], "seeds": [seeds[0]]}),
                   stream=stream, progress=False)

    rows = [_time_mode(m, base, stream, device) for m in modes]
    timed = [(m, r) for m, r in zip(modes, rows) if r["refused"] is None]
    n_iter = int(iterations) * K
    for m, r in timed:
        r["train_s"] = r["wall_s"] - r["eval_s"]
    train_s_per_iteration = statistics.median(r["train_s"] / n_iter for _, r in timed)
    eval_by_kind: Dict[tuple, List[List[float]]] = {}
    for m, r in timed:
        per = eval_by_kind.setdefault(m.kind, [[] for _ in range(K)])
        for context, seconds in r["eval_calls"]:
            per[context - 1].append(seconds)
    eval_s_per_context = {kind: [float(np.mean(v)) if v else float("nan") for v in per]
                          for kind, per in eval_by_kind.items()}

    exact_row = rows[0]
    exact_full = mode_flops(test_counts, modes[0], full_iterations, batch_size=batch_size)
    exact_full_total = exact_full["train_flops"] + exact_full["eval_flops"]
    predicted_exact = predict_wall("every", full_iterations, K, train_s_per_iteration,
                                   eval_s_per_context[modes[0].kind])
    best_gflops = 0.0
    for m, r in zip(modes, rows):
        full = mode_flops(test_counts, m, full_iterations, batch_size=batch_size)
        r["full_eval_flop_fraction"] = full["eval_flops"] / exact_full["eval_flops"]
        r["full_flop_fraction"] = (full["train_flops"] + full["eval_flops"]) / exact_full_total
        r["full_evaluated_fraction"] = full["evaluated_iterations"] / full["iterations"]
        r.pop("eval_calls", None)
        if r["refused"] is not None:
            continue
        short = mode_flops(test_counts, m, int(iterations), batch_size=batch_size)
        r["evaluated_fraction"] = short["evaluated_iterations"] / short["iterations"]
        r["gflop"] = runs * (short["train_flops"] + short["eval_flops"]) / 1e9
        r["gflops"] = r["gflop"] / r["wall_s"]
        r["speedup"] = exact_row["wall_s"] / r["wall_s"]
        r["predicted_full_s"] = predict_wall(m.schedule, full_iterations, K, train_s_per_iteration,
                                             eval_s_per_context[m.kind])
        r["predicted_full_speedup"] = predicted_exact / r["predicted_full_s"]
        best_gflops = max(best_gflops, r["gflops"])

    shapes = [MatmulShape(runs, batch_size, MLP_SIZES[0], MLP_SIZES[1]),
              MatmulShape(runs, min(_EVAL_CHUNK, sum(test_counts)), MLP_SIZES[0], MLP_SIZES[1], shared_input=True)]
    if subset is not None:
        shapes.append(MatmulShape(runs, min(_EVAL_CHUNK, int(eval_images_per_context(test_counts, subset)[-1])),
                                  MLP_SIZES[0], MLP_SIZES[1]))
    peak = matmul_peak_gflops(device=device, trials=peak_trials, run_shapes=shapes)
    from_training = best_gflops > peak["peak_gflops"]
    peak_gflops = max(peak["peak_gflops"], best_gflops)
    for r in rows:
        if r["refused"] is None:
            r["fraction_of_peak"] = r["gflops"] / peak_gflops
    return {
        "benchmark": benchmark,
        "data_source": stream.source,
        "device": torch.cuda.get_device_name(device) if _is_cuda(device) else "cpu",
        "threads": torch.get_num_threads(),
        "runs": runs,
        "n_tasks": K,
        "test_counts": test_counts,
        "iterations_per_task": int(iterations),
        "full_iterations_per_task": full_iterations,
        "train_s_per_iteration": train_s_per_iteration,
        "eval_s_per_context": {_kind_label(k): v for k, v in eval_s_per_context.items()},
        "predicted_exact_full_s": predicted_exact,
        "modes": rows,
        **peak,
        "peak_gflops": peak_gflops,
        "peak_from_training": from_training,
    }


def _kind_label(kind: tuple) -> str:
    subset, precision = kind
    return f"{precision}, " + ("whole test sets" if subset is None else f"subset {subset}")


def format_eval_report(r: Dict[str, object]) -> str:
    """The result of :func:`benchmark_eval_modes` as a header and an aligned table, one
    line per mode; a refused mode reads ``refused: <reason>``."""
    peak = (f"{r['peak_gflops']:.1f} GFLOP/s (best of {r['peak_trials']} trials; min / median / max "
            f"{r['peak_gflops_min']:.1f} / {r['peak_gflops_median']:.1f} / {r['peak_gflops_max']:.1f})")
    if r.get("peak_from_training"):
        peak += "  [raised to the fastest mode's rate, which exceeded every trial]"
    lines = [
        f"benchmark          {r['benchmark']} ({r['data_source']})",
        f"device, threads    {r['device']}, {r['threads']} torch threads",
        f"grid               {r['runs']} runs batched, every seen task evaluated; timed: {r['iterations_per_task']} "
        f"iterations per context x {r['n_tasks']} contexts; full length: {r['full_iterations_per_task']}",
        f"matmul peak        {peak}",
        f"fitted             {r['train_s_per_iteration'] * 1e3:.1f} ms per batched training iteration; "
        f"predicted exact full-length run {r['predicted_exact_full_s']:.0f} s",
        "",
        f"{'mode':<28}{'wall s':>9}{'eval s':>9}{'speed-up':>9}{'GFLOP/s':>9}{'of peak':>8}"
        f"{'full eval FLOP':>15}{'full FLOP':>10}{'pred. full s':>13}{'pred. x':>8}",
    ]
    for m in r["modes"]:
        frac = f"{100 * m['full_eval_flop_fraction']:>14.1f}%{100 * m['full_flop_fraction']:>9.1f}%"
        if m["refused"] is not None:
            lines.append(f"{m['name']:<28}refused: {m['refused']}")
            continue
        lines.append(f"{m['name']:<28}{m['wall_s']:>9.1f}{m['eval_s']:>9.1f}{m['speedup']:>8.2f}x"
                     f"{m['gflops']:>9.1f}{100 * m['fraction_of_peak']:>7.0f}%{frac}"
                     f"{m['predicted_full_s']:>13.0f}{m['predicted_full_speedup']:>7.2f}x")
    lines += ["", "speed-up: exact wall / mode wall of this short run; full eval FLOP / full FLOP: the mode's "
              "evaluation / all FLOPs of the full-length run relative to exact (analytic); pred.: predicted "
              "full-length wall time and speed-up from the fitted train and evaluation times."]
    return "\n".join(lines)
