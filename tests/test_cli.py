import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from lcne.experiments.cli import main


def test_run_writes_results_table_and_figure(tmp_path, capsys):
    rc = main(["run", "split-mnist", "--optimizers", "ngm,sgd", "--seeds", "1,2", "--iterations", "2",
               "--out", str(tmp_path), "--quiet"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "avg-SG" in out and "ngm" in out
    ds = xr.load_dataset(tmp_path / "split-mnist.nc", engine="h5netcdf")
    assert list(ds["method"].values) == ["ngm", "sgd"]
    assert ds.sizes["iteration"] == 10
    assert '"iterations": 2' in ds.attrs["config"]
    assert (tmp_path / "split-mnist_metrics.csv").read_text().startswith("method,")
    for ext in ("png", "pdf"):
        assert (tmp_path / f"split-mnist_task1.{ext}").stat().st_size > 1000


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "split-mnistt"], "benchmark: unknown value 'split-mnistt' (did you mean 'split-mnist'?)"),
        (["run", "split-mnist", "--optimizers", "ngm,sgdd"], "optimizers: unknown value 'sgdd' (did you mean 'sgd'?)"),
        (["run", "split-mnist", "--lr", "abc"], "argument --lr: 'abc' is not a valid float"),
        (["run", "split-mnist", "--lr", "0"], "lr: 0.0 must be > 0.0"),
        (["run", "split-mnist", "--iterations", "0"], "iterations: 0 must be a positive integer"),
        (["run", "split-mnist", "--seeds", "1,x"], "is not a comma-separated list of integers"),
        (["run", "split-mnist", "--eta", "-1"], "eta: -1.0 must be >= 0.0"),
        (["run", "split-mnist", "--gamma", "1"], "gamma: 1.0 must be < 1.0"),
        (["run", "split-mnist", "--data-dir", "/no/such/dir"], "data_dir: /no/such/dir is not a directory"),
        (["run", "split-mnist", "--lc", "gilzenrat"], "lc: unknown value 'gilzenrat'"),
    ],
)
def test_bad_input_gives_one_line_error(args, message, tmp_path, capsys):
    try:
        rc = main([*args, "--out", str(tmp_path), "--quiet"])
    except SystemExit as exc:  # argparse errors exit directly
        rc = exc.code
    assert rc == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert message in lines[0]


def test_malformed_data_dir_in_a_fresh_process(tmp_path):
    """End to end through the console entry point: one line on stderr, no traceback."""
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + bytes(8))
    proc = subprocess.run(
        [sys.executable, "-m", "lcne.experiments.cli", "run", "split-mnist", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("lcne: error:") and "train-images-idx3-ubyte" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_config_file_keys_are_checked(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("etaa: 0.3\n")
    with pytest.raises(ValueError, match="unknown key 'etaa' \\(did you mean 'eta'\\?\\)"):
        from lcne.experiments.cli import build_parser, config_from_args

        config_from_args(build_parser().parse_args(["run", "split-mnist", "--config", str(cfg)]))


def test_bench_json_reports_the_issue_fields(capsys):
    import json

    rc = main(["bench", "--iterations", "1", "--optimizers", "ngm,adam", "--seeds", "1,2", "--json"])
    assert rc == 0
    r = json.loads(capsys.readouterr().out)
    for key in ("sequential_s", "batched_s", "speedup", "gflops", "peak_gflops", "fraction_of_peak"):
        assert r[key] > 0, key
    assert r["runs"] == 4 and r["iterations_per_run"] == 5 and r["device"] == "cpu"
    assert r["speedup"] == pytest.approx(r["sequential_s"] / r["batched_s"])
    assert r["fraction_of_peak"] == pytest.approx(r["gflops"] / r["peak_gflops"])


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("args", [["bench", "--device", "cuda"],
                                  ["sweep", "experiments/studies/fair_mnist_reduced.yaml", "--device", "cuda",
                                   "--dry-run"]])
def test_cuda_without_a_gpu_is_a_one_line_error(args, capsys):
    from pathlib import Path

    args = [str(Path(__file__).parents[1] / a) if a.endswith(".yaml") else a for a in args]
    assert main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "torch sees no CUDA device" in lines[0]


@pytest.mark.parametrize("args, message", [
    (["figures", "r.nc", "--out", "o", "--tolerance", "nan"], "'nan' must be > 0"),
    (["figures", "r.nc", "--out", "o", "--ms-per-iteration", "-2"], "'-2' must be > 0"),
    (["compare-bio", "r.nc", "--ms-per-iteration", "x"], "'x' is not a valid float"),
    (["validate-spiking", "--n-cells", "0"], "'0' must be > 0"),
    (["validate-spiking", "--trial-ms", "nan"], "'nan' must be > 0"),  # NaN passed before
])
def test_positive_number_options_share_one_parser(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_export_mnist_writes_the_embedded_images_for_other_tools(tmp_path, capsys):
    from lcne.experiments.datasets import load_embedded_mnist, load_mnist_idx

    raw = tmp_path / "data" / "MNIST" / "raw"
    assert main(["export-mnist", str(raw)]) == 0
    assert "4000 training and 1000 test images" in capsys.readouterr().out
    tr, te = load_mnist_idx(raw)
    etr, ete = load_embedded_mnist()
    assert np.array_equal(tr.images, etr.images) and np.array_equal(te.labels, ete.labels)
    # and back: exporting those files again (gzipped) gives the same images
    assert main(["export-mnist", str(tmp_path / "gz"), "--data-dir", str(raw), "--gzip"]) == 0
    assert np.array_equal(load_mnist_idx(tmp_path / "gz")[0].images, etr.images)
    assert main(["export-mnist", str(tmp_path / "x"), "--data-dir", str(tmp_path / "missing")]) == 2
    assert "is not a directory" in capsys.readouterr().err
