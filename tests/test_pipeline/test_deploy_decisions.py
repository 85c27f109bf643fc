"""The pure decisions behind a deploy: recovery per stack status, change-set emptiness, no-op detection."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.deploy import DeployRequest, Recovery, is_empty_change_set, is_unchanged, recovery_for
from pipeline.errors import UserError
from pipeline.template import Template

BODY = "Parameters:\n  A:\n    Type: String\n    Default: one\nResources: {}\n"
TEMPLATE = Template(Path("t.yaml"), BODY, {"Parameters": {"A": {"Type": "String", "Default": "one"}}})


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (None, Recovery.CREATE),
        ("REVIEW_IN_PROGRESS", Recovery.CREATE),
        ("ROLLBACK_COMPLETE", Recovery.DELETE_AND_CREATE),
        ("CREATE_IN_PROGRESS", Recovery.BUSY),
        ("UPDATE_IN_PROGRESS", Recovery.BUSY),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", Recovery.BUSY),
        ("UPDATE_ROLLBACK_IN_PROGRESS", Recovery.BUSY),
        ("DELETE_IN_PROGRESS", Recovery.BUSY),
        ("CREATE_COMPLETE", Recovery.UPDATE),
        ("UPDATE_COMPLETE", Recovery.UPDATE),
        ("UPDATE_ROLLBACK_COMPLETE", Recovery.UPDATE),
    ],
)
def test_recovery_for_each_status(status, expected):
    assert recovery_for(status, "s") is expected


def test_update_rollback_failed_names_the_exact_recovery_step():
    with pytest.raises(UserError, match="aws cloudformation continue-update-rollback --stack-name app-dev"):
        recovery_for("UPDATE_ROLLBACK_FAILED", "app-dev")


@pytest.mark.parametrize("status", ["ROLLBACK_FAILED", "DELETE_FAILED"])
def test_stuck_stacks_say_to_delete(status):
    with pytest.raises(UserError, match="delete-stack --stack-name app-dev"):
        recovery_for(status, "app-dev")


@pytest.mark.parametrize(
    ("description", "empty"),
    [
        (
            {
                "Status": "FAILED",
                "StatusReason": "The submitted information didn't contain changes. Submit different "
                "information to create a change set.",
            },
            True,
        ),
        ({"Status": "FAILED", "StatusReason": "No updates are to be performed."}, True),
        ({"Status": "FAILED", "StatusReason": "Template format error: unknown resource type"}, False),
        ({"Status": "CREATE_COMPLETE"}, False),
    ],
)
def test_change_set_emptiness(description, empty):
    assert is_empty_change_set(description) is empty


def _stack(params, tags=None, role=None):
    stack = {
        "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }
    if role:
        stack["RoleARN"] = role
    return stack


def test_unchanged_when_template_parameters_tags_and_role_match():
    request = DeployRequest("s", TEMPLATE, parameters={}, tags={"t": "1"})
    assert is_unchanged(_stack({"A": "one"}, {"t": "1"}), BODY, request)


def test_any_difference_counts_as_a_change():
    request = DeployRequest("s", TEMPLATE, parameters={"A": "two"}, tags={"t": "1"})
    assert not is_unchanged(_stack({"A": "one"}, {"t": "1"}), BODY, request)  # parameter
    same = DeployRequest("s", TEMPLATE, tags={"t": "1"})
    assert not is_unchanged(_stack({"A": "one"}, {"t": "1"}), BODY + "# edit\n", same)  # template
    assert not is_unchanged(_stack({"A": "one"}, {"t": "2"}), BODY, same)  # tags
    assert not is_unchanged(_stack({"A": "one"}, {"t": "1"}, role="arn:r"), BODY, same)  # role
    assert not is_unchanged(_stack({"A": "****"}, {"t": "1"}), BODY, same)  # NoEcho: can't tell


def test_dropping_an_override_returns_to_the_default():
    request = DeployRequest("s", TEMPLATE, parameters={})
    assert not is_unchanged(_stack({"A": "custom"}), BODY, request)


def test_destroy_refuses_a_busy_stack_before_emptying_anything():
    from pipeline.destroy import check_deletable

    with pytest.raises(UserError, match=r"busy \(UPDATE_IN_PROGRESS\); nothing was deleted"):
        check_deletable({"StackName": "app-dev", "StackStatus": "UPDATE_IN_PROGRESS"})
    check_deletable({"StackName": "app-dev", "StackStatus": "UPDATE_ROLLBACK_COMPLETE"})


def test_settings_reject_bad_timeouts_and_wildcard_environment_names():
    from pipeline.config import resolve

    with pytest.raises(UserError, match="verify_timeout must be a positive number"):
        resolve({"verify_timeout": -5}, env={})
    with pytest.raises(UserError, match="Invalid environment name 'prod\\*'"):
        resolve({"environments": {"prod*": {}}}, environment="prod*", env={})


def test_an_explicit_invoke_region_beats_the_ambient_one():
    from pipeline.config import resolve

    env = {"AWS_REGION": "eu-central-1", "INVOKE_PIPELINE_REGION": "ap-south-1"}
    assert resolve({"region": "ap-south-1"}, target="aws", env=env).region == "ap-south-1"
