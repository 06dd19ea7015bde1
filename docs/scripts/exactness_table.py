"""The exactness table of evaluation schedules, from full-density results (docs/performance.md).

For every benchmark among the given results files (evaluated after every iteration: the
study's tuning batches, or any ``lcne run``), and for each candidate schedule, prints the
largest error over all runs that did not diverge in avg-SG, avg-min-ACC, WC-ACC (both
conventions) and avg-ACC, the share of blocks whose M_k lies on an evaluated iteration,
and whether the study protocol's rule (avg-SG <= 0.005, accuracies <= 0.5 pp) accepts it.

    python docs/scripts/exactness_table.py results/studies/study-*/tuning/batches /tmp/exact.nc
"""
from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np

from lcne.analysis.results_io import open_batch, results_files
from lcne.analysis.schedule_rule import schedule_errors, within_tolerance
from lcne.experiments.eval_schedule import parse_schedule

CANDIDATES = ["switch:50/10", "switch:100/10", "switch:100/5"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="+", help="full-density results files or folders")
    p.add_argument("--schedules", default=",".join(CANDIDATES))
    args = p.parse_args(argv)
    by_bench = defaultdict(list)
    paths = [f for r in args.results for f in (results_files(r) if Path(r).is_dir() else [Path(r)])]
    for path in paths:
        ds = open_batch(path)
        if "evaluated" in ds and not bool(np.all(ds["evaluated"].values)):
            continue  # not full density
        by_bench[ds.attrs["benchmark"]].append(ds)
    print("| benchmark | schedule | evaluated | runs | avg-SG | avg-min-ACC (code / after-first), pp "
          "| WC-ACC (code / after-first), pp | avg-ACC, pp | M_k on an evaluated iteration | rule |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for bench in sorted(by_bench):
        for spec in args.schedules.split(","):
            sched = parse_schedule(spec)
            e = schedule_errors(by_bench[bench], sched)
            print(f"| {bench} | {spec} | {e['fraction'] * 100:.0f} % | {e['n_runs']} | {e['avg_sg']:.4f} "
                  f"| {e['avg_min_acc_code'] * 100:.2f} / {e['avg_min_acc_after_first'] * 100:.2f} "
                  f"| {e['wc_acc_code'] * 100:.2f} / {e['wc_acc_after_first'] * 100:.2f} | {e['avg_acc'] * 100:.2f} "
                  f"| {e['m_hit'] * 100:.0f} % | {'accepted' if within_tolerance(e) else 'rejected'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
