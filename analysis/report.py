"""Reproduction report: our numbers next to the paper's, paired tests, one verdict per claim.

:func:`build_report` reads results Datasets (one or more per benchmark; files of the same
benchmark are merged along ``method``, :func:`merge_results`) and returns Markdown. For
every benchmark:

* a table of avg-ACC, avg-min-ACC, WC-ACC (percent) and avg-SG per method, in the paper's
  seed convention (seed-averaged curve, propagated error), with the per-seed mean ± sd and
  the 95 % Student-t interval of the per-seed mean, next to the published values, each
  marked with its provenance (:mod:`lcne.analysis.paper_values`: verbatim from the paper's
  text, or second-hand);
* paired comparisons per claim of :data:`CLAIMS`: runs with the same seed share initial
  weights and batch order, so per-seed differences d = a − b are paired. Reported: the
  mean difference with its 95 % t interval, the **exact two-sided** sign-flip p-value
  (:func:`lcne.analysis.statistics.sign_flip_p`), the Holm-adjusted p over every claim of
  the report (all benchmarks together: one family), and "k/n", the number of seeds whose
  difference has the sign of the mean.

Verdicts, at family-wise level ``alpha`` (default 0.05):

* **reproduced** -- Holm-adjusted p < alpha and the mean difference has the claimed sign;
* **reversed** -- Holm-adjusted p < alpha and the mean difference has the opposite sign;
* **no difference detected** -- otherwise; the interval is shown, and the data do not
  show the absence of a difference either.

With n seeds the smallest exact two-sided p is 2/2^n (0.0625 with 5 seeds, so no claim
can be reproduced with 5 seeds); the report prints this power note. Its summary is
generated from the verdict table, sentence by sentence, so the prose cannot contradict
the numbers.
"""
from __future__ import annotations

import json
from typing import Dict, Iterable, List, Sequence, Tuple, Union

import numpy as np
import pandas as pd
import xarray as xr

from lcne.analysis.metrics import (
    divergence_note,
    evaluation_attrs,
    evaluation_note,
    finite_curves,
    per_seed_metrics,
    propagated_metrics,
)
from lcne.analysis.paper_values import CITATION, PROVENANCE_LEGEND, V1_TABLE, V2_AVG_SG, mark
from lcne.analysis.statistics import agreement, holm, power_note, sign_flip_p, t_interval
from lcne.analysis.vocabulary import METHODS, SUMMARY_METRICS, method_label, metric

__all__ = ["CLAIMS", "METHOD_ORDER", "VERDICTS", "paired_test", "benchmark_tables", "claim_verdicts",
           "build_report", "merge_results", "seeds_run", "paired_metrics"]

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

#: the verdict words of this report, in table order
VERDICTS = ("reproduced", "reversed", "no difference detected")

#: table order: the paper's method, its baselines, then the ablations (the order of the
#: methods table, :data:`lcne.analysis.vocabulary.METHODS`); other names follow, sorted
METHOD_ORDER = list(METHODS)

#: variables a merged benchmark keeps (``diverged_at`` when any file has it)
_KEEP = ("accuracy", "gain")


def _method_order(names: Iterable[str]) -> List[str]:
    return sorted(set(names), key=lambda m: (METHOD_ORDER.index(m) if m in METHOD_ORDER else len(METHOD_ORDER), m))


def seeds_run(ds: xr.Dataset, method: str, eval_task: int = 1) -> List[int]:
    """Seeds for which ``method`` was run: some finite task-1 accuracy, or ``diverged_at`` set.

    A seed of the ``seed`` coordinate without either (an all-NaN row, as left by merging
    files with different seeds) was not run and counts neither as a run nor as diverged.
    """
    acc = ds["accuracy"].sel({"method": method, "eval_task": eval_task}).transpose("seed", "iteration")
    ran = np.any(np.isfinite(acc.values.astype(np.float64)), axis=1)
    if "diverged_at" in ds and "seed" in ds["diverged_at"].dims:
        d = ds["diverged_at"].sel({"method": method}).reindex(seed=acc["seed"]).values
        ran |= np.nan_to_num(np.asarray(d, dtype=np.float64), nan=-1.0) >= 0
    return [int(s) for s in acc["seed"].values[ran]]


def merge_results(datasets: Iterable[xr.Dataset]) -> Dict[str, xr.Dataset]:
    """Group results by benchmark; several files of one benchmark merge along ``method``.

    Each method keeps the learning rate it was run with (``lr`` coordinate along
    ``method``; tuned settings differ) and its ``diverged_at``; the variable ``evaluated``
    (iterations evaluated) is kept when every file has the same one, and files with
    different evaluation schedules set ``attrs["eval_schedule"]`` to ``"mixed: ..."``. A method found in several
    files of one benchmark is combined along ``seed`` when the files hold disjoint seeds of
    it with the same learning rate; overlapping seeds or different learning rates of one
    method raise :class:`ValueError` naming both files (one of them would be dropped).
    Files of one benchmark must agree on ``iterations_per_task`` and ``n_tasks``.
    """
    groups: Dict[str, List[xr.Dataset]] = {}
    for ds in datasets:
        groups.setdefault(ds.attrs["benchmark"], []).append(ds)
    out = {}
    for bench, dss in groups.items():
        shape = {(int(d.attrs["iterations_per_task"]), int(d.attrs["n_tasks"])) for d in dss}
        if len(shape) > 1:
            raise ValueError(f"benchmark {bench}: files differ in iterations_per_task x n_tasks "
                             f"({', '.join(f'{i} x {t}' for i, t in sorted(shape))}); report them separately")
        with_div = any("diverged_at" in d for d in dss)
        pieces: Dict[str, List[Tuple[xr.Dataset, float, str]]] = {}
        for d in dss:
            lr = json.loads(d.attrs.get("config", "{}") or "{}").get("lr", np.nan)
            lr = np.nan if lr is None or isinstance(lr, list) else float(lr)
            part = d[list(_KEEP)]
            if with_div:
                div = d["diverged_at"] if "diverged_at" in d else xr.full_like(
                    d["accuracy"].isel(iteration=0, eval_task=0, drop=True), -1, dtype=np.int64)
                part = part.assign(diverged_at=div)
            src = str(d.attrs.get("_lcne_source") or d.encoding.get("source") or "<dataset>")
            for m in [str(x) for x in d["method"].values]:
                one = part.sel({"method": [m]})
                seeds = seeds_run(one, m) if "eval_task" in one.dims else [int(s) for s in one["seed"].values]
                pieces.setdefault(m, []).append((one.sel(seed=seeds), lr, src))
        per_method = []
        for m in _method_order(pieces):
            parts = pieces[m]
            if len(parts) > 1:
                seen: Dict[int, str] = {}
                for one, lr, src in parts:
                    for s in one["seed"].values:
                        if int(s) in seen:
                            raise ValueError(f"benchmark {bench}: method {m!r} seed {int(s)} is in both {seen[int(s)]} "
                                             f"and {src}; pass one of them")
                        seen[int(s)] = src
                lrs = {lr for _, lr, _ in parts if np.isfinite(lr)}
                if len(lrs) > 1:
                    raise ValueError(f"benchmark {bench}: method {m!r} was run with different learning rates "
                                     f"({', '.join(f'{x:g}' for x in sorted(lrs))}) in {parts[0][2]} and "
                                     f"{parts[1][2]}; pass one setting")
                one = xr.concat([p[0] for p in parts], dim="seed", join="outer", coords="minimal",
                                compat="override").sortby("seed")
            else:
                one = parts[0][0]
            lr = next((p[1] for p in parts if np.isfinite(p[1])), np.nan)
            per_method.append(one.assign_coords(lr=("method", [lr])))
        merged = xr.concat(per_method, dim="method", join="outer", coords="minimal", compat="override")
        merged = merged.sortby("seed")
        if "diverged_at" in merged:
            merged["diverged_at"] = merged["diverged_at"].fillna(-1)
        merged.attrs = dict(dss[0].attrs)
        schedules = sorted({str(d.attrs.get("eval_schedule", "every")) for d in dss})
        masks = [d["evaluated"] for d in dss if "evaluated" in d and d["evaluated"].dims == ("iteration",)]
        if len(masks) == len(dss) and all(np.array_equal(m.values, masks[0].values) for m in masks):
            merged["evaluated"] = masks[0]  # one schedule: the iterations evaluated, as recorded
        if len(schedules) > 1:  # the metrics infer the evaluated iterations per method from the curves
            merged.attrs["eval_schedule"] = "mixed: " + ", ".join(schedules)
        out[bench] = merged
    return out


def paired_metrics(ds: xr.Dataset, a: str, b: str, key: str, convention: str = "code") -> Dict[str, object]:
    """Per-seed values of ``key`` for methods ``a`` and ``b``, paired by seed (stored units).

    Returns a dict: ``seeds`` (the seeds where both runs finished, sorted), ``a`` and ``b``
    (arrays over those seeds), ``n_pairs`` (seeds where both methods were run, see
    :func:`seeds_run`) and ``n_excluded`` (of those, pairs left out because either run
    diverged or its metric is not finite).
    """
    both = sorted(set(seeds_run(ds, a)) & set(seeds_run(ds, b)))
    pa, pb = per_seed_metrics(ds, a, convention), per_seed_metrics(ds, b, convention)
    ok = [s for s in both if s in pa.index and s in pb.index
          and np.isfinite(pa.loc[s, key]) and np.isfinite(pb.loc[s, key])]
    return {"seeds": ok, "a": pa.loc[ok, key].to_numpy(float), "b": pb.loc[ok, key].to_numpy(float),
            "n_pairs": len(both), "n_excluded": len(both) - len(ok)}


def paired_test(a: np.ndarray, b: np.ndarray, level: float = 0.95) -> Dict[str, float]:
    """Paired difference d = a − b over seeds (non-finite pairs dropped).

    Returns ``n``, ``mean`` (of d), ``low``/``high`` (Student-t interval at ``level``),
    ``p`` (exact two-sided sign-flip p-value, :func:`lcne.analysis.statistics.sign_flip_p`),
    ``k`` (seeds whose d has the sign of the mean) and ``ties`` (seeds with d = 0).
    """
    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return {"n": 0, "mean": np.nan, "low": np.nan, "high": np.nan, "p": np.nan, "k": 0, "ties": 0}
    lo, hi = t_interval(d, level)
    agree = agreement(d)
    return {"n": int(d.size), "mean": float(d.mean()), "low": lo, "high": hi, "p": sign_flip_p(d),
            "k": agree.k, "ties": agree.ties}


def _counts(ds: xr.Dataset, method: str, eval_task: int = 1) -> Tuple[List[int], np.ndarray, int]:
    """(finished seeds, their curves, number of seeds run) of one method."""
    run = set(seeds_run(ds, method, eval_task))
    seeds, curves, _ = finite_curves(ds, method, eval_task)
    keep = [i for i, s in enumerate(seeds) if s in run]
    return [seeds[i] for i in keep], curves[keep], len(run)


def benchmark_tables(ds: xr.Dataset, convention: str = "code") -> pd.DataFrame:
    """Per-method rows: paper-convention values, per-seed mean/sd/t interval, published values.

    Columns per summary metric ``k`` (reported units, percent for accuracies): ``k`` and
    ``k_err`` (seed-averaged curve, propagated error), ``k_seed_mean``, ``k_seed_sd``
    (ddof 1), ``k_ci_low``/``k_ci_high`` (95 % Student-t interval of the per-seed mean),
    ``k_paper_v1``; ``avg_sg_paper_v2``; ``n_seeds`` (finished), ``n_runs`` (run),
    ``n_diverged``; ``lr``.
    """
    ipt = int(ds.attrs["iterations_per_task"])
    bench = ds.attrs["benchmark"]
    rows = []
    for method in [str(m) for m in ds["method"].values]:
        seeds, curves, n_runs = _counts(ds, method)
        lr = float(ds["lr"].sel({"method": method})) if "lr" in ds.coords else np.nan
        row = {"method": method, "lr": lr, "n_seeds": len(curves), "n_runs": n_runs,
               "n_diverged": n_runs - len(curves)}
        v1 = V1_TABLE.get(bench, {}).get(method)
        row["avg_sg_paper_v2"] = V2_AVG_SG.get(bench, {}).get(method, np.nan)
        if not len(curves):  # every run diverged: the row stays, with NaN metrics
            for i, k in enumerate(SUMMARY_METRICS):
                for suffix in ("", "_err", "_seed_mean", "_seed_sd", "_ci_low", "_ci_high"):
                    row[k + suffix] = np.nan
                row[k + "_paper_v1"] = v1[i] if v1 else np.nan
            rows.append(row)
            continue
        vals, errs = propagated_metrics(curves.mean(0), curves.std(0), ipt, convention)
        per = per_seed_metrics(ds, method, convention).loc[seeds]
        for i, k in enumerate(SUMMARY_METRICS):
            f = metric(k).scale
            x = per[k].to_numpy(float) * f
            x = x[np.isfinite(x)]
            row[k] = vals[k] * f
            row[k + "_err"] = errs[k] * f
            row[k + "_seed_mean"] = x.mean() if x.size else np.nan
            row[k + "_seed_sd"] = x.std(ddof=1) if x.size > 1 else np.nan
            row[k + "_ci_low"], row[k + "_ci_high"] = t_interval(x) if x.size else (np.nan, np.nan)
            row[k + "_paper_v1"] = v1[i] if v1 else np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=None if rows else ["method", "n_seeds", "n_runs", "n_diverged"]).set_index(
        "method")


def claim_verdicts(datasets: Union[xr.Dataset, Sequence[xr.Dataset]], convention: str = "code",
                   alpha: float = 0.05) -> pd.DataFrame:
    """One row per (benchmark, claim) whose two methods are both present; 0 < ``alpha`` < 1.

    ``datasets``: one results Dataset (one benchmark) or several (merged by benchmark with
    :func:`merge_results`). The Holm correction runs over every row returned, i.e. over
    every claim tested in this call: :func:`build_report` passes all benchmarks at once.

    Columns: ``benchmark``, ``claim``, ``metric``, ``a``, ``b``, ``sign`` (claimed), ``source``,
    ``verdict`` (:data:`VERDICTS`), ``mean_diff``, ``ci_low``, ``ci_high`` (reported units,
    95 % t interval), ``p`` (exact two-sided), ``p_holm``, ``k``, ``ties``, ``n_seeds`` (pairs
    tested), ``n_pairs`` (pairs run; the difference diverged).
    """
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha!r}")
    if isinstance(datasets, xr.Dataset):
        datasets = [datasets]
    rows = []
    for bench, ds in sorted(merge_results(datasets).items()):
        methods = {str(m) for m in ds["method"].values}
        for text, key, a, b, sign, source in CLAIMS:
            if a not in methods or b not in methods:
                continue
            pair = paired_metrics(ds, a, b, key, convention)
            t = paired_test(pair["a"], pair["b"])
            f = metric(key).scale
            rows.append({"benchmark": bench, "claim": text, "metric": key, "a": a, "b": b, "sign": sign,
                         "source": source, "mean_diff": t["mean"] * f, "ci_low": t["low"] * f,
                         "ci_high": t["high"] * f, "p": t["p"], "k": t["k"], "ties": t["ties"],
                         "n_seeds": t["n"], "n_pairs": pair["n_pairs"]})
    columns = ["benchmark", "claim", "metric", "a", "b", "sign", "source", "verdict", "mean_diff", "ci_low",
               "ci_high", "p", "p_holm", "k", "ties", "n_seeds", "n_pairs"]
    table = pd.DataFrame(rows, columns=[c for c in columns if c not in ("verdict", "p_holm")])
    table["p_holm"] = holm(table["p"].to_numpy(float)) if len(table) else []
    verdicts = []
    for _, r in table.iterrows():
        if np.isfinite(r["p_holm"]) and r["p_holm"] < alpha and np.sign(r["mean_diff"]) != 0:
            verdicts.append("reproduced" if np.sign(r["mean_diff"]) == r["sign"] else "reversed")
        else:
            verdicts.append("no difference detected")
    table["verdict"] = verdicts
    return table[columns]


def _fmt(v, d):
    return "—" if v is None or not np.isfinite(v) else f"{v:.{d}f}"


def _fmt_p(p) -> str:
    if p is None or not np.isfinite(p):
        return "—"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _published_decimals(m) -> int:
    """Decimals of a published value: percentages to one decimal (as in the paper's
    tables), fractions like our own."""
    return 1 if m.unit == "%" else m.decimals


def _published(value: float, decimals: int, table: str, bench: str, method: str) -> str:
    """A published value with its provenance mark, or "—"."""
    if value is None or not np.isfinite(value):
        return "—"
    return f"{value:.{decimals}f} {mark(table, bench, method)}".rstrip()


def _list(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _summary(verdicts: pd.DataFrame, alpha: float) -> List[str]:
    """Sentences generated from the verdict table (one per claim, then the totals)."""
    lines = []
    for text, *_ in CLAIMS:
        rows = verdicts[verdicts["claim"] == text]
        if not len(rows):
            continue
        parts = []
        for word in VERDICTS:
            benches = list(rows.loc[rows["verdict"] == word, "benchmark"])
            if benches:
                parts.append(f"{word} on {_list(benches)}")
        lines.append(f"- {text}: " + "; ".join(parts) + ".")
    n = len(verdicts)
    counts = {w: int((verdicts["verdict"] == w).sum()) for w in VERDICTS}
    lines.append(f"- Of {n} claim test{'s' if n != 1 else ''} (Holm-adjusted over all {n}, alpha = {alpha:g}), "
                 f"{counts['reproduced']} reproduced, {counts['reversed']} reversed and "
                 f"{counts['no difference detected']} with no difference detected.")
    return lines


def build_report(datasets: Sequence[xr.Dataset], convention: str = "code", alpha: float = 0.05,
                 title: str = "Reproduction report") -> str:
    """Markdown report over the given results (see the module docstring)."""
    groups = merge_results(datasets)
    verdicts = claim_verdicts(list(datasets), convention, alpha)
    lines = [f"# {title}", "",
             f"Published values: {CITATION}. {PROVENANCE_LEGEND}", "",
             f"Our values: task-1 accuracy curves; avg-min-ACC convention `{convention}`; ± is the paper's "
             f"propagated error of the seed-averaged curve; per-seed intervals are 95 % Student-t intervals of the "
             f"mean over seeds. Claims: per-seed differences a − b, paired by seed; p is the exact two-sided "
             f"sign-flip p-value (all 2^n sign assignments); p (Holm) is Holm-adjusted over all "
             f"{len(verdicts)} claim tests of this report; k/n counts the seeds whose difference has the sign of "
             f"the mean. Verdict: reproduced if p (Holm) < {alpha:g} and the difference has the claimed sign; "
             f"reversed if p (Holm) < {alpha:g} and it has the opposite sign; else no difference detected (which "
             f"does not show that there is none).", ""]
    if len(verdicts):
        lines += [f"Power: {power_note(len(verdicts), verdicts['n_seeds'], alpha)}", ""]
    for bench, ds in sorted(groups.items()):
        table = benchmark_tables(ds, convention)
        src = ds.attrs.get("data_source", "")
        n_seeds = len({s for m in ds["method"].values for s in seeds_run(ds, str(m))})
        note = evaluation_note(evaluation_attrs(ds))
        lines += [f"## {bench}", "", f"Data: {src}. Seeds: {n_seeds}. "
                  f"Iterations per context: {ds.attrs['iterations_per_task']}." + (f" {note}." if note else ""), ""]
        diverged = [(name, int(r["n_diverged"]), int(r["n_runs"])) for name, r in table.iterrows()
                    if r["n_diverged"] > 0]
        if diverged:
            lines += ["Diverged runs (non-finite loss, logits or gain; `diverged_at` >= 0) are left out of every "
                      "metric and test: " + "; ".join(f"{n}: {divergence_note(k, t)}" for n, k, t in diverged)
                      + ".", ""]
        summary = [metric(k) for k in SUMMARY_METRICS]
        sg = metric("avg_sg").decimals
        lines.append("| method | lr | " + " | ".join(f"{m.label} (ours)" for m in summary)
                     + " | avg-SG per seed (95 % t interval) | paper v1: ACC / min / WC / SG | paper v2 avg-SG |")
        lines.append("|---" * (len(summary) + 5) + "|")
        for name, r in table.iterrows():
            ours = [f"{_fmt(r[m.key], m.decimals)} ± {_fmt(r[m.key + '_err'], m.decimals)}" for m in summary]
            seed = (f"{_fmt(r['avg_sg_seed_mean'], sg)} ± {_fmt(r['avg_sg_seed_sd'], sg)} "
                    f"({_fmt(r['avg_sg_ci_low'], sg)}, {_fmt(r['avg_sg_ci_high'], sg)})")
            v1_vals = [r[m.key + "_paper_v1"] for m in summary]
            v1 = ("—" if not np.all(np.isfinite(v1_vals)) else
                  " / ".join(_fmt(v, _published_decimals(m)) for v, m in zip(v1_vals, summary))
                  + f" {mark('v1_table', bench, name)}")
            v2 = _published(r["avg_sg_paper_v2"], sg, "v2_avg_sg", bench, name)
            lr = "—" if not np.isfinite(r["lr"]) else f"{r['lr']:g}"
            if r["n_diverged"] >= r["n_runs"] > 0:
                ours = [f"all {int(r['n_runs'])} seeds diverged"] + ["—"] * (len(summary) - 1)
            elif r["n_diverged"] > 0:
                ours[0] += f" ({int(r['n_seeds'])} of {int(r['n_runs'])} seeds; {int(r['n_diverged'])} diverged)"
            lines.append(f"| {name} | {lr} | " + " | ".join(ours) + f" | {seed} | {v1} | {v2} |")
        rows = verdicts[verdicts["benchmark"] == bench]
        if len(rows):
            lines += ["", "| claim | verdict | mean difference (95 % t interval) | p | p (Holm) | k/n | source |",
                      "|---|---|---|---|---|---|---|"]
            for _, v in rows.iterrows():
                d = metric(v["metric"]).decimals
                source = v["source"]
                if v["n_seeds"] < v["n_pairs"]:  # never a silent test over survivors only
                    source = (f"{source}; paired over {int(v['n_seeds'])} of {int(v['n_pairs'])} seeds "
                              f"(the others diverged)")
                diff = f"{v['a']} − {v['b']}: {_fmt(v['mean_diff'], d)} ({_fmt(v['ci_low'], d)}, {_fmt(v['ci_high'], d)})"
                kn = f"{int(v['k'])}/{int(v['n_seeds'])}" + (f" ({int(v['ties'])} tied)" if v["ties"] else "")
                lines.append(f"| {v['claim']} | **{v['verdict']}** | {diff} | {_fmt_p(v['p'])} | "
                             f"{_fmt_p(v['p_holm'])} | {kn} | {source} |")
        lines.append("")
    if len(verdicts):
        lines += ["## Verdicts", "", "Generated from the verdict tables above.", ""] + _summary(verdicts, alpha) + [""]
        for _, v in verdicts.iterrows():
            d = metric(v["metric"]).decimals
            lines.append(f"- {v['benchmark']}: {v['claim']} — **{v['verdict']}** "
                         f"(mean {method_label(v['a'])} − {method_label(v['b'])} = {_fmt(v['mean_diff'], d)}, "
                         f"p = {_fmt_p(v['p'])}, p (Holm) = {_fmt_p(v['p_holm'])}, "
                         f"{int(v['k'])}/{int(v['n_seeds'])} seeds agree"
                         + (f"; over {int(v['n_seeds'])} of {int(v['n_pairs'])} seeds, the others diverged"
                            if v["n_seeds"] < v["n_pairs"] else "") + ")")
        lines.append("")
    return "\n".join(lines)
