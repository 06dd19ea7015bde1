"""Hardening, second pass (issue 19): diverged runs in the analysis, config and data edge cases,
output checked before work, one temp-file rule, provenance, the spiking build directory.

Each test is listed in docs/fault-catalogue.md.
"""
import numpy as np
import pytest
import xarray as xr

from lcne.experiments.cli import main


# --------------------------------------------------------------------------- diverged runs

def _diverge(ds, method, seeds, at=30):
    """Mark runs of ``method`` diverged at iteration ``at`` the way the protocol does."""
    ds = ds.copy(deep=True)
    for v in ("accuracy", "loss", "gain", "entropy", "drive", "train_loss"):
        if v in ds:
            for s in seeds:
                sel = {"method": method, "seed": s}
                ds[v].loc[sel] = ds[v].loc[sel].where(ds["iteration"] < at)
    if "diverged_at" not in ds:
        ds["diverged_at"] = (("method", "seed"), np.full((ds.sizes["method"], ds.sizes["seed"]), -1, np.int64))
    for s in seeds:
        ds["diverged_at"].loc[{"method": method, "seed": s}] = at
    return ds


@pytest.fixture(scope="module")
def diverged_files(tmp_path_factory):
    from lcne.analysis.synthetic import synthetic_results

    d = tmp_path_factory.mktemp("diverged")
    ds = synthetic_results(iterations_per_task=12, seeds=(0, 1, 2, 3, 4), methods=("ngm", "sgd", "msgd"),
                           t_min=3, t_back=4, t_peak=2, tau=3.0)
    part = _diverge(_diverge(ds, "sgd", [0, 2, 4]), "msgd", [0, 1, 2, 3, 4])
    part.to_netcdf(d / "part.nc", engine="h5netcdf")
    _diverge(part, "ngm", [0, 1, 2, 3, 4]).to_netcdf(d / "all_ngm.nc", engine="h5netcdf")
    return d


def test_tables_say_how_many_seeds_diverged(diverged_files):
    from lcne.analysis.metrics import format_table, metrics_table

    ds = xr.load_dataset(diverged_files / "part.nc", engine="h5netcdf")
    t = metrics_table(ds)
    assert list(t.index) == ["ngm", "sgd", "msgd"]  # no method dropped
    assert t.loc["sgd", "n_seeds"] == 2 and t.loc["sgd", "n_diverged"] == 3 and t.loc["sgd", "n_runs"] == 5
    assert np.isnan(t.loc["msgd", "avg_sg"]) and t.loc["msgd", "n_diverged"] == 5
    text = format_table(t)
    assert "sgd: 3 of 5 seeds diverged" in text and "msgd: 5 of 5 seeds diverged" in text
    assert "ngm:" not in text


def test_report_never_averages_survivors_silently(diverged_files, tmp_path, capsys):
    out = tmp_path / "r.md"
    assert main(["report", str(diverged_files / "part.nc"), "--out", str(out)]) == 0
    text = out.read_text()
    assert "sgd: 3 of 5 seeds diverged" in text and "msgd: 5 of 5 seeds diverged" in text
    assert "| msgd |" in text and "all 5 seeds diverged" in text  # kept, said
    assert "(2 of 5 seeds; 3 diverged)" in text
    assert "paired over 2 of 5 seeds" in text


@pytest.mark.parametrize("name", ["part.nc", "all_ngm.nc"])
def test_figures_and_compare_bio_handle_diverged_runs(diverged_files, tmp_path, capsys, name):
    f = str(diverged_files / name)
    assert main(["report", f, "--out", str(tmp_path / "r.md")]) == 0
    assert main(["figures", f, "--out", str(tmp_path / "figs"), "--format", "png"]) == 0
    assert (tmp_path / "figs" / "seed_statistics.csv").exists()
    rc = main(["compare-bio", f])
    err = capsys.readouterr().err
    if name == "all_ngm.nc":
        assert "every run of method 'ngm' diverged" in err
        assert rc == 2 and err.strip().splitlines()[-1].startswith("lcne: error: every run of method 'ngm' diverged")
    else:
        assert rc == 0


def test_real_diverged_run_through_every_analysis_command(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "split-mnist", "--iterations", "2", "--seeds", "42,43", "--optimizers", "ngm,sgd",
                 "--eta", "1e6", "--quiet", "--no-figure", "--out", str(out)]) == 0
    nc = str(out / "split-mnist.nc")
    assert main(["report", nc, "--out", str(tmp_path / "r.md")]) == 0
    assert "ngm: 2 of 2 seeds diverged" in (tmp_path / "r.md").read_text()
    assert main(["figures", nc, "--out", str(tmp_path / "f"), "--format", "png"]) == 0
    capsys.readouterr()


# --------------------------------------------------------------------------- --alpha

@pytest.mark.parametrize("alpha", ["5", "0", "1", "-0.1", "nan", "x"])
def test_report_alpha_is_validated(diverged_files, tmp_path, capsys, alpha):
    with pytest.raises(SystemExit) as e:
        main(["report", str(diverged_files / "part.nc"), "--out", str(tmp_path / "r.md"), "--alpha", alpha])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--alpha" in err[0]
    assert not (tmp_path / "r.md").exists()
    from lcne.analysis.report import claim_verdicts

    with pytest.raises(ValueError, match="alpha"):
        claim_verdicts(xr.load_dataset(diverged_files / "part.nc", engine="h5netcdf"), alpha=5)
