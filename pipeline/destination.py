"""Where a deploy puts its artifact and which role CloudFormation runs as, per target.

On the local cloud the artifact bucket is created on first use. On AWS both come from the bootstrap stack's
outputs, so nobody copies names by hand; a missing bootstrap stack is an error that says how to create it.
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
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def bootstrap_outputs(settings: Settings, cloud: Cloud) -> dict[str, str]:
    stack = cfn.describe_stack(cloud.client("cloudformation"), settings.bootstrap_stack)
    if stack is None or stack["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"):
        state = "does not exist" if stack is None else f"is in {stack['StackStatus']}"
        raise UserError(
            f"The bootstrap stack {settings.bootstrap_stack} {state} in {settings.region}, so there is no artifact "
            "bucket or deploy role to use. An account admin runs it once per account and region: `invoke "
            f"bootstrap --target aws --repo OWNER/REPO --region {settings.region}` (see the README, 'Deploy to "
            "your own AWS account')."
        )
    return cfn.outputs(stack)


def resolve(settings: Settings, cloud: Cloud) -> Destination:
    if settings.target == "local":
        _ensure_local_bucket(cloud.client("s3"), settings.local_artifact_bucket, settings.region)
        return Destination(settings.local_artifact_bucket, None)
    found = bootstrap_outputs(settings, cloud)
    return Destination(
        found["ArtifactBucketName"],
        execution_role(found, settings.environment),
        found.get("PermissionsBoundaryArn") or None,
    )


def execution_role(outputs: dict[str, str], environment: str) -> str | None:
    """This environment's CloudFormation execution role (``ExecutionRoleArns`` is ``env=arn,...``).

    An environment the bootstrap doesn't list has no role of its own: say so rather than borrow another's.
    """
    pairs = dict(item.split("=", 1) for item in outputs.get("ExecutionRoleArns", "").split(",") if "=" in item)
    if not pairs:
        return outputs.get("ExecutionRoleArn")  # a bootstrap from before per-environment roles
    if environment not in pairs:
        raise UserError(
            f"The bootstrap stack has no execution role for environment {environment!r} (it has: "
            f"{', '.join(pairs)}). Re-run `invoke bootstrap --target aws --repo OWNER/REPO --environment "
            f"{environment}` with every environment you deploy."
        )
    return pairs[environment]
