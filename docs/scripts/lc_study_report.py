"""Table and figure of the LC study (issue 5, point 2) from the runs of ``lc_study.sh``.

Usage::

    python docs/scripts/lc_study_report.py [OUT_ROOT] [--figure docs/figures/lc_study_switch.png]

Reads ``OUT_ROOT/<benchmark>/<config>/<benchmark>.nc`` (schema of docs/results-schema.md),
prints one Markdown table per benchmark (task-1 metrics, authors' "code" convention for
avg-min-ACC) and writes the figure of task-1 accuracy and gain around the first task
switch, plus ``<figure stem>_metrics.csv`` with every number of the tables.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from lcne.analysis.metrics import metrics_table, stability_metrics
from lcne.analysis.results_io import open_results
from lcne.analysis.vocabulary import FRONT_ENDS, LC_MODELS, method_label, method_style


BENCHMARKS = ("split-mnist", "rotated-mnist")
_LC = {k: v.label for k, v in LC_MODELS.items()}  # labels of the methods table (lcne.analysis.vocabulary)
_FE = {k: v.label for k, v in FRONT_ENDS.items()}
_NGM, _SGD = method_label("ngm"), method_label("sgd")
#: configuration (directory of lc_study.sh) -> (row name, LC, front end); table order
LABELS = {
    "baselines/sgd": (_SGD, "–", "–"),
    "baselines/msgd": (method_label("msgd"), "–", "–"),
    "baselines/adam": (method_label("adam"), "–", "–"),
    "paper": (_NGM, _LC["paper"], _FE["entropy"]),
    "gilzenrat-phasic": (_NGM, _LC["gilzenrat-phasic"], _FE["entropy"]),
    "gilzenrat-tonic": (_NGM, _LC["gilzenrat-tonic"], _FE["entropy"]),
    "adaptive": (_NGM, _LC["adaptive"], _FE["entropy"]),
    "phasic-cpp": (_NGM, _LC["gilzenrat-phasic"], _FE["cpp"]),
    "phasic-unexpected": (_NGM, _LC["gilzenrat-phasic"], _FE["unexpected"]),
    "phasic-unexpected-1trial": (_NGM, _LC["gilzenrat-phasic"], f"{_FE['unexpected']}, batch = 1 trial"),
    "adaptive-cpp": (_NGM, _LC["adaptive"], _FE["cpp"]),
    "paper-cpp": (_NGM, _LC["paper"], _FE["cpp"]),
    "paper-eta0.2": (_NGM, f"{_LC['paper']}, eta 0.2", _FE["entropy"]),
    "constant-1.25": (f"{_SGD}, gain 1.25", _LC["constant"], "–"),
    "paper-eta0.15": (_NGM, f"{_LC['paper']}, eta 0.15", _FE["entropy"]),
    "constant-1.45": (f"{_SGD}, gain 1.45", _LC["constant"], "–"),
}
BASELINES = ("baselines/sgd", "baselines/msgd", "baselines/adam")
#: short names for the trade-off scatter
SHORT = {
    "baselines/sgd": "SGD", "paper": "paper", "paper-eta0.2": "paper η=0.2", "paper-cpp": "paper+cpp",
    "gilzenrat-phasic": "phasic", "gilzenrat-tonic": "tonic", "adaptive": "AGT", "phasic-cpp": "phasic+cpp",
    "adaptive-cpp": "AGT+cpp", "phasic-unexpected": "phasic+unexp.",
    "phasic-unexpected-1trial": "phasic+unexp.(1 trial)", "constant-1.25": "g≡1.25",
    "paper-eta0.15": "paper η=0.15", "constant-1.45": "g≡1.45",
}
#: configurations drawn in the switch figure (the rest are in the tables only) -> the study's
#: emphasis; colour and line style are the method's (lcne.analysis.vocabulary.method_style
#: of the method name in the results file, e.g. ngm+gilzenrat-phasic+cpp)
STYLE = {
    "baselines/sgd": dict(ls=":"),
    "paper": dict(lw=2.0),
    "gilzenrat-phasic": dict(lw=1.6),
    "gilzenrat-tonic": dict(),
    "adaptive": dict(),
    "phasic-cpp": dict(),
    "phasic-unexpected": dict(),
}
FIGURE = tuple(STYLE)


def style_of(label: str, ds) -> dict:
    """Line style of a configuration: the method's colour and line style, then the study's emphasis."""
    look = method_style(str(ds["method"].values[0]))
    return {"color": look.colour, "ls": look.linestyle, "lw": 1.2, **STYLE.get(label, {})}


def load(root: Path, bench: str) -> dict:
    """label -> Dataset (one per method label) for a benchmark."""
    out = {}
    for path in sorted((root / bench).glob(f"*/{bench}.nc")):
        ds = open_results(path)
        config = path.parent.name
        for label in ds["method"].values:
            key = config if ds.sizes["method"] == 1 else f"{config}/{label}"
            out[key] = ds.sel({"method": [label]})
    return out


def per_seed_sg(ds) -> dict:
    """seed -> avg-SG of that seed's task-1 curve."""
    ipt = int(ds.attrs["iterations_per_task"])
    acc = ds["accuracy"].isel(method=0).sel(eval_task=1)
    return {int(s): float(stability_metrics(acc.sel(seed=s).values, ipt)["avg_sg"]) for s in ds["seed"].values}


def paired(row, ref) -> str:
    """Mean ± sd over seeds of avg-SG(row) - avg-SG(ref), and in how many seeds row < ref."""
    seeds = sorted(set(row) & set(ref))
    d = np.array([row[s] - ref[s] for s in seeds])
    return f"{d.mean():+.3f} ± {d.std(ddof=1):.3f} ({int((d < 0).sum())}/{len(d)})"


def table(runs: dict) -> pd.DataFrame:
    rows = []
    for label, ds in runs.items():
        t = metrics_table(ds, eval_task=1, convention="code")
        row = t.iloc[0].to_dict()
        late = metrics_table(ds, eval_task=1, convention="after-first").iloc[0]
        for key in ("avg_min_acc", "wc_acc"):  # minima after task 1 was learned (De Lange)
            row[f"{key}_late_seed_mean"] = late[f"{key}_seed_mean"]
            row[f"{key}_late_seed_sd"] = late[f"{key}_seed_sd"]
        row["label"] = label
        gain = ds["gain"].isel(method=0)
        ipt = int(ds.attrs["iterations_per_task"])
        row["gain_mean"] = float(gain.mean())
        window = gain.isel(iteration=slice(ipt, ipt + 30))  # 30 iterations after the first switch
        row["gain_peak_switch1"] = float(window.mean("seed").max())
        row["gain_before_switch1"] = float(gain.isel(iteration=ipt - 1).mean())
        row["seed_avg_sg"] = per_seed_sg(ds)
        rows.append(row)
    df = pd.DataFrame(rows).set_index("label")
    order = [k for k in LABELS if k in df.index] + [k for k in df.index if k not in LABELS]
    return df.loc[order]


def markdown(df: pd.DataFrame) -> str:
    sg_cols = sorted(c for c in df.columns if c.startswith("sg_") and c[3:].isdigit())
    head = ("| method | LC | front end | avg-ACC (%) | avg-min-ACC (%) | WC-ACC (%) | "
            "avg-min-ACC, tasks 2..T (%) | avg-SG | avg-SG, seed-mean curve | "
            + " | ".join(f"SG_{c[3:]}" for c in sg_cols)
            + " | Δ avg-SG vs paper, paired by seed (seeds lower) | gain: before switch 1 → peak |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for label, r in df.iterrows():
        name, lc, fe = LABELS.get(label, (label, "?", "?"))

        def pm(key, d=2):
            return f"{r[key + '_seed_mean']:.{d}f} ± {r[key + '_seed_sd']:.{d}f}"

        gain = "1 (fixed)" if label in BASELINES else (
            f"{r['gain_before_switch1']:.2f} → {r['gain_peak_switch1']:.2f}")
        cells = [name, lc, fe, pm("avg_acc"), pm("avg_min_acc"), pm("wc_acc"), pm("avg_min_acc_late"),
                 pm("avg_sg", 3),
                 f"{r['avg_sg']:.3f} ± {r['avg_sg_err']:.3f}"]
        ref = df.loc["paper", "seed_avg_sg"] if "paper" in df.index else None
        delta = "–" if ref is None or label == "paper" else paired(r["seed_avg_sg"], ref)
        cells += [f"{r[c]:.3f}" for c in sg_cols] + [delta, gain]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure(all_runs: dict, path: Path, before: int = 20, after: int = 80):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    benches = [b for b in BENCHMARKS if all_runs.get(b)]
    fig, axes = plt.subplots(len(benches), 2, figsize=(11, 3.6 * len(benches)), squeeze=False,
                             constrained_layout=True)
    for row, bench in enumerate(benches):
        ax_acc, ax_gain = axes[row]
        for label, ds in all_runs[bench].items():
            if label not in FIGURE:
                continue
            ipt = int(ds.attrs["iterations_per_task"])
            sl = slice(ipt - before, ipt + after)
            x = np.arange(-before, after)
            acc = ds["accuracy"].isel(method=0).sel(eval_task=1).isel(iteration=sl) * 100
            gain = ds["gain"].isel(method=0).isel(iteration=sl)
            style = style_of(label, ds)
            name, lc, fe = LABELS.get(label, (label, "", ""))
            text = name if lc == "–" else f"{lc}, {fe}"
            m, s = acc.mean("seed").values, acc.std("seed").values
            ax_acc.plot(x, m, label=text, **style)
            ax_acc.fill_between(x, m - s, m + s, color=style["color"], alpha=0.12, lw=0)
            if label not in BASELINES:
                m, s = gain.mean("seed").values, gain.std("seed").values
                ax_gain.plot(x, m, label=text, **style)
                ax_gain.fill_between(x, m - s, m + s, color=style["color"], alpha=0.12, lw=0)
        ax_gain.axhline(1.0, color="0.5", ls=":", lw=1, label="baselines (g = 1)")
        for ax in (ax_acc, ax_gain):
            ax.axvline(0, color="k", lw=0.8)
            ax.set_xlabel("iterations after the first task switch")
            ax.grid(alpha=0.3)
        ax_acc.set_ylabel(f"{bench}: task-1 accuracy (%)")
        ax_gain.set_ylabel("gain g(t)")
        ax_acc.set_title(f"{bench}: task-1 test accuracy (mean ± sd, 5 seeds)", fontsize=10)
        ax_gain.set_title(f"{bench}: gain applied in that iteration", fontsize=10)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    return path


def tradeoff(frames: list, path: Path, all_runs: dict):
    """avg-SG against avg-ACC per configuration (per-seed mean ± sd), one panel per benchmark."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(frames), figsize=(5.2 * len(frames), 4.2), squeeze=False,
                             constrained_layout=True)
    for ax, df in zip(axes[0], frames):
        for i, (label, r) in enumerate(df.iterrows()):
            if label in ("baselines/msgd", "baselines/adam"):
                continue  # far off to the right; in the tables
            text = SHORT.get(label, label)
            runs = all_runs[df["benchmark"].iloc[0]]
            color = style_of(label, runs[label])["color"] if label in FIGURE else "0.4"
            ax.errorbar(r["avg_sg_seed_mean"], r["avg_acc_seed_mean"], xerr=r["avg_sg_seed_sd"],
                        yerr=r["avg_acc_seed_sd"], fmt="o", color=color, ms=5, capsize=2)
            ax.annotate(text, (r["avg_sg_seed_mean"], r["avg_acc_seed_mean"]), fontsize=7,
                        xytext=(5, -3 + 7 * (i % 3 - 1)), textcoords="offset points")
        ax.set_xlabel("avg-SG (lower is better; MSGD and Adam are off the chart)")
        ax.set_ylabel("avg-ACC, task 1 (%)")
        ax.set_title(df["benchmark"].iloc[0] + " (per-seed mean ± sd)", fontsize=10)
        ax.grid(alpha=0.3)
    fig.savefig(path, dpi=130)
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root", nargs="?", default="results/lc_study")
    p.add_argument("--figure", default="docs/figures/lc_study_switch.png")
    args = p.parse_args(argv)
    root = Path(args.root)
    all_runs, frames = {}, []
    for bench in BENCHMARKS:
        runs = load(root, bench)
        if not runs:
            continue
        all_runs[bench] = runs
        df = table(runs)
        print(f"\n### {bench}\n")
        print(markdown(df))
        frames.append(df.assign(benchmark=bench))
    if frames:
        fig_path = Path(args.figure)
        figure(all_runs, fig_path)
        tradeoff(frames, fig_path.with_name(fig_path.stem.replace("switch", "tradeoff") + ".png"), all_runs)
        csv = fig_path.with_name(fig_path.stem + "_metrics.csv")
        pd.concat(frames).drop(columns="seed_avg_sg").to_csv(csv, float_format="%.6g")
        print(f"\nfigure: {fig_path}\nmetrics: {csv}")


if __name__ == "__main__":
    main()
