"""AdaptiveGainLC: AGT mode control on top of the Gilzenrat LC."""
import math

import numpy as np
import pytest

from lcne import AdaptiveGainLC, GilzenratLC, LCParameterError


def logistic(x):
    return 1.0 / (1.0 + math.exp(-x))


def test_mode_rule_by_hand():
    agt = AdaptiveGainLC(theta_short=0.4, theta_long=0.6, beta_short=5.0, beta_long=8.0)
    s, l = 0.7, 0.5
    d = logistic(5.0 * (0.7 - 0.4)) * logistic(8.0 * (0.5 - 0.6))
    assert float(agt.disengagement(s, l)) == pytest.approx(d, rel=1e-12)
    assert float(agt.coherence(s, l)) == pytest.approx(0.55 + 0.40 * (1 - d), rel=1e-12)
    # fully engaged / disengaged limits
    assert float(agt.coherence(-10.0, -10.0)) == pytest.approx(0.95, abs=1e-6)
    assert float(agt.coherence(10.0, 10.0)) == pytest.approx(0.55, abs=1e-6)
    # a high short-term cost alone does not disengage (a lapse, not waning utility)
    assert float(agt.coherence(10.0, -10.0)) == pytest.approx(0.95, abs=1e-6)


def test_cost_averages_are_exact_leaky_integrators():
    agt = AdaptiveGainLC(tau_short=2.0, tau_long=20.0)
    ds = agt.simulate(np.full(1001, 0.15), 0.01, cost=np.ones(1001))
    t = 10.0
    assert float(ds.short.sel(time=t)) == pytest.approx(1 - math.exp(-t / 2.0), abs=1e-12)
    assert float(ds.long.sel(time=t)) == pytest.approx(1 - math.exp(-t / 20.0), abs=1e-12)


def test_equal_coherences_reduce_to_the_gilzenrat_model():
    lc = GilzenratLC.preset("gilzenrat2002_phasic")
    drive = np.full(1500, 0.15)
    drive[500:550] = 0.3
    plain = lc.simulate(drive, 0.01)
    agt = AdaptiveGainLC(lc, C_phasic=0.95, C_tonic=0.95).simulate(drive, 0.01, cost=np.ones(1500))
    np.testing.assert_allclose(agt.gain.values, plain.gain.values, rtol=0, atol=1e-13)
    np.testing.assert_allclose(agt.h.values, plain.h.values, rtol=0, atol=1e-13)


def test_brief_surprise_stays_phasic_sustained_cost_goes_tonic():
    agt = AdaptiveGainLC()
    dt, n = 0.02, 10000  # 200 units = 10 s
    # brief surprise: cost and input up for 1 unit at t = 20
    cost = np.zeros(n)
    cost[1000:1050] = 1.0
    drive = 0.15 + 0.15 * cost
    brief = agt.simulate(drive, dt, cost=cost)
    assert float(brief.C.min()) > 0.94  # stays engaged (phasic)
    assert float(brief.h.max()) > 0.9  # and bursts
    # sustained high cost from t = 20 on
    cost = np.zeros(n)
    cost[1000:] = 1.0
    sustained = agt.simulate(0.15 + 0.15 * cost, dt, cost=cost)
    assert float(sustained.C[-1]) < 0.6  # tonic after several tau_long
    assert float(sustained.C.sel(time=21.0)) > 0.94  # but not at the first moment
    assert float(sustained.disengagement[-1]) > 0.9


def test_bad_parameters():
    with pytest.raises(LCParameterError, match=r"^tau_short: must be > 0"):
        AdaptiveGainLC(tau_short=-1.0)
    with pytest.raises(LCParameterError, match=r"^tau_long: must be >= tau_short"):
        AdaptiveGainLC(tau_short=10.0, tau_long=5.0)
    with pytest.raises(LCParameterError, match=r"^C_tonic: "):
        AdaptiveGainLC(C_tonic=1.2)
    with pytest.raises(LCParameterError, match=r"^mode: unknown AdaptiveGainLC parameter"):
        AdaptiveGainLC(mode=0.5)
    with pytest.raises(LCParameterError, match=r"^dt: "):
        AdaptiveGainLC().simulate(np.full(5, 0.15), 0.5)
    with pytest.raises(LCParameterError, match=r"^cost: "):
        AdaptiveGainLC().simulate(np.full(5, 0.15), 0.01, cost=np.zeros(4))
