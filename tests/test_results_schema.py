"""The one results contract: schema version, upgrades of old files, one reader for every consumer."""
import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from lcne.analysis import schema
from lcne.analysis.metrics import metrics_table
from lcne.analysis.results_io import ResultsError, load_results, open_results, open_sweep, results_files

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
#: written by `lcne run split-mnist --iterations 3 --seeds 42,43 --optimizers ngm,sgd` on main at
#: commit 35f5f05 (schema 1, run axis 'optimizer'), with the metrics CSV that run printed
V1_FILE = DATA / "results_v1_split-mnist.nc"
V1_METRICS = DATA / "results_v1_split-mnist_metrics.csv"


def test_schema_version_is_defined_once():
    hits = []
    for folder in ("lcne", "models", "analysis", "experiments"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SCHEMA_VERSION"
                                                        for t in node.targets):
                    hits.append(str(path.relative_to(ROOT)))
    assert hits == ["analysis/schema.py"]
    assert schema.SCHEMA_VERSION == max(schema.HISTORY)


def test_version_1_file_opens_upgraded_with_the_same_metric_table():
    raw = xr.load_dataset(V1_FILE, engine="h5netcdf")
    assert "optimizer" in raw.dims and int(raw.attrs["lcne_schema_version"]) == 1
    ds = open_results(V1_FILE)
    assert "optimizer" not in ds.dims and list(ds["method"].values) == ["ngm", "sgd"]
    assert ds.attrs["lcne_schema_version"] == schema.SCHEMA_VERSION
    assert ds.attrs["lcne_schema_upgraded_from"] == 1
    for name in raw.data_vars:  # renaming changes no number
        assert np.array_equal(raw[name].values, ds[name].values, equal_nan=True), name
    old = pd.read_csv(V1_METRICS, index_col="optimizer")
    new = metrics_table(ds, eval_task=1, convention="code")
    assert new.index.name == "method" and list(new.index) == list(old.index)
    # the CSV holds 6 significant digits (float_format="%.6g")
    np.testing.assert_allclose(new[old.columns].to_numpy(float), old.to_numpy(float), rtol=5e-6, atol=1e-12)


def test_in_memory_version_1_dataset_is_upgraded_without_touching_the_caller():
    raw = xr.load_dataset(V1_FILE, engine="h5netcdf")
    (ds,) = load_results([raw])
    assert "method" in ds.dims and "optimizer" in raw.dims
    assert int(raw.attrs["lcne_schema_version"]) == 1


@pytest.mark.parametrize("version, message", [(99, "schemas 1-2 \\(a newer lcne wrote it"),
                                              ("two", "is not an integer")])
def test_unknown_versions_are_refused(tmp_path, version, message):
    ds = xr.load_dataset(V1_FILE, engine="h5netcdf")
    ds.attrs["lcne_schema_version"] = version
    ds.to_netcdf(tmp_path / "x.nc", engine="h5netcdf")
    with pytest.raises(ResultsError, match=message):
        open_results(tmp_path / "x.nc")


def test_a_netcdf_without_a_version_is_not_a_results_file(tmp_path):
    ds = open_results(V1_FILE)
    del ds.attrs["lcne_schema_version"]
    ds.to_netcdf(tmp_path / "plain.nc", engine="h5netcdf")
    with pytest.raises(ResultsError, match="plain.nc has no lcne_schema_version attribute"):
        open_results(tmp_path / "plain.nc")


def test_missing_dimension_names_the_variable(tmp_path):
    ds = open_results(V1_FILE)
    bad = ds.assign(gain=ds["gain"].isel(seed=0, drop=True))
    with pytest.raises(ResultsError, match="variable 'gain' lacks dimension 'seed'"):
        load_results([bad])


def test_accuracy_in_percent_is_refused():
    ds = open_results(V1_FILE)
    with pytest.raises(ResultsError, match=r"'accuracy' has values outside \[0, 1\].*not percent"):
        load_results([ds.assign(accuracy=ds["accuracy"] * 100)])


def test_hidden_temporary_files_are_not_results(tmp_path):
    (tmp_path / "batches").mkdir()
    good = tmp_path / "batches" / "split-mnist-a.nc"
    good.write_bytes(V1_FILE.read_bytes())
    (tmp_path / "batches" / ".split-mnist-a.nc.tmp123.nc").write_bytes(b"half a file")  # a killed write
    assert results_files(tmp_path / "batches") == [good]
    assert len(load_results([tmp_path / "batches"])) == 1
    sweep = open_sweep(tmp_path)
    assert sweep.sizes["config"] == 1 and "method" in sweep.dims
    with pytest.raises(ResultsError, match="no finished batches"):
        open_sweep(tmp_path / "nothing")


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            yield node


def test_no_code_selects_the_method_axis_with_the_method_keyword():
    """``Dataset.sel(method=...)`` is xarray's own keyword (nearest/pad/...), not the axis:
    it would silently select nothing. The axis is selected with ``sel({"method": name})``."""
    inexact = {"nearest", "pad", "ffill", "backfill", "bfill"}
    bad = []
    for folder in ("lcne", "models", "analysis", "experiments", "tests", "docs", "benchmarks"):
        for path in (ROOT / folder).rglob("*.py"):
            for call in _calls(ast.parse(path.read_text())):
                if call.func.attr not in ("sel", "reindex", "interp"):
                    continue
                for kw in call.keywords:
                    if kw.arg == "method" and not (isinstance(kw.value, ast.Constant) and kw.value.value in inexact):
                        bad.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not bad, "use .sel({'method': ...}) for the method axis: " + ", ".join(bad)


@pytest.mark.parametrize("command", ["figures", "compare-bio", "report"])
def test_every_command_refuses_foreign_and_unknown_version_files(tmp_path, capsys, command):
    """Issue 19 item 8: each analysis command reads through the one reader."""
    from lcne.experiments.cli import main

    foreign = tmp_path / "foreign.nc"
    xr.Dataset({"x": ("t", np.arange(3.0))}, attrs={"lcne_schema_version": 1}).to_netcdf(foreign, engine="h5netcdf")
    newer = tmp_path / "newer.nc"
    ds = xr.load_dataset(V1_FILE, engine="h5netcdf")
    ds.attrs["lcne_schema_version"] = 7
    ds.to_netcdf(newer, engine="h5netcdf")
    out = ["--out", str(tmp_path / "out")] if command != "report" else ["--out", str(tmp_path / "r.md")]
    for path, message in ((foreign, "missing data variable 'accuracy'"), (newer, "results schema 7")):
        assert main([command, str(path), *out]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
