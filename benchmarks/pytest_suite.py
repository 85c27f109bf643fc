"""How long the README's test command takes as a whole process: wall time, CPU time and the slowest files.

Runs ``python -m pytest`` from the project's venv in the repository (pytest-xdist's ``-n auto --dist loadfile``
come from pyproject.toml), with only ``--junitxml`` added so the per-file times can be read back. CPU time is the
process tree's (os.wait4: the pytest process, its xdist workers and everything they started and waited for).
The machine's load is printed before and after: on a shared machine a loaded figure says little about the suite.

``--also "-n 3" --also "--dist worksteal"`` adds runs with those arguments appended (pytest takes the last
``-n``/``--dist`` given), alternating with the README's command, ``--rounds`` times each, side by side.
``--against DIR`` adds the README's command run in another checkout (say, main's:
``git worktree add /tmp/main main``), alternating the same way: an A/B of two versions of the suite on one
machine in one period of load. CPU is the figure to compare on a shared machine; wall moves with the load.

``--fresh`` runs each one as CI does: in a new ``git clone`` of the checkout (its committed HEAD: no pytest cache,
no lint cache), after ``invoke lint`` there, untimed (``.ci/run`` lints before the tests, and the tests reuse
lint's cache). A checkout that has run the suite before has warm caches that CI never sees.

Run: python benchmarks/pytest_suite.py [--rounds 1] [--also "ARGS" ...] [--against DIR] [--fresh] [--files 12]
"""

from __future__ import annotations

import argparse
import collections
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README_COMMAND = [sys.executable, "-m", "pytest"]


@dataclass
class Run:
    label: str
    wall: float
    cpu: float
    code: int
    summary: str
    files: dict[str, float] = field(default_factory=dict)
    load: tuple[float, float] = (0.0, 0.0)
    failures: list[str] = field(default_factory=list)


def _file_times(junit: Path) -> dict[str, float]:
    """Seconds per test file (setup, call and teardown of each of its tests), from the JUnit report."""
    times: dict[str, float] = collections.defaultdict(float)
    for case in ET.parse(junit).iter("testcase"):
        module = case.get("classname", "").split(".")
        parts = [p for p in module if not p[:1].isupper()]  # drop test classes: Module.Class -> module
        times["/".join(parts) + ".py"] += float(case.get("time") or 0)
    return dict(times)


def fresh_clone(checkout: Path, into: Path) -> Path:
    """A clone of ``checkout``'s HEAD with lint run once, as CI has it when its test step starts."""
    subprocess.run(["git", "clone", "-q", str(checkout), str(into)], check=True)
    linted = subprocess.run([sys.executable, "-m", "invoke", "lint"], cwd=into, capture_output=True, text=True)
    if linted.returncode != 0:
        raise SystemExit(f"invoke lint failed in a clone of {checkout}:\n{linted.stdout}{linted.stderr}")
    return into


def run_once(label: str, extra: list[str], cwd: Path = ROOT, fresh: bool = False) -> Run:
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        if fresh:
            cwd = fresh_clone(cwd, Path(tmp) / "clone")
        before = os.getloadavg()[0]
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*README_COMMAND, *extra, f"--junitxml={junit}"],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        output = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        lines = [line for line in output.splitlines() if " in " in line and ("passed" in line or "failed" in line)]
        files = _file_times(junit) if junit.exists() else {}
    return Run(
        label,
        wall,
        usage.ru_utime + usage.ru_stime,
        proc.returncode,
        lines[-1].strip("= ") if lines else output[-500:],
        files,
        (before, os.getloadavg()[0]),
        [line for line in output.splitlines() if line.startswith(("FAILED ", "ERROR "))],
    )


def report(run: Run, files: int) -> None:
    cores = len(os.sched_getaffinity(0))
    print(f"\n{run.label}: exit {run.code}, {run.summary}")
    for line in run.failures:
        print(f"  {line}")
    print(f"  wall {run.wall:6.1f} s   CPU {run.cpu:6.1f} s (user+sys, whole tree)   cores {cores}")
    print(f"  load average (1 min) {run.load[0]:.2f} before, {run.load[1]:.2f} after")
    if run.files:
        total = sum(run.files.values())
        print(f"  test time summed over files {total:.1f} s; spread over {cores} cores at best {total / cores:.1f} s")
        print("  slowest files (a file runs on one worker with --dist loadfile, so the longest bounds the wall):")
        for name, seconds in sorted(run.files.items(), key=lambda item: -item[1])[:files]:
            print(f"    {seconds:6.1f} s  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--also", action="append", default=[], help='also run with these arguments, e.g. "-n 3"')
    parser.add_argument("--against", type=Path, help="also run the README command in this other checkout")
    parser.add_argument("--fresh", action="store_true", help="each run in a new clone, after invoke lint, as CI")
    parser.add_argument("--files", type=int, default=12, help="how many of the slowest files to list")
    args = parser.parse_args()
    variants = [("README command (python -m pytest)", [], ROOT)]
    variants += [(f"with {a}", shlex.split(a), ROOT) for a in args.also]
    if args.against:
        variants.append((f"README command in {args.against}", [], args.against.resolve()))
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        # pytest honours it (its documented switch for not caching rewritten test modules): each xdist worker
        # then rewrites and compiles every test module at collection, about 1.3 s of CPU each on this machine.
        print("note: PYTHONDONTWRITEBYTECODE is set, so every worker rewrites the test modules' asserts again")
    runs: list[Run] = []
    for _ in range(args.rounds):
        for label, extra, cwd in variants:
            runs.append(run_once(label, extra, cwd, args.fresh))
            report(runs[-1], args.files)
    if len(runs) > 1:
        print("\nside by side (wall / CPU, seconds):")
        for label, *_ in variants:
            mine = [r for r in runs if r.label == label]
            wall, cpu = statistics.median(r.wall for r in mine), statistics.median(r.cpu for r in mine)
            medians = f"   median {wall:5.1f} / {cpu:5.1f}"
            print(f"  {label:40} " + "  ".join(f"{r.wall:5.1f} / {r.cpu:5.1f}" for r in mine) + medians)


if __name__ == "__main__":
    main()
