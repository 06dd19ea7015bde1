"""Incremental joint training with continual evaluation, batched over runs.

One call of :func:`train_joint` trains ``n_runs`` independent networks (same method,
different seeds or hyperparameters) as one batched computation. Per iteration t:

1. each run draws its own batch, uniformly with replacement, from tasks 1..k;
2. ``gain = controller.gain`` -- g(t), which already holds H(t-1): the one-step lag;
3. forward with that gain, cross-entropy loss, backward, optimizer step on the weights;
4. the uncertainty front end turns this batch's logits/losses into the drive H(t);
5. evaluation (no gain update) on the test sets of all tasks seen so far, task 1 included
   -- after the iterations of the evaluation schedule only (``eval_mask``; default every
   iteration), optionally on fixed per-run test subsets (``eval_index``) and in bfloat16
   (``eval_precision``); see :mod:`lcne.experiments.eval_schedule`;
6. ``controller.step(H(t))`` gives g(t+1).

Every run uses its own ``torch.Generator`` (seeded with its seed) for initialisation
and batch sampling, so a run gives the same curves alone or in a batch (up to float
rounding of the batched matmuls).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from lcne.experiments.eval_schedule import PRECISIONS
from lcne.experiments.streams import JointTrainingStream
from lcne.uncertainty import softmax_entropy

__all__ = ["RunRecord", "train_joint", "evaluate", "EVAL_STATE_KEYS", "EVAL_PRECISIONS"]

#: arithmetic of the evaluation forward passes (``train_joint(eval_precision=...)``): the
#: one list, defined with the evaluation options in :mod:`lcne.experiments.eval_schedule`
EVAL_PRECISIONS = PRECISIONS


@dataclass
class RunRecord:
    """Per-iteration curves of ``n_runs`` runs (numpy arrays, run axis first).

    accuracy, loss : (n_runs, iterations, n_tasks), NaN for tasks not yet seen
    gain, entropy, drive, train_loss, lr_scale : (n_runs, iterations)
    state : name -> (n_runs, iterations) recorded controller / front-end state
    diverged_at : (n_runs,) iteration where the run diverged, -1 if it never did

    With fixed evaluation subsets ``state`` also holds ``eval_index`` (n_runs, n_tasks, N)
    int64, each run's test indices (-1 padded, :mod:`lcne.experiments.eval_subset`), and
    ``eval_test_size`` (n_runs, n_tasks) int64, the size of each task's whole test set
    (:data:`EVAL_STATE_KEYS`): per-run arrays kept in ``state`` so that code slicing a
    record by runs keeps them; :func:`lcne.experiments.results.record_to_dataset` takes
    them out again.
    """

    accuracy: np.ndarray
    loss: np.ndarray
    gain: np.ndarray
    entropy: np.ndarray
    drive: np.ndarray
    train_loss: np.ndarray
    state: Dict[str, np.ndarray]
    diverged_at: np.ndarray  # (n_runs,) first diverged iteration, -1 if the run never diverged
    lr_scale: np.ndarray  # (n_runs, iterations) factor on the learning rate (entropy-lr), else 1

    def take(self, runs) -> "RunRecord":
        """The record of some runs (a slice or index array along the run axis), every
        field and state entry included."""
        return RunRecord(
            self.accuracy[runs], self.loss[runs], self.gain[runs], self.entropy[runs], self.drive[runs],
            self.train_loss[runs], {k: v[runs] for k, v in self.state.items()}, self.diverged_at[runs],
            self.lr_scale[runs],
        )


#: keys of :attr:`RunRecord.state` that hold evaluation bookkeeping, not traces
EVAL_STATE_KEYS = ("eval_index", "eval_test_size")


def _test_inputs(stream: JointTrainingStream, end: int, device, cache: Optional[dict]):
    """Test inputs (eval transform applied), labels and 0-based task ids of the first
    ``end`` test samples, on ``device``. With a ``cache`` dict they are prepared once and
    reused until ``end`` or the device changes (the test set is fixed, the transform
    deterministic), instead of being transformed and copied again at every iteration."""
    key = (end, str(device))
    if cache is not None and cache.get("key") == key:
        return cache["value"]
    x = stream.test_x[:end]
    if stream.eval_transform is not None:
        x = stream.eval_transform(x)
    value = (x.to(device), stream.test_y[:end].to(device), (stream.test_task[:end] - 1).to(device))
    if cache is not None:
        cache["key"], cache["value"] = key, value
    return value


def _subset_inputs(stream: JointTrainingStream, subset: dict, end: int, device, cache: Optional[dict]):
    """Per-run test inputs of a fixed subset: x (R, end, ...), labels (R, end) and the
    0-based task of each column (end,), the first ``end`` columns of ``subset["flat"]``
    (tasks 1..k come first). Cached like :func:`_test_inputs`."""
    key = ("subset", end, str(device))
    if cache is not None and cache.get("key") == key:
        return cache["value"]
    flat = torch.as_tensor(subset["flat"][:, :end])
    n_runs = flat.shape[0]
    x = stream.test_x[flat.reshape(-1)]
    if stream.eval_transform is not None:
        x = stream.eval_transform(x)
    x = x.reshape(n_runs, end, *x.shape[1:])
    value = (x.to(device), stream.test_y[flat].to(device), torch.as_tensor(subset["task"][:end]).to(device))
    if cache is not None:
        cache["key"], cache["value"] = key, value
    return value


def _precision_context(precision: str, device):
    """Autocast to bfloat16 for ``"bf16"`` (CPU or CUDA); nothing for ``"fp32"``."""
    if precision == "fp32":
        return contextlib.nullcontext()
    if precision == "bf16":
        return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
    raise ValueError(f"eval_precision must be one of {EVAL_PRECISIONS}, got {precision!r}")


@torch.no_grad()
def evaluate(model, stream: JointTrainingStream, context: int, gain, device="cpu", chunk: int = 2000,
             cache: Optional[dict] = None, subset: Optional[dict] = None, precision: str = "fp32"):
    """Accuracy and mean loss per task on the test sets of tasks 1..context.

    The model is put in eval mode (BatchNorm running statistics) for the evaluation and
    back in training mode afterwards; the test set is processed in chunks of ``chunk``
    samples shared by all runs. ``cache``: a dict kept by the caller across iterations
    (see :func:`_test_inputs`). ``subset``: per-run fixed test subsets, a dict with
    ``flat`` (R, M) test indices task after task, ``task`` (M,) 0-based tasks and
    ``ends`` (n_tasks + 1,) column where each task's block ends (``ends[k]``: tasks
    1..k), from :func:`lcne.experiments.eval_subset.subset_layout`; the model then gets
    inputs (R, chunk, ...). ``precision``: ``"fp32"`` or ``"bf16"`` (forward passes under
    bfloat16 autocast; logits cast back to float32, sums in float64). Returns two float64
    tensors (n_runs, context).
    """
    if subset is None:
        end = stream.test_end(context)
        x_all, y_all, task_all = _test_inputs(stream, end, device, cache)
    else:
        end = int(subset["ends"][context])
        x_all, y_all, task_all = _subset_inputs(stream, subset, end, device, cache)
    was_training = model.training
    model.eval()
    correct_sum = nll_sum = None
    for start in range(0, end, chunk):
        stop = min(start + chunk, end)
        task = task_all[start:stop]
        if subset is None:
            x, y = x_all[start:stop], y_all[start:stop]
        else:
            x, y = x_all[:, start:stop], y_all[:, start:stop]
        with _precision_context(precision, device):
            logits = model(x, gain)  # (R, M, C)
        logits = logits.float()  # bf16 logits back to float32; a no-op (same tensor) for fp32
        n_runs = logits.shape[0]
        correct = (logits.argmax(-1) == y).to(torch.float64)
        targets = y.repeat(n_runs) if subset is None else y.reshape(-1)
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets, reduction="none")
        nll = nll.view(n_runs, -1).to(torch.float64)
        if correct_sum is None:
            correct_sum = torch.zeros(n_runs, context, dtype=torch.float64, device=device)
            nll_sum = torch.zeros(n_runs, context, dtype=torch.float64, device=device)
        correct_sum.index_add_(1, task, correct)
        nll_sum.index_add_(1, task, nll)
    if was_training:
        model.train()
    counts = torch.bincount(task_all, minlength=context).to(torch.float64)
    return correct_sum / counts, nll_sum / counts


def train_joint(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    controller,
    signal,
    stream: JointTrainingStream,
    generators: Sequence[torch.Generator],
    iterations_per_task: int,
    batch_size: int,
    device: str = "cpu",
    on_iteration: Optional[Callable[[int], None]] = None,
    lr_from_gain: Optional[torch.Tensor] = None,
    reset_on_switch: Optional[torch.Tensor] = None,
    max_gain: float = 1e3,
    eval_chunk: int = 2000,
    eval_tasks: str = "seen",
    eval_mask: Optional[np.ndarray] = None,
    lr_power: Optional[torch.Tensor] = None,
    lr_factor: Optional[Callable[[int, int], torch.Tensor]] = None,
    weight_average=None,
    eval_index: Optional[np.ndarray] = None,
    eval_precision: str = "fp32",
) -> RunRecord:
    """Train ``model`` (``n_runs`` copies) through every context of ``stream``.

    Parameters
    ----------
    model : batched network, ``model(x (R,B,F), gain (R,)) -> logits (R,B,C)``
    optimizer : over the model's trainable parameters
    controller : :class:`lcne.GainController` with ``n_runs`` runs
    signal : :class:`lcne.uncertainty.UncertaintySignal` producing the drive
    generators : one ``torch.Generator`` per run, for batch sampling
    iterations_per_task : training iterations per context
    on_iteration : called with the global iteration index after each iteration
    lr_from_gain : bool (n_runs,), optional
        Runs whose controller output scales the *learning rate* (lr * g(t)) while the
        network runs at gain 1 (entropy-driven learning-rate ablation). Needs a
        :class:`~lcne.experiments.optim.RunwiseOptimizer`.
    reset_on_switch : bool (n_runs,), optional
        Runs whose optimizer state is cleared at the first iteration of every context
        after the first (momentum-reset ablations). Needs a RunwiseOptimizer.
    eval_chunk : int
        Test samples per evaluation forward pass (memory bound for image models).
    eval_tasks : {"seen", "first"}
        Evaluate on every task seen so far (default) or on task 1 only (the authors'
        protocol; cheaper -- the other tasks stay NaN).
    eval_mask : bool array (iterations_total,), optional
        Evaluate after iteration t only where ``eval_mask[t]`` (an evaluation schedule,
        :mod:`lcne.experiments.eval_schedule`); accuracy and loss stay NaN elsewhere
        (never forward-filled). ``None``: every iteration.
    eval_index : int array (n_runs, n_tasks, N), optional
        Fixed evaluation subsets: run r is evaluated on the test images
        ``eval_index[r, k]`` of task k+1 (-1 entries are padding), drawn once before the
        run by :func:`lcne.experiments.eval_subset.draw_subsets`; returned in
        ``state["eval_index"]``. ``None``: every run on the whole test set.
    eval_precision : {"fp32", "bf16"}
        Arithmetic of the evaluation forward passes: ``"bf16"`` runs them under bfloat16
        autocast (training stays fp32; accuracy still summed in float64).
    lr_power : float tensor (n_runs,), optional
        For the ``lr_from_gain`` runs, the learning rate is multiplied by g(t) ** power
        (default power 1; ``lr-replay`` uses 2, the effective step of a gained layer).
    lr_factor : callable ``(t, i) -> tensor (n_runs,)``, optional
        A further factor on every run's learning rate at global iteration t, iteration
        i within the current context (``lr-rewarm``'s drop-and-ramp schedule).
    weight_average : object, optional
        Keeps averaged weights of some runs (``weight-ema``): ``update(model)`` is called
        after every optimizer step and ``swap(model)`` is a context manager inside which
        the model holds the averaged weights of those runs; evaluation runs inside it.
    max_gain : float
        A run whose gain exceeds this, or whose loss, logits or gain stop being finite,
        is marked diverged at that iteration: its curves are NaN from there on, its
        weights are no longer updated, and the other runs go on.
    """
    n_runs = len(generators)
    T, K = iterations_per_task * stream.n_tasks, stream.n_tasks
    acc = np.full((n_runs, T, K), np.nan)
    loss = np.full((n_runs, T, K), np.nan)
    rec = {k: np.empty((n_runs, T)) for k in ("gain", "entropy", "drive", "train_loss", "lr_scale")}
    state_names = [f"lc_{n}" for n in controller.state_variables if n != "gain"]
    state_names += [f"unc_{n}" for n in signal.state_variables]
    state = {k: np.empty((n_runs, T)) for k in state_names}
    train_x, train_y = stream.train_x.to(device), stream.train_y.to(device)
    diverged_at = np.full(n_runs, -1, dtype=np.int64)
    alive = torch.ones(n_runs, dtype=torch.bool)
    lr_runs = None if lr_from_gain is None else torch.as_tensor(lr_from_gain, dtype=torch.bool)
    ones = torch.ones(n_runs)

    if eval_mask is not None:
        eval_mask = np.asarray(eval_mask, dtype=bool)
        if eval_mask.shape != (T,):
            raise ValueError(f"eval_mask must have shape ({T},) (one entry per iteration), got {eval_mask.shape}")
    if eval_precision not in EVAL_PRECISIONS:
        raise ValueError(f"eval_precision must be one of {EVAL_PRECISIONS}, got {eval_precision!r}")
    subset = None
    if eval_index is not None:
        from lcne.experiments.eval_subset import subset_layout

        eval_index = np.asarray(eval_index)
        if eval_index.shape[0] != n_runs:
            raise ValueError(f"eval_index has {eval_index.shape[0]} runs, the batch {n_runs}")
        flat, task_of, counts = subset_layout(eval_index, K)
        if flat.size and (flat.min() < 0 or flat.max() >= len(stream.test_y)
                          or np.any(stream.test_task.numpy()[flat] - 1 != task_of)):
            raise ValueError("eval_index: indices outside the test set, or of another task than their row")
        subset = {"flat": flat, "task": task_of, "ends": np.concatenate([[0], np.cumsum(counts)])}
    eval_cache: dict = {}  # test inputs prepared once per evaluated range, not per iteration
    t = 0
    power = None if lr_power is None else torch.as_tensor(lr_power, dtype=torch.float32)
    for context in range(1, K + 1):
        pool = stream.train_pool(context).to(device)
        model.train()
        if reset_on_switch is not None and context > 1:
            optimizer.reset(torch.as_tensor(reset_on_switch, dtype=torch.bool))
        for i_ctx in range(iterations_per_task):
            picks = torch.stack(
                [torch.randint(len(pool), (batch_size,), generator=g) for g in generators]
            ).to(device)
            idx = pool[picks]  # (R, B)
            x, y = train_x[idx], train_y[idx]
            if stream.train_transform is not None:  # e.g. crop + flip + normalise, per-run draws
                x = stream.train_transform(x, generators)

            g_t = controller.gain  # g(t): holds H(t-1) -- the one-step lag
            gain = (g_t if lr_runs is None else torch.where(lr_runs, ones, g_t)).to(device)
            logits = model(x, gain)
            per_sample = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="none"
            ).view(n_runs, batch_size)
            optimizer.zero_grad(set_to_none=True)
            per_sample.mean(dim=1).sum().backward()  # runs are independent: sum of losses

            batch_loss = per_sample.detach().mean(dim=1).cpu()
            bad = alive & ~(torch.isfinite(batch_loss) & torch.isfinite(g_t) & (g_t <= max_gain))
            if bad.any():
                diverged_at[bad.numpy()] = t
                alive &= ~bad
            if lr_runs is not None:
                g_lr = g_t.float() if power is None else g_t.float() ** power
                lr_scale = torch.where(lr_runs, g_lr, ones)
            else:
                lr_scale = ones
            if lr_factor is not None:
                lr_scale = lr_scale * torch.as_tensor(lr_factor(t, i_ctx), dtype=torch.float32)
            if lr_runs is not None or lr_factor is not None or not alive.all():
                optimizer.step(lr_scale=torch.where(alive, lr_scale, torch.zeros(n_runs)).to(device))
            else:
                optimizer.step()
            if weight_average is not None:
                weight_average.update(model)

            logits, per_sample = logits.detach(), per_sample.detach()
            drive = signal(logits, per_sample)
            if eval_mask is None or eval_mask[t]:
                k_eval = context if eval_tasks == "seen" else 1
                with (weight_average.swap(model) if weight_average is not None else contextlib.nullcontext()):
                    a, l = evaluate(model, stream, k_eval, gain, device, eval_chunk, eval_cache,
                                    subset=subset, precision=eval_precision)
                acc[:, t, :k_eval] = a.cpu().numpy()
                loss[:, t, :k_eval] = l.cpu().numpy()
            rec["gain"][:, t] = gain.cpu().numpy()
            rec["entropy"][:, t] = softmax_entropy(logits).cpu().numpy()
            rec["drive"][:, t] = drive.cpu().numpy()
            rec["train_loss"][:, t] = batch_loss.numpy()
            rec["lr_scale"][:, t] = lr_scale.numpy()

            controller.step(torch.where(alive, drive.cpu(), torch.zeros(n_runs)))  # g(t+1); no update in evaluation
            for name, value in controller.state().items():
                if f"lc_{name}" in state:
                    state[f"lc_{name}"][:, t] = value.numpy()
            for name, value in signal.state().items():
                state[f"unc_{name}"][:, t] = torch.as_tensor(value).numpy()
            dead = (~alive).numpy()
            if dead.any():
                acc[dead, t], loss[dead, t] = np.nan, np.nan
                for arr in (*rec.values(), *state.values()):
                    arr[dead, t] = np.nan
            if on_iteration is not None:
                on_iteration(t)
            t += 1
    if eval_index is not None:
        state["eval_index"] = eval_index.astype(np.int64)
        state["eval_test_size"] = np.tile(stream.test_counts().numpy().astype(np.int64), (n_runs, 1))
    return RunRecord(
        acc, loss, rec["gain"], rec["entropy"], rec["drive"], rec["train_loss"], state, diverged_at,
        rec["lr_scale"],
    )

