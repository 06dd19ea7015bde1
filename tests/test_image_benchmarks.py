"""A short CIFAR run end to end, on CPU, from generated CIFAR-format files."""
import numpy as np
import pytest
import torch
import xarray as xr

from lcne.experiments.cli import main
from test_cifar_loaders import write_cifar10


@pytest.fixture
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_split_cifar10_end_to_end(tmp_path, capsys, one_thread):
    root = tmp_path / "cifar-10-batches-py"
    write_cifar10(root, per_batch=20, test=30)
    out = tmp_path / "out"
    rc = main(["run", "split-cifar10", "--data-dir", str(root), "--optimizers", "ngm,adam", "--seeds", "1",
               "--iterations", "2", "--batch-size", "8", "--out", str(out), "--quiet", "--no-figure"])
    assert rc == 0, capsys.readouterr().err
    ds = xr.load_dataset(out / "split-cifar10.nc", engine="h5netcdf")
    assert ds.sizes == {"method": 2, "seed": 1, "iteration": 10, "eval_task": 5}
    acc = ds["accuracy"].sel(eval_task=1).values
    assert np.all(np.isfinite(acc)) and np.all((acc >= 0) & (acc <= 1))
    g = ds["gain"].sel({"method": "ngm", "seed": 1}).values
    h = ds["entropy"].sel({"method": "ngm", "seed": 1}).values
    np.testing.assert_allclose(g[1:], 0.9 * g[:-1] + 0.1 + 0.2 * h[:-1], rtol=1e-6)  # eta 0.2


def test_image_benchmark_needs_data_dir(capsys):
    rc = main(["run", "split-cifar10", "--quiet"])
    assert rc == 2
    assert "split-cifar10 needs --data-dir" in capsys.readouterr().err


def test_ngm_cifar_optimizer_groups():
    """The paper's CIFAR NGM: momentum 0.9 on the backbone, 0 on the gained head."""
    from lcne.experiments.config import RunConfig
    from lcne.experiments.methods import METHODS
    from lcne.experiments.runner import build_model
    from lcne.experiments.streams import JointTrainingStream

    s = JointTrainingStream("x", torch.zeros(4, 3, 32, 32, dtype=torch.uint8), torch.zeros(4, dtype=torch.long),
                            torch.ones(4, dtype=torch.long), torch.zeros(2, 3, 32, 32, dtype=torch.uint8),
                            torch.zeros(2, dtype=torch.long), torch.ones(2, dtype=torch.long), 1, 10)
    cfg = RunConfig(benchmark="split-cifar10")
    gens = [torch.Generator().manual_seed(i) for i in range(3)]
    _, groups = build_model(cfg, s, [METHODS["ngm"], METHODS["sgd"], METHODS["msgd"]], gens)
    assert groups[0]["momentum"] == [0.9, 0.0, 0.9]
    assert groups[1]["momentum"] == [0.0, 0.0, 0.9]
