"""``lcne bench``: the matmul peak is the best of several trials, with its spread, and the
fraction of peak never exceeds 1. No timed assertions: the numbers vary by machine."""
import json

import pytest

from lcne.experiments import bench
from lcne.experiments.cli import main

SPREAD = ("peak_gflops_min", "peak_gflops_median", "peak_gflops_max")


@pytest.fixture(autouse=True)
def _few_threads():
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(min(n, 2))
    yield
    torch.set_num_threads(n)


def test_matmul_peak_is_the_best_of_the_trials_with_its_spread():
    shapes = [bench.MatmulShape(3, 16, 32, 8), bench.MatmulShape(3, 40, 32, 8, shared_input=True)]
    r = bench.matmul_peak_gflops(n=64, repeats=2, trials=4, run_shapes=shapes)
    assert r["peak_trials"] == 4
    assert 0 < r["peak_gflops_min"] <= r["peak_gflops_median"] <= r["peak_gflops_max"] == r["peak_gflops"]
    assert r["peak_workloads"] == ["gemm 64x64x64", "matmul 3x(16x32)@3x(32x8)", "matmul (40x32)@3x(32x8)"]
    with pytest.raises(ValueError):
        bench.matmul_peak_gflops(n=8, trials=0)


def test_tiny_bench_reports_the_spread_and_a_fraction_at_most_one(capsys):
    assert main(["bench", "--iterations", "2", "--seeds", "1", "--optimizers", "sgd", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["runs"] == 1 and r["iterations_per_run"] == 10
    assert 0 < r["fraction_of_peak"] <= 1
    assert r["fraction_of_peak"] == pytest.approx(r["gflops"] / r["peak_gflops"])
    assert r["peak_gflops_min"] <= r["peak_gflops_median"] <= r["peak_gflops_max"] <= r["peak_gflops"]
    assert isinstance(r["peak_from_training"], bool) and r["peak_trials"] == 5
    # the peak is measured on the training's own batched matmuls too
    assert any(w.startswith("matmul") for w in r["peak_workloads"])


def test_training_faster_than_every_trial_raises_the_peak_and_flags_it(monkeypatch, capsys):
    """Noise can make the training's rate exceed the best trial; the fraction stays <= 1."""
    noisy = {"peak_gflops": 1e-6, "peak_gflops_min": 5e-7, "peak_gflops_median": 8e-7, "peak_gflops_max": 1e-6,
             "peak_trials": 5, "peak_workloads": ["gemm"]}
    monkeypatch.setattr(bench, "matmul_peak_gflops", lambda **kw: dict(noisy))
    r = bench.benchmark_training(iterations=1, seeds=[1], optimizers=["sgd"])
    assert r["peak_from_training"] is True
    assert r["peak_gflops"] == r["gflops"] and r["fraction_of_peak"] == 1.0
    assert r["peak_gflops_max"] == 1e-6  # the trials themselves are reported as measured
    text = bench.format_report(r)
    assert "min / median / max" in text and "raised to the batched training rate" in text
    assert "100 %" in text


def test_report_prints_the_peak_with_its_spread(capsys):
    assert main(["bench", "--iterations", "1", "--seeds", "1", "--methods", "sgd"]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("matmul peak GFLOP/s"))
    assert "best of 5 trials; min / median / max" in line
