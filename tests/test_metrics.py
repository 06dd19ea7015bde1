import numpy as np
import pytest
import xarray as xr

from lcne.analysis.metrics import metrics_table, propagated_metrics, stability_metrics

# three blocks of four iterations, values chosen so every metric is easy by hand
CURVE = [0.2, 0.6, 0.8, 0.9, 0.5, 0.7, 0.85, 0.95, 0.95, 0.76, 0.9, 1.0]


def test_hand_computed_code_convention():
    m = stability_metrics(CURVE, 4, convention="code")
    np.testing.assert_allclose(m["final"], [0.9, 0.95, 1.0])
    np.testing.assert_allclose(m["min"], [0.2, 0.5, 0.76])
    assert m["avg_acc"] == pytest.approx((0.9 + 0.95 + 1.0) / 3)
    # code: minima of blocks 1..T-1 = (0.2 + 0.5) / 2
    assert m["avg_min_acc"] == pytest.approx(0.35)
    assert m["wc_acc"] == pytest.approx(1.0 / 3 + (2 / 3) * 0.35)
    # SG_2 = (0.9 - 0.5)/0.9, SG_3 = (0.95 - 0.76)/0.95
    np.testing.assert_allclose(m["sg"], [0.4 / 0.9, 0.2])
    assert m["avg_sg"] == pytest.approx((0.4 / 0.9 + 0.2) / 2)


def test_hand_computed_after_first_convention():
    m = stability_metrics(CURVE, 4, convention="after-first")
    assert m["avg_min_acc"] == pytest.approx((0.5 + 0.76) / 2)
    assert m["wc_acc"] == pytest.approx(1.0 / 3 + (2 / 3) * 0.63)
    # SG does not depend on the convention
    np.testing.assert_allclose(m["sg"], [0.4 / 0.9, 0.2])


def test_percent_units_carry_through():
    m = stability_metrics(np.array(CURVE) * 100, 4)
    assert m["avg_acc"] == pytest.approx(95.0)
    np.testing.assert_allclose(m["sg"], [0.4 / 0.9, 0.2])  # relative, unitless


@pytest.mark.parametrize(
    "bad, match",
    [((np.ones(10), 4), "multiple"), ((np.ones(4), 4), "two contexts"), ((np.ones((2, 4)), 4), "1-D")],
)
def test_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        stability_metrics(*bad)
    with pytest.raises(ValueError, match="convention"):
        stability_metrics(CURVE, 4, convention="nope")


def test_propagated_errors_match_formula():
    mean = np.array(CURVE)
    sd = np.full(12, 0.1)
    vals, errs = propagated_metrics(mean, sd, 4)
    assert vals["avg_sg"] == pytest.approx(stability_metrics(CURVE, 4)["avg_sg"])
    assert errs["avg_acc"] == pytest.approx(np.sqrt(3 * 0.01) / 3)
    assert errs["avg_min_acc"] == pytest.approx(np.sqrt(2 * 0.01) / 2)
    F, M = 0.9, 0.5
    sg_var = (0.01 + 0.01) / F**2 + (F - M) ** 2 * 0.01 / F**4
    assert errs["sg"][0] == pytest.approx(np.sqrt(sg_var))


def _dataset(curves_by_opt, ipt):
    opts = list(curves_by_opt)
    acc = np.stack([np.asarray(curves_by_opt[o]) for o in opts])  # (opt, seed, iter)
    acc = acc[..., None]
    ds = xr.Dataset(
        {"accuracy": (("method", "seed", "iteration", "eval_task"), acc)},
        coords={"method": opts, "seed": [1, 2], "iteration": np.arange(acc.shape[2]), "eval_task": [1]},
        attrs={"iterations_per_task": ipt},
    )
    return ds


def test_table_both_seed_conventions():
    a = np.array(CURVE)
    b = np.array(CURVE[::-1])
    ds = _dataset({"x": [a, b]}, 4)
    t = metrics_table(ds, percent=False)
    mean_curve = (a + b) / 2
    assert t.loc["x", "avg_sg"] == pytest.approx(stability_metrics(mean_curve, 4)["avg_sg"])
    per = [stability_metrics(c, 4)["avg_sg"] for c in (a, b)]
    assert t.loc["x", "avg_sg_seed_mean"] == pytest.approx(np.mean(per))
    assert t.loc["x", "avg_sg_seed_sd"] == pytest.approx(np.std(per, ddof=1))
    assert t.loc["x", "n_seeds"] == 2
    t100 = metrics_table(ds, percent=True)
    assert t100.loc["x", "avg_acc"] == pytest.approx(100 * t.loc["x", "avg_acc"])
