"""Bad input through the real command line: one readable paragraph naming the fix, non-zero exit, no traceback."""

from __future__ import annotations

import subprocess

import invoke_cli
import pytest


def invoke(*args: str, env: dict[str, str] | None = None, whole_process: bool = False) -> subprocess.CompletedProcess:
    return invoke_cli.run(args, env=invoke_cli.clean_env(env), whole_process=whole_process)


def assert_clear_error(done: subprocess.CompletedProcess, *phrases: str) -> None:
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    for phrase in phrases:
        assert phrase in done.stderr, done.stderr


def test_no_credentials_with_target_aws():
    assert_clear_error(invoke("deploy", "--target", "aws"), "No AWS credentials", "--profile")


def test_unknown_profile():
    assert_clear_error(invoke("deploy", "--target", "aws", "--profile", "nope"), "profile 'nope' does not exist")


def test_invalid_stack_name_from_the_project_setting():
    done = invoke("deploy", env={"INVOKE_PIPELINE_PROJECT": "Bad_Project"})
    assert_clear_error(done, "Invalid stack name 'Bad_Project-dev'")


def test_local_cloud_not_running():
    # In process; as a whole process: test_debug_shows_the_traceback below, and test_process_costs.py's failed task.
    done = invoke("deploy", env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert_clear_error(
        done, "No local cloud is answering at http://127.0.0.1:9", "invoke localcloud", "invoke pipeline"
    )


def test_environment_named_in_a_workflow_but_absent_from_settings():
    done = invoke("deploy", env={"PIPELINE_ENVIRONMENT": "qa", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert_clear_error(done, "Unknown environment 'qa'", "pipeline.environments")


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("bootstrap",), "needs --repo OWNER/REPO"),
        (("bootstrap", "--repo", "just-a-name"), "is not OWNER/REPO"),
        (("bootstrap", "--repo", "org/*"), "is not OWNER/REPO"),
        (("bootstrap", "--repo", "https://github.com/org/repo.git"), "use --repo org/repo"),
        (("bootstrap", "--repo", "org/repo", "--environment", "bootstrap-x"), "can't be used"),
        (("bootstrap", "--repo", "org/repo", "--environment", "qa"), "is not configured in invoke.yaml"),
        (("bootstrap", "--repo", "org/repo", "--target", "aws", "--repo-id", "abc"), "is not a repository id"),
        (("bootstrap", "--repo", "org/repo", "--branch", "main*"), "is not a branch name"),
    ],
)
def test_bootstrap_repo_is_required_and_checked(args, phrase):
    assert_clear_error(invoke(*args), phrase)


def test_verify_on_a_stack_that_does_not_exist(endpoint):
    done = invoke("verify", env={"AWS_ENDPOINT_URL": endpoint})
    assert_clear_error(done, "Stack s3-lambda-gitops-dev does not exist", "invoke deploy")


def test_deploy_to_aws_without_the_bootstrap_stack(endpoint):
    # The aws code path, pointed at the local cloud: no bootstrap stack there yet.
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_REGION": "eu-west-3",
    }
    done = invoke("deploy", "--target", "aws", env=env)
    assert_clear_error(
        done,
        "bootstrap stack s3-lambda-gitops-bootstrap does not exist in eu-west-3",
        "invoke bootstrap --target aws --repo OWNER/REPO --region eu-west-3 --environment dev",
    )


def test_debug_shows_the_traceback():
    done = invoke("deploy", env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "PIPELINE_DEBUG": "1"})
    assert done.returncode != 0 and "Traceback" in done.stderr
