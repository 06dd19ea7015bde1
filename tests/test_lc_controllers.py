"""The LC models behind the GainController seam (``--lc`` names)."""
import json

import numpy as np
import pytest
import torch

import lcne
from lcne import AdaptiveLCController, GilzenratController, GilzenratLC, LCParameterError
from lcne.lc_adapters import phasic_resting_gain


def run(controller, drives):
    """Gains returned by ``step`` for a sequence of per-run drives, shape (T, n_runs)."""
    return np.array([controller.step(torch.as_tensor(d, dtype=torch.float32)).numpy() for d in drives])


def test_registered_names_and_classes():
    for name in ("paper", "gilzenrat-phasic", "gilzenrat-tonic", "adaptive"):
        assert name in lcne.CONTROLLERS
    ph = lcne.make_controller("gilzenrat-phasic", n_runs=2)
    to = lcne.make_controller("gilzenrat-tonic", n_runs=2)
    ad = lcne.make_controller("adaptive", n_runs=2)
    assert isinstance(ph, GilzenratController) and ph.lc.C == 0.95 and ph.preset == "gilzenrat2002_phasic"
    assert isinstance(to, GilzenratController) and to.lc.C == 0.55
    assert isinstance(ad, AdaptiveLCController)
    assert isinstance(lcne.make_controller("paper"), lcne.PaperGain)


@pytest.mark.parametrize("name", ["gilzenrat-phasic", "gilzenrat-tonic", "adaptive"])
def test_gain_controller_interface(name):
    c = lcne.make_controller(name, n_runs=3)
    g0 = c.gain
    assert g0.dtype == torch.float32 and g0.shape == (3,)
    g1 = c.step(torch.tensor([0.0, 0.5, 1.0]))
    assert torch.equal(g1, c.gain)  # step returns the gain of the next iteration
    st = c.state()
    assert list(st) == list(c.state_variables) and st["gain"].dtype == torch.float64
    assert all(v.shape == (3,) and v.dtype == torch.float64 for v in st.values())
    json.dumps(c.config())  # plain values, storable in result attributes


def test_iterations_equal_simulate_at_iteration_boundaries():
    """One iteration = time_per_iteration model units of the same RK4 integration."""
    drives = [0.0] * 20 + [0.8] * 3 + [0.0] * 30
    c = lcne.make_controller("gilzenrat-phasic", n_runs=1, gain_scale=1.0, dt=0.01)
    gains = run(c, [[d] for d in drives])[:, 0]
    lc = GilzenratLC.preset("gilzenrat2002_phasic")
    inputs = np.repeat(0.3 * (0.5 + 0.5 * np.asarray(drives)), 50)  # 0.5 units / 0.01 = 50 steps
    ds = lc.simulate(np.append(inputs, 0.15), 0.01)
    expected = ds.gain.values[50::50]  # state after iteration i is at t = (i + 1) * 0.5
    np.testing.assert_allclose(gains, expected, rtol=0, atol=1e-6)  # float32 gain
    assert float(c.state()["u"]) == pytest.approx(ds.u.values[-1], abs=1e-12)


def test_drive_mapping_by_hand():
    c = lcne.make_controller("gilzenrat-phasic", n_runs=4, drive_scale=2.0)
    c.step(torch.tensor([0.0, 1.0, 2.0, 5.0]))
    # I = 0.3 * (0.5 + 0.5 * clip(drive / 2, 0, 1))
    np.testing.assert_allclose(c.state()["input"].numpy(), [0.15, 0.225, 0.3, 0.3])


def test_resting_gain_is_one_for_phasic_and_raised_for_tonic():
    assert phasic_resting_gain() == pytest.approx(0.8456, abs=1e-4)
    fast = {"time_per_iteration": 2.0}  # 40 iterations = 80 units: at rest
    ph = run(lcne.make_controller("gilzenrat-phasic", **fast), [[0.0]] * 40)[-1, 0]
    to = run(lcne.make_controller("gilzenrat-tonic", **fast), [[0.0]] * 40)[-1, 0]
    assert ph == pytest.approx(1.0, abs=1e-3)
    assert to == pytest.approx(1.0685 / 0.8456, abs=2e-3)
    raw = run(lcne.make_controller("gilzenrat-phasic", gain_scale=1, **fast), [[0.0]] * 40)[-1, 0]
    assert raw == pytest.approx(0.8456, abs=1e-3)  # the published number


def test_surprise_gives_phasic_burst_and_weaker_tonic_response():
    drives = [[0.0]] * 40 + [[1.0]] + [[0.0]] * 30  # one surprising iteration
    ph = run(lcne.make_controller("gilzenrat-phasic"), drives)[:, 0]
    to = run(lcne.make_controller("gilzenrat-tonic"), drives)[:, 0]
    peak = int(np.argmax(ph[40:]))
    assert 1 <= peak <= 4  # gain peaks a few iterations after the surprise
    # the same 25 ms pulse in simulate(), sampled at the iteration boundaries
    drive = np.full(71 * 50, 0.15)
    drive[40 * 50:41 * 50] = 0.3
    ref = GilzenratLC.preset("gilzenrat2002_phasic").simulate(drive, 0.01).gain.values[50::50]
    assert ph[40 + peak] == pytest.approx(ref[40:].max() / phasic_resting_gain(), abs=1e-4)
    assert ph[40 + peak] > 1.45
    assert ph[-1] == pytest.approx(1.0, abs=0.01)  # back to rest
    assert (to[40:].max() - to[39]) < 0.6 * (ph[40:].max() - ph[39])  # tonic: weaker response


def test_per_run_parameters_match_separate_runs():
    drives = [[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 3 + [[0.0, 0.0]] * 10
    both = run(lcne.make_controller("gilzenrat-phasic", n_runs=2, C=[0.95, 0.55], k=[3.0, 1.5]), drives)
    a = run(lcne.make_controller("gilzenrat-phasic", C=0.95, k=3.0), [d[:1] for d in drives])
    b = run(lcne.make_controller("gilzenrat-phasic", C=0.55, k=1.5), [d[:1] for d in drives])
    np.testing.assert_allclose(both, np.hstack([a, b]), atol=1e-6)


def test_release_stage_with_tau_u_tracks_u():
    drives = [[0.0]] * 10 + [[1.0]] * 3 + [[0.0]] * 20
    plain = lcne.make_controller("gilzenrat-phasic")
    rel = lcne.make_controller("gilzenrat-phasic", tau_ne=5.0)
    np.testing.assert_allclose(run(rel, drives), run(plain, drives), atol=5e-3)
    slow = lcne.make_controller("gilzenrat-phasic", tau_ne=30.0)  # sensor-like 1.5 s
    g_slow = run(slow, drives)[:, 0]
    assert g_slow.max() < run(lcne.make_controller("gilzenrat-phasic"), drives)[:, 0].max()
    assert float(slow.state()["ne"]) != pytest.approx(float(slow.state()["u"]), abs=1e-3)


def test_adaptive_controller_moves_to_tonic_under_sustained_uncertainty():
    c = lcne.make_controller("adaptive", n_runs=2, time_per_iteration=2.0)
    run(c, [[1.0, 0.0]] * 100)  # 200 model units = 4 tau_long
    st = c.state()
    assert float(st["C"][0]) < 0.6 and float(st["C"][1]) > 0.94
    assert float(st["long"][0]) > 0.9 and float(st["disengagement"][0]) > 0.9


def test_noise_is_seeded():
    drives = [[0.0, 0.0]] * 20
    a = run(lcne.make_controller("gilzenrat-phasic", n_runs=2, noise=0.05, seed=1), drives)
    b = run(lcne.make_controller("gilzenrat-phasic", n_runs=2, noise=0.05, seed=1), drives)
    c = run(lcne.make_controller("gilzenrat-phasic", n_runs=2, noise=0.05, seed=2), drives)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c) and not np.array_equal(a[:, 0], a[:, 1])


def test_numeric_strings_from_the_command_line_are_accepted():
    c = lcne.make_controller("gilzenrat-tonic", k="1.5", time_per_iteration="0.25", tau_ne="none")
    assert c.lc.k == 1.5 and c.time_per_iteration == 0.25 and c.release is None


@pytest.mark.parametrize("name, kwargs, param", [
    ("gilzenrat-phasic", {"tau_u": -5.0}, "tau_u"),
    ("gilzenrat-phasic", {"tau_v": 0.0}, "tau_v"),
    ("gilzenrat-tonic", {"dt": 0.1}, "dt"),
    ("gilzenrat-tonic", {"time_per_iteration": -1}, "time_per_iteration"),
    ("gilzenrat-phasic", {"drive_scale": 0}, "drive_scale"),
    ("gilzenrat-phasic", {"tau_ne": -2}, "tau_ne"),
    ("gilzenrat-phasic", {"preset": "locus"}, "preset"),
    ("gilzenrat-phasic", {"C": [0.9, 0.8, 0.7]}, "C"),
    ("gilzenrat-phasic", {"coherence": 0.9}, "coherence"),
    ("adaptive", {"tau_long": -1}, "tau_long"),
    ("adaptive", {"theta": 0.5}, "theta"),
])
def test_bad_parameters_give_one_line_named_errors(name, kwargs, param):
    with pytest.raises(LCParameterError) as info:
        lcne.make_controller(name, n_runs=2, **kwargs)
    msg = str(info.value)
    assert msg.startswith(f"{param}: ") and "\n" not in msg
