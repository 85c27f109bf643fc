"""The deploy roles' trust policies against sample GitHub OIDC token claims, and what the bootstrap's policies allow.

The bootstrap is two templates: bootstrap.yaml once per account (stack PROJECT-bootstrap: OIDC provider, artifact
bucket), then bootstrap-environment.yaml once per deploy environment (stack PROJECT-bootstrap-ENV: its deploy role,
its CloudFormation execution role and its permissions boundary), fed the first one's outputs. Every
environment's deploy role is checked: it is assumable by its own environment's token (and, in the first
environment only, by the deploy branch's), and by nothing else. The identity policies of the deploy roles, the
execution roles and the permissions boundaries are evaluated too: a deploy role acts on its own stack and artifact
prefixes only and passes only its own execution role; an execution role acts on its own environment's stack
resources and code only, and creates no role without its own environment's boundary; a boundary allows its own
environment's log group and failure queue only.

Two sources of the policies are checked with the same small IAM evaluator:
- rendered from the templates by a minimal intrinsic-function resolver (no emulator involved), for several
  parameter sets;
- deployed to the local cloud with CloudFormation and read back with iam:GetRole/GetRolePolicy, as AWS would
  evaluate them.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import re
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import pytest

from pipeline import cfn

ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / "cloudformation" / "bootstrap.yaml"
ENVIRONMENT = ROOT / "cloudformation" / "bootstrap-environment.yaml"
ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
ISSUER = "token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
REPO = "octo-org/s3-lambda-gitops"
AUD = f"{ISSUER}:aud"

# --- a small, strict IAM condition evaluator -----------------------------------------------------------------
# Semantics (IAM User Guide, "Condition element" and "Condition operators"):
# - every operator block must hold, and every key in a block must hold (AND);
# - several values for one key match when any of them matches (OR);
# - a key absent from the request context makes the condition false (no ...IfExists, no set operators here);
# - condition key names are case-insensitive, values are compared case-sensitively;
# - StringLike: '*' matches any run of characters (also none), '?' exactly one.
# Anything else raises, so a policy using an operator this evaluator does not model fails loudly.


class UnsupportedCondition(ValueError):
    pass


@functools.cache
def _like_regex(pattern: str) -> re.Pattern[str]:
    # Built once per pattern: the policy checks match a few dozen patterns some 200,000 times.
    return re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern), re.DOTALL)


def _like(pattern: str, value: str) -> bool:
    return _like_regex(pattern).fullmatch(value) is not None


OPERATORS = {
    "StringEquals": lambda expected, actual: expected == actual,
    "StringLike": _like,
}


def conditions_hold(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    lowered = {key.lower(): value for key, value in context.items()}
    for operator, block in condition.items():
        if operator not in OPERATORS:
            raise UnsupportedCondition(operator)
        for key, expected in block.items():
            actual = lowered.get(key.lower())
            if actual is None:
                return False
            values = expected if isinstance(expected, list) else [expected]
            if not any(OPERATORS[operator](str(v), actual) for v in values):
                return False
    return True


def may_assume(trust_policy: dict[str, Any], provider_arn: str, claims: dict[str, str]) -> bool:
    """Whether AssumeRoleWithWebIdentity with a token of ``claims`` from ``provider_arn`` is allowed."""
    context = {f"{ISSUER}:{claim}": value for claim, value in claims.items()}
    allowed = False
    for statement in _as_list(trust_policy["Statement"]):
        actions = _as_list(statement.get("Action", []))
        if "sts:AssumeRoleWithWebIdentity" not in actions:
            continue
        if _as_list(statement.get("Principal", {}).get("Federated", [])) != [provider_arn]:
            continue
        if conditions_hold(statement.get("Condition", {}), context):
            if statement["Effect"] == "Deny":
                return False
            allowed = True
    return allowed


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_evaluator_semantics():
    context = {"a:key": "value-1", "b:key": "other"}
    assert conditions_hold({"StringEquals": {"a:key": ["x", "value-1"]}}, context)  # any of the values
    assert not conditions_hold({"StringEquals": {"a:key": "value-1", "b:key": "nope"}}, context)  # AND
    assert not conditions_hold({"StringEquals": {"c:key": "value-1"}}, context)  # absent key
    assert conditions_hold({"StringEquals": {"A:KEY": "value-1"}}, context)  # key names ignore case
    assert not conditions_hold({"StringEquals": {"a:key": "VALUE-1"}}, context)  # values do not
    assert conditions_hold({"StringLike": {"a:key": "value-?"}}, context)
    assert conditions_hold({"StringLike": {"a:key": "val*"}}, context)
    assert not conditions_hold({"StringLike": {"a:key": "val"}}, context)
    assert not conditions_hold({"StringLike": {"a:key": "v.lue-1"}}, context)  # '.' is literal
    assert conditions_hold({}, context)
    with pytest.raises(UnsupportedCondition):
        conditions_hold({"ForAllValues:StringEquals": {"a:key": "value-1"}}, context)


def test_evaluator_requires_the_provider_and_the_action():
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER_ARN},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {AUD: "sts.amazonaws.com"}},
            }
        ]
    }
    assert may_assume(policy, PROVIDER_ARN, {"aud": "sts.amazonaws.com"})
    assert not may_assume(policy, PROVIDER_ARN.replace(ISSUER, "evil.example.com"), {"aud": "sts.amazonaws.com"})


# --- a small identity-policy evaluator ----------------------------------------------------------------------
# Semantics (IAM User Guide, "Policy evaluation logic", single account, identity policies only): a request is
# allowed when some Allow statement matches it and no Deny statement does. A statement matches when one of its
# actions matches (case-insensitive, '*' and '?' wildcards), one of its resources matches (case-sensitive, same
# wildcards) and its conditions hold (conditions_hold above: an absent key makes an Allow condition false, and a
# Deny condition false too, which is what AWS does for StringEquals/StringLike without IfExists).


def _statement_matches(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    assert "NotAction" not in statement and "NotResource" not in statement, "the evaluator does not model these"
    if not any(_like(a.lower(), action.lower()) for a in _as_list(statement["Action"])):
        return False
    if not any(_like(r, resource) for r in _as_list(statement["Resource"])):
        return False
    return conditions_hold(statement.get("Condition", {}), context)


def allows(documents: list[dict[str, Any]], action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """Whether identity policies ``documents`` allow ``action`` on ``resource`` with request ``context``."""
    statements = [s for d in documents for s in _as_list(d["Statement"])]
    matching = [s for s in statements if _statement_matches(s, action, resource, context or {})]
    return any(s["Effect"] == "Allow" for s in matching) and not any(s["Effect"] == "Deny" for s in matching)


def role_policies(role_properties: dict[str, Any]) -> list[dict[str, Any]]:
    return [policy["PolicyDocument"] for policy in role_properties.get("Policies", [])]


def test_policy_evaluator_semantics():
    document = {
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:Get*"], "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/secret/*"},
            {
                "Effect": "Allow",
                "Action": "iam:CreateRole",
                "Resource": "arn:aws:iam::1:role/p-*",
                "Condition": {"StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::1:policy/b"}},
            },
        ]
    }
    assert allows([document], "s3:GetObject", "arn:aws:s3:::b/key")
    assert allows([document], "S3:getobject", "arn:aws:s3:::b/key")  # action names ignore case
    assert not allows([document], "s3:GetObject", "arn:aws:s3:::B/key")  # resources do not
    assert not allows([document], "s3:GetObject", "arn:aws:s3:::b/secret/key")  # Deny wins
    assert not allows([document], "s3:PutObject", "arn:aws:s3:::b/key")  # nothing allows it
    role = "arn:aws:iam::1:role/p-x"
    assert allows([document], "iam:CreateRole", role, {"iam:PermissionsBoundary": "arn:aws:iam::1:policy/b"})
    assert not allows([document], "iam:CreateRole", role, {"iam:PermissionsBoundary": "arn:aws:iam::1:policy/c"})
    assert not allows([document], "iam:CreateRole", role)  # no boundary in the request


# --- rendering the bootstrap templates without an emulator ----------------------------------------------------

BOOTSTRAP_STACK = "s3-lambda-gitops-bootstrap"


def _physical(stack: str, logical: str) -> str:
    """A name as CloudFormation generates it: stack name, logical id, a random suffix."""
    return f"{stack}-{logical}-AB12CD34EF56"


def render(template: dict[str, Any], parameters: dict[str, str], stack: str = BOOTSTRAP_STACK) -> dict[str, Any]:
    """Resolve the intrinsics the bootstrap templates use, as CloudFormation would, into plain resource properties.

    The result maps each created resource to its type and properties, and holds the outputs under "Outputs".
    Refs and GetAtts resolve to realistic values: an IAM role to its ARN with a generated name, a managed
    policy to its ARN, a bucket to its BucketName.
    """
    values: dict[str, Any] = {}
    for name, spec in template["Parameters"].items():
        raw = parameters.get(name, spec.get("Default"))
        assert raw is not None, f"parameter {name} needs a value"
        if "AllowedValues" in spec:
            assert raw in [str(v) for v in spec["AllowedValues"]], f"{name}={raw!r} not in {spec['AllowedValues']}"
        if "AllowedPattern" in spec:  # CloudFormation refuses the stack before anything changes
            for item in raw.split(",") if spec["Type"] == "CommaDelimitedList" else [raw]:
                assert re.fullmatch(spec["AllowedPattern"], item), f"{name}={item!r} breaks {spec['AllowedPattern']}"
        values[name] = raw.split(",") if spec["Type"] == "CommaDelimitedList" else raw
    values.update(
        {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::StackName": stack,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack}/0f1e2d3c",
        }
    )
    resources = template["Resources"]
    arns: dict[str, str] = {}
    for name, res in resources.items():
        kind = res["Type"]
        if kind == "AWS::IAM::OIDCProvider":
            values[name] = PROVIDER_ARN
        elif kind == "AWS::IAM::ManagedPolicy":
            values[name] = f"arn:aws:iam::{ACCOUNT}:policy/{_physical(stack, name)}"
        elif kind == "AWS::IAM::Role":
            values[name] = _physical(stack, name)
            arns[name] = f"arn:aws:iam::{ACCOUNT}:role/{values[name]}"
        else:
            values[name] = f"physical-id-of-{name}"
    conditions: dict[str, bool] = {}
    no_value = object()

    def condition(name: str) -> bool:
        if name not in conditions:
            conditions[name] = resolve(template["Conditions"][name])
        return conditions[name]

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (resolve(item) for item in node) if v is not no_value]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return no_value if arg == "AWS::NoValue" else values[arg]
            if key == "Fn::GetAtt":
                assert arg[1] == "Arn", arg
                return arns[arg[0]]
            if key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], resolve(arg[1]))
                scope = {**values, **extra, **{f"{name}.Arn": arn for name, arn in arns.items()}}
                return re.sub(r"\$\{([^}]+)\}", lambda m: str(scope[m.group(1)]), text)
            if key == "Fn::Join":
                return arg[0].join(resolve(arg[1]))
            if key == "Fn::Split":
                return resolve(arg[1]).split(arg[0])
            if key == "Fn::Select":
                return resolve(arg[1])[int(resolve(arg[0]))]
            if key == "Fn::If":
                return resolve(arg[1] if condition(arg[0]) else arg[2])
            if key == "Fn::Equals":
                return resolve(arg[0]) == resolve(arg[1])
            if key == "Fn::Not":
                return not resolve(arg[0])
            if key == "Condition":
                return condition(arg)
        return {k: v for k, v in ((k, resolve(v)) for k, v in node.items()) if v is not no_value}

    for name, res in resources.items():  # buckets are named by their BucketName
        if res["Type"] == "AWS::S3::Bucket":
            values[name] = resolve(res["Properties"]["BucketName"])
            arns[name] = f"arn:aws:s3:::{values[name]}"
    rendered: dict[str, Any] = {}
    for name, res in resources.items():
        if "Condition" in res and not condition(res["Condition"]):
            continue
        rendered[name] = {"Type": res["Type"], "Properties": resolve(res.get("Properties", {}))}
    rendered["Outputs"] = {
        name: resolve(out["Value"])
        for name, out in template.get("Outputs", {}).items()
        if "Condition" not in out or condition(out["Condition"])
    }
    return rendered


PROJECT = "s3-lambda-gitops"
REPO_ID = "123456789"
DEPLOY_WORKFLOW = ".github/workflows/deploy-environment.yml"
PARAMETERS = {"GitHubRepository": REPO, "GitHubRepositoryId": REPO_ID}
DEFAULT_ENVIRONMENTS = ["staging", "production"]
FIVE_ENVIRONMENTS = ["dev", "qa", "staging", "preprod", "production"]


def rendered_base(parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """bootstrap.yaml, rendered as stack PROJECT-bootstrap."""
    parameters = {"ProjectName": PROJECT, **(parameters or {})}
    return render(_template(BOOTSTRAP), parameters, f"{parameters['ProjectName']}-bootstrap")


def rendered_environment(env: str, base: dict[str, Any], **parameters: str) -> dict[str, Any]:
    """bootstrap-environment.yaml for ``env``, fed the base stack's outputs, rendered as PROJECT-bootstrap-ENV."""
    values = {
        "ProjectName": PROJECT,
        **PARAMETERS,
        "EnvironmentName": env,
        "OidcProviderArn": base["Outputs"]["OidcProviderArn"],
        "ArtifactBucketName": base["Outputs"]["ArtifactBucketName"],
        **parameters,
    }
    return render(_template(ENVIRONMENT), values, f"{values['ProjectName']}-bootstrap-{env}")


@functools.cache
def _parsed(path: Path) -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml  # here: ~0.5 s of every xdist worker's collection

    return cfn_yaml.loads(path.read_text())


def _template(path: Path) -> dict[str, Any]:
    """The template with its short-form tags expanded: parsed once per worker, a fresh copy for each render."""
    return copy.deepcopy(_parsed(path))


def rendered_environments(
    environments: list[str] = DEFAULT_ENVIRONMENTS,
    branch: str = "main",
    base: dict[str, str] | None = None,
    without_environment: bool = False,
) -> dict[str, dict[str, Any]]:
    """Environment -> its rendered stack, as `invoke bootstrap` deploys them (trust without an environment, when
    asked for, to the first one only)."""
    rendered = rendered_base(base)
    return {
        env: rendered_environment(
            env,
            rendered,
            DeployBranch=branch,
            TrustBranchWithoutEnvironment=str(without_environment and i == 0).lower(),
        )
        for i, env in enumerate(environments)
    }


def deploy_roles(stacks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Environment -> rendered deploy role properties."""
    return {env: stack["DeployRole"]["Properties"] for env, stack in stacks.items()}


def execution_roles(stacks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Environment -> rendered execution role properties."""
    return {env: stack["ExecutionRole"]["Properties"] for env, stack in stacks.items()}


def rendered_trusts(environments: list[str] = DEFAULT_ENVIRONMENTS, **options: Any) -> dict[str, dict[str, Any]]:
    """Environment -> the trust policy of its deploy role."""
    return {
        env: props["AssumeRolePolicyDocument"]
        for env, props in deploy_roles(rendered_environments(environments, **options)).items()
    }


# --- GitHub OIDC tokens: full claim sets --------------------------------------------------------------------
# The claims AWS STS evaluates for GitHub (aws-facts.md, January 2026), as GitHub sets them (GitHub docs, "About
# security hardening with OpenID Connect"): sub names the environment when the job declares one (else the ref);
# ref is the triggering ref (for pull_request_target, the base branch); job_workflow_ref is the file holding the
# job, for a reusable workflow the called file, OWNER/REPO/PATH@REF.


def token(
    env: str | None = "staging",
    *,
    repo: str = REPO,
    repo_id: str = REPO_ID,
    ref: str = "refs/heads/main",
    workflow: str | None = None,
    aud: str = "sts.amazonaws.com",
) -> dict[str, str]:
    """A token of a job in ``repo`` at ``ref`` declaring ``env`` (None: no environment)."""
    claims = {
        "iss": f"https://{ISSUER}",
        "aud": aud,
        "sub": f"repo:{repo}:environment:{env}" if env else f"repo:{repo}:ref:{ref}",
        "repository": repo,
        "repository_id": repo_id,
        "repository_owner": repo.split("/")[0],
        "ref": ref,
        "job_workflow_ref": workflow or f"{repo}/{DEPLOY_WORKFLOW}@{ref}",
        "workflow": "deploy",
        "event_name": "push",
    }
    if env:
        claims["environment"] = env
    return claims


def deploy_job(env: str) -> dict[str, str]:
    """This repository's deploy job for ``env``: the reusable workflow on main, declaring the environment."""
    return token(env)


def drift_job() -> dict[str, str]:
    """The drift workflow's job on main: no environment (a read-only check waits for no reviewers)."""
    return token(None, workflow=f"{REPO}/.github/workflows/drift.yml@refs/heads/main")


def drift_tokens() -> dict[str, dict[str, str]]:
    """The drift job, and what differs from it in what an attacker controls (none may get a drift role)."""
    drift = f"{REPO}/.github/workflows/drift.yml"
    return {
        "the drift job": drift_job(),
        "drift.yml from a feature branch": token(None, ref="refs/heads/feature/x", workflow=f"{drift}@refs/heads/x"),
        "another workflow on main": token(None, workflow=f"{REPO}/.github/workflows/other.yml@refs/heads/main"),
        "a re-created repository": {**drift_job(), "repository_id": "987654321"},
        "a fork": token(None, repo="forker/s3-lambda-gitops", repo_id="555555555", workflow=drift + "@refs/heads/main"),
    }


def denied_tokens(env: str) -> dict[str, dict[str, str]]:
    """What must never get the role of ``env``; each differs from the deploy job in what an attacker controls."""
    other_env = "production" if env != "production" else "staging"
    cases = {
        "workflow_dispatch from a feature branch": token(env, ref="refs/heads/feature/x"),
        "a tag push": token(env, ref="refs/tags/v1.0.0"),
        # pull_request_target runs the base branch's workflow: ref is main, the file is the PR-target workflow.
        "pull_request_target declaring the environment": {
            **token(env, workflow=f"{REPO}/.github/workflows/pr-target.yml@refs/heads/main"),
            "event_name": "pull_request_target",
        },
        "another workflow file on main": token(env, workflow=f"{REPO}/.github/workflows/other.yml@refs/heads/main"),
        "the caller workflow instead of the reusable one": token(
            env, workflow=f"{REPO}/.github/workflows/deploy.yml@refs/heads/main"
        ),
        "a reusable workflow from another repository": token(
            env, workflow=f"someone-else/actions/{DEPLOY_WORKFLOW}@refs/heads/main"
        ),
        "the deploy workflow at another ref": token(env, workflow=f"{REPO}/{DEPLOY_WORKFLOW}@refs/heads/feature/x"),
        "a re-created repository with the same name": token(env, repo_id="987654321"),
        "a fork": token(env, repo="forker/s3-lambda-gitops", repo_id="555555555"),
        "another repository": token(env, repo="someone-else/s3-lambda-gitops", repo_id="444444444"),
        "a repository sharing the prefix": token(env, repo=f"{REPO}-evil", repo_id="333333333"),
        "a wrong aud": token(env, aud="https://github.com/octo-org"),
        "another environment's deploy job": token(other_env),
        "an unlisted environment": token("not-an-environment"),
        "a case variant of the environment": token(env.capitalize()),
        "the deploy workflow on main without an environment": token(None),
        "a branch named like main": token(env, ref="refs/heads/main-evil"),
    }
    full = deploy_job(env)
    for claim in ("sub", "aud", "repository", "repository_id", "ref", "job_workflow_ref", "environment"):
        cases[f"{claim} missing"] = {k: v for k, v in full.items() if k != claim}
    return cases


PINNED_CLAIMS = {"aud", "sub", "repository", "repository_id", "ref", "job_workflow_ref", "environment"}


def test_one_stack_and_role_pair_per_environment():
    stacks = rendered_environments()
    assert list(stacks) == DEFAULT_ENVIRONMENTS
    for env, stack in stacks.items():
        assert set(stack) == {"AppPermissionsBoundary", "DeployRole", "DriftRole", "ExecutionRole", "Outputs"}, env
        own = f"{PROJECT}-bootstrap-{env}"
        assert stack["Outputs"] == {
            "DeployRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{_physical(own, 'DeployRole')}",
            "ExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{_physical(own, 'ExecutionRole')}",
            "DriftRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{_physical(own, 'DriftRole')}",
            "PermissionsBoundaryArn": f"arn:aws:iam::{ACCOUNT}:policy/{_physical(own, 'AppPermissionsBoundary')}",
        }
    for output in ("DeployRoleArn", "PermissionsBoundaryArn"):
        assert len({stack["Outputs"][output] for stack in stacks.values()}) == 2, output


def test_the_base_stack_holds_no_role():
    base = rendered_base()
    # Nor any policy: a boundary shared by the environments would allow each one the others' log groups and queues.
    assert sorted(res["Type"] for name, res in base.items() if name != "Outputs") == [
        "AWS::IAM::OIDCProvider",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
    ]
    assert base["Outputs"] == {
        "ArtifactBucketName": f"{PROJECT}-artifacts-{ACCOUNT}-{REGION}",
        "OidcProviderArn": PROVIDER_ARN,
    }


def check_trust(trust: dict[str, Any], env: str, provider: str = PROVIDER_ARN) -> None:
    """The deploy job of ``env`` may assume the role; no denied token may, nor the deploy job via another IdP."""
    assert may_assume(trust, provider, deploy_job(env)), env
    for case, claims in denied_tokens(env).items():
        assert not may_assume(trust, provider, claims), (env, case)
    assert not may_assume(trust, provider.replace(ISSUER, "gitlab.example.com"), deploy_job(env))


def check_pinned_statement(trust: dict[str, Any], env: str, repo_id: str = REPO_ID) -> None:
    """One Allow statement, every claim pinned with StringEquals to one value (no list, no wildcard)."""
    (statement,) = trust["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert set(statement["Condition"]) == {"StringEquals"}
    pinned = {key.split(":", 1)[1]: value for key, value in statement["Condition"]["StringEquals"].items()}
    assert pinned == {
        "aud": "sts.amazonaws.com",
        "sub": f"repo:{REPO}:environment:{env}",
        "repository": REPO,
        "repository_id": repo_id,
        "ref": "refs/heads/main",
        "job_workflow_ref": f"{REPO}/{DEPLOY_WORKFLOW}@refs/heads/main",
        "environment": env,
    }


@pytest.mark.parametrize("environments", [DEFAULT_ENVIRONMENTS, FIVE_ENVIRONMENTS])
def test_each_deploy_role_trusts_its_own_deploy_job_only(environments):
    for env, trust in rendered_trusts(environments).items():
        check_pinned_statement(trust, env)
        check_trust(trust, env)
        for other in environments:
            assert may_assume(trust, PROVIDER_ARN, deploy_job(other)) == (other == env), (env, other)


def _roles_of(path: Path, rendered: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: res["Properties"]
        for name, res in rendered.items()
        if name != "Outputs" and res["Type"] == "AWS::IAM::Role"
    }


def _app_trusts() -> dict[str, dict[str, Any]]:
    """app.yaml's roles' trust policies (only AWS::AccountId to resolve there)."""
    template = _template(ROOT / "cloudformation" / "app.yaml")
    roles = {n: r for n, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    text = json.dumps({n: r["Properties"]["AssumeRolePolicyDocument"] for n, r in roles.items()})
    return json.loads(text.replace('{"Ref": "AWS::AccountId"}', json.dumps(ACCOUNT)))


def test_every_role_in_every_template_against_every_token():
    """Only an environment's deploy role, and only for that environment's deploy job, accepts a GitHub token;
    and each environment's read-only drift role the drift workflow's job on main (it declares no environment)."""
    templates = {path.name: path for path in sorted((ROOT / "cloudformation").glob("*.yaml"))}
    assert set(templates) == {"app.yaml", "bootstrap.yaml", "bootstrap-environment.yaml"}
    trusts = {f"app.yaml/{name}": trust for name, trust in _app_trusts().items()}
    assert not [r for r in rendered_base().values() if isinstance(r, dict) and r.get("Type") == "AWS::IAM::Role"]
    for env, stack in rendered_environments().items():
        for name, props in _roles_of(ENVIRONMENT, stack).items():
            trusts[f"bootstrap-environment.yaml[{env}]/{name}"] = props["AssumeRolePolicyDocument"]
    assert len(trusts) == 1 + 3 * len(DEFAULT_ENVIRONMENTS)
    tokens = {f"{env} deploy job": deploy_job(env) for env in DEFAULT_ENVIRONMENTS}
    tokens.update({f"drift: {case}": claims for case, claims in drift_tokens().items()})
    for env in DEFAULT_ENVIRONMENTS:
        tokens.update({f"{env}: {case}": claims for case, claims in denied_tokens(env).items()})
    for role, trust in trusts.items():
        for case, claims in tokens.items():
            own_env = role.split("[")[1].split("]")[0] if role.endswith("/DeployRole") else None
            expected = own_env is not None and claims == deploy_job(own_env)
            expected = expected or (role.endswith("/DriftRole") and claims == drift_job())
            assert may_assume(trust, PROVIDER_ARN, claims) == expected, (role, case)


def test_trust_without_an_environment_only_when_asked_and_only_the_first_role():
    off = rendered_trusts()
    for env, trust in off.items():
        assert len(trust["Statement"]) == 1, env
        assert not may_assume(trust, PROVIDER_ARN, token(None))
    on = rendered_trusts(without_environment=True)
    first, second = DEFAULT_ENVIRONMENTS
    assert may_assume(on[first], PROVIDER_ARN, token(None))  # the deploy workflow on main, no environment
    assert not may_assume(on[second], PROVIDER_ARN, token(None))
    check_trust(on[second], second)
    # Still pinned: not from another branch, file, repository id or a fork, and not another environment's token.
    for claims in (
        token(None, ref="refs/heads/feature/x"),
        token(None, workflow=f"{REPO}/.github/workflows/other.yml@refs/heads/main"),
        token(None, repo_id="987654321"),
        token(None, repo="forker/s3-lambda-gitops", repo_id="555555555"),
        token(None, aud="https://github.com/octo-org"),
        token(second),
    ):
        assert not may_assume(on[first], PROVIDER_ARN, claims), claims


def test_another_deploy_branch_moves_ref_and_job_workflow_ref_together():
    trust = rendered_trusts(["staging"], branch="release/1.x")["staging"]
    ref = "refs/heads/release/1.x"
    assert may_assume(trust, PROVIDER_ARN, token("staging", ref=ref))
    assert not may_assume(trust, PROVIDER_ARN, deploy_job("staging"))  # main is no longer the deploy branch
    assert not may_assume(
        trust, PROVIDER_ARN, token("staging", ref=ref, workflow=f"{REPO}/{DEPLOY_WORKFLOW}@refs/heads/main")
    )


def test_existing_provider_is_trusted_when_not_created():
    existing = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER}"
    base = {"CreateOidcProvider": "false", "ExistingOidcProviderArn": existing}
    assert "GitHubOidcProvider" not in rendered_base(base)
    for env, trust in rendered_trusts(base=base).items():
        check_trust(trust, env, existing)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GitHubRepositoryId", ""),
        ("GitHubRepositoryId", "12a"),
        ("GitHubRepositoryId", "*"),
        ("DeployBranch", ""),
        ("DeployBranch", "main*"),
        ("DeployWorkflow", ".github/workflows/*.yml"),
        ("DeployWorkflow", "deploy.yml"),
        ("TrustBranchWithoutEnvironment", "yes"),
    ],
)
def test_trust_parameters_refuse_wildcards_and_junk(name, value):
    with pytest.raises(AssertionError, match=name):
        rendered_environment("staging", rendered_base(), **{name: value})


@pytest.mark.parametrize(
    "name", ["bootstrap", "bootstrap-staging", "bootstrapx", "", "*", "staging/x", "sta ging", "a" * 101]
)
def test_unusable_environment_names_are_refused(name):
    """bootstrap...: the app stack would be a bootstrap stack; the rest: not a GitHub environment name we accept."""
    with pytest.raises(AssertionError, match="EnvironmentName"):
        rendered_environment(name, rendered_base())


def test_artifacts_is_refused_by_a_rule():
    # Rules are not rendered here (nor enforced by the local cloud): check the assertion itself.
    template = _template(ENVIRONMENT)
    asserts = [a["Assert"] for rule in template["Rules"].values() for a in rule["Assertions"]]
    for reserved in ("artifacts", "bootstrap"):
        assert {"Fn::Not": [{"Fn::Equals": [{"Ref": "EnvironmentName"}, reserved]}]} in asserts, reserved
    assert all("RuleCondition" not in rule for rule in template["Rules"].values())


# --- what each deploy role, the execution role and the boundary allow (rendered) -------------------------------


def stack_arn(env: str, stack_id: str = "0a1b2c3d") -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{PROJECT}-{env}/{stack_id}"


def uploads_bucket(env: str) -> str:
    return f"arn:aws:s3:::{PROJECT}-{env}-{ACCOUNT}-{REGION}"


def log_group(env: str) -> str:
    return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{PROJECT}-{env}-handler"


SHA = "ab12" * 16


def artifact_object(prefix: str, env: str | None, project: str = PROJECT) -> str:
    """An object of the artifact bucket: artifacts/ENV/SHA.zip or templates/ENV/SHA.yaml (no ENV: the old keys)."""
    suffix = ".zip" if prefix == "artifacts" else ".yaml"
    middle = f"{env}/" if env is not None else ""
    return f"arn:aws:s3:::{project}-artifacts-{ACCOUNT}-{REGION}/{prefix}/{middle}{SHA}{suffix}"


def stack_resources(env: str, project: str = PROJECT) -> dict[str, str]:
    """The resources app.yaml creates in stack PROJECT-ENV, named as AWS names them, and ENV's code."""
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{project}-{env}-handler"
    return {
        "bucket": f"arn:aws:s3:::{project}-{env}-{ACCOUNT}-{REGION}",
        "function": function,
        "function $LATEST": f"{function}:$LATEST",
        "log group": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{project}-{env}-handler",
        "log group streams": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{project}-{env}-handler:*",
        # CloudFormation names these STACK-LOGICALID-SUFFIX.
        "queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{project}-{env}-FailureQueue-Xy12AbCd34Ef",
        "role": f"arn:aws:iam::{ACCOUNT}:role/{project}-{env}-FunctionRole-ZY98XW76VU54",
        "code": artifact_object("artifacts", env, project),
    }


# What CloudFormation does, as an execution role, to each kind of stack resource (a sample of each kind's actions).
EXECUTION_ACTIONS = {
    "bucket": ["s3:CreateBucket", "s3:PutBucketPolicy", "s3:PutBucketNotification", "s3:DeleteBucket"],
    "function": ["lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:AddPermission", "lambda:DeleteFunction"],
    "function $LATEST": ["lambda:PutFunctionEventInvokeConfig", "lambda:DeleteFunctionEventInvokeConfig"],
    "log group": ["logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:DeleteLogGroup"],
    "log group streams": ["logs:DeleteLogGroup", "logs:TagResource"],
    "queue": ["sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:DeleteQueue"],
    "role": [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:DeleteRole",
        "iam:PassRole",
    ],
    "code": ["s3:GetObject", "s3:GetObjectVersion"],
}


# What a role is allowed only with a permissions boundary on it (iam:PermissionsBoundary in the request).
BOUNDARY_GATED = ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:PutRolePermissionsBoundary"]
BOUNDARY_CHANGES = [
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
]


def check_execution_roles_isolated(
    policies: dict[str, list[dict[str, Any]]], boundaries: dict[str, str], project: str = PROJECT
) -> None:
    """Each execution role may act on its own environment's stack resources and code, and on no other's.

    ``boundaries`` maps each environment to its own permissions boundary: the only one its execution role may
    create or change a role with, and one no execution role may change.
    """
    assert set(boundaries) == set(policies) and len(set(boundaries.values())) == len(boundaries)
    for env, policy in policies.items():
        # Its own boundary makes the iam:*Role* writes allowable; PassRole is to Lambda only.
        context = {
            "iam:PermissionsBoundary": boundaries[env],
            "iam:PassedToService": "lambda.amazonaws.com",
            "lambda:Principal": "s3.amazonaws.com",
        }
        for other in policies:
            resources = stack_resources(other, project)
            for kind, actions in EXECUTION_ACTIONS.items():
                for action in actions:
                    allowed = allows(policy, action, resources[kind], context)
                    assert allowed == (other == env), (env, other, kind, action)
            # Another environment's boundary, even on its own function role: that boundary would let the role
            # write the other environment's log group and queue.
            if other != env:
                for action in BOUNDARY_GATED:
                    other_boundary = {"iam:PermissionsBoundary": boundaries[other]}
                    assert not allows(policy, action, stack_resources(env, project)["role"], other_boundary), (
                        env,
                        other,
                        action,
                    )
            # No boundary, its own or another environment's, can be changed or deleted.
            for action in BOUNDARY_CHANGES:
                assert not allows(policy, action, boundaries[other], context), (env, other, action)
        # Nor the old shared artifact prefix, nor any other key of the artifact bucket.
        for key in (
            artifact_object("artifacts", None, project),
            artifact_object("templates", env, project),
            artifact_object("artifacts", f"{env}-evil", project),
        ):
            assert not allows(policy, "s3:GetObject", key), (env, key)
        assert not allows(policy, "s3:PutObject", artifact_object("artifacts", env, project)), env


STACK_ACTIONS = [
    "cloudformation:CreateChangeSet",
    "cloudformation:DescribeChangeSet",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:DescribeStacks",
    "cloudformation:DescribeStackEvents",
    "cloudformation:GetTemplate",
    "cloudformation:TagResource",
    "cloudformation:DeleteStack",
    "cloudformation:UpdateStack",
    "cloudformation:CreateStack",
]


@pytest.mark.parametrize("environments", [DEFAULT_ENVIRONMENTS, FIVE_ENVIRONMENTS])
def test_a_deploy_role_acts_on_its_own_environment_only(environments):
    for env, props in deploy_roles(rendered_environments(environments)).items():
        policy = role_policies(props)
        assert allows(policy, "cloudformation:ExecuteChangeSet", stack_arn(env))
        assert allows(policy, "s3:PutObject", f"{uploads_bucket(env)}/verify/marker.txt")
        assert allows(policy, "logs:FilterLogEvents", log_group(env))
        for other in environments:
            if other == env:
                continue
            for action in STACK_ACTIONS:
                assert not allows(policy, action, stack_arn(other)), (env, action, other)
                assert not allows(policy, action, stack_arn(f"bootstrap-{other}")), (env, action, other)
            for action in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
                assert not allows(policy, action, f"{uploads_bucket(other)}/verify/marker.txt"), (env, other)
            assert not allows(policy, "s3:ListBucketVersions", uploads_bucket(other), {"s3:prefix": "verify/x"})
            assert not allows(policy, "s3:GetBucketNotification", uploads_bucket(other))
            assert not allows(policy, "logs:FilterLogEvents", log_group(other))
            assert not allows(policy, "logs:FilterLogEvents", f"{log_group(other)}:*")
        # The account's bootstrap stack and its own environment's: their outputs are readable, nothing else.
        for bootstrap_stack in (stack_arn("bootstrap"), stack_arn(f"bootstrap-{env}")):
            assert allows(policy, "cloudformation:DescribeStacks", bootstrap_stack)
            for action in STACK_ACTIONS:
                if action != "cloudformation:DescribeStacks":
                    assert not allows(policy, action, bootstrap_stack), (env, action)
        # A stack whose name merely starts with its own: not its stack.
        assert not allows(policy, "cloudformation:ExecuteChangeSet", stack_arn(f"{env}-evil"))
        assert not allows(policy, "s3:PutObject", f"{uploads_bucket(env)}/other/key")
        check_artifact_prefixes(policy, env, environments)


def test_the_deploy_role_never_changes_a_bootstrap_stack():
    """Explicit denies: even an Allow added later could not change a bootstrap stack, this one included."""
    (policy,) = role_policies(deploy_roles(rendered_environments(["staging"]))["staging"])
    (deny,) = [s for s in policy["Statement"] if s["Sid"] == "NeverTouchTheBootstrapStacks"]
    assert deny["Effect"] == "Deny"
    own = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{PROJECT}-bootstrap-staging/0f1e2d3c"  # AWS::StackId
    for stack in (stack_arn("bootstrap"), stack_arn("bootstrap-staging"), stack_arn("bootstrap-production"), own):
        for action in STACK_ACTIONS:
            if action not in (
                "cloudformation:DescribeStacks",
                "cloudformation:DescribeStackEvents",
                "cloudformation:DescribeChangeSet",
                "cloudformation:GetTemplate",
                "cloudformation:CreateStack",
            ):
                assert _statement_matches(deny, action, stack, {}), (stack, action)
    assert not _statement_matches(deny, "cloudformation:ExecuteChangeSet", stack_arn("staging"), {})


def check_artifact_prefixes(policy: list[dict[str, Any]], env: str, environments: list[str], project=PROJECT) -> None:
    """A deploy role writes and reads code and templates under its own environment's prefixes only."""
    for prefix in ("artifacts", "templates"):
        for action in ("s3:PutObject", "s3:GetObject"):
            assert allows(policy, action, artifact_object(prefix, env, project)), (env, prefix, action)
            # Another environment's prefix: planting the key it is about to deploy, or reading its template.
            for other in [*environments, f"{env}-evil"]:
                if other != env:
                    assert not allows(policy, action, artifact_object(prefix, other, project)), (env, other, action)
            assert not allows(policy, action, artifact_object(prefix, None, project)), (env, prefix, action)
        assert not allows(policy, "s3:DeleteObject", artifact_object(prefix, env, project)), env


@pytest.mark.parametrize("environments", [DEFAULT_ENVIRONMENTS, FIVE_ENVIRONMENTS])
def test_a_deploy_role_passes_only_its_own_execution_role_to_cloudformation(environments):
    stacks = rendered_environments(environments)
    executions = {env: stack["Outputs"]["ExecutionRoleArn"] for env, stack in stacks.items()}
    deploys = {env: stack["Outputs"]["DeployRoleArn"] for env, stack in stacks.items()}
    assert len(set(executions.values())) == len(environments)
    to_cfn = {"iam:PassedToService": "cloudformation.amazonaws.com"}
    for env, props in deploy_roles(stacks).items():
        policy = role_policies(props)
        assert allows(policy, "iam:PassRole", executions[env], to_cfn)
        assert not allows(policy, "iam:PassRole", executions[env], {"iam:PassedToService": "lambda.amazonaws.com"})
        for other_env, other in executions.items():
            if other_env != env:
                assert not allows(policy, "iam:PassRole", other, to_cfn), (env, other_env)
        for other_env, other in deploys.items():
            assert not allows(policy, "iam:PassRole", other, to_cfn), (env, other_env)
        for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"):
            assert not allows(policy, action, f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}-{env}-x"), action


@pytest.mark.parametrize(
    "environments",
    [
        DEFAULT_ENVIRONMENTS,
        FIVE_ENVIRONMENTS,
        # Names that extend one another: prod's patterns must not reach prod-eu's resources, nor the reverse.
        # (The one limit, stated in bootstrap-environment.yaml: no environment named ENV-FunctionRole... or
        # ENV-FailureQueue...)
        ["prod", "prod-eu", "prod.eu", "prod-eu-2", "p"],
    ],
)
def test_an_execution_role_acts_on_its_own_environment_only(environments):
    stacks = rendered_environments(environments)
    roles = execution_roles(stacks)
    assert list(roles) == environments
    check_execution_roles_isolated(
        {env: role_policies(props) for env, props in roles.items()},
        {env: stack["Outputs"]["PermissionsBoundaryArn"] for env, stack in stacks.items()},
    )
    for env, props in roles.items():
        assert props["AssumeRolePolicyDocument"]["Statement"] == [
            {"Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
        assert props["Tags"] == [{"Key": "deploy-environment", "Value": env}]


FUNCTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{PROJECT}-staging-FunctionRole-ZY98XW76VU54"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


@pytest.fixture(scope="module")
def base_rendered() -> dict[str, Any]:
    return rendered_base()


@pytest.fixture(scope="module")
def stacks_rendered() -> dict[str, dict[str, Any]]:
    return rendered_environments()


@pytest.fixture(scope="module")
def execution_policy(stacks_rendered) -> list[dict[str, Any]]:
    """The first (staging) environment's execution role."""
    return role_policies(stacks_rendered["staging"]["ExecutionRole"]["Properties"])


def test_the_execution_role_creates_roles_only_with_the_boundary(stacks_rendered, execution_policy):
    boundary = stacks_rendered["staging"]["Outputs"]["PermissionsBoundaryArn"]
    production_boundary = stacks_rendered["production"]["Outputs"]["PermissionsBoundaryArn"]
    assert boundary != production_boundary
    with_boundary = {"iam:PermissionsBoundary": boundary}
    for action in BOUNDARY_GATED:
        assert allows(execution_policy, action, FUNCTION_ROLE, with_boundary), action
        assert not allows(execution_policy, action, FUNCTION_ROLE), f"{action} without a boundary"
        assert not allows(execution_policy, action, FUNCTION_ROLE, {"iam:PermissionsBoundary": ADMIN_POLICY})
        # Production's boundary allows production's log group and queue: never on a role staging creates.
        assert not allows(execution_policy, action, FUNCTION_ROLE, {"iam:PermissionsBoundary": production_boundary})
    # Managed policies are not for app roles at all, boundary or not; nor is removing a boundary.
    for action in ("iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:DeleteRolePermissionsBoundary"):
        assert not allows(execution_policy, action, FUNCTION_ROLE, with_boundary), action
        assert not allows(execution_policy, action, FUNCTION_ROLE), action
    # The boundary itself cannot be changed or deleted (explicit denies, whatever is allowed), nor production's.
    (deny,) = [s for s in execution_policy[0]["Statement"] if s["Sid"] == "NeverAlterTheBoundaries"]
    assert deny["Effect"] == "Deny"
    for action in BOUNDARY_CHANGES:
        for arn in (boundary, production_boundary):
            assert not allows(execution_policy, action, arn), (action, arn)
            assert _statement_matches(deny, action, arn, {}), (action, arn)
    # Roles outside the project, and the bootstrap's own roles (every environment's), are out of reach.
    assert not allows(execution_policy, "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/admin", with_boundary)
    for env, stack in stacks_rendered.items():
        for arn in stack["Outputs"].values():
            for action in ("iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:DeleteRole", "iam:PassRole"):
                assert not allows(
                    execution_policy, action, arn, {**with_boundary, "iam:PassedToService": "lambda.amazonaws.com"}
                ), (env, arn, action)


def test_the_execution_role_lets_only_s3_invoke_the_function_and_keeps_roles_trust_as_created(execution_policy):
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{PROJECT}-staging-handler"
    assert allows(execution_policy, "lambda:AddPermission", function, {"lambda:Principal": "s3.amazonaws.com"})
    for principal in ("*", "123456789013", "events.amazonaws.com", "arn:aws:iam::123456789013:root"):
        assert not allows(execution_policy, "lambda:AddPermission", function, {"lambda:Principal": principal})
    assert not allows(execution_policy, "lambda:AddPermission", function)  # no principal in the request
    # No deploy of app.yaml changes a role's trust (CreateRole sets it): UpdateAssumeRolePolicy is not granted.
    assert not allows(execution_policy, "iam:UpdateAssumeRolePolicy", FUNCTION_ROLE)
    # Nor a public ACL, on the bucket or its objects, nor the account's public access block.
    bucket = uploads_bucket("staging")
    for action, resource in (
        ("s3:PutBucketAcl", bucket),
        ("s3:PutObjectAcl", f"{bucket}/key"),
        ("s3:PutObjectVersionAcl", f"{bucket}/key"),
        ("s3:PutAccountPublicAccessBlock", "*"),
    ):
        assert not allows(execution_policy, action, resource), action


def test_the_execution_role_never_manages_the_artifact_bucket(base_rendered, execution_policy):
    artifact_bucket = f"arn:aws:s3:::{base_rendered['Outputs']['ArtifactBucketName']}"
    assert artifact_bucket == f"arn:aws:s3:::{PROJECT}-artifacts-{ACCOUNT}-{REGION}"
    for action in (
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:DeleteBucket",
        "s3:PutBucketNotification",
        "s3:PutBucketVersioning",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutEncryptionConfiguration",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketTagging",
        "s3:PutBucketOwnershipControls",
    ):
        assert allows(execution_policy, action, uploads_bucket("staging")), action
        assert not allows(execution_policy, action, artifact_bucket), action
    # The staging execution role reads its own environment's code, and writes nothing.
    assert allows(execution_policy, "s3:GetObject", f"{artifact_bucket}/artifacts/staging/{SHA}.zip")
    assert not allows(execution_policy, "s3:GetObject", f"{artifact_bucket}/artifacts/production/{SHA}.zip")
    assert not allows(execution_policy, "s3:PutObject", f"{artifact_bucket}/artifacts/staging/{SHA}.zip")


def queue(env: str, project: str = PROJECT) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{project}-{env}-FailureQueue-Xy12AbCd34Ef"


BOUNDARY_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage"}


def check_boundaries_isolated(documents: dict[str, dict[str, Any]], project: str = PROJECT) -> None:
    """Each environment's boundary allows writes to its own function's log group and failure queue, nothing else."""
    for env, document in documents.items():
        policy = [document]
        # Nothing but Allows of the function role's three actions (a boundary only ever limits).
        statements = _as_list(document["Statement"])
        assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements), env
        assert {a for s in statements for a in _as_list(s["Action"])} == BOUNDARY_ACTIONS, env
        for other in documents:
            stream = f"{stack_resources(other, project)['log group']}:log-stream:2026/01/01/[$LATEST]0123"
            for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
                assert allows(policy, action, stream) == (other == env), (env, other, action)
            assert allows(policy, "sqs:SendMessage", queue(other, project)) == (other == env), (env, other)
        own = stack_resources(env, project)
        for action, resource in [
            ("logs:PutLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/other:log-stream:x"),
            ("logs:PutLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{project}-{env}-x:*"),
            ("logs:PutLogEvents", f"{own['log group']}-evil:log-stream:x"),
            ("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:other-queue"),
            ("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{project}-{env}-OtherQueue-X1"),
            ("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/{project}-x"),
            ("iam:PassRole", own["role"]),
            ("s3:GetObject", f"{own['bucket']}/key"),
            ("s3:PutObject", f"{own['bucket']}/key"),
            ("sqs:ReceiveMessage", own["queue"]),
            ("sqs:DeleteMessage", own["queue"]),
            ("logs:DeleteLogGroup", own["log group"]),
            ("logs:CreateLogGroup", own["log group"]),
            ("logs:GetLogEvents", own["log group streams"]),
            ("lambda:InvokeFunction", own["function"]),
        ]:
            assert not allows(policy, action, resource), (env, action, resource)


@pytest.mark.parametrize(
    "environments", [DEFAULT_ENVIRONMENTS, FIVE_ENVIRONMENTS, ["prod", "prod-eu", "prod.eu", "prod-eu-2", "p"]]
)
def test_each_boundary_allows_its_own_log_group_and_queue_only(environments):
    stacks = rendered_environments(environments)
    check_boundaries_isolated(
        {env: stack["AppPermissionsBoundary"]["Properties"]["PolicyDocument"] for env, stack in stacks.items()}
    )
    for env, stack in stacks.items():
        # Exactly these resources, named from its own stack's names.
        document = stack["AppPermissionsBoundary"]["Properties"]["PolicyDocument"]
        resources = {r for s in document["Statement"] for r in _as_list(s["Resource"])}
        assert resources == {log_group(env), f"{log_group(env)}:*", queue(env).replace("Xy12AbCd34Ef", "*")}


# --- deployed to the local cloud -----------------------------------------------------------------------------

EXISTING_PROVIDER_URL = f"https://{ISSUER}"


def _create(cloudformation, stack: str, template: Path, parameters: dict[str, str]) -> dict[str, str]:
    """Create a stack and wait for it; its outputs. An unsupported resource type xfails with its name."""
    cloudformation.create_stack(
        StackName=stack,
        TemplateBody=template.read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM"],
    )
    deadline = time.monotonic() + 120
    while True:
        (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
        if not described["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            break
        time.sleep(0.05)  # the local cloud settles in milliseconds
    if described["StackStatus"] != "CREATE_COMPLETE":
        events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
        failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
        unsupported = sorted(
            {e["ResourceType"] for e in failed if "not supported" in e.get("ResourceStatusReason", "")}
        )
        if unsupported:
            pytest.xfail(f"the local cloud cannot create {', '.join(unsupported)} yet (localcloud/fixes/cfn_*)")
        reasons = [(e["LogicalResourceId"], e.get("ResourceStatusReason")) for e in failed]
        pytest.fail(f"{stack}: {described['StackStatus']} {reasons}")
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def deploy_bootstrap(client, **overrides: str) -> dict[str, Any]:
    """Deploy the bootstrap as `invoke bootstrap` does and read the roles back.

    bootstrap.yaml as PROJECT-bootstrap (every parameter passed), then bootstrap-environment.yaml as
    PROJECT-bootstrap-ENV for staging and production with the base stack's outputs (no trust without environment).
    The project name is unique per call (the local cloud is shared), so the artifact bucket and stacks do not
    collide with other tests. A resource type the local cloud cannot create yet makes the test xfail with its
    name, so that these tests run in full as soon as localcloud supports it; any other failure fails.
    """
    project = f"tp{uuid.uuid4().hex[:8]}"
    parameters = {"ProjectName": project, "CreateOidcProvider": "true", "ExistingOidcProviderArn": "", **overrides}
    cloudformation = client("cloudformation")
    stack = f"{project}-bootstrap"
    stacks = [stack]
    outputs = _create(cloudformation, stack, BOOTSTRAP, parameters)
    environment_outputs = {}
    try:
        for env in DEFAULT_ENVIRONMENTS:
            stacks.append(f"{project}-bootstrap-{env}")
            environment_outputs[env] = _create(
                cloudformation,
                stacks[-1],
                ENVIRONMENT,
                {
                    "ProjectName": project,
                    "EnvironmentName": env,
                    "GitHubRepository": REPO,
                    "GitHubRepositoryId": REPO_ID,
                    "DeployBranch": "main",
                    "OidcProviderArn": outputs["OidcProviderArn"],
                    "ArtifactBucketName": outputs["ArtifactBucketName"],
                },
            )
    except BaseException:
        delete_stacks(client, stacks)
        raise
    iam = client("iam")

    def role(arn: str) -> dict[str, Any]:
        found = iam.get_role(RoleName=arn.rsplit("/", 1)[-1])["Role"]
        # The role's inline policies too, as IAM returns them, for the policy evaluator.
        names = iam.list_role_policies(RoleName=found["RoleName"])["PolicyNames"]
        found["Policies"] = [
            iam.get_role_policy(RoleName=found["RoleName"], PolicyName=name)["PolicyDocument"] for name in names
        ]
        return found

    def boundary(arn: str) -> dict[str, Any]:
        """A managed policy's default version, as IAM holds it."""
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        return _document(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])

    return {
        "stack": stack,
        "stacks": stacks,
        "project": project,
        "parameters": parameters,
        "outputs": outputs,
        "environment_outputs": environment_outputs,
        "roles": {env: role(out["DeployRoleArn"]) for env, out in environment_outputs.items()},
        "execution_roles": {env: role(out["ExecutionRoleArn"]) for env, out in environment_outputs.items()},
        "boundaries": {env: boundary(out["PermissionsBoundaryArn"]) for env, out in environment_outputs.items()},
    }


def delete_stacks(client, stacks: list[str]) -> None:
    """The environment stacks first, then the base stack (its artifact bucket is retained, as on AWS)."""
    cloudformation = client("cloudformation")
    for stack in reversed(stacks):
        stack_id = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackId"]
        cloudformation.delete_stack(StackName=stack)
        # CloudFormation deletes asynchronously: wait as the pipeline does (by id: the name goes away).
        cfn.watch(
            cloudformation, stack_id, cfn.EventStream(cloudformation, stack_id), lambda e: None, cfn.Backoff(0.02)
        )


def github_providers(client) -> list[str]:
    listed = client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"]
    return [p["Arn"] for p in listed if p["Arn"].endswith(f"oidc-provider/{ISSUER}")]


def _provider_of(trust: dict[str, Any]) -> str | None:
    (statement,) = trust["Statement"]
    federated = statement.get("Principal", {}).get("Federated")
    return federated if isinstance(federated, str) else None


@pytest.fixture(scope="class")
def created(client):
    """A fresh account: the bootstrap creates the GitHub OIDC provider itself (CreateOidcProvider=true).

    An account holds one provider per URL, so this needs the shared local cloud's account to have none yet
    (tests that create one delete their stack). Class-scoped: the stacks, and the provider with them, are deleted
    before the module's ``deployed`` fixture runs.
    """
    if github_providers(client):
        pytest.skip("the shared local cloud account already has a GitHub OIDC provider (left by another test)")
    deployed = deploy_bootstrap(client)
    yield deployed
    delete_stacks(client, deployed["stacks"])


class TestBootstrapCreatingTheProvider:
    def test_provider_exists_and_is_trusted(self, created, client):
        (provider,) = github_providers(client)
        assert provider == PROVIDER_ARN
        assert created["outputs"]["OidcProviderArn"] == provider
        got = client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=provider)
        assert got["ClientIDList"] == ["sts.amazonaws.com"]
        for env, role in created["roles"].items():
            trust = role["AssumeRolePolicyDocument"]
            assert _provider_of(trust) == provider
            check_trust(trust, env, provider)


@pytest.fixture(scope="module")
def deployed(client):
    """An account that already has the provider: CreateOidcProvider=false with its ARN."""
    existing = github_providers(client)
    made = None
    if not existing:
        made = client("iam").create_open_id_connect_provider(
            Url=EXISTING_PROVIDER_URL, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
        )["OpenIDConnectProviderArn"]
    provider = existing[0] if existing else made
    result = deploy_bootstrap(client, CreateOidcProvider="false", ExistingOidcProviderArn=provider)
    yield {**result, "provider": provider}
    delete_stacks(client, result["stacks"])
    if made:
        client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=made)


def _document(value: Any) -> dict[str, Any]:
    """A policy document as GetRolePolicy returns it: a dict (boto3 decodes AWS's URL-encoded JSON).

    moto 5.2.5 stores an inline policy CloudFormation created as the repr of a dict, which boto3 then returns as
    a string; that is read as the Python literal it is.
    """
    if not isinstance(value, str):
        return value
    text = urllib.parse.unquote(value)
    try:
        return json.loads(text)
    except ValueError:
        return ast.literal_eval(text)


def test_bootstrap_outputs_on_the_local_cloud(deployed, client):
    outputs = deployed["outputs"]
    assert set(outputs) == {"ArtifactBucketName", "OidcProviderArn"}
    assert outputs["ArtifactBucketName"] == f"{deployed['project']}-artifacts-{ACCOUNT}-{REGION}"
    assert outputs["OidcProviderArn"] == deployed["provider"]
    client("s3").head_bucket(Bucket=outputs["ArtifactBucketName"])
    # One stack per environment, each with its own deploy and execution role and its own boundary.
    assert list(deployed["environment_outputs"]) == DEFAULT_ENVIRONMENTS
    arns = set()
    for env, env_outputs in deployed["environment_outputs"].items():
        assert set(env_outputs) == {"DeployRoleArn", "DriftRoleArn", "ExecutionRoleArn", "PermissionsBoundaryArn"}, env
        for name in ("DeployRoleArn", "ExecutionRoleArn"):
            assert re.fullmatch(rf"arn:aws:iam::{ACCOUNT}:role/[\w+=,.@-]+", env_outputs[name])
        assert re.fullmatch(rf"arn:aws:iam::{ACCOUNT}:policy/[\w+=,.@-]+", env_outputs["PermissionsBoundaryArn"])
        client("iam").get_policy(PolicyArn=env_outputs["PermissionsBoundaryArn"])
        assert deployed["roles"][env]["Arn"] == env_outputs["DeployRoleArn"]
        assert deployed["execution_roles"][env]["Arn"] == env_outputs["ExecutionRoleArn"]
        arns |= set(env_outputs.values())
    assert len(arns) == 4 * len(DEFAULT_ENVIRONMENTS)  # deploy, drift and execution role, boundary
    for role in deployed["execution_roles"].values():
        (trust,) = _document(role["AssumeRolePolicyDocument"])["Statement"]
        assert trust["Principal"] == {"Service": "cloudformation.amazonaws.com"}
    for role in deployed["roles"].values():
        assert role["MaxSessionDuration"] == 3600


@pytest.mark.parametrize("env", DEFAULT_ENVIRONMENTS)
def test_deployed_trust_is_pinned_to_the_deploy_job(deployed, env):
    """The trust as IAM holds it (iam:GetRole on the local cloud): one statement, every claim pinned, and the
    same verdicts as the rendered template for every token."""
    trust = _document(deployed["roles"][env]["AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"] == {"Federated": deployed["provider"]}
    check_pinned_statement(trust, env)
    check_trust(trust, env, deployed["provider"])
    for other in DEFAULT_ENVIRONMENTS:
        assert may_assume(trust, deployed["provider"], deploy_job(other)) == (other == env)


def test_deployed_roles_act_on_their_own_stack_only(deployed):
    """The policies as IAM holds them, read back from the local cloud, evaluated like the rendered ones."""
    project = deployed["project"]

    def stack(name: str) -> str:
        return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{project}-{name}/1"

    for env, role in deployed["roles"].items():
        policy = [_document(d) for d in role["Policies"]]
        assert allows(policy, "cloudformation:ExecuteChangeSet", stack(env))
        # Both bootstrap stacks it reads are readable, and nothing more.
        for bootstrap_stack in (stack("bootstrap"), stack(f"bootstrap-{env}")):
            assert allows(policy, "cloudformation:DescribeStacks", bootstrap_stack)
            assert not allows(policy, "cloudformation:ExecuteChangeSet", bootstrap_stack)
            assert not allows(policy, "cloudformation:DeleteStack", bootstrap_stack)
        for other in DEFAULT_ENVIRONMENTS:
            if other != env:
                for action in STACK_ACTIONS:
                    assert not allows(policy, action, stack(other)), (env, action)
                    assert not allows(policy, action, stack(f"bootstrap-{other}")), (env, action)
        # Its own artifact prefixes only, and its own execution role only.
        check_artifact_prefixes(policy, env, DEFAULT_ENVIRONMENTS, project)
        to_cfn = {"iam:PassedToService": "cloudformation.amazonaws.com"}
        for other, execution_role in deployed["execution_roles"].items():
            assert allows(policy, "iam:PassRole", execution_role["Arn"], to_cfn) == (other == env), (env, other)
    boundaries = {env: out["PermissionsBoundaryArn"] for env, out in deployed["environment_outputs"].items()}
    for env, role in deployed["execution_roles"].items():
        execution = [_document(d) for d in role["Policies"]]
        function_role = f"arn:aws:iam::{ACCOUNT}:role/{project}-{env}-FunctionRole-1"
        assert allows(execution, "iam:CreateRole", function_role, {"iam:PermissionsBoundary": boundaries[env]})
        assert not allows(execution, "iam:CreateRole", function_role)
    # Each execution role, as IAM holds it: its own environment's stack resources and code and its own boundary,
    # no other's.
    check_execution_roles_isolated(
        {env: [_document(d) for d in role["Policies"]] for env, role in deployed["execution_roles"].items()},
        boundaries,
        project,
    )


def test_deployed_boundaries_allow_their_own_log_group_and_queue_only(deployed):
    """Each environment's boundary, as IAM holds it: its own function's log group and failure queue only."""
    check_boundaries_isolated(deployed["boundaries"], deployed["project"])


def test_the_artifact_bucket_refuses_writes_that_could_overwrite(deployed, client):
    """The bootstrap's bucket policy, as the local cloud enforces it: content-addressed keys only with
    If-None-Match (S3 User Guide, "Enforce conditional writes on Amazon S3 buckets"), and never twice."""
    import botocore.exceptions

    s3, bucket = client("s3"), deployed["outputs"]["ArtifactBucketName"]

    def refused(**kwargs: Any) -> str:
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            s3.put_object(Bucket=bucket, **kwargs)
        return caught.value.response["Error"]["Code"]

    for key in (f"artifacts/staging/{SHA}.zip", f"templates/staging/{SHA}.yaml"):
        assert refused(Key=key, Body=b"without If-None-Match") == "AccessDenied"
        s3.put_object(Bucket=bucket, Key=key, Body=b"first", IfNoneMatch="*")
        assert refused(Key=key, Body=b"second", IfNoneMatch="*") == "PreconditionFailed"
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"first"
    # The rollback record names a version and is rewritten after each verify: not a content-addressed key.
    s3.put_object(Bucket=bucket, Key="artifacts/staging/last-verified.json", Body=b"{}")
    s3.put_object(Bucket=bucket, Key="artifacts/staging/last-verified.json", Body=b"{}")
