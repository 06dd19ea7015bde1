"""``lcne bench``: training throughput, sequential vs batched runs, GFLOP/s vs the matmul peak.

The measurements live in :mod:`lcne.experiments.bench`; this module is only the command
line (the import goes cli -> cli_bench -> bench, never back).
"""
from __future__ import annotations

from lcne.experiments.cli_args import int_list, name_list, number

__all__ = ["register", "cmd_bench"]


def register(subparsers) -> None:
    """Add the ``bench`` subcommand."""
    p = subparsers.add_parser(
        "bench",
        help="training throughput: sequential vs batched runs, GFLOP/s vs matmul peak",
        description="Time the runs of the default Split MNIST grid one after another and as one "
        "batched computation, in one process; report the ratio, the achieved GFLOP/s and its "
        "fraction of the matmul peak (best of several trials, spread reported).",
    )
    p.add_argument("--benchmark", default="split-mnist")
    p.add_argument("--iterations", type=number(int), default=40, help="iterations per context (default 40)")
    p.add_argument("--methods", "--optimizers", dest="optimizers", type=name_list, default=None, metavar="METHODS",
                   help="comma list of methods, the results axis 'method' (default ngm,sgd,msgd,adam; "
                   "--optimizers is the older spelling)")
    p.add_argument("--seeds", type=int_list, default=None, help="comma list (default 42,43,44,45,46)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args) -> int:
    """Handler of ``lcne bench``."""
    import json

    from lcne.experiments.bench import benchmark_training, format_report

    if args.device != "cpu":
        from lcne.experiments.config import RunConfig

        RunConfig(benchmark=args.benchmark, device=args.device).resolved()  # one-line error if no CUDA
    kw = {"iterations": args.iterations, "device": args.device}
    if args.optimizers:
        kw["optimizers"] = args.optimizers
    if args.seeds:
        kw["seeds"] = args.seeds
    r = benchmark_training(args.benchmark, **kw)
    print(json.dumps(r) if args.json else format_report(r))
    return 0
