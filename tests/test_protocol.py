import numpy as np
import pytest
import torch
import xarray as xr

from lcne.experiments.config import RunConfig
from lcne.experiments.runner import run_experiment
from lcne.experiments.streams import BENCHMARKS


@pytest.fixture(scope="module")
def stream(tiny_mnist):
    return BENCHMARKS["split-mnist"].build(*tiny_mnist)


def _run(stream, seeds, optimizers=("ngm", "msgd", "adam"), iterations=3):
    cfg = RunConfig(optimizers=list(optimizers), seeds=list(seeds), iterations=iterations, batch_size=16)
    return run_experiment(cfg, stream=stream, progress=False)


def test_schema_and_unseen_tasks(stream):
    ds = _run(stream, [1, 2])
    assert ds["accuracy"].dims == ("method", "seed", "iteration", "eval_task")
    assert ds["gain"].dims == ("method", "seed", "iteration")
    assert ds.sizes == {"method": 3, "seed": 2, "iteration": 15, "eval_task": 5}
    assert ds["train_task"].values.tolist() == [1] * 3 + [2] * 3 + [3] * 3 + [4] * 3 + [5] * 3
    acc = ds["accuracy"].values
    # in context k only tasks 1..k are evaluated; the rest stay NaN
    for t in range(15):
        k = t // 3 + 1
        assert np.all(np.isfinite(acc[:, :, t, :k])) and np.all(np.isnan(acc[:, :, t, k:]))
    assert np.all((acc[np.isfinite(acc)] >= 0) & (acc[np.isfinite(acc)] <= 1))
    assert ds.attrs["benchmark"] == "split-mnist" and ds.attrs["iterations_per_task"] == 3


def test_batched_runs_equal_single_runs(stream):
    batched = _run(stream, [1, 2, 3])
    for s in (1, 3):
        single = _run(stream, [s])
        for var in ("accuracy", "loss", "gain", "entropy"):
            xr.testing.assert_allclose(
                batched[var].sel(seed=[s]), single[var], rtol=1e-4, atol=1e-5
            )


def test_one_step_lag_of_the_paper_gain(stream):
    ds = _run(stream, [7], optimizers=["ngm", "sgd"], iterations=4)
    g = ds["gain"].sel({"method": "ngm", "seed": 7}).values
    h = ds["entropy"].sel({"method": "ngm", "seed": 7}).values
    assert g[0] == 1.0
    # g(t+1) = 0.9 g(t) + 0.1 * 1 + eta * H(t), eta = 0.4 for Split MNIST
    np.testing.assert_allclose(g[1:], 0.9 * g[:-1] + 0.1 + 0.4 * h[:-1], rtol=1e-6)
    assert np.all(ds["gain"].sel({"method": "sgd"}).values == 1.0)


def test_same_seed_is_bitwise_reproducible(stream):
    a = _run(stream, [5], optimizers=["ngm"])
    b = _run(stream, [5], optimizers=["ngm"])
    assert np.array_equal(a["accuracy"].values, b["accuracy"].values, equal_nan=True)
    assert np.array_equal(a["gain"].values, b["gain"].values)


def test_batches_come_only_from_seen_tasks(stream, monkeypatch):
    seen = []
    orig = stream.train_pool

    def spy(context):
        pool = orig(context)
        seen.append((context, set(stream.train_task[pool].tolist())))
        return pool

    monkeypatch.setattr(stream, "train_pool", spy)
    _run(stream, [1], optimizers=["sgd"], iterations=1)
    assert seen == [(k, set(range(1, k + 1))) for k in range(1, 6)]


def test_eval_first_task_only(stream):
    cfg = RunConfig(optimizers=["ngm"], seeds=[1], iterations=2, batch_size=16, eval_tasks="first")
    ds = run_experiment(cfg, stream=stream, progress=False)
    full = _run(stream, [1], optimizers=["ngm"], iterations=2)
    acc = ds["accuracy"].values
    assert np.all(np.isfinite(acc[..., 0])) and np.all(np.isnan(acc[..., 1:]))
    np.testing.assert_array_equal(acc[..., 0], full["accuracy"].values[..., 0])
