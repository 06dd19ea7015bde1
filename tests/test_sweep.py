import json

import numpy as np
import pytest
import xarray as xr

from lcne.analysis.results_io import open_sweep
from lcne.experiments import sweep as sw
from lcne.experiments.errors import ConfigError

SPEC = {
    "name": "t",
    "benchmarks": ["split-mnist"],
    "optimizers": ["ngm", "sgd"],
    "seeds": [1, 2],
    "base": {"iterations": 2, "batch_size": 16},
    "grid": {"lr": [0.01, 0.02]},
    "per_optimizer": {"ngm": {"eta": [0.2, 0.4]}},
}


def test_expand_groups_optimizers_sharing_a_setting():
    spec = sw.spec_from_dict(SPEC)
    batches = sw.expand(spec)
    # sgd: 2 lrs; ngm: 2 lrs x 2 etas -> ngm batches never share settings with sgd (eta differs)
    assert sorted(len(b.optimizers) for b in batches) == [1, 1, 1, 1, 1, 1]
    assert {b.lr for b in batches} == {0.01, 0.02}
    ids = {sw.batch_id(b) for b in batches}
    assert len(ids) == 6


def test_equal_budget_gives_every_optimizer_the_same_count():
    spec = sw.spec_from_dict({**SPEC, "equal_budget": 2, "per_optimizer": {"ngm": {"eta": [0.1, 0.2, 0.4]}}})
    assert len(sw.optimizer_configs(spec, "ngm")) == 2
    assert len(sw.optimizer_configs(spec, "sgd")) == 2
    with pytest.raises(ConfigError, match="equal_budget 3: optimizer 'sgd' has only 2"):
        sw.optimizer_configs(sw.spec_from_dict({**SPEC, "equal_budget": 3}), "sgd")


@pytest.mark.parametrize(
    "patch, message",
    [
        ({"optimizers": ["ngm", "sgdd"]}, "unknown 'sgdd' (did you mean 'sgd'?)"),
        ({"grid": {"etaa": [1]}}, "grid.etaa: not a run option (did you mean 'eta'?)"),
        ({"benchmark": ["split-mnist"]}, "unknown key 'benchmark' (did you mean 'benchmarks'?)"),
        ({"selection": {"metric": "avg-sg"}}, "selection.metric 'avg-sg' (did you mean 'avg_sg'?)"),
    ],
)
def test_spec_errors_name_the_key(patch, message):
    with pytest.raises(ConfigError) as err:
        sw.spec_from_dict({**SPEC, **patch}, where="spec.yaml")
    assert message in str(err.value) and str(err.value).startswith("spec.yaml")


def test_killed_sweep_resumes_to_the_same_result(tmp_path, monkeypatch):
    spec_a = sw.spec_from_dict({**SPEC, "out": str(tmp_path / "a"), "per_optimizer": {}})
    spec_b = sw.spec_from_dict({**SPEC, "out": str(tmp_path / "b"), "per_optimizer": {}})
    sw.run_sweep(spec_a, use_dask=False, progress=False)

    real = sw.run_batch
    calls = {"n": 0}

    def dies_after_one(config, path):
        if calls["n"] == 1:
            raise KeyboardInterrupt  # the user presses Ctrl-C during the second batch
        calls["n"] += 1
        return real(config, path)

    monkeypatch.setattr(sw, "run_batch", dies_after_one)
    with pytest.raises(KeyboardInterrupt):
        sw.run_sweep(spec_b, use_dask=False, progress=False)
    done = list((tmp_path / "b" / "batches").glob("*"))
    assert len(done) == 1 and done[0].suffix == ".nc"  # no partial or temporary file left
    monkeypatch.setattr(sw, "run_batch", real)
    sw.run_sweep(spec_b, use_dask=False, progress=False)

    a, b = open_sweep(tmp_path / "a"), open_sweep(tmp_path / "b")
    a = a.sortby("config").load()
    b = b.sortby("config").load()
    assert list(a["config"].values) == list(b["config"].values)
    xr.testing.assert_equal(a["accuracy"], b["accuracy"])
    assert a.sizes["config"] == 2 and set(a["cfg_lr"].values) == {0.01, 0.02}


def test_selection_uses_validation_and_same_rule(tmp_path):
    spec = sw.spec_from_dict({**SPEC, "out": str(tmp_path), "equal_budget": 2, "per_optimizer": {},
                              "selection": {"metric": "avg_acc", "seeds": [1]}})
    summary = sw.run_sweep(spec, use_dask=False, progress=False)
    chosen = json.loads((tmp_path / "selection.json").read_text())
    assert set(chosen) == {"split-mnist/ngm", "split-mnist/sgd"}
    tuning = [xr.load_dataset(p, engine="h5netcdf") for p in summary["tuning_batches"]]
    assert all(str(t["cfg_eval_split"].values[0]) == "validation" for t in tuning)
    final = [xr.load_dataset(p, engine="h5netcdf") for p in summary["batches"]]
    assert all(str(f["cfg_eval_split"].values[0]) == "test" for f in final)
    assert sum(f.sizes["method"] for f in final) == 2  # one selected setting per optimizer


def test_dask_local_cluster_runs_a_batch(tmp_path):
    pytest.importorskip("dask.distributed")
    spec = sw.spec_from_dict({**SPEC, "out": str(tmp_path), "grid": {}, "per_optimizer": {}, "seeds": [1]})
    summary = sw.run_sweep(spec, use_dask=True, workers=1, progress=False)
    ds = open_sweep(tmp_path).load()
    assert ds.sizes["config"] == 1 and set(ds["method"].values) == {"ngm", "sgd"}
    assert np.isfinite(ds["accuracy"].sel(eval_task=1)).all()
    assert len(summary["batches"]) == 1


def test_set_overrides_apply_before_validation(tmp_path):
    import yaml

    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(SPEC))
    spec = sw.load_spec(path, ["base.iterations=7", "seeds=[3, 4, 5]", "grid.lr=[0.1]", "base.eval_tasks=first"])
    assert spec.base == {"iterations": 7, "batch_size": 16, "eval_tasks": "first"}
    assert spec.seeds == [3, 4, 5] and spec.grid == {"lr": [0.1]}
    assert SPEC["base"]["iterations"] == 2  # the raw mapping is not modified in place
    with pytest.raises(ConfigError, match="base.iteratons: not a run option"):
        sw.load_spec(path, ["base.iteratons=7"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        sw.load_spec(path, ["seeds"])
    with pytest.raises(ConfigError, match="name is not a mapping"):
        sw.load_spec(path, ["name.x=1"])
