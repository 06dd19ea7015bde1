"""One source of truth for run parameters.

eta/gamma/g0 given twice (field and ``lc_params``) must agree; options of the paper's
integrator are refused with another LC; the results store the ``config()`` of the
controllers that ran, and ``run_info`` reports what ran.
"""
import json
import math
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

import lcne
from lcne.analysis.results_io import open_results, run_info
from lcne.experiments.cli import main
from lcne.experiments.config import RunConfig
from lcne.experiments.errors import ConfigError
from lcne.experiments.runner import run_experiment
from lcne.experiments.streams import BENCHMARKS

V1_FIXTURE = Path(__file__).parent / "data" / "results_v1_split-mnist.nc"


@pytest.fixture(scope="module")
def stream(tiny_mnist):
    return BENCHMARKS["split-mnist"].build(*tiny_mnist)


def _run(stream, optimizers=("ngm",), **kw):
    cfg = RunConfig(optimizers=list(optimizers), seeds=[42], iterations=2, batch_size=16, **kw)
    return run_experiment(cfg, stream=stream, progress=False)


def _controllers(ds):
    return json.loads(ds.attrs["controllers"])


# ------------------------------------------------------------------ RunConfig.resolved


@pytest.mark.parametrize("key, field, param", [("eta", 0.4, 0.8), ("gamma", 0.9, 0.8), ("g0", 1.0, 1.5)])
def test_field_and_lc_param_that_differ_are_refused(key, field, param):
    with pytest.raises(ConfigError) as err:
        RunConfig(**{key: field}, lc_params={key: param}).resolved()
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{key}: ") and f"{key}={field!r}" in msg and f"lc_params.{key}={param!r}" in msg


def test_field_and_lc_param_that_agree_are_one_value():
    cfg = RunConfig(eta=0.4, lc_params={"eta": 0.4}).resolved()
    assert cfg.eta == 0.4 and cfg.lc_params == {}


def test_lc_param_alone_becomes_the_field():
    cfg = RunConfig(lc_params={"eta": 0.8, "gamma": 0.7, "g0": 1.2, "g_init": 1.1}).resolved()
    assert (cfg.eta, cfg.gamma, cfg.g0) == (0.8, 0.7, 1.2)
    assert cfg.lc_params == {"g_init": 1.1}  # what is not a field stays an LC parameter
    stored = json.loads(cfg.to_json())
    assert (stored["eta"], stored["gamma"], stored["g0"]) == (0.8, 0.7, 1.2)


def test_defaults_are_filled_for_the_paper_lc_only():
    paper = RunConfig().resolved()
    assert (paper.eta, paper.gamma, paper.g0) == (BENCHMARKS["split-mnist"].eta, 0.9, 1.0)
    other = RunConfig(lc="gilzenrat-phasic").resolved()  # the benchmark's eta does not apply
    assert (other.eta, other.gamma, other.g0) == (None, None, None)


@pytest.mark.parametrize("kw", [
    {}, {"lc_params": {"eta": 0.8}}, {"lc": "gilzenrat-phasic", "lc_params": {"k": 2.0}},
    {"lc": "adaptive", "optimizers": ["sgd"]},
])
def test_resolved_is_idempotent(kw):
    """Sweeps store the resolved config and resolve it again on the worker."""
    once = RunConfig(**kw).resolved()
    assert RunConfig(**asdict(once)).resolved() == once


@pytest.mark.parametrize("lc", ["gilzenrat-phasic", "gilzenrat-tonic", "adaptive"])
@pytest.mark.parametrize("kw, where", [
    ({"eta": 0.5}, "eta"), ({"gamma": 0.8}, "gamma"), ({"g0": 1.1}, "g0"),
    ({"lc_params": {"eta": 0.5}}, "lc_params.eta"),
])
def test_paper_options_with_another_lc_are_refused(lc, kw, where):
    with pytest.raises(ConfigError) as err:
        RunConfig(lc=lc, **kw).resolved()
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{where}: applies to --lc paper only")
    assert f"the {lc} LC takes --lc-param" in msg and "drive_scale" in msg


def test_unknown_lc_param_is_refused_before_any_work():
    with pytest.raises(ConfigError, match="lc_params for 'gilzenrat-phasic': foo: unknown parameter"):
        RunConfig(lc="gilzenrat-phasic", lc_params={"foo": 1.0}).resolved()
    with pytest.raises(ConfigError, match="lc_params for 'paper': .*'foo'"):
        RunConfig(lc_params={"foo": 1.0}).resolved()


def test_explicit_eta_with_methods_without_controller_is_accepted():
    """sgd/msgd/adam use no LC; a sweep may still hand them the eta of its grid."""
    cfg = RunConfig(optimizers=["sgd", "msgd"], eta=0.3).resolved()
    assert cfg.eta == 0.3


# ------------------------------------------------------------------ command line


@pytest.mark.parametrize("extra, name", [
    (["--eta", "0.5"], "eta"), (["--gamma", "0.8"], "gamma"), (["--lc-param", "eta=0.5"], "lc_params.eta"),
])
def test_cli_refuses_paper_options_with_another_lc(tmp_path, capsys, extra, name):
    rc = main(["run", "split-mnist", "--lc", "gilzenrat-phasic", "--optimizers", "ngm", "--seeds", "42",
               "--iterations", "2", "--out", str(tmp_path), "--quiet", "--no-figure", *extra])
    assert rc == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert f"{name}: applies to --lc paper only" in err
    assert not (tmp_path / "split-mnist.nc").exists()


def test_cli_refuses_conflicting_eta(tmp_path, capsys):
    rc = main(["run", "split-mnist", "--eta", "0.4", "--lc-param", "eta=0.8", "--out", str(tmp_path), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "eta=0.4 and lc_params.eta=0.8" in err


def test_cli_gilzenrat_run_with_default_eta_and_run_info(tmp_path, capsys):
    rc = main(["run", "split-mnist", "--lc", "gilzenrat-phasic", "--optimizers", "ngm,sgd", "--seeds", "42",
               "--iterations", "2", "--batch-size", "16", "--out", str(tmp_path), "--quiet", "--no-figure"])
    assert rc == 0, capsys.readouterr().err
    ds = open_results(tmp_path / "split-mnist.nc")
    cfg = json.loads(ds.attrs["config"])
    assert cfg["eta"] is None and cfg["gamma"] is None and cfg["g0"] is None
    info = run_info(ds)
    assert info["lc"] == "gilzenrat-phasic"
    assert math.isnan(info["eta"]) and math.isnan(info["gamma"])
    ran = _controllers(ds)
    assert set(ran) == {"ngm+gilzenrat-phasic", "sgd"}
    assert ran["ngm+gilzenrat-phasic"]["controller"]["name"] == "gilzenrat-phasic"


# ------------------------------------------------------------------ what the results store


def test_paper_controller_config_is_what_ran(stream):
    ds = _run(stream, ("ngm", "sgd"), eta=0.3, gamma=0.8, g0=1.2)
    ran = _controllers(ds)
    assert set(ran) == {"ngm", "sgd"}
    c = ran["ngm"]["controller"]
    assert c == {"name": "paper", "n_runs": 1, "eta": [0.3], "gamma": 0.8, "g0": 1.2, "g_init": [1.2]}
    assert ran["ngm"]["gain"] == "lc"
    assert ran["ngm"]["uncertainty"] == {"name": "entropy", "n_runs": 1, "normalise": False}
    assert ran["sgd"] == {"gain": "one", "controller": {"name": "constant", "n_runs": 1, "value": [1.0]},
                          "uncertainty": {"name": "entropy", "n_runs": 1, "normalise": False}}
    # the stored parameters reproduce the recorded gain: g(t+1) = gamma g + (1 - gamma) g0 + eta H
    g = ds["gain"].sel({"method": "ngm"}).values[0]
    h = ds["entropy"].sel({"method": "ngm"}).values[0]
    pred = c["gamma"] * g[:-1] + (1 - c["gamma"]) * c["g0"] + c["eta"][0] * h[:-1]
    np.testing.assert_allclose(g[1:], pred, rtol=1e-6)
    info = run_info(ds)
    assert (info["eta"], info["gamma"], info["g0"], info["lc"]) == (0.3, 0.8, 1.2, "paper")


def test_lc_param_eta_is_stored_and_used(stream):
    via_param = _run(stream, lc_params={"eta": 0.8})
    via_field = _run(stream, eta=0.8)
    assert json.loads(via_param.attrs["config"])["eta"] == 0.8
    assert _controllers(via_param)["ngm"]["controller"]["eta"] == [0.8]
    assert run_info(via_param)["eta"] == 0.8
    np.testing.assert_array_equal(via_param["gain"].values, via_field["gain"].values)


def test_gilzenrat_controller_config_holds_its_preset(stream):
    ds = _run(stream, ("ngm",), lc="gilzenrat-phasic", lc_params={"k": 2.0})
    c = _controllers(ds)["ngm+gilzenrat-phasic"]["controller"]
    expected = lcne.make_controller("gilzenrat-phasic", n_runs=1, k=2.0).config()
    assert c == expected
    assert c["name"] == "gilzenrat-phasic" and c["preset"] == "gilzenrat2002_phasic"
    assert c["C"] == 0.95 and c["k"] == 2.0 and "eta" not in c
    info = run_info(ds)
    assert info["lc"] == "gilzenrat-phasic" and math.isnan(info["eta"])


def test_fixed_gain_controller_config_holds_the_constant(stream):
    given = _controllers(_run(stream, ("fixed-gain",), fixed_gain=1.5))
    assert set(given) == {"fixed-gain"}  # no NGM reference is trained, none is stored
    assert given["fixed-gain"]["gain"] == "fixed"
    assert given["fixed-gain"]["controller"] == {"name": "constant", "n_runs": 1, "value": [1.5]}
    ds = _run(stream, ("ngm", "fixed-gain"))
    value = _controllers(ds)["fixed-gain"]["controller"]["value"]
    ngm_mean = ds["gain"].sel({"method": "ngm"}).values.mean(axis=1)  # the NGM time-average
    np.testing.assert_allclose(value, ngm_mean, rtol=1e-12)


def test_uncertainty_front_end_config_is_stored(stream):
    ds = _run(stream, ("ngm",), lc="gilzenrat-phasic", uncertainty="unexpected",
              uncertainty_params={"hazard": 0.05}, lc_params={"drive_scale": 1.0})
    unc = _controllers(ds)["ngm+gilzenrat-phasic+unexpected"]["uncertainty"]
    assert unc["name"] == "unexpected" and unc["hazard"] == 0.05
    assert unc["chance_validity"] == pytest.approx(0.1)  # set from the logits: 1 / 10 classes


def test_sgd_only_run_reports_no_eta(stream):
    ds = _run(stream, ("sgd",))
    assert _controllers(ds)["sgd"]["controller"]["name"] == "constant"
    info = run_info(ds)
    assert math.isnan(info["eta"]) and info["lc"] == "paper" and info["g0"] == 1.0


# ------------------------------------------------------------------ config() is complete


@pytest.mark.parametrize("name, params", [
    ("constant", {"value": [1.0, 2.0]}),
    ("paper", {"eta": [0.2, 0.4], "gamma": 0.8, "g0": 1.1}),
    ("gilzenrat-phasic", {"k": 2.0, "tau_ne": 5.0}),
    ("gilzenrat-tonic", {"C": [0.5, 0.6], "gain_scale": 1.0}),
    ("adaptive", {"tau_long": 60.0}),
])
def test_controller_config_rebuilds_the_controller(name, params):
    c = lcne.make_controller(name, n_runs=2, **params)
    cfg = c.config()
    assert json.loads(json.dumps(cfg)) == cfg  # plain JSON values
    assert cfg["name"] == name
    rebuilt = lcne.make_controller(**cfg)
    assert rebuilt.config() == cfg
    drive = np.array([0.3, 1.2])
    for _ in range(3):
        np.testing.assert_array_equal(c.step(drive).numpy(), rebuilt.step(drive).numpy())


@pytest.mark.parametrize("name, params", [
    ("entropy", {"normalise": True}), ("cpp", {"hazard": 0.05, "output": "relative_uncertainty"}),
    ("unexpected", {"validity_rate": 0.2}), ("unexpected", {"chance_validity": 0.2}),
])
def test_signal_config_rebuilds_the_signal(name, params):
    s = lcne.make_signal(name, n_runs=2, **params)
    cfg = s.config()
    assert json.loads(json.dumps(cfg)) == cfg
    assert lcne.make_signal(**cfg).config() == cfg


# ------------------------------------------------------------------ files without 'controllers'


def test_v1_fixture_reports_its_config_eta():
    ds = open_results(V1_FIXTURE)
    assert "controllers" not in ds.attrs
    info = run_info(ds)
    assert info["eta"] == 0.4 and info["lc"] == "paper"


def test_config_fallback_ignores_eta_of_another_lc():
    """Files written before the change stored the benchmark's eta even for other LCs."""
    ds = open_results(V1_FIXTURE)
    cfg = json.loads(ds.attrs["config"])
    ds.attrs["config"] = json.dumps({**cfg, "lc": "gilzenrat-phasic", "eta": 0.4})
    info = run_info(ds)
    assert info["lc"] == "gilzenrat-phasic" and math.isnan(info["eta"]) and math.isnan(info["gamma"])
