"""The batches of incremental joint training, for a user's own loop.

:class:`JointBatchSampler` draws what ``lcne run`` draws (:func:`lcne.experiments.protocol.train_joint`,
``docs/protocol.md`` step 1): in context k, ``batch_size`` training samples uniformly *with
replacement* from the union of the training data of tasks 1..k, as
``pool[torch.randint(len(pool), (batch_size,), generator=g)]`` with ``pool =
stream.train_pool(k)``. With the run's generator (seeded with the run's seed, used first
for the initial weights, see :func:`lcne.models.paper_init.paper_init_`) a user's loop
gets the same batches, in the same order, as the run of that seed.

Examples
--------
>>> import torch
>>> from lcne.experiments.streams import build_stream
>>> stream = build_stream("split-mnist")
>>> sampler = JointBatchSampler(stream, batch_size=4, generator=torch.Generator().manual_seed(0))
>>> x, y = sampler.sample(context=1)
>>> tuple(x.shape), sorted(set(y.tolist())) <= [0, 1]
((4, 784), True)
"""
from __future__ import annotations

from typing import Iterator, Optional, Tuple

import torch

from lcne.experiments.streams import JointTrainingStream

__all__ = ["JointBatchSampler"]


class JointBatchSampler:
    """Batches of context k drawn uniformly with replacement from tasks 1..k.

    Parameters
    ----------
    stream : JointTrainingStream
        E.g. ``build_stream("split-mnist")``.
    batch_size : int
    generator : torch.Generator, optional
        Source of the draws; default a new one seeded with ``seed``.
    seed : int
        Used only when ``generator`` is None.
    device : str or torch.device, optional
        Where the batches are put (default: where the stream is).
    """

    def __init__(self, stream: JointTrainingStream, batch_size: int = 128,
                 generator: Optional[torch.Generator] = None, seed: int = 0, device=None):
        if batch_size < 1:
            raise ValueError(f"batch_size: {batch_size!r} must be a positive integer")
        self.stream, self.batch_size, self.device = stream, int(batch_size), device
        self.generator = generator if generator is not None else torch.Generator().manual_seed(int(seed))

    def indices(self, context: int) -> torch.Tensor:
        """Indices into ``stream.train_x`` of one batch of ``context`` (1-based), (batch_size,)."""
        if not 1 <= context <= self.stream.n_tasks:
            raise ValueError(f"context: {context!r} outside 1..{self.stream.n_tasks}")
        pool = self.stream.train_pool(context)
        picks = torch.randint(len(pool), (self.batch_size,), generator=self.generator)
        return pool[picks]

    def sample(self, context: int) -> Tuple[torch.Tensor, torch.Tensor]:
        """One batch ``(x, y)`` of ``context``: network input (the stream's training
        transform applied, with this sampler's generator) and labels."""
        idx = self.indices(context)
        x, y = self.stream.train_x[idx], self.stream.train_y[idx]
        if self.stream.train_transform is not None:  # image streams: augmentation per batch
            x = self.stream.train_transform(x.unsqueeze(0), [self.generator])[0]
        if self.device is not None:
            x, y = x.to(self.device), y.to(self.device)
        return x, y

    def iterate(self, iterations_per_task: int) -> Iterator[Tuple[int, torch.Tensor, torch.Tensor]]:
        """``(context, x, y)`` for every iteration of every context, in training order."""
        for context in range(1, self.stream.n_tasks + 1):
            for _ in range(iterations_per_task):
                x, y = self.sample(context)
                yield context, x, y
