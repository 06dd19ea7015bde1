"""Uncertainty front ends (Nassar 2012 CPP, Yu & Dayan 2005) against hand calculations."""
import math

import numpy as np
import pytest
import torch

import lcne
from lcne import ChangePointSignal, LCParameterError, NassarChangePoint, UnexpectedUncertaintySignal
from lcne.change_detection import YuDayanUncertainty


# --------------------------------------------------------------------------- Nassar 2012
def nassar_by_hand(outcomes, H, sigma_n, width, tau0):
    """Scalar re-derivation of Nassar et al. 2012 eqs. 3-7 (first outcome sets the belief)."""
    B, tau = outcomes[0], tau0
    rows = [(0.0, 1.0, B, tau)]
    for x in outcomes[1:]:
        var = sigma_n ** 2 / (1 - tau)  # = sigma_N^2 + sigma_N^2 tau / (1 - tau)
        delta = x - B
        normal = math.exp(-delta ** 2 / (2 * var)) / math.sqrt(2 * math.pi * var)
        omega = H / width / (H / width + (1 - H) * normal)
        alpha = omega + (1 - omega) * tau
        B = B + alpha * delta
        v = omega * sigma_n ** 2 + (1 - omega) * tau * sigma_n ** 2 + omega * (1 - omega) * (delta * (1 - tau)) ** 2
        tau = v / (v + sigma_n ** 2)
        rows.append((omega, alpha, B, tau))
    return rows


def test_nassar_second_outcome_worked_by_hand():
    # H = 0.1, sigma_N = 1, U = 1/10, tau = 0.5, belief 5, outcome 5.5:
    # sigma_t^2 = 1 + 1 * 0.5 / 0.5 = 2; N = exp(-0.25 / 4) / sqrt(4 pi) = 0.265004
    # Omega = 0.01 / (0.01 + 0.9 * 0.265004) = 0.040241; alpha = 0.040241 + 0.959759 * 0.5 = 0.520120
    # B = 5 + 0.520120 * 0.5 = 5.260060
    # V = 0.040241 + 0.479880 + 0.040241 * 0.959759 * 0.0625 = 0.522535; tau = V / (V + 1) = 0.343200
    m = NassarChangePoint(hazard=0.1, sigma_n=1.0, outcome_range=10.0, tau_init=0.5)
    assert float(m.update(5.0)) == 0.0 and float(m.belief) == 5.0
    assert float(m.update(5.5)) == pytest.approx(0.040241, abs=1e-6)
    assert float(m.learning_rate) == pytest.approx(0.520120, abs=1e-6)
    assert float(m.belief) == pytest.approx(5.260060, abs=1e-6)
    assert float(m.tau) == pytest.approx(0.343200, abs=1e-6)
    assert float(m.predictive_sd) == pytest.approx(math.sqrt(2.0))


def test_nassar_short_sequence_matches_scalar_derivation():
    xs = [5.0, 5.5, 9.0, 9.2, 9.1, 2.0, 2.3]
    expected = nassar_by_hand(xs, 0.1, 1.0, 10.0, 0.5)
    m = NassarChangePoint(hazard=0.1, sigma_n=1.0, outcome_range=10.0, tau_init=0.5)
    for x, (omega, alpha, B, tau) in zip(xs, expected):
        m.update(x)
        assert float(m.cpp) == pytest.approx(omega, abs=1e-12)
        assert float(m.learning_rate) == pytest.approx(alpha, abs=1e-12)
        assert float(m.belief) == pytest.approx(B, abs=1e-12)
        assert float(m.tau) == pytest.approx(tau, abs=1e-12)
    # the jump 9.1 -> 2.0 is a change point: CPP near 1, belief moves almost all the way
    assert expected[5][0] > 0.99 and abs(expected[5][2] - 2.0) < 0.05


def test_nassar_batched_equals_separate_and_handles_huge_surprise():
    a = NassarChangePoint(hazard=0.05, sigma_n=0.2)
    b = NassarChangePoint(hazard=0.05, sigma_n=0.2)
    both = NassarChangePoint(hazard=0.05, sigma_n=0.2)
    for x1, x2 in [(1.0, 2.0), (1.1, 2.2), (0.9, 50.0)]:
        out = both.update(np.array([x1, x2]))
        np.testing.assert_allclose(out, [a.update(x1), b.update(x2)], atol=1e-15)
    assert float(b.cpp) == 1.0 and np.isfinite(both.tau).all()  # no underflow NaN


def test_cpp_signal_uses_batch_mean_loss_and_is_registered():
    sig = lcne.make_signal("cpp", n_runs=2, hazard=0.1, sigma_n=1.0, outcome_range=10.0)
    assert isinstance(sig, ChangePointSignal)
    logits = torch.zeros(2, 4, 10)
    sig(logits, torch.tensor([[4.0, 6.0, 5.0, 5.0], [1.0, 1.0, 1.0, 1.0]]))
    d = sig(logits, torch.tensor([[5.0, 6.0, 5.5, 5.5], [1.0, 1.0, 1.0, 1.0]]))
    assert d.shape == (2,)
    assert float(d[0]) == pytest.approx(0.040241, abs=1e-6)  # the hand-worked step above
    st = sig.state()
    assert set(st) == set(sig.state_variables)
    assert all(v.dtype == torch.float64 and v.shape == (2,) for v in st.values())
    assert float(st["belief"][0]) == pytest.approx(5.260060, abs=1e-6)
    ru = ChangePointSignal(n_runs=1, output="relative_uncertainty", hazard=0.1, sigma_n=1.0)
    ru(torch.zeros(1, 1, 10), torch.tensor([[5.0]]))
    assert float(ru(torch.zeros(1, 1, 10), torch.tensor([[5.5]]))) == pytest.approx(0.343200, abs=1e-6)


# --------------------------------------------------------------------------- Yu & Dayan 2005
def test_yu_dayan_sequence_worked_by_hand():
    y = YuDayanUncertainty(hazard=0.1, chance_validity=0.1, validity_rate=0.5)
    assert float(y.update(0.9)) == 0.0 and float(y.validity) == 0.9
    # q = 0.9: prior 0.1, L1/L0 = 9^-0.8 = 0.172422 -> NE = 0.0172422 / 0.9172422 = 0.018798
    assert float(y.update(0.9)) == pytest.approx(0.018798, abs=1e-6)
    assert float(y.expected) == pytest.approx(0.1) and float(y.switch) == 0.0
    # q = 0.3: prior 0.018798 + 0.981202 * 0.1 = 0.116918, L1/L0 = 9^0.4 = 2.408225
    # NE = 0.281566 / 1.164648 = 0.241761 > ACh / (0.5 + ACh) = 0.1 / 0.6 -> context switch
    assert float(y.update(0.3)) == pytest.approx(0.241761, abs=1e-6)
    assert float(y.switch) == 1.0 and float(y.validity) == pytest.approx(0.3)
    # after the reset: prior 0.1, L1/L0 = (1/3)^0.35 (9/7)^0.65 = 0.801611 -> NE = 0.081782
    # threshold 0.7 / 1.2 = 0.583: no switch; validity 0.3 + 0.5 * 0.05 = 0.325
    assert float(y.update(0.35)) == pytest.approx(0.081782, abs=1e-6)
    assert float(y.switch) == 0.0 and float(y.validity) == pytest.approx(0.325)
    assert float(y.expected) == pytest.approx(0.7)


def test_yu_dayan_improvement_is_not_unexpected():
    y = YuDayanUncertainty(hazard=0.01, chance_validity=0.1)
    for q in (0.5, 0.6, 0.8, 0.95, 0.99):
        ne = float(y.update(q))
        assert ne < 0.01 and float(y.switch) == 0.0


def test_yu_dayan_evidence_scales_with_the_number_of_trials():
    one = YuDayanUncertainty(hazard=0.1, chance_validity=0.1)
    many = YuDayanUncertainty(hazard=0.1, chance_validity=0.1)
    one.update(0.9)
    many.update(0.9)
    # q = 0.7 over 10 trials: log L1/L0 = 10 * (0.7 ln(1/9) + 0.3 ln 9) = -4 ln 9
    expected = 0.1 * 9.0 ** -4 / (0.1 * 9.0 ** -4 + 0.9)
    assert float(many.update(0.7, n_trials=10)) == pytest.approx(expected, rel=1e-9)
    assert float(one.update(0.7)) == pytest.approx(0.1 * 9.0 ** -0.4 / (0.1 * 9.0 ** -0.4 + 0.9), rel=1e-9)
    # below the crossover q* = ln 9 / (ln 9 + ln 9) = 0.5 many trials give certainty at once
    assert float(many.update(0.3, n_trials=100)) > 0.999 and float(many.switch) == 1.0


def test_unexpected_signal_counts_every_sample_as_a_trial():
    sig = lcne.make_signal("unexpected", n_runs=1, hazard=0.1, validity_rate=0.5)
    ref = YuDayanUncertainty(hazard=0.1, chance_validity=0.1, validity_rate=0.5)
    logits = torch.zeros(1, 4, 10)
    for q in (0.9, 0.85, 0.6):
        got = float(sig(logits, torch.full((1, 4), -math.log(q))))
        assert got == pytest.approx(float(ref.update(q, n_trials=4)), rel=1e-5)  # float32 losses


def test_unexpected_signal_from_losses_and_logits():
    sig = lcne.make_signal("unexpected", n_runs=1, hazard=0.1, validity_rate=0.5, trials_per_batch=1)
    assert isinstance(sig, UnexpectedUncertaintySignal)
    logits = torch.zeros(1, 2, 10)  # 10 classes -> chance validity 0.1
    losses = lambda q: torch.full((1, 2), -math.log(q))  # noqa: E731  p(true label) = q
    assert float(sig(logits, losses(0.9))) == 0.0
    assert float(sig(logits, losses(0.9))) == pytest.approx(0.018798, abs=1e-6)
    assert float(sig(logits, losses(0.3))) == pytest.approx(0.241761, abs=1e-6)
    st = sig.state()
    assert set(st) == {"unexpected", "expected", "validity", "switch", "p_true"}
    assert float(st["switch"]) == 1.0 and float(st["p_true"]) == pytest.approx(0.3)
    ach = UnexpectedUncertaintySignal(n_runs=1, output="expected", chance_validity=0.1, trials_per_batch=1)
    ach(logits, losses(0.8))
    assert float(ach(logits, losses(0.8))) == pytest.approx(0.2)


def test_signal_state_before_first_call_is_nan():
    st = UnexpectedUncertaintySignal(n_runs=3).state()
    assert all(torch.isnan(v).all() and v.shape == (3,) for v in st.values())


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("factory, kwargs, name", [
    (NassarChangePoint, {"hazard": 1.5}, "hazard"),
    (NassarChangePoint, {"sigma_n": 0.0}, "sigma_n"),
    (NassarChangePoint, {"outcome_range": -1}, "outcome_range"),
    (NassarChangePoint, {"tau_init": 1.0}, "tau_init"),
    (YuDayanUncertainty, {"hazard": 0.0}, "hazard"),
    (YuDayanUncertainty, {"chance_validity": 1.0}, "chance_validity"),
    (YuDayanUncertainty, {"validity_rate": -0.1}, "validity_rate"),
    (UnexpectedUncertaintySignal, {"trials_per_batch": 0}, "trials_per_batch"),
])
def test_bad_parameters(factory, kwargs, name):
    with pytest.raises(LCParameterError, match=rf"^{name}: "):
        factory(**kwargs)


def test_bad_front_end_options_are_named():
    with pytest.raises(LCParameterError, match=r"^output: unknown output 'pupil'"):
        ChangePointSignal(output="pupil")
    with pytest.raises(LCParameterError, match=r"^hazzard: unknown parameter"):
        ChangePointSignal(hazzard=0.1)
    with pytest.raises(LCParameterError, match=r"^hazzard: unknown parameter"):
        UnexpectedUncertaintySignal(hazzard=0.1)
    with pytest.raises(LCParameterError, match=r"^losses: "):
        ChangePointSignal(n_runs=2)(torch.zeros(3, 4, 10), torch.zeros(3, 4))
    with pytest.raises(ValueError, match="unknown uncertainty signal 'surprise'"):
        lcne.make_signal("surprise")
