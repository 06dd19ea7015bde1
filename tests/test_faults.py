"""Fault catalogue (docs/fault-catalogue.md): each injected fault, what the user sees, nothing lost."""
import os

import numpy as np
import pytest
import xarray as xr

from lcne.experiments import protocol
from lcne.experiments.cli import main
from lcne.analysis.results_io import ResultsError, open_results
from lcne.analysis.schema import SCHEMA_VERSION

RUN = ["run", "split-mnist", "--optimizers", "sgd", "--seeds", "1", "--iterations", "1", "--quiet", "--no-figure"]


def test_ctrl_c_during_a_run_keeps_the_previous_results_intact(tmp_path, monkeypatch, capsys):
    assert main(RUN + ["--out", str(tmp_path)]) == 0
    nc = tmp_path / "split-mnist.nc"
    before = nc.read_bytes()
    real = protocol.train_joint

    def interrupted(*args, **kwargs):
        kwargs["on_iteration"] = lambda t: (_ for _ in ()).throw(KeyboardInterrupt) if t == 2 else None
        return real(*args, **kwargs)

    monkeypatch.setattr("lcne.experiments.runner.train_joint", interrupted)
    assert main(RUN + ["--out", str(tmp_path)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert nc.read_bytes() == before  # the finished file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["split-mnist.nc", "split-mnist_metrics.csv"]


def test_results_of_another_schema_version_get_a_clear_message(tmp_path):
    assert main(RUN + ["--out", str(tmp_path)]) == 0
    ds = xr.load_dataset(tmp_path / "split-mnist.nc", engine="h5netcdf")
    assert open_results(tmp_path / "split-mnist.nc").attrs["lcne_schema_version"] == SCHEMA_VERSION
    ds.attrs["lcne_schema_version"] = 99
    ds.to_netcdf(tmp_path / "old.nc", engine="h5netcdf")
    with pytest.raises(ResultsError, match=r"old.nc was written with results schema 99; this lcne reads schemas 1-2"):
        open_results(tmp_path / "old.nc")


def test_corrupt_results_file(tmp_path):
    bad = tmp_path / "bad.nc"
    bad.write_bytes(b"not a netcdf file")
    with pytest.raises(ResultsError, match="bad.nc is not a readable netCDF results file"):
        open_results(bad)
    with pytest.raises(ResultsError, match="missing.nc not found"):
        open_results(tmp_path / "missing.nc")


def test_results_carry_provenance(tmp_path):
    assert main(RUN + ["--out", str(tmp_path)]) == 0
    ds = open_results(tmp_path / "split-mnist.nc")
    for key in ("config", "config_hash", "seeds", "versions", "git_revision", "benchmark", "created"):
        assert key in ds.attrs
    assert len(ds.attrs["config_hash"]) == 16 and ds.attrs["seeds"] == "[1]"


def test_unwritable_output_directory(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(RUN + ["--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lcne: error:")


def test_every_seed_diverged_still_prints_a_table(tmp_path, capsys):
    rc = main(["run", "split-mnist", "--optimizers", "sgd", "--seeds", "1,2", "--iterations", "2", "--lr", "1e6",
               "--quiet", "--no-figure", "--out", str(tmp_path)])
    assert rc == 0
    assert "every seed diverged" in capsys.readouterr().out
    ds = xr.load_dataset(tmp_path / "split-mnist.nc", engine="h5netcdf")
    assert (ds["diverged_at"] >= 0).all()
