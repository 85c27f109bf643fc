"""The deploy timeline: spans and the Mermaid Gantt chart, checked against a real stack's events on the local cloud."""

from __future__ import annotations

import re

import pytest

from pipeline import cfn, commands, timeline
from pipeline.deploy import Deployer
from pipeline.report import TerminalProgress

TASK = re.compile(r"^    ([\w-]+) \(([^)]+)\) (\d+\.\d)s :(done|crit|active)(, milestone)?, t(\d+), (\d+), (\d+)$")


def _all_events(cfn_client, stack_name):
    events, token = [], None
    while True:
        page = cfn_client.describe_stack_events(StackName=stack_name, **({"NextToken": token} if token else {}))
        events += page["StackEvents"]
        token = page.get("NextToken")
        if not token:
            return events


def _millis(stamp):
    return int(stamp.timestamp() * 1000)


def test_mermaid_chart_matches_the_stacks_real_events(make_settings, client):
    settings = make_settings()
    commands.deploy(settings)
    events = _all_events(client("cloudformation"), settings.stack_name)
    text = timeline.mermaid(settings.stack_name, timeline.spans(events))
    lines = text.splitlines()
    assert lines[:4] == [
        "gantt",
        f"    title Deploy of {settings.stack_name}",
        "    dateFormat x",
        "    axisFormat %H:%M:%S",
    ]
    assert lines[4] == "    section Stack" and lines[6] == "    section Resources"
    tasks = {m.group(1): m for m in map(TASK.match, lines[5:6] + lines[7:]) if m}
    assert len(tasks) == len(lines) - 6  # every task line parses: no ':' or ';' in a task name
    listed = client("cloudformation").list_stack_resources(StackName=settings.stack_name)["StackResourceSummaries"]
    resources = {r["LogicalResourceId"] for r in listed}
    assert set(tasks) == resources | {settings.stack_name}
    assert lines[5].startswith(f"    {settings.stack_name} (CloudFormation Stack) ")
    for logical_id in set(tasks):
        own = [e for e in events if e["LogicalResourceId"] == logical_id]
        match = tasks[logical_id]
        assert int(match.group(7)) == min(_millis(e["Timestamp"]) for e in own)
        assert int(match.group(8)) == max(_millis(e["Timestamp"]) for e in own)
        assert match.group(4) == "done"
        assert bool(match.group(5)) == (match.group(7) == match.group(8))  # zero-length spans are milestones
        assert match.group(2) == timeline.short_type(own[0]["ResourceType"])
    assert sorted(int(m.group(6)) for m in tasks.values()) == list(range(1, len(tasks) + 1))


def test_stack_name_with_dashes_is_a_valid_task_name():
    """Stack names hold '-', which Mermaid allows in task text; ':' and ';' would end it."""
    assert (
        ":" not in timeline.short_type("AWS::Lambda::Function")
        and timeline.short_type("Custom::Thing") == "Custom Thing"
    )


def test_a_failed_resource_is_marked_crit(make_settings, client, tmp_path):
    from pipeline_helpers import broken_template

    from pipeline import template
    from pipeline.deploy import DeployRequest
    from pipeline.errors import StackFailed

    settings = make_settings()
    commands.deploy(settings)
    deployed = cfn.describe_stack(client("cloudformation"), settings.stack_name)
    params = {p["ParameterKey"]: p["ParameterValue"] for p in deployed["Parameters"]}
    request = DeployRequest(settings.stack_name, template.load(broken_template(settings, tmp_path)), params)
    progress = TerminalProgress()
    with pytest.raises(StackFailed):
        Deployer(client("cloudformation"), progress).deploy(request)
    chart = timeline.mermaid(settings.stack_name, timeline.spans(progress.events))
    assert re.search(r"^    Broken \(Lambda Function\) \d+\.\ds :crit", chart, re.MULTILINE)


def test_deploy_timeline_flag_prints_bars_and_mermaid(make_settings, capsys):
    settings = make_settings()
    commands.deploy(settings, timeline=True)
    printed = capsys.readouterr().out
    tail = printed[printed.index("Timeline:") :]
    assert re.search(r"^UploadsBucket +#+ +\d+\.\ds$", tail, re.MULTILINE)
    assert "As Mermaid (GitHub renders it):\ngantt\n" in tail
