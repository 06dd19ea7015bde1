"""GilzenratLC: presets, integration accuracy, published behaviour, errors.

Reference values: scipy's solve_ivp at tight tolerance (independent integrator), the
regression numbers of ``docs/lc_models.md`` section 1 ("Time scales": a noise-free re-run
of the published model of Gilzenrat et al. 2002, Neural Networks 15:647-663), and fixed
points found with brentq.
"""
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from lcne import GilzenratLC, LCParameterError
from lcne.gilzenrat import GILZENRAT_PRESETS

REST_INPUT = 0.15  # w_vX1 * f(0) = 0.3 * 0.5: the published pre-target LC input


def reference_solution(C, times, segments, v0, u0, a=0.5, d=0.5, tau_v=0.05, tau_u=5.0):
    """solve_ivp (DOP853, rtol 1e-11) over piecewise-constant input; returns v, u at ``times``."""

    def rhs(_t, y, inp):
        v, u = y
        return [(v * (a - v) * (v - 1) - u + inp) / tau_v, (C * v + (1 - C) * d - u) / tau_u]

    y = [v0, u0]
    v_out = np.empty(times.size)
    u_out = np.empty(times.size)
    for start, stop, inp in segments:
        sel = (times >= start - 1e-9) & (times < stop - 1e-9)
        sol = solve_ivp(rhs, (start, stop), y, args=(inp,), method="DOP853", rtol=1e-11, atol=1e-13,
                        dense_output=True)
        if sel.any():
            v_out[sel], u_out[sel] = sol.sol(times[sel])
        y = sol.y[:, -1]
    return v_out, u_out


def pulse_drive(dt, total=30.0, onset=10.0, width=1.0, amp=0.15):
    n = int(round(total / dt))
    drive = np.full(n, REST_INPUT)
    drive[int(round(onset / dt)):int(round((onset + width) / dt))] += amp
    return drive


# --------------------------------------------------------------------------- presets
def test_presets_hold_published_parameters():
    ph = GilzenratLC.preset("gilzenrat2002_phasic")
    to = GilzenratLC.preset("gilzenrat2002_tonic")
    nw = GilzenratLC.preset("nieuwenhuis2005")
    assert (ph.C, ph.k, ph.h0, ph.u0) == (0.95, 3.0, 0.07, 0.14)
    assert (to.C, to.k, to.h0, to.u0) == (0.55, 3.0, 0.2, 0.2)
    assert (nw.C, nw.k) == (0.90, 1.5)
    for lc in (ph, to, nw):
        assert (lc.a, lc.d, lc.tau_v, lc.tau_u, lc.G, lc.w_vX1) == (0.5, 0.5, 0.05, 5.0, 0.5, 0.3)
        assert lc.noise == 0.0 and lc.time_unit_ms == 50.0
    # v0 = (h0 - (1 - C) d) / C, by hand: (0.07 - 0.025) / 0.95 and (0.2 - 0.225) / 0.55
    assert ph.v0 == pytest.approx(0.045 / 0.95)
    assert to.v0 == pytest.approx(-0.025 / 0.55)


def test_preset_overrides_by_name():
    lc = GilzenratLC.preset("gilzenrat2002_phasic", k=2.0, noise=0.1, seed=3)
    assert (lc.k, lc.noise, lc.seed, lc.C) == (2.0, 0.1, 3, 0.95)
    assert lc.preset_name == "gilzenrat2002_phasic"


# --------------------------------------------------------------------------- simulate
@pytest.mark.parametrize("name", sorted(GILZENRAT_PRESETS))
def test_simulate_matches_tight_ode_solution(name):
    lc = GilzenratLC.preset(name)
    dt = 0.01
    drive = pulse_drive(dt)
    ds = lc.simulate(drive, dt)
    t = ds.time.values
    segments = [(0.0, 10.0, REST_INPUT), (10.0, 11.0, REST_INPUT + 0.15), (11.0, 30.0, REST_INPUT)]
    v, u = reference_solution(lc.C, t, segments, lc.v0, lc.u0)
    gain = lc.G + lc.k * u
    assert np.max(np.abs(ds.gain.values - gain)) < 0.005  # the requirement
    assert np.max(np.abs(ds.gain.values - gain)) < 1e-5  # what RK4 actually achieves
    assert np.max(np.abs(ds.v.values - v)) < 1e-4


def test_sample_i_is_state_at_i_dt_starting_from_published_state():
    lc = GilzenratLC.preset("gilzenrat2002_tonic")
    drive = np.full(7, REST_INPUT)
    ds = lc.simulate(drive, 0.02)
    assert ds.sizes["time"] == 7
    np.testing.assert_allclose(ds.time.values, 0.02 * np.arange(7))
    np.testing.assert_allclose(ds.time_ms.values, 0.02 * 50.0 * np.arange(7))
    assert float(ds.h[0]) == pytest.approx(0.2) and float(ds.u[0]) == pytest.approx(0.2)
    assert float(ds.gain[0]) == pytest.approx(0.5 + 3.0 * 0.2)
    for name in ("v", "u", "h", "gain", "drive"):
        assert name in ds


def test_input_during_last_step_does_not_change_the_samples():
    lc = GilzenratLC.preset("gilzenrat2002_phasic")
    a = lc.simulate([0.15, 0.15, 0.15], 0.01)
    b = lc.simulate([0.15, 0.15, 0.9], 0.01)  # value i acts on [t_i, t_i + dt)
    np.testing.assert_array_equal(a.v.values, b.v.values)


@pytest.mark.parametrize("name, h_rest, gain_rest", [
    ("gilzenrat2002_phasic", 0.115, 0.85),  # pre-target values of the noise-free re-run
    ("gilzenrat2002_tonic", 0.19, 1.07),
])
def test_resting_state_matches_regression_values_and_fixed_point(name, h_rest, gain_rest):
    lc = GilzenratLC.preset(name)
    ds = lc.simulate(np.full(1001, REST_INPUT), 0.01)  # 10 units, as before target onset
    assert float(ds.h[-1]) == pytest.approx(h_rest, abs=0.005)
    assert float(ds.u[-1]) == pytest.approx(h_rest, abs=0.005)
    assert float(ds.gain[-1]) == pytest.approx(gain_rest, abs=0.005)
    # fixed point by brentq on v(a - v)(v - 1) - h(v) + I = 0
    C = lc.C
    v_star = brentq(lambda v: v * (0.5 - v) * (v - 1) - (C * v + (1 - C) * 0.5) + REST_INPUT, -0.3, 0.4)
    g_star = 0.5 + 3.0 * (C * v_star + (1 - C) * 0.5)
    assert float(ds.gain[-1]) == pytest.approx(g_star, abs=2e-3)
    assert lc.equilibrium(REST_INPUT)[2] == pytest.approx(g_star, abs=1e-9)


def test_phasic_pulse_gives_burst_gain_peak_and_refractory_dip():
    lc = GilzenratLC.preset("gilzenrat2002_phasic")
    dt = 0.01
    ds = lc.simulate(pulse_drive(dt, width=0.5), dt)  # 25 ms pulse of +0.15 at t = 10
    t = ds.time.values
    after = t >= 10.0
    h, g = ds.h.values[after], ds.gain.values[after]
    h_rest = float(ds.h.sel(time=9.99))
    g_rest = float(ds.gain.sel(time=9.99))
    # transient burst of LC activity to ~1 (from 0.115)
    assert h.max() > 0.9
    t_h = t[after][h.argmax()] - 10.0
    assert 0.2 < t_h < 1.0
    # gain peak after the burst, numbers checked against solve_ivp
    _, u = reference_solution(lc.C, t, [(0, 10, .15), (10, 10.5, .30), (10.5, 30, .15)], lc.v0, lc.u0)
    g_ref = 0.5 + 3.0 * u
    assert g.max() == pytest.approx(g_ref[after].max(), abs=1e-4)
    assert g.max() == pytest.approx(1.275, abs=0.01)
    t_g = t[after][g.argmax()] - 10.0
    assert t_g == pytest.approx(t[after][g_ref[after].argmax()] - 10.0, abs=0.02)
    assert t_h < t_g < 3.0
    # refractory dip: activity falls below its resting level after the burst
    post = h[t[after] > 10.0 + t_h]
    assert post.min() < h_rest - 0.1
    assert g[-1] == pytest.approx(g_rest, abs=1e-3)  # and the gain relaxes back


def test_second_pulse_during_refractory_window_gives_smaller_response():
    """Nieuwenhuis 2005: a phasic response is followed by a refractory window.

    RSVP items of 2 model units (100 ms); T1 at t = 6; T2 ``lag`` items later. The gain
    increment evoked by T2 recovers monotonically with lag.
    """
    lc = GilzenratLC.preset("nieuwenhuis2005")
    dt, item = 0.01, 200  # steps per item

    def gain_increment(lag):
        drive = np.full(3000, REST_INPUT)
        drive[600:600 + item] += 0.15  # T1
        if lag is None:
            on = 600
        else:
            on = 600 + lag * item
            drive[on:on + item] += 0.15  # T2
        g = lc.simulate(drive, dt).gain.values
        return g[on:on + 4 * item].max() - g[on]

    single = gain_increment(None)
    increments = [gain_increment(lag) for lag in (1, 2, 3, 6)]
    assert single == pytest.approx(0.395, abs=0.01)  # k = 1.5 halves the burst gain
    assert increments[0] < 0.2 * single  # lag 1 (100 ms): refractory
    assert increments[1] < 0.7 * single  # lag 2 (200 ms): partly recovered
    assert increments == sorted(increments)  # recovery with lag
    assert increments[-1] > 0.95 * single  # lag 6 (600 ms): recovered


def test_tonic_mode_raised_baseline_and_weaker_phasic_response():
    dt = 0.01
    out = {}
    for name in ("gilzenrat2002_phasic", "gilzenrat2002_tonic"):
        ds = GilzenratLC.preset(name).simulate(pulse_drive(dt, width=0.5), dt)
        base = float(ds.gain.sel(time=9.99))
        out[name] = (base, float(ds.gain.max()) - base, float(ds.h[1000:].max()))
    (g_ph, dg_ph, h_ph), (g_to, dg_to, h_to) = out["gilzenrat2002_phasic"], out["gilzenrat2002_tonic"]
    assert g_to > g_ph + 0.2  # 1.07 vs 0.85
    assert dg_to < 0.5 * dg_ph  # weaker phasic gain response
    assert h_to < 0.75 * h_ph  # no full burst


def _behavioural_network(C, h0, u0, k=3.0):
    """The published decision network, Euler dt = 0.02, LC by GilzenratLC.

    Gilzenrat et al. 2002, Neural Networks 15:647-663; weights and biases as in PsyNeuLink's
    ``GilzenratModel.py`` (LC parameters in docs/lc_models.md section 1).
    """
    lc = GilzenratLC.preset("gilzenrat2002_phasic", C=C, h0=h0, u0=u0, k=k)
    dt = 0.02
    v, u = float(lc.v0), float(lc.u0)
    x1 = x2 = x3 = 0.0
    rows = []
    for n in range(1000):
        g = 0.5 + k * u
        i1 = 1.0 if n >= 500 else 0.0

        def f(x, bias):
            return 1.0 / (1.0 + math.exp(-g * (x - bias)))

        f1, f2, f3 = f(x1, 0.0), f(x2, 0.0), f(x3, 2.0)
        dx1 = -x1 + f1 - f2 + 1.0 * i1
        dx2 = -x2 + f2 - f1 + 0.33 * i1
        dx3 = -x3 + 2.0 * f3 + 1.84 * f1
        v, u = lc.rk4_step(v, u, 0.3 * f1, dt)
        x1, x2, x3 = x1 + dt * dx1, x2 + dt * dx2, x3 + dt * dx3
        rows.append(((n + 1) * dt, float(lc.activity(v)), u, 0.5 + k * u))
    return np.array(rows)


def test_closed_loop_published_model_reproduces_regression_numbers():
    rec = _behavioural_network(0.95, 0.07, 0.14)
    t, h, u, g = rec.T
    pre = t <= 10.0 + 1e-9
    assert h[pre][-1] == pytest.approx(0.115, abs=0.005)
    assert g[pre][-1] == pytest.approx(0.85, abs=0.01)
    post = ~pre
    assert h[post].max() == pytest.approx(1.0, abs=0.03)
    assert t[post][h[post].argmax()] - 10.0 == pytest.approx(1.64, abs=0.1)
    assert u[post].max() == pytest.approx(0.35, abs=0.01)
    assert t[post][u[post].argmax()] - 10.0 == pytest.approx(3.0, abs=0.15)
    assert g[post].max() == pytest.approx(1.55, abs=0.02)

    rec = _behavioural_network(0.55, 0.2, 0.2)
    t, h, u, g = rec.T
    pre = t <= 10.0 + 1e-9
    assert h[pre][-1] == pytest.approx(0.19, abs=0.005)
    assert g[pre][-1] == pytest.approx(1.07, abs=0.01)
    assert h[~pre].max() == pytest.approx(0.26, abs=0.01)
    assert t[~pre][h[~pre].argmax()] - 10.0 == pytest.approx(2.8, abs=0.15)
    assert g[~pre].max() == pytest.approx(1.21, abs=0.01)


# --------------------------------------------------------------------------- noise, time unit
def test_noise_is_seeded_and_optional():
    drive = np.full(500, REST_INPUT)
    quiet = GilzenratLC.preset("gilzenrat2002_phasic").simulate(drive, 0.02)
    noisy = GilzenratLC.preset("gilzenrat2002_phasic", noise=0.22, seed=7)
    a, b = noisy.simulate(drive, 0.02), noisy.simulate(drive, 0.02)
    np.testing.assert_array_equal(a.v.values, b.v.values)
    assert not np.allclose(a.v.values, quiet.v.values)
    c = noisy.simulate(drive, 0.02, seed=8)
    assert not np.allclose(a.v.values, c.v.values)
    np.testing.assert_array_equal(a.drive.values, drive)  # the given drive is recorded


def test_time_unit_is_explicit():
    lc = GilzenratLC.preset("gilzenrat2002_phasic", time_unit_ms=20.0)
    ds = lc.simulate(np.full(3, REST_INPUT), 0.01)
    np.testing.assert_allclose(ds.time_ms.values, [0.0, 0.2, 0.4])
    assert float(GilzenratLC().to_ms(5.0)) == 250.0  # tau_u = 5 units = 250 ms
    assert float(GilzenratLC().from_ms(2.5)) == 0.05


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, name", [
    ({"tau_v": -0.05}, "tau_v"),
    ({"tau_u": 0.0}, "tau_u"),
    ({"C": 1.5}, "C"),
    ({"noise": -0.1}, "noise"),
    ({"time_unit_ms": -50}, "time_unit_ms"),
    ({"k": "lots"}, "k"),
    ({"banana": 1.0}, "banana"),
])
def test_bad_parameters_name_the_parameter(kwargs, name):
    with pytest.raises(LCParameterError) as info:
        GilzenratLC.preset("gilzenrat2002_phasic", **kwargs)
    assert isinstance(info.value, ValueError)
    msg = str(info.value)
    assert msg.startswith(f"{name}:") and "\n" not in msg
    assert info.value.parameter == name


def test_unknown_preset_is_named():
    with pytest.raises(LCParameterError, match=r"^preset: unknown Gilzenrat preset 'gilzenrat2003'"):
        GilzenratLC.preset("gilzenrat2003")


@pytest.mark.parametrize("dt", [0.05, 0.1, 1.0, 0.0, -0.01])
def test_step_too_large_or_not_positive_is_refused(dt):
    lc = GilzenratLC.preset("gilzenrat2002_phasic")
    with pytest.raises(LCParameterError, match=r"^dt: ") as info:
        lc.simulate(np.full(10, REST_INPUT), dt)
    assert "\n" not in str(info.value)


def test_stability_limit_follows_tau_v():
    lc = GilzenratLC.preset("gilzenrat2002_phasic")
    assert 0.02 < lc.max_stable_dt() < 0.05  # published Euler step 0.02 is accepted
    slow = GilzenratLC.preset("gilzenrat2002_phasic", tau_v=0.5)
    assert slow.max_stable_dt() == pytest.approx(10 * lc.max_stable_dt())
    ds = slow.simulate(np.full(100, REST_INPUT), 0.3)  # fine with the slower fast variable
    assert np.all(np.isfinite(ds.v.values))
