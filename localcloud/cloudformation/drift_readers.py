"""Live readers for drift detection: a resource's current configuration, in its CloudFormation property shape.

Each reader calls the service's own read APIs through the local cloud (as CloudFormation's read handlers call
AWS's), so whatever the local cloud answers to a client is what drift sees. ``READERS`` maps a resource type to
the top-level properties its reader returns and the reader itself; properties outside that set are not compared,
and types outside ``READERS`` are not checked. A reader answers None when the resource no longer exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

Clients = Callable[[str], Any]  # service name -> boto3 client on the local cloud, in the stack's account/region

_GONE = {
    "404",  # HeadBucket on a deleted bucket
    "ResourceNotFoundException",
    "NoSuchEntity",
    "NoSuchBucket",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
}


def _gone(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in _GONE


def read(type_name: str, clients: Clients, physical_id: str) -> dict | None:
    """The live properties of one resource, or None when it was deleted."""
    try:
        return READERS[type_name][1](clients, physical_id)
    except ClientError as error:
        if _gone(error):
            return None
        raise


def _lambda_function(clients: Clients, name: str) -> dict:
    found = clients("lambda").get_function(FunctionName=name)
    config = found["Configuration"]
    keys = ("FunctionName", "Description", "Runtime", "Handler", "Role", "Timeout", "MemorySize", "PackageType")
    live = {key: config[key] for key in keys if config.get(key) not in (None, "")}
    for key in ("Environment", "LoggingConfig", "TracingConfig", "EphemeralStorage", "DeadLetterConfig"):
        if config.get(key):
            live[key] = {k: v for k, v in config[key].items() if k != "Error"}
    live["Architectures"] = config.get("Architectures", ["x86_64"])
    if config.get("KMSKeyArn"):
        live["KmsKeyArn"] = config["KMSKeyArn"]
    if config.get("Layers"):
        live["Layers"] = [layer["Arn"] for layer in config["Layers"]]
    vpc = config.get("VpcConfig") or {}
    if vpc.get("SubnetIds"):
        live["VpcConfig"] = {"SubnetIds": vpc["SubnetIds"], "SecurityGroupIds": vpc.get("SecurityGroupIds", [])}
    if "ReservedConcurrentExecutions" in found.get("Concurrency", {}):
        live["ReservedConcurrentExecutions"] = found["Concurrency"]["ReservedConcurrentExecutions"]
    live["Tags"] = _tag_list(found.get("Tags", {}))
    return live


def _log_group(clients: Clients, name: str) -> dict | None:
    logs = clients("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
    group = next((group for group in groups if group["logGroupName"] == name), None)
    if group is None:
        return None
    live = {"LogGroupName": name}
    for source, target in (
        ("retentionInDays", "RetentionInDays"),
        ("kmsKeyId", "KmsKeyId"),
        ("logGroupClass", "LogGroupClass"),
    ):
        if group.get(source) is not None:
            live[target] = group[source]
    return live


_QUEUE_INTEGERS = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsDataKeyReusePeriodSeconds",
)
_QUEUE_BOOLEANS = ("FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled")
_QUEUE_STRINGS = ("KmsMasterKeyId", "DeduplicationScope", "FifoThroughputLimit")
_QUEUE_JSON = ("RedrivePolicy", "RedriveAllowPolicy")


def _queue(clients: Clients, url: str) -> dict:
    sqs = clients("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    live: dict[str, Any] = {"QueueName": url.rstrip("/").rsplit("/", 1)[-1]}
    live.update({key: int(attributes[key]) for key in _QUEUE_INTEGERS if key in attributes})
    live.update({key: attributes[key].lower() == "true" for key in _QUEUE_BOOLEANS if key in attributes})
    live.update({key: attributes[key] for key in _QUEUE_STRINGS if key in attributes})
    live.update({key: json.loads(attributes[key]) for key in _QUEUE_JSON if key in attributes})
    live["Tags"] = _tag_list(sqs.list_queue_tags(QueueUrl=url).get("Tags", {}))
    return live


def _role(clients: Clients, name: str) -> dict:
    iam = clients("iam")
    role = iam.get_role(RoleName=name)["Role"]
    live = {
        key: role[key] for key in ("RoleName", "Path", "AssumeRolePolicyDocument", "MaxSessionDuration") if key in role
    }
    if role.get("Description"):
        live["Description"] = role["Description"]
    if role.get("PermissionsBoundary"):
        live["PermissionsBoundary"] = role["PermissionsBoundary"]["PermissionsBoundaryArn"]
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    live["ManagedPolicyArns"] = [policy["PolicyArn"] for policy in attached]
    names = iam.list_role_policies(RoleName=name)["PolicyNames"]
    live["Policies"] = [
        {
            "PolicyName": policy,
            "PolicyDocument": iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"],
        }
        for policy in names
    ]
    live["Tags"] = role.get("Tags", [])
    return live


_NOTIFICATION_KINDS = (
    ("LambdaFunctionConfigurations", "LambdaConfigurations", "LambdaFunctionArn", "Function"),
    ("QueueConfigurations", "QueueConfigurations", "QueueArn", "Queue"),
    ("TopicConfigurations", "TopicConfigurations", "TopicArn", "Topic"),
)


def notification_configuration(api: dict) -> dict:
    """GetBucketNotificationConfiguration's answer in the template's shape: one entry per event."""
    shaped: dict[str, Any] = {}
    for api_key, cfn_key, arn_key, target_key in _NOTIFICATION_KINDS:
        entries = []
        for config in api.get(api_key, []):
            for event in config.get("Events", []):
                entry = {"Event": event, target_key: config[arn_key]}
                rules = config.get("Filter", {}).get("Key", {}).get("FilterRules", [])
                if rules:
                    entry["Filter"] = {
                        "S3Key": {"Rules": [{"Name": r["Name"].lower(), "Value": r["Value"]} for r in rules]}
                    }
                entries.append(entry)
        if entries:
            shaped[cfn_key] = entries
    if "EventBridgeConfiguration" in api:
        shaped["EventBridgeConfiguration"] = {"EventBridgeEnabled": True}
    return shaped


def _bucket(clients: Clients, name: str) -> dict:
    s3 = clients("s3")
    s3.head_bucket(Bucket=name)
    notifications = s3.get_bucket_notification_configuration(Bucket=name)
    live: dict[str, Any] = {"BucketName": name, "NotificationConfiguration": notification_configuration(notifications)}
    versioning = s3.get_bucket_versioning(Bucket=name)
    if versioning.get("Status"):
        live["VersioningConfiguration"] = {"Status": versioning["Status"]}
    optional = (
        (
            "PublicAccessBlockConfiguration",
            lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"],
        ),
        ("BucketEncryption", lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]),
        ("OwnershipControls", lambda: s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]),
        ("Tags", lambda: s3.get_bucket_tagging(Bucket=name)["TagSet"]),
    )
    for key, fetch in optional:
        value = _optional(fetch)
        if value is not None:
            live[key] = _encryption(value) if key == "BucketEncryption" else value
    return live


def _encryption(api: dict) -> dict:
    """GetBucketEncryption's rules in the template's shape (ApplyServerSideEncryptionByDefault is the API's name)."""
    rules = []
    for rule in api.get("Rules", []):
        shaped = {k: v for k, v in rule.items() if k != "ApplyServerSideEncryptionByDefault"}
        if "ApplyServerSideEncryptionByDefault" in rule:
            shaped["ServerSideEncryptionByDefault"] = rule["ApplyServerSideEncryptionByDefault"]
        rules.append(shaped)
    return {"ServerSideEncryptionConfiguration": rules}


def _optional(fetch: Callable[[], Any]) -> Any:
    """A bucket sub-resource, or None when the bucket has none (S3 answers with a NoSuch... error)."""
    try:
        return fetch()
    except ClientError as error:
        if _gone(error):
            raise
        return None


def _tag_list(tags: dict) -> list[dict]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items()) if not key.startswith("aws:")]


_LAMBDA = frozenset(
    [
        "FunctionName",
        "Description",
        "Runtime",
        "Handler",
        "Role",
        "Timeout",
        "MemorySize",
        "PackageType",
        "Environment",
        "LoggingConfig",
        "TracingConfig",
        "EphemeralStorage",
        "DeadLetterConfig",
        "Architectures",
        "KmsKeyArn",
        "Layers",
        "VpcConfig",
        "ReservedConcurrentExecutions",
        "Tags",
    ]
)
_QUEUE = frozenset(("QueueName", "Tags", *_QUEUE_INTEGERS, *_QUEUE_BOOLEANS, *_QUEUE_STRINGS, *_QUEUE_JSON))
_ROLE = frozenset(
    [
        "RoleName",
        "Path",
        "AssumeRolePolicyDocument",
        "MaxSessionDuration",
        "Description",
        "PermissionsBoundary",
        "ManagedPolicyArns",
        "Policies",
        "Tags",
    ]
)
_BUCKET = frozenset(
    [
        "BucketName",
        "NotificationConfiguration",
        "VersioningConfiguration",
        "PublicAccessBlockConfiguration",
        "BucketEncryption",
        "OwnershipControls",
        "Tags",
    ]
)
READERS: dict[str, tuple[frozenset[str], Callable[[Clients, str], dict | None]]] = {
    "AWS::Lambda::Function": (_LAMBDA, _lambda_function),
    "AWS::Logs::LogGroup": (frozenset(("LogGroupName", "RetentionInDays", "KmsKeyId", "LogGroupClass")), _log_group),
    "AWS::SQS::Queue": (_QUEUE, _queue),
    "AWS::IAM::Role": (_ROLE, _role),
    "AWS::S3::Bucket": (_BUCKET, _bucket),
}
