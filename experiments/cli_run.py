"""``lcne run`` (train and evaluate a benchmark grid) and ``lcne export-mnist``.

Registered into the main parser by :func:`register`; the handlers return an exit code and
raise :class:`~lcne.experiments.errors.ConfigError` (a ``ValueError``) with a one-line
message for problems the user can fix.
"""
from __future__ import annotations

import time
from pathlib import Path

from lcne.experiments.cli_args import int_list, key_value, name_list, number, positive

__all__ = ["register", "add_run", "add_export_mnist", "config_from_args", "cmd_run", "cmd_export_mnist"]


def register(subparsers) -> None:
    """Add ``run`` and ``export-mnist`` to the ``lcne`` subcommand parsers."""
    add_run(subparsers)
    add_export_mnist(subparsers)


def add_run(sub) -> None:
    """Add the ``run`` subcommand."""
    from lcne.experiments.streams import BENCHMARKS

    p = sub.add_parser(
        "run",
        help="incremental joint training on a benchmark; writes netCDF, metrics CSV and figure",
        description="Run the paper's incremental joint-training protocol for every method "
        "and seed, evaluate after every iteration (or as --eval-schedule says), print the stability-gap table and write "
        "<out>/<benchmark>.nc, <out>/<benchmark>_metrics.csv and <out>/<benchmark>_task1.png/.pdf. "
        "The results file's run axis is called 'method'.",
    )
    p.add_argument("benchmark", help=f"one of: {', '.join(BENCHMARKS)}")
    p.add_argument("--methods", "--optimizers", dest="optimizers", type=name_list, default=None, metavar="METHODS",
                   help="comma list of methods, the results axis 'method' (default ngm,sgd,msgd,adam; "
                   "--optimizers is the older spelling)")
    p.add_argument("--seeds", type=int_list, default=None, help="comma list (default 42,43,44,45,46)")
    p.add_argument("--iterations", type=number(int), default=None, help="training iterations per context")
    p.add_argument("--lr", type=number(float), default=None, help="learning rate (default 0.01)")
    p.add_argument("--eta", type=number(float), default=None, help="gain burst scale per nat (paper value per benchmark)")
    p.add_argument("--gamma", type=number(float), default=None, help="gain decay per iteration (default 0.9)")
    p.add_argument("--batch-size", type=number(int), default=None, help="default 128")
    p.add_argument("--lc", default=None, help="LC model driving the ngm gain (default paper)")
    p.add_argument("--uncertainty", default=None, help="uncertainty front end (default entropy)")
    p.add_argument("--lc-param", type=key_value, action="append", default=[], metavar="KEY=VALUE",
                   help="LC model parameter override (repeatable)")
    p.add_argument("--unc-param", type=key_value, action="append", default=[], metavar="KEY=VALUE",
                   help="uncertainty front-end parameter override (repeatable)")
    p.add_argument("--gain-target", default=None, help="preactivation (default), slope or temperature")
    p.add_argument("--fixed-gain", type=number(float), default=None,
                   help="gain of the fixed-gain method (default: time-average of the NGM run of the same seed)")
    p.add_argument("--eval-split", default=None, choices=["test", "validation"],
                   help="evaluate on the test set (default) or on a held-out validation split of the training data")
    p.add_argument("--eval-tasks", default=None, choices=["seen", "first"],
                   help="evaluate every seen task (default) or task 1 only (the authors' protocol, cheaper)")
    p.add_argument("--eval-schedule", default=None, metavar="SPEC",
                   help="after which iterations to evaluate: every (default), every:K, or switch:W/K (every "
                   "iteration for the first W of each context, then every K-th); the last iteration of each "
                   "context is always evaluated; the others are NaN in the results")
    p.add_argument("--eval-every", type=positive(int), default=None, metavar="K",
                   help="shorthand for --eval-schedule every:K")
    p.add_argument("--eval-subset", type=positive(int), default=None, metavar="N",
                   help="evaluate each task on N of its test images, stratified by class, drawn once per run "
                   "from its seed (default: the whole test set)")
    p.add_argument("--eval-precision", default=None, choices=["fp32", "bf16"],
                   help="arithmetic of the evaluation forward passes (default fp32; bf16 only where it is "
                   "faster: CUDA, or a CPU with AMX)")
    p.add_argument("--rotation", default=None, choices=["nearest", "bilinear"],
                   help="interpolation of the rotated benchmarks (default nearest, the authors' torchvision call)")
    p.add_argument("--config", default=None, help="YAML file with run options (command-line options win)")
    p.add_argument("--out", default=None, help="output directory (default results)")
    p.add_argument("--data-dir", default=None, help="directory with the four IDX files (default: the embedded MNIST subset; "
                   "for the Fashion-MNIST benchmarks /usr/share/datasets/fashion-mnist)")
    p.add_argument("--device", default=None, help="cpu (default) or cuda")
    p.add_argument("--no-figure", action="store_true", help="skip the figure")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)


def _load_yaml_config(path):
    from lcne.experiments.config_file import load_yaml_mapping

    return load_yaml_mapping(path, what="--config file")


def _schedule_from_args(args):
    """``--eval-schedule`` or ``--eval-every K`` (as ``every:K``); giving both is an error."""
    from lcne.experiments.errors import ConfigError

    every, spec = getattr(args, "eval_every", None), getattr(args, "eval_schedule", None)
    if every is not None and spec is not None:
        raise ConfigError(f"eval_schedule: --eval-every {every} and --eval-schedule {spec} both given; give one")
    return f"every:{every}" if every is not None else spec


def config_from_args(args):
    """Build a :class:`RunConfig` from parsed arguments (and the optional YAML file)."""
    from dataclasses import fields

    from lcne.experiments.config import RunConfig, check_field, suggest
    from lcne.experiments.errors import ConfigError

    known = {f.name for f in fields(RunConfig)}
    values = {}
    if args.config:
        for key, value in _load_yaml_config(args.config).items():
            k = str(key).replace("-", "_")
            if k not in known:
                raise ConfigError(f"{args.config}: unknown key {key!r}{suggest(k, known)}")
            check_field(k, value, args.config)
            values[k] = value
    cli = {
        "benchmark": args.benchmark,
        "optimizers": args.optimizers,
        "seeds": args.seeds,
        "iterations": args.iterations,
        "lr": args.lr,
        "eta": args.eta,
        "gamma": args.gamma,
        "batch_size": args.batch_size,
        "lc": args.lc,
        "uncertainty": args.uncertainty,
        "gain_target": args.gain_target,
        "fixed_gain": args.fixed_gain,
        "eval_split": args.eval_split,
        "eval_tasks": args.eval_tasks,
        "eval_schedule": _schedule_from_args(args),
        "eval_subset": args.eval_subset,
        "eval_precision": args.eval_precision,
        "rotation": args.rotation,
        "out": args.out,
        "data_dir": args.data_dir,
        "device": args.device,
    }
    values.update({k: v for k, v in cli.items() if v is not None})
    if args.lc_param:
        values["lc_params"] = {**values.get("lc_params", {}), **dict(args.lc_param)}
    if args.unc_param:
        values["uncertainty_params"] = {**values.get("uncertainty_params", {}), **dict(args.unc_param)}
    return RunConfig(**values).resolved()


def _results_size(cfg, figure: bool = True) -> int:
    """Rough size of what ``lcne run`` writes (bytes): the netCDF curves, CSV and figure."""
    from lcne.experiments.streams import BENCHMARKS

    n_tasks = getattr(BENCHMARKS[cfg.benchmark], "n_tasks", None) or 5
    runs = len(cfg.optimizers) * len(cfg.seeds)
    iters = cfg.iterations * n_tasks
    return runs * iters * (n_tasks * 2 * 4 + 10 * 8) + 64_000 + (120_000 if figure else 0)


def cmd_run(args) -> int:
    """Handler of ``lcne run``.

    The output folder is checked (writable, roughly enough space) before training; the
    files written (netCDF, metrics CSV, figure PNG/PDF) are committed as one unit
    (:func:`lcne.experiments.results.commit_files`): all new or, after an interruption or
    a write error, all old.
    """
    from lcne.analysis.metrics import format_table, metrics_table
    from lcne.experiments.results import check_output_dir, commit_files
    from lcne.experiments.runner import run_experiment

    cfg = config_from_args(args)
    out = check_output_dir(cfg.out, need_bytes=_results_size(cfg, figure=not args.no_figure))
    t0 = time.perf_counter()
    ds = run_experiment(cfg, progress=not args.quiet)
    wall = time.perf_counter() - t0
    ds.attrs["wall_time_s"] = round(wall, 2)
    stem = out / cfg.benchmark
    nc = stem.with_suffix(".nc")
    table = metrics_table(ds, eval_task=1, convention="code")
    figures = []
    with commit_files() as files:
        ds.to_netcdf(files.temp(nc), engine="h5netcdf")
        table.to_csv(files.temp(f"{stem}_metrics.csv"), float_format="%.6g")
        if not args.no_figure:
            import tempfile

            from lcne.analysis.figure_io import save_figure
            from lcne.analysis.figure_set import fig_task1

            files.current = Path(f"{stem}_task1.png")
            tmp_stem = Path(tempfile.mktemp(prefix=f".{cfg.benchmark}_task1.", dir=out))
            fig = fig_task1(ds, loss=False, lc_state=False)
            for fmt in ("png", "pdf"):  # registered first, so a failed write leaves none behind
                files.adopt(f"{tmp_stem}.{fmt}", f"{stem}_task1.{fmt}")
            save_figure(fig, tmp_stem, ("png", "pdf"))
            figures = [Path(f"{stem}_task1.{fmt}") for fmt in ("png", "pdf")]
    n_runs = ds.sizes["method"] * ds.sizes["seed"]
    print(f"\n{cfg.benchmark}: {n_runs} runs x {ds.sizes['iteration']} iterations in {wall:.1f} s")
    print("Task-1 metrics; ACC in %, paper convention (seed-mean curve ± propagated sd),")
    print("avg-min-ACC over blocks 1..T-1 (authors' code); per-seed mean ± sd below each row.\n")
    print(format_table(table))  # ends with how the curves were evaluated, when not exact
    print(f"\nresults: {nc}\nmetrics: {stem}_metrics.csv")
    if figures:
        print("figure:  " + ", ".join(str(p) for p in figures))
    return 0


def add_export_mnist(sub) -> None:
    """Add the ``export-mnist`` subcommand."""
    p = sub.add_parser(
        "export-mnist",
        help="write the MNIST images lcne trains on as the four standard IDX files",
        description="Write the embedded MNIST subset (or the IDX files in --data-dir) as the four "
        "standard MNIST IDX files in OUT, so that other tools train on exactly the same images. "
        "torchvision's MNIST(root=ROOT) reads them from ROOT/MNIST/raw without downloading.",
    )
    p.add_argument("out", help="output folder, e.g. data/MNIST/raw")
    p.add_argument("--data-dir", default=None, help="MNIST IDX files to copy (default: the embedded subset)")
    p.add_argument("--gzip", action="store_true", help="write .gz files")
    p.set_defaults(func=cmd_export_mnist)


def cmd_export_mnist(args) -> int:
    """Handler of ``lcne export-mnist``."""
    from lcne.experiments.datasets import load_mnist, save_mnist_idx
    from lcne.experiments.results import check_output_dir

    check_output_dir(args.out, need_bytes=60 * 2**20)  # before reading: writable, room for full MNIST
    train, test = load_mnist(args.data_dir)
    out = save_mnist_idx(train, test, args.out, compress=args.gzip)
    print(f"{len(train)} training and {len(test)} test images ({train.source}) written to {out}")
    return 0
