"""AWS::S3::Bucket applies its configuration on create and update, and S3 validates Lambda destinations.

AWS: every property of the bucket is in force once the resource completes; a NotificationConfiguration whose
function does not let s3.amazonaws.com invoke it fails with "Unable to validate the following destination
configurations". (Plain moto ignores notification, versioning, public access block, lifecycle and ownership.)
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from stack_waits import settled

TEMPLATES = Path(__file__).parent / "templates"


def _template(name: str) -> str:
    return (TEMPLATES / name).read_text()


def _params(**values: str) -> list[dict[str, str]]:
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]


def _filter_rules(s3, bucket: str) -> dict[str, str]:
    (config,) = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    return {rule["Name"].lower(): rule["Value"] for rule in config["Filter"]["Key"]["FilterRules"]}


def test_bucket_configuration_applies_on_create_and_on_update(client) -> None:
    cf, s3 = client("cloudformation"), client("s3")
    stack = f"cfn-bucket-{uuid.uuid4().hex[:8]}"
    cf.create_stack(StackName=stack, Capabilities=["CAPABILITY_IAM"], TemplateBody=_template("bucket.yaml"))
    settled(cf, stack)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cf.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]}
    bucket = outputs["BucketName"]

    (notification,) = s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    assert notification["LambdaFunctionArn"] == outputs["FunctionArn"]
    assert notification["Events"] == ["s3:ObjectCreated:*"]
    assert _filter_rules(s3, bucket) == {"prefix": "uploads/", "suffix": ".txt"}
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    (encryption,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (rule,) = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert (rule["ID"], rule["Filter"]["Prefix"], rule["Expiration"]["Days"]) == ("expire-verify", "verify/", 1)

    params = _params(
        Prefix="incoming/", Suffix=".csv", Versioning="Suspended", ExpireDays="3", Ownership="ObjectWriter"
    )
    cf.update_stack(
        StackName=stack, Capabilities=["CAPABILITY_IAM"], TemplateBody=_template("bucket.yaml"), Parameters=params
    )
    settled(cf, stack)

    assert cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert _filter_rules(s3, bucket) == {"prefix": "incoming/", "suffix": ".csv"}
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["Expiration"]["Days"] == 3
    ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "ObjectWriter"}]


def _without_blocks(template: str, *names: str) -> str:
    """The template with the named bucket property blocks (and everything nested in them) left out."""
    kept, skipping = [], None
    for line in template.splitlines():
        indent = len(line) - len(line.lstrip())
        if skipping is not None and (indent > skipping or not line.strip()):
            continue
        skipping = None
        if line.strip().rstrip(":") in names:
            skipping = indent
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def test_removed_public_access_block_and_encryption_are_removed_on_update(client) -> None:
    cf, s3 = client("cloudformation"), client("s3")
    stack = f"cfn-unblock-{uuid.uuid4().hex[:8]}"
    template = _template("bucket.yaml").replace("SSEAlgorithm: AES256", "SSEAlgorithm: aws:kms")
    cf.create_stack(StackName=stack, Capabilities=["CAPABILITY_IAM"], TemplateBody=template)
    settled(cf, stack)
    bucket = f"{stack}-uploads"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"

    reduced = _without_blocks(template, "PublicAccessBlockConfiguration", "BucketEncryption")
    assert "PublicAccessBlockConfiguration" not in reduced and "BucketEncryption" not in reduced
    cf.update_stack(StackName=stack, Capabilities=["CAPABILITY_IAM"], TemplateBody=reduced)
    settled(cf, stack)

    assert cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    with pytest.raises(ClientError) as raised:
        s3.get_public_access_block(Bucket=bucket)
    assert raised.value.response["Error"]["Code"] == "NoSuchPublicAccessBlockConfiguration"
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except ClientError as error:  # moto: no configuration at all
        assert error.response["Error"]["Code"] == "ServerSideEncryptionConfigurationNotFoundError"
    else:  # AWS: back to the SSE-S3 default every bucket has
        assert [r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules] == ["AES256"]
    assert s3.get_bucket_notification_configuration(Bucket=bucket)["LambdaFunctionConfigurations"]
    cf.delete_stack(StackName=stack)
    settled(cf, stack)


def test_notification_to_a_function_s3_may_not_invoke_fails_the_bucket(client) -> None:
    cf, s3 = client("cloudformation"), client("s3")
    stack = f"cfn-noperm-{uuid.uuid4().hex[:8]}"
    buckets_before = {b["Name"] for b in s3.list_buckets()["Buckets"]}

    cf.create_stack(
        StackName=stack, Capabilities=["CAPABILITY_IAM"], TemplateBody=_template("bucket_without_permission.yaml")
    )
    settled(cf, stack)

    events = cf.describe_stack_events(StackName=stack)["StackEvents"]
    failed = [e for e in events if e["LogicalResourceId"] == "Bucket" and e["ResourceStatus"] == "CREATE_FAILED"]
    assert len(failed) == 1
    assert "Unable to validate the following destination configurations" in failed[0]["ResourceStatusReason"]
    assert cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == buckets_before


PERMISSION_CONDITIONS = """
Parameters:
  SourceArn: {Type: String, Default: ""}
  SourceAccount: {Type: String, Default: ""}
Conditions:
  HasArn: !Not [!Equals [!Ref SourceArn, ""]]
  HasAccount: !Not [!Equals [!Ref SourceAccount, ""]]
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: "def handler(event, context):\\n    return None\\n"
  Permission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !GetAtt Function.Arn
      Action: lambda:InvokeFunction
      Principal: s3.amazonaws.com
      SourceArn: !If [HasArn, !Ref SourceArn, !Ref AWS::NoValue]
      SourceAccount: !If [HasAccount, !Ref SourceAccount, !Ref AWS::NoValue]
  Bucket:
    Type: AWS::S3::Bucket
    DependsOn: Permission
    Properties:
      BucketName: !Sub "${AWS::StackName}-uploads"
      NotificationConfiguration:
        LambdaConfigurations:
          - Event: s3:ObjectCreated:*
            Function: !GetAtt Function.Arn
"""


@pytest.mark.parametrize(
    ("source_arn", "source_account", "outcome"),
    [
        ("arn:aws:s3:::some-other-bucket", "", "ROLLBACK_COMPLETE"),
        ("arn:aws:s3:::{stack}-uploads", "999999999999", "ROLLBACK_COMPLETE"),
        ("", "999999999999", "ROLLBACK_COMPLETE"),
        ("arn:aws:s3:::{stack}-uploads", "{account}", "CREATE_COMPLETE"),
        ("arn:aws:s3:::{stack}-*", "", "CREATE_COMPLETE"),
        ("", "{account}", "CREATE_COMPLETE"),
        ("", "", "CREATE_COMPLETE"),
    ],
)
def test_only_a_permission_whose_conditions_match_this_bucket_counts(
    client, source_arn: str, source_account: str, outcome: str
) -> None:
    cf, sts = client("cloudformation"), client("sts")
    stack = f"cfn-perm-{uuid.uuid4().hex[:8]}"
    account = sts.get_caller_identity()["Account"]
    values = {"SourceArn": source_arn, "SourceAccount": source_account}
    params = [
        {"ParameterKey": key, "ParameterValue": value.format(stack=stack, account=account)}
        for key, value in values.items()
    ]

    cf.create_stack(
        StackName=stack, Capabilities=["CAPABILITY_IAM"], TemplateBody=PERMISSION_CONDITIONS, Parameters=params
    )
    settled(cf, stack)

    assert cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == outcome
    if outcome == "ROLLBACK_COMPLETE":
        events = cf.describe_stack_events(StackName=stack)["StackEvents"]
        (failed,) = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
        assert failed["LogicalResourceId"] == "Bucket"
        assert "Unable to validate the following destination configurations" in failed["ResourceStatusReason"]
    cf.delete_stack(StackName=stack)
    settled(cf, stack)
