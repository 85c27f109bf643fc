"""Rendering: the terminal (through ``pipeline.console``) and Markdown for the GitHub job summary.

The step modules return data; this module turns it into tables, stage headers, event views and summaries.
On a terminal the output is coloured and the stack events are a live view; elsewhere it is plain, stable text
(one line per event), so logs and tests can read it.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from rich.box import SIMPLE_HEAD, Box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from pipeline import console as consoles
from pipeline import timeline
from pipeline.deploy import Change, ChangedProperty, DeployResult, Progress
from pipeline.events_view import EventView
from pipeline.lint import CheckResult

# Plain tables: a header, a row of dashes per column, no borders (as the tasks printed before rich).
PLAIN_BOX = Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)
ACTIONS = {"Add": ("+", "green"), "Modify": ("*", "yellow"), "Remove": ("-", "red")}
REPLACEMENT_STYLE = {"True": "bold red", "Conditional": "yellow"}
RECREATION_NOTE = {"Always": "replaces", "Conditionally": "may replace"}


def emit(text: str | RenderableType = "", stream=None) -> None:
    consoles.show(consoles.make(stream), text)


def stage(title: str, stream=None) -> None:
    """A stage header: a rule on a terminal, ``==> title`` in plain text."""
    out = consoles.make(stream)
    consoles.note(title)
    if out.is_terminal:
        out.rule(Text(title, style="bold cyan"), align="left")
    else:
        out.print(f"==> {title}")


def new_table(out: Console, *columns: str) -> Table:
    styled = out.is_terminal
    table = Table(
        box=SIMPLE_HEAD if styled else PLAIN_BOX,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        header_style="bold" if styled else None,
    )
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table as a string (for benchmarks and plain listings)."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    line = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(cells[0]), line(["-" * w for w in widths]), *(line(r) for r in cells[1:])])


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    escape = lambda v: str(v).replace("|", "\\|")  # noqa: E731
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


# -- change sets ---------------------------------------------------------------------------------------------
CHANGE_HEADERS = ("Action", "Logical ID", "Type", "Replacement", "Changed properties")


def action_label(action: str) -> str:
    mark = ACTIONS.get(action, ("?", ""))[0]
    return f"{mark} {action}"


def property_label(prop: ChangedProperty) -> str:
    note = RECREATION_NOTE.get(prop.recreation)
    return f"{prop.name} ({note})" if note else prop.name


def _change_rows(changes: Sequence[Change]) -> list[tuple[str, str, str, str, str]]:
    return [
        (
            action_label(c.action),
            c.logical_id,
            c.resource_type,
            c.replacement or "-",
            ", ".join(property_label(p) for p in c.properties),
        )
        for c in changes
    ]


def _properties_text(change: Change) -> Text:
    text = Text()
    for index, prop in enumerate(change.properties):
        text.append(", " if index else "")
        text.append(property_label(prop), style="bold red" if prop.recreation == "Always" else "")
    return text


def change_table(out: Console, changes: Sequence[Change]) -> Table:
    """SAM-style: ``+ Add``, ``* Modify``, ``- Remove``, replacement in red, with the changed properties.

    Ids and types never break; the properties wrap. When even that does not fit, each change becomes a block.
    """
    id_width = max([len(CHANGE_HEADERS[1]), *(len(c.logical_id) for c in changes)])
    type_width = max([len(CHANGE_HEADERS[2]), *(len(c.resource_type) for c in changes)])
    if len("* Modify") + id_width + type_width + len("Replacement") + 12 + 8 > out.width:
        return _stacked_change_table(out, changes)
    table = new_table(out, *CHANGE_HEADERS)
    for index in (0, 1, 2, 3):
        table.columns[index].no_wrap = True
    for change in changes:
        colour = ACTIONS.get(change.action, ("", ""))[1]
        table.add_row(
            Text(action_label(change.action), style=colour),
            Text(change.logical_id, style=colour),
            change.resource_type,
            _replacement_text(change),
            _properties_text(change),
        )
    return table


def _replacement_text(change: Change) -> Text:
    replacement = change.replacement or "-"
    return Text(replacement, style=REPLACEMENT_STYLE.get(replacement, ""))


def _stacked_change_table(out: Console, changes: Sequence[Change]) -> Table:
    """For a narrow terminal: the action, then the resource and what changes, wrapped by words."""
    table = new_table(out, "Action", "Change")
    table.columns[0].no_wrap = True
    for change in changes:
        colour = ACTIONS.get(change.action, ("", ""))[1]
        body = Text.assemble((change.logical_id, colour), f" {change.resource_type}")
        if change.action == "Modify":
            body.append("\nreplacement ")
            body.append_text(_replacement_text(change))
        if change.properties:
            body.append("; ")
            body.append_text(_properties_text(change))
        table.add_row(Text(action_label(change.action), style=colour), body)
    return table


def changes_table(changes: Sequence[Change], width: int | None = None) -> str:
    """The change table as plain text (the same layout the terminal shows, without colour)."""
    buffer = io.StringIO()
    out = consoles.make(buffer, width=width)
    consoles.show(out, change_table(out, changes))
    return buffer.getvalue().rstrip("\n")


def outputs_table(outputs: dict[str, str]) -> str:
    return table(("Output", "Value"), sorted(outputs.items()))


def lint_table(results: Sequence[CheckResult]) -> str:
    rows = [(r.check.name, "ok" if r.ok else "FAILED", f"{r.seconds:.1f}s", r.summary) for r in results]
    return table(("Check", "Result", "Time", "Summary"), rows)


# -- a deploy as it happens ----------------------------------------------------------------------------------
class TerminalProgress(Progress):
    """Shows a deploy's messages, change table and stack events as they happen, and asks before executing.

    ``ask`` (a question -> answer function) is given only when a confirmation is wanted: an interactive
    terminal deploying to AWS without ``--yes``. Use as a context manager so a live view always ends.
    """

    def __init__(self, stream=None, ask: Callable[[str], str] | None = None) -> None:
        self.console = consoles.make(stream)
        self.ask = ask
        self.view = EventView(self.console)
        self.events: list[dict[str, Any]] = []

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.view.close()

    def message(self, text: str) -> None:
        consoles.show(self.console, text)

    def changes(self, changes: list[Change]) -> None:
        self.view.expect((c.logical_id, c.resource_type) for c in changes)
        consoles.show(self.console, change_table(self.console, changes))

    def event(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self.view.add(event)

    def confirm(self, changes: list[Change]) -> bool:
        if self.ask is None:
            return True
        try:
            answer = self.ask(f"Execute this change set ({len(changes)} changes)? [y/N] ")
        except EOFError:
            answer = ""
        return answer.strip().lower() in ("y", "yes")


def wants_confirmation(target: str, yes: bool, stdin=None, stdout=None) -> bool:
    """SAM's confirm_changeset: only on AWS, only when someone is there to answer, and not with --yes."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    return target == "aws" and not yes and stdin.isatty() and consoles.is_styled(stdout)


def timeline_block(stack_name: str, events: Sequence[dict[str, Any]], bar_width: int = 40) -> RenderableType:
    """``--timeline``: each resource's span as a bar on one time axis, then the Mermaid text of the chart."""
    spans = timeline.spans(events)
    if not spans:
        return Text("No stack events in this deploy, so there is no timeline (nothing was executed).")
    start = min(s.start for s in spans)
    total = max((max(s.end for s in spans) - start).total_seconds(), 0.001)
    chart = Table(box=None, show_header=False, pad_edge=False, padding=(0, 2, 0, 0))
    for _ in range(3):
        chart.add_column(no_wrap=True)
    for span in spans:
        offset = round((span.start - start).total_seconds() / total * bar_width)
        length = max(1, round(span.seconds / total * bar_width))
        bar = Text(" " * offset + "#" * min(length, bar_width - offset + 1), style="red" if span.failed else "cyan")
        chart.add_row(span.logical_id, bar, f"{span.seconds:.1f}s")
    mermaid = timeline.mermaid(stack_name, spans)
    return Group(Text("Timeline:"), chart, Text(""), Text("As Mermaid (GitHub renders it):"), Text(mermaid))


# -- job summaries -------------------------------------------------------------------------------------------
def deploy_markdown(
    stack_name: str,
    result: DeployResult | None,
    error: str | None,
    changes: Sequence[Change] = (),
    events: Sequence[dict[str, Any]] = (),
) -> str:
    parts = [f"### Deploy `{stack_name}`"]
    changes = result.changes if result and result.changes else changes  # a failed deploy has no result
    if changes:
        parts.append(markdown_table(CHANGE_HEADERS, _change_rows(changes)))
    chart = timeline.markdown(stack_name, events)
    if chart:
        parts.append(chart)
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
    out = consoles.make(sys.stderr)
    out.print(Text(f"Error: {text}", style="bold red" if out.is_terminal else ""))
