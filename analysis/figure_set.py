"""The paper's figure set, written from results files (``lcne figures RESULTS... --out DIR``).

Each figure is one function that takes loaded results and returns a matplotlib Figure;
:func:`make_figure_set` writes them all as vector PDF and 300-dpi PNG
(:func:`lcne.analysis.figure_io.save_figure`). Sizes follow the one- and two-column widths
of :mod:`lcne.analysis.style`; metric labels and units and method labels, colours and line
styles come from :mod:`lcne.analysis.vocabulary`; every axis states its unit.

=========================  ===================================================================
file stem                  content
=========================  ===================================================================
``task1_<benchmark>``      task-1 accuracy (%), task-1 loss (nats), gain and LC state per method
                           (:func:`fig_task1`, also the figure of ``lcne run``)
``metrics``                avg-ACC, avg-min-ACC, WC-ACC (%), avg-SG per method and benchmark
``transition_sg``          SG_k per transition, per method and benchmark
``task_complexity``        mean gain per context with the linear fit (NGM-SGD)
``gain_gap``               gap depth against gain peak at every switch, with fit and CI band
``biology``                model vs biology: pupil prediction, gain in ms, feature agreement
=========================  ===================================================================
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import xarray as xr

from lcne.analysis.figure_io import save_figure
from lcne.analysis.results_io import load_results, run_info, task1_accuracy
from lcne.analysis.style import ONE_COLUMN, TWO_COLUMN, apply_style, marker_for
from lcne.analysis.vocabulary import (
    SUMMARY_METRICS,
    fallback_colour,
    method_colour,
    method_label,
    method_style,
    metric,
)

__all__ = [
    "fig_task1",
    "fig_metrics",
    "fig_transition_sg",
    "fig_task_complexity",
    "fig_gain_gap",
    "fig_biology",
    "make_figure_set",
    "primary_by_benchmark",
]

log = logging.getLogger(__name__)


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    apply_style()
    return plt


def _switch_lines(ax, I: int, T: int):
    for k in range(1, T):
        ax.axvline(k * I, color="0.55", lw=0.5, ls="--", zorder=0)


def _title(ds: xr.Dataset) -> str:
    info = run_info(ds)
    eta = f", eta = {info['eta']:g}" if np.isfinite(info["eta"]) else ""
    return f"{info['benchmark']}{eta} ({ds.sizes['seed']} seeds)"


def primary_by_benchmark(datasets: Sequence[xr.Dataset]) -> Dict[str, xr.Dataset]:
    """One results file per benchmark for the per-benchmark figures.

    Among files of the same benchmark (e.g. an eta sweep) the one with the most
    methods wins, then the most seeds, then the first given.
    """
    best: Dict[str, xr.Dataset] = {}
    for ds in datasets:
        b = run_info(ds)["benchmark"]
        key = (ds.sizes["method"], ds.sizes["seed"])
        if b not in best or key > (best[b].sizes["method"], best[b].sizes["seed"]):
            best[b] = ds
    return best


# ------------------------------------------------------------------------- figures

def fig_task1(ds: xr.Dataset, *, eval_task: int = 1, loss: bool = True, lc_state: bool = True,
              title: Optional[str] = None):
    """The task-1 figure: accuracy on ``eval_task`` and the gain against iteration.

    The one figure of a run's task-1 curves, drawn by ``lcne run`` (``loss=False,
    lc_state=False``) and by ``lcne figures`` (every row). Rows, sharing the iteration
    axis:

    * task-``eval_task`` accuracy (%) per method: seed mean with a band of ±1 sd
      (population sd across seeds); the legend above it names the methods;
    * ``loss``: task-``eval_task`` loss (nats), when the results hold ``loss``;
    * gain g (dimensionless) of every method whose gain is not 1 throughout, seed mean and
      band; a dotted line marks g = 1, the gain of the methods without gain modulation;
    * ``lc_state``: the recorded LC controller state (``lc_*`` variables, model units;
      seed mean), when a run recorded one that moves.

    Dashed vertical lines mark the context switches, labelled with the context that
    starts there (T2, T3, ...). Colours, labels and line styles of the methods are those of
    :mod:`lcne.analysis.vocabulary`.

    Parameters
    ----------
    ds : xarray.Dataset
        One results file.
    eval_task : int
        Task whose accuracy and loss are shown (the paper: task 1).
    loss, lc_state : bool
        Draw the loss row and the LC-state row (each only when the results hold it).
    title : str, optional
        Figure title (default: benchmark, eta when the paper integrator ran, seeds).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _plt()
    info = run_info(ds)
    I, T = info["iterations_per_task"], info["n_tasks"]
    it = ds["iteration"].values
    methods = [str(m) for m in ds["method"].values]
    looks = [method_style(m, i) for i, m in enumerate(methods)]
    has_loss = loss and "loss" in ds.data_vars
    lc_vars = [v for v in ds.data_vars if str(v).startswith("lc_") and ds[v].dims[-1] == "iteration"
               and float(np.nanmax(ds[v].values) - np.nanmin(ds[v].values)) > 0] if lc_state else []
    n_rows = 2 + has_loss + bool(lc_vars)
    fig, axes = plt.subplots(n_rows, 1, sharex=True, figsize=(TWO_COLUMN, 1.3 * n_rows + 0.9),
                             gridspec_kw={"height_ratios": [2] + [1.2] * (n_rows - 1)}, squeeze=False)
    axes = axes[:, 0]
    ax_acc, ax_gain = axes[0], axes[1 + has_loss]
    acc = task1_accuracy(ds, eval_task)

    def band(ax, y, look, label=None):
        # only the iterations some seed evaluated: a sparse evaluation schedule leaves NaN
        # elsewhere, drawn as one line through the evaluated points (never forward-filled)
        y = np.asarray(y, dtype=float)
        keep = np.isfinite(y).any(axis=0)
        y, x = y[:, keep], it[keep]
        m, s = np.nanmean(y, axis=0), np.nanstd(y, axis=0)
        ax.plot(x, m, color=look.colour, ls=look.linestyle, lw=0.9, label=label)
        ax.fill_between(x, m - s, m + s, color=look.colour, alpha=0.18, lw=0)

    for opt, look in zip(methods, looks):
        band(ax_acc, 100 * acc.sel({"method": opt}).values, look, look.label)
        if has_loss:
            band(axes[1], ds["loss"].sel({"method": opt, "eval_task": eval_task})
                 .transpose("seed", "iteration").values, look)
        g = ds["gain"].sel({"method": opt}).transpose("seed", "iteration").values
        if np.nanmax(np.abs(g - 1.0)) > 0:  # g = 1 throughout: the dotted reference line
            band(ax_gain, g, look)
    ax_gain.axhline(1.0, color="0.45", lw=0.7, ls=":", zorder=0)
    ax_gain.annotate("g = 1", xy=(1.0, 1.0), xycoords=("axes fraction", "data"), xytext=(2, 0),
                     textcoords="offset points", va="center", ha="left", fontsize=6, color="0.35")
    if lc_vars:
        ax_lc = axes[-1]
        dashes = ["-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 2))]
        moving = [(opt, look) for opt, look in zip(methods, looks)
                  if any(np.nanmax(ds[v].sel({"method": opt}).values) - np.nanmin(ds[v].sel({"method": opt}).values) > 0
                         for v in lc_vars)]
        for j, var in enumerate(lc_vars):
            for opt, look in moving:
                y = ds[var].sel({"method": opt}).transpose("seed", "iteration").values
                if np.nanmax(y) - np.nanmin(y) > 0:
                    label = var if len(moving) == 1 else f"{var} ({look.label})"
                    ax_lc.plot(it, np.nanmean(y, axis=0), color=look.colour, ls=dashes[j % len(dashes)], lw=0.8,
                               label=label)
        ax_lc.set_ylabel("LC state\n(model units)")
        ax_lc.legend(frameon=False, fontsize=6, loc="center left", bbox_to_anchor=(1.005, 0.5),
                     handlelength=2.6)
    for ax in axes:
        _switch_lines(ax, I, T)
    for k in range(2, T + 1):
        ax_acc.annotate(f"T{k}", xy=((k - 1) * I, 0.02), xycoords=("data", "axes fraction"), xytext=(2, 0),
                        textcoords="offset points", fontsize=6, color="0.35")
    ax_acc.set_ylabel(f"task-{eval_task} accuracy (%)")
    ax_acc.set_ylim(0, 101)
    # as many columns as fit the width (7 pt text: ~3.9 pt per character, ~25 pt for the handle)
    widest = max(len(look.label) for look in looks)
    ncol = max(1, min(len(methods), int(0.92 * TWO_COLUMN * 72 // (3.9 * widest + 25))))
    ncol = -(-len(methods) // -(-len(methods) // ncol))  # balance the rows
    ax_acc.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=ncol, frameon=False, borderaxespad=0.2)
    if has_loss:
        axes[1].set_ylabel(f"task-{eval_task} loss\n(nats)")
    ax_gain.set_ylabel("gain g\n(dimensionless)")
    axes[-1].set_xlabel("time (training iterations)")
    axes[-1].set_xlim(it[0], it[-1] + 1)
    fig.suptitle(title or _title(ds) + ": seed mean ± 1 sd; dashed lines: context switches", fontsize=8)
    fig.align_ylabels(axes)
    fig.tight_layout()
    return fig


def _benchmarks_and_methods(datasets):
    prim = primary_by_benchmark(datasets)
    methods: List[str] = []
    for ds in prim.values():
        for o in ds["method"].values:
            if str(o) not in methods:
                methods.append(str(o))
    return prim, methods


def fig_metrics(datasets: Sequence[xr.Dataset], *, convention: str = "code"):
    """Summary metrics per method and benchmark; error bars: the paper's propagated sd."""
    from lcne.analysis.metrics import metrics_table

    plt = _plt()
    prim, methods = _benchmarks_and_methods(datasets)
    tables = {b: metrics_table(ds, convention=convention) for b, ds in prim.items()}
    fig, axes = plt.subplots(1, 4, figsize=(TWO_COLUMN, 2.3))
    nb = len(prim)
    width = 0.8 / max(1, len(methods))
    for ax, key in zip(axes, SUMMARY_METRICS):
        for j, opt in enumerate(methods):
            xs, ys, es = [], [], []
            for bi, (b, tab) in enumerate(tables.items()):
                if opt in tab.index:
                    xs.append(bi + (j - (len(methods) - 1) / 2) * width)
                    ys.append(tab.loc[opt, key])
                    es.append(tab.loc[opt, f"{key}_err"])
            ax.bar(xs, ys, width, yerr=es, color=method_colour(opt, j), label=method_label(opt),
                   error_kw=dict(lw=0.6, capsize=1.5))
        ax.set_xticks(range(nb))
        ax.set_xticklabels(list(tables), rotation=30, ha="right")
        ax.set_ylabel(metric(key).axis_label)
    fig.tight_layout()
    _figure_legend(fig, axes)
    fig.suptitle(f"Task-1 metrics, seed-mean curve ± propagated sd (avg-min-ACC convention: {convention})",
                 fontsize=8, y=1.1)
    return fig


def _figure_legend(fig, axes, ncol=None):
    """One legend above the panels with every label used in any of them."""
    handles = {}
    for ax in np.ravel(axes):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="lower center", bbox_to_anchor=(0.5, 0.98),
                   ncol=ncol or len(handles), frameon=False)


def fig_transition_sg(datasets: Sequence[xr.Dataset]):
    """SG_k per transition k (seed-averaged curve, propagated error), one panel per benchmark."""
    from lcne.analysis.metrics import propagated_metrics

    plt = _plt()
    prim, methods = _benchmarks_and_methods(datasets)
    n = len(prim)
    fig, axes = plt.subplots(1, n, figsize=(min(TWO_COLUMN, ONE_COLUMN * max(1, n) * 0.75 + 0.8), 2.2),
                             squeeze=False)
    for ax, (b, ds) in zip(axes[0], prim.items()):
        info = run_info(ds)
        acc = task1_accuracy(ds)
        for j, opt in enumerate(methods):
            if opt not in [str(o) for o in ds["method"].values]:
                continue
            curves = acc.sel({"method": opt}).values
            vals, errs = propagated_metrics(curves.mean(0), curves.std(0), info["iterations_per_task"])
            k = np.arange(2, info["n_tasks"] + 1)
            look = method_style(opt, j)
            ax.errorbar(k, vals["sg"], yerr=errs["sg"], color=look.colour, ls=look.linestyle, marker="o", ms=3,
                        lw=0.8, capsize=1.5, label=look.label)
        ax.set_xticks(np.arange(2, info["n_tasks"] + 1))
        ax.set_xticklabels([f"{k - 1}→{k}" for k in range(2, info["n_tasks"] + 1)])
        ax.set_xlabel("transition (context)")
        ax.set_ylabel(r"SG$_k$ (fraction of $F_{k-1}$)")
        ax.set_title(b)
    fig.tight_layout()
    _figure_legend(fig, axes)
    return fig


def fig_task_complexity(datasets: Sequence[xr.Dataset], *, method: str = "ngm"):
    """Mean gain per context (seed mean ± sd) with the paper's linear fit."""
    from lcne.analysis.gap_gain import task_complexity

    plt = _plt()
    prim = {b: ds for b, ds in primary_by_benchmark(datasets).items()
            if method in [str(o) for o in ds["method"].values]}
    fig, ax = plt.subplots(figsize=(ONE_COLUMN, 2.4))
    for i, (b, ds) in enumerate(prim.items()):
        tc = task_complexity(ds, method=method, n_boot=500)
        pt = tc.per_task.groupby("task")["mean_gain"]
        m, s = pt.mean(), pt.std(ddof=1)
        c = fallback_colour(i)  # benchmarks: the fixed colour cycle, by position
        ax.errorbar(m.index, m.values, yerr=s.values, color=c, marker=marker_for(b, i), ms=3.5, lw=0, elinewidth=0.8,
                    capsize=1.5, label=f"{b}: slope {tc.paper_slope:+.3f}/context ({tc.verdict()})")
        x = np.array(tc.tasks, dtype=float)
        ax.plot(x, tc.paper_intercept + tc.paper_slope * x, color=c, lw=0.8)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("context (task index)")
    ax.set_ylabel("mean gain in context (dimensionless)")
    ax.legend(frameon=False, fontsize=6, loc="best")
    ax.set_title(f"{method_label(method)}: gain as a task-complexity readout")
    fig.tight_layout()
    return fig


def fig_gain_gap(datasets: Sequence[xr.Dataset], *, method: str = "ngm", x: str = "gain_peak",
                 y: str = "depth_rel", table=None, colour_by: str = "eta"):
    """Gap size against gain peak at every switch (all files, seeds and eta), per benchmark.

    Markers: benchmark; colour: eta (``colour_by="eta"``) or the transition
    (``colour_by="switch"``). Line and band: least-squares fit with the 95 % bootstrap band
    (runs resampled).
    """
    from lcne.analysis.gap_gain import switch_table

    plt = _plt()
    tab = switch_table(list(datasets), methods=[method]) if table is None else table
    tab = tab[tab["method"] == method]
    benches = list(dict.fromkeys(tab["benchmark"]))
    if colour_by not in ("eta", "switch"):
        raise ValueError(f"colour_by: {colour_by!r}; allowed: eta, switch")
    levels = sorted(v for v in tab[colour_by].unique() if np.isfinite(v))
    palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000"] * 3
    level_colour = dict(zip(levels, palette))
    n = max(1, len(benches))
    fig, axes = plt.subplots(1, n, figsize=(min(TWO_COLUMN, 2.6 * n + 0.6), 2.5), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, b in zip(axes[0], benches):
        sub = tab[tab["benchmark"] == b]
        for v in levels:
            pts = sub[sub[colour_by] == v]
            if pts.empty:
                continue
            label = f"eta = {v:g}" if colour_by == "eta" else f"transition {int(v) - 1}→{int(v)}"
            ax.scatter(pts[x], pts[y], s=9, marker=marker_for(b), color=level_colour[v], alpha=0.8, lw=0,
                       label=label)
        xv, yv = sub[x].to_numpy(float), sub[y].to_numpy(float)
        ok = np.isfinite(xv) & np.isfinite(yv)
        if ok.sum() >= 3 and np.ptp(xv[ok]) > 0:
            runs = (sub["eta"].astype(str) + "|" + sub["seed"].astype(str)).to_numpy()[ok]
            xv, yv = xv[ok], yv[ok]
            grid = np.linspace(xv.min(), xv.max(), 50)
            slope, icpt = np.polyfit(xv, yv, 1)
            uniq = np.unique(runs)
            members = [np.flatnonzero(runs == u) for u in uniq]
            lines = []
            for _ in range(500):
                idx = np.concatenate([members[i] for i in rng.integers(0, len(uniq), len(uniq))])
                if np.ptp(xv[idx]) > 0:
                    sl, ic = np.polyfit(xv[idx], yv[idx], 1)
                    lines.append(ic + sl * grid)
            ax.plot(grid, icpt + slope * grid, color="k", lw=0.9)
            if lines:
                lo, hi = np.percentile(np.array(lines), [2.5, 97.5], axis=0)
                ax.fill_between(grid, lo, hi, color="0.6", alpha=0.3, lw=0)
            r = np.corrcoef(xv, yv)[0, 1]
            ax.text(0.02, 0.97, f"slope {slope:.3g}, r = {r:.2f}\nn = {ok.sum()} switches, {len(uniq)} runs",
                    transform=ax.transAxes, va="top", fontsize=6)
        ax.set_title(b)
        ax.set_xlabel("gain peak above pre-switch level (dimensionless)" if x == "gain_peak" else x)
        ax.set_ylabel(r"stability gap SG$_k$ (fraction)" if y == "depth_rel" else y)
    for ax in axes[0]:
        ax.legend(frameon=False, fontsize=6, loc="lower right")
    fig.tight_layout()
    return fig


def fig_biology(comparison):
    """Model against biology from a :class:`~lcne.analysis.biology.compare.BioComparison`."""
    plt = _plt()
    cmp = comparison
    fig = plt.figure(figsize=(TWO_COLUMN, 5.0))
    top = fig.add_gridspec(1, 2, left=0.08, right=0.98, top=0.94, bottom=0.62, wspace=0.3)
    bottom = fig.add_gridspec(1, 1, left=0.37, right=0.97, top=0.50, bottom=0.08)
    axes = [fig.add_subplot(top[0, 0]), fig.add_subplot(top[0, 1]), fig.add_subplot(bottom[0, 0])]
    # A: gain excursion in ms (log time) with the LC latency and NE decay references
    ax = axes[0]
    dt = cmp.mapping.ms_per_iteration
    ex = cmp.response.excursion
    t = np.arange(ex.size) * dt
    ax.plot(t[1:], ex[1:], color=method_colour(cmp.response.method), lw=1.0, marker=".", ms=2,
            label=f"model {cmp.response.signal}")
    spans = (("latency", "#56B4E9", "LC phasic latency"), ("decay_tau", "#E69F00", "NE decay time constant"))
    for feat, colour, name in spans:
        rows = cmp.table[(cmp.table["feature"] == feat) & (cmp.table["domain"] == "raw")]
        if len(rows):
            lo, hi = rows["reference_low"].min(), rows["reference_high"].max()
            ax.axvspan(lo, max(hi, lo * 1.05), color=colour, alpha=0.35, lw=0, label=f"{name} (refs)")
    ax.set_xscale("log")
    ax.set_xlim(min(10.0, dt * 0.5), max(t[-1], 3000.0))
    ax.set_xlabel("time after switch (ms, mapped; log)")
    ax.set_ylabel(f"{cmp.response.signal} excursion (dimensionless)")
    ax.legend(frameon=False, fontsize=6, loc="upper left")
    ax.set_title(f"A  after a switch; 1 iteration = {dt:.3g} ms ({cmp.mapping.source})", fontsize=7,
                 loc="left")
    # B: pupil prediction vs kernel
    ax = axes[1]
    pup = cmp.pupil
    ax.plot(pup["t_ms"] / 1000, pup["model"], color=method_colour(cmp.response.method), lw=1.0,
            label="model ⊛ pupil kernel")
    ax.plot(pup["t_ms"] / 1000, pup["reference"], color="k", lw=0.9, ls="--", label="pupil impulse response")
    ax.set_xlim(-0.5, min(8.0, float(pup["t_ms"].max()) / 1000))
    ax.set_xlabel("time after switch (s)")
    ax.set_ylabel("pupil response (peak-normalised)")
    ax.legend(frameon=False, fontsize=6, loc="upper right")
    ax.set_title("B  predicted pupil vs impulse response", fontsize=7, loc="left")
    # C: feature agreement
    ax = axes[2]
    from matplotlib.ticker import NullFormatter

    tab = cmp.table.reset_index(drop=True)
    ys = np.arange(len(tab))[::-1]
    lim = (1e-2, 1e2)
    for yv, r in zip(ys, tab.itertuples()):
        if not (np.isfinite(r.model_value) and r.reference_value > 0):
            continue
        lo, hi = r.band_low / r.reference_value, r.band_high / r.reference_value
        ax.plot([max(lo, lim[0]), min(max(hi, lo * 1.02), lim[1])], [yv, yv], color="0.65", lw=3,
                solid_capstyle="butt")
        ratio = float(np.clip(r.model_value / r.reference_value, lim[0], lim[1]))
        ax.plot(ratio, yv, marker="o" if r.agree else "X", ms=4, color="#009E73" if r.agree else "#D55E00")
    ax.axvline(1.0, color="k", lw=0.5)
    ax.set_xscale("log")
    ax.set_xlim(*lim)
    ax.set_xticks([1e-2, 1e-1, 1, 10, 100])
    ax.set_xticklabels(["0.01", "0.1", "1", "10", "100"])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(ys)
    fit = tab["used_in_fit"] if "used_in_fit" in tab else [False] * len(tab)
    ax.set_yticklabels([f"{r.feature} vs {r.label} [{r.confidence}]" + (" (fit)" if f else "")
                        for r, f in zip(tab.itertuples(), fit)], fontsize=6)
    ax.set_xlabel("model / reference (log scale)")
    ax.set_title("C  grey: reference range with tolerance; o agrees, x does not; (fit): used for the time mapping",
                 fontsize=7, loc="right")
    return fig


# --------------------------------------------------------------------------- driver

def make_figure_set(results, out_dir, *, formats: Sequence[str] = ("pdf", "png"), method: str = "ngm",
                    ms_per_iteration: Optional[float] = None, convention: str = "code") -> List[Path]:
    """Write every figure of the set for the given results.

    Parameters
    ----------
    results : paths or Datasets
        ``lcne run`` outputs; several benchmarks and eta values may be mixed.
    out_dir : path
        Created if needed.
    formats : sequence of str
        File formats (default vector PDF and PNG).
    method : str
        Method whose gain is analysed in the gain figures.
    ms_per_iteration : float, optional
        Time mapping for the biology figure (default: fitted, see
        :func:`lcne.analysis.biology.compare.compare_to_biology`).
    convention : {"code", "after-first"}
        avg-min-ACC convention of the metrics figure.

    Returns
    -------
    list of Path
        The files written.
    """
    from lcne.analysis.biology.compare import compare_to_biology

    datasets = load_results(results)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: List[Path] = []
    prim = primary_by_benchmark(datasets)
    for b, ds in prim.items():
        written += save_figure(fig_task1(ds), out / f"task1_{b}", formats)
    written += save_figure(fig_metrics(datasets, convention=convention), out / "metrics", formats)
    written += save_figure(fig_transition_sg(datasets), out / "transition_sg", formats)
    from lcne.analysis.metrics import finite_curves

    with_gain = []
    for ds in datasets:
        if method not in [str(o) for o in ds["method"].values]:
            continue
        seeds, _, n = finite_curves(ds, method)
        if seeds:
            with_gain.append(ds)
        else:  # said, never silently dropped
            log.warning("%s: every run of method %r diverged (%d of %d seeds): left out of the gain figures",
                        ds.attrs.get("benchmark", "?"), method, n, n)
    if with_gain:
        written += save_figure(fig_task_complexity(with_gain, method=method), out / "task_complexity", formats)
        written += save_figure(fig_gain_gap(with_gain, method=method), out / "gain_gap", formats)
        cmp = compare_to_biology(with_gain, method=method, ms_per_iteration=ms_per_iteration)
        written += save_figure(fig_biology(cmp), out / "biology", formats)
    else:
        log.warning("no results contain method %r with a run that did not diverge: gain figures skipped", method)
    return written
