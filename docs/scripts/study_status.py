"""Write docs/study.md's status page from the study's batch files (until the report replaces it).

Counts, per study spec and phase, the batches ``lcne sweep`` plans and the ones whose file
exists; the numbers in the page come from the files, not from prose.

    python docs/scripts/study_status.py [--out docs/study.md]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from lcne.experiments.sweep import batch_path, expand, load_spec, test_batches

ROOT = Path(__file__).resolve().parents[2]
SPECS = ["experiments/studies/study_mnist.yaml", "experiments/studies/study_fashion.yaml"]


def status_lines():
    rows = ["| part | phase | benchmark | batches done | batches planned | runs done |", "|---|---|---|---|---|---|"]
    for rel in SPECS:
        spec = load_spec(ROOT / rel)
        out = ROOT / spec.out
        tuning = expand(spec, eval_split="validation", seeds=spec.selection["seeds"])
        phases = [("tuning", tuning, out / "tuning")]
        if (out / "selection.json").exists():
            chosen = {tuple(k.split("/", 1)): v for k, v in json.loads((out / "selection.json").read_text()).items()}
            sched = out / "schedule.json"
            schedules = json.loads(sched.read_text()) if sched.exists() else None
            phases.append(("test", test_batches(spec, chosen, schedules), out))
        else:
            phases.append(("test", None, out))
        for phase, batches, root in phases:
            for bench in spec.benchmarks:
                if batches is None:
                    rows.append(f"| {spec.name} | {phase} | {bench} | 0 | after the tuning phase | 0 |")
                    continue
                mine = [c for c in batches if c.benchmark == bench]
                done = [c for c in mine if batch_path(root, c).exists()]
                runs = sum(len(c.optimizers) * len(c.seeds) for c in done)
                rows.append(f"| {spec.name} | {phase} | {bench} | {len(done)} | {len(mine)} | {runs} |")
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "docs" / "study.md"))
    args = p.parse_args(argv)
    text = "\n".join([
        "# The pre-registered study: status",
        "",
        "The protocol is [study_protocol.md](study_protocol.md), committed before any tuning or",
        "test-phase run. This page is replaced by the generated report (`lcne study-report`) once",
        "the test phase is complete; until then it says only how far the study has run (written by",
        "`python docs/scripts/study_status.py` from the batch files under `results/studies/`). No",
        "result is stated here before the test phase of a benchmark is complete.",
        "",
        *status_lines(),
        "",
        "Resume with `lcne sweep experiments/studies/study_mnist.yaml` and then",
        "`lcne sweep experiments/studies/study_fashion.yaml`: finished batches are skipped.",
        "",
    ])
    Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
