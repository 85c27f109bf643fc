"""Rollback on the local cloud: how long from a failed verify to a verified restore of the last good version.

    python benchmarks/rollback_local.py [runs]

Each run, on an embedded local cloud: deploy and verify the repository's handler (recorded as the last verified
version), then deploy a handler that raises, through `deploy_and_verify` as `invoke pipeline` runs it. Verify
fails fast, the last verified version is redeployed and verified. Printed per run and as medians: the seconds
from the failed verify to the verified restore, and the seconds the environment ran the failing version (from
the stack's last update to the restore).
"""

from __future__ import annotations

import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RAISING = "def handler(event, context):\n    raise RuntimeError('broken on purpose')\n"
FIGURES = re.compile(
    r"verify passed on it ([0-9.]+) s after the failure\. The environment ran the failing version \w+ "
    r"for ([0-9.]+) s"
)


def one_run(endpoint: str, index: int, folder: Path) -> tuple[float, float, float]:
    from pipeline import commands
    from pipeline.config import resolve
    from pipeline.restore import RolledBack

    name = f"rollback{index}"
    settings = resolve({"environments": {name: {}}, "environment": name}, env={"AWS_ENDPOINT_URL": endpoint})
    good = folder / f"good-{index}"
    shutil.copytree(ROOT / "lambda", good, ignore=shutil.ignore_patterns("__pycache__"))
    bad = folder / f"bad-{index}"
    shutil.copytree(good, bad)
    (bad / "handler.py").write_text(RAISING)
    commands.deploy_and_verify(replace(settings, lambda_dir=good))
    started = time.monotonic()
    try:
        commands.deploy_and_verify(replace(settings, lambda_dir=bad))
    except RolledBack as done:
        found = FIGURES.search(str(done))
        assert found, str(done)
        return float(found.group(1)), float(found.group(2)), time.monotonic() - started
    raise SystemExit("the failing handler passed verify: nothing was rolled back")


def main(runs: int) -> None:
    import contextlib
    import io

    import localcloud

    results = []
    with localcloud.start() as endpoint, tempfile.TemporaryDirectory() as folder:
        for index in range(runs):
            with contextlib.redirect_stdout(io.StringIO()):
                results.append(one_run(endpoint, index, Path(folder)))
            restore, bad, total = results[-1]
            print(
                f"run {index + 1}: failed verify -> verified restore {restore:.2f} s; on the failing version "
                f"{bad:.2f} s; bad deploy + verify + rollback {total:.2f} s",
                flush=True,
            )
    for label, column in (
        ("failed verify -> verified restore", 0),
        ("on the failing version", 1),
        ("bad deploy + verify + rollback", 2),
    ):
        print(f"median {label}: {statistics.median(r[column] for r in results):.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
