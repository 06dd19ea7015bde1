"""GPU checks for issue 8, as one script for a lent GPU machine (not a test).

1. CPU/GPU agreement: the drift per iteration of :mod:`gpu_agreement` (same short runs
   on ``cpu`` and ``cuda``, against the drift between CPU thread counts).
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
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test fixtures that write CIFAR files

from lcne.experiments.bench import benchmark_training  # noqa: E402
from lcne.experiments.config import RunConfig  # noqa: E402
from lcne.experiments.runner import run_experiment  # noqa: E402
from gpu_agreement import agreement_report  # noqa: E402  (beside this script)

#: the accelerator to check; GPU_CHECK_DEVICE=cpu runs the script's logic on a CPU-only
#: machine (a smoke test of the script itself, with QUICK=1 for tiny sizes)
DEV = os.environ.get("GPU_CHECK_DEVICE", "cuda")
QUICK = os.environ.get("QUICK") == "1"


def main(outdir: str) -> int:
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    report = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0) if DEV.startswith("cuda") else "cpu",
              "numpy": np.__version__}

    def save():
        (out / "gpu_check.json").write_text(json.dumps(report, indent=2))

    save()
    print("agreement: drift per iteration, CPU vs GPU (benchmarks/gpu_agreement.py)", flush=True)
    report["agreement"] = agreement_report(quick=QUICK, on_part=lambda _: save())
    save()

    print("bench on cuda", flush=True)
    report["bench_cuda"] = benchmark_training(device=DEV, iterations=1 if QUICK else 40)
    save()
    print(json.dumps(report["bench_cuda"]), flush=True)

    from lcne.analysis.metrics import metrics_table
    from lcne.experiments.results import write_netcdf

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
