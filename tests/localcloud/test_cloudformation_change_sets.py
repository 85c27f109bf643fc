"""Change sets behave as CloudFormation's: types, per-resource diff with Replacement, empty sets, execution.

AWS: ChangeSetType defaults to UPDATE; CREATE puts a new stack in REVIEW_IN_PROGRESS; the changes are Add /
Modify / Remove against what is deployed, with Replacement; an unchanged submission ends FAILED with
"The submitted information didn't contain changes..."; executing updates Outputs, Parameters, Tags and the
template. (Plain moto loses a CREATE change set's Outputs and lists every resource of an update as Add.)
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from stack_waits import change_set_settled, settled

TEMPLATES = Path(__file__).parent / "templates"
NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."


def _template(name: str) -> str:
    return (TEMPLATES / name).read_text()


def _stack(cf, name: str) -> dict:
    return cf.describe_stacks(StackName=name)["Stacks"][0]


def _outputs(cf, name: str) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in _stack(cf, name).get("Outputs", [])}


def _changes(cf, stack: str, change_set: str) -> dict[str, dict]:
    described = change_set_settled(cf, stack, change_set)
    return {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in described["Changes"]}


def _create_via_change_set(cf, stack: str, **kwargs) -> None:
    cf.create_change_set(StackName=stack, ChangeSetName="create", ChangeSetType="CREATE", **kwargs)
    change_set_settled(cf, stack, "create")
    cf.execute_change_set(StackName=stack, ChangeSetName="create")
    settled(cf, stack)


def test_create_change_set_reviews_a_new_stack_and_keeps_outputs(client) -> None:
    cf = client("cloudformation")
    stack = f"cfn-cs-create-{uuid.uuid4().hex[:8]}"
    cf.create_change_set(
        StackName=stack, ChangeSetName="create", ChangeSetType="CREATE", TemplateBody=_template("queues.yaml")
    )

    assert _stack(cf, stack)["StackStatus"] == "REVIEW_IN_PROGRESS"
    changes = _changes(cf, stack, "create")
    assert {lid: c["Action"] for lid, c in changes.items()} == {"Plain": "Add", "Named": "Add"}

    cf.execute_change_set(StackName=stack, ChangeSetName="create")
    settled(cf, stack)

    assert _stack(cf, stack)["StackStatus"] == "CREATE_COMPLETE"
    assert _outputs(cf, stack)["NamedArn"].endswith(f":{stack}-first")
    assert cf.describe_change_set(StackName=stack, ChangeSetName="create")["ExecutionStatus"] == "EXECUTE_COMPLETE"


def test_change_set_type_defaults_to_update(client) -> None:
    cf = client("cloudformation")
    stack = f"cfn-cs-default-{uuid.uuid4().hex[:8]}"
    with pytest.raises(ClientError) as raised:
        cf.create_change_set(StackName=stack, ChangeSetName="cs", TemplateBody=_template("queues.yaml"))
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "does not exist" in raised.value.response["Error"]["Message"]


def test_update_change_set_lists_modify_add_remove_with_replacement(client) -> None:
    cf = client("cloudformation")
    stack = f"cfn-cs-diff-{uuid.uuid4().hex[:8]}"
    _create_via_change_set(cf, stack, TemplateBody=_template("queues.yaml"))

    params = [
        {"ParameterKey": "Visibility", "ParameterValue": "60"},
        {"ParameterKey": "NamedQueue", "ParameterValue": "second"},
    ]
    cf.create_change_set(
        StackName=stack, ChangeSetName="rename", TemplateBody=_template("queues.yaml"), Parameters=params
    )
    changes = _changes(cf, stack, "rename")
    assert {lid: (c["Action"], c["Replacement"]) for lid, c in changes.items()} == {
        "Plain": ("Modify", "False"),
        "Named": ("Modify", "True"),
    }
    (detail,) = changes["Plain"]["Details"]
    assert detail["Target"] == {"Attribute": "Properties", "Name": "VisibilityTimeout", "RequiresRecreation": "Never"}
    assert (detail["ChangeSource"], detail["CausingEntity"]) == ("ParameterReference", "Visibility")
    assert changes["Named"]["Scope"] == ["Properties"]

    cf.create_change_set(StackName=stack, ChangeSetName="reshape", TemplateBody=_template("queues_changed.yaml"))
    changes = _changes(cf, stack, "reshape")
    assert {lid: c["Action"] for lid, c in changes.items()} == {"Extra": "Add", "Named": "Remove"}


def test_change_set_without_changes_fails_as_empty(client) -> None:
    cf = client("cloudformation")
    stack = f"cfn-cs-empty-{uuid.uuid4().hex[:8]}"
    params = [{"ParameterKey": "Visibility", "ParameterValue": "45"}]
    _create_via_change_set(cf, stack, TemplateBody=_template("queues.yaml"), Parameters=params)

    same = [{"ParameterKey": "Visibility", "UsePreviousValue": True}]
    cf.create_change_set(StackName=stack, ChangeSetName="same", TemplateBody=_template("queues.yaml"), Parameters=same)

    described = change_set_settled(cf, stack, "same")
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert described["StatusReason"] == NO_CHANGES
    assert described["Changes"] == []


def test_execute_updates_outputs_parameters_tags_and_template(client) -> None:
    cf = client("cloudformation")
    stack = f"cfn-cs-exec-{uuid.uuid4().hex[:8]}"
    _create_via_change_set(cf, stack, TemplateBody=_template("queues.yaml"))

    params = [{"ParameterKey": "Stage", "ParameterValue": "two"}]
    tags = [{"Key": "team", "Value": "blue"}]
    body = _template("queues_changed.yaml")
    cf.create_change_set(StackName=stack, ChangeSetName="next", TemplateBody=body, Parameters=params, Tags=tags)
    change_set_settled(cf, stack, "next")
    cf.execute_change_set(StackName=stack, ChangeSetName="next")
    settled(cf, stack)

    described = _stack(cf, stack)
    assert described["StackStatus"] == "UPDATE_COMPLETE"
    assert set(_outputs(cf, stack)) == {"PlainUrl", "ExtraUrl"}
    assert {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}["Stage"] == "two"
    assert described["Tags"] == tags
    assert cf.get_template(StackName=stack)["TemplateBody"] == body
