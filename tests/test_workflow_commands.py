"""The deploy workflow's commands, run as written, in order, against the local cloud.

deploy.yml's deploy-staging job calls deploy-environment.yml with environment staging; that job's steps run here.
The OIDC step is replaced by the local cloud's dummy credentials (and checkout/setup-python/setup-uv by this
checkout, this Python and its venv, offline); every ``run:`` step runs through bash with the step's and job's
env, as Actions would run it. This
proves the commands the workflow names exist, take those flags, and deploy and verify for real.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from test_pipeline import invoke_cli
from test_pipeline.pipeline_helpers import delete_stack_and_wait

import localcloud
from pipeline.config import ROOT

REGION = "us-east-1"
STACKS = ("s3-lambda-gitops-staging", "s3-lambda-gitops-bootstrap-staging", "s3-lambda-gitops-bootstrap")
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _resolve(text: str, values: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        expression = match.group(1)
        assert expression in values, f"the test does not know how to evaluate ${{{{ {expression} }}}}"
        return values[expression]

    return EXPRESSION.sub(substitute, str(text))


def _base_env(endpoint: str, summary: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PIPELINE_", "INVOKE_"))}
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "AWS_ENDPOINT_URL": endpoint,  # every AWS call of the job goes to the local cloud
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "GITHUB_STEP_SUMMARY": str(summary),
            "PIP_NO_INDEX": "1",  # the install step must find everything already installed: no network in tests
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "UV_OFFLINE": "1",
            "VIRTUAL_ENV": sys.prefix,  # what setup-uv's activate-environment exports: this venv
            "UV_PYTHON_DOWNLOADS": "never",
        }
    )
    return env


def _oidc_stand_in(step: dict, values: dict[str, str]) -> dict[str, str]:
    """What configure-aws-credentials exports, with the local cloud's dummy credentials."""
    inputs = {k: _resolve(v, values) for k, v in step["with"].items()}
    assert inputs["role-to-assume"].startswith("arn:aws:iam::") and inputs["aws-region"] == REGION
    return {**localcloud.DUMMY_CREDENTIALS, "AWS_REGION": inputs["aws-region"], "AWS_DEFAULT_REGION": REGION}


def _bootstrap(env: dict[str, str]) -> str:
    """The one-time set-up a user runs before the workflow (not a workflow step): in process, as invoke runs it."""
    args = ("bootstrap", "--repo", "octo-org/s3-lambda-gitops", "--repo-id", "123456789", "--target", "aws")
    done = invoke_cli.run(args, env={**env, **localcloud.DUMMY_CREDENTIALS, "AWS_REGION": REGION})
    assert done.returncode == 0, done.stderr
    role = re.search(r"AWS_DEPLOY_ROLE_ARN --env staging --body (\S+)", done.stdout)
    assert role, done.stdout
    return role.group(1)


def test_deploy_job_commands_run_as_written(endpoint, client, tmp_path):
    try:
        _run_the_deploy_job(endpoint, client, tmp_path)
    finally:  # the bootstrap made the account's GitHub OIDC provider: a later bootstrap.yaml on this cloud makes one
        for stack in STACKS:
            delete_stack_and_wait(client("cloudformation"), stack)


def _run_the_deploy_job(endpoint, client, tmp_path):
    summary = tmp_path / "summary.md"
    env = _base_env(endpoint, summary)
    caller = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy.yml").read_text())["jobs"]["deploy-staging"]
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "deploy-environment.yml").read_text())
    (job,) = workflow["jobs"].values()
    values = {
        "inputs.environment": caller["with"]["environment"],
        "vars.AWS_DEPLOY_ROLE_ARN": _bootstrap(env),
        "vars.AWS_REGION": REGION,
        "env.PYTHON_VERSION": workflow["env"]["PYTHON_VERSION"],
        "github.run_id": "4242",
        "github.run_attempt": "1",
    }
    env.update({k: _resolve(v, values) for k, v in {**workflow.get("env", {}), **job.get("env", {})}.items()})
    ran = []
    for step in job["steps"]:
        if "configure-aws-credentials" in step.get("uses", ""):
            env.update(_oidc_stand_in(step, values))
        if "run" not in step:
            continue
        step_env = {**env, **{k: _resolve(v, values) for k, v in step.get("env", {}).items()}}
        done = subprocess.run(
            ["bash", "-e", "-c", _resolve(step["run"], values)],
            cwd=ROOT,
            env=step_env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, f"step {step.get('name')!r} failed:\n{done.stdout}\n{done.stderr}"
        ran.append((step.get("name"), done.stdout))
    assert [name for name, _ in ran] == ["Install", "Package, deploy and verify"]
    output = ran[-1][1]
    assert "Deploying stack s3-lambda-gitops-staging on AWS" in output  # the aws code path, not the local one
    assert "Verified: the function logged the upload" in output
    stack = client("cloudformation").describe_stacks(StackName="s3-lambda-gitops-staging")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = lambda name: {  # noqa: E731
        o["OutputKey"]: o["OutputValue"]
        for o in client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
    }
    execution_role = outputs("s3-lambda-gitops-bootstrap-staging")["ExecutionRoleArn"]
    assert stack["RoleARN"] == execution_role  # CloudFormation acted as the bootstrap's execution role
    boundary = {**outputs("s3-lambda-gitops-bootstrap"), **outputs("s3-lambda-gitops-bootstrap-staging")}[
        "PermissionsBoundaryArn"
    ]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert parameters["PermissionsBoundaryArn"] == boundary  # the app's roles are created inside the boundary
    written = summary.read_text()
    assert "### Deploy `s3-lambda-gitops-staging`" in written and "**Result: verified.**" in written
