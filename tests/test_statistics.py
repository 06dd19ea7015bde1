"""lcne.analysis.statistics: exact sign-flip p, Holm, t and BCa intervals, agreement, power."""
import itertools

import numpy as np
import pytest

from lcne.analysis.statistics import (
    EXACT_MAX,
    MONTE_CARLO_DRAWS,
    StatisticsError,
    agreement,
    bca_interval,
    holm,
    holm_reachable,
    power_note,
    sign_flip_p,
    smallest_p,
    t_interval,
)


def _brute_force(d):
    """p by listing every sign assignment (no tolerance needed for integer-valued d)."""
    d = np.asarray(d, float)
    obs = abs(d.sum())
    return np.mean([abs(np.dot(s, d)) >= obs for s in itertools.product([-1, 1], repeat=d.size)])


def test_sign_flip_p_by_hand():
    assert sign_flip_p([0.1, 0.2, 0.3, 0.4, 0.5]) == 2 / 32  # n = 5, all positive
    assert sign_flip_p(-np.arange(1, 11, dtype=float)) == 2 / 1024  # n = 10, all negative
    # d = (1, 2, -0.5), observed sum 2.5. The 8 sums +-1 +-2 +-0.5: 3.5, 2.5, -0.5, -1.5 and
    # their negatives; |sum| >= 2.5 for +-3.5 and +-2.5: 4 of 8
    assert sign_flip_p([1.0, 2.0, -0.5]) == 0.5
    # d = (1, -1, 2), observed 2: sums 4, 0, 2, -2, 2, -2, 0, -4; six have |sum| >= 2
    assert sign_flip_p([1.0, -1.0, 2.0]) == 6 / 8
    # ties in floating point: d = (0.1, 0.2, -0.3, 0.6), observed 0.6. With s_4 = +1 the
    # sums are 1.2, 0.6, 0.8, 0.2, 1.0, 0.4, 0.6, 0.0: five >= 0.6 (two of them equal to 0.6
    # only up to rounding); the same five with every sign flipped: 10 of 16
    assert sign_flip_p([0.1, 0.2, -0.3, 0.6]) == 10 / 16
    assert sign_flip_p(1000 * np.array([0.1, 0.2, -0.3, 0.6])) == 10 / 16  # units do not matter


def test_sign_flip_p_zeros_and_edges():
    assert sign_flip_p([0.0, 0.0, 0.0, 0.0]) == 1.0
    # a zero difference stays in n: (1, 1, 0) has sums +-2 (4 assignments) and 0 (4): 4 of 8
    assert sign_flip_p([1.0, 1.0, 0.0]) == 0.5
    assert sign_flip_p([1.0, -1.0]) == 1.0  # observed mean 0
    assert sign_flip_p([3.0]) == 1.0  # n = 1: the two assignments are as large
    assert sign_flip_p([]) == 1.0


def test_sign_flip_p_matches_brute_force():
    rng = np.random.default_rng(7)
    for n in (2, 3, 5, 8, 11, 12):
        for _ in range(4):
            d = rng.integers(-3, 4, n).astype(float)  # many exact ties
            assert sign_flip_p(d) == _brute_force(d), d


def test_sign_flip_p_large_n_is_exact_then_monte_carlo():
    d = np.ones(22)
    assert sign_flip_p(d) == 2 / 2**22  # exact at the brief's bound
    assert EXACT_MAX >= 22
    d = np.ones(EXACT_MAX + 1)  # Monte Carlo above: (1 + hits) / (1 + draws), reproducible
    p = sign_flip_p(d)
    assert p == 1 / (1 + MONTE_CARLO_DRAWS) and sign_flip_p(d) == p


def test_sign_flip_p_rejects_bad_input():
    with pytest.raises(StatisticsError, match="diff: 1 non-finite"):
        sign_flip_p([0.1, np.nan, 0.2])
    with pytest.raises(StatisticsError, match="1-D"):
        sign_flip_p(np.zeros((2, 2)))


def test_holm_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 -> 4*0.005 = 0.02, 3*0.01 = 0.03, 2*0.03 = 0.06, max(0.04, 0.06) = 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1
    # a test that did not run (NaN) stays NaN and is not counted in m
    out = holm([0.01, np.nan, 0.04])
    assert np.isnan(out[1]) and out[[0, 2]] == pytest.approx([0.02, 0.04])
    assert holm([]).size == 0
    with pytest.raises(StatisticsError, match=r"\[0, 1\]"):
        holm([0.2, 1.5])


def test_holm_is_monotone_in_the_raw_p():
    p = np.random.default_rng(3).uniform(0, 0.2, 30)
    adj = holm(p)
    order = np.argsort(p)
    assert np.all(np.diff(adj[order]) >= 0) and np.all(adj >= p) and np.all(adj <= 1)


def test_t_interval_against_scipy():
    from scipy import stats

    d = np.array([0.3, -0.1, 0.5, 0.2, 0.9, 0.0, 0.4])
    lo, hi = t_interval(d)
    ref = stats.t.interval(0.95, d.size - 1, loc=d.mean(), scale=stats.sem(d))
    assert (lo, hi) == pytest.approx(ref, rel=1e-12)
    assert t_interval(d, 0.9) == pytest.approx(stats.t.interval(0.9, d.size - 1, loc=d.mean(), scale=stats.sem(d)))
    assert all(np.isnan(t_interval([1.0])))
    assert t_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)
    with pytest.raises(StatisticsError, match="level"):
        t_interval(d, 95)


@pytest.mark.parametrize("draw", ["normal", "skewed"])
def test_bca_interval_agrees_with_scipy(draw):
    from scipy import stats

    rng = np.random.default_rng(11)
    d = rng.normal(1.0, 2.0, 12) if draw == "normal" else rng.exponential(1.0, 10)
    lo, hi = bca_interval(d, n_boot=50_000, seed=1)
    ref = stats.bootstrap((d,), np.mean, method="BCa", n_resamples=50_000, random_state=2).confidence_interval
    width = ref.high - ref.low
    # two Monte-Carlo estimates of the same interval: the bounds agree to a few % of its width
    assert abs(lo - ref.low) < 0.04 * width and abs(hi - ref.high) < 0.04 * width
    assert lo < d.mean() < hi
    assert bca_interval(d, n_boot=2000, seed=5) == bca_interval(d, n_boot=2000, seed=5)  # seeded


def test_bca_interval_edges():
    assert bca_interval([0.5, 0.5, 0.5]) == (0.5, 0.5)
    assert all(np.isnan(bca_interval([0.5])))
    with pytest.raises(StatisticsError, match="n_boot"):
        bca_interval([1.0, 2.0], n_boot=10)


def test_agreement_counts_signs_and_ties():
    a = agreement([0.2, 0.1, -0.05, 0.0, 0.3])
    assert (a.k, a.n, a.ties, a.sign) == (3, 5, 1, 1) and str(a) == "3/5 (1 tied)"
    a = agreement([-1.0, -2.0, 0.5, -0.1])
    assert (a.k, a.n, a.ties, a.sign) == (3, 4, 0, -1) and str(a) == "3/4"
    a = agreement([1.0, -1.0])
    assert (a.k, a.sign) == (0, 0)


def test_smallest_p_and_holm_reachability():
    assert smallest_p(5) == 0.0625 and smallest_p(12) == 2 / 4096 and smallest_p(20) == 2 / 2**20
    assert smallest_p(1) == 1.0 and smallest_p(0) == 1.0
    # 5 seeds can never reach 0.05, even alone; the old study's 30 claims even less
    assert not holm_reachable(1, 5) and not holm_reachable(30, 5)
    # 12 seeds: 2/4096 <= 0.05/m for m <= 102 (the protocol's bound)
    assert holm_reachable(102, 12) and not holm_reachable(103, 12)
    assert holm_reachable(30, 20) and not holm_reachable(0, 20)
    with pytest.raises(StatisticsError, match="m:"):
        holm_reachable(-1, 5)


def test_power_note_text():
    assert power_note(30, [5, 5]) == ("30 tests, Holm threshold for the smallest p: 0.05/30 = 0.00167; with 5 seeds "
                                      "the smallest exact p is 2/2^5 = 0.0625: cannot reach significance.")
    note = power_note(18, [12, 20, 12])
    assert "with 20 seeds the smallest exact p is 2/2^20 = 1.91e-06: can reach significance; with 12 seeds" in note
    assert power_note(0, []) == "no test of this family ran."
