"""The bootstrap: what lets GitHub Actions deploy into an AWS account, made once by an admin.

Two templates, so that each stays small enough to send inline (there is no bucket to upload to yet):
``bootstrap.yaml`` (stack ``<project>-bootstrap``: GitHub OIDC provider, artifact bucket, permissions boundary)
and ``bootstrap-environment.yaml`` (stack ``<project>-bootstrap-<env>`` per environment: that environment's
deploy role and CloudFormation execution role). Both go through the same ``Deployer`` as the app.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from pipeline import aws, cfn, github, report, template
from pipeline.commands import run_deploy
from pipeline.config import Settings
from pipeline.deploy import Deployer, DeployRequest
from pipeline.errors import UserError
from pipeline.github import GitHubVariable

REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
ENVIRONMENT = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
RESERVED = ("bootstrap", "artifacts")  # would collide with the bootstrap stacks' or the artifact bucket's names
# The reusable workflow that holds the deploy job: the job_workflow_ref the deploy roles trust.
DEPLOY_WORKFLOW = ".github/workflows/deploy-environment.yml"
BRANCH = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")


@dataclass(frozen=True)
class Trust:
    """Whose deploy job the roles trust: the repository (by name and id), the deploy branch and workflow file."""

    repo: str
    repo_id: str
    branch: str
    workflow: str = DEPLOY_WORKFLOW

    @property
    def job_workflow_ref(self) -> str:
        return f"{self.repo}/{self.workflow}@refs/heads/{self.branch}"


def parse_repo(repo: str | None) -> str:
    if not repo:
        raise UserError(
            "`invoke bootstrap` needs --repo OWNER/REPO: the GitHub repository whose workflows may assume the "
            "deploy role (for example --repo my-org/s3-lambda-gitops)."
        )
    repo = repo.strip()
    if repo.startswith(("https://", "git@")):
        raise UserError(f"--repo takes OWNER/REPO, not a URL: use --repo {_from_url(repo)}.")
    if not REPO.match(repo) or repo.endswith((".", "/")):
        raise UserError(
            f"--repo {repo!r} is not OWNER/REPO. Give the GitHub owner and repository name separated by one "
            "slash, with no wildcards (the trust policy is pinned to exactly this repository)."
        )
    return repo


def _from_url(url: str) -> str:
    tail = re.sub(r"^(https://github\.com/|git@github\.com:)", "", url)
    return tail.removesuffix(".git").strip("/") or "OWNER/REPO"


def existing_oidc_provider(iam) -> str | None:
    """The account's GitHub OIDC provider ARN, if it has one (an account can hold only one per URL)."""
    for provider in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", []):
        if provider["Arn"].endswith(f"oidc-provider/{GITHUB_OIDC_HOST}"):
            return provider["Arn"]
    return None


def check_environments(environments: list[str], known: tuple[str, ...] | None = None) -> list[str]:
    """Usable names, each configured in invoke.yaml (``known``): `invoke deploy` would refuse any other."""
    if not environments:
        raise UserError("No deploy environments: pass --environment NAME, or set `deploy_environments` in invoke.yaml.")
    for env in environments:
        if not ENVIRONMENT.match(env) or env.startswith(RESERVED):
            raise UserError(
                f"Environment name {env!r} can't be used: use letters, digits, '.', '_' and '-', not starting with "
                f"{' or '.join(RESERVED)} (those names belong to the bootstrap stacks and the artifact bucket)."
            )
        if known is not None and env not in known:
            raise UserError(
                f"Environment {env!r} is not configured in invoke.yaml (configured: {', '.join(known) or 'none'}), so "
                "`invoke deploy` would refuse it. Add it under `pipeline.environments` (and to "
                "`pipeline.deploy_environments` for the deploy workflow), or pick a configured one."
            )
    return environments


def base_parameters(project: str, provider_arn: str | None) -> dict[str, str]:
    return {
        "ProjectName": project,
        "CreateOidcProvider": "false" if provider_arn else "true",
        "ExistingOidcProviderArn": provider_arn or "",
    }


def environment_stack(project: str, environment: str) -> str:
    return f"{project}-bootstrap-{environment}"


def environment_parameters(
    project: str, environment: str, trust: Trust, base_outputs: dict[str, str], without_environment: bool = False
) -> dict[str, str]:
    return {
        "ProjectName": project,
        "EnvironmentName": environment,
        "GitHubRepository": trust.repo,
        "GitHubRepositoryId": trust.repo_id,
        "DeployBranch": trust.branch,
        "DeployWorkflow": trust.workflow,
        "TrustBranchWithoutEnvironment": "true" if without_environment else "false",
        "OidcProviderArn": base_outputs["OidcProviderArn"],
        "ArtifactBucketName": base_outputs["ArtifactBucketName"],
        "PermissionsBoundaryArn": base_outputs.get("PermissionsBoundaryArn", ""),
    }


def github_variables(
    environments: list[str], region: str, roles: dict[str, str], drift_roles: dict[str, str] | None = None
) -> list[GitHubVariable]:
    """Each environment's region and deploy role; the repository's drift roles and region for drift.yml."""
    found = []
    for env in environments:
        found.append(GitHubVariable(env, "AWS_REGION", region))
        found.append(GitHubVariable(env, "AWS_DEPLOY_ROLE_ARN", roles[env]))
    drift_roles = {env: arn for env, arn in (drift_roles or {}).items() if arn}
    if drift_roles:  # drift.yml's jobs declare no environment, so these are repository variables
        found.append(GitHubVariable(None, "AWS_REGION", region))
        found += [GitHubVariable(None, f"AWS_DRIFT_ROLE_ARN_{env.upper()}", arn) for env, arn in drift_roles.items()]
    return found


def parse_branch(branch: str | None) -> str:
    branch = (branch or "").strip()
    if not BRANCH.match(branch) or "*" in branch:
        raise UserError(
            f"--branch {branch!r} is not a branch name: give the one branch that deploys (default main), with no "
            "wildcard; the deploy roles trust that branch's deploy workflow only."
        )
    return branch


def _banner(settings: Settings, cloud: aws.Cloud, trust: Trust, envs: list[str]) -> None:
    identity = cloud.identity()
    stacks = ", ".join([settings.bootstrap_stack, *(environment_stack(settings.project, e) for e in envs)])
    if settings.target == "local":
        report.emit(
            f"Bootstrapping on the LOCAL CLOUD at {cloud.endpoint_url} (account {identity['account']}, region "
            f"{settings.region}), a rehearsal on this machine: stacks {stacks}. Nothing is set in GitHub, and the "
            "role ARNs it prints are local-cloud values: do not set them in GitHub."
        )
        return
    report.emit(
        f"Bootstrapping AWS account {identity['account']} in {settings.region} as {identity['arn']}: stacks {stacks}. "
        f"Deploy roles trust {trust.repo} (repository id {trust.repo_id}), job workflow {trust.job_workflow_ref}, "
        f"each in its own GitHub environment ({', '.join(envs)})."
    )


def run(
    settings: Settings,
    repo: str | None,
    environments: list[str],
    branch: str,
    repo_id: str | None = None,
    without_environment: bool = False,
    yes: bool = False,
    confirm=input,
) -> dict[str, str]:
    """Deploy the account's bootstrap stack and one stack per environment, then hand the environments to GitHub."""
    repo = parse_repo(repo)
    envs = check_environments(environments or list(settings.deploy_environments), settings.environments)
    branch = parse_branch(branch)
    local = settings.target == "local"
    state = "local" if local else github.gh_state()
    # Before any stack changes: the id the roles will trust (never looked up on the local cloud).
    found_id = (github.check_repo_id(repo_id) or "0") if local else github.repository_id(repo, repo_id, state)
    trust = Trust(repo, found_id, branch)
    cloud = aws.connect(settings)
    _banner(settings, cloud, trust, envs)
    base, roles, drift_roles = _deploy_stacks(settings, cloud, trust, envs, without_environment)
    variables = github_variables(envs, settings.region, roles, drift_roles)
    if local:
        report.emit("\nLocal deploy roles (local-cloud values: NOT to be set in GitHub):")
        report.emit("\n".join(f"  {env}: {arn}" for env, arn in roles.items()))
    else:
        _hand_off(repo, variables, branch, state, yes, confirm)
    return {
        **base,
        **{f"DeployRoleArn:{env}": arn for env, arn in roles.items()},
        **{f"DriftRoleArn:{env}": arn for env, arn in drift_roles.items() if arn},
    }


def _deploy_stacks(
    settings: Settings, cloud: aws.Cloud, trust: Trust, envs: list[str], without_environment: bool
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The account's stack, then each environment's; its outputs and each environment's deploy and drift roles."""
    cfn_client = cloud.client("cloudformation")
    deployer = Deployer(cfn_client, report.TerminalProgress())
    owned = _stack_owns_provider(cfn_client, settings.bootstrap_stack)
    provider = None if owned else existing_oidc_provider(cloud.client("iam"))
    if provider:
        report.emit(f"Using the account's existing GitHub OIDC provider {provider}.")
    base_template = template.load(settings.bootstrap_template)
    request = DeployRequest(
        settings.bootstrap_stack, base_template, base_parameters(settings.project, provider), settings.tags
    )
    base = run_deploy(deployer, request, preview=False).outputs
    env_template = template.load(settings.bootstrap_environment_template)
    roles, drift_roles = {}, {}
    for index, env in enumerate(envs):
        # Trust without an environment, when asked for, goes to the first environment only.
        offered = environment_parameters(settings.project, env, trust, base, without_environment and index == 0)
        # Pass what the template declares: the two templates can move an output between them without a lockstep.
        parameters = {k: v for k, v in offered.items() if k in env_template.parameter_names()}
        request = DeployRequest(environment_stack(settings.project, env), env_template, parameters, settings.tags)
        stack_outputs = run_deploy(deployer, request, preview=False).outputs
        roles[env], drift_roles[env] = stack_outputs["DeployRoleArn"], stack_outputs.get("DriftRoleArn", "")
    return base, roles, drift_roles


def _hand_off(repo: str, variables: list[GitHubVariable], branch: str, state: str, yes: bool, confirm) -> None:
    """With gh: create the environments, their branch policies and variables. Otherwise print the exact calls."""
    calls = "\n".join("  " + shlex.join(c) for c in github.manual_commands(repo, variables, branch))
    if state == "ready":
        try:
            agreed = yes or confirm(
                f"Create the GitHub environments (deploy branch {branch} only) and set their variables with gh? [y/N] "
            ).strip().lower() in ("y", "yes")
        except EOFError:
            agreed = False
        if agreed:
            github.configure(repo, variables, branch)
            envs = len({v.environment for v in variables if v.environment})
            report.emit(f"GitHub: {envs} environments of {repo} accept deployments from {branch} only; variables set.")
            return
    why = {"missing": "gh is not installed", "logged out": "gh is not logged in"}.get(state, "not confirmed")
    report.emit(
        f"\nNOT DONE ({why}): create each GitHub environment with a deployment branch policy limited to {branch}, "
        "then set its variables. Run these (or do the same under Settings > Environments):"
    )
    report.emit(calls)


def _stack_owns_provider(cfn_client, stack_name: str) -> bool:
    """A re-run must keep managing the provider it created, not switch to 'existing' and delete it."""
    stack = cfn.describe_stack(cfn_client, stack_name)
    params = {p["ParameterKey"]: p.get("ParameterValue") for p in (stack or {}).get("Parameters", [])}
    return params.get("CreateOidcProvider") == "true"
