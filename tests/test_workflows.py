"""The GitHub workflows, parsed: permissions, pinning, OIDC, concurrency, environments, and the invoke tasks."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_pipeline import invoke_cli

from pipeline import run_tool

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
REUSABLE = WORKFLOWS / "deploy-environment.yml"
REUSABLE_USES = "./.github/workflows/deploy-environment.yml"
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


@pytest.fixture(scope="module")
def reusable() -> dict[str, Any]:
    return load(REUSABLE)


def all_workflows() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.y*ml"))


def steps_of(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def uses_of(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if s.get("uses", "").split("@")[0] == action]


def run_lines(job: dict[str, Any]) -> list[str]:
    return [s["run"] for s in job.get("steps", []) if "run" in s]


# --- every workflow ------------------------------------------------------------------------------------------


def test_the_workflows_exist():
    assert {p.name for p in all_workflows()} >= {"ci.yml", "deploy.yml", "deploy-environment.yml"}


@pytest.mark.parametrize("path", all_workflows(), ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_full_sha_with_its_version(path: Path):
    workflow = load(path)
    for step in steps_of(workflow):
        if "uses" in step:
            assert PINNED.match(step["uses"]), step["uses"]
    for job in workflow["jobs"].values():
        assert "uses" not in job or PINNED.match(job["uses"]) or job["uses"].startswith("./")
    uses_lines = [
        line
        for line in path.read_text().splitlines()
        if re.match(r"^\s*(-\s+)?uses:", line) and not re.match(r"^\s*uses:\s*\./", line)
    ]
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


def credentialed(job: dict[str, Any]) -> bool:
    return job.get("permissions", {}).get("id-token") == "write"


@pytest.mark.parametrize("path", all_workflows(), ids=lambda p: p.name)
def test_python_and_a_hash_checked_install(path: Path):
    """setup-python 3.13, then setup-uv and `uv pip install --require-hashes` of a hash-locked file."""
    workflow = load(path)
    for name, job in workflow["jobs"].items():
        if "steps" not in job:
            continue  # a job calling a reusable workflow
        (setup,) = uses_of(job, "actions/setup-python")
        version = setup["with"]["python-version"]
        if version == "${{ env.PYTHON_VERSION }}":
            version = workflow["env"]["PYTHON_VERSION"]
        assert version == "3.13", name
        assert "cache" not in setup["with"], name  # pip is not used to install
        (uv,) = uses_of(job, "astral-sh/setup-uv")
        assert uv["with"]["activate-environment"] is True, name
        (install,) = [line for line in run_lines(job) if line.startswith("uv pip install")]
        words = shlex.split(install)
        assert "--require-hashes" in words, name
        assert words[-2:] in (["-r", "requirements.txt"], ["-r", "requirements-deploy.txt"]), name
        assert not [w for w in words if w in ("--no-verify-hashes", "--no-deps") or w.startswith("--index")], name


@pytest.mark.parametrize("path", [DEPLOY, REUSABLE], ids=lambda p: p.name)
def test_no_cache_in_the_deploy_workflows(path: Path):
    """Nothing restored from a cache runs in the deploy workflow, least of all next to the OIDC credentials."""
    for name, job in load(path)["jobs"].items():
        if "steps" not in job:
            continue
        (uv,) = uses_of(job, "astral-sh/setup-uv")
        assert uv["with"]["enable-cache"] is False, name
        assert not [s for s in job["steps"] if s.get("uses", "").startswith("actions/cache")], name
        if credentialed(job):
            (install,) = [line for line in run_lines(job) if line.startswith("uv pip install")]
            assert shlex.split(install)[-2:] == ["-r", "requirements-deploy.txt"], name
            assert "--no-cache" in shlex.split(install), name


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


# --- deploy.yml and the reusable deploy-environment.yml ---------------------------------------------------------


def test_deploy_triggers(deploy):
    assert deploy["on"]["push"] == {"branches": ["main"]}
    choice = deploy["on"]["workflow_dispatch"]["inputs"]["environment"]
    # A string, checked by the plan job against invoke.yaml: adding an environment needs no edit here.
    assert choice["type"] == "string" and choice["default"] == "all"


def test_the_reusable_workflow_only_runs_when_called(reusable):
    assert set(reusable["on"]) == {"workflow_call"}
    assert reusable["on"]["workflow_call"]["inputs"] == {
        "environment": {
            "description": reusable["on"]["workflow_call"]["inputs"]["environment"]["description"],
            "type": "string",
            "required": True,
        }
    }
    assert reusable["permissions"] == {}
    assert reusable["env"]["PYTHON_VERSION"] == load(DEPLOY)["env"]["PYTHON_VERSION"]


def test_deploy_workflow_grants_nothing_by_default(deploy):
    assert deploy["permissions"] in ({}, {"contents": "read"})


def test_tests_and_plan_run_first(deploy):
    jobs = deploy["jobs"]
    assert "invoke test" in run_lines(jobs["test"])
    assert jobs["test"]["permissions"] == {"contents": "read"}
    assert jobs["plan"]["needs"] == "test"
    assert jobs["plan"]["permissions"] == {"contents": "read"}
    assert any("invoke plan --requested" in line for line in run_lines(jobs["plan"]))
    assert jobs["plan"]["outputs"] == {"environments": "${{ steps.plan.outputs.environments }}"}
    assert not uses_of(jobs["test"], OIDC_ACTION) and not uses_of(jobs["plan"], OIDC_ACTION)


def deploy_jobs(deploy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The jobs that call the reusable deploy workflow, in file order."""
    return {name: job for name, job in deploy["jobs"].items() if job.get("uses") == REUSABLE_USES}


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else needs


def check_deploy_jobs(deploy: dict[str, Any], environments: list[str]) -> None:
    """One short caller job per environment, in order, each after the one before and only once it succeeded."""
    jobs = deploy_jobs(deploy)
    assert [job["with"] for job in jobs.values()] == [{"environment": env} for env in environments]
    assert list(jobs) == [f"deploy-{env}" for env in environments]
    names = list(jobs)
    for index, (name, job) in enumerate(jobs.items()):
        assert set(job) <= {"needs", "if", "uses", "with", "permissions", "name"}, name  # short: no steps
        assert job["permissions"] == {"id-token": "write", "contents": "read"}, name
        env = job["with"]["environment"]
        assert f"contains(fromJSON(needs.plan.outputs.environments), '{env}')" in job["if"], name
        if index == 0:
            assert _needs(job) == ["plan"]
            continue
        before = names[index - 1]
        assert _needs(job) == ["plan", before], name
        # Only after the job before verified (or when its environment is not part of this run).
        assert f"""contains(fromJSON('["success", "skipped"]'), needs.{before}.result)""" in job["if"], name
        assert job["if"].startswith("${{ !cancelled() && needs.plan.result == 'success'"), name
        assert "failure" not in job["if"] and "always()" not in job["if"], name


def test_one_short_deploy_job_per_environment_in_order(deploy):
    check_deploy_jobs(deploy, DEPLOY_ENVIRONMENTS)


def test_the_reusable_deploy_job(reusable):
    (job,) = reusable["jobs"].values()
    assert job["environment"] == "${{ inputs.environment }}"  # the OIDC sub and environment claims name it
    assert job["permissions"] == {"id-token": "write", "contents": "read"}
    assert job["concurrency"] == {"group": "deploy-${{ inputs.environment }}", "cancel-in-progress": False}
    steps = job["steps"]
    (oidc,) = uses_of(job, OIDC_ACTION)
    inputs = oidc["with"]
    assert inputs["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert inputs["aws-region"] == "${{ vars.AWS_REGION }}"
    assert "${{ github.run_id }}" in inputs["role-session-name"]
    assert int(inputs.get("role-duration-seconds", 3600)) <= 3600
    assert not STATIC_KEY_INPUTS & set(inputs)
    # The credentials come after checkout and the install, and right before the AWS work.
    position = steps.index(oidc)
    (install,) = [s for s in steps if s.get("run", "").startswith("uv pip install")]
    assert steps.index(install) < position
    (work,) = [s for s in steps[position + 1 :] if "run" in s]
    assert work["run"].strip() == "invoke package deploy verify --rollback"
    assert work["env"] == {"PIPELINE_TARGET": "aws", "PIPELINE_ENVIRONMENT": "${{ inputs.environment }}"}


def test_the_trust_pins_the_file_that_holds_the_deploy_job(reusable):
    """job_workflow_ref names the file of the job assuming the role: the reusable workflow, and only it."""
    from cfnlint.decode import cfn_yaml

    from pipeline import bootstrap

    template = cfn_yaml.loads((ROOT / "cloudformation" / "bootstrap-environment.yaml").read_text())
    assert template["Parameters"]["DeployWorkflow"]["Default"] == bootstrap.DEPLOY_WORKFLOW
    assert bootstrap.DEPLOY_WORKFLOW == str(REUSABLE.relative_to(ROOT)) == REUSABLE_USES.removeprefix("./")
    holders = [p.name for p in all_workflows() for job in load(p)["jobs"].values() if uses_of(job, OIDC_ACTION)]
    assert holders == ["deploy-environment.yml", "drift.yml"]  # drift.yml: the read-only drift role's own pin


def test_only_deploy_jobs_can_request_an_oidc_token():
    for path in all_workflows():
        for name, job in load(path)["jobs"].items():
            if credentialed(job):
                # A caller of the reusable workflow, or the reusable workflow's job itself; or the drift job,
                # whose role can only read (test_drift.py checks its policy).
                oidc = str(uses_of(job, OIDC_ACTION))
                drift = path.name == "drift.yml" and name == "drift" and "AWS_DRIFT_ROLE_ARN" in oidc
                assert (
                    drift
                    or job.get("uses") == REUSABLE_USES
                    or (path == REUSABLE and uses_of(job, OIDC_ACTION) and job["environment"])
                ), (path.name, name)
            else:
                assert not uses_of(job, OIDC_ACTION), (path.name, name)


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
    assert {"lint", "test", "pipeline", "package", "deploy", "verify", "plan"} <= used


def repo_copy(tmp_path: Path) -> Path:
    """What `invoke plan` reads, copied: tasks.py, pipeline/, invoke.yaml and the workflows."""
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(ROOT / "tasks.py", copy)
    shutil.copy(ROOT / "invoke.yaml", copy)
    shutil.copytree(ROOT / "pipeline", copy / "pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".github", copy / ".github")
    return copy


def run_plan_step(workflow: dict[str, Any], cwd: Path, requested: str, output: Path) -> subprocess.CompletedProcess:
    """The plan job's step, as written, through bash, with the real `invoke plan`."""
    (step,) = [s for s in workflow["jobs"]["plan"]["steps"] if s.get("id") == "plan"]
    bindir = Path(sys.executable).parent
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("INVOKE_", "PIPELINE_"))},
        "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        "REQUESTED": requested,
        "GITHUB_OUTPUT": str(output),
    }
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=cwd, env=env, capture_output=True, text=True
    )


def planned(output: Path) -> list[str]:
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return json.loads(outputs["environments"])


def test_the_plan_step_writes_the_chosen_environments(deploy, tmp_path):
    """The step as written, through bash; the same `invoke plan` for one environment and for an unknown one, in
    this process (tests/test_pipeline/invoke_cli.py)."""
    done = run_plan_step(deploy, ROOT, "all", tmp_path / "output-all")
    assert done.returncode == 0, done.stdout + done.stderr
    assert planned(tmp_path / "output-all") == ["staging", "production"]

    def plan(requested: str) -> subprocess.CompletedProcess:
        output = invoke_cli.clean_env({"GITHUB_OUTPUT": str(tmp_path / f"output-{requested}")})
        return invoke_cli.run(["plan", "--requested", requested], env=output)

    done = plan("production")
    assert done.returncode == 0, done.stdout + done.stderr
    assert planned(tmp_path / "output-production") == ["production"]
    done = plan("qa")
    assert done.returncode != 0 and "'qa' is not a deploy environment in invoke.yaml" in done.stderr


THIRD_JOB = """
  deploy-qa:
    needs: [plan, deploy-production]
    if: >-
      ${{ !cancelled() && needs.plan.result == 'success' &&
      contains(fromJSON(needs.plan.outputs.environments), 'qa') &&
      contains(fromJSON('["success", "skipped"]'), needs.deploy-production.result) }}
    uses: ./.github/workflows/deploy-environment.yml # zizmor: ignore[self-repository]
    with:
      environment: qa
    permissions:
      id-token: write # to request the GitHub OIDC token that assumes the deploy role
      contents: read
"""


def test_a_third_environment_takes_the_two_documented_edits(tmp_path, monkeypatch):
    """invoke.yaml gets the environment; deploy.yml gets one short job appended. Nothing else changes."""
    monkeypatch.setattr(sys, "argv", list(sys.argv))  # run_tool.run sets the tool's argv
    copy = repo_copy(tmp_path)
    config = copy / "invoke.yaml"
    text = config.read_text()
    assert "deploy_environments: [staging, production]" in text and "  environments:\n" in text
    # Edit 1: invoke.yaml. The plan job now stops the run: there is no job for qa yet.
    config.write_text(
        text.replace(
            "deploy_environments: [staging, production]", "deploy_environments: [staging, production, qa]"
        ).replace("  environments:\n", "  environments:\n    qa: {}\n", 1)
    )
    workflow = copy / ".github" / "workflows" / "deploy.yml"
    done = run_plan_step(load(workflow), copy, "all", tmp_path / "o1")
    assert done.returncode != 0 and "has deploy jobs only for ['staging', 'production']" in done.stderr
    # Edit 2: one short job appended to deploy.yml.
    workflow.write_text(workflow.read_text().rstrip("\n") + "\n" + THIRD_JOB)
    done = run_plan_step(load(workflow), copy, "all", tmp_path / "o2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert planned(tmp_path / "o2") == ["staging", "production", "qa"]
    check_deploy_jobs(load(workflow), ["staging", "production", "qa"])
    # check-jsonschema's command in this process (pipeline.run_tool, as `invoke lint` runs it), zizmor's binary.
    said = io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
        schema = ["--builtin-schema", "vendor.github-workflows", str(workflow)]
        assert run_tool.run("check-jsonschema", schema) == 0, said.getvalue()
    zizmor = [str(Path(sys.executable).parent / "zizmor"), "--offline", "--no-progress", str(workflow.parent)]
    checked = subprocess.run(zizmor, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The new environment's deploy role (bootstrap-environment.yaml, unchanged) trusts the new job as it is.
    from test_trust_policy import check_trust, rendered_trusts

    check_trust(rendered_trusts(["staging", "production", "qa"])["qa"], "qa")


def test_the_plan_refuses_jobs_out_of_order_or_not_chained():
    from pipeline import plan
    from pipeline.errors import UserError

    workflow = load(DEPLOY)
    assert plan.check(["staging", "production"], workflow) == ["staging", "production"]
    assert plan.check(["staging"], workflow) == ["staging"]  # production's job is skipped
    with pytest.raises(UserError, match=r"in that order, but deploy\.yml.s jobs run"):
        plan.check(["production", "staging"], workflow)
    unchained = json.loads(json.dumps(workflow))
    unchained["jobs"]["deploy-production"]["needs"] = ["plan"]
    with pytest.raises(UserError, match="job deploy-production does not need deploy-staging"):
        plan.check(["staging", "production"], unchained)


# --- dependabot ----------------------------------------------------------------------------------------------


def test_dependabot_keeps_actions_and_pip_updated():
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(ecosystems) >= {"github-actions", "pip"}
    assert all(u["directory"] == "/" for u in ecosystems.values())
