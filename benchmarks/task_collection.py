"""How long `invoke --list` and `invoke --help lint` take as whole processes (target at most 0.3 s).

Each round starts a new `invoke` process from the project's venv, as the user runs it, and the two commands
alternate. Prints the median and the worst of each, and the slowest imports of one `import tasks`.

Run: python benchmarks/task_collection.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INVOKE = str(Path(sys.executable).parent / "invoke")
COMMANDS = {"invoke --list": [INVOKE, "--list"], "invoke --help lint": [INVOKE, "--help", "lint"]}


def _seconds(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, capture_output=True, check=True)
    return time.perf_counter() - started


def _slowest_imports(count: int = 5) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import tasks"], cwd=ROOT, capture_output=True, text=True
    )
    rows = [line.split("|") for line in done.stderr.splitlines() if line.startswith("import time:") and "|" in line]
    timed = [(int(r[1]), r[2].rstrip()) for r in rows if r[1].strip().isdigit()]
    return [f"{us / 1000:7.1f} ms  {name}" for us, name in sorted(timed, reverse=True)[:count]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    rounds = parser.parse_args().rounds
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, argv in COMMANDS.items():
            times[name].append(_seconds(argv))
    print(f"rounds: {rounds} (whole processes, alternating)")
    for name, runs in times.items():
        print(f"{name:20} median {statistics.median(runs) * 1000:4.0f} ms, worst {max(runs) * 1000:4.0f} ms")
    print("slowest imports of `import tasks` (cumulative):")
    print("\n".join(f"  {line}" for line in _slowest_imports()))


if __name__ == "__main__":
    main()
