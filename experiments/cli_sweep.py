"""``lcne sweep SPEC.yaml``: grid sweeps on Dask (or in-process), resumable."""
from __future__ import annotations

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="expand a sweep spec into batched runs and execute them on Dask; resumes finished work",
        description="Run every batch of a sweep spec (benchmarks x optimizers x seeds x hyperparameters). "
        "Each finished batch is written atomically to <out>/batches/; rerunning skips finished batches. "
        "Uses a Dask LocalCluster by default (pip install 'lcne[dist]'), an existing scheduler with "
        "--scheduler, or runs in-process with --no-dask.",
    )
    p.add_argument("spec", help="sweep spec YAML file")
    p.add_argument("--scheduler", default=None, help="address of a running Dask scheduler (tcp://host:8786)")
    p.add_argument("--workers", type=int, default=None, help="LocalCluster worker processes (default: CPU count)")
    p.add_argument("--no-dask", action="store_true", help="run batches one after another in this process")
    p.add_argument("--out", default=None, help="override the spec's output directory")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a spec entry before it is validated (repeatable; dotted keys, YAML values), "
                   "e.g. --set base.iterations=20 --set seeds=[42,43]")
    p.add_argument("--device", default=None, help="cpu or cuda for every batch (short for --set base.device=DEVICE)")
    p.add_argument("--dry-run", action="store_true", help="list the batches and exit")
    p.add_argument("--phase", choices=("all", "tuning"), default="all",
                   help="'tuning': stop after the tuning phase, the selection and the schedule rule (default: all)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_sweep)


def _cmd_sweep(args) -> int:
    from lcne.experiments.sweep import batch_path, expand, load_spec, run_sweep

    overrides = args.overrides + ([f"base.device={args.device}"] if args.device else [])
    spec = load_spec(args.spec, overrides)
    if args.out:
        spec.out = args.out
    if args.dry_run:
        from pathlib import Path

        if spec.selection:
            print(f"tuning phase on the validation split (seeds {spec.selection['seeds']}); the test phase "
                  f"then runs the selected setting per optimizer with seeds {spec.seeds}:")
            batches = expand(spec, eval_split="validation", seeds=spec.selection["seeds"])
            root = Path(spec.out) / "tuning"
        else:
            batches, root = expand(spec), Path(spec.out)
        for cfg in batches:
            done = "done" if batch_path(root, cfg).exists() else "todo"
            print(f"{done}  {cfg.benchmark:<15} {','.join(cfg.optimizers):<30} lr={cfg.lr} eta={cfg.eta} "
                  f"iterations={cfg.iterations} seeds={len(cfg.seeds)}")
        return 0
    from lcne.experiments.results import check_output_dir

    check_output_dir(spec.out, need_bytes=5 * 2**20)  # before any batch runs: writable, room for one batch
    use_dask = not args.no_dask
    if use_dask:
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            print("lcne sweep: dask[distributed] is not installed (pip install 'lcne[dist]'); running in-process")
            use_dask = False
    summary = run_sweep(spec, scheduler=args.scheduler, use_dask=use_dask, workers=args.workers,
                        progress=not args.quiet, phase=args.phase)
    if "schedule" in summary:
        print("test-phase evaluation schedule (rule of test_schedule, from the tuning runs):")
        for bench, sched in sorted(summary["schedule"].items()):
            print(f"  {bench}: {sched}")
    print(f"{len(summary['batches'])} batches in {summary['out']}/batches")
    if "selection" in summary:
        print("selected on the validation split:")
        for k, v in sorted(summary["selection"].items()):
            print(f"  {k}: {v}")
    print(f"open with: lcne.analysis.open_sweep({summary['out']!r})")
    return 0
