"""Where a deploy puts its artifact and which role CloudFormation runs as, per target.

On the local cloud the artifact bucket is created on first use. On AWS they come from the bootstrap stacks'
outputs (the account's, and the environment's own), so nobody copies names by hand; a missing bootstrap stack is
an error that says how to create it.
"""

from __future__ import annotations

from dataclasses import dataclass

import botocore.exceptions

from pipeline import cfn
from pipeline.aws import Cloud
from pipeline.config import Settings
from pipeline.errors import UserError


@dataclass(frozen=True)
class Destination:
    artifact_bucket: str
    execution_role_arn: str | None
    permissions_boundary_arn: str | None = None  # applied to the roles the app stack creates


def _ensure_local_bucket(s3, name: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=name)
        return
    except botocore.exceptions.ClientError as exc:
        if cfn.error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise
    config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **config)
    # Versioned like the bootstrap's artifact bucket, so that a local deploy pins the object version too.
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def _bootstrap_outputs(settings: Settings, cloud: Cloud, stack_name: str, what: str) -> dict[str, str]:
    stack = cfn.describe_stack(cloud.client("cloudformation"), stack_name)
    if stack is None or stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"):
        state = "does not exist" if stack is None else f"is in {stack['StackStatus']}"
        raise UserError(
            f"The bootstrap stack {stack_name} {state} in {settings.region}, so there is no {what} to use. An account "
            f"admin runs `invoke bootstrap --target aws --repo OWNER/REPO --region {settings.region} --environment "
            f"{settings.environment}` (once per account and region, naming every environment; see the README, "
            "'Deploy to your own AWS account')."
        )
    return cfn.outputs(stack)


def resolve(settings: Settings, cloud: Cloud) -> Destination:
    if settings.target == "local":
        _ensure_local_bucket(cloud.client("s3"), settings.local_artifact_bucket, settings.region)
        return Destination(settings.local_artifact_bucket, None)
    base = _bootstrap_outputs(settings, cloud, settings.bootstrap_stack, "artifact bucket")
    own = _bootstrap_outputs(
        settings, cloud, settings.bootstrap_environment_stack, f"deploy or execution role for {settings.environment}"
    )
    # The boundary belongs to the environment (its own log group and queue); older bootstraps kept one per account.
    boundary = own.get("PermissionsBoundaryArn") or base.get("PermissionsBoundaryArn") or None
    return Destination(base["ArtifactBucketName"], own["ExecutionRoleArn"], boundary)
