"""Continual evaluation for a user's own training loop, recorded in the results schema.

:class:`ContinualRecorder` is called once after every training step of a plain PyTorch
loop. It evaluates the model on the test set of every task seen so far (or all tasks, or
task 1 only), and records, per iteration, what ``lcne run`` records: ``accuracy`` and
``loss`` per task, and, from a :class:`lcne.GainLoop`, the ``gain`` g(t) applied in the
step, the batch ``entropy``, the ``drive``, the ``train_loss``, the LC state (``lc_v``,
``lc_u``, ...) and the front-end state (``unc_cpp``, ...). :meth:`ContinualRecorder.to_dataset`
returns an :class:`xarray.Dataset` built by the results writer
(:mod:`lcne.experiments.results`), so ``lcne figures``, ``lcne report``, ``lcne compare-bio``
and :func:`lcne.analysis.open_results` read it like the output of ``lcne run``;
:meth:`ContinualRecorder.save` writes it atomically. :func:`merge_runs` joins the runs of
several seeds and methods into one file.

Evaluation follows :func:`lcne.experiments.protocol.evaluate`: the test sets of all tasks
are stacked (sorted by task, inputs moved to the device once), and each chunk of
``chunk`` samples goes through the model in one forward pass shared by the tasks in it;
accuracy and mean cross-entropy are summed per task. The model is put in eval mode for
it (BatchNorm running statistics, dropout off, a :class:`lcne.GainLoop` frozen) and every
submodule is given back the mode it had.

A loop with the recorder::

    rec = ContinualRecorder(model, test_sets, iterations_per_task=200, lc=lc, seed=42)
    for t in range(5 * 200):
        lc.read(); ...train on one batch of task t // 200 + 1...; lc.observe(logits, y)
        rec.step()
    rec.save("results/my-model.nc")

The schema stores ``iterations_per_task`` and derives ``train_task`` from it: task k is
trained at iterations ``(k-1) I .. k I - 1``, and one run records ``I x n_tasks``
iterations, ``n_tasks`` being the number of test sets.
"""
from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr

from lcne.experiments.errors import ConfigError
from lcne.experiments.protocol import RunRecord
from lcne.experiments.results import concat_methods, finish_attrs, record_to_dataset, write_netcdf
from lcne.experiments.streams import JointTrainingStream

__all__ = ["ContinualRecorder", "merge_runs"]

log = logging.getLogger(__name__)

EVAL_TASKS = ("seen", "all", "first")


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _stack_test_sets(test_sets):
    """(x, y, task0, n_tasks, transform) from a stream, a mapping task -> (x, y) or a sequence."""
    if isinstance(test_sets, JointTrainingStream):
        s = test_sets
        return s.test_x, s.test_y, s.test_task - 1, s.n_tasks, s.eval_transform
    if isinstance(test_sets, Mapping):
        keys = sorted(test_sets)
        if keys != list(range(1, len(keys) + 1)):
            raise ConfigError(f"test_sets: tasks must be numbered 1..K, got {keys}")
        pairs = [test_sets[k] for k in keys]
    else:
        pairs = list(test_sets)
    if not pairs:
        raise ConfigError("test_sets: no test set given")
    xs, ys, ts = [], [], []
    for k, pair in enumerate(pairs, start=1):
        try:
            x, y = pair
        except (TypeError, ValueError):
            raise ConfigError(f"test_sets: task {k} is not a pair (inputs, labels)") from None
        x, y = torch.as_tensor(x), torch.as_tensor(y)
        if len(x) != len(y) or len(y) == 0:
            raise ConfigError(f"test_sets: task {k} has {len(x)} inputs and {len(y)} labels")
        xs.append(x)
        ys.append(y.long())
        ts.append(torch.full((len(y),), k - 1, dtype=torch.int64))
    return torch.cat(xs), torch.cat(ys), torch.cat(ts), len(pairs), None


class ContinualRecorder:
    """Evaluates a user's model after every training step and records the curves.

    Parameters
    ----------
    model : nn.Module
        Called as ``model(x) -> logits (batch, classes)``.
    test_sets : JointTrainingStream, mapping task -> (x, y), or sequence of (x, y)
        Test inputs and labels per task, tasks numbered from 1.
    iterations_per_task : int
        Training iterations of each task (the schema's ``iterations_per_task``).
    lc : lcne.GainLoop, optional
        Source of ``gain``, ``entropy``, ``drive``, ``train_loss`` and the LC state; it
        must have observed exactly one iteration before each :meth:`step`. Without one
        the gain is recorded as 1 and the other curves as NaN (a plain baseline).
    method : str, optional
        Name on the results' ``method`` axis (default from ``lc``: ``ngm`` for the
        paper's integrator on entropy, ``ngm+<lc>[+<front end>]`` for other LC models,
        ``sgd`` without an LC or with a constant gain of 1).
    seed : int
        Value on the ``seed`` axis.
    benchmark : str
        ``attrs["benchmark"]``; files of one benchmark are grouped by ``lcne report``.
    eval_tasks : {"seen", "all", "first"}
        Tasks evaluated at iteration t: 1..(task trained at t) (as ``lcne run``), all of
        them, or task 1 only. Tasks not evaluated are NaN.
    every : int
        Evaluate every ``every`` iterations (others NaN); 1 evaluates after every step.
    chunk : int
        Test samples per forward pass.
    device : optional
        Where the test inputs go (default: the device of the model's first parameter).
    transform : callable, optional
        Applied once to the stacked test inputs (default: the stream's eval transform).
    config : dict, optional
        Extra run configuration (lr, batch size, optimizer, ...) stored in
        ``attrs["config"]``.
    max_gain : float
        A run whose training loss or gain stops being finite, or whose gain exceeds this,
        is marked diverged there (``diverged_at``); its curves are NaN from then on.
    data_source : str
        ``attrs["data_source"]``.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        test_sets,
        *,
        iterations_per_task: int,
        lc=None,
        method: Optional[str] = None,
        seed: int = 0,
        benchmark: str = "custom",
        eval_tasks: str = "seen",
        every: int = 1,
        chunk: int = 2000,
        device=None,
        transform: Optional[Callable] = None,
        config: Optional[dict] = None,
        max_gain: float = 1e3,
        data_source: str = "",
    ):
        if not isinstance(iterations_per_task, int) or isinstance(iterations_per_task, bool) or iterations_per_task < 1:
            raise ConfigError(f"iterations_per_task: {iterations_per_task!r} must be a positive integer")
        if eval_tasks not in EVAL_TASKS:
            raise ConfigError(f"eval_tasks: {eval_tasks!r}; allowed: {', '.join(EVAL_TASKS)}")
        if not isinstance(every, int) or every < 1:
            raise ConfigError(f"every: {every!r} must be a positive integer")
        if not isinstance(chunk, int) or chunk < 1:
            raise ConfigError(f"chunk: {chunk!r} must be a positive integer")
        if lc is not None and not hasattr(lc, "last"):
            raise ConfigError(f"lc: expected an lcne.GainLoop, got {type(lc).__name__}")
        x, y, task, self.n_tasks, stream_transform = _stack_test_sets(test_sets)
        order = torch.argsort(task, stable=True)
        x, y, task = x[order], y[order], task[order]
        transform = transform if transform is not None else stream_transform
        if transform is not None:
            x = transform(x)
        if device is None:
            first = next(iter(model.parameters()), None)
            device = first.device if first is not None else torch.device("cpu")
        self.model, self.lc, self.device = model, lc, torch.device(device)
        self.x, self.y, self.task = x.to(self.device), y.to(self.device), task.to(self.device)
        counts = torch.bincount(task, minlength=self.n_tasks)
        self.counts = counts.to(torch.float64)
        self.ends = np.cumsum(counts.numpy())  # ends[k-1]: test samples of tasks 1..k
        self.iterations_per_task = iterations_per_task
        self.method = method or self._default_method(lc)
        self.seed, self.benchmark = int(seed), str(benchmark)
        self.eval_tasks, self.every, self.chunk = eval_tasks, every, chunk
        self.user_config = dict(config or {})
        self.max_gain, self.data_source = float(max_gain), str(data_source)
        self._lc_seen = lc.iteration if lc is not None else 0
        self._rows: List[dict] = []

    # ------------------------------------------------------------------ naming
    @staticmethod
    def _default_method(lc) -> str:
        if lc is None:
            return "sgd"
        cfg = lc.config()
        name = cfg["controller"].get("name", "lc")
        if name == "constant":
            values = cfg["controller"].get("value", [1.0])
            return "sgd" if all(float(v) == 1.0 for v in np.ravel(values)) else "fixed-gain"
        parts = ["ngm"] + ([name] if name != "paper" else [])
        unc = cfg["uncertainty"].get("name", "entropy")
        return "+".join(parts + ([unc] if unc != "entropy" else []))

    @property
    def iteration(self) -> int:
        """Iterations recorded so far."""
        return len(self._rows)

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def evaluate(self, n_tasks: Optional[int] = None):
        """Accuracy and mean loss on the test sets of tasks 1..n_tasks (default all),
        two float64 arrays (n_tasks,); the model's modes are restored afterwards."""
        k = self.n_tasks if n_tasks is None else int(n_tasks)
        end = int(self.ends[k - 1])
        modes = [(m, m.training) for m in self.model.modules()]
        self.model.eval()
        correct = torch.zeros(k, dtype=torch.float64, device=self.device)
        nll = torch.zeros(k, dtype=torch.float64, device=self.device)
        try:
            for start in range(0, end, self.chunk):
                stop = min(start + self.chunk, end)
                logits = self.model(self.x[start:stop])
                if logits.dim() != 2:
                    raise ConfigError(f"model output: expected logits (batch, classes), got shape {tuple(logits.shape)}")
                y, task = self.y[start:stop], self.task[start:stop]
                correct.index_add_(0, task, (logits.argmax(-1) == y).to(torch.float64))
                nll.index_add_(0, task, F.cross_entropy(logits, y, reduction="none").to(torch.float64))
        finally:
            for m, mode in modes:
                m.training = mode
        counts = self.counts[:k].to(self.device)
        return (correct / counts).cpu().numpy(), (nll / counts).cpu().numpy()

    def step(self, train_task: Optional[int] = None) -> Dict[str, np.ndarray]:
        """Record the training step just taken (call it after ``lc.observe``).

        Parameters
        ----------
        train_task : int, optional
            The 1-based task trained in this step; checked against the schema's
            ``iteration // iterations_per_task + 1``.

        Returns
        -------
        dict
            ``accuracy`` and ``loss`` (NaN where not evaluated), one value per task.
        """
        t = len(self._rows)
        expected = t // self.iterations_per_task + 1
        if expected > self.n_tasks:
            raise ConfigError(f"step(): iteration {t} is past the last task ({self.n_tasks} tasks x "
                              f"{self.iterations_per_task} iterations)")
        if train_task is not None and int(train_task) != expected:
            raise ConfigError(f"step(): train_task {train_task} at iteration {t}, but with iterations_per_task="
                              f"{self.iterations_per_task} iteration {t} trains task {expected}")
        row = {"accuracy": np.full(self.n_tasks, np.nan), "loss": np.full(self.n_tasks, np.nan)}
        if self.lc is not None:
            done = self.lc.iteration - self._lc_seen
            if done != 1:
                what = "before lc.observe() of this iteration" if done == 0 else f"after {done} lc.observe() calls"
                raise ConfigError(f"step() {what}: call lc.observe(logits, targets) once per training step, then step()")
            self._lc_seen = self.lc.iteration
            obs = self.lc.last
            row.update(gain=float(obs.gain[0]), entropy=float(obs.entropy[0]), drive=float(obs.drive[0]),
                       train_loss=float(obs.train_loss[0]),
                       state={k: float(v.reshape(-1)[0]) for k, v in obs.state.items()})
        else:
            row.update(gain=1.0, entropy=math.nan, drive=math.nan, train_loss=math.nan, state={})
        if t % self.every == 0:
            k = {"seen": expected, "all": self.n_tasks, "first": 1}[self.eval_tasks]
            acc, loss = self.evaluate(k)
            row["accuracy"][:k], row["loss"][:k] = acc, loss
        self._rows.append(row)
        return {"accuracy": row["accuracy"].copy(), "loss": row["loss"].copy()}

    # ------------------------------------------------------------------ results
    def record(self) -> RunRecord:
        """The curves as a one-run :class:`~lcne.experiments.protocol.RunRecord`."""
        T, K = len(self._rows), self.n_tasks
        expected = self.iterations_per_task * K
        if T != expected:
            raise ConfigError(f"recorded {T} iterations; the results schema needs iterations_per_task x n_tasks = "
                              f"{self.iterations_per_task} x {K} = {expected}")
        acc = np.stack([r["accuracy"] for r in self._rows])[None]
        loss = np.stack([r["loss"] for r in self._rows])[None]
        curves = {k: np.array([[r[k] for r in self._rows]], dtype=np.float64)
                  for k in ("gain", "entropy", "drive", "train_loss")}
        names = sorted({n for r in self._rows for n in r["state"]})
        state = {n: np.array([[r["state"].get(n, np.nan) for r in self._rows]]) for n in names}
        gain, tl = curves["gain"][0], curves["train_loss"][0]
        bad = ~np.isfinite(gain) | (gain > self.max_gain) | np.isinf(tl)
        if self.lc is not None:  # non-finite logits (train_loss is NaN by design without targets)
            bad |= ~np.isfinite(curves["entropy"][0])
        diverged = int(np.argmax(bad)) if bad.any() else -1
        lr_scale = np.ones((1, T))
        if diverged >= 0:
            acc[:, diverged:], loss[:, diverged:] = np.nan, np.nan
            for arr in (*curves.values(), *state.values(), lr_scale):
                arr[:, diverged:] = np.nan
        return RunRecord(acc, loss, curves["gain"], curves["entropy"], curves["drive"], curves["train_loss"],
                         state, np.array([diverged], dtype=np.int64), lr_scale)

    def config(self) -> dict:
        """The run configuration stored in ``attrs["config"]``."""
        cfg = {"benchmark": self.benchmark, "optimizers": [self.method], "seeds": [self.seed],
               "iterations": self.iterations_per_task, "eval_tasks": self.eval_tasks,
               "recorded_by": "lcne.experiments.continual.ContinualRecorder"}
        if self.lc is not None:
            lc_cfg = self.lc.config()
            cfg["lc"] = lc_cfg["controller"].get("name", "lc")
            cfg["uncertainty"] = lc_cfg["uncertainty"].get("name", "entropy")
            if cfg["lc"] == "paper":
                for key in ("eta", "gamma", "g0"):
                    if key in lc_cfg["controller"]:
                        value = lc_cfg["controller"][key]
                        cfg[key] = value[0] if isinstance(value, list) and len(value) == 1 else value
        cfg.update(self.user_config)
        return cfg

    def controllers(self) -> dict:
        """``{method: {"gain", "controller", "uncertainty"}}``, as ``lcne run`` stores it."""
        if self.lc is None:
            return {self.method: {"gain": "one", "controller": None, "uncertainty": None}}
        cfg = self.lc.config()
        name = cfg["controller"].get("name")
        kind = "lc"
        if name == "constant":
            kind = "one" if self.method == "sgd" else "fixed"
        return {self.method: {"gain": kind, **cfg}}

    def to_dataset(self) -> xr.Dataset:
        """The recorded run as a results Dataset (method, seed = 1, 1)."""
        ds = record_to_dataset(self.record(), self.method, [self.seed], self.iterations_per_task)
        config_json = json.dumps(self.config(), sort_keys=True, default=_jsonable)
        extra = {"data_source": self.data_source,
                 "controllers": json.dumps(self.controllers(), sort_keys=True, default=_jsonable)}
        return finish_attrs(ds, config_json, self.benchmark, self.iterations_per_task, extra)

    def save(self, path: Union[str, Path]) -> Path:
        """Write :meth:`to_dataset` to ``path`` (netCDF) atomically."""
        return write_netcdf(self.to_dataset(), path)


def merge_runs(runs: Sequence[Union[xr.Dataset, ContinualRecorder]]) -> xr.Dataset:
    """Join recorded runs (several seeds, several methods) into one results Dataset.

    All runs must share ``benchmark``, ``iterations_per_task`` and the tasks. Runs of one
    method are stacked along ``seed`` (sorted), methods along ``method`` in first-seen order.
    """
    parts = [r.to_dataset() if isinstance(r, ContinualRecorder) else r for r in runs]
    if not parts:
        raise ConfigError("merge_runs: no runs given")
    first = parts[0]
    keys = ("benchmark", "iterations_per_task", "n_tasks")
    for ds in parts[1:]:
        for key in keys:
            if ds.attrs.get(key) != first.attrs.get(key):
                raise ConfigError(f"merge_runs: runs differ in {key} ({first.attrs.get(key)!r} vs {ds.attrs.get(key)!r})")
    by_method: Dict[str, List[xr.Dataset]] = {}
    for ds in parts:
        for m in [str(v) for v in ds["method"].values]:
            by_method.setdefault(m, []).append(ds.sel({"method": [m]}))
    stacked, seeds, controllers = [], set(), {}
    for m, group in by_method.items():
        seen = [int(s) for ds in group for s in ds["seed"].values]
        if len(seen) != len(set(seen)):
            raise ConfigError(f"merge_runs: method {m!r} has seed {sorted(seen)} more than once")
        seeds.update(seen)
        stacked.append(xr.concat(group, dim="seed", data_vars="all", coords="minimal", join="outer").sortby("seed"))
    for ds in parts:
        controllers.update(json.loads(ds.attrs.get("controllers", "{}") or "{}"))
    merged = concat_methods(stacked) if len(stacked) > 1 else stacked[0]
    merged.attrs = {}
    config = json.loads(first.attrs.get("config", "{}"))
    config["seeds"] = sorted(seeds)
    config["optimizers"] = list(by_method)
    extra = {"data_source": first.attrs.get("data_source", ""),
             "controllers": json.dumps(controllers, sort_keys=True, default=_jsonable)}
    return finish_attrs(merged, json.dumps(config, sort_keys=True, default=_jsonable), first.attrs["benchmark"],
                        int(first.attrs["iterations_per_task"]), extra)
