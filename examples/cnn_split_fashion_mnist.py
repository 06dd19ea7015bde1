"""A user-written CNN with LC-driven gain on its convolutional and linear layers.

What it shows
-------------
* A plain PyTorch CNN (two 3x3 convolutions, two linear layers; nothing from lcne in its
  code) gets a multiplicative gain on all four layers with ``modulate(model)``: the gain
  multiplies each layer's pre-activation after the convolution / matrix product and
  before the bias, as in lcne's own ``GainLinear``.
* The paper's LC integrator (``g(t+1) = 0.9 g(t) + 0.1 + eta H(t)``, H the mean softmax
  entropy of the training batch) drives that gain through a ``GainLoop`` used in two
  places of an ordinary loop built on ``torch.utils.data.DataLoader`` and
  ``torch.optim.SGD``: ``lc.read()`` before the forward pass, ``lc.observe(logits, y)``
  after the optimizer step.
* A ``ContinualRecorder`` evaluates every seen task after every step; NGM and a plain
  SGD baseline (same loop, gain held at 1) over the seeds go into one results file that
  ``lcne figures`` and ``lcne report`` read like the output of ``lcne run``.

Data: Split Fashion-MNIST (5 contexts of 2 classes each, incremental joint training) when
the four Fashion-MNIST IDX files are in ``--data-dir`` (default
``/usr/share/datasets/fashion-mnist`` if it exists), else the MNIST subset embedded in
lcne (Split MNIST).

Run::

    python examples/cnn_split_fashion_mnist.py --out results/examples
    lcne figures results/examples/cnn-split-*.nc --out results/examples/figures
    lcne report results/examples/cnn-split-*.nc --out results/examples/cnn_report.md

The default run (2 seeds x NGM and SGD x 5 contexts x 200 iterations, every seen task
evaluated after every step) takes 5-10 minutes on 2 CPU cores; ``--device cuda`` is
faster. ``--tiny`` (or ``LCNE_EXAMPLES_TINY=1``) runs a few iterations on small test sets (the
test suite does this).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, TensorDataset

from lcne.gain_loop import GainLoop
from lcne.experiments.continual import ContinualRecorder, merge_runs
from lcne.experiments.results import write_netcdf
from lcne.experiments.streams import build_stream
from lcne.models.modulate import modulate

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


class SmallCNN(nn.Module):
    """The user's network: conv(1->8) - pool - conv(8->16) - pool - fc(784->64) - fc(64->10), ReLU."""

    def __init__(self, n_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 7 * 7, 64)
        self.fc2 = nn.Linear(64, n_classes)

    def forward(self, x):
        x = x.view(-1, 1, 28, 28)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


def train_one(stream, test_sets, seed: int, use_lc: bool, args, benchmark: str):
    torch.manual_seed(seed)  # the user's own initialisation (PyTorch defaults)
    model = SmallCNN(stream.n_classes).to(args.device)
    if use_lc:
        gain = modulate(model)  # conv1, conv2, fc1, fc2
        lc = GainLoop(gain, "paper", eta=args.eta, gamma=0.9, g0=1.0)
    else:
        lc = GainLoop(None, "constant", value=1.0)  # baseline: same loop, gain 1
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    rec = ContinualRecorder(model, test_sets, iterations_per_task=args.iterations, lc=lc, seed=seed,
                            benchmark=benchmark, data_source=stream.source,
                            config={"lr": args.lr, "batch_size": args.batch_size, "model": "SmallCNN",
                                    "optimizer": "torch.optim.SGD"})
    generator = torch.Generator().manual_seed(seed)
    for context in range(1, stream.n_tasks + 1):
        pool = stream.train_pool(context)
        data = TensorDataset(stream.train_x[pool], stream.train_y[pool])
        sampler = RandomSampler(data, replacement=True, num_samples=args.iterations * args.batch_size,
                                generator=generator)
        model.train()
        for x, y in DataLoader(data, batch_size=args.batch_size, sampler=sampler):
            x, y = x.to(args.device), y.to(args.device)
            lc.read()                                 # g(t) into the layers
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lc.observe(logits, y)                     # H(t) -> g(t+1), used from the next step on
            rec.step(context)                         # evaluation at g(t)
    return rec


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=str(FASHION_DIR) if FASHION_DIR.is_dir() else None,
                   help="folder with the four Fashion-MNIST IDX files (default: %(default)s; \"\": the embedded MNIST)")
    p.add_argument("--out", default="results/examples")
    p.add_argument("--seeds", default="42,43")
    p.add_argument("--iterations", type=int, default=200, help="iterations per context")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--eta", type=float, default=0.05, help="gain burst per nat (four gained layers: keep it small)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--tiny", action="store_true", default=bool(os.environ.get("LCNE_EXAMPLES_TINY")))
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    args.data_dir = args.data_dir or None  # --data-dir "": the embedded MNIST
    test_per_task = None
    if args.tiny:
        seeds, args.iterations, args.batch_size, test_per_task = seeds[:2], 3, 16, 40
        torch.set_num_threads(1)
    stream = build_stream("split-mnist", args.data_dir)
    benchmark = "split-fashion-mnist-cnn" if args.data_dir else "split-mnist-cnn"
    test_sets = {}
    for k in range(1, stream.n_tasks + 1):  # the user's test sets, one per task
        mask = stream.test_task == k
        test_sets[k] = (stream.test_x[mask][:test_per_task], stream.test_y[mask][:test_per_task])
    runs = [train_one(stream, test_sets, seed, use_lc, args, benchmark)
            for use_lc in (True, False) for seed in seeds]
    ds = merge_runs(runs)
    path = write_netcdf(ds, Path(args.out) / f"cnn-{benchmark.removesuffix('-cnn')}.nc")
    final = ds.accuracy.isel(iteration=-1).mean("seed")
    for m in ds["method"].values:
        row = final.sel({"method": m}).values
        print(f"{m:>4}: final accuracy per task " + " ".join(f"{a:.3f}" for a in row))
    print(path)
    return path


if __name__ == "__main__":
    main()
