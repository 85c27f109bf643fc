"""The package step with requirements to vendor, with uv and with pip: whole processes, side by side, alternating.

Each run is a new Python process that builds the function's zip from a copy of ``lambda/`` whose
``requirements.txt`` names a small wheel written on the spot (no index: the installers' own cost, which is what
the tests pay), or the lines of ``--requirements FILE`` (a real file: that goes to the index, warm after the first
round). It calls ``package.build``, the package step's own entry point (``invoke package`` adds only the upload),
once with uv and once with the uv lookup switched off so pip vendors, in alternating order. ``--against DIR``
adds the same build in another checkout (e.g. ``git worktree add /tmp/main main``), with whatever that checkout
vendors with. CPU is the process tree's (the Python process and the installer it ran, from RUSAGE_CHILDREN). Prints the
medians of wall and CPU for each, the ratio to uv, and each one's zip (the same bytes from uv and pip).

Run: python benchmarks/package_build.py [--rounds 5] [--requirements FILE] [--against DIR]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "test_pipeline"))
from tiny_wheel import tiny_wheel  # noqa: E402

# Run in the checkout being timed (its pipeline/ is the one imported); "pip" switches that checkout's uv lookup off.
BUILD = """
import sys
from pathlib import Path
from pipeline import package
if sys.argv[2] == "pip":
    from pipeline import vendor
    vendor.find_uv = lambda: None
artifact = package.build(Path(sys.argv[1]))
print(artifact.sha256, getattr(artifact, "note", ""), sep="\\n")  # older checkouts have no note
"""


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed_build(checkout: Path, code: Path, mode: str) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (the whole process tree) and the zip's SHA-256 of one build process."""
    cpu, started = _children_cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, "-c", BUILD, str(code), mode], cwd=checkout, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"the {mode} build in {checkout} failed:\n{done.stderr[-2000:]}")
    return wall, _children_cpu() - cpu, done.stdout.split("\n")[0]


def lambda_copy(folder: Path, requirements: Path | None) -> Path:
    code = folder / "lambda"
    shutil.copytree(ROOT / "lambda", code, ignore=shutil.ignore_patterns("__pycache__"))
    lines = requirements.read_text() if requirements else f"{tiny_wheel(folder)}\n"
    (code / "requirements.txt").write_text(lines)
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requirements", type=Path, help="vendor these requirement lines instead of a local wheel")
    parser.add_argument("--against", type=Path, help="also build in this other checkout")
    args = parser.parse_args()
    variants = [("uv", ROOT, "uv"), ("pip (uv switched off)", ROOT, "pip")]
    if args.against:
        variants.append((f"{args.against} as it is", args.against.resolve(), "default"))
    runs: dict[str, list[tuple[float, float, str]]] = {label: [] for label, *_ in variants}
    with tempfile.TemporaryDirectory(prefix="package-bench-") as folder:
        code = lambda_copy(Path(folder), args.requirements)
        for index in range(args.rounds):
            order = variants if index % 2 == 0 else variants[::-1]  # each round another goes first
            for label, checkout, mode in order:
                runs[label].append(timed_build(checkout, code, mode))
            print(f"round {index + 1}: " + ", ".join(f"{lb} {runs[lb][-1][0]:.2f} s" for lb, *_ in variants))
    print(f"\nmedians of {args.rounds} rounds (whole build processes; CPU: the process and its installer):")
    base = statistics.median(cpu for _, cpu, _ in runs["uv"])
    for label, samples in runs.items():
        wall, cpu = (statistics.median(s[i] for s in samples) for i in (0, 1))
        print(f"  {label:40} wall {wall:5.2f} s   CPU {cpu:5.2f} s   CPU / uv's {cpu / base:4.1f}")
    print("the zips (SHA-256; one per line means every round gave the same bytes):")
    for label, samples in runs.items():
        print(f"  {label:40} {' '.join(sorted({digest[:16] for *_, digest in samples}))}")


if __name__ == "__main__":
    main()
