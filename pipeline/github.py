"""What the bootstrap asks of GitHub, through the gh CLI: the repository's id, and each deploy environment.

The deploy roles trust the repository by its immutable id (a re-created repository of the same name has a new
one), so the id is read from ``gh api repos/OWNER/REPO`` or given with ``--repo-id``. Each GitHub environment
gets a deployment-branch policy limited to the deploy branch, then its two variables. Every gh call that fails
stops the bootstrap with gh's own message; nothing is swallowed. Without gh, the same calls are printed.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.errors import UserError

Runner = Callable[[Sequence[str]], subprocess.CompletedProcess]
FIND_ID = "gh api repos/{repo} --jq .id (or the `id` field of https://api.github.com/repos/{repo})"


def run_gh(command: Sequence[str]) -> subprocess.CompletedProcess:
    return subprocess.run(list(command), capture_output=True, text=True, check=False)


@dataclass(frozen=True)
class GitHubVariable:
    environment: str | None  # None: a repository variable (the drift workflow's jobs declare no environment)
    name: str
    value: str

    def gh_command(self, repo: str) -> list[str]:
        scope = ["--env", self.environment] if self.environment else []
        return ["gh", "variable", "set", self.name, *scope, "--body", self.value, "--repo", repo]


def gh_state(run: Runner = run_gh) -> str:
    """'missing', 'logged out' or 'ready'."""
    if not shutil.which("gh"):
        return "missing"
    return "ready" if run(["gh", "auth", "status"]).returncode == 0 else "logged out"


def check_repo_id(value: str | None) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if not text.isdigit() or len(text) > 20:
        raise UserError(
            f"--repo-id {value!r} is not a repository id: it is the number GitHub gives the repository, for example "
            "--repo-id 123456789. Find it with " + FIND_ID.format(repo="OWNER/REPO") + "."
        )
    return str(int(text))


def repository_id(repo: str, given: str | None, state: str, run: Runner = run_gh) -> str:
    """The repository's numeric id: gh's when gh is there (and ``given`` must agree), else ``given``."""
    given = check_repo_id(given)
    if state == "missing":
        if given is None:
            raise UserError(
                f"`invoke bootstrap` needs the numeric id of {repo}, which the deploy roles trust (a repository "
                "re-created under the same name gets a new id). gh is not installed, so pass --repo-id N; find N "
                f"with {FIND_ID.format(repo=repo)}."
            )
        return given
    if state == "logged out":
        if given is not None:
            return given  # nothing to compare it with; the hand-off then prints the gh calls to run
        raise UserError(
            f"gh is installed but not logged in, so the id of {repo} cannot be read. Run `gh auth login` and "
            f"`invoke bootstrap` again, or pass --repo-id N (find N with {FIND_ID.format(repo=repo)})."
        )
    done = run(["gh", "api", f"repos/{repo}", "--jq", ".id"])
    if done.returncode != 0:
        raise UserError(
            f"`gh api repos/{repo}` failed: {done.stderr.strip() or done.stdout.strip()} Check --repo (and that "
            "your gh login can see the repository), then run `invoke bootstrap` again."
        )
    found = check_repo_id(done.stdout.strip())
    if given is not None and given != found:
        raise UserError(
            f"--repo-id {given} does not match {repo}, whose id gh reports as {found}: the repository may have "
            "been deleted and re-created, or --repo names another one. Check it, then pass --repo-id "
            f"{found} or leave --repo-id out."
        )
    return found


def environment_commands(repo: str, environment: str, branch: str) -> list[list[str]]:
    """Create the environment with custom branch policies, then allow the deploy branch (and only it)."""
    base = f"repos/{repo}/environments/{environment}"
    return [
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
        ],
        ["gh", "api", "-X", "POST", f"{base}/deployment-branch-policies", "-f", f"name={branch}", "-f", "type=branch"],
    ]


def manual_commands(repo: str, variables: list[GitHubVariable], branch: str) -> list[list[str]]:
    environments = list(dict.fromkeys(v.environment for v in variables if v.environment))
    calls = [c for env in environments for c in environment_commands(repo, env, branch)]
    return calls + [v.gh_command(repo) for v in variables]


def _call(command: Sequence[str], run: Runner) -> str:
    done = run(command)
    if done.returncode != 0:
        raise UserError(
            f"`{shlex.join(command)}` failed: {(done.stderr or done.stdout).strip()} Nothing after it was set; fix "
            "the cause (gh's message above) and run `invoke bootstrap` again, or run the printed commands by hand."
        )
    return done.stdout


def _branch_policies(repo: str, environment: str, run: Runner) -> list[dict]:
    path = f"repos/{repo}/environments/{environment}/deployment-branch-policies"
    return json.loads(_call(["gh", "api", path], run) or "{}").get("branch_policies", [])


def configure_environment(repo: str, environment: str, branch: str, run: Runner = run_gh) -> None:
    """Create or update the environment, add the branch policy unless present, and check the result."""
    create, allow = environment_commands(repo, environment, branch)
    _call(create, run)
    if not any(p.get("name") == branch for p in _branch_policies(repo, environment, run)):
        _call(allow, run)
    check_branch_policy(repo, environment, branch, run)


def check_branch_policy(repo: str, environment: str, branch: str, run: Runner = run_gh) -> None:
    """The environment must accept deployments from the deploy branch only."""
    described = json.loads(_call(["gh", "api", f"repos/{repo}/environments/{environment}"], run) or "{}")
    policy = described.get("deployment_branch_policy") or {}
    if not policy.get("custom_branch_policies") or policy.get("protected_branches"):
        raise UserError(
            f"GitHub environment {environment} of {repo} has no deployment branch policy limited to {branch} "
            f"(it reports {json.dumps(policy) if policy else 'none'}), so any branch could deploy to it. Run "
            f"`{shlex.join(environment_commands(repo, environment, branch)[0])}`, then `invoke bootstrap` again."
        )
    others = [p for p in _branch_policies(repo, environment, run) if p.get("name") != branch]
    if others:
        removals = [
            f"gh api -X DELETE repos/{repo}/environments/{environment}/deployment-branch-policies/{p.get('id')}"
            for p in others
        ]
        raise UserError(
            f"GitHub environment {environment} of {repo} also accepts deployments from "
            f"{', '.join(repr(p.get('name')) for p in others)}, not only {branch}. Remove them ("
            + "; ".join(removals)
            + "), then run `invoke bootstrap` again."
        )


def configure(repo: str, variables: list[GitHubVariable], branch: str, run: Runner = run_gh) -> None:
    """Every environment first (so none gets variables before its branch policy holds), then the variables."""
    for environment in dict.fromkeys(v.environment for v in variables if v.environment):
        configure_environment(repo, environment, branch, run)
    for variable in variables:
        _call(variable.gh_command(repo), run)
