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


# --- the static subcommand table ---------------------------------------------------------

EXPECTED_SUBCOMMANDS = ["run", "bench", "export-mnist", "figures", "compare-bio", "validate-spiking", "sweep",
                        "report", "study-report"]


def test_the_table_lists_every_subcommand_and_help_shows_them_all():
    from lcne.experiments import cli

    assert list(cli.SUBCOMMANDS) == EXPECTED_SUBCOMMANDS
    proc = subprocess.run([sys.executable, "-m", "lcne.experiments.cli", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    listed = [line.split()[0] for line in proc.stdout.split("COMMAND\n", 1)[1].splitlines()
              if line.startswith("    ") and not line.startswith("     ")]
    assert listed == EXPECTED_SUBCOMMANDS
    assert set(cli.build_parser()._subparsers._group_actions[0].choices) == set(EXPECTED_SUBCOMMANDS)


def test_a_broken_subcommand_module_raises_at_parser_build(monkeypatch):
    import types

    from lcne.experiments import cli

    def register(subparsers):
        raise ImportError("No module named 'dask_broken_dependency'")

    monkeypatch.setitem(cli.SUBCOMMANDS, "sweep", types.SimpleNamespace(register=register))
    with pytest.raises(ImportError, match="dask_broken_dependency"):
        cli.build_parser()


def test_a_table_that_disagrees_with_the_modules_is_an_error(monkeypatch):
    from lcne.experiments import cli

    monkeypatch.setitem(cli.SUBCOMMANDS, "plot", cli.SUBCOMMANDS["report"])
    with pytest.raises(RuntimeError, match="differ from the table"):
        cli.build_parser()


def test_a_module_that_fails_to_import_fails_lcne_help_loudly():
    """Plain imports: the module's ImportError and traceback reach the user; the
    subcommand never silently disappears from --help."""
    code = (
        "import sys, importlib.abc\n"
        "class Broken(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'lcne.experiments.cli_report':\n"
        "            raise ImportError('cli_report is broken')\n"
        "sys.meta_path.insert(0, Broken())\n"
        "from lcne.experiments.cli import main\n"
        "sys.exit(main(['--help']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "ImportError: cli_report is broken" in proc.stderr


def test_subcommand_modules_never_import_the_cli_module():
    """One direction only: cli -> cli_* -> cli_args."""
    import ast
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "experiments"
    modules = sorted(folder.glob("cli_*.py")) + [folder / "bench.py"]
    assert len(modules) >= 7
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            assert "lcne.experiments.cli" not in names, f"{path.name}:{node.lineno} imports lcne.experiments.cli"


# --- method spelling, exit codes -----------------------------------------------------------


@pytest.mark.parametrize("command", [["run", "split-mnist"], ["bench"]])
def test_methods_is_a_synonym_of_optimizers(command):
    from lcne.experiments.cli import build_parser

    parser = build_parser()
    new = parser.parse_args([*command, "--methods", "ngm,sgd"])
    old = parser.parse_args([*command, "--optimizers", "ngm,sgd"])
    assert new.optimizers == old.optimizers == ["ngm", "sgd"]
    help_text = parser._subparsers._group_actions[0].choices[command[0]].format_help()
    assert "--methods METHODS, --optimizers METHODS" in help_text
    assert "the results axis 'method'" in " ".join(help_text.split())


def test_methods_reaches_the_run_config():
    from lcne.experiments.cli import build_parser, config_from_args

    cfg = config_from_args(build_parser().parse_args(["run", "split-mnist", "--methods", "adam,sgd", "--seeds", "3"]))
    assert list(cfg.optimizers) == ["adam", "sgd"] and list(cfg.seeds) == [3]


def test_lcne_debug_shows_the_traceback(monkeypatch, tmp_path):
    monkeypatch.setenv("LCNE_DEBUG", "1")
    with pytest.raises(ValueError, match="lr"):
        main(["run", "split-mnist", "--lr", "0", "--out", str(tmp_path), "--quiet"])


def test_ctrl_c_exits_130(monkeypatch, capsys):
    from lcne.experiments import cli_run

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_run, "cmd_export_mnist", interrupted)
    assert main(["export-mnist", "somewhere"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out
