"""Analysis subcommands of ``lcne``: ``figures`` and ``compare-bio``.

Both read results files written by ``lcne run`` and never train. Registered into the
main parser by :func:`register`; handlers return an exit code and raise ``ValueError`` /
``FileNotFoundError`` with a one-line message for problems the user can fix.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from lcne.experiments.cli_args import formats, nwb_spec, positive

__all__ = ["register", "cmd_figures", "cmd_compare_bio"]

log = logging.getLogger("lcne.analysis")


def register(subparsers) -> None:
    """Add ``figures`` and ``compare-bio`` to the ``lcne`` subcommand parsers."""
    p = subparsers.add_parser(
        "figures",
        help="write the paper figure set (PDF + PNG) and the numbers behind it from results files",
        description="Read lcne run results (files or directories of *.nc; several benchmarks and eta values "
        "may be mixed) and write task-1 curves with gain, the metrics per method and benchmark, SG per "
        "transition, the task-complexity gain readout, gain peak vs gap size, and model vs biology, plus CSV "
        "tables of the measurements.",
    )
    p.add_argument("results", nargs="+", help="results files (.nc) or directories holding them")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--format", type=formats, default=["pdf", "png"], help="comma list (default pdf,png)")
    p.add_argument("--method", "--optimizer", dest="method", default="ngm",
                   help="method whose gain is analysed (default ngm; --optimizer is the older spelling)")
    p.add_argument("--ms-per-iteration", type=positive(float), default=None,
                   help="time mapping for the biology panels (default: fitted and reported)")
    p.add_argument("--convention", choices=("code", "after-first"), default="code",
                   help="avg-min-ACC convention (default code: blocks 1..T-1 as in the authors' code)")
    p.add_argument("--tolerance", type=positive(float), default=0.01,
                   help="recovery tolerance, fraction of accuracy (default 0.01 = 1 point)")
    p.set_defaults(func=cmd_figures)

    q = subparsers.add_parser(
        "compare-bio",
        help="compare model gain (or LC) traces with biological reference curves, feature by feature",
        description="Measure the model's response at every task switch (latency, peak ratio, width, decay, "
        "tonic/phasic ratio), convert iterations to ms with an explicit mapping (fitted unless given), pass "
        "the trace through the pupil and NE-sensor observation models, and report agreement with the shipped "
        "reference values and any user curves.",
    )
    q.add_argument("results", nargs="+", help="results files (.nc) or directories holding them")
    q.add_argument("--method", "--optimizer", dest="method", default="ngm",
                   help="method whose trace is compared (default ngm; --optimizer is the older spelling)")
    q.add_argument("--signal", default="gain", help="data variable: gain (default) or an LC state such as lc_v")
    q.add_argument("--ms-per-iteration", type=positive(float), default=None,
                   help="milliseconds per training iteration (default: fitted to the LC latency and NE decay)")
    q.add_argument("--reference", action="append", default=[], metavar="CSV",
                   help="extra reference/user curve (CSV with a .yaml sidecar); repeatable")
    q.add_argument("--nwb", action="append", default=[], metavar="FILE:SERIES:SIGNAL[:EVENT_S]",
                   help="NWB TimeSeries as a user curve (signal: lc_rate, ne, pupil, gain); repeatable")
    q.add_argument("--window", type=int, default=None, help="iterations after each switch (default whole context)")
    q.add_argument("--out", default=None, help="directory for comparison.csv, time_mapping.json and the figure")
    q.add_argument("--format", type=formats, default=["pdf", "png"], help="figure formats (default pdf,png)")
    q.set_defaults(func=cmd_compare_bio)


def cmd_figures(args) -> int:
    """Handler of ``lcne figures``."""
    from lcne.analysis.results_io import load_results
    from lcne.experiments.results import check_output_dir, commit_folder

    out = check_output_dir(args.out, need_bytes=20 * 2**20)  # before any work: writable, ~20 MB free
    datasets = load_results(args.results)
    with commit_folder(out) as stage:  # figures and tables: all new or all old
        paths = _write_figures(args, datasets, stage)
    for p in paths:
        print(out / p.relative_to(stage))
    return 0


def _write_figures(args, datasets, out) -> list:
    """The figure set and the numbers behind it, written into ``out``; returns the paths."""
    from lcne.analysis.figure_set import make_figure_set
    from lcne.analysis.gap_gain import relate, seed_statistics, switch_table, task_complexity
    from lcne.analysis.results_io import run_info

    paths = make_figure_set(datasets, out, formats=args.format, method=args.method,
                            ms_per_iteration=args.ms_per_iteration, convention=args.convention)
    # the numbers behind the figures
    table = switch_table(datasets, tolerance=args.tolerance)
    table.to_csv(out / "switch_table.csv", index=False, float_format="%.6g")
    written = [out / "switch_table.csv"]
    gains = table[table["method"] == args.method]
    if len(gains):
        rel = relate(gains, "gain_peak", "depth_rel", by=["benchmark"])
        rel.to_csv(out / "gain_gap_regression.csv", index=False, float_format="%.6g")
        written.append(out / "gain_gap_regression.csv")
    stats, tc_rows = [], []
    for ds in datasets:
        info = run_info(ds)
        st = seed_statistics(ds, convention=args.convention, percent=True)
        st.insert(0, "eta", info["eta"])
        st.insert(0, "benchmark", info["benchmark"])
        stats.append(st)
        if args.method in [str(o) for o in ds["method"].values]:
            tc = task_complexity(ds, method=args.method)
            tc_rows.append(dict(benchmark=info["benchmark"], eta=info["eta"], paper_slope=tc.paper_slope,
                                paper_intercept=tc.paper_intercept, slope_mean=tc.slope_mean, slope_sd=tc.slope_sd,
                                slope_ci_boot_low=tc.slope_ci_boot[0], slope_ci_boot_high=tc.slope_ci_boot[1],
                                p_value=tc.p_value, verdict=tc.verdict(), n_seeds=len(tc.seed_slopes)))
    import pandas as pd

    pd.concat(stats, ignore_index=True).to_csv(out / "seed_statistics.csv", index=False, float_format="%.6g")
    written.append(out / "seed_statistics.csv")
    if tc_rows:
        pd.DataFrame(tc_rows).to_csv(out / "task_complexity.csv", index=False, float_format="%.6g")
        written.append(out / "task_complexity.csv")
    return list(paths) + written


def cmd_compare_bio(args) -> int:
    """Handler of ``lcne compare-bio``."""
    from lcne.analysis.biology import compare_to_biology, load_nwb_curve, load_reference_file
    from lcne.analysis.results_io import load_results
    from lcne.experiments.results import check_output_dir, commit_folder

    if args.out:
        check_output_dir(args.out, need_bytes=5 * 2**20)  # before any work: writable, ~5 MB free
    datasets = load_results(args.results)
    users = [load_reference_file(p) for p in args.reference]
    for spec in args.nwb:
        path, series, signal, event = nwb_spec(spec)
        users.append(load_nwb_curve(path, series, signal=signal, event_time_s=event))
    cmp = compare_to_biology(datasets, method=args.method, signal=args.signal,
                             ms_per_iteration=args.ms_per_iteration, user_references=users, window=args.window)
    print(cmp.summary())
    if args.out:
        from lcne.analysis.figure_set import fig_biology
        from lcne.analysis.figure_io import save_figure

        out = Path(args.out)
        with commit_folder(out) as stage:  # table, mapping and figure: all new or all old
            cmp.table.to_csv(stage / "comparison.csv", index=False, float_format="%.6g")
            (stage / "time_mapping.json").write_text(json.dumps(cmp.mapping.to_dict(), indent=2) + "\n")
            paths = save_figure(fig_biology(cmp), stage / "biology", args.format)
        for p in [stage / "comparison.csv", stage / "time_mapping.json", *paths]:
            print(out / p.relative_to(stage))
    return 0
