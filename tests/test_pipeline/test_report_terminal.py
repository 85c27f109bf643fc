"""The deploy's terminal output: change tables, event views and confirmation, plain and on a pseudo-terminal."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from pipeline_helpers import read_terminal
from test_console import Noted

from pipeline import console, report
from pipeline.deploy import Change, ChangedProperty, changed_properties
from pipeline.events_view import EventView, event_line

T0 = datetime(2026, 1, 1, 8, 30, 0, tzinfo=UTC)
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1"
CHANGES = [
    Change("Add", "FailureQueue", "AWS::SQS::Queue", ""),
    Change(
        "Modify",
        "UploadsBucket",
        "AWS::S3::Bucket",
        "True",
        (ChangedProperty("BucketName", "Always"), ChangedProperty("Tags", "Never")),
    ),
    Change("Modify", "Function", "AWS::Lambda::Function", "False", (ChangedProperty("Code", "Never"),)),
    Change("Remove", "OldTopic", "AWS::SNS::Topic", ""),
]


def event(logical_id, status, seconds, resource_type="AWS::S3::Bucket", reason=None, physical=None):
    found = {
        "EventId": f"{logical_id}-{status}-{seconds}",
        "StackId": STACK_ID,
        "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical or f"phys-{logical_id}",
        "ResourceType": resource_type,
        "ResourceStatus": status,
        "Timestamp": T0 + timedelta(seconds=seconds),
    }
    if reason:
        found["ResourceStatusReason"] = reason
    return found


def stack_event(status, seconds):
    return event("app", status, seconds, "AWS::CloudFormation::Stack", physical=STACK_ID)


UPDATE = [
    stack_event("UPDATE_IN_PROGRESS", 0),
    event("UploadsBucket", "UPDATE_IN_PROGRESS", 1, reason="Requested update requires the creation of a new resource"),
    event("UploadsBucket", "UPDATE_COMPLETE", 3),
    stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", 4),
    event("UploadsBucket", "DELETE_COMPLETE", 5),
    stack_event("UPDATE_COMPLETE", 6),
]


def test_changed_properties_come_from_the_change_set_details():
    """Details shape from the DescribeChangeSet API reference (ResourceChangeDetail, ResourceTargetDefinition)."""
    details = [
        {"Target": {"Attribute": "Properties", "Name": "BucketName", "RequiresRecreation": "Always"}},
        {"Target": {"Attribute": "Properties", "Name": "BucketName", "RequiresRecreation": "Never"}},
        {"Target": {"Attribute": "Tags", "RequiresRecreation": "Never"}},
    ]
    assert changed_properties(details) == (ChangedProperty("BucketName", "Always"), ChangedProperty("Tags", "Never"))


def test_plain_change_table_marks_actions_replacement_and_properties():
    lines = report.changes_table(CHANGES).splitlines()
    assert re.fullmatch(r"Action +Logical ID +Type +Replacement +Changed properties", lines[0])
    assert set(lines[1]) <= {"-", " "}
    assert re.fullmatch(r"\+ Add +FailureQueue +AWS::SQS::Queue +-", lines[2])
    assert re.fullmatch(r"\* Modify +UploadsBucket +AWS::S3::Bucket +True +BucketName \(replaces\), Tags", lines[3])
    assert re.fullmatch(r"\* Modify +Function +AWS::Lambda::Function +False +Code", lines[4])
    assert re.fullmatch(r"- Remove +OldTopic +AWS::SNS::Topic +-", lines[5])
    assert all(line == line.rstrip() for line in lines)


def test_a_narrow_terminal_stacks_each_change_and_wraps_by_words():
    text = report.changes_table(CHANGES, width=44)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 44
    assert lines[0].split() == ["Action", "Change"]
    assert lines[2].split() == ["+", "Add", "FailureQueue", "AWS::SQS::Queue"]
    assert lines[3].split() == ["*", "Modify", "UploadsBucket", "AWS::S3::Bucket"]
    assert re.sub(r"\s+", " ", " ".join(lines[4:6])).strip() == "replacement True; BucketName (replaces), Tags"
    assert "AWS::Lambda::Function" in text and "- Remove  OldTopic AWS::SNS::Topic" in text
    assert "…" not in text  # nothing cut off


def test_plain_event_lines_are_aligned_even_for_the_longest_statuses():
    view_out = io.StringIO()
    view = EventView(console.make(view_out))
    view.expect([("UploadsBucket", "AWS::S3::Bucket")])
    for e in UPDATE:
        view.add(e)
    lines = view_out.getvalue().splitlines()[: len(UPDATE)]
    status_columns = {line.index("UPDATE_") if "UPDATE_" in line else line.index("DELETE_") for line in lines}
    assert len(status_columns) == 1  # UPDATE_COMPLETE_CLEANUP_IN_PROGRESS does not push its line out of line
    assert lines[1].endswith("UPDATE_IN_PROGRESS  (Requested update requires the creation of a new resource)")


def test_plain_summary_gives_each_resource_its_duration():
    out = io.StringIO()
    view = EventView(console.make(out))
    for e in UPDATE:
        view.add(e)
    text = out.getvalue()
    assert re.search(r"^UploadsBucket +AWS::S3::Bucket +DELETE_COMPLETE +4\.0$", text, re.MULTILINE)
    assert text.rstrip().endswith("UPDATE_COMPLETE: took 6.0 s for 1 resources.")
    assert "\x1b[" not in text


def test_event_line_keeps_its_old_fields():
    line = event_line(event("Function", "CREATE_COMPLETE", 2, "AWS::Lambda::Function"), 10, 22)
    assert line == "08:30:02  Function    AWS::Lambda::Function   CREATE_COMPLETE"


def test_on_a_terminal_the_change_table_is_coloured(terminal):
    stream, main = terminal
    with report.TerminalProgress(stream) as progress:
        progress.changes(CHANGES)
    stream.flush()
    text = read_terminal(main, stream)
    assert "\x1b[31m- Remove" in text  # red
    assert "\x1b[1;31mTrue" in text  # replacement: bold red
    assert "\x1b[1;31mBucketName" in text and "\x1b[32m+ Add" in text


def test_on_a_terminal_events_are_a_live_view_with_a_spinner_then_a_summary(terminal):
    stream, main = terminal
    progress = report.TerminalProgress(stream)
    progress.event(UPDATE[0])
    progress.event(UPDATE[1])
    assert progress.view.live is not None  # a live view while the stack is in progress
    progress.view.live.refresh()
    for e in UPDATE[2:]:
        progress.event(e)
    assert progress.view.live is None  # the stack settled: the live view ended by itself
    stream.flush()
    text = read_terminal(main, stream)
    assert any(frame in text for frame in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
    assert "UPDATE_COMPLETE: took 6.0 s for 1 resources." in text


def test_held_for_a_terminal_events_are_only_noted_then_the_summary_is_styled(terminal):
    """As on the terminal, where the live view is transient: no event line stays, only the summary (coloured)."""
    stream, _ = terminal
    held = Noted()
    with console.redirected(held, like=console.make(stream)):
        progress = report.TerminalProgress()
        for e in UPDATE:
            progress.event(e)
    assert progress.view.live is None
    assert held.notes == [f"{e['LogicalResourceId']}  {e['ResourceStatus']}" for e in UPDATE]
    assert "UPDATE_IN_PROGRESS" not in held.getvalue() and "\x1b[32mUPDATE_COMPLETE" in held.getvalue()
    assert "UPDATE_COMPLETE: took 6.0 s for 1 resources." in held.getvalue()


def test_confirmation_answers():
    assert report.TerminalProgress(io.StringIO(), ask=lambda _q: "y").confirm(CHANGES)
    assert not report.TerminalProgress(io.StringIO(), ask=lambda _q: "").confirm(CHANGES)
    assert report.TerminalProgress(io.StringIO()).confirm(CHANGES)  # nobody to ask: proceed

    def closed(_q):
        raise EOFError

    assert not report.TerminalProgress(io.StringIO(), ask=closed).confirm(CHANGES)


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_only_an_interactive_aws_deploy_without_yes_asks(monkeypatch):
    for name in ("NO_COLOR", "CI"):
        monkeypatch.delenv(name, raising=False)
    assert report.wants_confirmation("aws", False, Tty(), Tty())
    assert not report.wants_confirmation("aws", True, Tty(), Tty())
    assert not report.wants_confirmation("local", False, Tty(), Tty())
    assert not report.wants_confirmation("aws", False, io.StringIO(), Tty())  # piped input: proceed
    monkeypatch.setenv("CI", "true")
    assert not report.wants_confirmation("aws", False, Tty(), Tty())


def test_a_code_change_shows_modify_function_code_without_replacement(make_settings, capsys):
    from pipeline import commands

    settings = make_settings()
    commands.deploy(settings)
    (settings.lambda_dir / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    capsys.readouterr()
    commands.deploy(settings, preview=True)
    printed = capsys.readouterr().out
    # Code, and whatever else the template derives from the artifact (an environment variable naming it).
    assert re.search(r"^\* Modify +Function +AWS::Lambda::Function +False +Code(, \w+)*$", printed, re.MULTILINE)


def test_declining_deletes_the_change_set_and_changes_nothing(make_settings, client, monkeypatch):
    from pipeline import commands
    from pipeline.errors import UserError

    settings = make_settings()
    commands.deploy(settings)
    cfn_client = client("cloudformation")
    before = cfn_client.describe_stacks(StackName=settings.stack_name)["Stacks"][0]
    (settings.lambda_dir / "handler.py").write_text("def handler(event, context):\n    return {}\n")
    asked = []

    def no(question):
        asked.append(question)
        return "n"

    monkeypatch.setattr(report, "wants_confirmation", lambda target, yes: True)
    monkeypatch.setattr("builtins.input", no)
    with pytest.raises(UserError, match=r"Not confirmed: change set deploy-.* was deleted unexecuted"):
        commands.deploy(settings)
    assert asked == ["Execute this change set (1 changes)? [y/N] "]
    after = cfn_client.describe_stacks(StackName=settings.stack_name)["Stacks"][0]
    assert after.get("LastUpdatedTime") == before.get("LastUpdatedTime") and after["StackStatus"] == "CREATE_COMPLETE"
    assert cfn_client.list_change_sets(StackName=settings.stack_name)["Summaries"] == []
