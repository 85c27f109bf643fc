"""Stack events: one per resource step plus the stack's own, newest first, unique and strictly ordered.

AWS: DescribeStackEvents shows CREATE_IN_PROGRESS / CREATE_COMPLETE for each resource (and DELETE_* on
delete), newest first, with unique EventIds, which is what lets a deploy tool stream them. (Plain moto records
only the stack's own events.)
"""

from __future__ import annotations

import uuid
from pathlib import Path

from stack_waits import settled

TEMPLATES = Path(__file__).parent / "templates"


def test_each_resource_gets_its_own_events_newest_first(client) -> None:
    cf = client("cloudformation")
    stack = f"cfn-events-{uuid.uuid4().hex[:8]}"
    cf.create_stack(StackName=stack, TemplateBody=(TEMPLATES / "queues.yaml").read_text())
    settled(cf, stack)
    cf.delete_stack(StackName=stack)
    settled(cf, stack)
    stack_id = next(s["StackId"] for s in cf.list_stacks()["StackSummaries"] if s["StackName"] == stack)

    events = cf.describe_stack_events(StackName=stack_id)["StackEvents"]

    timestamps = [e["Timestamp"] for e in events]
    assert timestamps == sorted(timestamps, reverse=True)
    assert len(set(timestamps)) == len(timestamps)
    assert len({e["EventId"] for e in events}) == len(events)
    oldest_first = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in reversed(events)]
    for queue in ("Plain", "Named"):
        steps = [status for lid, status in oldest_first if lid == queue]
        assert steps == [
            "CREATE_IN_PROGRESS",
            "CREATE_IN_PROGRESS",
            "CREATE_COMPLETE",
            "DELETE_IN_PROGRESS",
            "DELETE_COMPLETE",
        ]
    own = [status for lid, status in oldest_first if lid == stack]
    assert own == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    completed = [e for e in events if e["LogicalResourceId"] == "Named" and e["ResourceStatus"] == "CREATE_COMPLETE"]
    assert completed[0]["PhysicalResourceId"].endswith(f"/{stack}-first")
