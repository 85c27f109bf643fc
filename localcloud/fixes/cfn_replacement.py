"""Which property changes make CloudFormation replace a resource (a table, no moto patches).

AWS behaviour: each resource property is documented as "Update requires: No interruption" or "Replacement".
Changing a replacement property (a bucket's, function's, queue's or role's name, for instance) creates a new
physical resource and deletes the old one; anything else updates the resource in place. Change sets report this
as ``Replacement: True/False`` with ``RequiresRecreation: Always/Never`` per property.

moto gap: moto's change sets carry no Replacement at all, and its per-model update methods decide ad hoc.
"""

from __future__ import annotations

from typing import Any

ALL = "*"  # every property change replaces

REPLACEMENT_PROPERTIES: dict[str, frozenset[str] | str] = {
    "AWS::S3::Bucket": frozenset({"BucketName", "ObjectLockEnabled"}),
    "AWS::S3::BucketPolicy": frozenset({"Bucket"}),
    "AWS::Lambda::Function": frozenset({"FunctionName", "PackageType"}),
    "AWS::Lambda::Permission": ALL,
    "AWS::Lambda::EventInvokeConfig": frozenset({"FunctionName", "Qualifier"}),
    "AWS::Logs::LogGroup": frozenset({"LogGroupName", "LogGroupClass"}),
    "AWS::SQS::Queue": frozenset({"QueueName", "FifoQueue"}),
    "AWS::SQS::QueuePolicy": frozenset(),
    "AWS::IAM::Role": frozenset({"RoleName", "Path"}),
    "AWS::IAM::ManagedPolicy": frozenset({"ManagedPolicyName", "Path", "Description"}),
    "AWS::IAM::OIDCProvider": frozenset({"Url"}),
}


def requires_recreation(resource_type: str, property_name: str) -> bool:
    """True when changing this property replaces the resource (unknown types: assume it does)."""
    props = REPLACEMENT_PROPERTIES.get(resource_type, ALL)
    return props == ALL or property_name in props


def needs_replacement(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether going from one resolved resource definition to the other replaces the resource."""
    if before.get("Type") != after.get("Type"):
        return True
    old, new = before.get("Properties") or {}, after.get("Properties") or {}
    return any(
        old.get(name) != new.get(name) for name in set(old) | set(new) if requires_recreation(after["Type"], name)
    )
