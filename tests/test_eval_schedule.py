"""Evaluation schedules, fixed evaluation subsets and bf16 evaluation (issue 18)."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from lcne.analysis.eval_exactness import (
    binomial_noise_floor,
    compare_results,
    mask_results,
    schedule_exactness,
    subset_noise_floor,
)
from lcne.analysis.metrics import (
    finite_curves,
    format_table,
    metrics_table,
    per_seed_metrics,
    propagated_metrics,
    stability_metrics,
)
from lcne.analysis.results_io import ResultsError, check_results
from lcne.experiments import eval_schedule as es
from lcne.experiments.config import RunConfig
from lcne.experiments.errors import ConfigError
from lcne.experiments.eval_schedule import EvalSchedule
from lcne.experiments.eval_subset import class_quota, draw_subsets
from lcne.experiments.runner import run_experiment
from lcne.experiments.streams import BENCHMARKS

DATA = Path(__file__).with_name("data")
_spec = importlib.util.spec_from_file_location("eval_reference", DATA / "eval_reference.py")
eval_reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eval_reference)


@pytest.fixture(scope="module")
def stream(tiny_mnist):
    return BENCHMARKS["split-mnist"].build(*tiny_mnist)


def _run(stream, iterations=4, seeds=(1, 2), optimizers=("ngm", "sgd"), **kw):
    cfg = RunConfig(optimizers=list(optimizers), seeds=list(seeds), iterations=iterations, batch_size=16, **kw)
    return run_experiment(cfg, stream=stream, progress=False)


# --- schedule bookkeeping ---------------------------------------------------------------

def test_schedule_masks_for_given_window_and_stride():
    on = lambda spec, ipt, k: EvalSchedule.parse(spec).mask(ipt, k).nonzero()[0].tolist()  # noqa: E731
    assert on("every", 3, 2) == [0, 1, 2, 3, 4, 5]
    assert on("every:4", 10, 1) == [0, 4, 8, 9]  # i = 0, 4, 8 and the last (9)
    assert on("every:5", 10, 2) == [0, 5, 9, 10, 15, 19]
    assert on("switch:3/4", 10, 2) == [0, 1, 2, 4, 8, 9, 10, 11, 12, 14, 18, 19]
    assert on("switch:0/100", 5, 3) == [0, 4, 5, 9, 10, 14]  # first and last of each context
    assert on("switch:20/10", 10, 1) == list(range(10))  # window longer than the context: dense
    s = EvalSchedule.parse("switch:20/10")
    assert (s.window, s.stride, s.is_dense) == (20, 10, False)
    assert s.n_evaluated(200, 5) == 5 * (20 + 18 + 1)  # i < 20, i = 20, 30, ..., 190, and 199
    assert s.fraction(200, 5) == pytest.approx(39 / 200)
    assert EvalSchedule.parse("every").is_dense and EvalSchedule.parse(" EVERY:1 ").to_spec() == "every"


@pytest.mark.parametrize("spec", ["every", "every:3", "every:7", "switch:2/5", "switch:0/9", "switch:15/4"])
@pytest.mark.parametrize("ipt", [1, 4, 10, 33])
def test_last_iteration_of_every_context_is_evaluated(spec, ipt):
    s = EvalSchedule.parse(spec)
    mask = s.mask(ipt, 3).reshape(3, ipt)
    assert mask[:, -1].all() and mask[:, 0].all()
    assert EvalSchedule.parse(s.to_spec()) == s


@pytest.mark.parametrize("spec", ["", "evry", "every:0", "every:-2", "every:x", "switch:3", "switch:-1/2",
                                  "switch:2/0", "switch:a/b", "every:2:3", 5, None])
def test_bad_schedules_are_refused_in_one_line(spec):
    with pytest.raises(ConfigError) as err:
        EvalSchedule.parse(spec)
    msg = str(err.value)
    assert msg.startswith("eval_schedule: ") and "every:K" in msg and "switch:W/K" in msg and "\n" not in msg


@pytest.mark.parametrize("field, value, message", [
    ("eval_schedule", "switch:4", "eval_schedule: 'switch:4' is not a schedule"),
    ("eval_subset", 0, "eval_subset: 0 must be a positive integer"),
    ("eval_precision", "fp16", "eval_precision: unknown value 'fp16'"),
])
def test_run_config_refuses_bad_evaluation_options(field, value, message):
    with pytest.raises(ConfigError, match=message) as err:
        RunConfig(optimizers=["sgd"], seeds=[1], iterations=2, **{field: value}).resolved()
    assert "\n" not in str(err.value)


def test_results_are_nan_where_not_evaluated_and_never_forward_filled(stream):
    dense = _run(stream, iterations=5)
    sparse = _run(stream, iterations=5, eval_schedule="switch:1/3")
    mask = EvalSchedule.parse("switch:1/3").mask(5, 5)  # i = 0, 3, 4 of each context
    assert mask.nonzero()[0].tolist()[:6] == [0, 3, 4, 5, 8, 9]
    assert np.array_equal(sparse["evaluated"].values, mask) and bool(dense["evaluated"].all())
    assert sparse.attrs["eval_schedule"] == "switch:1/3" and sparse.attrs["eval_fraction"] == pytest.approx(0.6)
    assert dense.attrs["eval_schedule"] == "every" and dense.attrs["eval_subset"] == 0
    a, d = sparse["accuracy"].values, dense["accuracy"].values
    assert np.all(np.isnan(a[:, :, ~mask, :]))  # not evaluated: NaN, not the previous value
    # evaluated iterations hold exactly the dense run's numbers (training is the same)
    assert np.array_equal(a[:, :, mask, :], d[:, :, mask, :], equal_nan=True)
    assert np.array_equal(sparse["loss"].values[:, :, mask], dense["loss"].values[:, :, mask], equal_nan=True)
    for var in ("gain", "train_loss", "entropy"):
        assert np.array_equal(sparse[var].values, dense[var].values), var
    check_results(sparse)  # a valid results file


# --- metrics on sparse curves ------------------------------------------------------------

def test_stability_metrics_on_a_sparse_curve_by_hand():
    n = np.nan
    # 3 blocks of 4; evaluated i = 0 and 3 of each block (every:3)
    curve = np.array([0.2, n, n, 0.9, 0.5, n, n, 0.8, 0.6, n, n, 0.7])
    m = stability_metrics(curve, 4, "code")
    np.testing.assert_allclose(m["final"], [0.9, 0.8, 0.7])
    np.testing.assert_allclose(m["min"], [0.2, 0.5, 0.6])
    assert m["n_evaluated"].tolist() == [2, 2, 2] and m["sparse"] is True
    assert m["avg_min_acc"] == pytest.approx((0.2 + 0.5) / 2)
    np.testing.assert_allclose(m["sg"], [(0.9 - 0.5) / 0.9, (0.8 - 0.6) / 0.8])
    assert m["avg_sg"] == pytest.approx(((0.9 - 0.5) / 0.9 + (0.8 - 0.6) / 0.8) / 2)
    assert m["avg_acc"] == pytest.approx(0.8)
    assert m["wc_acc"] == pytest.approx(0.7 / 3 + 2 / 3 * 0.35)
    assert stability_metrics(curve, 4, "after-first")["avg_min_acc"] == pytest.approx(0.55)
    # the dense curve gives the same numbers as before: no NaN, not sparse
    dense = stability_metrics([0.5, 1.0, 0.6, 0.9], 2)
    assert float(dense["avg_sg"]) == 0.4 and dense["sparse"] is False


def test_final_accuracy_needs_the_last_iteration_and_nan_at_an_evaluated_point_is_not_skipped():
    curve = np.array([0.2, 0.6, 0.9, np.nan, 0.5, 0.8, 0.7, 0.9])
    m = stability_metrics(curve, 4)  # block 1's last iteration not evaluated
    assert np.isnan(m["final"][0]) and m["final"][1] == 0.9
    assert np.isnan(m["avg_acc"]) and np.isnan(m["sg"][0]) and m["min"][0] == 0.2
    # with the schedule given, a NaN where it evaluated (a diverged run) poisons its block
    evaluated = np.ones(8, bool)
    m = stability_metrics(curve, 4, evaluated=evaluated)
    assert np.isnan(m["min"][0]) and np.isnan(m["avg_min_acc"])
    with pytest.raises(ValueError, match="length 8"):
        stability_metrics(curve, 4, evaluated=np.ones(7, bool))


def test_propagated_metrics_take_the_arg_min_over_evaluated_iterations():
    n = np.nan
    mean = np.array([0.3, n, 0.9, 0.6, n, 0.8])  # blocks of 3, evaluated i = 0 and 2
    sd = np.array([0.01, 0.5, 0.02, 0.03, 0.5, 0.04])
    vals, errs = propagated_metrics(mean, sd, 3, "code")
    np.testing.assert_allclose(vals["min"], [0.3, 0.6])
    np.testing.assert_allclose(errs["min"], [0.01, 0.03])  # sd at the evaluated arg-min, never the 0.5
    np.testing.assert_allclose(errs["final"], [0.02, 0.04])
    assert errs["avg_min_acc"] == pytest.approx(0.01)


def test_sparse_runs_are_not_taken_for_diverged_ones(stream):
    ds = _run(stream, iterations=4, eval_schedule="every:3")
    for method in ("ngm", "sgd"):
        seeds, curves, n = finite_curves(ds, method)
        assert seeds == [1, 2] and n == 2 and np.isnan(curves).sum() == 2 * 5 * 2  # i = 1, 2 of 5 contexts
    # the same without the 'evaluated' variable (inferred from the curves)
    assert finite_curves(ds.drop_vars("evaluated"), "ngm")[0] == [1, 2]
    # a diverged run is still found: diverged_at is the truth ...
    bad = ds.copy(deep=True)
    bad["diverged_at"].loc[{"method": "ngm", "seed": 2}] = 6
    bad["accuracy"].loc[{"method": "ngm", "seed": 2}] = bad["accuracy"].sel({"method": "ngm", "seed": 2}).where(
        bad["iteration"] < 6)
    assert finite_curves(bad, "ngm")[0] == [1]
    # ... and, without it, the NaN at an evaluated iteration (the last of a context)
    assert finite_curves(bad.drop_vars(["diverged_at", "evaluated"]), "ngm")[0] == [1]
    table = metrics_table(ds, percent=False)
    assert table.loc["ngm", "n_seeds"] == 2 and table.loc["ngm", "n_diverged"] == 0
    assert np.isfinite(table.loc["sgd", "avg_sg"]) and np.isfinite(table.loc["sgd", "wc_acc"])
    assert table.attrs["eval_schedule"] == "every:3" and table.attrs["sparse"] is True
    assert table.attrs["n_evaluated"] == 10 and table.attrs["n_iterations"] == 20
    per = per_seed_metrics(ds, "sgd")
    assert len(per) == 2 and per.attrs["eval_schedule"] == "every:3"
    m = stability_metrics(ds["accuracy"].sel({"method": "sgd", "seed": 1, "eval_task": 1}).values, 4)
    assert per.loc[1, "avg_sg"] == pytest.approx(float(m["avg_sg"])) and m["n_evaluated"].tolist() == [2] * 5
    assert "Evaluation: schedule every:3 (10 of 20 iterations" in format_table(metrics_table(ds))
    assert "Evaluation:" not in format_table(metrics_table(_run(stream, iterations=2)))


# --- fixed stratified subsets ------------------------------------------------------------

def test_class_quota_shares_places_as_equally_as_the_classes_allow():
    assert class_quota([6, 6], 5).tolist() == [3, 2]
    assert class_quota([100, 100, 3], 50).tolist() == [24, 23, 3]
    assert class_quota([2, 9, 9], 10).tolist() == [2, 4, 4]
    assert class_quota([4, 4], 100).tolist() == [4, 4]  # fewer images than N: all of them
    assert class_quota([3, 7], 0).tolist() == [0, 0]


def test_subsets_are_stratified_within_their_task_and_reproducible_from_the_seed(stream):
    idx = draw_subsets(stream, 5, [1, 2, 1])  # 12 test images per task, 6 per class
    assert idx.shape == (3, 5, 5) and idx.dtype == np.int64
    y, task = stream.test_y.numpy(), stream.test_task.numpy()
    for r in range(3):
        for k in range(5):
            chosen = idx[r, k]
            assert np.all(task[chosen] == k + 1) and len(set(chosen)) == 5 and np.all(np.diff(chosen) > 0)
            assert sorted(np.bincount(y[chosen] - 2 * k, minlength=2).tolist()) == [2, 3]
    assert np.array_equal(idx[0], idx[2])  # same seed, same subset
    assert not np.array_equal(idx[0], idx[1])
    assert np.array_equal(draw_subsets(stream, 5, [2]), idx[1:2])  # once per run, whatever the batch
    every = draw_subsets(stream, 50, [1])  # more places than images: the whole task, padded with -1
    assert (every >= 0).sum(axis=2).tolist() == [[12] * 5] and np.all(every[0, :, 12:] == -1)
    with pytest.raises(ConfigError, match="eval_subset: 0 must be a positive integer"):
        draw_subsets(stream, 0, [1])


def test_subset_indices_are_stored_and_training_is_unchanged(stream):
    full = _run(stream, iterations=3)
    sub = _run(stream, iterations=3, eval_subset=5)
    for var in ("gain", "train_loss", "entropy", "drive"):
        assert np.array_equal(full[var].values, sub[var].values), var
    idx = sub["eval_index"]
    assert idx.dims == ("method", "seed", "eval_task", "subset_item") and idx.shape == (2, 2, 5, 5)
    assert np.array_equal(idx.sel({"method": "ngm"}).values, draw_subsets(stream, 5, [1, 2]))
    assert np.array_equal(idx.sel({"method": "ngm"}).values, idx.sel({"method": "sgd"}).values)  # paired
    assert json.loads(sub.attrs["eval_subset_sizes"]) == [5] * 5 and json.loads(sub.attrs["eval_test_sizes"]) == [12] * 5
    assert sub.attrs["eval_subset"] == 5 and "eval_index" not in full
    acc = sub["accuracy"].values
    assert np.allclose((acc[np.isfinite(acc)] * 5) % 1, 0, atol=1e-5)  # k of 5 images
    # a subset holding every image evaluates exactly what the whole test set does
    whole = _run(stream, iterations=3, eval_subset=12)
    assert np.array_equal(whole["accuracy"].values, full["accuracy"].values, equal_nan=True)
    np.testing.assert_allclose(whole["loss"].values, full["loss"].values, rtol=1e-6)
    # the noise floor of those subsets: sqrt(p (1-p) / N (n-N) / (n-1)), N = 5, n = 12
    np.testing.assert_allclose(subset_noise_floor(sub), np.sqrt(0.25 / 5 * 7 / 11))
    with pytest.raises(ResultsError, match="no fixed evaluation subsets"):
        subset_noise_floor(full)


def test_binomial_noise_floor_by_hand():
    assert binomial_noise_floor(0.5, 500, 1000) == pytest.approx(np.sqrt(0.25 / 500 * 500 / 999))
    assert binomial_noise_floor(0.9, 100, 100) == 0.0
    np.testing.assert_allclose(binomial_noise_floor([0.0, 0.2], 10, 1001), [0.0, np.sqrt(0.16 / 10 * 991 / 1000)])
    with pytest.raises(ValueError, match="n_subset <= n_total"):
        binomial_noise_floor(0.5, 20, 10)


# --- exact mode and bf16 ------------------------------------------------------------------

def test_exact_mode_is_unchanged_to_the_bit():
    ref = np.load(DATA / "eval_reference_split-mnist.npz")
    if str(ref["torch_version"]) != torch.__version__:
        pytest.skip(f"reference written with torch {ref['torch_version']}, this is {torch.__version__}")
    stream = eval_reference.build_stream_for_reference()
    for kwargs in ({}, {"eval_mask": np.ones(15, bool)}, {"eval_precision": "fp32", "eval_index": None}):
        rec = eval_reference.reference_run(stream, **kwargs)
        assert np.array_equal(rec.accuracy, ref["accuracy"], equal_nan=True), kwargs
        assert np.array_equal(rec.loss, ref["loss"], equal_nan=True), kwargs
        assert np.array_equal(rec.gain, ref["gain"]), kwargs


def test_bf16_evaluation_runs_the_matmuls_in_bf16_and_stays_close_to_fp32(stream):
    from lcne.experiments.protocol import evaluate
    from lcne.models import GainMLP

    model = GainMLP(n_runs=2)
    model.reset_parameters([torch.Generator().manual_seed(s) for s in (1, 2)])
    seen = []  # dtype of the layers' product W x, recomputed where the layer ran (inside the autocast)
    for layer in model.layers:
        layer.register_forward_hook(
            lambda mod, inp, out: seen.append(torch.matmul(inp[0], mod.weight.transpose(1, 2)).dtype))
    gain = torch.tensor([1.0, 2.0])
    a32, l32 = evaluate(model, stream, 5, gain)
    a16, l16 = evaluate(model, stream, 5, gain, precision="bf16")
    assert seen == [torch.float32] * 3 + [torch.bfloat16] * 3 and a16.dtype == torch.float64
    assert torch.all(torch.abs(a16 - a32) <= 2 / 12)  # 12 test images per task
    ref = eval_reference.reference_run(eval_reference.build_stream_for_reference())
    rec = eval_reference.reference_run(eval_reference.build_stream_for_reference(), eval_precision="bf16")
    assert np.array_equal(rec.gain, ref.gain) and np.array_equal(rec.train_loss, ref.train_loss)  # training fp32
    # measured on this run: accuracy 0.010 (2 of 200 images) and loss 0.050 nats at most
    assert np.nanmax(np.abs(rec.accuracy - ref.accuracy)) <= 0.025
    assert np.nanmax(np.abs(rec.loss - ref.loss)) <= 0.1
    with pytest.raises(ValueError, match="eval_precision must be one of"):
        evaluate(model, stream, 1, gain, precision="fp16")


@pytest.mark.parametrize("flags, ok", [({"amx_bf16", "avx512_bf16"}, True), ({"avx512_bf16"}, False), (set(), False),
                                       (None, False)])
def test_bf16_is_refused_on_a_cpu_without_a_fast_path(monkeypatch, flags, ok):
    monkeypatch.setattr(es, "_cpu_flags", lambda: flags)
    cfg = RunConfig(optimizers=["sgd"], seeds=[1], iterations=2, eval_precision="bf16")
    if ok:
        assert cfg.resolved().eval_precision == "bf16"
        return
    with pytest.raises(ConfigError, match="eval_precision: bf16 refused on cpu") as err:
        cfg.resolved()
    assert "\n" not in str(err.value) and "fp32" in str(err.value)


# --- wiring: command line, sweeps, exactness tool -----------------------------------------

def test_command_line_options_reach_the_run_config():
    from lcne.experiments.cli import build_parser, config_from_args

    parse = lambda *a: config_from_args(build_parser().parse_args(["run", "split-mnist", *a]))  # noqa: E731
    cfg = parse("--eval-every", "5", "--eval-subset", "300")
    assert (cfg.eval_schedule, cfg.eval_subset, cfg.eval_precision) == ("every:5", 300, "fp32")
    assert parse("--eval-schedule", "switch:20/10").eval_schedule == "switch:20/10"
    assert parse().eval_schedule == "every" and parse().eval_subset is None
    with pytest.raises(ConfigError, match="both given"):
        parse("--eval-every", "5", "--eval-schedule", "every")


def test_sweep_specs_take_the_evaluation_options():
    from lcne.experiments import sweep as sw

    raw = {"benchmarks": ["split-mnist"], "optimizers": ["sgd"], "seeds": [1],
           "base": {"iterations": 4, "eval_subset": 50, "eval_precision": "fp32"},
           "grid": {"eval_schedule": ["every", "switch:1/2"]}}
    batches = sw.expand(sw.spec_from_dict(raw))
    assert sorted(b.eval_schedule for b in batches) == ["every", "switch:1/2"]
    assert {b.eval_subset for b in batches} == {50} and len({sw.batch_id(b) for b in batches}) == 2
    with pytest.raises(ConfigError, match="eval_schedule: 'sometimes' is not a schedule"):
        sw.expand(sw.spec_from_dict({**raw, "grid": {"eval_schedule": ["sometimes"]}}))


def _hand_dataset(curves, ipt):
    """A dense results Dataset of one method with the given task-1 curves (seeds x T)."""
    curves = np.asarray(curves, dtype=np.float32)
    n_seeds, T = curves.shape
    acc = np.full((1, n_seeds, T, 2), np.nan, np.float32)
    acc[0, :, :, 0] = curves
    return xr.Dataset(
        {"accuracy": (("method", "seed", "iteration", "eval_task"), acc),
         "gain": (("method", "seed", "iteration"), np.ones((1, n_seeds, T))),
         "diverged_at": (("method", "seed"), np.full((1, n_seeds), -1))},
        coords={"method": ["sgd"], "seed": list(range(n_seeds)), "iteration": np.arange(T), "eval_task": [1, 2]},
        attrs={"iterations_per_task": ipt, "n_tasks": T // ipt, "lcne_schema_version": 2},
    )


def test_schedule_exactness_by_hand():
    # 2 blocks of 4; every:3 evaluates i = 0 and 3 and misses block 2's dip at i = 1
    ds = _hand_dataset([[0.25, 0.5, 0.75, 1.0, 0.75, 0.5, 0.75, 1.0],
                        [0.5, 0.75, 0.75, 1.0, 0.5, 0.75, 0.75, 1.0]], 4)
    rep = schedule_exactness(ds, EvalSchedule.parse("every:3"))
    runs = rep.runs
    assert runs.loc[("sgd", 0), "M1_hit"] and not runs.loc[("sgd", 0), "M2_hit"] and runs.loc[("sgd", 1), "M2_hit"]
    assert runs[["F1_hit", "F2_hit"]].to_numpy().all()
    # seed 0: exact M = (0.25, 0.5), approx M = (0.25, 0.75); SG_2 0.5 -> 0.25
    assert runs.loc[("sgd", 0), "avg_sg_error"] == pytest.approx(-0.25)
    assert runs.loc[("sgd", 0), "avg_min_acc_after_first_error"] == pytest.approx(0.25)
    assert runs.loc[("sgd", 0), "avg_min_acc_code_error"] == 0.0  # M_1 is hit
    assert runs.loc[("sgd", 0), "wc_acc_after_first_error"] == pytest.approx(0.125)
    assert rep.summary.loc["avg_sg", "max_abs_error"] == pytest.approx(0.25)
    assert rep.summary.loc["avg_sg", "mean_abs_error"] == pytest.approx(0.125)
    assert rep.summary.loc["avg_acc", "max_abs_error"] == 0.0
    assert rep.summary.loc["M_k hit", "mean_abs_error"] == pytest.approx(0.75)
    md = rep.to_markdown()
    assert "| avg_sg | 0.25 fraction | 0.125 fraction | 2 |" in md and "every:3" in md
    # the masked Dataset is what such a run would have stored
    masked = mask_results(ds, EvalSchedule.parse("every:3"))
    assert np.isnan(masked["accuracy"].values[0, 0, 1, 0]) and masked.attrs["eval_schedule"] == "every:3"
    with pytest.raises(ResultsError, match="evaluated after every iteration"):
        schedule_exactness(masked, EvalSchedule.parse("every:2"))
    same = compare_results(ds, ds)
    assert same.summary["max_abs_error"].max() == 0.0


def test_exactness_script_prints_a_markdown_table(stream, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("eval_exactness_script",
                                                  DATA.parent.parent / "benchmarks" / "eval_exactness.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    path = tmp_path / "r.nc"
    _run(stream, iterations=4).to_netcdf(path, engine="h5netcdf")
    assert script.main([str(path), "--schedule", "every:2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Exactness: schedule every:2 (") and "| avg_min_acc_after_first |" in out
    assert script.main([str(path), "--schedule", "often"]) == 2
    assert "eval_schedule: 'often' is not a schedule" in capsys.readouterr().err
