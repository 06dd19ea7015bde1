"""``lcne bench``: training throughput, sequential vs batched runs, GFLOP/s vs the matmul peak;
with ``--full-size``, the cost of each evaluation mode (schedules, subsets, bf16) at full size.

The measurements live in :mod:`lcne.experiments.bench` and
:mod:`lcne.experiments.bench_eval_modes`; this module is only the command line (the import
goes cli -> cli_bench -> bench*, never back).
"""
from __future__ import annotations

from lcne.experiments.cli_args import int_list, name_list, number, positive

__all__ = ["register", "cmd_bench"]

#: options that only ``--full-size`` reads
_FULL_SIZE_ONLY = ("schedules", "subset", "data_dir")


def register(subparsers) -> None:
    """Add the ``bench`` subcommand."""
    p = subparsers.add_parser(
        "bench",
        help="training throughput: sequential vs batched runs, GFLOP/s vs matmul peak; "
        "--full-size: evaluation schedules, subsets and bf16 at full size",
        description="Time the runs of the default Split MNIST grid one after another and as one "
        "batched computation, in one process; report the ratio, the achieved GFLOP/s and its "
        "fraction of the matmul peak (best of several trials, spread reported). With --full-size, "
        "time the default grid on full-size Split Fashion-MNIST in each evaluation mode instead: "
        "fp32 every iteration (exact), each --schedules schedule, a fixed --subset, the first "
        "schedule on the subset, and bf16 (or why it is refused); report wall time, speed-up "
        "against exact, GFLOP/s, fraction of peak, the full-length run's analytic FLOP fraction "
        "and a predicted full-length speed-up.",
    )
    p.add_argument("--benchmark", default=None,
                   help="default split-mnist; with --full-size split-fashion-mnist (any MLP benchmark)")
    p.add_argument("--iterations", type=number(int), default=None,
                   help="iterations per context (default 40; with --full-size 20)")
    p.add_argument("--methods", "--optimizers", dest="optimizers", type=name_list, default=None, metavar="METHODS",
                   help="comma list of methods, the results axis 'method' (default ngm,sgd,msgd,adam; "
                   "--optimizers is the older spelling)")
    p.add_argument("--seeds", type=int_list, default=None, help="comma list (default 42,43,44,45,46)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--threads", type=positive(int), default=None,
                   help="torch threads (default: torch's own choice)")
    p.add_argument("--full-size", action="store_true",
                   help="time the evaluation modes on a full-size benchmark (Split Fashion-MNIST, "
                   "60,000 / 10,000 images) instead of sequential vs batched runs")
    p.add_argument("--schedules", type=name_list, default=None, metavar="SPECS",
                   help="with --full-size: comma list of evaluation schedules to time "
                   "(default switch:50/10,switch:100/10)")
    p.add_argument("--subset", type=positive(int), default=None, metavar="N",
                   help="with --full-size: test images per task of the subset modes (default 1000)")
    p.add_argument("--data-dir", default=None,
                   help="with --full-size: folder of the benchmark's IDX files (default: the benchmark's own)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args) -> int:
    """Handler of ``lcne bench``."""
    import json

    from lcne.experiments.errors import ConfigError

    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    if args.device != "cpu":
        from lcne.experiments.config import RunConfig

        RunConfig(benchmark=args.benchmark or "split-mnist", device=args.device).resolved()  # one-line error if no CUDA
    kw = {"device": args.device}
    if args.optimizers:
        kw["optimizers"] = args.optimizers
    if args.seeds:
        kw["seeds"] = args.seeds
    if args.iterations is not None:
        kw["iterations"] = args.iterations
    if not args.full_size:
        given = [f"--{name.replace('_', '-')}" for name in _FULL_SIZE_ONLY if getattr(args, name) is not None]
        if given:
            raise ConfigError(f"{', '.join(given)}: only with --full-size")
        from lcne.experiments.bench import benchmark_training, format_report

        r = benchmark_training(args.benchmark or "split-mnist", **kw)
        print(json.dumps(r) if args.json else format_report(r))
        return 0
    from lcne.experiments.bench_eval_modes import FULL_SIZE_BENCHMARK, benchmark_eval_modes, format_eval_report

    for name in _FULL_SIZE_ONLY:
        if getattr(args, name) is not None:
            kw[name] = getattr(args, name)
    r = benchmark_eval_modes(args.benchmark or FULL_SIZE_BENCHMARK, **kw)
    print(json.dumps(r) if args.json else format_eval_report(r))
    return 0
