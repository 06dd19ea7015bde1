"""GPU checks for issue 8, as one script for a lent GPU machine (not a test).

1. CPU/GPU agreement: the same short runs (Split MNIST MLP, all four optimizers; a
   Split CIFAR-10 ResNet on generated CIFAR-format files) on ``cpu`` and ``cuda``.
   Batches and initial weights are drawn on the CPU from each run's generator, so the
   two devices see identical data and start from identical weights: differences are
   float rounding only (TF32 is switched off for the comparison).
2. ``benchmark_training(device="cuda")``: the 20-run Split MNIST grid one run after
   another and batched, GFLOP/s against the GPU's float32 GEMM peak.
3. Wall time of the full default grids (4 optimizers x 5 seeds, evaluation on every
   seen task after every iteration) for Split, Permuted and Rotated MNIST on the GPU.

Usage::

    python benchmarks/gpu_check.py OUTDIR     # writes OUTDIR/gpu_check.json (+ .nc files)
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from experiments.bench import benchmark_training  # noqa: E402
from experiments.config import RunConfig  # noqa: E402
from experiments.runner import run_experiment  # noqa: E402

#: the accelerator to check; GPU_CHECK_DEVICE=cpu runs the script's logic on a CPU-only
#: machine (a smoke test of the script itself, with QUICK=1 for tiny sizes)
DEV = os.environ.get("GPU_CHECK_DEVICE", "cuda")
QUICK = os.environ.get("QUICK") == "1"


def _diff(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    m = np.isfinite(a) & np.isfinite(b)
    d = np.abs(a[m] - b[m])
    return {"max_abs": float(d.max()), "mean_abs": float(d.mean()),
            "nan_pattern_equal": bool(np.array_equal(np.isnan(a), np.isnan(b)))}


def agreement(cfg_kw, stream=None):
    torch.backends.cuda.matmul.allow_tf32 = False  # noqa: the comparison is in full float32
    torch.backends.cudnn.allow_tf32 = False
    out = {}
    res = {}
    for dev in ("cpu", DEV):
        t = time.perf_counter()
        res[dev] = run_experiment(RunConfig(device=dev, **cfg_kw), stream=stream, progress=False)
        out[f"{dev}_s"] = time.perf_counter() - t
    for var in ("accuracy", "loss", "gain", "entropy", "train_loss"):
        out[var] = _diff(res["cpu"][var].values, res[DEV][var].values)
    torch.backends.cudnn.allow_tf32 = True
    return out


def main(outdir: str) -> int:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    report = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0) if DEV.startswith("cuda") else "cpu",
              "numpy": np.__version__}

    def save():
        (out / "gpu_check.json").write_text(json.dumps(report, indent=2))

    save()
    print("agreement: split-mnist MLP", flush=True)
    report["agree_mlp"] = agreement(dict(benchmark="split-mnist", optimizers=["ngm", "sgd", "msgd", "adam"],
                                         seeds=[42, 43], iterations=2 if QUICK else 20))
    save()
    print(json.dumps(report["agree_mlp"]), flush=True)

    print("agreement: split-cifar10 ResNet on generated files", flush=True)
    from test_cifar_loaders import write_cifar10

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "cifar-10-batches-py"
        write_cifar10(root, per_batch=40, test=50)
        report["agree_resnet"] = agreement(dict(benchmark="split-cifar10", data_dir=str(root),
                                                optimizers=["ngm", "adam"], seeds=[1, 2], iterations=3,
                                                batch_size=16))
    save()
    print(json.dumps(report["agree_resnet"]), flush=True)

    print("bench on cuda", flush=True)
    report["bench_cuda"] = benchmark_training(device=DEV, iterations=1 if QUICK else 40)
    save()
    print(json.dumps(report["bench_cuda"]), flush=True)

    from analysis.metrics import metrics_table
    from experiments.results import write_netcdf

    for bench in ("split-mnist", "permuted-mnist", "rotated-mnist"):
        print(f"full default grid on cuda: {bench}", flush=True)
        t = time.perf_counter()
        kw = dict(iterations=2, seeds=[1]) if QUICK else {}
        ds = run_experiment(RunConfig(benchmark=bench, device=DEV, **kw), progress=False)
        wall = time.perf_counter() - t
        write_netcdf(ds, out / f"{bench}-cuda.nc")
        table = metrics_table(ds)
        report[f"full_{bench}"] = {"wall_s": wall, "metrics": table.to_dict(orient="index")}
        save()
        print(f"{bench}: {wall:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "gpu_check_out"))
