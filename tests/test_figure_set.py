"""The figure set and the analysis subcommands: files written, numbers behind them, labels."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import matplotlib

matplotlib.use("Agg")

from lcne.analysis import figure_set as fs  # noqa: E402
from lcne.analysis.biology import compare_to_biology  # noqa: E402
from lcne.analysis.gap_gain import switch_table  # noqa: E402
from lcne.analysis.synthetic import synthetic_results  # noqa: E402
from lcne.experiments.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def result_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("results")
    paths = []
    for i, eta in enumerate((0.2, 0.4)):
        ds = synthetic_results(iterations_per_task=30, seeds=(0, 1, 2), eta=eta, rng=i, coupling=0.1, noise=0.0)
        p = d / f"split-mnist_eta{eta}.nc"
        ds.to_netcdf(p, engine="h5netcdf")
        paths.append(p)
    rot = synthetic_results(benchmark="rotated-mnist", n_tasks=3, iterations_per_task=30, seeds=(0, 1, 2),
                            methods=("ngm", "sgd", "msgd", "adam"), eta=0.5, lc_states=True)
    p = d / "rotated-mnist.nc"
    rot.to_netcdf(p, engine="h5netcdf")
    paths.append(p)
    return paths


def _categorical(labels):
    text = [t.get_text().replace("−", "-") for t in labels if t.get_text()]
    def numeric(v):
        try:
            float(v)
            return True
        except ValueError:
            return False
    return bool(text) and not all(numeric(v) for v in text)


def _assert_axes_labelled(fig):
    """Numeric axes carry a label with a unit in parentheses (own or from a shared axis)."""
    fig.canvas.draw()
    for ax in fig.axes:
        if not ax.has_data():
            continue
        for which in ("x", "y"):
            axis = getattr(ax, f"{which}axis")
            if _categorical(axis.get_ticklabels()):
                continue
            group = getattr(ax, f"get_shared_{which}_axes")().get_siblings(ax)
            labels = [getattr(a, f"get_{which}label")() for a in group]
            assert any("(" in lab and ")" in lab for lab in labels), (which, labels, ax.get_title())


def test_every_figure_labels_its_axes_with_units(result_files):
    from lcne.analysis.results_io import load_results

    dss = load_results(result_files)
    figs = [fs.fig_task1(dss[2]), fs.fig_metrics(dss), fs.fig_transition_sg(dss), fs.fig_task_complexity(dss),
            fs.fig_gain_gap(dss), fs.fig_biology(compare_to_biology(dss[:2], ms_per_iteration=20.0))]
    import matplotlib.pyplot as plt

    for fig in figs:
        _assert_axes_labelled(fig)
        plt.close(fig)
    # the per-benchmark file is the one with the most optimizers
    prim = fs.primary_by_benchmark(dss)
    assert set(prim) == {"split-mnist", "rotated-mnist"} and prim["rotated-mnist"].sizes["method"] == 4


def test_cli_figures_writes_pdf_png_and_the_numbers(result_files, tmp_path):
    out = tmp_path / "figs"
    assert main(["figures", *map(str, result_files), "--out", str(out)]) == 0
    for stem in ("task1_split-mnist", "task1_rotated-mnist", "metrics", "transition_sg", "task_complexity",
                 "gain_gap", "biology"):
        pdf, png = out / f"{stem}.pdf", out / f"{stem}.png"
        assert pdf.read_bytes()[:4] == b"%PDF", stem
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", stem
    table = pd.read_csv(out / "switch_table.csv")
    assert len(table) == 2 * (2 * 3 * 4) + 4 * 3 * 2  # split files: 2 opt x 3 seeds x 4 switches
    direct = switch_table(list(map(str, result_files)))
    assert np.allclose(table["depth_rel"], direct["depth_rel"]) and np.allclose(table["gain_peak"], direct["gain_peak"])
    reg = pd.read_csv(out / "gain_gap_regression.csv").set_index("benchmark")
    # depth_abs = 0.1 * peak exactly and F_{k-1} is the same everywhere: SG = depth / F is exactly linear
    level = table.loc[table.benchmark == "split-mnist", "prev_final"].iloc[0]
    assert reg.loc["split-mnist", "slope"] == pytest.approx(0.1 / level, rel=1e-5)
    assert reg.loc["split-mnist", "n_groups"] == 6  # 2 eta x 3 seeds
    stats = pd.read_csv(out / "seed_statistics.csv")
    assert {"paper_value", "paper_err", "seed_mean", "boot_low", "boot_high"} <= set(stats.columns)
    tc = pd.read_csv(out / "task_complexity.csv")
    assert len(tc) == 3 and tc["verdict"].notna().all()


def test_cli_compare_bio_outputs_and_mapping(result_files, tmp_path, capsys):
    out = tmp_path / "bio"
    assert main(["compare-bio", str(result_files[0]), "--ms-per-iteration", "25", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "1 training iteration = 25 ms (given)" in text
    mapping = json.loads((out / "time_mapping.json").read_text())
    assert mapping["ms_per_iteration"] == 25.0 and mapping["source"] == "given"
    table = pd.read_csv(out / "comparison.csv")
    assert {"latency", "decay_tau", "peak_ratio", "tonic_phasic_ratio", "pupil_fwhm"} <= set(table["feature"])
    assert (out / "biology.pdf").is_file() and (out / "biology.png").is_file()


def test_cli_errors_are_one_line(result_files, tmp_path, capsys):
    assert main(["compare-bio", str(tmp_path / "none.nc")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "none.nc" in err and err.startswith("lcne: error:")
    bad = tmp_path / "curve.csv"
    bad.write_text("x,y\n0,1\n1,2\n2,3\n")
    (tmp_path / "curve.yaml").write_text("name: curve\nkind: curve\n")
    assert main(["compare-bio", str(result_files[0]), "--reference", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "curve.yaml" in err and "missing field" in err
    assert main(["compare-bio", str(result_files[0]), "--nwb", "only:two"]) == 2
    assert "FILE:SERIES:SIGNAL" in capsys.readouterr().err


def test_save_figure_keeps_dots_in_the_stem_and_is_atomic(tmp_path):
    import matplotlib.pyplot as plt

    from lcne.analysis.figure_io import save_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    paths = save_figure(fig, tmp_path / "task1_eta0.2", ("png", "pdf"))
    assert [p.name for p in paths] == ["task1_eta0.2.png", "task1_eta0.2.pdf"]
    assert all(p.is_file() for p in paths)
    assert not plt.fignum_exists(fig.number)  # closed
    before = paths[0].read_bytes()

    class Broken:  # a figure whose write fails half-way
        canvas = fig.canvas

        def savefig(self, path, **kwargs):
            Path(path).write_bytes(b"half a figure")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(Broken(), tmp_path / "task1_eta0.2", ("png",))
    assert paths[0].read_bytes() == before  # the earlier file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["task1_eta0.2.pdf", "task1_eta0.2.png"]  # no temp file


def test_one_task1_figure_with_optional_rows(result_files):
    """``lcne run`` draws accuracy + gain, ``lcne figures`` adds loss and LC state: one function."""
    import matplotlib.pyplot as plt

    from lcne.analysis.results_io import open_results

    ds = open_results(result_files[2])  # has loss and LC states
    full = fs.fig_task1(ds)
    short = fs.fig_task1(ds, loss=False, lc_state=False)
    assert [a.get_ylabel() for a in full.axes] == ["task-1 accuracy (%)", "task-1 loss\n(nats)",
                                                    "gain g\n(dimensionless)", "LC state\n(model units)"]
    assert [a.get_ylabel() for a in short.axes] == ["task-1 accuracy (%)", "gain g\n(dimensionless)"]
    for fig in (full, short):
        _assert_axes_labelled(fig)
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert labels == ["NGM-SGD", "SGD", "MSGD", "Adam"]
        # a dashed line at every context switch in every row
        for ax in fig.axes:
            x = [np.asarray(ln.get_xdata(), float) for ln in ax.get_lines() if ln.get_linestyle() == "--"]
            switches = sorted(v[0] for v in x if v.size == 2 and v[0] == v[1])
            I = ds.attrs["iterations_per_task"]
            assert switches == [k * I for k in range(1, ds.attrs["n_tasks"])]
        plt.close(fig)


def test_cli_run_figure_is_the_task1_figure(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "split-mnist", "--iterations", "4", "--seeds", "42", "--optimizers", "ngm,sgd",
                 "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert f"figure:  {out / 'split-mnist_task1.png'}, {out / 'split-mnist_task1.pdf'}" in text
    assert (out / "split-mnist_task1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
