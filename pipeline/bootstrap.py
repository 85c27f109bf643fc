"""The bootstrap: what lets GitHub Actions deploy into an AWS account, made once by an admin.

Two templates, so that each stays small enough to send inline (there is no bucket to upload to yet):
``bootstrap.yaml`` (stack ``<project>-bootstrap``: GitHub OIDC provider, artifact bucket, permissions boundary)
and ``bootstrap-environment.yaml`` (stack ``<project>-bootstrap-<env>`` per environment: that environment's
deploy role and CloudFormation execution role). Both go through the same ``Deployer`` as the app.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass

from pipeline.errors import UserError

REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
ENVIRONMENT = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
RESERVED = ("bootstrap", "artifacts")  # would collide with the bootstrap stacks' or the artifact bucket's names


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


def check_environments(environments: list[str]) -> list[str]:
    if not environments:
        raise UserError("No deploy environments: pass --environment NAME, or set `deploy_environments` in invoke.yaml.")
    for env in environments:
        if not ENVIRONMENT.match(env) or env.startswith(RESERVED):
            raise UserError(
                f"Environment name {env!r} can't be used: use letters, digits, '.', '_' and '-', not starting with "
                f"{' or '.join(RESERVED)} (those names belong to the bootstrap stacks and the artifact bucket)."
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
    project: str, environment: str, repo: str, branch: str, base_outputs: dict[str, str]
) -> dict[str, str]:
    return {
        "ProjectName": project,
        "EnvironmentName": environment,
        "GitHubRepository": repo,
        "DeployBranch": branch,
        "OidcProviderArn": base_outputs["OidcProviderArn"],
        "ArtifactBucketName": base_outputs["ArtifactBucketName"],
        "PermissionsBoundaryArn": base_outputs.get("PermissionsBoundaryArn", ""),
    }


@dataclass(frozen=True)
class GitHubVariable:
    environment: str
    name: str
    value: str

    def gh_command(self, repo: str) -> list[str]:
        return ["gh", "variable", "set", self.name, "--env", self.environment, "--body", self.value, "--repo", repo]


def github_variables(environments: list[str], region: str, roles: dict[str, str]) -> list[GitHubVariable]:
    found = []
    for env in environments:
        found.append(GitHubVariable(env, "AWS_REGION", region))
        found.append(GitHubVariable(env, "AWS_DEPLOY_ROLE_ARN", roles[env]))
    return found


def gh_ready() -> bool:
    if not shutil.which("gh"):
        return False
    return subprocess.run(["gh", "auth", "status"], capture_output=True, check=False).returncode == 0


def gh_commands(repo: str, variables: list[GitHubVariable], branch: str) -> list[list[str]]:
    """The gh calls that create each environment, limit it to the deploy branch, and set its variables.

    The OIDC ``sub`` only says which environment a job named; the environment's deployment-branch policy is what
    stops a workflow run from another branch from using it.
    """
    commands = []
    for env in sorted({v.environment for v in variables}):
        base = f"repos/{repo}/environments/{env}"
        commands.append(
            [
                "gh",
                "api",
                "-X",
                "PUT",
                base,
                "-F",
                "deployment_branch_policy[protected_branches]=false",
                "-F",
                "deployment_branch_policy[custom_branch_policies]=true",
            ]
        )
        commands.append(
            [
                "gh",
                "api",
                "-X",
                "POST",
                f"{base}/deployment-branch-policies",
                "-f",
                f"name={branch or 'main'}",
                "-f",
                "type=branch",
            ]
        )
    return commands + [variable.gh_command(repo) for variable in variables]


def set_with_gh(repo: str, variables: list[GitHubVariable], branch: str) -> None:
    for command in gh_commands(repo, variables, branch):
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        # A branch policy that already exists answers 422 on a re-run; anything else is a real failure.
        if done.returncode != 0 and "deployment-branch-policies" not in command[4]:
            raise UserError(f"`{shlex.join(command)}` failed: {done.stderr.strip()} Set it by hand, as printed above.")
