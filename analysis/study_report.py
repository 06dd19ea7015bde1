"""The study report: pre-registered claims, paired exact tests, Holm per family, generated prose.

:func:`study_tables` turns results Datasets (one or more files per benchmark, merged along
``method`` by :func:`lcne.analysis.report.merge_results`) into the numbers of the study
(:mod:`lcne.analysis.study_claims`); :func:`build_study_report` renders them as Markdown.

Numbers
-------
* Per benchmark, method and seed: avg-SG, WC-ACC and avg-ACC of the task-1 curve
  (:func:`lcne.analysis.metrics.per_seed_metrics`; stored units: fractions), avg-min-ACC
  in the study's ``"after-first"`` convention unless told otherwise. A run that diverged
  (``diverged_at`` >= 0, or a curve the metrics reject) is counted and left out.
* Per claim (a vs b on one metric and benchmark), over the seeds where both runs finished
  (paired by seed; a pair is excluded when either run diverged, and the excluded pairs
  are counted): n, the mean effect a − b in the metric's reported units (percent for
  accuracies), its 95 % Student-t interval and 95 % BCa bootstrap interval, the exact
  two-sided sign-flip p (:mod:`lcne.analysis.statistics`), the Holm-adjusted p within the
  claim's family (over the claims of the family that ran), k/n seeds agreeing in sign with
  the mean, and the verdict (:data:`lcne.analysis.study_claims.VERDICTS`).

Report
------
The protocol commit, the verdict words (defined once), a summary whose every sentence is
generated from the verdict table (so the prose cannot contradict the numbers), one section
per family with its power note and verdict table, per-benchmark metric tables (mean ± sd
over seeds, accuracies in percent; the paper's avg-SG beside them, marked with its
provenance), the verdicts that change under the authors' ``"code"`` convention, and the
deviations from the protocol.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from lcne.analysis.eval_exactness import subset_noise_floor
from lcne.analysis.metrics import CONVENTIONS, evaluation_attrs, per_seed_metrics
from lcne.analysis.paper_values import PROVENANCE_LEGEND, V1_TABLE, V2_AVG_SG, mark
from lcne.analysis.report import merge_results, seeds_run
from lcne.analysis.statistics import agreement, bca_interval, holm, power_note, sign_flip_p, t_interval
from lcne.analysis.study_claims import (
    ALPHA,
    CLAIMS,
    FAMILIES,
    STUDY_BENCHMARKS,
    STUDY_CONVENTION,
    STUDY_METRICS,
    VERDICT_DEFINITIONS,
    VERDICTS,
)
from lcne.analysis.vocabulary import method_label, metric

__all__ = ["StudyTables", "study_tables", "convention_changes", "summary_sentences", "build_study_report"]

#: columns of :attr:`StudyTables.claims`, in order
CLAIM_COLUMNS = ["family", "benchmark", "metric", "a", "b", "question", "verdict", "reason", "n", "n_pairs",
                 "n_excluded", "mean", "t_low", "t_high", "bca_low", "bca_high", "p", "p_holm", "k", "ties"]


@dataclass
class StudyTables:
    """The numbers of the study (see the module docstring).

    Attributes
    ----------
    convention : str
        avg-min-ACC convention of ``wc_acc``.
    alpha : float
        Family-wise level of the verdicts.
    seeds : pandas.DataFrame
        One row per (benchmark, method, seed) that finished: columns ``benchmark``,
        ``method``, ``seed`` and the metrics of :data:`~lcne.analysis.study_claims.STUDY_METRICS`
        (stored units: fractions).
    runs : pandas.DataFrame
        One row per (benchmark, method): ``lr``, ``n_runs`` (seeds run), ``n_finished``,
        ``n_diverged``.
    claims : pandas.DataFrame
        One row per pre-registered claim (:data:`CLAIM_COLUMNS`): effects and interval bounds
        in reported units; ``verdict`` one of the study's verdict words; ``reason`` says why
        a claim did not run; ``n`` pairs tested, ``n_pairs`` pairs run, ``n_excluded`` pairs
        left out because a run diverged.
    benchmarks : dict
        benchmark -> facts for the report: ``data_source``, ``iterations_per_task``,
        ``n_tasks``, ``eval_schedule``, ``n_evaluated``, ``n_iterations``, ``eval_subset``
        (images per task, None for whole test sets), ``eval_precision``, ``mean_acc``
        (mean per-seed avg-ACC, fraction) and ``noise_floor`` (sampling sd of an accuracy
        on the subset at ``mean_acc``, fraction; NaN without subsets).
    """

    convention: str
    alpha: float
    seeds: pd.DataFrame
    runs: pd.DataFrame
    claims: pd.DataFrame
    benchmarks: Dict[str, dict] = field(default_factory=dict)


def _benchmark_facts(ds: xr.Dataset, seeds: pd.DataFrame) -> dict:
    ev = evaluation_attrs(ds)
    mean_acc = float(seeds["avg_acc"].mean()) if len(seeds) else math.nan
    try:  # sd of the task-1 accuracy from the fixed subset (finite-population correction)
        floor = float(subset_noise_floor(ds, mean_acc)[0]) if np.isfinite(mean_acc) else math.nan
    except (ValueError, IndexError):  # whole test sets (no subset attributes), or malformed ones
        floor = math.nan
    return {"data_source": str(ds.attrs.get("data_source", "")),
            "iterations_per_task": int(ds.attrs["iterations_per_task"]), "n_tasks": int(ds.attrs["n_tasks"]),
            "eval_schedule": ev["eval_schedule"], "n_evaluated": ev["n_evaluated"],
            "n_iterations": ev["n_iterations"], "eval_subset": ev["eval_subset"] or None,
            "eval_precision": ev["eval_precision"], "mean_acc": mean_acc, "noise_floor": floor}


def study_tables(datasets: Sequence[xr.Dataset], convention: str = STUDY_CONVENTION, alpha: float = ALPHA,
                 n_boot: int = 10_000, seed: int = 0) -> StudyTables:
    """Per-seed metrics, run counts and one row per pre-registered claim.

    Parameters
    ----------
    datasets : sequence of xarray.Dataset
        Results (``docs/results-schema.md``), any number of files per benchmark.
    convention : {"after-first", "code"}
        avg-min-ACC convention of WC-ACC (the study's is ``"after-first"``).
    alpha : float
        Family-wise level, 0 < alpha < 1.
    n_boot, seed : int
        Resamples and generator seed of the BCa intervals (reproducible).
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha!r}")
    groups = merge_results(datasets)
    seed_rows, run_rows, facts = [], [], {}
    cache: Dict[tuple, tuple] = {}  # (benchmark, method) -> (seeds run, per-seed metrics of those seeds)
    for bench, ds in groups.items():
        bench_rows = []
        for m in [str(x) for x in ds["method"].values]:
            ran = set(seeds_run(ds, m))
            per = per_seed_metrics(ds, m, convention)
            per = per.loc[[s for s in per.index if s in ran], list(STUDY_METRICS)]
            cache[bench, m] = (ran, per)
            done = per[np.all(np.isfinite(per.to_numpy(float)), axis=1)]
            lr = float(ds["lr"].sel({"method": m})) if "lr" in ds.coords else math.nan
            run_rows.append({"benchmark": bench, "method": m, "lr": lr, "n_runs": len(ran),
                             "n_finished": len(done), "n_diverged": len(ran) - len(done)})
            for s, r in done.iterrows():
                bench_rows.append({"benchmark": bench, "method": m, "seed": int(s), **r.to_dict()})
        seed_rows += bench_rows
        facts[bench] = _benchmark_facts(ds, pd.DataFrame(bench_rows, columns=["avg_acc"]))
    rows = []
    for c in CLAIMS:
        row = {k: np.nan for k in CLAIM_COLUMNS}
        row.update(family=c.family, benchmark=c.benchmark, metric=c.metric, a=c.a, b=c.b, question=c.question,
                   verdict="not run", reason="", n=0, n_pairs=0, n_excluded=0, k=0, ties=0)
        missing = [x for x in (c.a, c.b) if (c.benchmark, x) not in cache]
        if c.benchmark not in groups:
            row["reason"] = "benchmark not in the results"
        elif missing:
            row["reason"] = " and ".join(missing) + " not in the results"
        else:
            (ran_a, per_a), (ran_b, per_b) = cache[c.benchmark, c.a], cache[c.benchmark, c.b]
            both = sorted(ran_a & ran_b)  # pairs run; a pair is excluded when either run diverged
            va, vb = per_a[c.metric], per_b[c.metric]
            ok = [s for s in both if s in va.index and s in vb.index and np.isfinite(va[s]) and np.isfinite(vb[s])]
            row.update(n_pairs=len(both), n_excluded=len(both) - len(ok), n=len(ok))
            if not ok:
                row["reason"] = ("no seed run by both methods" if not both else
                                 f"every pair excluded ({len(both)} of {len(both)} had a diverged run)")
            else:
                d = (va[ok].to_numpy(float) - vb[ok].to_numpy(float)) * metric(c.metric).scale
                agree = agreement(d)
                row.update(verdict="", mean=float(d.mean()), p=sign_flip_p(d), k=agree.k, ties=agree.ties)
                row["t_low"], row["t_high"] = t_interval(d)
                row["bca_low"], row["bca_high"] = bca_interval(d, n_boot=n_boot, seed=seed)
        rows.append(row)
    claims = pd.DataFrame(rows, columns=CLAIM_COLUMNS)
    for fam in FAMILIES:
        sel = (claims["family"] == fam).to_numpy()
        claims.loc[sel, "p_holm"] = holm(claims.loc[sel, "p"].to_numpy(float))
    verdicts = []
    for _, r in claims.iterrows():
        if r["verdict"] == "not run":
            verdicts.append("not run")
        elif r["p_holm"] < alpha and r["mean"] != 0:
            better = np.sign(r["mean"]) == metric(r["metric"]).better
            verdicts.append("A better" if better else "A worse")
        else:
            verdicts.append("no difference detected")
    claims["verdict"] = verdicts
    for col in ("n", "n_pairs", "n_excluded", "k", "ties"):
        claims[col] = claims[col].astype(int)
    seeds_df = pd.DataFrame(seed_rows, columns=["benchmark", "method", "seed", *STUDY_METRICS])
    runs = pd.DataFrame(run_rows, columns=["benchmark", "method", "lr", "n_runs", "n_finished", "n_diverged"])
    return StudyTables(convention=convention, alpha=float(alpha), seeds=seeds_df, runs=runs, claims=claims,
                       benchmarks=facts)


def convention_changes(primary: StudyTables, other: StudyTables) -> pd.DataFrame:
    """Claims whose verdict differs between two conventions (same claims, same order).

    Columns: ``family``, ``benchmark``, ``metric``, ``a``, ``b``, ``verdict`` and ``p_holm``
    under ``primary``, ``verdict_other`` and ``p_holm_other`` under ``other``.
    """
    key = ["family", "benchmark", "metric", "a", "b"]
    both = primary.claims[key + ["verdict", "p_holm"]].merge(
        other.claims[key + ["verdict", "p_holm"]], on=key, suffixes=("", "_other"))
    return both[both["verdict"] != both["verdict_other"]].reset_index(drop=True)


# ----------------------------------------------------------------------------- prose

def _words(key: str):
    """(better, worse) comparative of a metric: ("smaller", "larger") for avg-SG."""
    return ("smaller", "larger") if metric(key).better < 0 else ("higher", "lower")


def _benches(rows: pd.DataFrame) -> List[str]:
    order = list(STUDY_BENCHMARKS)
    return sorted(rows["benchmark"], key=lambda b: order.index(b) if b in order else len(order))


def summary_sentences(claims: pd.DataFrame, alpha: float = ALPHA) -> List[str]:
    """The summary, generated from a verdict table (``StudyTables.claims``).

    One sentence per family with its counts, then one per (metric, comparison):
    "NGM-SGD had a smaller avg-SG than SGD on 1 of 2 benchmarks run (Holm-adjusted
    p < 0.05: split-mnist); no difference was detected on 1 (rotated-mnist); not run on 4
    (...)." Every number and benchmark name in them is read from ``claims``.
    """
    out = []
    for fam_id, fam in FAMILIES.items():
        rows = claims[claims["family"] == fam_id]
        if not len(rows):
            continue
        counts = {w: int((rows["verdict"] == w).sum()) for w in VERDICTS}
        ran = len(rows) - counts["not run"]
        out.append(f"{fam_id} ({fam.title}): {ran} of {len(rows)} claims ran; {counts['A better']} A better, "
                   f"{counts['A worse']} A worse, {counts['no difference detected']} no difference detected"
                   f" (Holm over the {ran} that ran, alpha = {alpha:g}).")
        for key in fam.metrics:
            better, worse = _words(key)
            label = metric(key).label
            for a, b, _ in fam.comparisons:
                sub = rows[(rows["metric"] == key) & (rows["a"] == a) & (rows["b"] == b)]
                A, B = method_label(a), method_label(b)
                run = sub[sub["verdict"] != "not run"]
                not_run = _benches(sub[sub["verdict"] == "not run"])
                if not len(run):
                    out.append(f"{A} against {B} in {label}: not run on any benchmark.")
                    continue
                good = _benches(sub[sub["verdict"] == "A better"])
                bad = _benches(sub[sub["verdict"] == "A worse"])
                none = _benches(sub[sub["verdict"] == "no difference detected"])
                if good:
                    s = (f"{A} had a {better} {label} than {B} on {len(good)} of {len(run)} benchmarks run "
                         f"(Holm-adjusted p < {alpha:g}: {', '.join(good)})")
                else:
                    s = f"{A} had a {better} {label} than {B} on none of the {len(run)} benchmarks run"
                if bad:
                    s += f"; a {worse} one on {len(bad)} (Holm-adjusted p < {alpha:g}: {', '.join(bad)})"
                if none:
                    s += f"; no difference was detected on {len(none)} ({', '.join(none)})"
                if not_run:
                    s += f"; not run on {len(not_run)} ({', '.join(not_run)})"
                out.append(s + ".")
    return out


# ----------------------------------------------------------------------------- Markdown

def _f(v, d: int) -> str:
    return "—" if v is None or not np.isfinite(v) else f"{v:.{d}f}"


def _p(p) -> str:
    if p is None or not np.isfinite(p):
        return "—"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _interval(lo, hi, d: int) -> str:
    return "—" if not (np.isfinite(lo) and np.isfinite(hi)) else f"({lo:.{d}f}, {hi:.{d}f})"


def _family_section(fam_id: str, claims: pd.DataFrame, alpha: float) -> List[str]:
    fam = FAMILIES[fam_id]
    rows = claims[claims["family"] == fam_id]
    ran = rows[rows["verdict"] != "not run"]
    n_not = len(rows) - len(ran)
    lines = [f"### {fam_id}: {fam.title}", "",
             f"{len(rows)} pre-registered tests ({', '.join(metric(k).label for k in fam.metrics)}; "
             + "; ".join(f"{a} vs {b}" for a, b, _ in fam.comparisons) + f"; {len(STUDY_BENCHMARKS)} benchmarks). "
             f"Holm over the {len(ran)} that ran" + (f"; {n_not} not run, listed, left out of the correction" if n_not
                                                     else "") + ".", "",
             f"Power: {power_note(len(ran), ran['n'], alpha) if len(ran) else 'no test of this family ran.'}", ""]
    questions = {}
    for _, r in rows.iterrows():
        questions.setdefault(f"{r['a']} vs {r['b']}", []).append(r["question"])
    lines += [f"- {pair}: " + " ".join(dict.fromkeys(q)) for pair, q in questions.items()] + [""]
    lines += [
             "| benchmark | a vs b | metric | n (excluded) | effect a − b | t 95 % | BCa 95 % | p | p (Holm) | k/n "
             "| verdict |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in rows.iterrows():
        m = metric(r["metric"])
        unit = " pp" if m.unit == "%" else ""
        if r["verdict"] == "not run":
            lines.append(f"| {r['benchmark']} | {r['a']} vs {r['b']} | {m.label} | — | — | — | — | — | — | — | "
                         f"not run ({r['reason']}) |")
            continue
        n = f"{int(r['n'])}" + (f" ({int(r['n_excluded'])})" if r["n_excluded"] else "")
        kn = f"{int(r['k'])}/{int(r['n'])}" + (f" ({int(r['ties'])} tied)" if r["ties"] else "")
        verdict = f"**{r['verdict']}**" if r["verdict"] in ("A better", "A worse") else r["verdict"]
        lines.append(f"| {r['benchmark']} | {r['a']} vs {r['b']} | {m.label} | {n} | {_f(r['mean'], m.decimals)}{unit} "
                     f"| {_interval(r['t_low'], r['t_high'], m.decimals)} | "
                     f"{_interval(r['bca_low'], r['bca_high'], m.decimals)} | {_p(r['p'])} | {_p(r['p_holm'])} | "
                     f"{kn} | {verdict} |")
    lines.append("")
    return lines


def _benchmark_section(bench: str, tables: StudyTables) -> List[str]:
    facts = tables.benchmarks[bench]
    runs = tables.runs[tables.runs["benchmark"] == bench]
    seeds = tables.seeds[tables.seeds["benchmark"] == bench]
    lines = [f"### {bench}", ""]
    info = [f"Data: {facts['data_source'] or 'not recorded'}",
            f"{facts['n_tasks']} contexts of {facts['iterations_per_task']} iterations",
            f"evaluation schedule `{facts['eval_schedule']}` ({facts['n_evaluated']} of {facts['n_iterations']} "
            f"iterations evaluated; M_k over those), {facts['eval_precision']}"]
    if facts["eval_subset"]:
        info.append(f"task-1 accuracy on a fixed subset of {facts['eval_subset']} test images per run: sampling sd "
                    f"(binomial, finite-population corrected) {_f(100 * facts['noise_floor'], 2)} percentage points "
                    f"at the mean avg-ACC {_f(100 * facts['mean_acc'], 1)} %")
    else:
        info.append("task-1 accuracy on the whole task-1 test set")
    if bench not in STUDY_BENCHMARKS:
        info.append("not a benchmark of the pre-registered claims (reported, not tested)")
    lines += ["; ".join(info) + ".", ""]
    div = runs[runs["n_diverged"] > 0]
    if len(div):
        lines += ["Diverged runs, left out of every metric and (pairwise) of every test: "
                  + "; ".join(f"{r['method']}: {int(r['n_diverged'])} of {int(r['n_runs'])} seeds"
                              for _, r in div.iterrows()) + ".", ""]
    labels = [metric(k) for k in STUDY_METRICS]
    head = " | ".join(f"{m.label} ({m.unit})" for m in labels)
    lines += [f"| method | lr | seeds (finished / run) | {head} | paper avg-SG v2 | paper avg-SG v1 |",
              "|---" * (len(labels) + 5) + "|"]
    sg = metric("avg_sg").decimals
    for _, r in runs.iterrows():
        per = seeds[seeds["method"] == r["method"]]
        cells = []
        for m in labels:
            x = per[m.key].to_numpy(float) * m.scale
            cells.append("—" if not x.size else
                         f"{_f(x.mean(), m.decimals)} ± {_f(x.std(ddof=1) if x.size > 1 else math.nan, m.decimals)}")
        v2 = V2_AVG_SG.get(bench, {}).get(r["method"])
        v1 = V1_TABLE.get(bench, {}).get(r["method"])
        v2 = "—" if v2 is None else f"{v2:.{sg}f} {mark('v2_avg_sg', bench, r['method'])}"
        v1 = "—" if v1 is None else f"{v1[3]:.{sg}f} {mark('v1_table', bench, r['method'])}"
        lr = "—" if not np.isfinite(r["lr"]) else f"{r['lr']:g}"
        lines.append(f"| {r['method']} | {lr} | {int(r['n_finished'])} / {int(r['n_runs'])} | " + " | ".join(cells)
                     + f" | {v2} | {v1} |")
    lines.append("")
    return lines


def _results_line(datasets: Sequence[xr.Dataset]) -> str:
    """Which results the report read: file count, code revisions, creation times."""
    revs = Counter(str(d.attrs.get("git_revision") or "not recorded") for d in datasets)
    created = sorted(str(d.attrs["created"]) for d in datasets if d.attrs.get("created"))
    line = (f"Results: {len(datasets)} file{'s' if len(datasets) != 1 else ''}; code revision "
            + ", ".join(f"`{r}` ({n})" for r, n in sorted(revs.items())))
    if created:
        line += f"; written {created[0]} to {created[-1]}" if len(created) > 1 else f"; written {created[0]}"
    return line + "."


def build_study_report(datasets: Sequence[xr.Dataset], protocol_commit: Optional[str] = None,
                       deviations: Sequence[str] = (), *, title: str = "Study report",
                       convention: str = STUDY_CONVENTION, alpha: float = ALPHA, n_boot: int = 10_000,
                       seed: int = 0, figure: Optional[str] = None, tables: Optional[StudyTables] = None) -> str:
    """Markdown report of the study (see the module docstring).

    Parameters
    ----------
    datasets : sequence of xarray.Dataset
        Results, any number of files per benchmark.
    protocol_commit : str, optional
        Git revision of the pre-registered protocol (``docs/study_protocol.md``); the report
        says plainly when it is not given.
    deviations : sequence of str
        Deviations from the protocol, one sentence each.
    convention : str
        avg-min-ACC convention of the verdicts (the study's: ``"after-first"``); the other
        convention is recomputed for the section on verdicts that change.
    figure : str, optional
        Path of the forest plot relative to the report, embedded when given.
    tables : StudyTables, optional
        ``study_tables(datasets, convention, alpha, n_boot, seed)`` when already computed
        (its convention and alpha are used).
    """
    if tables is None:
        tables = study_tables(datasets, convention, alpha, n_boot, seed)
    convention, alpha = tables.convention, tables.alpha
    other_conv = next(c for c in CONVENTIONS if c != convention)
    other = study_tables(datasets, other_conv, alpha, n_boot, seed)
    claims = tables.claims
    lines = [f"# {title}", ""]
    if protocol_commit:
        lines += [f"Protocol: `docs/study_protocol.md` as committed at `{protocol_commit}`, before the test phase. "
                  f"Every departure from it is listed under Deviations.", ""]
    else:
        lines += ["**Protocol commit not given**: this report cannot be checked against the pre-registered protocol "
                  "(pass `--protocol-commit`).", ""]
    lines += [_results_line(datasets), ""]
    ran = claims[claims["verdict"] != "not run"]
    lines += [f"{len(claims)} pre-registered claims in {len(FAMILIES)} families; {len(ran)} ran, "
              f"{len(claims) - len(ran)} not run. Convention: avg-min-ACC `{convention}` "
              + ("(mean of the block minima M_2..M_T)" if convention == "after-first" else
                 "(the authors' code: mean of M_1..M_{T-1})") + ".", ""]
    if figure:
        lines += [f"![Effects with 95 % t intervals per family and benchmark]({figure})", "",
                  "*Effect a − b per claim with its 95 % t interval; filled markers: Holm-adjusted p < "
                  f"{alpha:g}.*", ""]
    lines += ["## Summary", "", "Every sentence below is generated from the verdict tables.", ""]
    lines += [f"- {s}" for s in summary_sentences(claims, alpha)] + [""]
    lines += ["## Statistics and verdict words", "",
              "Each claim compares methods a and b on one metric and benchmark, paired by seed (runs with the same "
              "seed share initial weights and batch order). A pair is excluded when either run diverged; the "
              "excluded pairs are counted in brackets after n. Effect: the mean over seeds of a − b, in the "
              "metric's units (percentage points, pp, for accuracies; a fraction for avg-SG). Intervals: 95 % "
              f"Student-t and 95 % BCa bootstrap ({n_boot} resamples, seed {seed}). p: exact two-sided paired "
              "sign-flip test (all 2^n sign assignments). p (Holm): Holm-adjusted within the family, over the "
              "claims of the family that ran. k/n: seeds whose difference has the sign of the mean (tied: zero "
              "differences).", ""]
    lines += [f"- **{w}**: {VERDICT_DEFINITIONS[w]}." for w in VERDICTS] + [""]
    lines += ["## Families", ""]
    for fam_id in FAMILIES:
        lines += _family_section(fam_id, claims, alpha)
    lines += ["## Metrics per benchmark", "",
              f"Mean ± sd over the finished seeds (accuracies in percent, WC-ACC in the `{convention}` convention). "
              f"The paper's avg-SG values are of the seed-averaged curve of their protocol, shown for orientation. "
              f"{PROVENANCE_LEGEND}", ""]
    order = list(STUDY_BENCHMARKS)
    for bench in sorted(tables.benchmarks, key=lambda b: (order.index(b) if b in order else len(order), b)):
        lines += _benchmark_section(bench, tables)
    changes = convention_changes(tables, other)
    lines += [f"## Verdicts that change under the {other_conv} convention", "",
              f"Every claim recomputed with avg-min-ACC in the `{other_conv}` convention "
              + ("(the authors' code: M_1..M_{T-1}, block 1 included)" if other_conv == "code" else
                 "(M_2..M_T)") + "; only WC-ACC depends on it, but Holm mixes metrics within F4 and F5.", ""]
    if len(changes):
        lines += [f"| family | benchmark | a vs b | metric | {convention} | p (Holm) | {other_conv} | p (Holm) |",
                  "|---|---|---|---|---|---|---|---|"]
        for _, r in changes.iterrows():
            lines.append(f"| {r['family']} | {r['benchmark']} | {r['a']} vs {r['b']} | {metric(r['metric']).label} | "
                         f"{r['verdict']} | {_p(r['p_holm'])} | {r['verdict_other']} | {_p(r['p_holm_other'])} |")
        lines.append("")
    else:
        lines += [f"None: every verdict is the same under the {other_conv} convention.", ""]
    lines += ["## Deviations from the protocol", ""]
    lines += ([f"- {d}" for d in deviations] if deviations else ["None listed."]) + [""]
    return "\n".join(lines)
