"""The methods and protocol pieces of the matched-lr study (lcne issue 15): lr-replay,
switch-burst, weight-ema, lr-rewarm, method_params, matched controls and explicit-LC
names in sweeps, and a selection rule that ignores block 1."""
import json

import numpy as np
import pytest
import torch
import xarray as xr

import lcne
from lcne.experiments import sweep as sw
from lcne.experiments.config import RunConfig
from lcne.experiments.errors import ConfigError
from lcne.experiments.methods import method_params
from lcne.experiments.ngm_controls import switch_locked_burst
from lcne.experiments.optim import RunwiseOptimizer
from lcne.experiments.protocol import evaluate, train_joint
from lcne.experiments.runner import run_experiment
from lcne.experiments.streams import BENCHMARKS
from lcne.experiments.training_hooks import RewarmSchedule, WeightEMA
from lcne.models import GainMLP


@pytest.fixture(scope="module")
def stream(tiny_mnist):
    return BENCHMARKS["split-mnist"].build(*tiny_mnist)


def _run(stream, optimizers, seeds=(1, 2), iterations=3, **kw):
    cfg = RunConfig(optimizers=list(optimizers), seeds=list(seeds), iterations=iterations, batch_size=16, **kw)
    return run_experiment(cfg, stream=stream, progress=False)


def _var(ds, name, method):
    return ds[name].sel({"method": method}).transpose("seed", "iteration").values


# ------------------------------------------------------------------ lr-replay, switch-burst

def test_lr_replay_steps_with_the_same_seeds_squared_ngm_gain_at_network_gain_one(stream):
    ds = _run(stream, ["ngm", "sgd", "lr-replay"])
    g_ngm = _var(ds, "gain", "ngm")
    assert not np.allclose(g_ngm[0], g_ngm[1])  # the seeds' traces differ: "same seed" is testable
    np.testing.assert_allclose(_var(ds, "lr_scale", "lr-replay"), g_ngm**2, rtol=1e-6)
    assert np.all(_var(ds, "gain", "lr-replay") == 1.0)
    # the first step is SGD's (g(0) = 1); the second, at lr * g(1)^2, is not
    replay, sgd = _var(ds, "train_loss", "lr-replay"), _var(ds, "train_loss", "sgd")
    np.testing.assert_allclose(replay[:, :2], sgd[:, :2], rtol=1e-6)  # other batch: float rounding only
    assert np.all(np.abs(replay[:, 2] - sgd[:, 2]) > 1e-3)
    ran = json.loads(ds.attrs["controllers"])
    assert ran["lr-replay"]["gain"] == "own" and "method_params" not in ran["lr-replay"]


def test_switch_burst_replays_the_seed_and_context_mean_ngm_trace(stream):
    ds = _run(stream, ["ngm", "switch-burst"], iterations=3)
    ngm, burst = _var(ds, "gain", "ngm"), _var(ds, "gain", "switch-burst")
    I, K = 3, 5
    # by hand: block 1 is the seed mean; every later block the mean over seeds and contexts 2..K
    block1 = ngm[:, :I].mean(axis=0)
    later = ngm[:, I:].reshape(2, K - 1, I).mean(axis=(0, 1))
    expected = np.concatenate([block1] + [later] * (K - 1))
    for row in burst:  # the same trace for every seed
        np.testing.assert_allclose(row, expected, rtol=1e-6)
    np.testing.assert_allclose(switch_locked_burst(ngm, I)[0], expected)
    assert not np.allclose(burst, ngm)


def test_switch_locked_burst_skips_diverged_iterations():
    ref = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 4.0, np.nan, np.nan]])  # seed 2 diverged at t = 2
    np.testing.assert_allclose(switch_locked_burst(ref, 2)[1], [1.0, 3.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="not a multiple of iterations_per_task=3"):
        switch_locked_burst(ref, 3)


# ------------------------------------------------------------------ weight-ema

def _tiny_model(n_runs=2):
    gens = [torch.Generator().manual_seed(s) for s in range(n_runs)]
    model = GainMLP(sizes=(784, 8, 10), n_runs=n_runs)
    model.reset_parameters(gens)
    return model, gens


def test_weight_ema_equals_a_hand_ema_and_swaps_only_its_runs(stream):
    model, gens = _tiny_model()
    opt = RunwiseOptimizer(model.parameters(), lr=[0.05, 0.05], momentum=[0, 0], adam=[False, False])
    d = 0.6
    ema = WeightEMA(model, [False, True], d)
    raw = [[p.detach().clone() for p in model.parameters()]]  # w_0, then w_t after every step
    signal = lcne.make_signal("entropy", n_runs=2)
    train_joint(model, opt, lcne.ConstantGain(n_runs=2), signal, stream, gens, 1, 8, weight_average=ema,
                on_iteration=lambda t: raw.append([p.detach().clone() for p in model.parameters()]))
    assert len(raw) == 6  # w_0 and 5 steps (one per context)
    for j, p in enumerate(model.parameters()):
        hand = raw[0][j][1]
        for step in raw[1:]:
            hand = d * hand + (1 - d) * step[j][1]
        torch.testing.assert_close(ema.average[j][0][0], hand, rtol=1e-6, atol=1e-7)
    before = [p.detach().clone() for p in model.parameters()]
    with ema.swap(model):
        for j, p in enumerate(model.parameters()):
            assert torch.equal(p[0], before[j][0])  # run 0 is not averaged: untouched
            torch.testing.assert_close(p[1], ema.average[j][0][0])
        _, loss_swapped = evaluate(model, stream, 1, None)
    for j, p in enumerate(model.parameters()):
        assert torch.equal(p, before[j])  # the raw weights are back, bit for bit
    _, loss_raw = evaluate(model, stream, 1, None)
    assert loss_swapped[0, 0] == loss_raw[0, 0] and abs(float(loss_swapped[1, 0] - loss_raw[1, 0])) > 1e-4


def test_weight_ema_trains_like_sgd_and_evaluates_its_average(stream):
    ds = _run(stream, ["sgd", "weight-ema"], seeds=(1,), method_params={"ema_decay": 0.5})
    assert json.loads(ds.attrs["controllers"])["weight-ema"]["method_params"] == {"ema_decay": 0.5}
    assert np.array_equal(_var(ds, "train_loss", "sgd"), _var(ds, "train_loss", "weight-ema"))  # raw weights train
    acc = ds["accuracy"].sel({"eval_task": 1})
    assert not np.array_equal(acc.sel({"method": "sgd"}).values, acc.sel({"method": "weight-ema"}).values)
    # decay 0: the average is the raw weights, so the evaluation is SGD's bit for bit
    ds0 = _run(stream, ["sgd", "weight-ema"], seeds=(1,), method_params={"ema_decay": 0.0})
    assert np.array_equal(ds0["accuracy"].sel({"method": "sgd"}).values,
                          ds0["accuracy"].sel({"method": "weight-ema"}).values, equal_nan=True)


def test_weight_ema_averages_resnet_batchnorm_statistics():
    from lcne.models.resnet import SlimResNet18

    net = SlimResNet18(n_runs=2, n_classes=4, nf=2, in_size=32, generators=[torch.Generator().manual_seed(s) for s in (0, 1)])
    ema = WeightEMA(net, [True, False], 0.5)
    bn = net.bn1
    start = bn.running_mean.clone()
    with torch.no_grad():
        bn.running_mean.add_(2.0)
    ema.update(net)
    with ema.swap(net):
        torch.testing.assert_close(bn.running_mean[0], start[0] + 1.0)  # (start + start + 2) / 2
        assert torch.equal(bn.running_mean[1], start[1] + 2.0)
    assert torch.equal(bn.running_mean, start + 2.0)


def test_weight_ema_refuses_a_model_without_a_run_axis():
    with pytest.raises(ConfigError, match=r"weight-ema: Linear.weight has shape \(3, 5\), no leading run axis of size 2"):
        WeightEMA(torch.nn.Linear(5, 3), [True, False], 0.9)


# ------------------------------------------------------------------ lr-rewarm

def test_lr_rewarm_lr_scale_follows_the_formula(stream):
    drop, iters, I = 0.2, 2, 4
    ds = _run(stream, ["sgd", "lr-rewarm"], iterations=I, method_params={"rewarm_drop": drop, "rewarm_iters": iters})
    t = np.arange(5 * I)
    i = t % I
    expected = np.where(t < I, 1.0, drop + (1 - drop) * np.minimum(1.0, i / iters))
    assert expected[I] == drop and expected[I + 1] == pytest.approx(0.6) and expected[I + 2] == 1.0
    np.testing.assert_allclose(_var(ds, "lr_scale", "lr-rewarm"), np.tile(expected, (2, 1)), rtol=1e-6)
    assert np.all(_var(ds, "lr_scale", "sgd") == 1.0)
    rewarm, sgd = _var(ds, "train_loss", "lr-rewarm"), _var(ds, "train_loss", "sgd")
    assert np.array_equal(rewarm[:, :I + 1], sgd[:, :I + 1])  # context 1 (and the first step after it)
    assert not np.allclose(rewarm[:, I + 1:], sgd[:, I + 1:])


def test_rewarm_schedule_hand_values():
    s = RewarmSchedule([True, False, True], iterations_per_task=100, drop=0.1, iters=50)
    assert s(99, 99).tolist() == [1.0, 1.0, 1.0]
    assert s(100, 0).tolist() == pytest.approx([0.1, 1.0, 0.1])
    assert s(125, 25).tolist() == pytest.approx([0.55, 1.0, 0.55])
    assert s(150, 50).tolist() == [1.0, 1.0, 1.0]


# ------------------------------------------------------------------ method_params

@pytest.mark.parametrize("given, message", [
    ({"ema_decy": 0.9}, "method_params: unknown key 'ema_decy' (did you mean 'ema_decay'?); allowed: ema_decay "
                        "(weight-ema), rewarm_drop (lr-rewarm), rewarm_iters (lr-rewarm)"),
    ({"ema_decay": 1.0}, "method_params.ema_decay: 1.0 is not valid; decay d of the weight average per iteration"),
    ({"rewarm_iters": 2.5}, "method_params.rewarm_iters: 2.5 is not valid; iterations of the linear ramp"),
    ({"rewarm_drop": "low"}, "method_params.rewarm_drop: 'low' is not valid"),
])
def test_bad_method_params_are_refused_in_one_line(stream, given, message):
    with pytest.raises(ConfigError) as err:
        _run(stream, ["sgd", "weight-ema"], seeds=(1,), iterations=1, method_params=given)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_method_params_defaults():
    assert method_params({}, ["weight-ema"]) == {"ema_decay": 0.99}
    assert method_params({"rewarm_iters": 20.0}, ["lr-rewarm"]) == {"rewarm_drop": 0.1, "rewarm_iters": 20}
    assert method_params({"ema_decay": 0.9}, ["sgd"]) == {}  # another method's key: accepted, unused


# ------------------------------------------------------------------ sweeps: matched controls, ngm+<lc>

SPEC = {
    "name": "m",
    "benchmarks": ["split-mnist"],
    "optimizers": ["ngm", "sgd", "fixed-gain", "shuffled-gain", "lr-replay", "switch-burst", "ngm+adaptive"],
    "seeds": [1, 2],
    "base": {"iterations": 2, "batch_size": 16},
    "grid": {"lr": [0.01, 0.05]},
    "per_optimizer": {"ngm": {"eta": [0.2, 0.4]}},
    "equal_budget": 2,
    "selection": {"metric": "wc_acc", "seeds": [1, 2]},
}
CONTROLS = ["fixed-gain", "shuffled-gain", "lr-replay", "switch-burst"]


def test_controls_are_not_tuned_and_run_beside_ngm_at_its_selected_setting():
    spec = sw.spec_from_dict(SPEC)
    assert spec.selection["convention"] == "after-first"  # the default of a new spec
    tuning = sw.expand_named(spec, eval_split="validation", seeds=[1, 2])
    tuned = [m for cfg, _ in tuning for m in cfg.optimizers]
    assert not set(CONTROLS) & set(tuned)
    # every tuned name its own equal budget; ngm+adaptive is ngm with lc adaptive
    counts = {n: sum(n in names.values() for _, names in tuning) for n in ("ngm", "sgd", "ngm+adaptive")}
    assert counts == {"ngm": 2, "sgd": 2, "ngm+adaptive": 2}
    adaptive = [cfg for cfg, names in tuning if "ngm+adaptive" in names.values()]
    assert all(cfg.lc == "adaptive" and cfg.optimizers == ["ngm"] and cfg.eta is None for cfg in adaptive)
    for name in CONTROLS:  # no budget of their own: NGM's settings
        assert sw.optimizer_configs(spec, name) == sw.optimizer_configs(spec, "ngm")
    chosen = {("split-mnist", "ngm"): {"eta": 0.4, "lr": 0.05}, ("split-mnist", "sgd"): {"lr": 0.01},
              ("split-mnist", "ngm+adaptive"): {"lr": 0.01}}
    test = sw.expand(spec, only=chosen)
    with_controls = [c for c in test if set(CONTROLS) & set(c.optimizers)]
    assert len(with_controls) == 1
    cfg = with_controls[0]
    assert cfg.optimizers == ["ngm", *CONTROLS] and (cfg.lr, cfg.eta, cfg.lc) == (0.05, 0.4, "paper")
    assert sorted((c.optimizers, c.lc, c.lr) for c in test if c is not cfg) == [(["ngm"], "adaptive", 0.01),
                                                                                 (["sgd"], "paper", 0.01)]
    record = sw.selection_record(spec, chosen)
    assert record["split-mnist/lr-replay"] == {"eta": 0.4, "lr": 0.05, "inherits": "ngm"}
    assert record["split-mnist/ngm+adaptive"] == {"lr": 0.01}
    # without a selection the controls ride along with every NGM setting
    plain = sw.expand(sw.spec_from_dict({k: v for k, v in SPEC.items() if k != "selection"}))
    assert sorted((c.lr, c.eta) for c in plain if "lr-replay" in c.optimizers) == sorted(
        (c.lr, c.eta) for c in plain if "ngm" in c.optimizers and c.lc == "paper")


@pytest.mark.parametrize("patch, message", [
    ({"optimizers": ["sgd", "lr-replay"]}, "lr-replay take ngm's setting and gain (controls: matched); add ngm"),
    ({"per_optimizer": {"switch-burst": {"lr": [0.1]}}}, "per_optimizer.switch-burst: switch-burst takes ngm's setting"),
    ({"optimizers": ["ngm", "ngm+paper"]}, "'ngm+paper': paper is the default lc; leave it out of the name"),
    ({"optimizers": ["sgd+adaptive"]}, "'sgd+adaptive': only the LC-driven methods (ngm, entropy-lr, ngm-momentum)"),
    ({"optimizers": ["ngm+adaptve"]}, "'adaptve' is not an LC model or front end here (did you mean 'adaptive'?)"),
    ({"optimizers": ["ngm", "ngm+adaptive"], "base": {"lc": "adaptive"}}, "'ngm' and 'ngm+adaptive' are the same runs"),
    ({"selection": {"convention": "first"}}, "selection.convention 'first'"),
    ({"controls": "tune"}, "controls: 'tune' (did you mean 'tuned'?)"),
    ({"base": {"seeds": [1]}}, "base.seeds: set by the sweep itself"),
    ({"grid": {"method_params": [{"rewarm_dropp": 0.1}]}}, "method_params: unknown key 'rewarm_dropp'"),
])
def test_matched_and_named_spec_errors(patch, message):
    raw = {**SPEC, "per_optimizer": {}, **patch}
    with pytest.raises(ConfigError) as err:
        sw.spec_from_dict(raw, where="spec.yaml")
    assert message in str(err.value) and str(err.value).startswith("spec.yaml")


def test_tuned_controls_keep_the_earlier_protocol():
    spec = sw.spec_from_dict({**SPEC, "controls": "tuned", "per_optimizer": {}})
    tuning = sw.expand(spec, eval_split="validation", seeds=[1, 2])
    assert {m for c in tuning for m in c.optimizers} >= set(CONTROLS)
    # a fixed-gain with its own value is tuned even under controls: matched
    spec = sw.spec_from_dict({**SPEC, "per_optimizer": {"fixed-gain": {"fixed_gain": [1.5, 2.0]}}})
    assert not sw.is_matched_control(spec, "fixed-gain") and sw.is_matched_control(spec, "lr-replay")


def test_matched_sweep_end_to_end(tmp_path):
    spec = sw.spec_from_dict({**SPEC, "out": str(tmp_path), "per_optimizer": {}, "seeds": [1],
                              "base": {**SPEC["base"], "eval_tasks": "first"}, "selection": {"seeds": [1]},
                              "optimizers": ["ngm", "sgd", "lr-replay", "switch-burst", "ngm+adaptive"]})
    summary = sw.run_sweep(spec, use_dask=False, progress=False)
    chosen = json.loads((tmp_path / "selection.json").read_text())
    assert set(chosen) == {f"split-mnist/{o}" for o in spec.optimizers}
    ngm = chosen["split-mnist/ngm"]
    assert chosen["split-mnist/lr-replay"] == {**ngm, "inherits": "ngm"} == {**chosen["split-mnist/switch-burst"]}
    tuning = [xr.load_dataset(p, engine="h5netcdf") for p in summary["tuning_batches"]]
    assert len(tuning) == 4 and not any({"lr-replay", "switch-burst"} & set(t["method"].values) for t in tuning)
    assert sorted(str(m) for t in tuning for m in t["method"].values) == ["ngm", "ngm", "ngm+adaptive", "ngm+adaptive",
                                                                           "sgd", "sgd"]
    final = [xr.load_dataset(p, engine="h5netcdf") for p in summary["batches"]]
    beside = [f for f in final if "lr-replay" in f["method"].values]
    assert len(beside) == 1 and {"ngm", "switch-burst"} <= set(beside[0]["method"].values)
    assert float(beside[0]["cfg_lr"].values[0]) == ngm["lr"]
    assert sum("lr-replay" in f["method"].values for f in final) == 1


def test_lc_in_the_base_still_selects(tmp_path):
    spec = sw.spec_from_dict({**SPEC, "out": str(tmp_path), "per_optimizer": {}, "optimizers": ["ngm", "sgd"],
                              "base": {**SPEC["base"], "lc": "adaptive", "eval_tasks": "first"}, "seeds": [1],
                              "selection": {"seeds": [1]}, "grid": {"lr": [0.01]}, "equal_budget": 1})
    summary = sw.run_sweep(spec, use_dask=False, progress=False)
    assert set(summary["selection"]) == {"split-mnist/ngm", "split-mnist/sgd"}  # filed under the spec's names
    final = xr.load_dataset(summary["batches"][0], engine="h5netcdf")
    assert sorted(final["method"].values) == ["ngm+adaptive", "sgd"]


# ------------------------------------------------------------------ selection convention

def _tuning_file(path, lr, curve, ipt):
    from lcne.analysis.synthetic import synthetic_results

    ds = synthetic_results(iterations_per_task=ipt, n_tasks=3, methods=("sgd",), seeds=(1,))
    ds["accuracy"][:] = np.nan
    ds["accuracy"].loc[{"eval_task": 1}] = np.asarray(curve, dtype=float)[None, None, :]
    ds.attrs["config"] = json.dumps({"benchmark": "split-mnist", "lr": lr})
    ds.to_netcdf(path, engine="h5netcdf")
    return path


def test_after_first_selection_ignores_block_1_and_code_does_not(tmp_path):
    from lcne.analysis.selection import select_settings

    ipt = 4
    # blocks 2 and 3: lr 0.1 has the better minima and final accuracy
    later = {0.01: [0.8, 0.7, 0.75, 0.8, 0.8, 0.6, 0.7, 0.8], 0.1: [0.9, 0.85, 0.9, 0.9, 0.9, 0.8, 0.85, 0.9]}

    def choose(block1, convention):
        paths = [_tuning_file(tmp_path / f"{lr}-{convention}-{block1[lr][0]}.nc", lr, block1[lr] + later[lr], ipt)
                 for lr in (0.01, 0.1)]
        return select_settings(paths, "wc_acc", ["lr"], convention=convention)[("split-mnist", "sgd")]["lr"]

    honest = {0.01: [0.1, 0.5, 0.8, 0.9], 0.1: [0.1, 0.5, 0.8, 0.9]}
    low_for_best = {0.01: [1.0, 1.0, 1.0, 1.0], 0.1: [0.0, 0.0, 0.0, 0.0]}
    high_for_best = {0.01: [0.0, 0.0, 0.0, 0.0], 0.1: [1.0, 1.0, 1.0, 1.0]}
    assert {choose(b, "after-first") for b in (honest, low_for_best, high_for_best)} == {0.1}
    assert choose(low_for_best, "code") == 0.01 and choose(high_for_best, "code") == 0.1
    from lcne.analysis.selection import score_methods
    from lcne.analysis.results_io import open_results

    ds = open_results(tmp_path / "0.1-after-first-0.1.nc")
    # WC-ACC after-first = F_3 / 3 + (2/3) mean(M_2, M_3) = 0.9/3 + (2/3)(0.85 + 0.8)/2
    assert score_methods(ds, "wc_acc", "after-first")["sgd"] == pytest.approx(0.9 / 3 + (2 / 3) * 0.825)
    assert score_methods(ds, "wc_acc", "code")["sgd"] == pytest.approx(0.9 / 3 + (2 / 3) * (0.1 + 0.85) / 2)
