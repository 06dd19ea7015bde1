"""The pre-registered schedule rule: the sparsest candidate within tolerance on full-density runs."""
import json

import numpy as np
import pytest

from lcne.analysis.results_io import ResultsError
from lcne.analysis.schedule_rule import choose_schedule, schedule_errors
from lcne.analysis.synthetic import synthetic_results
from lcne.experiments import sweep as sw
from lcne.experiments.errors import ConfigError
from lcne.experiments.eval_schedule import parse_schedule


def _c(*specs):
    return [parse_schedule(x) for x in specs]


def _dataset(curve, ipt):
    ds = synthetic_results(iterations_per_task=ipt, n_tasks=len(curve) // ipt, methods=("sgd",), seeds=(1,))
    acc = ds["accuracy"].values.copy()
    acc[0, 0, :, 0] = curve
    ds["accuracy"].values = acc
    return ds


def test_a_dip_between_evaluated_iterations_fails_the_sparse_candidate():
    ipt = 20
    curve = np.full(3 * ipt, 0.9)
    curve[ipt + 7] = 0.5  # a dip 7 iterations after the first switch
    ds = _dataset(curve, ipt)
    # switch:5/5 evaluates i = 0..4, 5, 10, 15, 19: the dip at i = 7 is missed
    errors = schedule_errors([ds], parse_schedule("switch:5/5"))
    assert errors["avg_sg"] == pytest.approx(0.4 / 0.9 / 2)  # SG_2 = (0.9 - 0.5) / 0.9 lost, mean of 2
    out = choose_schedule([ds], _c("switch:5/5", "switch:10/5", "every"), {"avg_sg": 0.005, "accuracy": 0.005})
    assert out["chosen"] == "switch:10/5"  # evaluates i < 10: catches the dip, every metric exact
    assert [c["passed"] for c in out["candidates"]] == [False, True]
    assert out["candidates"][1]["avg_sg"] == 0.0 and out["candidates"][1]["n_runs"] == 1
    # with no sparse candidate within tolerance: every iteration
    assert choose_schedule([ds], _c("switch:5/5"), {"avg_sg": 0.0, "accuracy": 0.0})["chosen"] == "every"
    # a generous tolerance takes the sparsest
    assert choose_schedule([ds], _c("switch:5/5", "every"), {"avg_sg": 1.0, "accuracy": 1.0})["chosen"] == "switch:5/5"


def test_no_results_is_refused_in_one_line():
    with pytest.raises(ResultsError, match="no full-density results"):
        choose_schedule([], _c("every"))


@pytest.mark.parametrize("value, message", [
    ({"candidates": []}, "test_schedule.candidates must be a non-empty list"),
    ({"candidates": ["sometimes"]}, "test_schedule.candidates"),
    ({"candidates": ["every"], "tolerance": {"avg_sg": -1}}, "test_schedule.tolerance"),
    ({"candidates": ["every"], "extra": 1}, "unknown key 'extra'"),
])
def test_spec_errors(value, message):
    raw = {"name": "s", "optimizers": ["sgd"], "seeds": [1], "grid": {"lr": [0.01]},
           "selection": {"seeds": [1]}, "test_schedule": value}
    with pytest.raises(ConfigError, match=message):
        sw.spec_from_dict(raw, where="spec.yaml")


def test_spec_needs_a_dense_tuning_phase():
    raw = {"name": "s", "optimizers": ["sgd"], "seeds": [1], "grid": {"lr": [0.01]},
           "test_schedule": {"candidates": ["every"]}}
    with pytest.raises(ConfigError, match="needs a selection"):
        sw.spec_from_dict(raw)
    raw["selection"] = {"seeds": [1]}
    raw["base"] = {"eval_schedule": "every:2"}
    with pytest.raises(ConfigError, match="must be evaluated after every iteration"):
        sw.spec_from_dict(raw)


def test_sweep_applies_the_rule_between_the_phases(tmp_path):
    raw = {"name": "s", "out": str(tmp_path), "benchmarks": ["split-mnist"], "optimizers": ["sgd"], "seeds": [3],
           "base": {"iterations": 6, "batch_size": 16, "eval_tasks": "first"}, "grid": {"lr": [0.01]},
           "selection": {"seeds": [1]},
           "test_schedule": {"candidates": ["switch:2/3", "every"], "tolerance": {"avg_sg": 1.0, "accuracy": 1.0}}}
    spec = sw.spec_from_dict(raw)
    summary = sw.run_sweep(spec, use_dask=False, progress=False, phase="tuning")
    assert summary["batches"] == [] and summary["schedule"] == {"split-mnist": "switch:2/3"}
    recorded = json.loads((tmp_path / "schedule.json").read_text())
    assert recorded["split-mnist"]["chosen"] == "switch:2/3"
    assert not list(tmp_path.glob("batches/*.nc"))  # --phase tuning stops before the test phase
    summary = sw.run_sweep(spec, use_dask=False, progress=False)
    from lcne.analysis.results_io import open_results

    ds = open_results(summary["batches"][0])
    assert ds.attrs["eval_schedule"] == "switch:2/3"
    ev = ds["evaluated"].isel(config=0).values.astype(bool)  # (iteration,)
    assert ev.sum() < ev.size and ev[5] and ev[11]  # last iteration of each context always evaluated
