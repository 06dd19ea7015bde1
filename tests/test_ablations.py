"""Defining properties of the ablation methods and of the run-wise optimizer."""
import numpy as np
import pytest
import torch

from lcne.experiments.config import RunConfig
from lcne.experiments.optim import RunwiseOptimizer
from lcne.experiments.runner import run_experiment
from lcne.experiments.streams import BENCHMARKS


@pytest.fixture(scope="module")
def stream(tiny_mnist):
    return BENCHMARKS["split-mnist"].build(*tiny_mnist)


def _run(stream, optimizers, seeds=(1, 2), iterations=3, **kw):
    cfg = RunConfig(optimizers=list(optimizers), seeds=list(seeds), iterations=iterations, batch_size=16, **kw)
    return run_experiment(cfg, stream=stream, progress=False)


def test_runwise_optimizer_matches_torch_optimizers():
    torch.manual_seed(0)
    P = torch.nn.Parameter(torch.randn(3, 4, 5))
    ref = [torch.nn.Parameter(P.detach()[r].clone()) for r in range(3)]
    torch_opts = [
        torch.optim.SGD([ref[0]], lr=0.01),
        torch.optim.SGD([ref[1]], lr=0.02, momentum=0.9),
        torch.optim.Adam([ref[2]], lr=0.01),
    ]
    opt = RunwiseOptimizer([P], lr=[0.01, 0.02, 0.01], momentum=[0, 0.9, 0], adam=[False, False, True])
    for _ in range(25):
        G = torch.randn(3, 4, 5)
        P.grad = G.clone()
        opt.step()
        for r in range(3):
            ref[r].grad = G[r].clone()
            torch_opts[r].step()
    for r in range(3):
        torch.testing.assert_close(P.detach()[r], ref[r].detach(), rtol=1e-5, atol=1e-6)


def test_reset_clears_state_of_selected_runs_only():
    P = torch.nn.Parameter(torch.ones(2, 3))
    opt = RunwiseOptimizer([P], lr=[0.1, 0.1], momentum=[0.9, 0.9], adam=[False, False])
    P.grad = torch.ones(2, 3)
    opt.step()
    opt.reset(torch.tensor([True, False]))
    assert opt.state[0]["buf"][0].abs().sum() == 0 and opt.steps[0] == 0
    assert torch.all(opt.state[0]["buf"][1] == 1) and opt.steps[1] == 1


def test_fixed_gain_one_is_sgd_bit_for_bit(stream):
    ds = _run(stream, ["sgd", "fixed-gain"], fixed_gain=1.0)
    a = ds["accuracy"].sel({"method": "sgd"}).values
    b = ds["accuracy"].sel({"method": "fixed-gain"}).values
    assert np.array_equal(a, b, equal_nan=True)
    assert np.array_equal(ds["loss"].sel({"method": "sgd"}).values, ds["loss"].sel({"method": "fixed-gain"}).values,
                          equal_nan=True)


def test_entropy_lr_with_eta_zero_is_sgd_bit_for_bit(stream):
    ds = _run(stream, ["sgd", "entropy-lr"], eta=0.0)
    assert np.array_equal(ds["loss"].sel({"method": "sgd"}).values,
                          ds["loss"].sel({"method": "entropy-lr"}).values, equal_nan=True)


def test_entropy_lr_keeps_network_gain_at_one_but_scales_lr(stream):
    ds = _run(stream, ["ngm", "entropy-lr"])
    # the network gain stays 1; the controller output scales the learning rate
    assert np.all(ds["gain"].sel({"method": "entropy-lr"}).values == 1.0)
    assert ds["lr_scale"].sel({"method": "entropy-lr"}).max() > 1.5
    assert np.all(ds["lr_scale"].sel({"method": "ngm"}).values == 1.0)
    assert not np.array_equal(ds["loss"].sel({"method": "ngm"}).values, ds["loss"].sel({"method": "entropy-lr"}).values)


def test_default_fixed_gain_is_time_average_of_ngm(stream):
    ds = _run(stream, ["ngm", "fixed-gain"])
    ngm = ds["gain"].sel({"method": "ngm"}).values
    fixed = ds["gain"].sel({"method": "fixed-gain"}).values
    np.testing.assert_allclose(fixed, np.repeat(ngm.mean(axis=1, keepdims=True), ngm.shape[1], axis=1), rtol=1e-6)


def test_shuffled_gain_replays_another_seed(stream):
    ds = _run(stream, ["shuffled-gain"], seeds=(1, 2, 3))
    ref = _run(stream, ["ngm"], seeds=(1, 2, 3))
    g = ds["gain"].sel({"method": "shuffled-gain"}).values
    ngm = ref["gain"].sel({"method": "ngm"}).values
    np.testing.assert_allclose(g, np.roll(ngm, -1, axis=0), rtol=1e-6)
    assert list(ds["method"].values) == ["shuffled-gain"]  # the helper NGM batch is not reported


def test_msgd_reset_differs_from_msgd_only_after_first_switch(stream):
    ds = _run(stream, ["msgd", "msgd-reset"])
    a, b = (ds["loss"].sel({"method": m}).values for m in ("msgd", "msgd-reset"))
    assert np.array_equal(a[:, :3], b[:, :3], equal_nan=True)  # context 1 identical
    assert not np.allclose(a[:, 3:, 0], b[:, 3:, 0])  # state cleared at the switch


def test_divergence_is_recorded_and_isolated(stream):
    ds = _run(stream, ["sgd", "adam"], lr=1e6, iterations=4)
    d = ds["diverged_at"]
    # SGD at lr 1e6 blows up; the curves before divergence are kept
    assert (d.sel({"method": "sgd"}) >= 0).all()
    for s in ds.seed.values:
        t = int(d.sel({"method": "sgd", "seed": s}))
        acc = ds["accuracy"].sel({"method": "sgd", "seed": s, "eval_task": 1}).values
        assert np.all(np.isnan(acc[t:])) and np.all(np.isfinite(acc[:t]))


def test_shuffled_gain_needs_two_seeds():
    from lcne.experiments.errors import ConfigError

    with pytest.raises(ConfigError, match="at least 2 seeds"):
        RunConfig(optimizers=["shuffled-gain"], seeds=[1]).resolved()
