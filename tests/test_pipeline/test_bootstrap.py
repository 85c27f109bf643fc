"""invoke bootstrap: the repository id it pins, the GitHub environments it creates, and what it says where.

gh is replaced by tests/test_pipeline/fake_gh.py (GitHub's REST shapes on a JSON file), on PATH or, for the tests of
github.py's logic, answered in this process (``fake_gh.run``). The stacks go to the
session's local cloud through the aws code path (AWS_ENDPOINT_URL), and the trust is read back from IAM.
"""

from __future__ import annotations

import json
import os
import shlex
import uuid
from pathlib import Path

import boto3
import fake_gh
import pytest
from pipeline_helpers import delete_stack_and_wait

from pipeline import bootstrap, cfn, commands, github
from pipeline.config import resolve
from pipeline.errors import UserError

REPO = "octo-org/s3-lambda-gitops"
REPO_ID = "424242"


def state(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture
def gh(tmp_path, monkeypatch):
    """A logged-in gh that knows REPO (id REPO_ID); returns its state file."""
    path = fake_gh.install(tmp_path, {"repos": {REPO: int(REPO_ID)}})
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_GH_STATE", str(path))
    return path


def set_logged_in(path: Path, logged_in: bool) -> None:
    path.write_text(json.dumps({**state(path), "logged_in": logged_in}))


# --- the repository id ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["abc", "12a", "-1", "1.5", "1e3", "*", "0x10", "1" * 21])
def test_a_repo_id_must_be_a_number(bad):
    with pytest.raises(UserError, match="is not a repository id") as raised:
        github.check_repo_id(bad)
    assert "gh api repos/OWNER/REPO --jq .id" in str(raised.value)


def test_without_gh_the_repo_id_is_required_and_the_error_says_how_to_find_it():
    with pytest.raises(UserError) as raised:
        github.repository_id(REPO, None, "missing")
    assert "pass --repo-id N" in str(raised.value)
    assert f"gh api repos/{REPO} --jq .id" in str(raised.value)
    assert f"https://api.github.com/repos/{REPO}" in str(raised.value)
    assert github.repository_id(REPO, " 0042 ", "missing") == "42"


def test_gh_present_but_not_logged_in(gh):
    set_logged_in(gh, False)
    assert github.gh_state(fake_gh.run) == "logged out"
    with pytest.raises(UserError, match="gh is installed but not logged in") as raised:
        github.repository_id(REPO, None, github.gh_state(fake_gh.run), fake_gh.run)
    assert "gh auth login" in str(raised.value) and "--repo-id N" in str(raised.value)
    assert github.repository_id(REPO, "77", github.gh_state(fake_gh.run), fake_gh.run) == "77"  # the way out named


def test_gh_logged_out_with_a_repo_id_bootstraps_and_prints_the_gh_calls(gh, settings_for, capsys):
    set_logged_in(gh, False)
    outputs = commands.bootstrap(settings_for(), REPO, ["staging"], "main", repo_id="77", yes=True)
    out = capsys.readouterr().out
    assert "NOT DONE (gh is not logged in)" in out
    assert f"AWS_DEPLOY_ROLE_ARN --env staging --body {outputs['DeployRoleArn:staging']}" in out
    assert f"gh variable set AWS_DRIFT_ROLE_ARN_STAGING --body {outputs['DriftRoleArn:staging']} --repo {REPO}" in out
    assert not state(gh)["variables"]


def test_gh_reports_the_id_and_a_different_repo_id_is_refused(gh):
    assert github.gh_state(fake_gh.run) == "ready"
    assert github.repository_id(REPO, None, "ready", fake_gh.run) == REPO_ID
    assert github.repository_id(REPO, REPO_ID, "ready", fake_gh.run) == REPO_ID
    with pytest.raises(UserError, match=f"--repo-id 7 does not match {REPO}, whose id gh reports as {REPO_ID}"):
        github.repository_id(REPO, "7", "ready", fake_gh.run)
    with pytest.raises(UserError, match="gh api repos/octo-org/gone` failed: gh: Not Found"):
        github.repository_id("octo-org/gone", None, "ready", fake_gh.run)


# --- the GitHub environments ---------------------------------------------------------------------------------


VARIABLES = [
    github.GitHubVariable("staging", "AWS_REGION", "eu-west-1"),
    github.GitHubVariable("staging", "AWS_DEPLOY_ROLE_ARN", "arn:aws:iam::1:role/s"),
    github.GitHubVariable("production", "AWS_REGION", "eu-west-1"),
    github.GitHubVariable("production", "AWS_DEPLOY_ROLE_ARN", "arn:aws:iam::1:role/p y"),
]


def test_the_manual_path_prints_the_exact_gh_api_calls():
    lines = [shlex.join(c) for c in github.manual_commands(REPO, VARIABLES, "main")]
    base = f"repos/{REPO}/environments"
    assert lines == [
        f"gh api -X PUT {base}/staging -F 'deployment_branch_policy[protected_branches]=false' "
        "-F 'deployment_branch_policy[custom_branch_policies]=true'",
        f"gh api -X POST {base}/staging/deployment-branch-policies -f name=main -f type=branch",
        f"gh api -X PUT {base}/production -F 'deployment_branch_policy[protected_branches]=false' "
        "-F 'deployment_branch_policy[custom_branch_policies]=true'",
        f"gh api -X POST {base}/production/deployment-branch-policies -f name=main -f type=branch",
        f"gh variable set AWS_REGION --env staging --body eu-west-1 --repo {REPO}",
        f"gh variable set AWS_DEPLOY_ROLE_ARN --env staging --body arn:aws:iam::1:role/s --repo {REPO}",
        f"gh variable set AWS_REGION --env production --body eu-west-1 --repo {REPO}",
        f"gh variable set AWS_DEPLOY_ROLE_ARN --env production --body 'arn:aws:iam::1:role/p y' --repo {REPO}",
    ]


def test_environments_get_their_branch_policy_before_any_variable(gh):
    github.configure(REPO, VARIABLES, "main", fake_gh.run)
    found = state(gh)
    for env in ("staging", "production"):
        environment = found["environments"][f"{REPO}/{env}"]
        assert environment["deployment_branch_policy"] == {"protected_branches": False, "custom_branch_policies": True}
        assert [(p["name"], p["type"]) for p in environment["policies"]] == [("main", "branch")]
    assert found["variables"][f"{REPO}/production/AWS_DEPLOY_ROLE_ARN"] == "arn:aws:iam::1:role/p y"
    calls = [" ".join(c) for c in found["calls"]]
    first_variable = next(i for i, c in enumerate(calls) if c.startswith("variable set"))
    assert all(not c.startswith("api") or i < first_variable for i, c in enumerate(calls))
    # A re-run adds no second policy (GitHub would answer 422) and still checks the result.
    github.configure(REPO, VARIABLES, "main", fake_gh.run)
    assert len(state(gh)["environments"][f"{REPO}/staging"]["policies"]) == 1


def test_an_environment_without_a_branch_policy_is_refused(gh):
    data = state(gh)
    data["environments"][f"{REPO}/staging"] = {"name": "staging", "policies": [], "deployment_branch_policy": None}
    gh.write_text(json.dumps(data))
    with pytest.raises(UserError, match="has no deployment branch policy limited to main") as raised:
        github.check_branch_policy(REPO, "staging", "main", fake_gh.run)
    assert f"gh api -X PUT repos/{REPO}/environments/staging" in str(raised.value)


def test_an_environment_that_also_allows_other_branches_is_refused(gh):
    data = state(gh)
    data["environments"][f"{REPO}/staging"] = {
        "name": "staging",
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
        "policies": [{"id": 7, "name": "*", "type": "branch"}],
    }
    gh.write_text(json.dumps(data))
    with pytest.raises(UserError, match="also accepts deployments from '\\*', not only main") as raised:
        github.configure_environment(REPO, "staging", "main", fake_gh.run)
    assert f"gh api -X DELETE repos/{REPO}/environments/staging/deployment-branch-policies/7" in str(raised.value)


def test_a_failing_gh_call_stops_the_bootstrap_loudly(gh):
    """Through the real ``gh`` on PATH (``run_gh``: its status and stderr), as the whole bootstraps below are; the
    tests above answer gh in this process (``fake_gh.run``), the same answers without ~30 Python start-ups."""
    with pytest.raises(UserError, match="failed: gh: Not Found") as raised:
        github.configure("octo-org/gone", VARIABLES, "main")
    assert "Nothing after it was set" in str(raised.value)
    assert not state(gh)["variables"]


# --- the whole bootstrap on the local cloud ------------------------------------------------------------------


@pytest.fixture
def settings_for(endpoint, monkeypatch):
    made = []

    def make(target: str = "aws"):
        project = f"bt{uuid.uuid4().hex[:8]}"
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)  # the aws code path, pointed at the local cloud
        config = {"project": project, "environments": {"dev": {}, "staging": {}, "production": {}}}
        made.append(project)
        return resolve(
            {**config, "deploy_environments": ["staging", "production"]},
            target=target,
            env={"AWS_ENDPOINT_URL": endpoint},
        )

    yield make
    cloudformation = boto3.client("cloudformation", endpoint_url=endpoint, region_name="us-east-1")
    for project in made:
        for stack in (f"{project}-bootstrap-staging", f"{project}-bootstrap-production", f"{project}-bootstrap"):
            delete_stack_and_wait(cloudformation, stack)


def _trust(client, outputs: dict[str, str], env: str) -> dict:
    role = client("iam").get_role(RoleName=outputs[f"DeployRoleArn:{env}"].rsplit("/", 1)[1])["Role"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    return statement["Condition"]["StringEquals"]


def test_bootstrap_with_gh_pins_the_id_gh_reports_and_creates_the_environments(gh, settings_for, client, capsys):
    settings = settings_for()
    outputs = commands.bootstrap(settings, REPO, [], "main", yes=True)
    out = capsys.readouterr().out
    key = "token.actions.githubusercontent.com:"
    for env in ("staging", "production"):
        pinned = _trust(client, outputs, env)
        assert pinned[key + "repository_id"] == REPO_ID
        assert pinned[key + "job_workflow_ref"] == f"{REPO}/{bootstrap.DEPLOY_WORKFLOW}@refs/heads/main"
        assert pinned[key + "environment"] == env
        assert state(gh)["variables"][f"{REPO}/{env}/AWS_DEPLOY_ROLE_ARN"] == outputs[f"DeployRoleArn:{env}"]
        # drift.yml's jobs declare no environment: its read-only roles are repository variables
        drift_role = state(gh)["variables"][f"{REPO}/(repository)/AWS_DRIFT_ROLE_ARN_{env.upper()}"]
        assert drift_role == outputs[f"DriftRoleArn:{env}"] != outputs[f"DeployRoleArn:{env}"]
    assert state(gh)["variables"][f"{REPO}/(repository)/AWS_REGION"] == settings.region
    assert "GitHub: 2 environments of octo-org/s3-lambda-gitops accept deployments from main only" in out
    assert "LOCAL" not in out and "environment dev" not in out
    assert f"repository id {REPO_ID}" in out


def test_bootstrap_without_gh_needs_the_repo_id_before_changing_anything(settings_for, client, capsys, monkeypatch):
    monkeypatch.setattr(github, "gh_state", lambda: "missing")
    settings = settings_for()
    with pytest.raises(UserError, match="pass --repo-id N"):
        commands.bootstrap(settings, REPO, [], "main")
    assert cfn.describe_stack(client("cloudformation"), settings.bootstrap_stack) is None
    outputs = commands.bootstrap(settings, REPO, ["staging"], "main", repo_id="99")
    out = capsys.readouterr().out
    assert _trust(client, outputs, "staging")["token.actions.githubusercontent.com:repository_id"] == "99"
    assert "NOT DONE (gh is not installed)" in out
    assert f"gh api -X POST repos/{REPO}/environments/staging/deployment-branch-policies -f name=main" in out
    assert f"AWS_DEPLOY_ROLE_ARN --env staging --body {outputs['DeployRoleArn:staging']}" in out
    assert f"gh variable set AWS_DRIFT_ROLE_ARN_STAGING --body {outputs['DriftRoleArn:staging']} --repo {REPO}" in out


def test_bootstrap_on_the_local_target_says_it_is_local_and_never_calls_gh(gh, settings_for, capsys):
    settings = settings_for("local")
    outputs = commands.bootstrap(settings, REPO, [], "main")
    out = capsys.readouterr().out
    assert "Bootstrapping on the LOCAL CLOUD" in out
    assert "do not set them in GitHub" in out and "NOT to be set in GitHub" in out
    assert "environment dev" not in out and "gh variable set" not in out and "gh api" not in out
    assert outputs["DeployRoleArn:staging"] in out
    assert state(gh).get("calls", []) == []


@pytest.mark.parametrize("target", ["local", "aws"])
def test_only_environments_of_invoke_yaml(settings_for, target):
    with pytest.raises(UserError, match=r"Environment .qa. is not configured in invoke\.yaml"):
        commands.bootstrap(settings_for(target), REPO, ["staging", "qa"], "main", repo_id="1")


@pytest.mark.parametrize("branch", ["", "main*", "feature/*", "a b"])
def test_the_deploy_branch_is_one_branch(settings_for, branch):
    with pytest.raises(UserError, match="is not a branch name"):
        commands.bootstrap(settings_for(), REPO, ["staging"], branch, repo_id="1")


def test_trust_without_environment_goes_to_the_first_environment_only(settings_for, client):
    outputs = commands.bootstrap(settings_for(), REPO, [], "main", repo_id="5", without_environment=True)
    roles = {
        env: client("iam").get_role(RoleName=outputs[f"DeployRoleArn:{env}"].rsplit("/", 1)[1])["Role"]
        for env in ("staging", "production")
    }
    subs = {
        env: [
            s["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
            for s in r["AssumeRolePolicyDocument"]["Statement"]
        ]
        for env, r in roles.items()
    }
    assert subs["staging"] == [f"repo:{REPO}:environment:staging", f"repo:{REPO}:ref:refs/heads/main"]
    assert subs["production"] == [f"repo:{REPO}:environment:production"]
