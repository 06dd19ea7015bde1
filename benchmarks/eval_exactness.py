"""What a cheaper evaluation costs in exactness, as a Markdown table.

Given a results file evaluated after every iteration (``lcne run`` with the default
``--eval-schedule every``), mask its curves with a schedule and print, for the task-1
metrics, the largest and mean absolute error the schedule causes over the runs, and how
often M_k / F_k fall on an evaluated iteration (:func:`lcne.analysis.eval_exactness.schedule_exactness`).
With ``--compare OTHER.nc`` (the same runs evaluated another way, e.g. ``--eval-precision
bf16`` or ``--eval-subset N``) print the metric-by-metric difference of the two files
instead; for a file evaluated on fixed subsets also the binomial noise floor.

Usage::

    python benchmarks/eval_exactness.py results/split-mnist.nc --schedule switch:20/10
    python benchmarks/eval_exactness.py fp32/split-mnist.nc --compare bf16/split-mnist.nc
"""
from __future__ import annotations

import argparse
import sys

from lcne.analysis.eval_exactness import (
    compare_results,
    markdown_table,
    noise_floor_table,
    schedule_exactness,
)
from lcne.analysis.results_io import open_results
from lcne.errors import LcneError
from lcne.experiments.eval_schedule import EvalSchedule


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="eval_exactness.py", description=__doc__.split("\n\n")[0])
    p.add_argument("results", help="a results file (netCDF) evaluated after every iteration")
    p.add_argument("--schedule", action="append", default=[], metavar="SPEC",
                   help="schedule to measure (every, every:K, switch:W/K); repeatable")
    p.add_argument("--compare", default=None, metavar="OTHER.nc", help="the same runs evaluated another way")
    p.add_argument("--eval-task", type=int, default=1, help="task whose curve is measured (default 1)")
    args = p.parse_args(argv)
    if not args.schedule and not args.compare:
        p.error("give --schedule SPEC and/or --compare OTHER.nc")
    try:
        ds = open_results(args.results)
        blocks = []
        for spec in args.schedule:
            blocks.append(schedule_exactness(ds, EvalSchedule.parse(spec), args.eval_task).to_markdown())
        if args.compare:
            other = open_results(args.compare)
            label = lambda d: "{} / {} / subset {}".format(  # noqa: E731
                d.attrs.get("eval_schedule", "every"), d.attrs.get("eval_precision", "fp32"),
                d.attrs.get("eval_subset", 0) or "all")
            blocks.append(compare_results(ds, other, args.eval_task, (label(ds), label(other))).to_markdown())
            for d, path in ((ds, args.results), (other, args.compare)):
                if "eval_subset_sizes" in d.attrs:
                    t = noise_floor_table(d, args.eval_task)
                    rows = [[m, int(r["N"]), int(r["n"]), f"{r['floor_p05'] * 100:.2f} pp", f"{r['final_acc'] * 100:.2f} %",
                             f"{r['floor_final'] * 100:.2f} pp"] for m, r in t.iterrows()]
                    blocks.append(f"Subset noise floor of {path}, task {args.eval_task}\n\n" + markdown_table(
                        ["method", "N", "n", "sd at p=0.5", "final acc", "sd at final acc"], rows))
    except LcneError as exc:
        print(f"eval_exactness.py: error: {exc}", file=sys.stderr)
        return 2
    print("\n\n".join(blocks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
