"""The tiny run behind ``eval_reference_split-mnist.npz`` (exact evaluation mode).

The reference was written by this script with the evaluation path as it was before
evaluation schedules, subsets and bf16 evaluation existed (lcne commit b27a7c6):
``train_joint`` called directly on the embedded MNIST subset, ``ngm`` and ``sgd`` runs
(2 seeds each) in one batch, 3 iterations per context, batch size 16, every iteration
evaluated on every seen task in fp32. ``tests/test_eval_schedule.py`` reruns it with the
default options and requires the same accuracy and loss to the bit.

Regenerate only on purpose (it is the reference of exact mode)::

    OMP_NUM_THREADS=1 python tests/data/eval_reference.py
"""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

REFERENCE = Path(__file__).with_name("eval_reference_split-mnist.npz")
SEEDS = (42, 43)
ITERATIONS = 3
BATCH = 16


@functools.lru_cache(maxsize=1)
def build_stream_for_reference():
    """The stream of the reference: Split MNIST on the embedded subset (built once)."""
    from lcne.experiments.streams import build_stream

    return build_stream("split-mnist")


def reference_run(stream=None, **train_kwargs):
    """Train the reference batch (ngm x 2 seeds, sgd x 2 seeds); returns the RunRecord.

    ``train_kwargs`` go to :func:`lcne.experiments.protocol.train_joint` (e.g. ``eval_mask``).
    """
    import lcne
    from lcne.experiments.optim import RunwiseOptimizer
    from lcne.experiments.protocol import train_joint
    from lcne.models import GainMLP

    stream = build_stream_for_reference() if stream is None else stream
    seeds = [*SEEDS, *SEEDS]
    generators = [torch.Generator().manual_seed(s) for s in seeds]
    model = GainMLP(sizes=(stream.train_x.shape[1], 400, 400, stream.n_classes), n_runs=len(seeds))
    model.reset_parameters(generators)
    optimizer = RunwiseOptimizer(list(model.parameters()), lr=[0.01] * 4, momentum=[0.0] * 4, adam=[False] * 4)
    controller = lcne.StackedControllers([
        lcne.make_controller("paper", n_runs=2, eta=0.4, gamma=0.9, g0=1.0),
        lcne.ConstantGain(n_runs=2, value=1.0),
    ])
    signal = lcne.make_signal("entropy", n_runs=4)
    return train_joint(model, optimizer, controller, signal, stream, generators, ITERATIONS, BATCH,
                       **train_kwargs)


if __name__ == "__main__":
    torch.set_num_threads(1)
    rec = reference_run()
    np.savez(REFERENCE, accuracy=rec.accuracy, loss=rec.loss, gain=rec.gain,
             torch_version=np.array(torch.__version__))
    print(f"wrote {REFERENCE}: accuracy {rec.accuracy.shape}, final task-1 accuracy {rec.accuracy[:, -1, 0]}")
