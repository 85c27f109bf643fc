"""Render bad_inputs.md from a run of the catalogue: every bad input, the message it printed, its exit code.

BAD_INPUTS_RECORD=/tmp/bad.jsonl python -m pytest -q -n 2 tests/test_pipeline/test_bad_inputs.py
python tests/test_pipeline/bad_inputs_table.py /tmp/bad.jsonl > tests/test_pipeline/bad_inputs.md
"""

from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    with open(path, encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    rows.sort(key=lambda r: r["what"])
    print("# Bad inputs: what each one prints, and its exit code\n")
    print("Generated from `tests/test_pipeline/test_bad_inputs.py` by `bad_inputs_table.py` (see its docstring).")
    print("No case prints a traceback. Where a case could leave something behind, the test checks it did not: no stack")
    print("created, no artifact uploaded, no verify marker left in the bucket.\n")
    print("| Input | Message (stderr) | Exit |")
    print("|---|---|---|")
    for row in rows:
        what, message = (" ".join(str(row[k]).split()).replace("|", "\\|") for k in ("what", "message"))
        print(f"| {what} | {message} | {row['code']} |")
    print(f"\n{len(rows)} cases.")


if __name__ == "__main__":
    main(sys.argv[1])
