"""Hardening, second pass (issue 19): diverged runs in the analysis, config and data edge cases,
output checked before work, one temp-file rule, provenance, the spiking build directory.

Each test is listed in docs/fault-catalogue.md.
"""
import os
from pathlib import Path

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


# --------------------------------------------------------------------------- config files and sweep specs

RUN1 = ["run", "split-mnist", "--optimizers", "sgd", "--seeds", "1", "--iterations", "1", "--quiet", "--no-figure"]


def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("lcne: error:"), err
    for n in needles:
        assert n in err[0], err[0]
    return err[0]


BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi"))


@pytest.mark.parametrize("text, needles", [
    ("device: 5\n", ["device", "5"]),
    ("lc: [paper]\n", ["lc:", "name"]),
    ("lc_params: [1, 2]\n", ["lc_params", "mapping"]),
    ("optimizers: [[sgd]]\n", ["optimizers", "list of names"]),
    ("seeds: 5\n", ["seeds", "list of integers"]),
    ("out: [a]\n", ["out", "path"]),
    ("lr: [0.1]\n", ["lr", "number"]),
    ("iterations: 2.5\n", ["iterations", "integer"]),
    (BOMB, ["aliases"]),
    ("x: " + "[" * 5000 + "]" * 5000 + "\n", ["nested deeper"]),
    ("- a\n- b\n", ["mapping"]),
])
def test_config_file_edge_cases_are_one_line(tmp_path, capsys, text, needles):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(text)
    out = tmp_path / "out"
    assert main(RUN1 + ["--config", str(cfg), "--out", str(out)]) == 2
    _one_line_error(capsys, str(cfg), *needles)
    assert not out.exists()


def test_alias_expansion_is_counted_not_only_aliases(tmp_path, monkeypatch):
    from lcne.experiments import config_file
    from lcne.experiments.errors import ConfigError

    monkeypatch.setattr(config_file, "MAX_ALIASES", 10**6)
    cfg = tmp_path / "bomb.yaml"
    cfg.write_text(BOMB)
    with pytest.raises(ConfigError, match="expands to more than"):
        config_file.load_yaml_mapping(cfg)


def test_config_file_not_utf8_names_the_file(tmp_path, capsys):
    cfg = tmp_path / "latin1.yaml"
    cfg.write_bytes("lc: 'caf\xe9'\n".encode("latin-1"))
    assert main(RUN1 + ["--config", str(cfg), "--out", str(tmp_path / "o")]) == 2
    _one_line_error(capsys, str(cfg), "UTF-8")


@pytest.mark.parametrize("text, needles", [
    ("optimizers: []\n", ["optimizers", "empty"]),
    ("optimizers: [[sgd]]\n", ["optimizers", "list of names"]),
    ("benchmarks: split-mnist\n", ["benchmarks"]),
    ("base: {device: 5}\n", ["base", "device"]),
    ("base: {lc_params: [1, 2]}\n", ["base", "lc_params"]),
    ("grid: {lr: [0.1, abc]}\n", ["grid.lr", "number"]),
    ("grid: {lc: [[paper]]}\n", ["grid.lc", "name"]),
    ("seeds: []\n", ["seeds", "empty"]),
    ("name: [x]\n", ["name"]),
    (BOMB, ["aliases"]),
])
def test_sweep_spec_edge_cases_are_one_line(tmp_path, capsys, text, needles):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    assert main(["sweep", str(spec), "--no-dask", "--dry-run"]) == 2
    _one_line_error(capsys, str(spec), *needles)


@pytest.mark.parametrize("args, needles", [
    (["--seeds", str(2**64)], ["seeds", "64 bits"]),
    (["--batch-size", "1000000000"], ["batch_size", "at most"]),
])
def test_huge_seeds_and_batch_sizes_are_refused(tmp_path, capsys, args, needles):
    assert main(RUN1[:3] + ["sgd", "--iterations", "1", "--quiet", "--no-figure", "--out", str(tmp_path)]
                + [a for a in args if a] + ([] if "--seeds" in args else ["--seeds", "1"])) == 2
    _one_line_error(capsys, *needles)


# --------------------------------------------------------------------------- data edge cases

def _idx_dir(path, train_labels, test_labels, compress=False):
    from lcne.experiments.datasets.mnist import ImageSet, save_mnist_idx

    def s(labels):
        labels = np.asarray(labels, dtype=np.int64)
        return ImageSet(np.zeros((len(labels), 28, 28), np.uint8), labels, "test")

    save_mnist_idx(s(train_labels), s(test_labels), path, compress=compress)
    return path


def test_corrupt_gzip_deflate_data_names_the_file(tmp_path, capsys):
    import gzip

    d = _idx_dir(tmp_path / "data", np.arange(10), np.arange(10), compress=True)
    f = d / "train-images-idx3-ubyte.gz"
    raw = bytearray(gzip.compress(bytes(4000)))
    raw[12:40] = b"\xff" * 28  # valid gzip header, corrupt deflate stream
    f.write_bytes(bytes(raw))
    assert main(RUN1 + ["--data-dir", str(d), "--out", str(tmp_path / "o")]) == 2
    _one_line_error(capsys, str(f), "corrupt gzip")


@pytest.mark.parametrize("train, test, needles", [
    ([], [], ["0 training and 0 test samples"]),
    (np.arange(2, 10), np.arange(10), ["task 1 has no training samples"]),
    (np.arange(10), np.arange(2, 10), ["task 1 has no test samples"]),
    (np.arange(10), [0, 1, 2, 3, 6, 7, 8, 9], ["task 3 has no test samples"]),
])
def test_empty_or_missing_tasks_are_refused(tmp_path, capsys, train, test, needles):
    d = _idx_dir(tmp_path / "data", train, test)
    assert main(RUN1 + ["--data-dir", str(d), "--out", str(tmp_path / "o")]) == 2
    _one_line_error(capsys, "split-mnist", *needles)
    assert not (tmp_path / "o" / "split-mnist.nc").exists()


# --------------------------------------------------------------------------- one temporary-file rule

def test_writer_temporaries_follow_the_readers_rule(tmp_path, monkeypatch):
    import tempfile

    from lcne.analysis.results_io import results_files
    from lcne.analysis.schema import is_temporary
    from lcne.experiments.results import atomic_path

    seen = []
    real = tempfile.mkstemp

    def spy(*a, **k):
        fd, name = real(*a, **k)
        seen.append(name)
        return fd, name

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    with atomic_path(tmp_path / "split-mnist.nc") as tmp:
        (tmp_path / "split-mnist.nc.keep").write_text("")
        open(tmp, "wb").close()
        assert results_files(tmp_path) == []  # the file being written is not results
    assert seen and all(is_temporary(os.path.basename(n)) for n in seen)
    assert results_files(tmp_path) == [tmp_path / "split-mnist.nc"]


# --------------------------------------------------------------------------- output checked before work, one unit

def _snapshot(d):
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


@pytest.fixture
def small_fs(tmp_path):
    """A 200 kB tmpfs (needs root and mount; skipped otherwise)."""
    import subprocess

    d = tmp_path / "small"
    d.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(d)], capture_output=True)
    if r.returncode:
        pytest.skip(f"cannot mount a small tmpfs here: {r.stderr.decode().strip() or r.returncode}")
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], capture_output=True)


def _no_training(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("training started")

    monkeypatch.setattr("lcne.experiments.runner.train_joint", refuse)


def test_full_disk_during_the_write_is_one_line_and_loses_nothing(small_fs, monkeypatch, capsys):
    out = small_fs / "r"
    assert main(RUN1[:-1] + ["--out", str(out)]) == 0  # netCDF, CSV, PNG, PDF: ~130 kB of 200
    before = _snapshot(out)
    capsys.readouterr()
    # space check before work: refused before training
    with monkeypatch.context() as m:
        _no_training(m)
        assert main(RUN1[:-1] + ["--out", str(out)]) == 2
    _one_line_error(capsys, str(out), "bytes free")
    # the check passed (estimate 0): the real write fills the disk
    monkeypatch.setattr("lcne.experiments.cli_run._results_size", lambda cfg, figure=True: 0)
    rc = main(RUN1[:-1] + ["--out", str(out)])
    assert rc in (1, 2)
    _one_line_error(capsys, str(out), "No space left")
    assert _snapshot(out) == before  # earlier results intact, no temporary left


def test_read_only_output_is_refused_before_training(small_fs, monkeypatch, capsys):
    import subprocess

    if subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], capture_output=True).returncode:
        pytest.skip("cannot remount read-only")
    _no_training(monkeypatch)
    assert main(RUN1 + ["--out", str(small_fs / "r")]) == 2
    _one_line_error(capsys, str(small_fs / "r"), "cannot write")


def test_write_error_names_the_file_and_keeps_the_earlier_set(tmp_path, monkeypatch, capsys):
    import errno

    assert main(RUN1 + ["--out", str(tmp_path)]) == 0
    before = _snapshot(tmp_path)
    capsys.readouterr()

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("pandas.DataFrame.to_csv", full)
    assert main(RUN1 + ["--out", str(tmp_path)]) == 2
    _one_line_error(capsys, "split-mnist_metrics.csv", "No space left")
    assert _snapshot(tmp_path) == before


def test_ctrl_c_between_files_leaves_the_old_set(tmp_path, monkeypatch, capsys):
    assert main(RUN1[:-1] + ["--out", str(tmp_path)]) == 0
    before = _snapshot(tmp_path)
    assert sorted(before) == ["split-mnist.nc", "split-mnist_metrics.csv", "split-mnist_task1.pdf",
                              "split-mnist_task1.png"]

    def interrupted(*a, **k):  # after the netCDF and the CSV, before the figure
        raise KeyboardInterrupt

    monkeypatch.setattr("lcne.analysis.figure_set.fig_task1", interrupted)
    assert main(RUN1[:-1] + ["--out", str(tmp_path), "--seeds", "2"]) == 130
    assert _snapshot(tmp_path) == before


# --------------------------------------------------------------------------- spiking build directory

def test_spiking_build_dir_is_private_and_lock_never_follows_symlinks(tmp_path, monkeypatch):
    pop = pytest.importorskip("lcne.spiking.population")
    import stat

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    d = pop.private_build_dir()
    assert d.startswith(str(tmp_path / "cache")) and stat.S_IMODE(os.lstat(d).st_mode) == 0o700
    assert pop.LCPopulation(n_cells=2, target="cpp_standalone").build_dir == d
    # a planted symlink as the cache folder is not used
    victim_dir = tmp_path / "elsewhere"
    victim_dir.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache2"))
    (tmp_path / "cache2" / "lcne").mkdir(parents=True)
    (tmp_path / "cache2" / "lcne" / "spiking_standalone").symlink_to(victim_dir)
    d2 = pop.private_build_dir()
    assert os.path.realpath(d2) != str(victim_dir) and stat.S_IMODE(os.lstat(d2).st_mode) == 0o700
    os.rmdir(d2)
    # a planted lock symlink is refused, the file it points to untouched
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    (victim_dir / ".lcne.lock").symlink_to(victim)
    with pytest.raises(OSError, match="build lock"):
        with pop._directory_lock(str(victim_dir)):
            pass
    assert victim.read_text() == "keep me"
    with pop._directory_lock(d):  # a normal lock works
        pass


# --------------------------------------------------------------------------- provenance

def test_sweep_resume_keys_on_the_data_content(tmp_path):
    from lcne.experiments import sweep as sw

    d = _idx_dir(tmp_path / "data", np.arange(10).repeat(2), np.arange(10))
    spec = sw.spec_from_dict({"optimizers": ["sgd"], "seeds": [1], "base": {"iterations": 1, "data_dir": str(d)}})
    before = [sw.batch_id(c) for c in sw.expand(spec)]
    assert before == [sw.batch_id(c) for c in sw.expand(spec)]  # stable
    f = d / "train-images-idx3-ubyte"
    st = f.stat()
    raw = bytearray(f.read_bytes())
    raw[-1] ^= 0xFF  # same size, and the old modification time restored below
    f.write_bytes(bytes(raw))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    sw._DATA_HASHES.clear()  # a new sweep (run_sweep clears it at its start)
    assert [sw.batch_id(c) for c in sw.expand(spec)] != before
    assert len(sw.data_hash(None)) == 16  # the embedded data are hashed too


@pytest.mark.parametrize("argv", [
    ["figures", "{res}", "--out", "{bad}"],
    ["compare-bio", "{res}", "--out", "{bad}"],
    ["report", "{res}", "--out", "{bad}/report.md"],
    ["export-mnist", "{bad}"],
    ["sweep", "{spec}", "--no-dask", "--out", "{bad}"],
    ["validate-spiking", "--out", "{bad}"],
])
def test_every_writing_command_checks_its_output_before_work(tmp_path, capsys, argv):
    """Issue 19: an output folder that cannot be created is refused in one line, before any work."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    spec = tmp_path / "spec.yaml"
    spec.write_text("benchmarks: [split-mnist]\noptimizers: [sgd]\nseeds: [1]\nbase: {iterations: 1}\n")
    res = Path(__file__).resolve().parent / "data" / "results_v1_split-mnist.nc"
    args = [a.format(res=res, bad=blocker / "out", spec=spec) for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot write there" in err[0], err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "spec.yaml"]  # nothing was written


@pytest.mark.parametrize("argv", [
    ["figures", "{res}", "--out", "{out}"],
    ["compare-bio", "{res}", "--out", "{out}"],
    ["report", "{res}", "--out", "{out}/report.md"],
    ["export-mnist", "{out}"],
    ["sweep", "{spec}", "--no-dask", "--out", "{out}"],
])
def test_every_writing_command_checks_free_space_before_work(tmp_path, capsys, monkeypatch, argv):
    import shutil

    spec = tmp_path / "spec.yaml"
    spec.write_text("benchmarks: [split-mnist]\noptimizers: [sgd]\nseeds: [1]\nbase: {iterations: 1}\n")
    res = Path(__file__).resolve().parent / "data" / "results_v1_split-mnist.nc"
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=1000))  # an almost full disk
    args = [a.format(res=res, out=tmp_path / "out", spec=spec) for a in argv]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "1000 bytes free" in err[0], err
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]  # nothing written


def test_validation_hold_out_of_too_little_data_is_refused():
    from lcne.experiments.datasets.mnist import ImageSet
    from lcne.experiments.errors import DataError
    from lcne.experiments.streams import holdout_validation

    one_each = ImageSet(np.zeros((3, 28, 28), np.uint8), np.array([0, 1, 1]), "tiny")
    with pytest.raises(DataError, match=r"tiny: fewer than 2 training images in class\(es\) \[0\]"):
        holdout_validation(one_each)
    with pytest.raises(DataError, match="tiny: no training images"):
        holdout_validation(ImageSet(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64), "tiny"))
    train, val = holdout_validation(ImageSet(np.zeros((4, 28, 28), np.uint8), np.array([0, 0, 1, 1]), "ok"))
    assert len(train) == 2 and len(val) == 2


def test_report_markdown_and_html_are_written_as_one_unit(tmp_path, capsys, monkeypatch):
    res = str(Path(__file__).resolve().parent / "data" / "results_v1_split-mnist.nc")
    out = tmp_path / "report.md"
    assert main(["report", res, "--out", str(out), "--html"]) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(before) == {"report.md", "report.html"}
    real = Path.write_text

    def fail_on_html(self, text, *args, **kwargs):
        if self.suffix == ".html":
            raise OSError(28, "No space left on device")
        return real(self, text, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", fail_on_html)
    assert main(["report", res, "--out", str(out), "--html", "--title", "new"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "report.html: cannot write (No space left on device)" in err[-1], err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # old pair intact, no temp


def test_figures_are_written_as_one_unit(tmp_path, capsys, monkeypatch):
    res = str(Path(__file__).resolve().parent / "data" / "results_v1_split-mnist.nc")
    out = tmp_path / "figs"
    assert main(["figures", res, "--out", str(out), "--format", "png"]) == 0
    printed = capsys.readouterr().out.split()
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    assert "switch_table.csv" in before and any(n.endswith(".png") for n in before)
    assert sorted(Path(p).name for p in printed) == sorted(before)  # printed paths are the final ones
    import pandas as pd

    def full_disk(self, path, *args, **kwargs):
        if str(path).endswith("seed_statistics.csv"):  # late: the figures are already drawn
            raise OSError(28, "No space left on device", str(path))
        return real(self, path, *args, **kwargs)

    real = pd.DataFrame.to_csv
    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    assert main(["figures", res, "--out", str(out), "--format", "png"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "seed_statistics.csv: cannot write (No space left on device)" in err[0], err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # old set intact, no staging left
