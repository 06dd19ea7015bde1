"""``lcne validate-spiking``: the acceptance protocol of the spiking LC population (Brian2).

Writes ``<out>/spiking_validation.json`` (one entry per check: name, value, accepted
range, source, kind, tuned parameters, pass/fail), ``<out>/spiking_validation.nc`` (spikes,
population rate and NE of every condition), ``<out>/spiking_rate_model.nc`` (NE, rate, the
Gilzenrat ``u`` and the fitted low-pass baseline on one time axis) and
``<out>/spiking_validation.png``/``.pdf``. The printed summary groups the checks into
calibration, prediction and unverified. Exit code 0 when every evaluable calibration and
prediction check passes (unverified and not-evaluable checks are reported, not counted), 1
when one fails, 2 for a usage error (e.g. Brian2 missing).

Brian2 is optional (``pip install lcne[spiking]``); this module imports it only when the
command runs, so ``lcne --help`` works without it.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from lcne.experiments.cli_args import float_list, iteration_range, numeric_key_value, positive

__all__ = ["register", "cmd_validate_spiking"]

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    """Add the ``validate-spiking`` subcommand to ``subparsers``."""
    p = subparsers.add_parser(
        "validate-spiking",
        help="check the spiking LC population (Brian2) against biology and the rate model",
        description="Run the acceptance protocol of the spiking LC population: tonic rate, phasic "
        "burst, latency, post-burst pause and its growth with burst size, synchrony vs gap-junction "
        "coupling and vs rate, evoked response vs baseline rate, and NE vs the Gilzenrat rate model's u "
        "against the best low-pass of the input. Checks are printed as calibration, prediction and "
        "unverified; a check the population is too small for (synchrony vs rate below 100 cells) is "
        "reported as n/a and not counted. Writes a JSON report, the traces (netCDF) and a figure to "
        "--out. Needs Brian2 (pip install lcne[spiking]).",
    )
    p.add_argument("--out", default="results/spiking", help="output directory (default results/spiking)")
    p.add_argument("--n-cells", type=positive(int), default=300, help="cells per condition (default 300)")
    p.add_argument("--duration", type=positive(float), default=None,
                   help="biological time of the pulse protocol in s; sets the number of trials "
                   "(default 33: 3 s lead + 10 trials of 3 s)")
    p.add_argument("--trial-ms", type=positive(float), default=3000.0, help="interval between pulses, ms (default 3000)")
    p.add_argument("--lead-ms", type=positive(float), default=3000.0,
                   help="silent lead before the first pulse (tonic-rate window), ms (default 3000)")
    p.add_argument("--target", default="cython", choices=("cython", "numpy", "cpp_standalone"),
                   help="Brian2 code generation target (default cython)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--species", default="rat", choices=("rat", "monkey"),
                   help="latency range and afferent delay preset (default rat)")
    p.add_argument("--param", type=numeric_key_value, action="append", default=[], metavar="KEY=VALUE",
                   help="LC population parameter override, e.g. g_gap_nS=0.3 (repeatable)")
    p.add_argument("--coupling", type=float_list, default=None, metavar="G1,G2,...",
                   help="gap-junction conductances of the synchrony sweep, nS")
    p.add_argument("--pacemaker", type=float_list, default=None, metavar="I1,I2,...",
                   help="pacemaker currents of the baseline-rate sweep, pA")
    p.add_argument("--preset", default="gilzenrat2002_phasic", help="Gilzenrat preset for the NE vs u comparison")
    g = p.add_argument_group("drive from a results file (NE vs u comparison input)")
    g.add_argument("--results", default=None, help="netCDF file written by lcne run")
    g.add_argument("--method", "--optimizer", dest="method", default="ngm",
                   help="method whose run is taken from --results (default ngm; --optimizer is the older spelling)")
    g.add_argument("--run-seed", type=int, default=None, help="seed of that run (default: the first)")
    g.add_argument("--variable", default="drive", help="variable to use: drive (default) or entropy")
    g.add_argument("--ms-per-iteration", type=positive(float), default=20.0,
                   help="biological ms per training iteration (default 20)")
    g.add_argument("--iterations", type=iteration_range, default=None, metavar="START:STOP",
                   help="iteration labels to use (default all)")
    p.add_argument("--no-figure", action="store_true", help="skip the figure")
    p.set_defaults(func=cmd_validate_spiking)


def _import_spiking():
    from lcne.experiments.errors import LcneError

    try:
        from lcne.spiking import from_results
        from lcne.spiking.validation import ValidationConfig, run_validation
        from lcne.analysis.spiking_figures import plot_validation
    except ImportError as exc:
        raise LcneError(str(exc)) from None
    return from_results, ValidationConfig, plot_validation, run_validation


def cmd_validate_spiking(args) -> int:
    """Handler of ``lcne validate-spiking``; returns the exit code."""
    from lcne.experiments.errors import ConfigError
    from lcne.experiments.results import write_netcdf

    from_results, ValidationConfig, plot_validation, run_validation = _import_spiking()
    kwargs = {"n_cells": args.n_cells, "seed": args.seed, "target": args.target, "species": args.species,
              "trial_ms": args.trial_ms, "lead_ms": args.lead_ms, "params": dict(args.param),
              "gilzenrat_preset": args.preset}
    lead = args.lead_ms
    if args.duration is not None:
        n_trials = int((args.duration * 1000.0 - lead) // args.trial_ms)
        if n_trials < 1:
            raise ConfigError(f"--duration {args.duration:g} s leaves no trial after the {lead / 1000:g} s lead; "
                              f"use at least {(lead + args.trial_ms) / 1000:g}")
        kwargs["n_trials"] = n_trials
    if args.coupling:
        kwargs["coupling_nS"] = args.coupling
    if args.pacemaker:
        kwargs["pacemaker_pA"] = args.pacemaker
    try:
        cfg = ValidationConfig(**kwargs)
        cfg.lc_params()  # validates --param names
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    from lcne.experiments.results import check_output_dir

    check_output_dir(args.out, need_bytes=50 * 2**20)  # before the simulation: writable, ~50 MB free
    comparison = None
    if args.results:
        from lcne.analysis.results_io import open_results

        ds = open_results(args.results)
        run_seed = args.run_seed if args.run_seed is not None else int(ds.seed.values[0])
        try:
            comparison = from_results(ds, args.method, run_seed, args.ms_per_iteration,
                                      variable=args.variable, iterations=args.iterations)
        except ValueError as exc:
            raise ConfigError(f"--results: {exc}") from None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    result = run_validation(cfg, comparison=comparison)
    report = result.write_report(out / "spiking_validation.json")
    write_netcdf(result.spiking, out / "spiking_validation.nc")
    write_netcdf(result.rate_model, out / "spiking_rate_model.nc")
    print(f"spiking LC validation: {cfg.n_cells} cells x {len(result.spiking.condition)} conditions, "
          f"{cfg.duration_ms() / 1000:g} s biological, target {cfg.target}, {time.perf_counter() - t0:.1f} s")
    print(result.summary())
    print(f"\nreport:  {report}\ntraces:  {out / 'spiking_validation.nc'}, {out / 'spiking_rate_model.nc'}")
    if not args.no_figure:
        from lcne.analysis.figure_io import save_figure

        paths = save_figure(plot_validation(result), out / "spiking_validation", ("png", "pdf"))
        print("figure:  " + ", ".join(str(p) for p in paths))
    return 0 if result.all_passed else 1
