"""The CloudFormation templates: linters clean, and the security properties checked on their structure."""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import lint

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "cloudformation"
APP = TEMPLATES / "app.yaml"
BOOTSTRAP = TEMPLATES / "bootstrap.yaml"
ENVIRONMENT = TEMPLATES / "bootstrap-environment.yaml"
ALL_TEMPLATES = sorted(TEMPLATES.glob("*.yaml"))
# CloudFormation refuses an inline TemplateBody over this, and bootstrap.yaml must go inline (it creates the
# bucket a TemplateURL would point to).
TEMPLATE_BODY_LIMIT = 51_200
PROJECT = "s3-lambda-gitops"
DOCUMENTED_STACKS = [f"{PROJECT}-{env}" for env in ("dev", "staging", "production")]
# The longest region names AWS has (commercial, China, GovCloud, ISO partitions).
LONGEST_REGIONS = ["ap-southeast-5", "ap-northeast-3", "cn-northwest-1", "us-gov-west-1", "us-isob-east-1"]
ACCOUNT_ID = "123456789012"
# Allow statements with Resource "*" are only acceptable for actions that have no resource-level permissions.
# DescribeStackDriftDetectionStatus takes a detection id, which IAM cannot scope (the drift role's only one).
RESOURCE_STAR_READ_ONLY = {
    "sts:GetCallerIdentity",
    "cloudformation:ValidateTemplate",
    "cloudformation:DescribeStackDriftDetectionStatus",
}


def tool(name: str) -> str:
    """A console script of the project venv (the one running the tests), else from PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: pip install -r requirements.txt")
    return found


def load(path: Path) -> dict[str, Any]:
    """A template with its short-form tags (!Ref, !Sub, ...) expanded to their long forms."""
    from cfnlint.decode import cfn_yaml  # here: ~0.5 s of every xdist worker's collection

    return cfn_yaml.loads(path.read_text())


@pytest.fixture(scope="module")
def app() -> dict[str, Any]:
    return load(APP)


@pytest.fixture(scope="module")
def bootstrap() -> dict[str, Any]:
    return load(BOOTSTRAP)


@pytest.fixture(scope="module")
def environment() -> dict[str, Any]:
    return load(ENVIRONMENT)


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def only_resource(template: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    (item,) = resources_of(template, kind).items()
    return item


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def policy_documents(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM policy document in a template: inline role policies, managed policies, bucket policies."""
    for name, res in template["Resources"].items():
        props = res.get("Properties", {})
        for policy in props.get("Policies", []):
            yield f"{name}/{policy['PolicyName']}", policy["PolicyDocument"]
        if "PolicyDocument" in props:
            yield name, props["PolicyDocument"]
        if "AssumeRolePolicyDocument" in props:
            yield f"{name}/trust", _both_branches(props["AssumeRolePolicyDocument"])


def _both_branches(document: dict[str, Any]) -> dict[str, Any]:
    """A document whose statements may sit in Fn::If: every statement either branch can produce."""
    statements = []
    for statement in as_list(document["Statement"]):
        branches = statement["Fn::If"][1:] if isinstance(statement, dict) and "Fn::If" in statement else [statement]
        statements += [b for b in branches if b != {"Ref": "AWS::NoValue"}]
    return {**document, "Statement": statements}


# --- linters -------------------------------------------------------------------------------------------------


def test_every_template_fits_an_inline_template_body():
    assert {p.name for p in ALL_TEMPLATES} >= {"app.yaml", "bootstrap.yaml", "bootstrap-environment.yaml"}
    for path in ALL_TEMPLATES:
        size = len(path.read_bytes())
        assert size <= TEMPLATE_BODY_LIMIT, f"{path.name} is {size} bytes, over CloudFormation's inline limit"


def _project_check(name: str) -> lint.Check:
    return next(check for check in lint.checks() if check.name == name)


def test_cfn_lint_reports_nothing():
    """`invoke lint`'s own cfn-lint check, through its runner: served from the lint cache when neither the
    templates nor cfn-lint changed since it last ran (after `invoke lint`, say), else run now."""
    check = _project_check("cfn-lint")
    assert {str(p.relative_to(ROOT)) for p in ALL_TEMPLATES} <= set(check.command)
    (result,) = lint.run_all([check])
    assert result.ok and not result.output.strip(), result.output


@pytest.fixture(scope="module")
def checkov_report() -> tuple[bool, dict[str, Any]]:
    # A JSON report of the same scan as `invoke lint`'s checkov check, cached the same way (same inputs, same tool).
    project = _project_check("checkov")
    command = (tool("checkov"), "-d", "cloudformation", "--framework", "cloudformation", "--compact", "-o", "json")
    (result,) = lint.run_all([lint.Check("checkov json report", command, project.inputs, project.tools)])
    report, _ = json.JSONDecoder().raw_decode(result.output.lstrip())  # stdout (the report) comes first
    # One framework gives one report object; several give a list of them.
    report = report if isinstance(report, dict) else next(r for r in report if r["check_type"] == "cloudformation")
    return result.ok, report


def test_checkov_passes(checkov_report):
    passed, report = checkov_report
    failed = [(c["check_id"], c["resource"], c["file_path"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] >= 13
    assert passed


def test_every_checkov_skip_is_justified_inline(checkov_report):
    _, report = checkov_report
    for check in report["results"]["skipped_checks"]:
        comment = check["check_result"].get("suppress_comment", "")
        assert len(comment.split()) >= 8, f"{check['check_id']} on {check['resource']}: justify the skip"
    # And every skip in the templates is a Metadata entry with an id and a real comment.
    for template in map(load, ALL_TEMPLATES):
        for name, res in template["Resources"].items():
            for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), name
                assert len(skip.get("comment", "").split()) >= 8, f"{name}: {skip['id']} needs a justification"


def test_invoke_lints_checkov_scan_finds_what_the_checkov_command_finds(checkov_report):
    """`invoke lint` runs checkov through its API (pipeline/checkov_scan.py), not its command: the same checks,
    on the same resources, with the same results and in-template skips, as `checkov --framework cloudformation`."""
    _, command_report = checkov_report
    project = _project_check("checkov")
    assert project.command[1:] == ("-m", "pipeline.checkov_scan", "cloudformation")
    command = (*project.command[:3], "--json", "cloudformation")
    (result,) = lint.run_all([lint.Check("checkov scan json report", command, project.inputs, project.tools)])
    scan_report = json.loads(result.output)

    def outcomes(report):
        return {
            kind: sorted((c["check_id"], c["resource"], c["file_path"]) for c in report["results"][kind])
            for kind in ("passed_checks", "failed_checks", "skipped_checks")
        }

    assert outcomes(scan_report) == outcomes(command_report)
    assert len(outcomes(scan_report)["passed_checks"]) >= 60
    assert scan_report["summary"] == command_report["summary"]


# --- app.yaml interface ---------------------------------------------------------------------------------------


def test_app_parameters_and_defaults(app):
    params = app["Parameters"]
    assert set(params) == {
        "ArtifactBucket",
        "ArtifactKey",
        "ArtifactVersion",
        "FunctionTimeout",
        "FunctionMemorySize",
        "LogRetentionDays",
        "MaxRetryAttempts",
        "NoncurrentVersionExpirationDays",
        "PermissionsBoundaryArn",
    }
    assert params["PermissionsBoundaryArn"]["Default"] == ""  # none: the local cloud; on AWS the bootstrap's
    boundary = params["PermissionsBoundaryArn"]["AllowedPattern"]
    assert re.fullmatch(boundary, "") and re.fullmatch(boundary, f"arn:aws:iam::{ACCOUNT_ID}:policy/b-Boundary-1A")
    assert not re.fullmatch(boundary, "*") and not re.fullmatch(boundary, f"arn:aws:iam::{ACCOUNT_ID}:role/x")
    assert "Default" not in params["ArtifactBucket"] and "Default" not in params["ArtifactKey"]
    assert params["FunctionTimeout"]["Default"] == 30
    assert params["FunctionMemorySize"]["Default"] == 256
    assert params["LogRetentionDays"]["Default"] == 14
    assert {1, 7, 14, 30, 90, 365, 3653} <= set(params["LogRetentionDays"]["AllowedValues"])
    assert 2 not in params["LogRetentionDays"]["AllowedValues"]
    retry = params["MaxRetryAttempts"]
    assert (retry["Default"], retry["MinValue"], retry["MaxValue"]) == (2, 0, 2)
    assert params["NoncurrentVersionExpirationDays"]["Default"] == 30
    key = params["ArtifactKey"]["AllowedPattern"]
    sha = "ab12" * 16
    for good in ("staging", "production", "pre.prod_1-X"):
        assert re.fullmatch(key, f"artifacts/{good}/{sha}.zip"), good
    for bad in (
        f"artifacts/{sha}.zip",  # the shared prefix of before: any environment's role could plant it
        f"artifacts//{sha}.zip",
        f"artifacts/staging/sub/{sha}.zip",
        f"artifacts/*/{sha}.zip",
        f"artifacts/staging/{sha.upper()}.zip",
        f"artifacts/staging/{sha[:-1]}.zip",
        "artifacts/staging/latest.zip",
        f"templates/staging/{sha}.zip",
        f"artifacts/staging/{sha}.zip.old",
    ):
        assert not re.fullmatch(key, bad), bad


def test_app_outputs(app):
    assert set(app["Outputs"]) >= {"BucketName", "FunctionName", "FunctionArn", "LogGroupName", "FailureQueueUrl"}
    assert set(app["Outputs"]) <= {
        "BucketName",
        "FunctionName",
        "FunctionArn",
        "LogGroupName",
        "FailureQueueUrl",
        "FailureQueueArn",
    }
    bucket, _ = only_resource(app, "AWS::S3::Bucket")
    function, _ = only_resource(app, "AWS::Lambda::Function")
    log_group, _ = only_resource(app, "AWS::Logs::LogGroup")
    queue, _ = only_resource(app, "AWS::SQS::Queue")
    assert app["Outputs"]["BucketName"]["Value"] == {"Ref": bucket}
    assert app["Outputs"]["FunctionName"]["Value"] == {"Ref": function}
    assert app["Outputs"]["FunctionArn"]["Value"] == {"Fn::GetAtt": [function, "Arn"]}
    assert app["Outputs"]["LogGroupName"]["Value"] == {"Ref": log_group}
    assert app["Outputs"]["FailureQueueUrl"]["Value"] == {"Ref": queue}  # Ref of a queue is its URL


def test_function(app):
    _, function = only_resource(app, "AWS::Lambda::Function")
    log_group_name, log_group = only_resource(app, "AWS::Logs::LogGroup")
    props = function["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Handler"] == "handler.handler"
    assert props["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-handler"}
    assert props["Code"] == {
        "S3Bucket": {"Ref": "ArtifactBucket"},
        "S3Key": {"Ref": "ArtifactKey"},
        # The version the deploy uploaded or found checked: a later write under the key changes nothing.
        "S3ObjectVersion": {"Fn::If": ["HasArtifactVersion", {"Ref": "ArtifactVersion"}, {"Ref": "AWS::NoValue"}]},
    }
    assert props["Timeout"] == {"Ref": "FunctionTimeout"}
    assert props["MemorySize"] == {"Ref": "FunctionMemorySize"}
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert props["LoggingConfig"]["LogGroup"] == {"Ref": log_group_name}
    assert log_group["Properties"]["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${AWS::StackName}-handler"}
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # The only variable is the artifact's public digest, taken from its key (no secret ever goes there).
    file_name = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "ArtifactKey"}]}]}
    digest = {"Fn::Select": [0, {"Fn::Split": [".", file_name]}]}
    assert props["Environment"] == {"Variables": {"ARTIFACT_SHA256": digest}}


def test_failed_invocations_go_to_an_encrypted_queue(app):
    function, _ = only_resource(app, "AWS::Lambda::Function")
    queue, queue_res = only_resource(app, "AWS::SQS::Queue")
    _, config = only_resource(app, "AWS::Lambda::EventInvokeConfig")
    props = config["Properties"]
    assert props["FunctionName"] == {"Ref": function}
    assert props["MaximumRetryAttempts"] == {"Ref": "MaxRetryAttempts"}
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [queue, "Arn"]}
    queue_props = queue_res["Properties"]
    assert queue_props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in queue_props


def test_uploads_bucket_name_fits_s3_rules_for_documented_stacks(app):
    _, bucket = only_resource(app, "AWS::S3::Bucket")
    template = bucket["Properties"]["BucketName"]["Fn::Sub"]
    assert template == "${AWS::StackName}-${AWS::AccountId}-${AWS::Region}"
    for stack in DOCUMENTED_STACKS:
        for region in LONGEST_REGIONS:
            name = template.replace("${AWS::StackName}", stack).replace("${AWS::AccountId}", ACCOUNT_ID)
            name = name.replace("${AWS::Region}", region)
            assert 3 <= len(name) <= 63, name
            assert re.fullmatch(r"[a-z0-9][a-z0-9-]*[a-z0-9]", name), name
            assert name.startswith(f"{PROJECT}-")  # what the deploy role's verify/ permissions are scoped to


def test_permission_source_arn_is_built_from_the_bucket_name_string(app):
    bucket_name, bucket = only_resource(app, "AWS::S3::Bucket")
    permission_name, permission = only_resource(app, "AWS::Lambda::Permission")
    function, _ = only_resource(app, "AWS::Lambda::Function")
    props = permission["Properties"]
    bucket_string = bucket["Properties"]["BucketName"]["Fn::Sub"]
    assert props["SourceArn"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::" + bucket_string}
    assert props["SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert props["Principal"] == "s3.amazonaws.com"
    assert props["Action"] == "lambda:InvokeFunction"
    assert props["FunctionName"] in ({"Ref": function}, {"Fn::GetAtt": [function, "Arn"]})
    # No cycle: the permission never references the bucket; the bucket waits for the permission.
    assert bucket_name not in json.dumps(permission)
    assert permission_name in as_list(bucket["DependsOn"])


def test_uploads_bucket_notifies_the_function(app):
    _, bucket = only_resource(app, "AWS::S3::Bucket")
    function, _ = only_resource(app, "AWS::Lambda::Function")
    (config,) = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    assert config["Event"] == "s3:ObjectCreated:*"
    assert config["Function"] == {"Fn::GetAtt": [function, "Arn"]}


def test_uploads_bucket_lifecycle(app):
    _, bucket = only_resource(app, "AWS::S3::Bucket")
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert all(rule["Status"] == "Enabled" for rule in rules)
    verify = [r for r in rules if r.get("Prefix") == "verify/"]
    assert len(verify) == 1 and verify[0]["ExpirationInDays"] == 1
    noncurrent = [r for r in rules if "Prefix" not in r and "NoncurrentVersionExpiration" in r]
    assert noncurrent[0]["NoncurrentVersionExpiration"]["NoncurrentDays"] == {"Ref": "NoncurrentVersionExpirationDays"}


def test_function_role_is_least_privilege(app):
    _, function_res = only_resource(app, "AWS::Lambda::Function")
    role_name, role = only_resource(app, "AWS::IAM::Role")
    log_group, _ = only_resource(app, "AWS::Logs::LogGroup")
    queue, _ = only_resource(app, "AWS::SQS::Queue")
    assert function_res["Properties"]["Role"] == {"Fn::GetAtt": [role_name, "Arn"]}
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert "ManagedPolicyArns" not in role["Properties"]
    # The bootstrap's permissions boundary when one is passed (the execution role creates no role without it).
    assert role["Properties"]["PermissionsBoundary"] == {
        "Fn::If": ["HasPermissionsBoundary", {"Ref": "PermissionsBoundaryArn"}, {"Ref": "AWS::NoValue"}]
    }
    assert app["Conditions"]["HasPermissionsBoundary"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "PermissionsBoundaryArn"}, ""]}]
    }
    granted = {}
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                granted[action] = statement["Resource"]
    assert granted == {
        "logs:CreateLogStream": {"Fn::GetAtt": [log_group, "Arn"]},
        "logs:PutLogEvents": {"Fn::GetAtt": [log_group, "Arn"]},
        "sqs:SendMessage": {"Fn::GetAtt": [queue, "Arn"]},
    }


# --- both templates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("template_path", [APP, BOOTSTRAP], ids=lambda p: p.name)
def test_every_bucket_is_hardened(template_path):
    template = load(template_path)
    buckets = resources_of(template, "AWS::S3::Bucket")
    policies = resources_of(template, "AWS::S3::BucketPolicy")
    assert buckets
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}], name
        (sse,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms", "aws:kms:dsse"}
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, name
        assert any("ExpirationInDays" in r or "NoncurrentVersionExpiration" in r for r in _rules(props)), name
        assert "AccessControl" not in props, name
        # TLS only: a Deny on aws:SecureTransport false, covering the bucket and its objects.
        (policy,) = [p for p in policies.values() if p["Properties"]["Bucket"] == {"Ref": name}]
        denies = [
            s
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
        ]
        assert len(denies) == 1, name
        assert denies[0]["Principal"] == "*"
        assert as_list(denies[0]["Action"]) == ["s3:*"]
        assert {"Fn::GetAtt": [name, "Arn"]} in denies[0]["Resource"]
        assert {"Fn::Sub": f"${{{name}.Arn}}/*"} in denies[0]["Resource"]


def _rules(props: dict[str, Any]) -> list[dict[str, Any]]:
    return props.get("LifecycleConfiguration", {}).get("Rules", [])


@pytest.mark.parametrize("template_path", ALL_TEMPLATES, ids=lambda p: p.name)
def test_no_wildcard_action_and_no_managed_full_access(template_path):
    template = load(template_path)
    for where, document in policy_documents(template):
        for statement in as_list(document["Statement"]):
            actions = as_list(statement.get("Action", []))
            assert "NotAction" not in statement and "NotResource" not in statement, where
            assert "*" not in actions, where
            if statement["Effect"] == "Allow":
                # No whole-service grant such as s3:* (the TLS-only Deny uses s3:*, which only takes away).
                assert not [a for a in actions if a.endswith(":*")], where
                if "*" in as_list(statement.get("Resource", [])):
                    assert set(actions) <= RESOURCE_STAR_READ_ONLY, where
    for name, res in template["Resources"].items():
        props = res.get("Properties", {})
        text = json.dumps(props.get("ManagedPolicyArns", []))
        assert "FullAccess" not in text and "AdministratorAccess" not in text, name
        assert res["Type"] not in {"AWS::IAM::User", "AWS::IAM::AccessKey"}, name  # never static keys


# --- bootstrap.yaml: the account level ------------------------------------------------------------------------


def test_bootstrap_parameters(bootstrap):
    params = bootstrap["Parameters"]
    # No repository and no environments here: those are bootstrap-environment.yaml's, one stack per environment.
    assert set(params) == {"CreateOidcProvider", "ExistingOidcProviderArn", "ProjectName"}
    assert params["CreateOidcProvider"]["Default"] == "true"
    assert params["CreateOidcProvider"]["AllowedValues"] == ["true", "false"]
    assert params["ExistingOidcProviderArn"]["Default"] == ""
    existing = params["ExistingOidcProviderArn"]["AllowedPattern"]
    assert re.fullmatch(existing, "")
    assert re.fullmatch(existing, f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com")
    assert not re.fullmatch(existing, f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/gitlab.example.com")
    assert params["ProjectName"]["Default"] == PROJECT
    (rule,) = bootstrap["Rules"].values()  # an existing provider's ARN when none is created
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "CreateOidcProvider"}, "false"]}


def test_bootstrap_resources_and_outputs(bootstrap):
    # The interface pipeline/destination.py and pipeline/bootstrap.py read. No permissions boundary: an
    # account-wide one would have to allow every environment's log groups and queues (each environment's
    # bootstrap stack has its own).
    assert set(bootstrap["Outputs"]) == {"ArtifactBucketName", "OidcProviderArn"}
    assert sorted(res["Type"] for res in bootstrap["Resources"].values()) == [
        "AWS::IAM::OIDCProvider",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
    ]
    assert bootstrap["Outputs"]["OidcProviderArn"]["Value"] == {
        "Fn::If": ["CreateProvider", {"Ref": "GitHubOidcProvider"}, {"Ref": "ExistingOidcProviderArn"}]
    }


def test_oidc_provider(bootstrap):
    _, provider = only_resource(bootstrap, "AWS::IAM::OIDCProvider")
    assert provider["Condition"] == "CreateProvider"
    assert provider["Properties"]["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]


def test_artifact_bucket_is_retained_and_expires_old_artifacts(bootstrap):
    name = bootstrap["Outputs"]["ArtifactBucketName"]["Value"]["Ref"]
    bucket = bootstrap["Resources"][name]
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["Properties"]["BucketName"] == {
        "Fn::Sub": "${ProjectName}-artifacts-${AWS::AccountId}-${AWS::Region}"
    }
    rules = _rules(bucket["Properties"])
    assert any(r.get("Prefix") == "artifacts/" and r.get("ExpirationInDays") for r in rules)
    assert any("NoncurrentVersionExpiration" in r for r in rules)


# --- bootstrap-environment.yaml: one stack per deploy environment ---------------------------------------------


def test_environment_parameters(environment):
    params = environment["Parameters"]
    assert set(params) == {
        "ProjectName",
        "EnvironmentName",
        "GitHubRepository",
        "GitHubRepositoryId",
        "DeployBranch",
        "DeployWorkflow",
        "TrustBranchWithoutEnvironment",
        "OidcProviderArn",
        "ArtifactBucketName",
    }  # no PermissionsBoundaryArn: the environment's boundary is its own resource
    for name in ("EnvironmentName", "GitHubRepository", "GitHubRepositoryId", "OidcProviderArn", "ArtifactBucketName"):
        assert "Default" not in params[name], name  # passed by the pipeline, never guessed
    assert params["ProjectName"]["Default"] == PROJECT
    repo = params["GitHubRepository"]["AllowedPattern"]
    assert re.fullmatch(repo, "octo-org/s3-lambda-gitops")
    for bad in ("octo-org/*", "*", "octo-org", "octo-org/repo/extra", "octo org/repo", "repo:octo/x"):
        assert not re.fullmatch(repo, bad), bad
    env = params["EnvironmentName"]["AllowedPattern"]
    for good in ("staging", "production", "pre.prod_1-X", "dev", "artifacts-eu", "boot", "my-bootstrap"):
        assert re.fullmatch(env, good), good
    # bootstrap...: its app stack PROJECT-NAME would be the account's bootstrap stack or an environment's.
    for bad in ("", "*", "staging/x", "sta ging", "bootstrap", "bootstrap-staging", "bootstrapx", "a" * 101):
        assert not re.fullmatch(env, bad), bad
    assert params["DeployBranch"]["Default"] == "main"
    branch = params["DeployBranch"]["AllowedPattern"]
    assert re.fullmatch(branch, "main") and re.fullmatch(branch, "release/1.x")
    assert not re.fullmatch(branch, "") and not re.fullmatch(branch, "*") and not re.fullmatch(branch, "main*")
    assert params["TrustBranchWithoutEnvironment"]["Default"] == "false"  # off unless asked for
    repo_id = params["GitHubRepositoryId"]["AllowedPattern"]
    assert re.fullmatch(repo_id, "123456789") and not re.fullmatch(repo_id, "") and not re.fullmatch(repo_id, "1*")
    workflow = params["DeployWorkflow"]["AllowedPattern"]
    assert params["DeployWorkflow"]["Default"] == ".github/workflows/deploy-environment.yml"
    assert re.fullmatch(workflow, params["DeployWorkflow"]["Default"])
    for bad in ("*", ".github/workflows/*.yml", "deploy.yml", ".github/workflows/x.yml@main"):
        assert not re.fullmatch(workflow, bad), bad
    provider = params["OidcProviderArn"]["AllowedPattern"]
    assert re.fullmatch(provider, f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com")
    assert not re.fullmatch(provider, "") and not re.fullmatch(provider, "*")
    assert not re.fullmatch(provider, f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/gitlab.example.com")
    bucket = params["ArtifactBucketName"]["AllowedPattern"]
    assert re.fullmatch(bucket, f"{PROJECT}-artifacts-{ACCOUNT_ID}-us-east-1")
    assert not re.fullmatch(bucket, "*") and not re.fullmatch(bucket, "a/b") and not re.fullmatch(bucket, "")


def test_environment_rules_refuse_the_reserved_names(environment):
    asserts = [a["Assert"] for rule in environment["Rules"].values() for a in rule["Assertions"]]
    for reserved in ("artifacts", "bootstrap"):
        assert {"Fn::Not": [{"Fn::Equals": [{"Ref": "EnvironmentName"}, reserved]}]} in asserts, reserved
    assert all("RuleCondition" not in rule for rule in environment["Rules"].values())  # always checked


def test_environment_resources_and_outputs(environment):
    assert {name: res["Type"] for name, res in environment["Resources"].items()} == {
        "AppPermissionsBoundary": "AWS::IAM::ManagedPolicy",
        "DeployRole": "AWS::IAM::Role",
        "DriftRole": "AWS::IAM::Role",
        "ExecutionRole": "AWS::IAM::Role",
    }
    # The interface pipeline/destination.py reads (and pipeline/commands.py passes to the app stack).
    assert {name: out["Value"] for name, out in environment["Outputs"].items()} == {
        "DeployRoleArn": {"Fn::GetAtt": ["DeployRole", "Arn"]},
        "ExecutionRoleArn": {"Fn::GetAtt": ["ExecutionRole", "Arn"]},
        "DriftRoleArn": {"Fn::GetAtt": ["DriftRole", "Arn"]},
        "PermissionsBoundaryArn": {"Ref": "AppPermissionsBoundary"},
    }
    for res in environment["Resources"].values():
        assert "Condition" not in res  # all three, always
    # A boundary only: attached to nothing (as a permissions policy it would grant its writes), name generated
    # (PROJECT-bootstrap-ENV-AppPermissionsBoundary-SUFFIX).
    boundary = environment["Resources"]["AppPermissionsBoundary"]["Properties"]
    assert set(boundary) == {"Description", "PolicyDocument"}
    for res in resources_of(environment, "AWS::IAM::Role").values():
        assert res["Properties"]["Tags"] == [{"Key": "deploy-environment", "Value": {"Ref": "EnvironmentName"}}]
        assert "RoleName" not in res["Properties"]  # generated: PROJECT-bootstrap-ENV-LOGICALID-SUFFIX


def test_deploy_role_trust_is_this_repository_and_environment_only(environment):
    role = environment["Resources"]["DeployRole"]
    assert role["Properties"]["MaxSessionDuration"] == 3600
    first, optional = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    # The one without an environment only when asked for (TrustBranchWithoutEnvironment, off by default).
    assert optional["Fn::If"][0] == "TrustBranch" and optional["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    assert environment["Conditions"]["TrustBranch"] == {
        "Fn::Equals": [{"Ref": "TrustBranchWithoutEnvironment"}, "true"]
    }
    key = "token.actions.githubusercontent.com:"
    pinned = {
        "aud": "sts.amazonaws.com",
        "repository": {"Ref": "GitHubRepository"},
        "repository_id": {"Ref": "GitHubRepositoryId"},
        "ref": {"Fn::Sub": "refs/heads/${DeployBranch}"},
        "job_workflow_ref": {"Fn::Sub": "${GitHubRepository}/${DeployWorkflow}@refs/heads/${DeployBranch}"},
    }
    for statement, extra in (
        (
            first,
            {
                "sub": {"Fn::Sub": "repo:${GitHubRepository}:environment:${EnvironmentName}"},
                "environment": {"Ref": "EnvironmentName"},
            },
        ),
        (optional["Fn::If"][1], {"sub": {"Fn::Sub": "repo:${GitHubRepository}:ref:refs/heads/${DeployBranch}"}}),
    ):
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"] == {"Federated": {"Ref": "OidcProviderArn"}}
        conditions = statement["Condition"]
        assert set(conditions) == {"StringEquals"}  # never StringLike, never ForAllValues
        assert conditions["StringEquals"] == {key + claim: value for claim, value in {**pinned, **extra}.items()}
        text = json.dumps(conditions)
        assert "ForAllValues" not in text and "ForAnyValue" not in text and "*" not in text


def test_deploy_role_passes_only_its_own_execution_role(environment):
    text = json.dumps(environment["Resources"]["DeployRole"])
    (statement,) = [
        s
        for p in environment["Resources"]["DeployRole"]["Properties"]["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        if "iam:PassRole" in as_list(s["Action"])
    ]
    assert statement["Resource"] == {"Fn::GetAtt": ["ExecutionRole", "Arn"]}
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}
    assert text.count("iam:") == 2  # PassRole and its iam:PassedToService key: no other IAM action


def test_execution_roles_are_scoped_to_their_own_environment(environment):
    role = environment["Resources"]["ExecutionRole"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "cloudformation.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert "ManagedPolicyArns" not in role["Properties"]
    allows_seen = 0
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Resource"] != "*" or statement["Effect"] == "Deny"  # a Deny only narrows
            if statement["Effect"] != "Allow" or as_list(statement["Action"]) == ["logs:DescribeLogGroups"]:
                continue
            allows_seen += 1
            # Every Allow names its own environment: ProjectName-ENV-... or artifacts/ENV/ of the artifact bucket.
            for resource in as_list(statement["Resource"]):
                text = resource["Fn::Sub"]
                assert "${ProjectName}-${EnvironmentName}-" in text or text.startswith(
                    "arn:${AWS::Partition}:s3:::${ArtifactBucketName}/artifacts/${EnvironmentName}/"
                ), statement["Sid"]
                assert "*" not in text or text.endswith(("-FunctionRole-*", "-FailureQueue-*", ":*", "/*"))
            if any(a.startswith("iam:") and a != "iam:PassRole" for a in as_list(statement["Action"])):
                # Creating or changing what a role may do: only with its own environment's boundary on it.
                writes = {
                    "iam:CreateRole",
                    "iam:PutRolePolicy",
                    "iam:DeleteRolePolicy",
                    "iam:PutRolePermissionsBoundary",
                }
                if writes & set(as_list(statement["Action"])):
                    assert set(as_list(statement["Action"])) == writes
                    assert statement["Condition"] == {
                        "StringEquals": {"iam:PermissionsBoundary": {"Ref": "AppPermissionsBoundary"}}
                    }
    assert allows_seen >= 6
    # And the boundary policies (its own and every other environment's) cannot be changed or deleted by it.
    (deny,) = [
        s
        for p in role["Properties"]["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and "iam:CreatePolicyVersion" in as_list(s["Action"])
    ]
    assert {
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicy",
        "iam:DeletePolicyVersion",
    } <= set(deny["Action"])
    assert deny["Resource"] == [
        {"Ref": "AppPermissionsBoundary"},
        {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/${ProjectName}-bootstrap-*"},
    ]
    assert "Condition" not in deny


def test_environment_boundary_names_its_own_log_group_and_queue_only(environment):
    document = environment["Resources"]["AppPermissionsBoundary"]["Properties"]["PolicyDocument"]
    own = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/"
    assert document["Statement"] == [
        {
            "Sid": "WriteOwnFunctionLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [
                {"Fn::Sub": own + "${ProjectName}-${EnvironmentName}-handler"},
                {"Fn::Sub": own + "${ProjectName}-${EnvironmentName}-handler:*"},
            ],
        },
        {
            "Sid": "SendToOwnFailureQueue",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": {
                "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:"
                "${ProjectName}-${EnvironmentName}-FailureQueue-*"
            },
        },
    ]


# --- what the pipeline calls on --target aws, and what a deploy role allows ------------------------------------
# Every boto3 call pipeline/*.py makes during `invoke package deploy verify --target aws` (the deploy workflow),
# with the IAM actions AWS authorizes it by and an example resource. {env} is the role's own environment, and
# {execution_role} that environment's execution role (the ExecutionRoleArn output of its PROJECT-bootstrap-ENV).
# Where a call needs more than its own action, the extra ones are listed with why.
STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/s3-lambda-gitops-{env}/0a1b2c3d"
BOOTSTRAP_STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/s3-lambda-gitops-bootstrap/0f1e2d3c"
ENVIRONMENT_BOOTSTRAP_STACK = (
    "arn:aws:cloudformation:us-east-1:123456789012:stack/s3-lambda-gitops-bootstrap-{env}/1a2b"
)
ARTIFACTS = "arn:aws:s3:::s3-lambda-gitops-artifacts-123456789012-us-east-1"
UPLOADS = "arn:aws:s3:::s3-lambda-gitops-{env}-123456789012-us-east-1"
LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/s3-lambda-gitops-{env}-handler"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:s3-lambda-gitops-{env}-handler"
PIPELINE_CALLS_ON_AWS: dict[tuple[str, str], list[tuple[str, str, dict[str, str]]]] = {
    # aws.Cloud.identity (the banner)
    ("sts", "get_caller_identity"): [("sts:GetCallerIdentity", "*", {})],
    # destination: the outputs of the account's bootstrap stack and of its environment's; cfn.describe_stack and
    # cfn.watch (its own stack)
    ("cloudformation", "describe_stacks"): [
        ("cloudformation:DescribeStacks", BOOTSTRAP_STACK, {}),
        ("cloudformation:DescribeStacks", ENVIRONMENT_BOOTSTRAP_STACK, {}),
        ("cloudformation:DescribeStacks", STACK, {}),
    ],
    # store.put_once (ChecksumMode=ENABLED): ListBucket makes a missing key a 404 instead of a 403;
    # store.check_named (a rollback's recorded version): GetObjectVersion
    ("s3", "head_object"): [
        ("s3:GetObject", ARTIFACTS + "/artifacts/{env}/{sha}.zip", {}),
        ("s3:GetObject", ARTIFACTS + "/templates/{env}/{sha}.yaml", {}),
        ("s3:ListBucket", ARTIFACTS, {}),
        ("s3:GetObjectVersion", ARTIFACTS + "/artifacts/{env}/{sha}.zip", {}),
    ],
    # store.put_once (package.upload, commands.template_url, rollback.record), verify.upload_marker
    ("s3", "put_object"): [
        ("s3:PutObject", ARTIFACTS + "/artifacts/{env}/{sha}.zip", {}),
        ("s3:PutObject", ARTIFACTS + "/templates/{env}/{sha}.yaml", {}),
        ("s3:PutObject", UPLOADS + "/verify/marker.txt", {}),
    ],
    # deploy.Deployer._unchanged
    ("cloudformation", "get_template"): [("cloudformation:GetTemplate", STACK, {})],
    # deploy.Deployer._create_change_set: Tags need TagResource; RoleARN needs PassRole; a TemplateURL is read
    # by CloudFormation with the caller's credentials
    ("cloudformation", "create_change_set"): [
        ("cloudformation:CreateChangeSet", STACK, {}),
        ("cloudformation:TagResource", STACK, {}),
        ("iam:PassRole", "{execution_role}", {"iam:PassedToService": "cloudformation.amazonaws.com"}),
        ("s3:GetObject", ARTIFACTS + "/templates/{env}/{sha}.yaml", {}),
    ],
    ("cloudformation", "describe_change_set"): [("cloudformation:DescribeChangeSet", STACK, {})],
    ("cloudformation", "delete_change_set"): [("cloudformation:DeleteChangeSet", STACK, {})],
    ("cloudformation", "execute_change_set"): [("cloudformation:ExecuteChangeSet", STACK, {})],
    ("cloudformation", "describe_stack_events"): [("cloudformation:DescribeStackEvents", STACK, {})],
    # deploy.Deployer._settle (ROLLBACK_COMPLETE) and _discard (the REVIEW stack of a discarded CREATE change set)
    ("cloudformation", "delete_stack"): [("cloudformation:DeleteStack", STACK, {})],
    # verify: _object_exists and clean_up (the paginator), _notification_targets, clean_up, _filter_pages
    ("s3", "list_object_versions"): [("s3:ListBucketVersions", UPLOADS, {"s3:prefix": "verify/marker.txt"})],
    ("s3", "get_bucket_notification_configuration"): [("s3:GetBucketNotification", UPLOADS, {})],
    ("s3", "delete_objects"): [
        ("s3:DeleteObject", UPLOADS + "/verify/marker.txt", {}),
        ("s3:DeleteObjectVersion", UPLOADS + "/verify/marker.txt", {}),
    ],
    ("logs", "filter_log_events"): [("logs:FilterLogEvents", LOG_GROUP, {})],
    # verify.check_running: the function's CodeSha256 against the zip this checkout built
    ("lambda", "get_function_configuration"): [("lambda:GetFunctionConfiguration", FUNCTION, {})],
    # rollback.read and rollback.load_template: the last verified record and its template
    ("s3", "get_object"): [
        ("s3:GetObject", ARTIFACTS + "/artifacts/{env}/last-verified.json", {}),
        ("s3:GetObject", ARTIFACTS + "/templates/{env}/{sha}.yaml", {}),
    ],
}
# Calls in those modules that never run from the deploy workflow with a deploy role.
NOT_CALLED_BY_A_DEPLOY_ROLE = {
    ("cloudformation", "list_stack_resources"): "destroy.py: `invoke destroy` is not run from CI",
    ("s3", "head_bucket"): "destination.py: the local artifact bucket (--target local only)",
    ("s3", "create_bucket"): "destination.py: the local artifact bucket (--target local only)",
    ("s3", "put_public_access_block"): "destination.py: the local artifact bucket (--target local only)",
    ("s3", "put_bucket_versioning"): "destination.py: the local artifact bucket (--target local only)",
}
PIPELINE_MODULES = [
    *("package", "deploy", "cfn", "verify", "logs", "destroy", "destination", "aws", "commands"),
    *("proof", "rollback", "restore", "codecheck", "store"),
]


def _boto3_calls_in(modules: list[str]) -> set[tuple[str, str]]:
    """(service, operation) for every boto3 client method named in the modules' source."""
    import boto3

    methods: dict[str, set[str]] = {}
    for service in ("cloudformation", "s3", "logs", "sts", "iam", "lambda"):
        client = boto3.client(service, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        for method in client.meta.method_to_api_mapping:
            methods.setdefault(method, set()).add(service)
    found = set()
    for module in modules:
        source = (ROOT / "pipeline" / f"{module}.py").read_text()
        named = set(re.findall(r"\.([a-z_]+)\(", source)) | set(re.findall(r"get_paginator\(\"([a-z_]+)\"\)", source))
        for method in named & set(methods):
            # A method several services share (delete_stack is cloudformation only; put_object is s3 only...)
            (service,) = methods[method] & {s for (s, _) in [*PIPELINE_CALLS_ON_AWS, *NOT_CALLED_BY_A_DEPLOY_ROLE]}
            found.add((service, method))
    return found


def test_the_call_table_is_every_boto3_call_of_the_pipeline():
    found = _boto3_calls_in(PIPELINE_MODULES)
    assert found == set(PIPELINE_CALLS_ON_AWS) | set(NOT_CALLED_BY_A_DEPLOY_ROLE)


def _rendered_stacks(environments: list[str]) -> dict[str, dict[str, Any]]:
    from test_trust_policy import rendered_environments

    return rendered_environments(environments)


@pytest.mark.parametrize("environments", [["staging", "production"], ["dev", "qa", "staging", "preprod", "production"]])
def test_deploy_roles_allow_exactly_what_the_pipeline_calls(environments):
    from test_trust_policy import allows, role_policies

    needed = {action for calls in PIPELINE_CALLS_ON_AWS.values() for action, _, _ in calls}
    for env, stack in _rendered_stacks(environments).items():
        policy = role_policies(stack["DeployRole"]["Properties"])
        execution_role = stack["Outputs"]["ExecutionRoleArn"]
        # Every call the pipeline makes is allowed, on its own environment's resources.
        for call, checks in PIPELINE_CALLS_ON_AWS.items():
            for action, resource, context in checks:
                resource = resource.format(env=env, sha="ab12" * 16, execution_role=execution_role)
                assert allows(policy, action, resource, context), (env, call, action, resource)
        # And nothing else: every action an Allow grants is one the table needs.
        granted = {
            action
            for document in policy
            for statement in document["Statement"]
            if statement["Effect"] == "Allow"
            for action in as_list(statement["Action"])
        }
        assert granted == needed, (env, granted ^ needed)
        assert not [a for a in granted if "*" in a]
        # The other way round: no call of the table reaches another environment's resources.
        for other in environments:
            if other == env:
                continue
            other_role = _rendered_stacks([other])[other]["Outputs"]["ExecutionRoleArn"]
            for call, checks in PIPELINE_CALLS_ON_AWS.items():
                for action, resource, context in checks:
                    if "{env}" not in resource and "{execution_role}" not in resource:
                        continue  # the caller identity, the artifact bucket listing, the account's bootstrap stack
                    resource = resource.format(env=other, sha="ab12" * 16, execution_role=other_role)
                    assert not allows(policy, action, resource, context), (env, other, call, action, resource)
