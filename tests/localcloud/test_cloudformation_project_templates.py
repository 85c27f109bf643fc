"""The project's own templates deploy on the local cloud through change sets, and a code change updates in place.

cloudformation/app.yaml (bucket DependsOn a Lambda permission built from the bucket-name string, LoggingConfig on
its own log group, EventInvokeConfig with an SQS OnFailure destination): CREATE change set, then an UPDATE change
set that changes the function code. cloudformation/bootstrap.yaml (OIDC provider, artifact bucket) then
cloudformation/bootstrap-environment.yaml once per environment, fed its outputs (deploy role with an Fn::If trust
condition, execution role, the environment's own permissions boundary): CREATE change sets.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from pathlib import Path

from stack_waits import change_set_settled, settled

ROOT = Path(__file__).resolve().parents[2]


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", source)
    return buffer.getvalue()


def _deploy(cf, stack: str, name: str, body: str, params: list[dict], change_set_type: str) -> dict:
    cf.create_change_set(
        Capabilities=["CAPABILITY_IAM"],
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType=change_set_type,
        TemplateBody=body,
        Parameters=params,
    )
    change_set_settled(cf, stack, name)
    cf.execute_change_set(StackName=stack, ChangeSetName=name)
    settled(cf, stack)
    return cf.describe_stacks(StackName=stack)["Stacks"][0]


def test_app_stack_deploys_and_code_change_updates_in_place(client) -> None:
    cf, s3, lam = client("cloudformation"), client("s3"), client("lambda")
    stack = f"app-{uuid.uuid4().hex[:8]}"
    artifacts = f"{stack}-artifacts"
    s3.create_bucket(Bucket=artifacts)
    keys = {}
    for version in ("a", "b"):
        body = _zip(f"def handler(e, c):\n    return {version!r}\n")
        # The environment's own prefix, content-addressed: what ArtifactKey's AllowedPattern accepts.
        keys[version] = f"artifacts/staging/{hashlib.sha256(body).hexdigest()}.zip"
        s3.put_object(Bucket=artifacts, Key=keys[version], Body=body)
    body = (ROOT / "cloudformation" / "app.yaml").read_text()

    def params(key: str) -> list[dict]:
        return [
            {"ParameterKey": "ArtifactBucket", "ParameterValue": artifacts},
            {"ParameterKey": "ArtifactKey", "ParameterValue": key},
        ]

    created = _deploy(cf, stack, "create", body, params(keys["a"]), "CREATE")
    assert created["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in created["Outputs"]}
    assert set(outputs) >= {"BucketName", "FunctionName", "FunctionArn", "LogGroupName", "FailureQueueUrl"}
    function = lam.get_function_configuration(FunctionName=outputs["FunctionName"])
    assert function["LoggingConfig"]["LogGroup"] == outputs["LogGroupName"]
    invoke_config = lam.get_function_event_invoke_config(FunctionName=outputs["FunctionName"])
    assert invoke_config["DestinationConfig"]["OnFailure"]["Destination"].startswith("arn:aws:sqs:")
    notifications = s3.get_bucket_notification_configuration(Bucket=outputs["BucketName"])[
        "LambdaFunctionConfigurations"
    ]
    assert [n["LambdaFunctionArn"] for n in notifications] == [outputs["FunctionArn"]]

    updated = _deploy(cf, stack, "code", body, params(keys["b"]), "UPDATE")
    changes = cf.describe_change_set(StackName=stack, ChangeSetName="code")["Changes"]

    assert [(c["ResourceChange"]["LogicalResourceId"], c["ResourceChange"]["Replacement"]) for c in changes] == [
        ("Function", "False")
    ]
    assert updated["StackStatus"] == "UPDATE_COMPLETE"
    after = lam.get_function_configuration(FunctionName=outputs["FunctionName"])
    assert after["FunctionArn"] == function["FunctionArn"] and after["CodeSha256"] != function["CodeSha256"]
    cf.delete_stack(StackName=stack)  # the session's local cloud is shared: leave no bucket or function behind
    settled(cf, stack)


def _document(value) -> dict:
    return json.loads(value) if isinstance(value, str) else value


def test_bootstrap_stacks_deploy_with_a_scoped_trust_policy(client) -> None:
    cf, iam = client("cloudformation"), client("iam")
    project = f"bootstrap-{uuid.uuid4().hex[:8]}"
    base_stack = f"{project}-bootstrap"
    templates = ROOT / "cloudformation"
    base = _deploy(
        cf,
        base_stack,
        "create",
        (templates / "bootstrap.yaml").read_text(),
        [{"ParameterKey": "ProjectName", "ParameterValue": project}],
        "CREATE",
    )
    assert base["StackStatus"] == "CREATE_COMPLETE"
    outputs = {o["OutputKey"]: o["OutputValue"] for o in base["Outputs"]}
    assert set(outputs) == {"ArtifactBucketName", "OidcProviderArn"}
    providers = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert outputs["OidcProviderArn"] in providers

    stacks, roles = [base_stack], {}
    body = (templates / "bootstrap-environment.yaml").read_text()
    for env, without in (("staging", "true"), ("production", "false")):  # env-less trust to the first one only
        params = {
            "ProjectName": project,
            "EnvironmentName": env,
            "GitHubRepository": "octo/repo",
            "GitHubRepositoryId": "42",
            "DeployBranch": "main",
            "TrustBranchWithoutEnvironment": without,
            **{name: outputs[name] for name in ("OidcProviderArn", "ArtifactBucketName")},
        }
        stacks.append(f"{project}-bootstrap-{env}")
        created = _deploy(
            cf,
            stacks[-1],
            "create",
            body,
            [{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()],
            "CREATE",
        )
        assert created["StackStatus"] == "CREATE_COMPLETE", env
        roles[env] = {o["OutputKey"]: o["OutputValue"] for o in created["Outputs"]}
        assert set(roles[env]) == {"DeployRoleArn", "DriftRoleArn", "ExecutionRoleArn", "PermissionsBoundaryArn"}

    def trust(arn: str) -> dict:
        return _document(iam.get_role(RoleName=arn.split("/")[-1])["Role"]["AssumeRolePolicyDocument"])

    staging = trust(roles["staging"]["DeployRoleArn"])
    subjects = [s["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] for s in staging["Statement"]]
    # One role per environment: the first alone also trusts the branch (Fn::If with AWS::NoValue in a list).
    assert subjects == ["repo:octo/repo:environment:staging", "repo:octo/repo:ref:refs/heads/main"]
    assert staging["Statement"][0]["Principal"]["Federated"] == outputs["OidcProviderArn"]
    condition = trust(roles["production"]["DeployRoleArn"])["Statement"][0]["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:sub"] == "repo:octo/repo:environment:production"
    assert condition["token.actions.githubusercontent.com:repository_id"] == "42"
    assert len(trust(roles["production"]["DeployRoleArn"])["Statement"]) == 1
    # One CloudFormation execution role per environment too, trusted by CloudFormation only, and one boundary.
    assert len({arn for pair in roles.values() for arn in pair.values()}) == 8
    for env, pair in roles.items():
        (statement,) = trust(pair["ExecutionRoleArn"])["Statement"]
        assert statement["Principal"] == {"Service": "cloudformation.amazonaws.com"}
        policy = iam.get_policy(PolicyArn=pair["PermissionsBoundaryArn"])["Policy"]
        assert policy["AttachmentCount"] == 0  # a boundary only, attached to no role
        version = iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        resources = json.dumps(_document(version["PolicyVersion"]["Document"]))
        assert f"{project}-{env}-handler" in resources and f"{project}-{env}-FailureQueue-" in resources
        (other,) = {"staging", "production"} - {env}
        assert f"{project}-{other}-" not in resources

    # The session's local cloud is shared and an account holds one GitHub OIDC provider: remove ours.
    for stack in reversed(stacks):
        cf.delete_stack(StackName=stack)
        settled(cf, stack)
    assert outputs["OidcProviderArn"] not in [
        p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    ]
