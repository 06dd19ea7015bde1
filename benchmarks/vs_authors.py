"""Wall time of lcne against the authors' released Split MNIST script, same data, same machine.

The authors' script (``experiments/ex1.py`` in github.com/alejandrorg00/ngm-sgd_project,
MIT licence) trains NGM-SGD, Adam and momentum SGD for seeds 42-46, one run after another,
and evaluates task 1 only after every iteration. It needs torchvision and reads MNIST from
``./data/MNIST/raw``. Nothing of it is included here: pass the path of your own checkout.

What this script does:

1. writes the images lcne trains on (the embedded 5,000-image subset, or the IDX files in
   ``--mnist-dir``) as the four standard IDX files in ``WORK/data/MNIST/raw``, where
   torchvision finds them without downloading anything;
2. runs the authors' script in ``WORK`` with ``--authors-python`` (an interpreter whose
   environment has torch and torchvision) and times it;
3. runs ``lcne run split-mnist`` on the same files twice: with the authors' protocol (their
   three optimizers, task 1 evaluated) and with lcne's default grid (four optimizers,
   every seen task evaluated after every iteration);
4. prints a table of wall times and ratios, or with ``--json`` one JSON object.

Each program runs in its own process, started from scratch, so each time includes the
interpreter start, the imports and the data loading. Run it on a quiet machine.

Usage::

    python benchmarks/vs_authors.py --authors-repo ~/src/ngm-sgd_project \\
        --authors-python ~/venvs/torchvision/bin/python [--full-size] [--json]
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
from typing import NoReturn

import numpy as np

from lcne.experiments.datasets.mnist import ImageSet, load_mnist, save_mnist_idx

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


def prepare_data(work: Path, mnist_dir: str | None, full_size: bool) -> tuple:
    """Write the MNIST IDX files both programs read; return their folder and the training-set size."""
    train, test = load_mnist(mnist_dir)
    if full_size:
        train, test = _resample(train, 60_000, 0), _resample(test, 10_000, 1)
    return save_mnist_idx(train, test, work / "data" / "MNIST" / "raw"), len(train)


def _timed(cmd: list, cwd: Path, log: Path) -> float:
    start = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--authors-repo", required=True, help="checkout of github.com/alejandrorg00/ngm-sgd_project")
    p.add_argument("--authors-script", default="experiments/ex1.py", help="relative to --authors-repo")
    p.add_argument("--authors-python", default=sys.executable, help="interpreter with torch and torchvision")
    p.add_argument("--mnist-dir", default=None, help="full MNIST IDX files (default: the embedded subset)")
    p.add_argument("--full-size", action="store_true",
                   help="resample the images to 60,000 train / 10,000 test, the size of full MNIST")
    p.add_argument("--device", default="cpu", help="device for lcne (the authors' script picks cuda when present)")
    p.add_argument("--work", default=None, help="scratch folder (default: a new temporary folder)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)

    script = Path(args.authors_repo).expanduser().resolve() / args.authors_script
    _check_authors(args.authors_python, script)
    work = Path(args.work or tempfile.mkdtemp(prefix="lcne-vs-authors-")).expanduser()
    work.mkdir(parents=True, exist_ok=True)
    raw, n_train = prepare_data(work, args.mnist_dir, args.full_size)

    rows = []
    authors_s = _timed([args.authors_python, str(script)], work, work / "authors.log")
    rows.append(dict(program="authors' ex1.py", protocol="3 optimizers x 5 seeds, task 1 evaluated",
                     runs=3 * SEEDS, seconds=authors_s))
    lcne = [sys.executable, "-m", "lcne.experiments.cli", "run", "split-mnist", "--data-dir", str(raw),
            "--no-figure", "--quiet", "--device", args.device]
    same = _timed(lcne + ["--optimizers", AUTHORS_OPTIMIZERS, "--eval-tasks", "first",
                          "--out", str(work / "lcne-authors-protocol")], work, work / "lcne-authors-protocol.log")
    rows.append(dict(program="lcne run", protocol="same: 3 optimizers x 5 seeds, task 1 evaluated",
                     runs=3 * SEEDS, seconds=same))
    full = _timed(lcne + ["--out", str(work / "lcne-default")], work, work / "lcne-default.log")
    rows.append(dict(program="lcne run", protocol="default: 4 optimizers x 5 seeds, every seen task evaluated",
                     runs=4 * SEEDS, seconds=full))
    for r in rows:
        r["run_iterations_per_s"] = r["runs"] * ITERATIONS / r["seconds"]
        r["fraction_of_authors_time"] = r["seconds"] / authors_s

    report = dict(
        training_images=n_train, full_size=args.full_size, device=args.device,
        machine=f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        authors_s=authors_s, lcne_same_protocol_s=same, lcne_default_grid_s=full,
        speedup_same_protocol=authors_s / same, default_grid_fraction_of_authors=full / authors_s,
        rows=rows, work=str(work),
    )
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"Split MNIST, {n_train} training images, {report['machine']}; logs in {work}\n")
    print(f"{'program':<16} {'protocol':<58} {'wall s':>8} {'run-it/s':>9} {'x authors time':>15}")
    for r in rows:
        print(f"{r['program']:<16} {r['protocol']:<58} {r['seconds']:>8.1f} "
              f"{r['run_iterations_per_s']:>9.0f} {r['fraction_of_authors_time']:>15.3f}")
    print(f"\nsame protocol: lcne is {report['speedup_same_protocol']:.1f}x faster; the default grid "
          f"(more runs, every seen task) takes {report['default_grid_fraction_of_authors']:.2f} of the "
          "authors' time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
