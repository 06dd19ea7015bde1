"""``lcne report RESULTS...``: Markdown (and HTML) reproduction report with verdicts."""
from __future__ import annotations

from lcne.experiments.cli_args import open_unit_interval

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report",
        help="reproduction report: our tables next to the paper's, paired tests, verdict per claim",
        description="Read results files (lcne run outputs or sweep batch files), group them by benchmark, "
        "and write a Markdown report (and HTML with --html) with the paper's values, per-seed spread, "
        "bootstrap CIs, paired sign-flip tests and a verdict per claim.",
    )
    p.add_argument("results", nargs="+", help="netCDF results files")
    p.add_argument("--out", default="report.md", help="Markdown output path (default report.md)")
    p.add_argument("--html", action="store_true", help="also write an HTML version beside it")
    p.add_argument("--convention", default="code", choices=["code", "after-first"],
                   help="avg-min-ACC convention (default: the authors' code)")
    p.add_argument("--alpha", type=open_unit_interval, default=0.05,
                   help="significance level of the verdicts, 0 < alpha < 1 (default 0.05)")
    p.add_argument("--title", default="Reproduction report")
    p.add_argument("--figure", default=None, metavar="STEM",
                   help="also write a summary figure STEM.png/.pdf: avg-SG and WC-ACC per seed and method")
    p.set_defaults(func=_cmd_report)


def _load(path):
    from lcne.analysis.results_io import open_results

    ds = open_results(path)
    if "config" in ds.dims:  # sweep batch files carry a length-1 config dimension
        ds = ds.isel(config=0)
    return ds


def _cmd_report(args) -> int:
    import html
    from pathlib import Path

    from lcne.analysis.report import build_report
    from lcne.experiments.results import check_output_dir, commit_files

    check_output_dir(Path(args.out).parent, need_bytes=2**20)  # before any work: writable, ~1 MB free
    if args.figure:
        check_output_dir(Path(args.figure).parent)
    datasets = [_load(p) for p in args.results]
    text = build_report(datasets, convention=args.convention, alpha=args.alpha, title=args.title)
    out = Path(args.out)
    pages = {out: text}
    if args.html:
        body = html.escape(text)
        page = f"<!doctype html><meta charset='utf-8'><title>{html.escape(args.title)}</title><pre>{body}</pre>"
        try:
            import markdown  # optional

            page = f"<!doctype html><meta charset='utf-8'><title>{html.escape(args.title)}</title>" + \
                markdown.markdown(text, extensions=["tables"])
        except ImportError:
            pass
        pages[out.with_suffix(".html")] = page
    with commit_files() as files:  # Markdown and HTML: both new or both old
        for target, content in pages.items():
            Path(files.temp(target)).write_text(content)
    print(f"report: {out}")
    if args.html:
        print(f"html:   {out.with_suffix('.html')}")
    if args.figure:
        from lcne.analysis.figure_io import save_figure
        from lcne.analysis.study_figure import study_figure

        paths = save_figure(study_figure(datasets, convention=args.convention), args.figure)
        print("figure: " + ", ".join(str(p) for p in paths))
    return 0
