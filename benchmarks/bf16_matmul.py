"""bf16 against fp32 matmul rates on this CPU, the three shapes of the evaluation question.

Measures, in one process and interleaved (fp32, bf16, fp32, bf16, ...), the best of
``--trials`` trials of

* a square GEMM ``2048 x 2048 @ 2048 x 2048``,
* the evaluation-shaped batched product ``(20, 1000, 784) @ (20, 784, 400)`` (20 runs,
  a 1000-image chunk, the first layer of the MLP), and
* the broadcast product ``(1000, 784) @ (20, 784, 400)`` (one test chunk shared by the 20
  runs, what ``lcne.experiments.protocol.evaluate`` multiplies on whole test sets),

in GFLOP/s (``2 * m * k * n`` per product), plus bf16 autocast of the broadcast product
(the path ``--eval-precision bf16`` takes). Prints a Markdown table, or JSON with ``--json``.
Run with the thread count to report (``--threads``, default 2).

Usage::

    python benchmarks/bf16_matmul.py --threads 2 [--trials 5] [--json]
"""
from __future__ import annotations

import argparse
import json
import time

import torch


def _rate(fn, flops: float, min_seconds: float = 0.3) -> float:
    """GFLOP/s of one timed batch of calls of ``fn`` lasting at least ``min_seconds``."""
    fn()
    reps, start = 0, time.perf_counter()
    while True:
        fn()
        reps += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return reps * flops / elapsed / 1e9


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--trials", type=int, default=5)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    w = torch.randn(20, 784, 400, generator=g)
    shapes = {  # name: (left, right) operands in fp32
        "gemm 2048^2": (torch.randn(2048, 2048, generator=g), torch.randn(2048, 2048, generator=g)),
        "bmm (20,1000,784)@(20,784,400)": (torch.randn(20, 1000, 784, generator=g), w),
        "broadcast (1000,784)@(20,784,400)": (torch.randn(1000, 784, generator=g), w),
    }
    flops = {"gemm 2048^2": 2 * 2048**3, "bmm (20,1000,784)@(20,784,400)": 2 * 20 * 1000 * 784 * 400,
             "broadcast (1000,784)@(20,784,400)": 2 * 20 * 1000 * 784 * 400}
    ops = {}  # (name, precision): (flops, call); operands converted once, outside the timing
    for name, (x, y) in shapes.items():
        for label, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
            xc, yc = x.to(dtype), y.to(dtype)
            ops[(name, label)] = (flops[name], lambda xc=xc, yc=yc: torch.matmul(xc, yc))
    xs = shapes["broadcast (1000,784)@(20,784,400)"][0]

    def autocast_product():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return torch.matmul(xs, w)

    auto = "broadcast, bf16 autocast (what --eval-precision bf16 runs)"
    ops[(auto, "fp32")] = ops[("broadcast (1000,784)@(20,784,400)", "fp32")]
    ops[(auto, "bf16")] = (flops["broadcast (1000,784)@(20,784,400)"], autocast_product)
    best = {name: {"fp32": 0.0, "bf16": 0.0} for name, _ in ops}
    for _ in range(args.trials):
        for (name, label), (flops, fn) in ops.items():
            best[name][label] = max(best[name][label], _rate(fn, flops))
    if args.json:
        print(json.dumps({"threads": args.threads, "trials": args.trials, "gflops": best}))
        return 0
    print(f"torch {torch.__version__}, {args.threads} threads, best of {args.trials} trials (GFLOP/s)\n")
    print("| product | fp32 | bf16 | bf16 / fp32 |\n|---|---|---|---|")
    for name, r in best.items():
        print(f"| {name} | {r['fp32']:.1f} | {r['bf16']:.1f} | {r['bf16'] / r['fp32']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
