"""How closely a GPU run follows the same run on the CPU, iteration by iteration.

Training is chaotic in float32: two runs whose arithmetic differs only in rounding
(another summation order) drift apart, slowly at first, then at a rate set by the
network and the data. "The same run on GPU and CPU agree to tolerance" is therefore
measured against the drift that rounding alone produces on the CPU: the run with one
thread against the run with all threads (different GEMM blocking, same device).

For each of the MLP (Split MNIST, embedded data) and the slim ResNet-18 (Split
CIFAR-10 on generated CIFAR-format files) the script reports, per iteration, the
largest difference over runs of the gain and of the training loss, for
CPU-vs-GPU and for CPU(1 thread)-vs-CPU(all threads). TF32 is off (full float32).

Usage::

    python benchmarks/gpu_agreement.py OUT.json    # on a machine with CUDA
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test fixtures that write CIFAR files

from lcne.experiments.config import RunConfig  # noqa: E402
from lcne.experiments.runner import run_experiment  # noqa: E402

CHECKPOINTS = (0, 1, 2, 5, 10, 20, 50, 99)


def _drift(a, b):
    """Largest |a - b| over runs, per iteration: (iterations,)."""
    d = np.abs(a - b).reshape(-1, a.shape[-1])
    return np.nanmax(d, axis=0)


def compare(cfg_kw, n_threads):
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    runs = {}
    for name, device, threads in (("cpu1", "cpu", 1), ("cpuN", "cpu", n_threads), ("gpu", dev, n_threads)):
        torch.set_num_threads(threads)
        runs[name] = run_experiment(RunConfig(device=device, **cfg_kw), progress=False)
    out = {}
    for var in ("gain", "train_loss"):
        for label, (x, y) in {"cpu_vs_gpu": ("cpuN", "gpu"), "cpu1_vs_cpuN": ("cpu1", "cpuN")}.items():
            d = _drift(runs[x][var].values, runs[y][var].values)
            out[f"{var}:{label}"] = {str(t): float(d[t]) for t in CHECKPOINTS if t < len(d)}
            out[f"{var}:{label}:first_above_1e-3"] = int(np.argmax(d > 1e-3)) if np.any(d > 1e-3) else None
    return out


def agreement_report(quick: bool = False, on_part=None) -> dict:
    """Drift per iteration for the MLP and the ResNet (see the module docstring).

    ``quick``: tiny runs (a smoke test of the script on a CPU-only machine);
    ``on_part``: called with the report after each network, so a later failure keeps it.
    """
    n = torch.get_num_threads()
    report = {"torch": torch.__version__, "cpu_threads": n,
              "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"}
    report["mlp_split_mnist"] = compare(dict(benchmark="split-mnist", optimizers=["ngm", "sgd", "msgd", "adam"],
                                             seeds=[42, 43], iterations=2 if quick else 20), n)
    if on_part is not None:
        on_part(report)
    from test_cifar_loaders import write_cifar10

    with tempfile.TemporaryDirectory() as tmp:
        write_cifar10(Path(tmp), per_batch=40, test=50)
        report["resnet_split_cifar10"] = compare(dict(benchmark="split-cifar10", data_dir=tmp,
                                                      optimizers=["ngm", "adam"], seeds=[1, 2],
                                                      iterations=1 if quick else 4, batch_size=16), n)
    if on_part is not None:
        on_part(report)
    return report


def main(path: str) -> int:
    def save(report):
        Path(path).write_text(json.dumps(report, indent=2))

    report = agreement_report(on_part=save)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "gpu_agreement.json"))
