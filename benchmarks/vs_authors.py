"""Wall time of lcne against the authors' released Split MNIST script, same data, same machine.

The authors' script (``experiments/ex1.py`` in github.com/alejandrorg00/ngm-sgd_project,
MIT licence) trains NGM-SGD, Adam and momentum SGD for seeds 42-46, one run after another,
and evaluates task 1 only after every iteration. It needs torchvision and reads MNIST from
``./data/MNIST/raw``. Nothing of it is included here: pass the path of your own checkout.

What this script does:

1. writes the images both programs train on as the four standard IDX files in
   ``WORK/data/MNIST/raw``, where torchvision finds them without downloading anything:
   the embedded 5,000-image subset (default), that subset resampled to full size
   (``--full-size``), the real full-size MNIST IDX files in ``--mnist-dir``, or the real
   full-size Fashion-MNIST (``--fashion-mnist [DIR]``, default
   ``/usr/share/datasets/fashion-mnist``; lcne then runs ``split-fashion-mnist``);
2. runs the authors' script in ``WORK`` with ``--authors-python`` (an interpreter whose
   environment has torch and torchvision) and times it, once per ``--authors-threads``
   count (default: once, with the inherited environment); without ``--authors-repo``
   this step is skipped (``--authors-seconds`` can carry an earlier measurement, which
   the report then labels as not measured in this run);
3. runs ``lcne run`` on the same files, once per ``--lcne-threads`` count (default 1 and
   2): with the authors' protocol (their three optimizers, task 1 evaluated) and with
   lcne's default grid (four optimizers, every seen task evaluated after every iteration);
4. reports every timing, then each program at its best thread count, the ratio of the
   same-protocol times and the per-run ratio (authors' seconds per run / lcne's default
   grid seconds per run); ``--json`` prints one JSON object.

Threads are set through ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` in each child's
environment (torch takes its intra-op thread count from them). Each program runs in its
own process, started from scratch, so each time includes the interpreter start, the imports
and the data loading. Run it on a quiet machine.

Usage::

    python benchmarks/vs_authors.py --authors-repo ~/src/ngm-sgd_project \\
        --authors-python ~/venvs/torchvision/bin/python --fashion-mnist --authors-threads 1,2 [--json]
    python benchmarks/vs_authors.py --fashion-mnist --authors-seconds 4569.7   # lcne's side only
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List, NoReturn, Optional

import numpy as np

from lcne.experiments.datasets.fashion import FASHION_MNIST_DIR, load_fashion_mnist
from lcne.experiments.datasets.mnist import ImageSet, load_mnist, save_mnist_idx
from lcne.errors import LcneError

#: the authors' protocol: optimizers of their Split MNIST script, in lcne's names
AUTHORS_OPTIMIZERS = "ngm,msgd,adam"
SEEDS = 5
ITERATIONS = 5 * 200  # five cumulative contexts of 200 iterations


def _fail(message: str) -> NoReturn:
    print(f"vs_authors: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _resample(ds: ImageSet, n: int, seed: int) -> ImageSet:
    """``n`` images drawn with replacement, class-balanced, so per-iteration costs match full MNIST."""
    rng = np.random.default_rng(seed)
    per_class = [rng.choice(np.flatnonzero(ds.labels == c), n // 10) for c in range(10)]
    idx = rng.permutation(np.concatenate(per_class))
    return ImageSet(ds.images[idx], ds.labels[idx], f"{ds.source}, resampled to {n}")


def prepare_data(work: Path, mnist_dir: Optional[str], full_size: bool, fashion_dir: Optional[str] = None) -> tuple:
    """Write the IDX files both programs read; return their folder, the training-set size and
    lcne's benchmark name (``split-fashion-mnist`` for Fashion-MNIST, else ``split-mnist``)."""
    if fashion_dir is not None:
        train, test = load_fashion_mnist(fashion_dir)
        benchmark = "split-fashion-mnist"
    else:
        train, test = load_mnist(mnist_dir)
        if full_size:
            train, test = _resample(train, 60_000, 0), _resample(test, 10_000, 1)
        benchmark = "split-mnist"
    return save_mnist_idx(train, test, work / "data" / "MNIST" / "raw"), len(train), benchmark


def _env(threads: Optional[int]) -> dict:
    env = dict(os.environ)
    if threads is not None:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    return env


def _timed(cmd: list, cwd: Path, log: Path, threads: Optional[int] = None) -> float:
    start = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT, env=_env(threads))
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = log.read_text().splitlines()[-5:]
        _fail(f"{' '.join(map(str, cmd[:3]))} ... exited with {proc.returncode}; last lines of {log}:\n"
              + "\n".join(tail))
    return seconds


def _check_authors(python: str, script: Path) -> None:
    if not script.is_file():
        _fail(f"{script} not found; --authors-repo must be a checkout of "
              "github.com/alejandrorg00/ngm-sgd_project (or pass --authors-script)")
    probe = subprocess.run([python, "-c", "import torch, torchvision"], capture_output=True, text=True)
    if probe.returncode != 0:
        _fail(f"{python} cannot import torch and torchvision, which the authors' script needs; pass "
              "--authors-python with the interpreter of an environment that has both")


def _thread_list(text: str) -> List[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma list of thread counts >= 1, e.g. 1,2")
    return values


def best_rows(rows: List[dict]) -> dict:
    """Per protocol key (``authors``, ``lcne_same``, ``lcne_default``): the row with the
    shortest time over the thread counts tried."""
    best: dict = {}
    for r in rows:
        if r["key"] not in best or r["seconds"] < best[r["key"]]["seconds"]:
            best[r["key"]] = r
    return best


def summary(rows: List[dict]) -> dict:
    """Ratios of the best rows: ``speedup_same_protocol`` (authors / lcne, same 15 runs,
    task 1), ``authors_s_per_run`` and ``lcne_default_s_per_run`` (wall seconds / runs),
    ``speedup_per_run`` (their ratio: lcne's runs evaluate every seen task, the authors'
    task 1 only) and ``default_grid_fraction_of_authors``; ratios are None without the
    authors' time."""
    best = best_rows(rows)
    a, same, full = best.get("authors"), best.get("lcne_same"), best.get("lcne_default")
    out = {"best": {k: {"threads": r["threads"], "seconds": r["seconds"], "measured": r["measured"]}
                    for k, r in best.items()},
           "lcne_default_s_per_run": full["seconds"] / full["runs"] if full else None}
    out["authors_s_per_run"] = a["seconds"] / a["runs"] if a else None
    out["speedup_same_protocol"] = a["seconds"] / same["seconds"] if a and same else None
    out["speedup_per_run"] = out["authors_s_per_run"] / out["lcne_default_s_per_run"] if a and full else None
    out["default_grid_fraction_of_authors"] = full["seconds"] / a["seconds"] if a and full else None
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--authors-repo", default=None,
                   help="checkout of github.com/alejandrorg00/ngm-sgd_project (without it only lcne runs)")
    p.add_argument("--authors-script", default="experiments/ex1.py", help="relative to --authors-repo")
    p.add_argument("--authors-python", default=sys.executable, help="interpreter with torch and torchvision")
    p.add_argument("--authors-threads", type=_thread_list, default=None,
                   help="comma list of thread counts for the authors' script (default: run once, environment as is)")
    p.add_argument("--authors-seconds", type=float, default=None,
                   help="without --authors-repo: an earlier measured time of the authors' script on the same data, "
                   "reported as not measured in this run")
    p.add_argument("--lcne-threads", type=_thread_list, default=[1, 2], help="comma list (default 1,2)")
    data = p.add_mutually_exclusive_group()
    data.add_argument("--mnist-dir", default=None, help="full MNIST IDX files (default: the embedded subset)")
    data.add_argument("--full-size", action="store_true",
                      help="resample the embedded images to 60,000 train / 10,000 test, the size of full MNIST")
    data.add_argument("--fashion-mnist", nargs="?", const=FASHION_MNIST_DIR, default=None, metavar="DIR",
                      help=f"the real full-size Fashion-MNIST IDX files (default folder {FASHION_MNIST_DIR}); "
                      "lcne runs split-fashion-mnist")
    p.add_argument("--iterations", type=int, default=None,
                   help="lcne only, for a quick check: iterations per context instead of the protocol's 200 "
                   "(refused with --authors-repo or --authors-seconds, whose times are of 200)")
    p.add_argument("--device", default="cpu", help="device for lcne (the authors' script picks cuda when present)")
    p.add_argument("--work", default=None, help="scratch folder (default: a new temporary folder)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    if args.authors_repo and args.authors_seconds is not None:
        p.error("--authors-seconds is for an earlier measurement; with --authors-repo the script is timed")
    if args.iterations is not None and (args.authors_repo or args.authors_seconds is not None or args.iterations < 1):
        p.error("--iterations N (N >= 1) is for a quick lcne-only check, without --authors-repo/--authors-seconds")

    work = Path(args.work or tempfile.mkdtemp(prefix="lcne-vs-authors-")).expanduser()
    work.mkdir(parents=True, exist_ok=True)
    try:
        raw, n_train, benchmark = prepare_data(work, args.mnist_dir, args.full_size, args.fashion_mnist)
    except LcneError as exc:
        _fail(str(exc))

    rows = []
    if args.authors_repo:
        script = Path(args.authors_repo).expanduser().resolve() / args.authors_script
        _check_authors(args.authors_python, script)
        for threads in args.authors_threads or [None]:
            seconds = _timed([args.authors_python, str(script)], work, work / f"authors-t{threads}.log", threads)
            rows.append(dict(key="authors", program="authors' ex1.py", threads=threads, measured=True,
                             protocol="3 optimizers x 5 seeds, task 1 evaluated", runs=3 * SEEDS, seconds=seconds))
    elif args.authors_seconds is not None:
        rows.append(dict(key="authors", program="authors' ex1.py", threads=None, measured=False,
                         protocol="3 optimizers x 5 seeds, task 1 evaluated (earlier measurement, not run now)",
                         runs=3 * SEEDS, seconds=float(args.authors_seconds)))
    lcne = [sys.executable, "-m", "lcne.experiments.cli", "run", benchmark, "--data-dir", str(raw),
            "--no-figure", "--quiet", "--device", args.device]
    if args.iterations is not None:
        lcne += ["--iterations", str(args.iterations)]
    for threads in args.lcne_threads:
        same = _timed(lcne + ["--optimizers", AUTHORS_OPTIMIZERS, "--eval-tasks", "first",
                              "--out", str(work / f"lcne-authors-protocol-t{threads}")], work,
                      work / f"lcne-authors-protocol-t{threads}.log", threads)
        rows.append(dict(key="lcne_same", program="lcne run", threads=threads, measured=True,
                         protocol="same: 3 optimizers x 5 seeds, task 1 evaluated", runs=3 * SEEDS, seconds=same))
        full = _timed(lcne + ["--out", str(work / f"lcne-default-t{threads}")], work,
                      work / f"lcne-default-t{threads}.log", threads)
        rows.append(dict(key="lcne_default", program="lcne run", threads=threads, measured=True,
                         protocol="default: 4 optimizers x 5 seeds, every seen task evaluated", runs=4 * SEEDS,
                         seconds=full))
    iterations = ITERATIONS if args.iterations is None else 5 * args.iterations
    for r in rows:
        r["run_iterations_per_s"] = r["runs"] * (ITERATIONS if r["key"] == "authors" else iterations) / r["seconds"]

    report = dict(
        benchmark=benchmark, training_images=n_train, full_size=args.full_size or args.fashion_mnist is not None
        or args.mnist_dir is not None, data_dir=str(raw), device=args.device, iterations_per_run=iterations,
        machine=f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        rows=rows, work=str(work), **summary(rows),
    )
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{benchmark}, {n_train} training images, {report['machine']}; logs in {work}\n")
    print(f"{'program':<16} {'protocol':<74} {'threads':>7} {'wall s':>8} {'run-it/s':>9}")
    for r in rows:
        t = "env" if r["threads"] is None else r["threads"]
        print(f"{r['program']:<16} {r['protocol']:<74} {t:>7} {r['seconds']:>8.1f} {r['run_iterations_per_s']:>9.0f}")
    print("\nbest thread count: " + "; ".join(f"{k} {v['seconds']:.1f} s ({v['threads'] or 'env'} threads)"
                                              for k, v in report["best"].items()))
    if report["speedup_same_protocol"] is not None:
        note = "" if report["best"]["authors"]["measured"] else " (authors' time from an earlier measurement)"
        print(f"same protocol: lcne is {report['speedup_same_protocol']:.1f}x faster; per run, lcne's default grid "
              f"(every seen task) is {report['speedup_per_run']:.1f}x faster than the authors' runs (task 1)"
              f"{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
