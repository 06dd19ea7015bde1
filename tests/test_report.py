import numpy as np
import pytest
import xarray as xr

from lcne.analysis.report import build_report, claim_verdicts, paired_test
from lcne.experiments.cli import main


def _ds(bench="split-mnist", gaps=None, seeds=(1, 2, 3, 4, 5), ipt=4, T=3):
    """Curves that reach 1.0 in every block and dip to 1 - gap right after each switch."""
    gaps = gaps or {"ngm": [0.02] * 5, "msgd": [0.5, 0.4, 0.6, 0.45, 0.55], "sgd": [0.03, 0.01, 0.05, 0.0, 0.02]}
    opts = list(gaps)
    acc = np.ones((len(opts), len(seeds), ipt * T, 1))
    acc[:, :, 0, 0] = 0.5
    for i, o in enumerate(opts):
        for j, g in enumerate(gaps[o]):
            for k in range(1, T):
                acc[i, j, k * ipt, 0] = 1 - g
    return xr.Dataset(
        {"accuracy": (("method", "seed", "iteration", "eval_task"), acc),
         "gain": (("method", "seed", "iteration"), np.ones(acc.shape[:3]))},
        coords={"method": opts, "seed": list(seeds), "iteration": np.arange(ipt * T), "eval_task": [1]},
        attrs={"benchmark": bench, "iterations_per_task": ipt, "n_tasks": T, "lcne_schema_version": 2,
               "data_source": "synthetic"},
    )


def test_sign_flip_p_values_by_hand():
    t = paired_test(np.array([1.0, 2, 3, 4, 5]), np.zeros(5))
    assert t["mean"] == pytest.approx(3.0)
    # two-sided: the all-positive and the all-negative assignment are as large, 2 of 32
    assert t["p"] == pytest.approx(2 / 32)
    assert (t["k"], t["n"], t["ties"]) == (5, 5, 0)
    # t interval by hand: sd = sqrt(2.5), t_{4, 0.975} = 2.7764451
    half = 2.7764451 * np.sqrt(2.5) / np.sqrt(5)
    assert (t["low"], t["high"]) == pytest.approx((3 - half, 3 + half), rel=1e-6)
    t = paired_test(np.array([1.0, -1.0]), np.zeros(2))
    assert t["p"] == pytest.approx(1.0) and t["k"] == 0  # mean 0: every assignment is as large


def test_verdicts():
    # 5 seeds: the smallest two-sided p is 2/32 = 0.0625, so nothing can be reproduced
    v = claim_verdicts(_ds()).set_index(["metric", "b"])
    assert set(v["verdict"]) == {"no difference detected"}
    assert v.loc[("avg_sg", "msgd"), "p"] == pytest.approx(2 / 32) and v.loc[("avg_sg", "msgd"), "k"] == 5
    # 8 seeds: p = 2/256 per claim; 4 claims run (ngm vs msgd: avg-SG, avg-ACC; ngm vs sgd: avg-SG, WC-ACC)
    seeds = tuple(range(1, 9))
    gaps = {"ngm": [0.02] * 8, "msgd": [0.5, 0.4, 0.6, 0.45, 0.55, 0.5, 0.42, 0.48],
            "sgd": [0.03, 0.01, 0.05, 0.0, 0.02, 0.03, 0.01, 0.04]}
    v = claim_verdicts(_ds(gaps=gaps, seeds=seeds)).set_index(["metric", "b"])
    assert len(v) == 4
    assert v.loc[("avg_sg", "msgd"), "verdict"] == "reproduced"
    assert v.loc[("avg_sg", "msgd"), "p"] == pytest.approx(2 / 256)
    # Holm: the three tied smallest p (2/256) are scaled by 4, 3, 2, then made monotone: all 4 * 2/256
    assert v.loc[("avg_sg", "msgd"), "p_holm"] == pytest.approx(4 * 2 / 256)
    assert v.loc[("avg_sg", "sgd"), "verdict"] == "no difference detected"  # mixed signs (ngm 0.02 vs 0.0..0.05)
    # avg-ACC and WC-ACC of these curves are the same for every method: all differences 0, p = 1
    assert v.loc[("avg_acc", "msgd"), "p"] == 1.0 and v.loc[("avg_acc", "msgd"), "p_holm"] == 1.0
    flipped = _ds(gaps={"ngm": [0.3] * 8, "msgd": [0.1] * 8}, seeds=seeds)
    row = claim_verdicts(flipped).set_index("metric").loc["avg_sg"]
    assert row["verdict"] == "reversed" and row["p_holm"] == pytest.approx(2 * 2 / 256)
    # the family is every claim of the call: two benchmarks at once double m; the two tied
    # smallest p (2/256) become max(8 p, 7 p) = 0.0625, no longer below 0.05
    both = claim_verdicts([_ds(gaps=gaps, seeds=seeds), _ds("rotated-mnist", gaps=gaps, seeds=seeds)])
    assert len(both) == 8 and both["p_holm"].min() == pytest.approx(8 * 2 / 256)
    assert set(both["verdict"]) == {"no difference detected"}


def test_report_tables_and_cli(tmp_path, capsys):
    text = build_report([_ds()])
    assert "## split-mnist" in text and "**no difference detected**" in text and "**reproduced**" not in text
    assert "0.267 (s)" in text  # paper v2 avg-SG of MSGD on Split MNIST, second-hand
    assert "99.1 / 58.1 / 66.1 / 0.270 (r)" in text  # v1 row of MSGD, recomputed from the released files
    assert "with 5 seeds the smallest exact p is 2/2^5 = 0.0625: cannot reach significance" in text
    assert "| 5/5 |" in text  # k/n beside every p
    # the summary is generated from the verdicts
    assert "- NGM-SGD has a smaller avg-SG than momentum SGD: no difference detected on split-mnist." in text
    assert "- Of 4 claim tests (Holm-adjusted over all 4, alpha = 0.05), 0 reproduced, 0 reversed and 4 with " \
           "no difference detected." in text
    path = tmp_path / "r.nc"
    _ds().to_netcdf(path, engine="h5netcdf")
    assert main(["report", str(path), "--out", str(tmp_path / "rep.md"), "--html"]) == 0
    assert (tmp_path / "rep.md").read_text() == text
    assert (tmp_path / "rep.html").read_text().startswith("<!doctype html>")


def test_methods_from_batches_with_different_tuned_lr_keep_their_lr():
    import json

    a = _ds(gaps={"sgd": [0.03] * 5, "ngm": [0.02] * 5})
    a.attrs["config"] = json.dumps({"lr": 0.03})
    b = _ds(gaps={"msgd": [0.5] * 5})
    b.attrs["config"] = json.dumps({"lr": 0.003})
    rows = [line for line in build_report([a, b]).splitlines() if line.startswith("| ngm |")
            or line.startswith("| sgd |") or line.startswith("| msgd |")]
    assert [r.split(" | ")[:2] for r in rows] == [["| ngm", "0.03"], ["| sgd", "0.03"], ["| msgd", "0.003"]]


def test_study_figure_panels_and_cli(tmp_path, capsys):
    from lcne.analysis.study_figure import study_figure

    fig = study_figure([_ds(), _ds(bench="rotated-mnist")])
    assert len(fig.axes) == 4  # 2 metrics x 2 benchmarks
    top_left = fig.axes[0]
    assert top_left.get_title() == "rotated-mnist"
    # methods top to bottom in the report's order (tick 0 is the bottom row)
    assert [t.get_text() for t in top_left.get_yticklabels()] == ["msgd", "sgd", "ngm"]
    # NGM's seed mean avg-SG (0.02 in every seed) is the dashed reference line
    dashed = [ln for ln in top_left.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_xdata()[0] == pytest.approx(0.02)
    with pytest.raises(ValueError, match="metric 'avg-sg'"):
        study_figure([_ds()], metrics=("avg-sg",))
    path = tmp_path / "r.nc"
    _ds().to_netcdf(path, engine="h5netcdf")
    assert main(["report", str(path), "--out", str(tmp_path / "rep.md"), "--figure", str(tmp_path / "fig")]) == 0
    assert (tmp_path / "fig.png").stat().st_size > 10_000 and (tmp_path / "fig.pdf").exists()


def test_every_published_value_has_a_provenance():
    from lcne.analysis.paper_values import PROVENANCE, V1_TABLE, V2_AVG_SG, mark, provenance

    keys = {("v2_avg_sg", b, m) for b, row in V2_AVG_SG.items() for m in row}
    keys |= {("v1_table", b, m) for b, row in V1_TABLE.items() for m in row}
    assert set(PROVENANCE) == keys
    assert {p.kind for p in PROVENANCE.values()} == {"verbatim", "second-hand"}
    # verbatim: only the two NGM-SGD avg-SG values quoted from the v3 text
    verbatim = sorted(k for k, p in PROVENANCE.items() if p.kind == "verbatim")
    assert verbatim == [("v2_avg_sg", "split-cifar10", "ngm"), ("v2_avg_sg", "split-miniimagenet", "ngm")]
    assert V2_AVG_SG["split-cifar10"]["ngm"] == 0.134 and V2_AVG_SG["split-miniimagenet"]["ngm"] == 0.300
    assert all(p.mark == "(r)" for k, p in PROVENANCE.items() if k[0] == "v1_table")  # recomputed
    assert mark("v2_avg_sg", "split-cifar10", "ngm") == "(v)" and mark("v2_avg_sg", "split-mnist", "ngm") == "(s)"
    assert mark("v2_avg_sg", "split-fashion-mnist", "ngm") == "" and provenance("v1_table", "x", "ngm") is None
    with pytest.raises(KeyError, match="unknown table"):
        provenance("v3", "split-mnist", "ngm")
    # the report prints the mark beside the value
    text = build_report([_ds(bench="split-cifar10")])
    assert "| 0.134 (v) |" in text and "90.1 / 63.9 / 67.7 / 0.157 (r)" in text
