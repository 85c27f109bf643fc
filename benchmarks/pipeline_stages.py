"""How long `invoke pipeline` takes on a fresh clone and run again, stage by stage (target at most 3 s).

Each round clones this checkout's HEAD into a temporary folder (no lint cache, no state) and runs
`invoke pipeline` there twice as whole processes, with the project's venv: "fresh" (every lint check runs) and
"again" (lint answered from its cache). Each output line is time-stamped as it arrives, and the stages are cut
at the lines that open them:

  start-up   process start to the first line (Python, invoke, the task's imports)
  lint       to the "Lint:" summary (the embedded local cloud is starting meanwhile, in its own process)
  cloud      to the deploy's banner (waiting for the local cloud to answer, connecting)
  package    to the "Package:" line
  deploy     to the stack's final status line
  verify     to the "Verified:" line
  teardown   to the process's exit (stopping the local cloud and its Lambda workers)

Prints the median of each stage and of the total, the worst total, and the CPU time the whole run took (the
task and every process it waited for: lint's tools, the local cloud): on a busy machine the wall times stretch,
the CPU times much less. With several ``--rev``, each round runs every revision in turn (alternating which goes
first), so they are compared side by side. Run on a quiet machine:
python benchmarks/pipeline_stages.py [--rounds 3] [--checkout DIR] [--rev REV ...]
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INVOKE = str(Path(sys.executable).parent / "invoke")
STAGES = [  # (stage, the regular expression of the line that ends it)
    ("start-up", r""),
    ("lint", r"^Lint: "),
    ("cloud", r"^Deploying stack "),
    ("package", r"^Package: "),
    ("deploy", r"^(Stack \S+: [A-Z_]+\.|No changes: )"),
    ("verify", r"^Verified: "),
]


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed_run(checkout: Path) -> dict[str, float]:
    """One whole `invoke pipeline` process: the time at which each stage ended, and its CPU time."""
    cpu = _children_cpu()
    started = time.perf_counter()
    process = subprocess.Popen(
        [INVOKE, "pipeline"], cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    ends: dict[str, float] = {}
    lines = []
    for line in process.stdout:
        now = time.perf_counter() - started
        lines.append(line)
        ends.setdefault("start-up", now)
        for stage, pattern in STAGES[1:]:
            if pattern and stage not in ends and re.search(pattern, line):
                ends[stage] = now
    if process.wait() != 0:
        sys.exit(f"invoke pipeline failed in {checkout}:\n{''.join(lines[-30:])}")
    ends["teardown"] = time.perf_counter() - started
    ends["cpu"] = _children_cpu() - cpu
    return ends


def durations(ends: dict[str, float]) -> dict[str, float]:
    """Stage lengths from stage end times; a stage whose line never appeared counts towards the next."""
    out, previous = {}, 0.0
    for stage in [s for s, _ in STAGES] + ["teardown"]:
        if stage in ends:
            out[stage], previous = ends[stage] - previous, ends[stage]
    out["total"], out["cpu"] = ends["teardown"], ends["cpu"]
    return out


def clone(source: Path, into: Path, rev: str) -> Path:
    subprocess.run(["git", "clone", "-q", str(source), str(into)], check=True)
    subprocess.run(["git", "checkout", "-q", rev], cwd=into, check=True)
    return into


def print_table(runs: dict[str, list[dict[str, float]]]) -> None:
    names = [s for s, _ in STAGES] + ["teardown", "total", "cpu"]
    width = max(12, *(len(kind) + 2 for kind in runs))
    print(f"{'stage':10}" + "".join(f"{kind:>{width}}" for kind in runs))
    for name in names:
        cells = []
        for samples in runs.values():
            values = [s[name] for s in samples if name in s]
            cells.append(f"{statistics.median(values):{width - 1}.2f}s" if values else f"{'-':>{width}}")
        print(f"{name:10}" + "".join(cells))
    worst = (max(s["total"] for s in samples) for samples in runs.values())
    print(f"{'worst':10}" + "".join(f"{value:{width - 1}.2f}s" for value in worst))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the repository to clone")
    parser.add_argument("--rev", action="append", help="revision to run (repeat to compare; default HEAD)")
    args = parser.parse_args()
    revs = args.rev or ["HEAD"]
    label = (lambda rev, kind: f"{rev} {kind}") if len(revs) > 1 else (lambda rev, kind: kind)
    runs: dict[str, list[dict[str, float]]] = {label(r, k): [] for r in revs for k in ("fresh clone", "again")}
    for index in range(args.rounds):
        for rev in revs[index % len(revs) :] + revs[: index % len(revs)]:  # each round another goes first
            with tempfile.TemporaryDirectory(prefix="pipeline-bench-") as folder:
                checkout = clone(args.checkout, Path(folder) / "clone", rev)
                fresh, again = durations(timed_run(checkout)), durations(timed_run(checkout))
            runs[label(rev, "fresh clone")].append(fresh)
            runs[label(rev, "again")].append(again)
            print(
                f"round {index + 1} {rev}: fresh clone {fresh['total']:.2f} s (cpu {fresh['cpu']:.2f} s), "
                f"again {again['total']:.2f} s (cpu {again['cpu']:.2f} s)",
                flush=True,
            )
    print(f"\nmedians of {args.rounds} rounds (whole `invoke pipeline` processes; cpu: all their processes):")
    print_table(runs)


if __name__ == "__main__":
    main()
