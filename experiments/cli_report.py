"""``lcne report RESULTS...``: Markdown (and HTML) reproduction report with verdicts;
``lcne study-report RESULTS...``: the pre-registered study's report (Markdown, forest plot)."""
from __future__ import annotations

from lcne.experiments.cli_args import open_unit_interval

__all__ = ["register"]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "report",
        help="reproduction report: our tables next to the paper's, paired tests, verdict per claim",
        description="Read results files (lcne run outputs or sweep batch files), group them by benchmark, "
        "and write a Markdown report (and HTML with --html) with the paper's values (marked verbatim or "
        "second-hand), per-seed spread, t intervals, exact two-sided paired sign-flip tests with Holm over all "
        "claims, k/n seeds agreeing, and a verdict per claim.",
    )
    p.add_argument("results", nargs="+", help="netCDF results files")
    p.add_argument("--out", default="report.md", help="Markdown output path (default report.md)")
    p.add_argument("--html", action="store_true", help="also write an HTML version beside it")
    p.add_argument("--convention", default="code", choices=["code", "after-first"],
                   help="avg-min-ACC convention (default: the authors' code)")
    p.add_argument("--alpha", type=open_unit_interval, default=0.05,
                   help="family-wise significance level of the verdicts (Holm), 0 < alpha < 1 (default 0.05)")
    p.add_argument("--title", default="Reproduction report")
    p.add_argument("--figure", default=None, metavar="STEM",
                   help="also write a summary figure STEM.png/.pdf: avg-SG and WC-ACC per seed and method")
    p.set_defaults(func=_cmd_report)

    q = subparsers.add_parser(
        "study-report",
        help="study report: pre-registered claim families, exact paired tests, Holm per family, forest plot",
        description="Read the study's results files (files or folders of *.nc; several files per benchmark merge "
        "along method) and write the study report: the protocol commit, a verdict per pre-registered claim "
        "(exact two-sided sign-flip p, Holm within each family, t and BCa intervals), per-benchmark tables, "
        "the verdicts that change under the code convention, and the deviations from the protocol.",
    )
    q.add_argument("results", nargs="+", help="netCDF results files or folders holding them")
    q.add_argument("--out", default="docs/study.md", help="Markdown output path (default docs/study.md)")
    q.add_argument("--figure", default=None, metavar="PATH",
                   help="also write the forest plot: PATH.png or PATH.pdf (that format), or a stem (both)")
    q.add_argument("--protocol-commit", default=None, metavar="REV",
                   help="git revision of docs/study_protocol.md the study was run under (cited in the report)")
    q.add_argument("--deviations", default=None, metavar="FILE",
                   help="text file of deviations from the protocol, one per line ('- ' bullets and #-comments allowed)")
    q.add_argument("--title", default="Study report")
    q.set_defaults(func=_cmd_study_report)


def _load(path):
    from lcne.analysis.results_io import open_batch

    return open_batch(path)


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


def _deviations(path) -> list:
    """Deviations from a text file: one per non-empty line; '#' lines are comments, a leading
    '- ' or '* ' is dropped."""
    from pathlib import Path

    from lcne.experiments.errors import ConfigError

    if path is None:
        return []
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"--deviations {p}: file not found; give a text file with one deviation per line") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--deviations {p}: cannot read it ({getattr(exc, 'strerror', None) or exc}); give a UTF-8 "
                          f"text file with one deviation per line") from None
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line[:2] in ("- ", "* "):
            line = line[2:].strip()
        out.append(line)
    return out


def _study_datasets(paths) -> list:
    """Every results Dataset of ``paths``; a sweep's ``config`` dimension is split into its batches."""
    from lcne.analysis.results_io import load_results

    out = []
    for ds in load_results(list(paths)):
        if "config" in ds.dims:
            out += [ds.isel(config=i) for i in range(ds.sizes["config"])]
        else:
            out.append(ds)
    return out


def _figure_target(path):
    """(stem, formats) of --figure: a .png/.pdf/.svg suffix picks that format; else png and pdf."""
    from pathlib import Path

    p = Path(path)
    if p.suffix.lower() in (".png", ".pdf", ".svg"):
        return p.with_suffix(""), (p.suffix.lower()[1:],)
    return p, ("png", "pdf")


def _cmd_study_report(args) -> int:
    import os
    from pathlib import Path

    from lcne.analysis.study_report import build_study_report, study_tables
    from lcne.experiments.results import check_output_dir, commit_files

    out = Path(args.out)
    check_output_dir(out.parent, need_bytes=2**20)  # before any work: writable, ~1 MB free
    stem = formats = None
    if args.figure:
        stem, formats = _figure_target(args.figure)
        check_output_dir(stem.parent, need_bytes=2**20)
    deviations = _deviations(args.deviations)
    datasets = _study_datasets(args.results)
    tables = study_tables(datasets)
    link = None
    if stem is not None:  # the figure first: a report never links a figure that failed to write
        from lcne.analysis.figure_io import save_figure
        from lcne.analysis.study_figure import forest_figure

        paths = save_figure(forest_figure(tables), stem, formats)
        link = Path(os.path.relpath(paths[0], out.parent)).as_posix()
    text = build_study_report(datasets, protocol_commit=args.protocol_commit, deviations=deviations,
                              title=args.title, figure=link, tables=tables)
    with commit_files() as files:
        Path(files.temp(out)).write_text(text)
    if stem is not None:
        print("figure: " + ", ".join(str(p) for p in paths))
    print(f"report: {out}")
    return 0
