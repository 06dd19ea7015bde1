"""Property tests (hypothesis) for the metrics and the gain controllers."""
import numpy as np
import torch
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lcne
from lcne.analysis.metrics import metrics_table, stability_metrics


@st.composite
def curves(draw):
    T = draw(st.integers(2, 6))
    ipt = draw(st.integers(1, 8))
    acc = draw(arrays(np.float64, T * ipt, elements=st.floats(0.01, 1.0)))
    return acc, ipt


@given(curves(), st.sampled_from(["code", "after-first"]))
@settings(max_examples=200, deadline=None)
def test_metric_invariants(c, convention):
    acc, ipt = c
    m = stability_metrics(acc, ipt, convention)
    assert np.all(m["min"] <= m["final"])
    F = m["final"][:-1]
    assert np.all(m["sg"] <= 1 + 1e-12)  # the drop cannot exceed the previous final accuracy
    assert np.all(m["sg"] >= 1 - 1 / F - 1e-12)  # the minimum is at most 1
    assert acc.min() - 1e-12 <= m["wc_acc"] <= acc.max() + 1e-12
    assert acc.min() - 1e-12 <= m["avg_min_acc"] <= acc.max() + 1e-12
    if convention == "after-first":
        assert m["avg_min_acc"] <= m["final"][1:].mean() + 1e-12


@given(st.integers(2, 4), st.randoms(use_true_random=False))
@settings(max_examples=30, deadline=None)
def test_seed_order_does_not_change_the_table(n_seeds, rnd):
    rng = np.random.default_rng(rnd.randint(0, 2**31))
    acc = rng.uniform(0.1, 1, size=(1, n_seeds, 12, 1))
    ds = xr.Dataset({"accuracy": (("method", "seed", "iteration", "eval_task"), acc)},
                    coords={"method": ["a"], "seed": np.arange(n_seeds), "iteration": np.arange(12),
                            "eval_task": [1]}, attrs={"iterations_per_task": 4})
    perm = rng.permutation(n_seeds)
    a = metrics_table(ds)
    b = metrics_table(ds.isel(seed=perm))
    np.testing.assert_allclose(a.to_numpy(dtype=float), b.to_numpy(dtype=float), rtol=1e-12, equal_nan=True)


@given(
    st.floats(0.0, 0.99),
    st.floats(0.1, 3.0),
    st.floats(0.0, 2.0),
    st.floats(0.0, 5.0),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=60),
)
@settings(max_examples=200, deadline=None)
def test_paper_gain_stays_within_analytic_bounds(gamma, g0, eta, h_max, fractions):
    """For drive H in [0, H_max]: g0 <= g(t) <= g0 + eta H_max / (1 - gamma) when g(0) = g0."""
    c = lcne.PaperGain(gamma=gamma, g0=g0, eta=eta)
    upper = g0 + eta * h_max / (1 - gamma)
    for f in fractions:
        g = c.step(torch.tensor([f * h_max])).item()
        assert g0 * (1 - 1e-6) - 1e-6 <= g <= upper * (1 + 1e-6) + 1e-6


@given(st.lists(st.floats(0.0, 3.0), min_size=2, max_size=30))
@settings(max_examples=100, deadline=None)
def test_stacked_controllers_equal_their_parts(drives):
    a = lcne.PaperGain(n_runs=1, eta=0.4)
    b = lcne.ConstantGain(n_runs=1, value=2.0)
    s = lcne.StackedControllers([lcne.PaperGain(n_runs=1, eta=0.4), lcne.ConstantGain(n_runs=1, value=2.0)])
    for d in drives:
        out = s.step(torch.tensor([d, d]))
        assert out[0].item() == a.step(torch.tensor([d])).item()
        assert out[1].item() == b.step(torch.tensor([d])).item()
