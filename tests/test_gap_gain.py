"""Gain and gap measurements on synthetic curves with known answers."""
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lcne.analysis import gap_gain as gg
from lcne.analysis.metrics import metrics_table, stability_metrics
from lcne.analysis.synthetic import burst_curve, dip_curve, synthetic_results
from lcne.analysis.transients import crossing_time, fit_exp_decay, fwhm, transient_features

I = 50


def _curve_with_dips(depths, level=0.9, t_min=5, t_back=10):
    blocks = [np.full(I, level)]
    for d in depths:
        blocks.append(dip_curve(I, level, d, t_min, t_back))
    return np.concatenate(blocks)


# ----------------------------------------------------------------------------- gap

def test_gap_depth_time_and_area_match_closed_form():
    level, depth, t_min, t_back, tol = 0.9, 0.3, 5, 10, 0.01
    acc = _curve_with_dips([depth, 0.1], level, t_min, t_back)
    gap = gg.gap_features(acc, I, tolerance=tol)
    row = gap.iloc[0]
    assert row.switch == 2
    assert row.prev_final == pytest.approx(level)
    assert row.depth_abs == pytest.approx(depth)
    assert row.depth_rel == pytest.approx(depth / level)
    assert row.t_min == t_min
    # climb back: level - depth (1 - (t - t_min)/t_back) >= level - tol
    t_rec = math.ceil(t_min + t_back * (1 - tol / depth) - 1e-12)
    assert row.t_recover == t_rec
    assert row.recovered
    t = np.arange(1, t_rec)
    a = dip_curve(I, level, depth, t_min, t_back)[: t_rec - 1]
    assert row.gap_area == pytest.approx(np.sum(level - a))
    assert np.allclose(a, level - depth * np.where(t <= t_min, t / t_min, 1 - (t - t_min) / t_back))


def test_gap_without_dip_and_without_recovery():
    flat = np.full(2 * I, 0.8)
    row = gg.gap_features(flat, I).iloc[0]
    assert row.depth_abs == 0 and row.t_recover == 0 and row.gap_area == 0 and row.recovered
    never = np.concatenate([np.full(I, 0.8), np.full(I, 0.5)])
    row = gg.gap_features(never, I).iloc[0]
    assert not row.recovered and math.isnan(row.t_recover)
    assert row.t_min == 1
    assert row.gap_area == pytest.approx(0.3 * I)


def test_gap_window_limits_the_search():
    acc = np.concatenate([np.full(I, 0.9), np.full(I, 0.9)])
    acc[I + 30] = 0.2  # late drop, outside a 10-iteration window
    assert gg.gap_features(acc, I).iloc[0].depth_abs == pytest.approx(0.7)
    assert gg.gap_features(acc, I, window=10).iloc[0].depth_abs == pytest.approx(0.0)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.05, 1.0), min_size=3 * 8, max_size=3 * 8))
def test_relative_depth_is_the_papers_sg(values):
    acc = np.array(values)
    gap = gg.gap_features(acc, 8)
    sg = stability_metrics(acc, 8)["sg"]
    assert np.allclose(gap["depth_rel"].values, sg)


# ----------------------------------------------------------------------------- gain

def test_gain_peak_timing_area_and_decay():
    g_pre, peak, t_peak, tau, g_after = 1.3, 0.9, 4, 6.0, 1.5
    g = np.concatenate([np.full(I, g_pre), burst_curve(I, g_pre, peak, t_peak, tau, g_after)])
    row = gg.gain_features(g, I).iloc[0]
    assert row.gain_base == pytest.approx(g_pre)
    assert row.gain_peak == pytest.approx(peak)
    assert row.gain_peak_rel == pytest.approx((g_pre + peak) / g_pre)
    assert row.gain_t_peak == t_peak
    assert row.gain_latency == pytest.approx(0.1 * t_peak)  # linear rise from t = 0
    assert row.gain_tau == pytest.approx(tau, rel=1e-6)
    seg = burst_curve(I, g_pre, peak, t_peak, tau, g_after)
    assert row.gain_area == pytest.approx(np.sum(seg - g_pre))
    tonic = gg.gain_features(g, I, baseline="tonic", tonic=1.0).iloc[0]
    assert tonic.gain_peak == pytest.approx(g_pre + peak - 1.0)
    with pytest.raises(ValueError, match="baseline"):
        gg.gain_features(g, I, baseline="median")


def test_exponential_fit_exact_noisy_and_fixed_offset():
    t = np.arange(60.0)
    assert fit_exp_decay(t, 2.0 + 3.0 * np.exp(-t / 9.5)).tau == pytest.approx(9.5, rel=1e-6)
    rng = np.random.default_rng(1)
    noisy = fit_exp_decay(t, 2.0 + 3.0 * np.exp(-t / 9.5) + 0.01 * rng.standard_normal(t.size))
    assert noisy.ok and noisy.tau == pytest.approx(9.5, rel=0.05)
    fixed = fit_exp_decay(t, 1.0 + np.exp(-t / 4.0), fixed_offset=1.0)
    assert fixed.tau == pytest.approx(4.0, rel=1e-6) and fixed.offset == 1.0
    assert not fit_exp_decay(t[:3], t[:3]).ok
    assert not fit_exp_decay(t, t).ok  # rising: no decay


def test_crossing_and_width_interpolate_linearly():
    tri = np.array([0, 1, 2, 3, 4, 3, 2, 1, 0], dtype=float)
    assert crossing_time(tri, 2.5) == pytest.approx(2.5)
    assert crossing_time(tri, 2.5, start=4, direction="down") == pytest.approx(5.5)
    assert fwhm(tri) == pytest.approx(4.0)
    assert fwhm(tri, dt=0.5) == pytest.approx(2.0)
    f = transient_features(tri, 0.0, dt=2.0)
    assert f["t_peak"] == 8.0 and f["peak"] == 4.0 and f["area"] == pytest.approx(32.0)


# --------------------------------------------------------------------- relations

def test_lagged_xcorr_finds_the_lead():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(300)
    y = np.roll(x, 3)  # y(t) = x(t - 3): x leads by 3
    lags, r = gg.lagged_xcorr(x, y, 6)
    assert lags[np.nanargmax(r)] == 3
    assert np.nanmax(r) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        gg.lagged_xcorr(x, y[:-1], 3)


def test_regression_exact_line_and_ci_coverage():
    x = np.linspace(0, 1, 20)
    res = gg.regress(x, 0.5 + 2.0 * x, n_boot=200)
    assert res.slope == pytest.approx(2.0) and res.intercept == pytest.approx(0.5) and res.r == pytest.approx(1.0)
    rng = np.random.default_rng(3)
    covered = 0
    for _ in range(40):
        y = 1.0 + 0.7 * x + 0.2 * rng.standard_normal(x.size)
        fit = gg.regress(x, y, n_boot=0)
        covered += fit.slope_ci[0] <= 0.7 <= fit.slope_ci[1]
    assert covered >= 34  # 95 % interval: expect about 38 of 40
    groups = np.repeat(np.arange(5), 4)
    clustered = gg.regress(x, 1 + 0.7 * x + 0.1 * rng.standard_normal(x.size), groups=groups, n_boot=300)
    assert clustered.n_groups == 5 and clustered.slope_ci_boot[0] < clustered.slope < clustered.slope_ci_boot[1]
    assert "slope" in clustered.summary()


def test_bootstrap_ci_brackets_the_mean():
    v = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    lo, hi = gg.bootstrap_ci(v, n_boot=1000)
    assert lo < 3.0 < hi and lo >= 1.0 and hi <= 5.0
    assert all(math.isnan(b) for b in gg.bootstrap_ci([1.0]))


# -------------------------------------------------------------- on a results Dataset

@pytest.fixture(scope="module")
def results():
    return synthetic_results(iterations_per_task=40, seeds=(0, 1, 2, 3), coupling=0.1, noise=0.0)


def test_switch_table_recovers_the_true_peaks_and_depths(results):
    truth = json.loads(results.attrs["truth"])
    tab = gg.switch_table(results)
    assert len(tab) == 2 * 4 * 4  # optimizers x seeds x switches
    for (opt, seed), sub in tab.groupby(["method", "seed"]):
        t = truth[f"{opt}/{seed}"]
        assert np.allclose(sub.sort_values("switch")["depth_abs"], t["depths"])
        if opt == "ngm":
            assert np.allclose(sub.sort_values("switch")["gain_peak"], t["peaks"])
            assert np.allclose(sub["gain_t_peak"], 4) and np.allclose(sub["gain_tau"], 8.0, rtol=1e-5)
    assert set(tab["eta"]) == {0.4} and set(tab["benchmark"]) == {"split-mnist"}


def test_relate_recovers_the_coupling(results):
    tab = gg.switch_table(results, methods=["ngm"])
    rel = gg.relate(tab, "gain_peak", "depth_abs", n_boot=200)
    assert rel.loc[0, "slope"] == pytest.approx(0.1)
    assert rel.loc[0, "r"] == pytest.approx(1.0)
    assert rel.loc[0, "n_groups"] == 4


def test_gain_gap_xcorr_summary(results):
    xc = gg.gain_gap_xcorr(results, max_lag=8)
    assert set(xc["lag"]) == set(range(-8, 9))
    summ = gg.xcorr_summary(xc, n_boot=100)
    assert summ["is_peak"].sum() == 1
    peak = summ[summ["is_peak"]].iloc[0]
    assert -1 <= peak.r_mean <= 1 and peak.n_runs == 4


def test_task_complexity_slope_and_verdict():
    ds = synthetic_results(iterations_per_task=20, seeds=(0, 1, 2), methods=("ngm",))
    T, I_ = 5, 20
    slope_true = 0.15
    g = np.empty((1, 3, T * I_))
    for s in range(3):
        for k in range(T):
            g[0, s, k * I_:(k + 1) * I_] = 1.0 + slope_true * k + 0.01 * s
    ds["gain"] = (("method", "seed", "iteration"), g)
    tc = gg.task_complexity(ds, n_boot=200)
    assert tc.paper_slope == pytest.approx(slope_true)
    assert np.allclose(tc.seed_slopes, slope_true)
    assert tc.verdict() == "rises"
    assert tc.per_task.shape == (15, 3)
    tc3 = gg.task_complexity(ds, tasks=[1, 2, 3], difficulty=[2, 4, 6], n_boot=100)
    assert tc3.difficulty.slope == pytest.approx(slope_true / 2)
    with pytest.raises(ValueError, match="tasks"):
        gg.task_complexity(ds, tasks=[1])


def test_seed_statistics_match_the_metrics_table(results):
    st_ = gg.seed_statistics(results, percent=True, n_boot=200)
    tab = metrics_table(results, percent=True)
    for opt in ("ngm", "sgd"):
        row = st_[(st_.method == opt) & (st_.metric == "avg_sg")].iloc[0]
        assert row.paper_value == pytest.approx(tab.loc[opt, "avg_sg"])
        assert row.paper_err == pytest.approx(tab.loc[opt, "avg_sg_err"])
        assert row.seed_mean == pytest.approx(tab.loc[opt, "avg_sg_seed_mean"])
        assert row.boot_low <= row.seed_mean <= row.boot_high
        acc = st_[(st_.method == opt) & (st_.metric == "avg_acc")].iloc[0]
        assert acc.paper_value == pytest.approx(tab.loc[opt, "avg_acc"])
    assert set(st_["metric"]) >= {"sg_2", "sg_5", "wc_acc"}


def test_bad_results_name_the_field(results):
    broken = results.drop_vars("gain")
    with pytest.raises(ValueError, match="'gain'"):
        gg.switch_table(broken)
    wrong = results.copy()
    wrong.attrs["iterations_per_task"] = 7
    with pytest.raises(ValueError, match="iteration"):
        gg.switch_table(wrong)
