"""How long a fresh process takes to import localcloud and have a started local cloud answering (target < 2 s).

Each round is a new Python process, so moto's import cost is counted every time, as a user's first command pays
it. Prints the median and the worst of the rounds, with the import and the start() shown apart.

Run: python benchmarks/localcloud_startup.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, time, urllib.request
started = time.perf_counter()
import localcloud
imported = time.perf_counter()
with localcloud.start() as endpoint:
    urllib.request.urlopen(endpoint + "/moto-api/data.json", timeout=5).read()  # it answers
    ready = time.perf_counter()
print(json.dumps({"import": imported - started, "start": ready - imported}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    runs = []
    for _ in range(rounds):
        done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    totals = [r["import"] + r["start"] for r in runs]
    print(f"rounds: {rounds}")
    print(f"import localcloud: median {statistics.median(r['import'] for r in runs) * 1000:.0f} ms")
    print(f"start() to answering: median {statistics.median(r['start'] for r in runs) * 1000:.0f} ms")
    print(f"import + start: median {statistics.median(totals) * 1000:.0f} ms, worst {max(totals) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
