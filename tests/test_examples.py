"""The example gallery (``examples/*.py``) runs at tiny size, and lcne's tools read its results.

Each script runs in its own subprocess with ``--tiny`` (the three run side by side);
``lcne figures``, ``lcne report`` and ``lcne compare-bio`` then read the files they wrote.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
SCRIPTS = {
    "cnn_split_fashion_mnist.py": "cnn-split-mnist.nc",
    "sequential_ngm_sgd.py": "sequential-ngm-sgd.nc",
    "gilzenrat_user_model.py": "gilzenrat-user-model.nc",
}


@pytest.fixture(scope="module")
def example_outputs(tmp_path_factory):
    out = tmp_path_factory.mktemp("examples")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    procs = {}
    for script in SCRIPTS:
        args = [sys.executable, str(EXAMPLES / script), "--tiny", "--out", str(out)]
        if script == "cnn_split_fashion_mnist.py":
            args += ["--data-dir", ""]  # the embedded MNIST, whatever is installed
        procs[script] = subprocess.Popen(args, cwd=out, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         text=True)
    for script, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{script} failed:\n{stderr[-4000:]}"
        assert str(out / SCRIPTS[script]) in stdout
    return out


def test_every_example_says_what_it_shows():
    found = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert found == sorted(SCRIPTS)
    for name in found:
        doc = ast.get_docstring(ast.parse((EXAMPLES / name).read_text()))
        assert doc and "What it shows" in doc and "--tiny" in doc, name


def test_examples_write_results_that_open(example_outputs):
    from lcne.analysis import open_results

    cnn = open_results(example_outputs / SCRIPTS["cnn_split_fashion_mnist.py"])
    assert [str(m) for m in cnn["method"].values] == ["ngm", "sgd"]
    assert cnn.sizes["seed"] == 2 and cnn.sizes["eval_task"] == 5
    assert (cnn.gain.sel({"method": "ngm"}).values[:, 1:] > 1).all()  # the LC moved the CNN's gain
    lc = open_results(example_outputs / SCRIPTS["gilzenrat_user_model.py"])
    assert {"lc_v", "lc_u", "unc_cpp"} <= set(lc.data_vars)
    assert "ngm+gilzenrat-phasic" in [str(m) for m in lc["method"].values]


def test_lcne_figures_and_report_accept_the_cnn_results(example_outputs, tmp_path, capsys):
    from lcne.experiments.cli import main

    cnn = str(example_outputs / SCRIPTS["cnn_split_fashion_mnist.py"])
    assert main(["figures", cnn, "--out", str(tmp_path / "figures"), "--format", "png"]) == 0
    assert (tmp_path / "figures" / "task1_split-mnist-cnn.png").is_file()
    assert (tmp_path / "figures" / "switch_table.csv").is_file()
    report = tmp_path / "report.md"
    seq = str(example_outputs / SCRIPTS["sequential_ngm_sgd.py"])
    assert main(["report", cnn, seq, "--out", str(report)]) == 0
    text = report.read_text()
    assert "## split-mnist-cnn" in text and "## split-mnist" in text
    lc = str(example_outputs / SCRIPTS["gilzenrat_user_model.py"])
    assert main(["compare-bio", lc, "--method", "ngm+gilzenrat-phasic"]) == 0
    assert "agree" in capsys.readouterr().out
