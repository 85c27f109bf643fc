"""The GitHub workflows, parsed: permissions, pinning, OIDC, concurrency, environments, and the invoke tasks."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"uses:\s*\S+@[0-9a-f]{40}\s+#\s*v\d+(\.\d+){0,2}\s*$")
OIDC_ACTION = "aws-actions/configure-aws-credentials"
DEPLOY_ENVIRONMENTS = ["staging", "production"]
STATIC_KEY_INPUTS = {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"}


def load(path: Path) -> dict[str, Any]:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the bare key `on` as the boolean True.
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return load(CI)


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return load(DEPLOY)


def all_workflows() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.y*ml"))


def steps_of(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def uses_of(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if s.get("uses", "").split("@")[0] == action]


def run_lines(job: dict[str, Any]) -> list[str]:
    return [s["run"] for s in job.get("steps", []) if "run" in s]


# --- every workflow ------------------------------------------------------------------------------------------


def test_both_workflows_exist():
    assert {p.name for p in all_workflows()} >= {"ci.yml", "deploy.yml"}


@pytest.mark.parametrize("path", all_workflows(), ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_sha_with_its_version(path: Path):
    workflow = load(path)
    for step in steps_of(workflow):
        if "uses" in step:
            assert PINNED.match(step["uses"]), step["uses"]
    for job in workflow["jobs"].values():
        assert "uses" not in job or PINNED.match(job["uses"]) or job["uses"].startswith("./")
    uses_lines = [line for line in path.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    assert uses_lines
    for line in uses_lines:
        assert VERSION_COMMENT.search(line), f"no version comment: {line.strip()}"


@pytest.mark.parametrize("path", all_workflows(), ids=lambda p: p.name)
def test_checkout_never_persists_credentials(path: Path):
    for step in steps_of(load(path)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False


@pytest.mark.parametrize("path", all_workflows(), ids=lambda p: p.name)
def test_no_static_aws_keys(path: Path):
    text = path.read_text()
    assert not re.search(r"secrets\.\s*AWS_", text, flags=re.IGNORECASE)
    assert not re.search(r"AWS_(SECRET_)?ACCESS_KEY", text)
    assert not re.search(r"AKIA[0-9A-Z]{16}", text)
    for step in steps_of(load(path)):
        assert not STATIC_KEY_INPUTS & set(step.get("with", {})), step
        assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & set(step.get("env", {}))


@pytest.mark.parametrize("path", all_workflows(), ids=lambda p: p.name)
def test_python_and_pip_cache(path: Path):
    workflow = load(path)
    for name, job in workflow["jobs"].items():
        (setup,) = uses_of(job, "actions/setup-python")
        version = setup["with"]["python-version"]
        if version == "${{ env.PYTHON_VERSION }}":
            version = workflow["env"]["PYTHON_VERSION"]
        assert version == "3.13", name
        assert setup["with"]["cache"] == "pip", name
        assert "pip install -r requirements.txt" in run_lines(job), name


# --- ci.yml --------------------------------------------------------------------------------------------------


def test_ci_triggers_and_read_only_permissions(ci):
    assert set(ci["on"]) == {"pull_request", "push"}
    assert ci["permissions"] == {"contents": "read"}
    for name, job in ci["jobs"].items():
        assert job.get("permissions", {"contents": "read"}) == {"contents": "read"}, name
        assert "environment" not in job, name


def test_ci_lints_tests_and_runs_the_pipeline_locally_without_aws(ci):
    commands = [line for job in ci["jobs"].values() for line in run_lines(job)]
    assert "invoke lint" in commands
    assert "invoke test" in commands
    assert "invoke pipeline" in commands
    assert not [s for s in steps_of(ci) if s.get("uses", "").startswith(OIDC_ACTION)]
    text = CI.read_text()
    assert "id-token" not in text and "PIPELINE_TARGET: aws" not in text


# --- deploy.yml ----------------------------------------------------------------------------------------------


def test_deploy_triggers(deploy):
    assert deploy["on"]["push"] == {"branches": ["main"]}
    choice = deploy["on"]["workflow_dispatch"]["inputs"]["environment"]
    assert choice["type"] == "choice"
    assert set(DEPLOY_ENVIRONMENTS) <= set(choice["options"])


def test_deploy_workflow_grants_nothing_by_default(deploy):
    assert deploy["permissions"] in ({}, {"contents": "read"})


def test_tests_and_plan_run_first(deploy):
    jobs = deploy["jobs"]
    assert "invoke test" in run_lines(jobs["test"])
    assert jobs["test"]["permissions"] == {"contents": "read"}
    assert jobs["plan"]["needs"] == "test"
    assert jobs["plan"]["permissions"] == {"contents": "read"}
    assert any("invoke environments --json" in line for line in run_lines(jobs["plan"]))
    assert not uses_of(jobs["test"], OIDC_ACTION) and not uses_of(jobs["plan"], OIDC_ACTION)


def deploy_jobs(deploy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: job for name, job in deploy["jobs"].items() if uses_of(job, OIDC_ACTION)}


def test_one_deploy_job_per_environment_in_order(deploy):
    jobs = deploy_jobs(deploy)
    assert [job["environment"] for job in jobs.values()] == DEPLOY_ENVIRONMENTS
    staging, production = jobs.values()
    assert "plan" in _needs(staging)
    assert {"plan", "deploy-staging"} <= set(_needs(production))
    assert "needs.plan.outputs.staging == 'true'" in staging["if"]
    assert "needs.plan.outputs.production == 'true'" in production["if"]
    # Production only after staging verified (or when staging is not part of this run at all).
    assert "needs.deploy-staging.result == 'success'" in production["if"]
    assert "failure" not in production["if"] and "always()" not in production["if"]


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else needs


@pytest.mark.parametrize("environment", DEPLOY_ENVIRONMENTS)
def test_deploy_job_shape(deploy, environment):
    (job,) = [j for j in deploy_jobs(deploy).values() if j["environment"] == environment]
    assert job["permissions"] == {"id-token": "write", "contents": "read"}
    assert job["concurrency"] == {"group": f"deploy-{environment}", "cancel-in-progress": False}

    steps = job["steps"]
    (oidc,) = uses_of(job, OIDC_ACTION)
    inputs = oidc["with"]
    assert inputs["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert inputs["aws-region"] == "${{ vars.AWS_REGION }}"
    assert "${{ github.run_id }}" in inputs["role-session-name"]
    assert int(inputs.get("role-duration-seconds", 3600)) <= 3600
    assert not STATIC_KEY_INPUTS & set(inputs)

    # The credentials come after checkout and install, and right before the AWS work.
    position = steps.index(oidc)
    (install,) = [s for s in steps if s.get("run") == "pip install -r requirements.txt"]
    assert steps.index(install) < position
    (work,) = [s for s in steps[position + 1 :] if "run" in s]
    assert work["run"].strip() == "invoke package deploy verify"
    assert work["env"] == {"PIPELINE_TARGET": "aws", "PIPELINE_ENVIRONMENT": environment}


def test_only_deploy_jobs_can_request_an_oidc_token(deploy, ci):
    for workflow in (deploy, ci):
        for name, job in workflow["jobs"].items():
            if job.get("permissions", {}).get("id-token") == "write":
                assert uses_of(job, OIDC_ACTION), name
                assert job.get("environment") in DEPLOY_ENVIRONMENTS, name


# --- the invoke tasks the workflows name ---------------------------------------------------------------------


def invoke_calls(text: str) -> list[list[str]]:
    """Every `invoke ...` command line in a run script, as its words up to a shell operator."""
    calls = []
    for match in re.finditer(r"(?:^|[\s;&|(`$])invoke((?:[ \t]+[^\s;&|)`\"]+)*)", text):
        calls.append(shlex.split(match.group(1)))
    return calls


def invoke_commands() -> list[tuple[str, list[str]]]:
    found = []
    for path in all_workflows():
        for step in steps_of(load(path)):
            for words in invoke_calls(step.get("run", "")):
                found.append((path.name, words))
    return found


def test_invoke_call_parser():
    assert invoke_calls("invoke package deploy verify") == [["package", "deploy", "verify"]]
    assert invoke_calls('configured="$(invoke environments --json)"') == [["environments", "--json"]]
    assert invoke_calls("pip install x && invoke lint\ninvoke test -k foo") == [["lint"], ["test", "-k", "foo"]]


def test_every_invoke_task_a_workflow_names_exists():
    """Each `invoke` command in a workflow parses against the real task collection (tasks.ns)."""
    sys.path.insert(0, str(ROOT))
    try:
        import tasks
    finally:
        sys.path.remove(str(ROOT))
    collection = tasks.ns
    names = set(collection.task_names)
    for aliases in collection.task_names.values():
        names.update(aliases)
    commands = invoke_commands()
    assert commands
    used = set()
    for workflow, words in commands:
        current = None
        index = 0
        while index < len(words):
            word = words[index]
            if word.startswith("-"):
                assert current is not None, f"{workflow}: core flag {word} before a task"
                flag = word.lstrip("-").split("=", 1)[0].replace("-", "_")
                arguments = {n.replace("-", "_"): a for a in current.get_arguments() for n in a.names}
                assert flag in arguments, f"{workflow}: invoke task has no flag {word}"
                if arguments[flag].takes_value and "=" not in word:
                    index += 1
            else:
                assert word in names, f"{workflow}: `invoke {word}` is not a task in tasks.ns"
                current = collection[word]
                used.add(word)
            index += 1
    assert {"lint", "test", "pipeline", "package", "deploy", "verify", "environments"} <= used


def test_the_plan_step_turns_invoke_environments_into_job_outputs(deploy, tmp_path):
    """Run the plan step's script as written, with the real `invoke environments --json`."""
    (step,) = [s for s in deploy["jobs"]["plan"]["steps"] if s.get("id") == "plan"]
    bindir = Path(sys.executable).parent
    for requested, expected in [
        ("all", ["staging", "production"]),
        ("production", ["production"]),
    ]:
        output = tmp_path / f"output-{requested}"
        env = {
            **os.environ,
            "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
            "REQUESTED": requested,
            "GITHUB_OUTPUT": str(output),
        }
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
        assert json.loads(outputs["environments"]) == expected
        assert outputs["staging"] == str("staging" in expected).lower()
        assert outputs["production"] == str("production" in expected).lower()

    env = {**env, "REQUESTED": "qa", "GITHUB_OUTPUT": str(tmp_path / "output-qa")}
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "not a deploy environment" in result.stderr

    # An environment configured in invoke.yaml but with no deploy job must stop the run, not be skipped silently.
    env = {**env, "REQUESTED": "all", "GITHUB_OUTPUT": str(tmp_path / "o")}
    env["PATH"] = f"{tmp_path}{os.pathsep}{env['PATH']}"
    fake = tmp_path / "invoke"  # stands in for `invoke environments --json` with a third environment
    fake.write_text('#!/bin/sh\necho \'["staging", "qa", "production"]\'\n')
    fake.chmod(0o755)
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "only has jobs for ['staging', 'production']" in result.stderr


# --- dependabot ----------------------------------------------------------------------------------------------


def test_dependabot_keeps_actions_and_pip_updated():
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(ecosystems) >= {"github-actions", "pip"}
    assert all(u["directory"] == "/" for u in ecosystems.values())
