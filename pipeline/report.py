"""Rendering: plain-text tables and lines for the terminal, Markdown for the GitHub job summary.

Everything here takes data from the step modules and returns strings; ``emit`` and ``write_step_summary`` are
the only writers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pipeline.deploy import Change, DeployResult, Progress
from pipeline.lint import CheckResult


def emit(text: str = "") -> None:
    print(text, flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    line = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(cells[0]), line(["-" * w for w in widths]), *(line(r) for r in cells[1:])])


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    escape = lambda v: str(v).replace("|", "\\|")  # noqa: E731
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def _change_rows(changes: Sequence[Change]) -> list[tuple[str, str, str, str]]:
    return [(c.action, c.logical_id, c.resource_type, c.replacement or "-") for c in changes]


CHANGE_HEADERS = ("Action", "Logical ID", "Type", "Replacement")


def changes_table(changes: Sequence[Change]) -> str:
    return table(CHANGE_HEADERS, _change_rows(changes))


def event_line(event: dict[str, Any]) -> str:
    stamp = event.get("Timestamp")
    when = stamp.strftime("%H:%M:%S") if isinstance(stamp, datetime) else str(stamp or "")
    reason = event.get("ResourceStatusReason")
    text = f"{when}  {event.get('ResourceStatus', ''):<28} {event.get('ResourceType', ''):<30} "
    text += event.get("LogicalResourceId", "")
    return f"{text}  ({reason})" if reason else text


def outputs_table(outputs: dict[str, str]) -> str:
    return table(("Output", "Value"), sorted(outputs.items()))


def lint_table(results: Sequence[CheckResult]) -> str:
    rows = [(r.check.name, "ok" if r.ok else "FAILED", f"{r.seconds:.1f}s", r.summary) for r in results]
    return table(("Check", "Result", "Time", "Summary"), rows)


class TerminalProgress(Progress):
    """Prints a deploy's messages, change table and stack events as they happen."""

    def message(self, text: str) -> None:
        emit(text)

    def changes(self, changes: list[Change]) -> None:
        emit(changes_table(changes))

    def event(self, event: dict[str, Any]) -> None:
        emit(event_line(event))


def deploy_markdown(
    stack_name: str, result: DeployResult | None, error: str | None, changes: Sequence[Change] = ()
) -> str:
    parts = [f"### Deploy `{stack_name}`"]
    changes = result.changes if result and result.changes else changes  # a failed deploy has no result
    if changes:
        parts.append(markdown_table(CHANGE_HEADERS, _change_rows(changes)))
    if error:
        parts.append(f"**Result: failed.** {error}")
    elif result:
        parts.append(f"**Result: {result.outcome}** ({result.status or 'no stack status'}).")
    if result and result.outputs:
        parts.append(markdown_table(("Output", "Value"), sorted(result.outputs.items())))
    return "\n\n".join(parts) + "\n"


def write_step_summary(markdown: str, environ: dict[str, str] | None = None) -> None:
    """Append to the GitHub job summary when running in Actions (GITHUB_STEP_SUMMARY names a file)."""
    path = (os.environ if environ is None else environ).get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as summary:
            summary.write(markdown + "\n")


def error(text: str) -> None:
    print(f"Error: {text}", file=sys.stderr, flush=True)
