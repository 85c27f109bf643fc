"""The task boundary turns what users commonly hit into one paragraph with the fix."""

from __future__ import annotations

import botocore.exceptions
import pytest
from invoke.exceptions import Exit

from pipeline.boundary import boundary, translate
from pipeline.errors import UserError


@pytest.mark.parametrize(
    ("error", "phrase"),
    [
        (botocore.exceptions.SSOTokenLoadError(error_msg="token expired"), "aws sso login"),
        (botocore.exceptions.CredentialRetrievalError(provider="process", error_msg="exit 1"), "aws sso login"),
        (botocore.exceptions.NoCredentialsError(), "No AWS credentials"),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "invoke localcloud"),
    ],
)
def test_common_aws_errors_become_user_errors(error, phrase):
    assert phrase in str(translate(error))


def test_access_denied_names_the_operation():
    error = botocore.exceptions.ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "ExecuteChangeSet"
    )
    assert "AWS denied ExecuteChangeSet" in str(translate(error))


def test_user_errors_exit_with_their_code_and_no_traceback(capsys):
    with pytest.raises(Exit) as caught, boundary():
        raise UserError("Do the thing.")
    assert caught.value.code == 1
    assert capsys.readouterr().err == "Error: Do the thing.\n"


def test_unknown_errors_are_called_bugs(capsys, monkeypatch):
    monkeypatch.delenv("PIPELINE_DEBUG", raising=False)
    with pytest.raises(Exit), boundary():
        raise ZeroDivisionError("x")
    err = capsys.readouterr().err
    assert "bug in the tasks" in err and "Traceback" not in err


def test_gh_commands_are_shell_quoted():
    import shlex

    from pipeline.bootstrap import GitHubVariable

    variable = GitHubVariable("staging", "AWS_DEPLOY_ROLE_ARN", "arn:aws:iam::1:role/x y")
    assert shlex.split(shlex.join(variable.gh_command("o/r")))[7] == "arn:aws:iam::1:role/x y"


def test_environment_stacks_get_the_base_outputs_and_reserved_names_are_refused():
    from pipeline.bootstrap import check_environments, environment_parameters, environment_stack

    base = {"OidcProviderArn": "arn:o", "ArtifactBucketName": "b", "PermissionsBoundaryArn": "arn:p"}
    parameters = environment_parameters("proj", "staging", "o/r", "main", base)
    assert parameters == {
        "ProjectName": "proj",
        "EnvironmentName": "staging",
        "GitHubRepository": "o/r",
        "DeployBranch": "main",
        "OidcProviderArn": "arn:o",
        "ArtifactBucketName": "b",
        "PermissionsBoundaryArn": "arn:p",
    }
    assert environment_stack("proj", "staging") == "proj-bootstrap-staging"
    assert check_environments(["staging", "prod.eu"]) == ["staging", "prod.eu"]
    for bad in ("bootstrap-x", "artifacts", "prod*", ""):
        with pytest.raises(UserError, match="can't be used"):
            check_environments([bad])


def test_gh_limits_each_environment_to_the_deploy_branch_before_setting_variables():
    from pipeline.bootstrap import GitHubVariable, gh_commands

    variables = [GitHubVariable("production", "AWS_REGION", "eu-west-1")]
    commands = gh_commands("o/r", variables, "main")
    assert commands[0][:5] == ["gh", "api", "-X", "PUT", "repos/o/r/environments/production"]
    assert "deployment_branch_policy[custom_branch_policies]=true" in commands[0]
    assert commands[1][4] == "repos/o/r/environments/production/deployment-branch-policies"
    assert "name=main" in commands[1]
    assert commands[2][:4] == ["gh", "variable", "set", "AWS_REGION"]
