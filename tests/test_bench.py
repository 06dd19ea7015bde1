"""``lcne bench``: the matmul peak is the best of several trials, with its spread, and the
fraction of peak never exceeds 1. No timed assertions: the numbers vary by machine."""
import json

import pytest

from lcne.experiments import bench
from lcne.experiments.cli import main

SPREAD = ("peak_gflops_min", "peak_gflops_median", "peak_gflops_max")


@pytest.fixture(autouse=True)
def _one_thread():
    """The timed runs here are tiny: one thread keeps them fast, also on a busy machine
    (two threads on two loaded cores made them 10x slower)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def small_gemm(monkeypatch):
    """The peak's square GEMM at 256 instead of 2048: the same code path, 500x fewer FLOPs."""
    full = bench.matmul_peak_gflops
    monkeypatch.setattr(bench, "matmul_peak_gflops", lambda **kw: full(**{"n": 256, **kw}))


def test_matmul_peak_is_the_best_of_the_trials_with_its_spread():
    shapes = [bench.MatmulShape(3, 16, 32, 8), bench.MatmulShape(3, 40, 32, 8, shared_input=True)]
    r = bench.matmul_peak_gflops(n=64, repeats=2, trials=4, run_shapes=shapes)
    assert r["peak_trials"] == 4
    assert 0 < r["peak_gflops_min"] <= r["peak_gflops_median"] <= r["peak_gflops_max"] == r["peak_gflops"]
    assert r["peak_workloads"] == ["gemm 64x64x64", "matmul 3x(16x32)@3x(32x8)", "matmul (40x32)@3x(32x8)"]
    with pytest.raises(ValueError):
        bench.matmul_peak_gflops(n=8, trials=0)


def test_tiny_bench_reports_the_spread_and_a_fraction_at_most_one(capsys, small_gemm):
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


def test_report_prints_the_peak_with_its_spread(capsys, small_gemm):
    assert main(["bench", "--iterations", "1", "--seeds", "1", "--methods", "sgd"]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("matmul peak GFLOP/s"))
    assert "best of 5 trials; min / median / max" in line


# --- lcne bench --full-size: evaluation modes (schedules, subsets, bf16) -------------------------

from lcne.experiments import bench_eval_modes as bem  # noqa: E402
from lcne.experiments import eval_schedule  # noqa: E402
from lcne.experiments.errors import ConfigError  # noqa: E402

FAST_PEAK = {"peak_gflops": 1e6, "peak_gflops_min": 1e6, "peak_gflops_median": 1e6, "peak_gflops_max": 1e6,
             "peak_trials": 1, "peak_workloads": ["gemm"]}


def test_flops_of_a_schedule_and_a_subset_by_hand():
    # MLP 4-3-2: forward 2*(4*3 + 3*2) = 36 FLOPs per image; batch 5; 4 iterations x 2 contexts
    # switch:1/3 evaluates i = 0 (window and stride) and i = 3 (stride and last): 2 per context
    mode = bem.EvalMode("s", schedule="switch:1/3", subset=6)
    f = bem.mode_flops([7, 5], mode, 4, sizes=(4, 3, 2), batch_size=5)
    assert f["train_flops"] == 3 * 36 * 5 * 4 * 2 == 4320
    # subset 6: context 1 sees min(6, 7) = 6 images, context 2 6 + min(6, 5) = 11
    assert f["eval_flops"] == 36 * 2 * (6 + 11) == 1224
    assert (f["evaluated_iterations"], f["iterations"]) == (4, 8)
    whole = bem.mode_flops([7, 5], bem.EvalMode("s", schedule="switch:1/3"), 4, sizes=(4, 3, 2), batch_size=5)
    assert whole["eval_flops"] == 36 * 2 * (7 + 12)
    exact = bem.mode_flops([7, 5], bem.EvalMode("exact"), 4, sizes=(4, 3, 2), batch_size=5)
    assert exact["eval_flops"] == 36 * 4 * 19 and exact["evaluated_iterations"] == 8
    assert bem.forward_flops() == 2 * (784 * 400 + 400 * 400 + 400 * 10)
    # predicted wall: I*K*t_train + n_k * sum_k e_k = 4*2*0.5 + 2*(1 + 2)
    assert bem.predict_wall("switch:1/3", 4, 2, 0.5, [1.0, 2.0]) == pytest.approx(10.0)
    assert bem.predict_wall("every", 4, 2, 0.5, [1.0, 2.0]) == pytest.approx(16.0)


def test_mode_list_and_bad_modes():
    modes = bem.eval_modes(["switch:50/10", "SWITCH:50/10", "every", "every:5"], 1000)
    assert [m.name for m in modes] == ["exact", "switch:50/10", "every:5", "subset 1000",
                                       "switch:50/10 + subset 1000", "bf16"]
    assert modes[0].is_exact and not any(m.is_exact for m in modes[1:])
    assert (modes[4].schedule, modes[4].subset, modes[4].precision) == ("switch:50/10", 1000, "fp32")
    assert (modes[-1].schedule, modes[-1].subset, modes[-1].precision) == ("every", None, "bf16")
    assert [m.name for m in bem.eval_modes([], None)] == ["exact", "bf16"]
    assert [m.name for m in bem.eval_modes(bem.DEFAULT_SCHEDULES, bem.DEFAULT_SUBSET)] == [
        "exact", "switch:50/10", "switch:100/10", "subset 1000", "switch:50/10 + subset 1000", "bf16"]
    with pytest.raises(ConfigError, match="eval_schedule"):
        bem.eval_modes(["switch:5"], 10)
    with pytest.raises(ConfigError, match="subset"):
        bem.eval_modes([], 0)
    with pytest.raises(ConfigError, match="not an MLP benchmark"):
        bem.benchmark_eval_modes("split-cifar10")


def test_tiny_full_size_run_on_the_embedded_data(monkeypatch):
    monkeypatch.setattr(eval_schedule, "bf16_support", lambda device="cpu": (False, "no fast bf16 here (test)"))
    shapes = []
    monkeypatch.setattr(bem, "matmul_peak_gflops", lambda **kw: shapes.extend(kw["run_shapes"]) or dict(FAST_PEAK))
    r = bem.benchmark_eval_modes("split-mnist", schedules=["switch:1/2"], subset=50, iterations=2,
                                 seeds=[1], optimizers=["sgd"], peak_trials=1)
    rows = {m["name"]: m for m in r["modes"]}
    assert list(rows) == ["exact", "switch:1/2", "subset 50", "switch:1/2 + subset 50", "bf16"]
    assert (r["runs"], r["n_tasks"], r["iterations_per_task"], r["full_iterations_per_task"]) == (1, 5, 2, 200)
    counts = r["test_counts"]
    assert rows["exact"]["speedup"] == 1.0 and rows["exact"]["predicted_full_speedup"] == pytest.approx(1.0)
    for name in ("exact", "switch:1/2", "subset 50", "switch:1/2 + subset 50"):
        m = rows[name]
        f = bem.mode_flops(counts, bem.EvalMode(name, m["schedule"], m["subset"]), 2)
        assert m["gflop"] == pytest.approx((f["train_flops"] + f["eval_flops"]) / 1e9)
        assert m["gflops"] == pytest.approx(m["gflop"] / m["wall_s"])
        assert 0 < m["fraction_of_peak"] <= 1 and 0 < m["eval_s"] < m["wall_s"]
        assert m["train_s"] == pytest.approx(m["wall_s"] - m["eval_s"])
    # two iterations per context: switch:1/2 evaluates both (i = 0, and the last)
    assert rows["switch:1/2"]["evaluated_fraction"] == 1.0
    # full length, 200 per context: i = 0, 2, ..., 198 and 199 -> 101 of 200
    assert rows["switch:1/2"]["full_evaluated_fraction"] == pytest.approx(101 / 200)
    assert rows["switch:1/2"]["full_eval_flop_fraction"] == pytest.approx(101 / 200)
    sub = 50 * 5 / sum(counts)  # 50 of every task's 200 test images
    assert rows["subset 50"]["full_eval_flop_fraction"] == pytest.approx(sub)
    assert rows["switch:1/2 + subset 50"]["full_eval_flop_fraction"] == pytest.approx(sub * 101 / 200)
    assert 0 < rows["switch:1/2"]["full_flop_fraction"] < 1
    assert rows["bf16"]["refused"].startswith("eval_precision: bf16 refused on cpu: no fast bf16 here (test)")
    assert "wall_s" not in rows["bf16"]
    assert set(r["eval_s_per_context"]) == {"fp32, whole test sets", "fp32, subset 50"}
    assert all(len(v) == 5 and min(v) > 0 for v in r["eval_s_per_context"].values())
    # the peak is measured on the training batch, the shared evaluation chunk and the per-run subset chunk
    assert shapes == [bench.MatmulShape(1, 128, 784, 400), bench.MatmulShape(1, 1000, 784, 400, True),
                      bench.MatmulShape(1, 250, 784, 400)]
    assert r["peak_gflops"] == 1e6 and r["peak_from_training"] is False
    text = bem.format_eval_report(r)
    assert "bf16                        refused: eval_precision: bf16 refused on cpu" in text


def test_full_size_cli_times_bf16_where_accepted_and_prints_json(monkeypatch, capsys):
    monkeypatch.setattr(eval_schedule, "bf16_support", lambda device="cpu": (True, "test says yes"))
    monkeypatch.setattr(bem, "matmul_peak_gflops", lambda **kw: dict(FAST_PEAK))
    assert main(["bench", "--full-size", "--benchmark", "split-mnist", "--iterations", "1", "--seeds", "3",
                 "--methods", "sgd", "--schedules", "every:4", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    names = [m["name"] for m in r["modes"]]
    assert names == ["exact", "every:4", "subset 1000", "every:4 + subset 1000", "bf16"]
    bf16 = r["modes"][-1]
    assert bf16["refused"] is None and bf16["precision"] == "bf16" and bf16["wall_s"] > 0
    assert "fp32, whole test sets" in r["eval_s_per_context"] and "bf16, whole test sets" in r["eval_s_per_context"]


def test_full_size_options_need_full_size(capsys):
    assert main(["bench", "--schedules", "every:2", "--iterations", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "lcne: error: --schedules: only with --full-size"
