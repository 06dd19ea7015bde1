"""Reference set, observation models and model-vs-biology comparison."""
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.integrate import quad
from scipy.special import gammainc

from lcne.analysis.biology import (
    TimeMapping,
    compare_to_biology,
    curve_features,
    fit_time_mapping,
    hoeks_levelt_kernel,
    list_references,
    load_reference,
    load_reference_file,
    load_reference_set,
    ne_sensor,
    pupil_response,
    pupil_step_response,
)
from lcne.analysis.biology.reference import REFERENCE_DIR, agreement_band
from lcne.analysis.synthetic import synthetic_results

# ----------------------------------------------------------------- pupil kernel


def test_kernel_peak_and_published_features():
    t = np.arange(0, 5000, 0.5)
    h = hoeks_levelt_kernel(t)
    assert t[np.argmax(h)] == pytest.approx(930.0, abs=0.5)
    assert h.max() == pytest.approx(1.0, abs=1e-6)
    f = curve_features(t, h, baseline=0.0)
    # features computed from the kernel of Hoeks & Levelt 1993 (Behav Res Methods Instrum Comput
    # 25:16-26; n = 10.1, t_max = 930 ms): 10 % of peak at ~435 ms, FWHM ~690 ms
    assert f["latency"] == pytest.approx(435, abs=3)
    assert f["fwhm"] == pytest.approx(691, abs=3)
    assert hoeks_levelt_kernel(-10.0) == 0.0


def test_area_normalised_kernel_integrates_to_one():
    area, _ = quad(lambda x: float(hoeks_levelt_kernel(x, normalize="area")), 0, 20000, points=[930], limit=200)
    assert area == pytest.approx(1.0, rel=1e-8)


def test_pupil_step_response_matches_incomplete_gamma():
    dt = 10.0
    y = pupil_response(np.ones(500), dt)
    t_end = (np.arange(500) + 1) * dt  # value at the end of each sample interval
    assert np.allclose(y, gammainc(11.1, 10.1 * t_end / 930.0), atol=1e-12)
    assert np.allclose(y, pupil_step_response(t_end), atol=1e-12)
    assert y[-1] == pytest.approx(1.0, abs=1e-9)  # sustained unit input -> unit response


def test_pupil_response_is_linear_and_a_short_pulse_gives_the_kernel():
    rng = np.random.default_rng(0)
    a, b = rng.random(300), rng.random(300)
    lhs = pupil_response(2 * a - 3 * b, 20.0)
    assert np.allclose(lhs, 2 * pupil_response(a, 20.0) - 3 * pupil_response(b, 20.0))
    dt = 1.0
    pulse = np.zeros(4000)
    pulse[0] = 1.0 / dt  # unit area over the first ms
    y = pupil_response(pulse, dt)
    t = np.arange(4000) * dt + dt  # end of each interval; the pulse's centre is at dt / 2
    h = hoeks_levelt_kernel(t - dt / 2, normalize="area")
    assert np.max(np.abs(y - h)) < 1e-4 * h.max()
    assert t[np.argmax(y)] == pytest.approx(930, abs=2)


def test_shipped_pupil_curve_is_the_formula():
    ref = load_reference("pupil_impulse_hoeks_levelt1993")
    p = ref.meta["parametric"]
    assert np.allclose(ref.y, hoeks_levelt_kernel(ref.x, p["n"], p["t_max_ms"]), rtol=1e-5, atol=1e-9)


# -------------------------------------------------------------------- NE sensor


def test_ne_sensor_step_responses_are_exact():
    dt, on, off = 5.0, 40.0, 800.0
    x = np.concatenate([np.ones(200), np.zeros(400)])
    y = ne_sensor(x, dt, on, off, initial=0.0)
    t_on = (np.arange(200) + 1) * dt
    assert np.allclose(y[:200], 1 - np.exp(-t_on / on))
    top = y[199]
    t_off = (np.arange(400) + 1) * dt
    assert np.allclose(y[200:], top * np.exp(-t_off / off))
    assert np.allclose(ne_sensor(np.full(10, 3.0), 1.0, 10.0), 3.0)  # at rest by default


# ---------------------------------------------------------------- reference set


def test_every_shipped_reference_loads_and_is_documented():
    refs = load_reference_set()
    assert len(refs) == len(list_references()) >= 8
    for name, ref in refs.items():
        meta = ref.meta
        assert meta["name"] == name
        for key in ("citation", "species", "figure", "confidence", "checked", "tolerance", "short"):
            assert meta.get(key), (name, key)
        if meta["confidence"] in ("V", "P"):
            assert meta.get("doi") or meta.get("pmid") or meta.get("url"), name
        if ref.kind == "features":
            unchecked = (ref.data["confidence"] == "P").any()
            if unchecked:  # what could not be checked says so
                assert "CHECKED" in meta["checked"].upper() and "NOT" in meta["checked"].upper(), name


def test_feature_values_in_canonical_units():
    carter = load_reference("lc_rates_carter2010")
    assert carter.feature("tonic_rate_wake")["low"] == 1.0 and carter.feature("tonic_rate_wake")["high"] == 3.0
    assert carter.feature("phasic_rate")["units"] == "Hz"
    monkey = load_reference("lc_latency_monkey_astonjones1994")
    assert monkey.feature("latency")["value"] == pytest.approx(90.7)
    with pytest.raises(KeyError):
        carter.feature("nonexistent")


def test_agreement_band_kinds():
    assert agreement_band(10, 20, {"factor": 2}) == (5, 40)
    assert agreement_band(10, 20, {"rel": 0.5}) == (5, 30)
    assert agreement_band(10, 20, {"abs": 1}) == (9, 21)


def _write(tmp_path, stem, csv_text, meta):
    csv = tmp_path / f"{stem}.csv"
    csv.write_text(csv_text)
    if meta is not None:
        (tmp_path / f"{stem}.yaml").write_text(yaml.safe_dump(meta))
    return csv


def _curve_meta(**over):
    meta = dict(name="user", kind="curve", signal="pupil", title="t", citation="me", doi="10.1/x", species="human",
                figure="1", confidence="P", checked="not checked", tolerance={"factor": 1.5},
                x={"name": "time", "units": "s"}, y={"name": "pupil", "units": "mm"})
    meta.update(over)
    return meta


def test_user_curve_is_converted_to_ms(tmp_path):
    csv = _write(tmp_path, "user", "x,y\n0,0\n0.5,1\n1.0,0.5\n", _curve_meta())
    ref = load_reference_file(csv)
    assert np.allclose(ref.x, [0, 500, 1000]) and ref.units == {"x": "ms", "y": "mm"}


@pytest.mark.parametrize(
    "csv_text, meta, match",
    [
        ("t,y\n0,1\n1,2\n2,3\n", _curve_meta(), "missing column 'x'"),
        ("x,y\n0,1\n1,2\n2,3\n", _curve_meta(x={"name": "t", "units": "furlongs"}), "x.units"),
        ("x,y\n0,1\n1,2\n2,3\n", _curve_meta(x={"name": "t", "units": "Hz"}), "x.units"),
        ("x,y\n0,1\n1,2\n2,3\n", {k: v for k, v in _curve_meta().items() if k != "citation"}, "'citation'"),
        ("x,y\n0,1\n1,abc\n2,3\n", _curve_meta(), "column 'y'"),
        ("x,y\n0,1\n2,2\n1,3\n", _curve_meta(), "column 'x'"),
        ("x,y\n0,1\n1,2\n2,3\n", _curve_meta(signal="sound"), "'signal'"),
        ("x,y\n0,1\n1,2\n2,3\n", _curve_meta(tolerance={"factor": 0.5}), "tolerance.factor"),
        ("feature,value,low,high,confidence\nlatency,30,10,50,V\n",
         dict(_curve_meta(kind="features"), units={"latency": "Hz"}), "units.latency"),
        ("feature,value,low,high\nlatency,30,10,50\n",
         dict(_curve_meta(kind="features"), units={"latency": "ms"}), "column 'confidence'"),
        ("feature,value,low,high,confidence\nlatency,80,10,50,V\n",
         dict(_curve_meta(kind="features"), units={"latency": "ms"}), "outside"),
    ],
)
def test_malformed_files_give_one_line_naming_file_and_field(tmp_path, csv_text, meta, match):
    csv = _write(tmp_path, "user", csv_text, meta)
    with pytest.raises(ValueError) as err:
        load_reference_file(csv)
    msg = str(err.value)
    assert "\n" not in msg and "user." in msg and match in msg


def test_missing_sidecar_is_reported(tmp_path):
    csv = _write(tmp_path, "lonely", "x,y\n0,1\n1,2\n2,3\n", None)
    with pytest.raises(FileNotFoundError, match=r"lonely\.csv.*sidecar lonely\.yaml"):
        load_reference_file(csv)
    with pytest.raises(FileNotFoundError, match="no shipped reference"):
        load_reference("does_not_exist")


# ---------------------------------------------------------------- comparison


def test_time_mapping_fit_is_exact_for_consistent_pairs():
    m = fit_time_mapping({"a": (2.0, 40.0), "b": (10.0, 200.0)})
    assert m.ms_per_iteration == pytest.approx(20.0)
    assert all(abs(v) < 1e-12 for v in m.log10_residuals.values())
    assert m.source == "fitted" and "20 ms" in m.describe()
    assert np.allclose(m.to_ms([1, 2]), [20, 40]) and np.allclose(m.to_iterations(40), 2)
    with pytest.raises(ValueError):
        fit_time_mapping({"a": (math.nan, 3.0)})
    with pytest.raises(ValueError):
        TimeMapping(-1.0)


@pytest.fixture(scope="module")
def syn():
    return synthetic_results(iterations_per_task=60, seeds=(0, 1, 2), t_peak=4, tau=8.0, lc_states=True)


def test_comparison_uses_the_given_mapping(syn):
    k = 25.0
    cmp = compare_to_biology(syn, ms_per_iteration=k)
    tab = cmp.table.set_index(["feature", "reference"])
    lat = tab.loc[("latency", "lc_latency_rat_astonjones1981")]
    assert lat.model_value == pytest.approx(0.4 * k)  # 10 % of a linear 4-iteration rise
    assert lat.model_iterations == pytest.approx(0.4)
    dec = tab.loc[("decay_tau", "ne_clearance_sensor_feng2019")]
    assert dec.model_value == pytest.approx(8.0 * k, rel=1e-4)
    assert not cmp.table["used_in_fit"].any()
    assert cmp.mapping.source == "given"
    # peak ratio: median peak value / tonic g0 (= 1)
    peaks = cmp.response.per_event
    assert tab.loc[("peak_ratio", "lc_rates_carter2010")].model_value == pytest.approx(np.median(peaks.peak_ratio))
    assert tab.loc[("direction", "ne_gain_effects_spc1990")].agree
    ref = tab.loc[("peak_ratio", "lc_rates_carter2010")]
    assert ref.reference_value == pytest.approx(4.5) and ref.reference_low == pytest.approx(8 / 3)
    assert ref.agree == (ref.band_low <= ref.model_value <= ref.band_high)


def test_comparison_fits_and_reports_the_mapping(syn):
    cmp = compare_to_biology(syn)
    assert cmp.mapping.source == "fitted"
    assert cmp.table["used_in_fit"].sum() == 3  # two latencies, one sensor decay (D rows excluded)
    text = cmp.summary()
    assert "1 training iteration =" in text and "fitted" in text
    assert set(cmp.table["domain"]) == {"raw", "pupil"}
    pupil = cmp.table[cmp.table["feature"] == "pupil_t_peak"].iloc[0]
    assert pupil.model_value > 930 - 40  # the kernel peak is the earliest possible pupil peak


def test_lc_state_variable_and_user_pupil_curve(syn, tmp_path):
    cmp_lc = compare_to_biology(syn, signal="lc_v", ms_per_iteration=30.0)
    assert cmp_lc.response.signal == "lc_v" and len(cmp_lc.table)
    # a user pupil curve identical to the kernel: model pupil rows are produced and finite
    t = np.arange(-500, 5000, 10.0)
    csv = _write(tmp_path, "user", "x,y\n" + "\n".join(f"{a},{b}" for a, b in zip(t, hoeks_levelt_kernel(t))),
                 _curve_meta(x={"name": "t", "units": "ms"}, y={"name": "p", "units": "a.u."}))
    cmp = compare_to_biology(syn, ms_per_iteration=30.0, user_references=[load_reference_file(csv)])
    user = cmp.table[cmp.table["reference"] == "user"]
    assert set(user["feature"]) >= {"t_peak", "fwhm"} and (user["domain"] == "pupil").all()
    assert user.set_index("feature").loc["t_peak", "reference_value"] == pytest.approx(930, abs=10)
    with pytest.raises(ValueError, match="lc_w"):
        compare_to_biology(syn, signal="lc_w")


# ---------------------------------------------------------------------- NWB


def test_nwb_round_trip_and_errors(tmp_path):
    pytest.importorskip("pynwb")
    from lcne.analysis.biology import load_nwb_curve, write_nwb_curve

    t = np.arange(-200.0, 3000.0, 20.0)
    y = 3.0 + hoeks_levelt_kernel(t)
    path = write_nwb_curve(tmp_path / "tiny.nwb", "pupil_area", t + 1000.0, y, unit="mm",
                           related_publication="doi:10.0/test")
    ref = load_nwb_curve(path, "pupil_area", signal="pupil", event_time_s=1.0)
    assert np.allclose(ref.x, t) and np.allclose(ref.y, y)
    assert ref.units == {"x": "ms", "y": "mm"} and ref.meta["citation"] == "doi:10.0/test"
    f = curve_features(ref.x, ref.y)
    assert f["t_peak"] == pytest.approx(940, abs=20)
    with pytest.raises(ValueError, match="no TimeSeries 'nope'.*pupil_area"):
        load_nwb_curve(path, "nope", signal="pupil")
    bad = write_nwb_curve(tmp_path / "bad.nwb", "s", t, y, unit="pixels")
    with pytest.raises(ValueError, match="'s.unit'"):
        load_nwb_curve(bad, "s", signal="pupil")
    assert load_nwb_curve(bad, "s", signal="pupil", unit="a.u.").units["y"] == "a.u."
    with pytest.raises(FileNotFoundError):
        load_nwb_curve(tmp_path / "missing.nwb", "s", signal="pupil")
    (tmp_path / "junk.nwb").write_text("not hdf5")
    with pytest.raises(ValueError, match="junk.nwb"):
        load_nwb_curve(tmp_path / "junk.nwb", "s", signal="pupil")


def test_reference_dir_is_package_data():
    assert REFERENCE_DIR == Path(__file__).resolve().parents[1] / "analysis" / "reference_data" or REFERENCE_DIR.is_dir()
    assert all((REFERENCE_DIR / f"{n}.yaml").is_file() for n in list_references())
