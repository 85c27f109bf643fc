"""A deploy's timeline: each resource's span from its stack events, and a Mermaid Gantt chart of them.

GitHub renders ```` ```mermaid ```` blocks in job summaries, so the deploy summary shows the same picture rain
draws in a terminal. Everything here is pure: events in, data or text out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Span:
    logical_id: str
    resource_type: str
    start: datetime
    end: datetime
    status: str  # the last status seen
    failed: bool  # any *_FAILED on the way

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def in_progress(self) -> bool:
        return self.status.endswith("_IN_PROGRESS")


def spans(events: Iterable[dict[str, Any]]) -> list[Span]:
    """One span per logical resource, from its first to its last event, in the order resources started."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for event in sorted(events, key=lambda e: e["Timestamp"]):
        grouped.setdefault(event["LogicalResourceId"], []).append(event)
    return [
        Span(
            logical_id,
            seen[-1].get("ResourceType", ""),
            seen[0]["Timestamp"],
            seen[-1]["Timestamp"],
            seen[-1].get("ResourceStatus", ""),
            any(e.get("ResourceStatus", "").endswith("_FAILED") for e in seen),
        )
        for logical_id, seen in grouped.items()
    ]


def short_type(resource_type: str) -> str:
    """``AWS::S3::Bucket`` -> ``S3 Bucket``: Mermaid task names may not hold ':'."""
    parts = resource_type.split("::")
    return " ".join(parts[1:] if parts[0] == "AWS" else parts)


def _millis(stamp: datetime) -> int:
    return int(stamp.timestamp() * 1000)


def _task(span: Span, index: int) -> str:
    tags = "crit" if span.failed else "active" if span.in_progress else "done"
    if _millis(span.end) == _millis(span.start):
        tags += ", milestone"  # a zero-length bar would not be drawn at all
    name = f"{span.logical_id} ({short_type(span.resource_type)}) {span.seconds:.1f}s"
    return f"    {name} :{tags}, t{index}, {_millis(span.start)}, {_millis(span.end)}"


def mermaid(stack_name: str, all_spans: Sequence[Span]) -> str:
    """A Mermaid ``gantt`` chart: the stack first, then its resources in the order they started."""
    stack = [s for s in all_spans if s.logical_id == stack_name]
    resources = [s for s in all_spans if s.logical_id != stack_name]
    lines = ["gantt", f"    title Deploy of {stack_name}", "    dateFormat x", "    axisFormat %H:%M:%S"]
    numbered = iter(range(1, len(all_spans) + 1))
    for section, members in (("Stack", stack), ("Resources", resources)):
        if members:
            lines.append(f"    section {section}")
            lines += [_task(span, next(numbered)) for span in members]
    return "\n".join(lines)


def markdown(stack_name: str, events: Iterable[dict[str, Any]]) -> str:
    """The chart as a fenced block for a job summary, or "" when there were no events."""
    found = spans(events)
    return f"```mermaid\n{mermaid(stack_name, found)}\n```" if found else ""
