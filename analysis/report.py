"""Reproduction report: our numbers next to the paper's, paired tests, one verdict per claim.

:func:`build_report` reads results Datasets (one or more per benchmark; files of the same
benchmark are merged along ``method``) and returns Markdown. For every benchmark:

* a table of avg-ACC, avg-min-ACC, WC-ACC (percent) and avg-SG per method, in the paper's
  seed convention (seed-averaged curve), with per-seed mean ± sd and a 95 % percentile
  bootstrap CI of the per-seed mean, next to the published values;
* paired comparisons per claim: runs with the same seed share initial weights and batch
  order, so per-seed differences are paired. Reported: mean difference, bootstrap CI and
  exact one-sided sign-flip (permutation) p-values in the claimed direction and against it;
* one line per claim with a verdict:

  - **reproduced**: p (claimed direction) < alpha;
  - **not reproduced**: p (opposite direction) < alpha;
  - **inconclusive**: otherwise. With 5 seeds the smallest attainable p is 1/32 = 0.031,
    reached only when all five paired differences have the same sign.
"""
from __future__ import annotations

import itertools
import json
from typing import Dict, Iterable, List, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from lcne.analysis.gap_gain import bootstrap_ci
from lcne.analysis.metrics import divergence_note, finite_curves, per_seed_metrics, propagated_metrics
from lcne.analysis.paper_values import CITATION, V1_TABLE, V2_AVG_SG
from lcne.analysis.vocabulary import METHODS, SUMMARY_METRICS, metric

__all__ = ["CLAIMS", "METHOD_ORDER", "paired_test", "benchmark_tables", "claim_verdicts", "build_report",
           "merge_results"]

#: (claim text, metric, method a, method b, claimed sign of mean(a - b), source)
CLAIMS = [
    ("NGM-SGD has a smaller avg-SG than momentum SGD", "avg_sg", "ngm", "msgd", -1, "v1/v2 Table 1"),
    ("NGM-SGD has a smaller avg-SG than Adam", "avg_sg", "ngm", "adam", -1, "v1/v2 Table 1"),
    ("NGM-SGD has a smaller avg-SG than plain SGD", "avg_sg", "ngm", "sgd", -1, "v2 Table 1 (all but Rotated MNIST)"),
    ("NGM-SGD matches or beats momentum SGD on avg-ACC", "avg_acc", "ngm", "msgd", 1, "v2 text; disputed by reviewers"),
    ("NGM-SGD beats plain SGD on WC-ACC", "wc_acc", "ngm", "sgd", 1, "v2 text"),
    ("gain dynamics matter beyond a larger step: NGM avg-SG below a fixed gain at NGM's mean level",
     "avg_sg", "ngm", "fixed-gain", -1, "v2 App. C (g = g0 ablation); reviewer question"),
    ("coupling to the run's own uncertainty matters: NGM avg-SG below a replayed gain of another seed",
     "avg_sg", "ngm", "shuffled-gain", -1, "our control"),
    ("entropy driving the learning rate instead of the gain gives a larger avg-SG", "avg_sg", "entropy-lr", "ngm", 1,
     "v3 Fig. 4c,d"),
    ("resetting momentum at switches reduces MSGD's avg-SG", "avg_sg", "msgd-reset", "msgd", -1, "v2 App. G / v3 App. D"),
    ("resetting Adam's state at switches reduces its avg-SG", "avg_sg", "adam-reset", "adam", -1, "v2 App. G / v3 App. D"),
]


#: table order: the paper's method, its baselines, then the ablations (the order of the
#: methods table, :data:`lcne.analysis.vocabulary.METHODS`); other names follow, sorted
METHOD_ORDER = list(METHODS)


def merge_results(datasets: Iterable[xr.Dataset]) -> Dict[str, xr.Dataset]:
    """Group results by benchmark; several files of one benchmark merge along ``method``."""
    groups: Dict[str, List[xr.Dataset]] = {}
    for ds in datasets:
        groups.setdefault(ds.attrs["benchmark"], []).append(ds)
    out = {}
    for bench, dss in groups.items():
        keep = ["accuracy", "gain"]
        parts = []
        for d in dss:  # each method keeps the learning rate it was run with (tuned settings differ)
            lr = json.loads(d.attrs.get("config", "{}")).get("lr", np.nan)
            parts.append(d[keep].assign_coords(lr=("method", [np.nan if lr is None else float(lr)]
                                                   * d.sizes["method"])))
        merged = xr.concat(parts, dim="method", join="outer", coords="minimal", compat="override")
        names = [str(m) for m in merged["method"].values]
        first = {}
        for i, m in enumerate(names):
            first.setdefault(m, i)
        order = sorted(first, key=lambda m: (METHOD_ORDER.index(m) if m in METHOD_ORDER else len(METHOD_ORDER), m))
        merged = merged.isel(method=[first[m] for m in order])
        merged.attrs = dict(dss[0].attrs)
        out[bench] = merged
    return out


def paired_test(a: np.ndarray, b: np.ndarray, n_boot: int = 5000) -> Dict[str, float]:
    """Paired difference d = a - b over seeds.

    Returns the mean, a bootstrap CI, and exact sign-flip p-values: ``p_less`` =
    P(mean of sign-flipped d <= observed mean), ``p_greater`` likewise for >=.
    """
    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[np.isfinite(d)]
    n = d.size
    if n == 0:
        return {"n": 0, "mean": np.nan, "low": np.nan, "high": np.nan, "p_less": np.nan, "p_greater": np.nan}
    if n <= 16:
        flips = np.array(list(itertools.product([-1, 1], repeat=n)))
    else:
        flips = np.random.default_rng(0).choice([-1, 1], size=(20000, n))
    null = (flips * d).mean(axis=1)
    obs, eps = d.mean(), 1e-12 * max(1.0, float(np.abs(d).max()))
    lo, hi = bootstrap_ci(d, n_boot=n_boot)
    return {"n": n, "mean": float(obs), "low": lo, "high": hi,
            "p_less": float(np.mean(null <= obs + eps)), "p_greater": float(np.mean(null >= obs - eps))}


def benchmark_tables(ds: xr.Dataset, convention: str = "code") -> pd.DataFrame:
    """Per-method rows: paper-convention values, per-seed mean/sd/CI, published values."""
    ipt = int(ds.attrs["iterations_per_task"])
    bench = ds.attrs["benchmark"]
    rows = []
    for method in [str(m) for m in ds["method"].values]:
        _, curves, n_runs = finite_curves(ds, method)
        lr = float(ds["lr"].sel({"method": method})) if "lr" in ds.coords else np.nan
        row = {"method": method, "lr": lr, "n_seeds": len(curves), "n_runs": n_runs,
               "n_diverged": n_runs - len(curves)}
        if not len(curves):  # every run diverged: the row stays, with NaN metrics
            nan = {"": np.nan, "_err": np.nan, "_seed_mean": np.nan, "_seed_sd": np.nan, "_ci_low": np.nan,
                   "_ci_high": np.nan}
            for i, k in enumerate(SUMMARY_METRICS):
                row.update({k + suffix: v for suffix, v in nan.items()})
                v1 = V1_TABLE.get(bench, {}).get(method)
                row[k + "_paper_v1"] = v1[i] if v1 else np.nan
            row["avg_sg_paper_v2"] = V2_AVG_SG.get(bench, {}).get(method, np.nan)
            rows.append(row)
            continue
        vals, errs = propagated_metrics(curves.mean(0), curves.std(0), ipt, convention)
        per = per_seed_metrics(ds, method, convention)
        for i, k in enumerate(SUMMARY_METRICS):
            f = metric(k).scale
            row[k] = vals[k] * f
            row[k + "_err"] = errs[k] * f
            row[k + "_seed_mean"] = per[k].mean() * f
            row[k + "_seed_sd"] = per[k].std(ddof=1) * f if len(per) > 1 else np.nan
            lo, hi = bootstrap_ci(per[k].values * f)
            row[k + "_ci_low"], row[k + "_ci_high"] = lo, hi
            v1 = V1_TABLE.get(bench, {}).get(method)
            row[k + "_paper_v1"] = v1[i] if v1 else np.nan
        row["avg_sg_paper_v2"] = V2_AVG_SG.get(bench, {}).get(method, np.nan)
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["method", "n_seeds", "n_runs", "n_diverged"]).set_index(
        "method")


def claim_verdicts(ds: xr.Dataset, convention: str = "code", alpha: float = 0.05) -> pd.DataFrame:
    """One row per claim whose two methods are both present in ``ds``; 0 < ``alpha`` < 1."""
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha!r}")
    rows = []
    methods = {str(m) for m in ds["method"].values}
    for text, key, a, b, sign, source in CLAIMS:
        if a not in methods or b not in methods:
            continue
        pa, pb = per_seed_metrics(ds, a, convention), per_seed_metrics(ds, b, convention)
        common = sorted(set(pa.index) & set(pb.index))
        n_pairs = len({int(s) for s in ds["seed"].values})
        t = paired_test(pa.loc[common, key].values, pb.loc[common, key].values)
        p_claim = t["p_less"] if sign < 0 else t["p_greater"]
        p_against = t["p_greater"] if sign < 0 else t["p_less"]
        if np.isfinite(p_claim) and p_claim < alpha:
            verdict = "reproduced"
        elif np.isfinite(p_against) and p_against < alpha:
            verdict = "not reproduced"
        else:
            verdict = "inconclusive"
        f = metric(key).scale
        rows.append({"claim": text, "metric": key, "a": a, "b": b, "source": source, "verdict": verdict,
                     "mean_diff": t["mean"] * f, "ci_low": t["low"] * f, "ci_high": t["high"] * f,
                     "p": p_claim, "p_against": p_against, "n_seeds": t["n"], "n_pairs": n_pairs})
    return pd.DataFrame(rows)


def _fmt(v, d):
    return "—" if v is None or not np.isfinite(v) else f"{v:.{d}f}"


def _published_decimals(m) -> int:
    """Decimals of a published value: percentages to one decimal (as in the paper's
    tables), fractions like our own."""
    return 1 if m.unit == "%" else m.decimals


def build_report(datasets: Sequence[xr.Dataset], convention: str = "code", alpha: float = 0.05,
                 title: str = "Reproduction report") -> str:
    """Markdown report over the given results (see the module docstring)."""
    lines = [f"# {title}", "",
             f"Published values: {CITATION}. Our values: task-1 accuracy curves; avg-min-ACC convention "
             f"`{convention}`; ± is the paper's propagated error of the seed-averaged curve; bootstrap CIs "
             f"are 95 % percentile intervals over seeds; p is an exact one-sided sign-flip test of the "
             f"per-seed differences (paired by seed) in the claimed direction; alpha = {alpha}. "
             f"Verdict: reproduced if p < alpha; not reproduced if the opposite one-sided p < alpha; "
             f"else inconclusive.", ""]
    verdict_lines = []
    for bench, ds in sorted(merge_results(datasets).items()):
        table = benchmark_tables(ds, convention)
        src = ds.attrs.get("data_source", "")
        lines += [f"## {bench}", "", f"Data: {src}. Seeds: {ds.sizes['seed']}. "
                  f"Iterations per context: {ds.attrs['iterations_per_task']}.", ""]
        diverged = [(name, int(r["n_diverged"]), int(r["n_runs"])) for name, r in table.iterrows()
                    if r["n_diverged"] > 0]
        if diverged:
            lines += ["Diverged runs (non-finite loss, logits or gain; `diverged_at` >= 0) are left out of every "
                      "metric and test: " + "; ".join(f"{n}: {divergence_note(k, t)}" for n, k, t in diverged)
                      + ".", ""]
        summary = [metric(k) for k in SUMMARY_METRICS]
        sg = metric("avg_sg").decimals
        lines.append("| method | lr | " + " | ".join(f"{m.label} (ours)" for m in summary)
                     + " | avg-SG per seed (95 % CI) | paper v1: ACC / min / WC / SG | paper v2 avg-SG |")
        lines.append("|---" * (len(summary) + 5) + "|")
        for name, r in table.iterrows():
            ours = [f"{_fmt(r[m.key], m.decimals)} ± {_fmt(r[m.key + '_err'], m.decimals)}" for m in summary]
            seed = (f"{_fmt(r['avg_sg_seed_mean'], sg)} ± {_fmt(r['avg_sg_seed_sd'], sg)} "
                    f"({_fmt(r['avg_sg_ci_low'], sg)}, {_fmt(r['avg_sg_ci_high'], sg)})")
            v1 = " / ".join(_fmt(r[m.key + "_paper_v1"], _published_decimals(m)) for m in summary)
            lr = "—" if not np.isfinite(r["lr"]) else f"{r['lr']:g}"
            if r["n_diverged"] >= r["n_runs"] > 0:
                ours = [f"all {int(r['n_runs'])} seeds diverged"] + ["—"] * (len(summary) - 1)
            elif r["n_diverged"] > 0:
                ours[0] += f" ({int(r['n_seeds'])} of {int(r['n_runs'])} seeds; {int(r['n_diverged'])} diverged)"
            lines.append(f"| {name} | {lr} | " + " | ".join(ours)
                         + f" | {seed} | {v1} | {_fmt(r['avg_sg_paper_v2'], sg)} |")
        verdicts = claim_verdicts(ds, convention, alpha)
        if len(verdicts):
            lines += ["", "| claim | verdict | mean difference (95 % CI) | p (claimed) | p (against) | source |",
                      "|---|---|---|---|---|---|"]
            for _, v in verdicts.iterrows():
                d = metric(v["metric"]).decimals
                if v["n_seeds"] < v["n_pairs"]:  # never a silent test over survivors only
                    v = v.copy()
                    v["source"] = (f"{v['source']}; paired over {int(v['n_seeds'])} of {int(v['n_pairs'])} seeds "
                                   f"(the others diverged)")
                diff = f"{v['a']} − {v['b']}: {_fmt(v['mean_diff'], d)} ({_fmt(v['ci_low'], d)}, {_fmt(v['ci_high'], d)})"
                lines.append(f"| {v['claim']} | **{v['verdict']}** | {diff} | {_fmt(v['p'], 3)} | "
                             f"{_fmt(v['p_against'], 3)} | {v['source']} |")
                verdict_lines.append(f"- {bench}: {v['claim']} — **{v['verdict']}** "
                                     f"(mean {v['a']} − {v['b']} = {_fmt(v['mean_diff'], d)}, p = {_fmt(v['p'], 3)}"
                                     + (f"; over {int(v['n_seeds'])} of {int(v['n_pairs'])} seeds, the others diverged"
                                        if v["n_seeds"] < v["n_pairs"] else "") + ")")
        lines.append("")
    if verdict_lines:
        lines += ["## Verdicts", ""] + verdict_lines + [""]
    return "\n".join(lines)
