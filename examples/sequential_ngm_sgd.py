"""The paper's NGM-SGD with a plain ``nn.Sequential`` MLP and ``torch.optim.SGD``.

What it shows
-------------
* The network of Rodriguez-Garcia, Ghosh & Ramaswamy (arXiv 2507.14056) written as the
  user would write it: ``nn.Sequential`` of ``nn.Linear(784, 400) - ReLU - nn.Linear(400,
  400) - ReLU - nn.Linear(400, 10)`` without biases, initialised with ``paper_init_``
  (N(0, 0.01^2) hidden, N(0, 0.05^2) output: the weights lcne's ``GainMLP`` draws).
* ``modulate(net)`` puts the gain on all three layers; the paper's integrator
  (gamma = 0.9, g0 = 1, eta = 0.4) driven by the softmax entropy of each training batch
  sets it through ``GainLoop``, with the one-step lag of the authors' code.
* A 20-line training loop with ``torch.optim.SGD(lr=0.01)`` over the batches of
  incremental joint training (``JointBatchSampler``: uniform with replacement from tasks
  1..k, the batches ``lcne run`` draws for the same seed).
* It reproduces ``lcne run split-mnist --optimizers ngm,sgd``: with ``--compare`` it also
  runs lcne's batched implementation and prints the largest difference of the gain,
  entropy and task-1 accuracy curves (float rounding; ``tests/test_own_model.py`` checks
  the first 50 iterations).

The results file (``sequential-ngm-sgd.nc``, benchmark ``split-mnist``) holds NGM and
SGD over the seeds, so ``lcne report`` sets it against the paper's Split MNIST numbers.

Run::

    python examples/sequential_ngm_sgd.py --out results/examples            # 5 seeds, paper protocol (minutes)
    python examples/sequential_ngm_sgd.py --seeds 42 --iterations 50 --compare
    lcne report results/examples/sequential-ngm-sgd.nc --out results/examples/ngm_report.md

``--tiny`` (or ``LCNE_EXAMPLES_TINY=1``): one seed, a few iterations per context.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lcne.gain_loop import GainLoop
from lcne.experiments.continual import ContinualRecorder, merge_runs
from lcne.experiments.results import write_netcdf
from lcne.experiments.sampling import JointBatchSampler
from lcne.experiments.streams import build_stream
from lcne.models.modulate import modulate
from lcne.models.paper_init import paper_init_


def train(stream, seed: int, ngm: bool, iterations: int, eta: float = 0.4, lr: float = 0.01, batch_size: int = 128):
    """One run of NGM-SGD (``ngm=True``) or SGD; returns its recorder."""
    generator = torch.Generator().manual_seed(seed)       # weights first, then batches, as lcne run
    net = nn.Sequential(nn.Linear(784, 400, bias=False), nn.ReLU(),
                        nn.Linear(400, 400, bias=False), nn.ReLU(),
                        nn.Linear(400, 10, bias=False))
    paper_init_(net, generator)
    lc = GainLoop(modulate(net), "paper", eta=eta, gamma=0.9, g0=1.0) if ngm else GainLoop(None, "constant")
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    rec = ContinualRecorder(net, stream, iterations_per_task=iterations, lc=lc, seed=seed,
                            benchmark="split-mnist", data_source=stream.source,
                            config={"lr": lr, "batch_size": batch_size, "eta": eta if ngm else None})
    for context, x, y in JointBatchSampler(stream, batch_size, generator=generator).iterate(iterations):
        lc.read()                            # g(t): holds H(t-1)
        logits = net(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lc.observe(logits, y)                # H(t) -> g(t+1)
        rec.step(context)                    # evaluation with g(t), every seen task
    return rec


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results/examples")
    p.add_argument("--seeds", default="42,43,44,45,46")
    p.add_argument("--iterations", type=int, default=200, help="iterations per context (paper: 200)")
    p.add_argument("--compare", action="store_true", help="also run lcne's implementation and print the differences")
    p.add_argument("--tiny", action="store_true", default=bool(os.environ.get("LCNE_EXAMPLES_TINY")))
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.tiny:
        seeds, args.iterations = seeds[:1], 4
        torch.set_num_threads(1)
    stream = build_stream("split-mnist")
    runs = [train(stream, seed, ngm, args.iterations) for ngm in (True, False) for seed in seeds]
    ds = merge_runs(runs)
    path = write_netcdf(ds, Path(args.out) / "sequential-ngm-sgd.nc")
    print(path)
    if args.compare:
        from lcne.experiments.config import RunConfig
        from lcne.experiments.runner import run_experiment

        ref = run_experiment(RunConfig(benchmark="split-mnist", optimizers=["ngm", "sgd"], seeds=seeds,
                                       iterations=args.iterations), stream=stream, progress=False)
        for m in ("ngm", "sgd"):
            for var in ("gain", "entropy"):
                d = np.abs(ref[var].sel({"method": m}).values - ds[var].sel({"method": m}).values)
                print(f"{m} {var}: max |difference| {np.nanmax(d):.3g}")
            a = ref.accuracy.sel({"method": m, "eval_task": 1}).values
            b = ds.accuracy.sel({"method": m, "eval_task": 1}).values
            print(f"{m} task-1 accuracy: max |difference| {np.nanmax(np.abs(a - b)):.3g}")
    return path


if __name__ == "__main__":
    main()
