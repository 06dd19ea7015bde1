"""Does the size of the gain peak predict the size of the stability gap?

Reads NGM-SGD results of Split and Rotated MNIST at several eta values (``lcne run
BENCHMARK --optimizers ngm --eta ETA``), writes the figures of
``docs/gain_gap_analysis.md`` to ``docs/figures/`` and prints the statistics quoted there.

Usage::

    python docs/scripts/gain_gap_analysis.py RESULTS.nc... [--out docs/figures] [--boot 2000]

Statistics: per switch, gap size (SG_k and absolute depth) against the gain peak above
its pre-switch level. Switches of one run are not independent, so confidence intervals
come from a cluster bootstrap over runs (one run = one eta and one seed). Three views:
pooled over eta; within eta (seeds only); and a multiple regression with switch index and
eta as covariates, which asks whether the gain peak carries information beyond them.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from lcne.analysis.figure_set import fig_gain_gap, fig_task1
from lcne.analysis.gap_gain import gain_gap_xcorr, regress, relate, switch_table, xcorr_summary
from lcne.analysis.results_io import load_results, run_info
from lcne.analysis.figure_io import save_figure
from lcne.analysis.style import ONE_COLUMN, apply_style


def multiple_regression(sub: pd.DataFrame, x: str, y: str, n_boot: int, seed: int = 0) -> dict:
    """y ~ x + switch dummies + eta dummies; cluster-bootstrap CI of the x coefficient."""
    sub = sub[np.isfinite(sub[x].to_numpy(float)) & np.isfinite(sub[y].to_numpy(float))]
    def design(d):
        cols = [np.ones(len(d)), d[x].to_numpy(float)]
        for k in sorted(d["switch"].unique())[1:]:
            cols.append((d["switch"] == k).to_numpy(float))
        for e in sorted(d["eta"].unique())[1:]:
            cols.append((d["eta"] == e).to_numpy(float))
        return np.column_stack(cols)

    X, Y = design(sub), sub[y].to_numpy(float)
    beta = np.linalg.lstsq(X, Y, rcond=None)[0]
    runs = (sub["eta"].astype(str) + "|" + sub["seed"].astype(str)).to_numpy()
    uniq = np.unique(runs)
    members = [np.flatnonzero(runs == u) for u in uniq]
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = np.concatenate([members[i] for i in rng.integers(0, len(uniq), len(uniq))])
        Xb = X[idx]
        if np.linalg.matrix_rank(Xb) < X.shape[1]:
            continue
        boots.append(np.linalg.lstsq(Xb, Y[idx], rcond=None)[0][1])
    lo, hi = np.percentile(boots, [2.5, 97.5]) if boots else (np.nan, np.nan)
    return {"coef": float(beta[1]), "ci_low": float(lo), "ci_high": float(hi), "n_boot_used": len(boots)}


def fig_xcorr(summary: pd.DataFrame):
    import matplotlib.pyplot as plt

    apply_style()
    fig, ax = plt.subplots(figsize=(ONE_COLUMN, 2.3))
    for i, (b, sub) in enumerate(summary.groupby("benchmark")):
        c = ["#0072B2", "#D55E00"][i % 2]
        ax.plot(sub["lag"], sub["r_mean"], color=c, label=b)
        ax.fill_between(sub["lag"], sub["ci_low"], sub["ci_high"], color=c, alpha=0.25, lw=0)
    ax.axvline(0, color="0.5", lw=0.5)
    ax.axhline(0, color="0.5", lw=0.5)
    ax.set_xlabel("lag (training iterations; > 0: gain leads)")
    ax.set_ylabel("correlation r (dimensionless)")
    ax.set_title("gain excursion vs accuracy drop after a switch", fontsize=7)
    ax.legend(frameon=False, fontsize=6)
    fig.tight_layout()
    return fig


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", nargs="+")
    ap.add_argument("--out", default="docs/figures")
    ap.add_argument("--boot", type=int, default=2000)
    ap.add_argument("--formats", default="png", help="comma list of figure formats (default png)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    fmts = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    datasets = load_results(args.results)
    tab = switch_table(datasets, methods=["ngm"])
    report = {"runs": {}, "pooled": {}, "within_eta": {}, "adjusted": {}, "run_level": {}, "xcorr_peak": {}}
    for b, sub in tab.groupby("benchmark"):
        report["runs"][b] = {f"{e:g}": int(s["seed"].nunique()) for e, s in sub.groupby("eta")}
        for y in ("depth_rel", "depth_abs", "gap_area", "t_recover"):
            for x in ("gain_peak", "gain_area"):
                r = regress(sub[x], sub[y], groups=sub["eta"].astype(str) + "|" + sub["seed"].astype(str),
                            n_boot=args.boot, x_name=x, y_name=y)
                report["pooled"].setdefault(b, {})[f"{y}~{x}"] = r.to_dict()
        rel = relate(sub, "gain_peak", "depth_rel", by=["eta"], groups=["seed"], n_boot=args.boot)
        report["within_eta"][b] = rel.set_index("eta")[["n", "slope", "slope_ci_boot_low", "slope_ci_boot_high", "r",
                                                         "p_value", "spearman_rho"]].to_dict("index")
        report["adjusted"][b] = multiple_regression(sub, "gain_peak", "depth_rel", args.boot)
        per_k = relate(sub, "gain_peak", "depth_rel", by=["switch"], groups=["eta", "seed"], n_boot=args.boot)
        report.setdefault("per_switch", {})[b] = per_k.set_index("switch")[
            ["n", "slope", "slope_ci_boot_low", "slope_ci_boot_high", "r", "p_value", "spearman_rho"]].to_dict("index")
        by_eta = sub.groupby("eta").agg(gain_peak=("gain_peak", "mean"), depth_rel=("depth_rel", "mean"),
                                        t_min=("t_min", "median"), t_recover=("t_recover", "median"),
                                        gap_area=("gap_area", "mean"), n=("depth_rel", "size"))
        report.setdefault("by_eta", {})[b] = by_eta.round(4).to_dict("index")
        runs = sub.groupby(["eta", "seed"]).agg(peak=("gain_peak", "mean"), sg=("depth_rel", "mean")).reset_index()
        r = regress(runs["peak"], runs["sg"], n_boot=args.boot, x_name="mean gain peak", y_name="avg-SG")
        report["run_level"][b] = r.to_dict()
    from lcne.analysis.gap_gain import seed_statistics

    for ds in datasets:
        info = run_info(ds)
        st = seed_statistics(ds, percent=True, n_boot=args.boot)
        st = st[st["metric"].isin(["avg_sg", "avg_min_acc"])]
        report.setdefault("seed_stats", {})[f"{info['benchmark']} eta={info['eta']:g}"] = (
            st.set_index("metric")[["paper_value", "paper_err", "seed_mean", "seed_sd", "boot_low", "boot_high",
                                    "n_seeds"]].round(4).to_dict("index"))
    xs = xcorr_summary(gain_gap_xcorr(datasets, max_lag=15), n_boot=args.boot)
    for b, sub in xs.groupby("benchmark"):
        pk = sub[sub["is_peak"]].iloc[0]
        report["xcorr_peak"][b] = {"lag": int(pk.lag), "r": float(pk.r_mean), "ci": [float(pk.ci_low), float(pk.ci_high)],
                                   "r_lag0": float(sub[sub.lag == 0].r_mean.iloc[0])}
    out.mkdir(parents=True, exist_ok=True)
    save_figure(fig_gain_gap(datasets, table=tab), out / "gain_gap_scatter", fmts)
    save_figure(fig_gain_gap(datasets, table=tab, colour_by="switch"), out / "gain_gap_by_switch", fmts)
    save_figure(fig_xcorr(xs), out / "gain_gap_xcorr", fmts)
    for ds in datasets:
        info = run_info(ds)
        save_figure(fig_task1(ds), out / f"task1_{info['benchmark']}_eta{info['eta']:g}", fmts)
    tab.to_csv(out / "gain_gap_switch_table.csv", index=False, float_format="%.6g")
    print(json.dumps(report, indent=1, default=float))


if __name__ == "__main__":
    main()
