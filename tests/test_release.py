"""NERelease: first-order release/clearance, against hand calculations."""
import math

import numpy as np
import pytest

from lcne import GilzenratLC, LCParameterError, NERelease


def test_step_response_is_one_minus_exponential():
    rel = NERelease(tau_ne=2.0, q=0.5)
    ds = rel.simulate(np.ones(401), dt=0.01)
    t = ds.time.values
    np.testing.assert_allclose(ds.ne.values, 0.5 * (1 - np.exp(-t / 2.0)), rtol=0, atol=1e-12)
    # by hand: after one time constant 0.5 * (1 - e^-1) = 0.316060...
    assert float(ds.ne.sel(time=2.0)) == pytest.approx(0.5 * (1 - math.exp(-1)), abs=1e-12)


def test_decay_from_initial_level_and_steady_state():
    rel = NERelease(tau_ne=5.0, q=2.0, ne0=1.0)
    ds = rel.simulate(np.zeros(1001), dt=0.01)
    assert float(ds.ne.sel(time=5.0)) == pytest.approx(math.exp(-1), abs=1e-12)
    assert float(rel.steady_state(0.3)) == pytest.approx(0.6)


def test_exact_update_is_stable_for_any_step():
    rel = NERelease(tau_ne=0.1)
    assert float(rel.step(0.0, 0.7, 100.0)) == pytest.approx(0.7)  # no overshoot
    one = rel.step(0.2, 0.7, 0.3)
    two = rel.step(rel.step(0.2, 0.7, 0.1), 0.7, 0.2)  # semigroup property
    assert float(one) == pytest.approx(float(two), abs=1e-15)


def test_batched_runs():
    rel = NERelease(tau_ne=np.array([1.0, 4.0]))
    out = rel.step(np.zeros(2), np.ones(2), 1.0)
    np.testing.assert_allclose(out, [1 - math.exp(-1), 1 - math.exp(-0.25)])


def test_presets_in_milliseconds():
    assert float(NERelease.preset("model").tau_ne) == pytest.approx(5.0)  # 250 ms / 50 ms
    assert float(NERelease.preset("sensor").tau_ne) == pytest.approx(30.0)  # 1500 ms
    assert float(NERelease.preset("model", time_unit_ms=25.0).tau_ne) == pytest.approx(10.0)
    rel = NERelease.from_ms(200.0)  # NEST's neuromodulator trace
    assert float(rel.tau_ne) == pytest.approx(4.0) and float(rel.tau_ne_ms) == pytest.approx(200.0)


def test_release_with_tau_u_reproduces_gilzenrat_u():
    """Gilzenrat's u obeys tau_u du/dt = h(v) - u: NE release driven by h(v) with tau_u."""
    lc = GilzenratLC.preset("gilzenrat2002_phasic")
    drive = np.full(2000, 0.15)
    drive[600:700] = 0.3
    ds = lc.simulate(drive, 0.01)
    ne = NERelease(tau_ne=lc.tau_u, ne0=lc.u0).simulate(ds.h.values, 0.01)
    # h held constant over each step (first order in dt), so agreement is ~dt-limited
    assert np.max(np.abs(ne.ne.values - ds.u.values)) < 2e-3


@pytest.mark.parametrize("kwargs, name", [
    ({"tau_ne": -1.0}, "tau_ne"),
    ({"tau_ne": 0.0}, "tau_ne"),
    ({"time_unit_ms": 0}, "time_unit_ms"),
    ({"q": float("nan")}, "q"),
])
def test_bad_parameters(kwargs, name):
    with pytest.raises(LCParameterError, match=rf"^{name}: "):
        NERelease(**kwargs)


def test_unknown_preset_and_bad_step():
    with pytest.raises(LCParameterError, match=r"^preset: unknown NE release preset 'fast'"):
        NERelease.preset("fast")
    with pytest.raises(LCParameterError, match=r"^dt: "):
        NERelease().simulate([1.0, 1.0], dt=-0.1)
