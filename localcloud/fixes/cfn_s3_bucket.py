"""``AWS::S3::Bucket`` applies its whole configuration, on create and on update, and validates notifications.

AWS behaviour: the bucket's NotificationConfiguration (LambdaConfigurations with Event and
Filter.S3Key.Rules prefix/suffix, plus Queue/Topic configurations), VersioningConfiguration,
PublicAccessBlockConfiguration, LifecycleConfiguration, OwnershipControls, BucketEncryption and Tags are all in
force once the resource completes, and an update in place re-applies them (a removed block is removed). S3
checks every notification destination: a Lambda function whose resource policy does not let
``s3.amazonaws.com`` invoke it fails the resource with "Unable to validate the following destination
configurations". Only a statement whose conditions hold for this bucket counts: its ``aws:SourceArn`` (when
given) must match the bucket's ARN and its ``aws:SourceAccount`` (when given) the bucket owner's account.
Deleting the resource fails with "The bucket you tried to delete is not empty" while the bucket holds any
object, object version or delete marker; a bucket that is already gone counts as deleted.

moto gap: moto's FakeBucket applies only BucketEncryption and Tags on create (and checks no destination); its
update ignores everything else (and needs an explicit BucketName to re-tag); its CloudFormation delete ignores
``delete_bucket`` returning None for a non-empty bucket, so the stack reports DELETE_COMPLETE and the bucket
silently stays.

The permission and overlap checks are ``localcloud.s3_permissions``'s, shared with the S3 API path.

Patches: wraps ``FakeBucket.create_from_cloudformation_json``; replaces ``FakeBucket.update_from_cloudformation_json``
(in-place updates only: a BucketName change is a replacement, done by ``cfn_update``) and
``FakeBucket.delete_from_cloudformation_json``.
"""

from __future__ import annotations

from typing import Any

from moto.s3.cloud_formation import cfn_to_api_encryption
from moto.s3.exceptions import BucketNotEmpty, MissingBucket
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.tagging_service import TaggingService
from moto.utilities.utils import get_partition

from localcloud.fixes.cfn_s3_config import lifecycle_rules, notification_config
from localcloud.s3_permissions import check_notification_configuration


def _apply_notifications(backend: Any, name: str, props: dict[str, Any], region: str, account_id: str) -> None:
    config = notification_config(props.get("NotificationConfiguration") or {})
    # The same checks S3 makes on PutBucketNotificationConfiguration: overlap, then each Lambda's permission.
    check_notification_configuration(config, name, account_id, region)
    backend.put_bucket_notification_configuration(name, config)


def _apply_access(backend: Any, name: str, props: dict[str, Any]) -> None:
    if props.get("PublicAccessBlockConfiguration"):
        backend.put_public_access_block(name, props["PublicAccessBlockConfiguration"])
    else:
        backend.get_bucket(name).public_access_block = None
    rules = (props.get("OwnershipControls") or {}).get("Rules") or []
    if rules:
        backend.put_bucket_ownership_controls(name, rules[0]["ObjectOwnership"])
    else:
        backend.delete_bucket_ownership_controls(name)


def _apply_storage(backend: Any, name: str, props: dict[str, Any]) -> None:
    versioning = (props.get("VersioningConfiguration") or {}).get("Status")
    if versioning:
        backend.put_bucket_versioning(name, versioning)
    elif backend.get_bucket(name).versioning_status:
        backend.put_bucket_versioning(name, "Suspended")  # S3 can suspend versioning, never remove it
    rules = (props.get("LifecycleConfiguration") or {}).get("Rules")
    if rules:
        backend.put_bucket_lifecycle_configuration(name, lifecycle_rules(rules))
    else:
        backend.delete_bucket_lifecycle(name)
    if "BucketEncryption" in props:
        backend.put_bucket_encryption(name, cfn_to_api_encryption(props["BucketEncryption"]))
    else:
        backend.delete_bucket_encryption(name)
    backend.put_bucket_tagging(name, TaggingService().flatten_tag_list(props.get("Tags") or []))


def apply_configuration(name: str, props: dict[str, Any], region: str, account_id: str) -> None:
    """Bring bucket ``name`` to exactly the configuration in ``props`` (CloudFormation property shape)."""
    backend = s3_backends[account_id][get_partition(region)]
    _apply_access(backend, name, props)
    _apply_storage(backend, name, props)
    _apply_notifications(backend, name, props, region, account_id)


def _create(original: Any) -> Any:
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kw):  # type: ignore[no-untyped-def]
        bucket = original.__func__(cls, resource_name, cloudformation_json, account_id, region_name, **kw)
        try:
            apply_configuration(bucket.name, cloudformation_json.get("Properties") or {}, region_name, account_id)
        except Exception:
            # The resource failed: CloudFormation leaves no half-configured bucket behind.
            s3_backends[account_id][get_partition(region_name)].delete_bucket(bucket.name)
            raise
        return bucket

    return classmethod(create_from_cloudformation_json)


def update_from_cloudformation_json(  # type: ignore[no-untyped-def]
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    """Replacement for ``FakeBucket.update_from_cloudformation_json`` (in place)."""
    props = cloudformation_json.get("Properties") or {}
    apply_configuration(original_resource.name, props, region_name, account_id)
    return original_resource


def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
    """Replacement for ``FakeBucket.delete_from_cloudformation_json``: S3 refuses a bucket that is not empty."""
    backend = s3_backends[account_id][get_partition(region_name)]
    try:
        bucket = backend.get_bucket(resource_name)
    except MissingBucket:
        return  # already gone: CloudFormation counts that as deleted
    if bucket.keys:  # current objects, older versions and delete markers all live here
        raise BucketNotEmpty(resource_name)
    backend.delete_bucket(resource_name)


def apply() -> None:
    FakeBucket.create_from_cloudformation_json = _create(FakeBucket.create_from_cloudformation_json)
    FakeBucket.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)
    FakeBucket.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)
