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
    assert t["p_greater"] == pytest.approx(1 / 32)  # only the all-positive assignment is as large
    assert t["p_less"] == pytest.approx(1.0)
    t = paired_test(np.array([1.0, -1.0]), np.zeros(2))
    assert t["p_greater"] == pytest.approx(3 / 4) and t["p_less"] == pytest.approx(3 / 4)


def test_verdicts():
    v = claim_verdicts(_ds())
    v = v[v["metric"] == "avg_sg"].set_index("b")
    assert v.loc["msgd", "verdict"] == "reproduced"  # NGM gap smaller for all five seeds
    assert v.loc["msgd", "p"] == pytest.approx(1 / 32)
    assert v.loc["sgd", "verdict"] == "inconclusive"  # mixed signs
    flipped = _ds(gaps={"ngm": [0.3] * 5, "msgd": [0.1] * 5})
    assert claim_verdicts(flipped).iloc[0]["verdict"] == "not reproduced"


def test_report_tables_and_cli(tmp_path, capsys):
    text = build_report([_ds()])
    assert "## split-mnist" in text and "**reproduced**" in text
    assert "0.267" in text  # paper v2 avg-SG of MSGD on Split MNIST
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
