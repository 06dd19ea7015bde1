"""Paired statistics over seeds: exact sign-flip p-values, Holm correction, intervals.

Every comparison of two methods in lcne's reports is *paired by seed*: runs with the same
seed share the initial weights and the batch order, so the unit of analysis is the
per-seed difference ``d_i = metric(a, seed i) - metric(b, seed i)``, i = 1..n (``diff``
below, a 1-D array in the metric's units). Nothing here reads results files; it works
on plain numbers (numpy and scipy only).

Tests and intervals
-------------------
* :func:`sign_flip_p` -- the exact two-sided paired sign-flip (permutation) test of the
  mean difference. Under the null hypothesis (a and b exchangeable within a seed) every
  one of the 2^n assignments of signs to the ``|d_i|`` is equally likely; p is the
  fraction of them whose ``|mean|`` is at least the observed ``|mean|``. The smallest
  value it can take is ``2 / 2^n`` (:func:`smallest_p`): 0.0625 with 5 seeds, 0.00049
  with 12, 1.9e-6 with 20. A zero difference stays in n (flipping it changes nothing).
* :func:`holm` -- Holm's (1979) step-down adjustment of a family of p-values; it controls
  the family-wise error rate at alpha for any dependence between the tests.
  :func:`holm_reachable` says whether a family of m tests with n seeds can reach
  significance at all (``smallest_p(n) <= alpha / m``) and :func:`power_note` says so in a
  sentence; the reports print one per family.
* :func:`t_interval` -- mean ± t_{n-1, (1+level)/2} · sd / sqrt(n) (sd with ddof = 1).
* :func:`bca_interval` -- bias-corrected and accelerated bootstrap interval of the mean
  (Efron 1987), the acceleration from the jackknife. With few seeds every interval is
  only approximate (a percentile bootstrap over 5 seeds covers the true mean about 85 %
  of the time at a nominal 95 %); the reports print the t interval and the BCa interval
  side by side, and the test's p-value, not the interval, makes the verdict.
* :func:`agreement` -- how many seeds' differences have the sign of the mean difference.

Errors: bad input (not 1-D, non-finite values, a level outside (0, 1)) raises
:class:`StatisticsError`, one line naming the argument.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence, Tuple

import numpy as np

from lcne.errors import LcneError

__all__ = [
    "StatisticsError",
    "EXACT_MAX",
    "MONTE_CARLO_DRAWS",
    "MONTE_CARLO_SEED",
    "sign_flip_p",
    "holm",
    "t_interval",
    "bca_interval",
    "Agreement",
    "agreement",
    "smallest_p",
    "holm_reachable",
    "power_note",
]

#: largest n whose 2^n sign assignments are all counted exactly (two halves of at most
#: 2^20 signed sums each, ~8 MB)
EXACT_MAX = 40
#: above :data:`EXACT_MAX`: number of random sign assignments and the seed of their generator
MONTE_CARLO_DRAWS = 200_000
MONTE_CARLO_SEED = 0
#: relative tolerance for ties between ``abs(sum)`` of an assignment and the observed one
#: (relative to ``sum(abs(d))``, the largest ``abs(sum)`` any assignment can have)
TIE_RTOL = 1e-9
_CHUNK = 1 << 16  # sign assignments per vectorised block


class StatisticsError(LcneError, ValueError):
    """Bad input to a statistic (one line, naming the argument)."""


def _diff(diff, name: str = "diff") -> np.ndarray:
    d = np.asarray(diff, dtype=np.float64)
    if d.ndim != 1:
        raise StatisticsError(f"{name}: expected a 1-D array of paired differences, got shape {d.shape}")
    if not np.all(np.isfinite(d)):
        raise StatisticsError(f"{name}: {int(np.sum(~np.isfinite(d)))} non-finite value(s); drop the "
                              f"diverged seeds (both methods) before testing")
    return d


def _level(level: float) -> float:
    level = float(level)
    if not 0.0 < level < 1.0:
        raise StatisticsError(f"level: must be between 0 and 1 (exclusive), got {level!r}")
    return level


def _half_sums(x: np.ndarray) -> np.ndarray:
    """All 2^len(x) signed sums sum_i s_i x_i, s in {-1, +1}^len(x) (one per assignment)."""
    sums = np.zeros(1)
    for v in x:
        sums = np.concatenate([sums + v, sums - v])
    return sums


def sign_flip_p(diff) -> float:
    """Exact two-sided paired sign-flip p-value of the mean of ``diff``.

    Parameters
    ----------
    diff : array, shape (n,)
        Paired differences (a - b per seed), finite, any units.

    Returns
    -------
    float
        p = #{sign assignments s in {-1, +1}^n : ``abs(sum(s * d)) >= abs(sum(d))``} / 2^n,
        with a tie tolerance of :data:`TIE_RTOL` · ``sum(abs(d))`` so that rounding cannot split
        equal sums. Exact for n <= :data:`EXACT_MAX`: every one of the 2^n assignments is
        counted, by splitting the differences into two halves, forming the 2^(n/2) signed
        sums of each half, and counting for each sum of the first half the sums of the
        (sorted) second half that complete it to ``abs(total) >= abs(observed)`` (vectorised binary
        search; memory and time of order 2^(n/2), not 2^n). Above, a Monte Carlo estimate
        from :data:`MONTE_CARLO_DRAWS` random assignments drawn with seed
        :data:`MONTE_CARLO_SEED`, p = (1 + #{as large}) / (1 + draws) (never 0). 1.0 for
        n = 0 or when every difference is zero.

    Examples
    --------
    >>> sign_flip_p([0.1, 0.2, 0.3, 0.4, 0.5])  # all five positive: 2 of 32 assignments
    0.0625
    >>> sign_flip_p([1.0, -1.0])
    1.0
    """
    d = _diff(diff)
    n = d.size
    scale = float(np.abs(d).sum())
    if n == 0 or scale == 0.0:
        return 1.0
    threshold = abs(float(d.sum())) - TIE_RTOL * scale
    if threshold <= 0:  # observed mean 0 (within rounding): every assignment is as large
        return 1.0
    if n > EXACT_MAX:
        rng = np.random.default_rng(MONTE_CARLO_SEED)
        hits = 0
        for start in range(0, MONTE_CARLO_DRAWS, _CHUNK):
            m = min(_CHUNK, MONTE_CARLO_DRAWS - start)
            signs = rng.choice(np.array([-1.0, 1.0]), size=(m, n))
            hits += int(np.count_nonzero(np.abs(signs @ d) >= threshold))
        return (1 + hits) / (1 + MONTE_CARLO_DRAWS)
    first = _half_sums(d[: n // 2])
    second = np.sort(_half_sums(d[n // 2:]))
    hits = 0
    for start in range(0, first.size, _CHUNK):  # blocks bound the memory of the searches
        a = first[start:start + _CHUNK]
        # a + b >= threshold, or a + b <= -threshold (disjoint, threshold > 0)
        hits += int(np.sum(second.size - np.searchsorted(second, threshold - a, side="left")))
        hits += int(np.sum(np.searchsorted(second, -threshold - a, side="right")))
    return hits / 2.0**n


def holm(pvalues) -> np.ndarray:
    """Holm step-down adjusted p-values of one family (same order as given).

    With the m finite p-values sorted, p_(1) <= ... <= p_(m), the adjusted value of the
    i-th is max_{j <= i} min(1, (m - j + 1) p_(j)): monotone in the raw p and capped at 1.
    Reject H_(i) at family-wise level alpha when its adjusted p < alpha. NaN entries (a
    test that did not run) stay NaN and do not count in m.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03, 0.005]).round(4).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1:
        raise StatisticsError(f"pvalues: expected a 1-D array, got shape {p.shape}")
    ok = np.isfinite(p)
    if np.any((p[ok] < 0) | (p[ok] > 1)):
        raise StatisticsError("pvalues: every p-value must lie in [0, 1]")
    out = np.full(p.shape, np.nan)
    finite = p[ok]
    m = finite.size
    if m == 0:
        return out
    order = np.argsort(finite, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * finite[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(scaled)
    out[ok] = adjusted
    return out


def t_interval(diff, level: float = 0.95) -> Tuple[float, float]:
    """Student-t interval of the mean: mean ± t_{n-1, (1+level)/2} · sd / sqrt(n).

    ``sd`` with ddof = 1; units of ``diff``. ``(nan, nan)`` for fewer than 2 values; a
    zero-width interval when every value is equal.
    """
    from scipy.stats import t

    d, level = _diff(diff), _level(level)
    n = d.size
    if n < 2:
        return (math.nan, math.nan)
    half = float(t.ppf(0.5 + level / 2, n - 1)) * float(d.std(ddof=1)) / math.sqrt(n)
    mean = float(d.mean())
    return (mean - half, mean + half)


def bca_interval(diff, level: float = 0.95, n_boot: int = 10_000, seed: int = 0) -> Tuple[float, float]:
    """BCa bootstrap interval of the mean of ``diff`` (units of ``diff``).

    ``n_boot`` resamples of the n values with replacement (generator seeded with
    ``seed``, so the interval is reproducible). Bias correction z0 = Phi^-1 of the
    fraction of bootstrap means below the observed mean (ties count half); acceleration
    a = sum (m - m_(i))^3 / (6 [sum (m - m_(i))^2]^1.5) from the leave-one-out means
    m_(i) (m their average). The bounds are the bootstrap quantiles at
    Phi(z0 + (z0 + z)/(1 - a (z0 + z))) for z = Phi^-1((1 -+ level)/2).

    ``(nan, nan)`` for fewer than 2 values; ``(x, x)`` when every value equals x.
    """
    from scipy.special import ndtr, ndtri

    d, level = _diff(diff), _level(level)
    n = d.size
    if n < 2:
        return (math.nan, math.nan)
    if int(n_boot) < 100:
        raise StatisticsError(f"n_boot: at least 100 resamples are needed, got {n_boot!r}")
    if np.all(d == d[0]):
        return (float(d[0]), float(d[0]))
    rng = np.random.default_rng(seed)
    boot = d[rng.integers(0, n, size=(int(n_boot), n))].mean(axis=1)
    theta = d.mean()
    below = (np.count_nonzero(boot < theta) + np.count_nonzero(boot <= theta)) / (2.0 * boot.size)
    z0 = float(ndtri(np.clip(below, 1.0 / boot.size, 1.0 - 1.0 / boot.size)))
    jack = (d.sum() - d) / (n - 1)
    dev = jack.mean() - jack
    den = 6.0 * float(np.sum(dev**2)) ** 1.5
    a = float(np.sum(dev**3)) / den if den > 0 else 0.0
    z = ndtri(np.array([0.5 - level / 2, 0.5 + level / 2]))
    q = ndtr(z0 + (z0 + z) / (1.0 - a * (z0 + z)))
    lo, hi = np.quantile(boot, q)
    return (float(lo), float(hi))


@dataclass(frozen=True)
class Agreement:
    """Sign agreement of paired differences.

    ``k`` of the ``n`` differences have the sign of their mean (``sign``, -1, 0 or +1);
    ``ties`` of them are exactly zero (counted in n, never in k). With a zero mean,
    ``sign`` is 0 and k is 0.
    """

    k: int
    n: int
    ties: int
    sign: int

    def __str__(self) -> str:
        return f"{self.k}/{self.n}" + (f" ({self.ties} tied)" if self.ties else "")


def agreement(diff) -> Agreement:
    """How many seeds agree in sign with the mean difference (see :class:`Agreement`).

    >>> str(agreement([0.2, 0.1, -0.05, 0.0, 0.3]))
    '3/5 (1 tied)'
    """
    d = _diff(diff)
    sign = int(np.sign(d.mean())) if d.size else 0
    k = int(np.count_nonzero(np.sign(d) == sign)) if sign else 0
    return Agreement(k=k, n=int(d.size), ties=int(np.count_nonzero(d == 0)), sign=sign)


def smallest_p(n: int) -> float:
    """Smallest two-sided exact sign-flip p-value with n paired seeds: 2 / 2^n (1 for n <= 1).

    >>> smallest_p(5), smallest_p(10)
    (0.0625, 0.001953125)
    """
    n = int(n)
    if n < 0:
        raise StatisticsError(f"n: number of seeds must be >= 0, got {n}")
    return min(1.0, 2.0 / 2**n)


def holm_reachable(m: int, n: int, alpha: float = 0.05) -> bool:
    """Whether a family of ``m`` tests with ``n`` seeds each can reach Holm significance.

    Holm rejects nothing unless the smallest p is at most alpha / m, and the smallest p
    an exact sign-flip test can give is :func:`smallest_p`; so the family can reject at
    all only if ``smallest_p(n) <= alpha / m``. (At alpha = 0.05 the two sides are never
    equal: 2 m / 2^n = 1/20 has no integer solution.) ``m = 0`` gives False.
    """
    m = int(m)
    if m < 0:
        raise StatisticsError(f"m: number of tests must be >= 0, got {m}")
    return m > 0 and smallest_p(n) <= float(alpha) / m


def power_note(m: int, seeds: Sequence[int], alpha: float = 0.05) -> str:
    """One sentence: can a family of ``m`` tests reach significance with these seed counts?

    ``seeds``: the numbers of paired seeds of the family's tests (one per test, or the
    distinct values); each distinct value is reported.

    >>> power_note(30, [5])
    '30 tests, Holm threshold for the smallest p: 0.05/30 = 0.00167; with 5 seeds the smallest exact p is 2/2^5 = 0.0625: cannot reach significance.'
    """
    m = int(m)
    if m == 0:
        return "no test of this family ran."
    threshold = float(alpha) / m
    parts = []
    for n in sorted({int(s) for s in seeds}, reverse=True):
        word = "can reach significance" if holm_reachable(m, n, alpha) else "cannot reach significance"
        parts.append(f"with {n} seeds the smallest exact p is 2/2^{n} = {smallest_p(n):.3g}: {word}")
    return (f"{m} test{'s' if m != 1 else ''}, Holm threshold for the smallest p: {alpha:g}/{m} = "
            f"{threshold:.3g}; " + "; ".join(parts) + ".")
