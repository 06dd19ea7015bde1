"""The Gilzenrat et al. (2002) locus coeruleus model driving the gain of a user's network.

What it shows
-------------
* A user's own classifier (a residual MLP with LayerNorm, written as an ``nn.Module``
  subclass) gets a gain on its hidden layers only, chosen by a name pattern:
  ``modulate(model, layers="blocks.*")``; its read-out stays unmodulated.
* The explicit LC models of lcne drive that gain through the same two calls of
  ``GainLoop`` as the paper's integrator: the phasic and the tonic Gilzenrat LC fed with
  the batch's softmax entropy (``drive_scale = ln 10``: maximal uncertainty of a 10-way
  read-out), and the adaptive-gain LC (Aston-Jones & Cohen mode control) fed with the
  change-point probability of the training loss (Nassar et al. 2012 front end ``cpp``).
  Any ``torch.optim`` optimizer works; this one uses Adam.
* The recorder stores the LC state every iteration (``lc_v``, ``lc_u``, ``lc_ne``, ...,
  and ``unc_cpp`` for the change-point front end) next to the accuracy curves, so the
  results go to ``lcne compare-bio`` (LC rates, latency, pause, NE against biology)
  and ``lcne figures``.

Run::

    python examples/gilzenrat_user_model.py --out results/examples
    lcne compare-bio results/examples/gilzenrat-user-model.nc --method ngm+gilzenrat-phasic
    lcne figures results/examples/gilzenrat-user-model.nc --method ngm+gilzenrat-phasic --out results/examples/lc

``--tiny`` (or ``LCNE_EXAMPLES_TINY=1``): one seed, a few iterations, small test sets.
"""
from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lcne.gain_loop import GainLoop
from lcne.experiments.continual import ContinualRecorder, merge_runs
from lcne.experiments.results import write_netcdf
from lcne.experiments.sampling import JointBatchSampler
from lcne.experiments.streams import build_stream
from lcne.models.modulate import modulate

#: (LC model, uncertainty front end, LC parameters)
LC_SETTINGS = [
    ("gilzenrat-phasic", "entropy", {"drive_scale": math.log(10)}),
    ("gilzenrat-tonic", "entropy", {"drive_scale": math.log(10)}),
    ("adaptive", "cpp", {"drive_scale": 1.0}),
]


class ResidualMLP(nn.Module):
    """The user's model: input projection, two residual LayerNorm blocks, read-out."""

    def __init__(self, n_in: int = 784, width: int = 128, n_classes: int = 10):
        super().__init__()
        self.inp = nn.Linear(n_in, width)
        self.blocks = nn.ModuleList(nn.Linear(width, width) for _ in range(2))
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(2))
        self.out = nn.Linear(width, n_classes)

    def forward(self, x):
        h = F.relu(self.inp(x))
        for lin, norm in zip(self.blocks, self.norms):
            h = h + F.relu(lin(norm(h)))
        return self.out(h)


def train(stream, test_sets, seed: int, lc_name: str, front_end: str, params: dict, args):
    torch.manual_seed(seed)
    model = ResidualMLP(stream.train_x.shape[1], n_classes=stream.n_classes)
    gain = modulate(model, layers="blocks.*")         # blocks.0 and blocks.1 only
    lc = GainLoop(gain, lc_name, front_end, **params)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rec = ContinualRecorder(model, test_sets, iterations_per_task=args.iterations, lc=lc, seed=seed,
                            benchmark="split-mnist-residual", data_source=stream.source,
                            config={"optimizer": "torch.optim.Adam", "lr": 1e-3, "batch_size": args.batch_size})
    sampler = JointBatchSampler(stream, args.batch_size, generator=torch.Generator().manual_seed(seed))
    for context, x, y in sampler.iterate(args.iterations):
        lc.read()
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        lc.observe(logits, y)                          # cpp needs the per-sample losses: pass y
        rec.step(context)
    return rec


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="results/examples")
    p.add_argument("--seeds", default="42,43,44")
    p.add_argument("--iterations", type=int, default=200)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--tiny", action="store_true", default=bool(os.environ.get("LCNE_EXAMPLES_TINY")))
    args = p.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    per_task = None
    if args.tiny:
        seeds, args.iterations, args.batch_size, per_task = seeds[:1], 3, 32, 40
        torch.set_num_threads(1)
    stream = build_stream("split-mnist")
    test_sets = {k: (stream.test_x[stream.test_task == k][:per_task], stream.test_y[stream.test_task == k][:per_task])
                 for k in range(1, stream.n_tasks + 1)}
    runs = [train(stream, test_sets, seed, *setting, args) for setting in LC_SETTINGS for seed in seeds]
    ds = merge_runs(runs)
    path = write_netcdf(ds, Path(args.out) / "gilzenrat-user-model.nc")
    for m in ds["method"].values:
        g = ds.gain.sel({"method": m}).mean("seed").values
        print(f"{m:>28}: gain {g.min():.3f}..{g.max():.3f}; LC state recorded: "
              + ", ".join(v for v in ds.data_vars if v.startswith(("lc_", "unc_"))
                          and bool(ds[v].sel({"method": m}).notnull().any())))
    print(path)
    return path


if __name__ == "__main__":
    main()
