"""``AWS::S3::Bucket`` through the S3 backend's own API methods: its whole configuration applied on create and
on update, its notification destinations checked as S3 checks them, and a non-empty bucket refused on delete.

AWS behaviour: the bucket's NotificationConfiguration (LambdaConfigurations with Event and Filter.S3Key.Rules,
plus Queue/Topic configurations), VersioningConfiguration, PublicAccessBlockConfiguration,
LifecycleConfiguration, OwnershipControls, BucketEncryption and Tags are all in force once the resource
completes, and an update in place re-applies them (a removed block is removed). S3 checks every notification
destination: a Lambda function whose resource policy does not let ``s3.amazonaws.com`` invoke it for this bucket
fails the resource with "Unable to validate the following destination configurations" (the check is
``localcloud.s3_permissions``', shared with the S3 API path). Deleting fails with "The bucket you tried to delete
is not empty" while the bucket holds any object, version or delete marker; a bucket already gone counts as
deleted. (moto's own hook applies only BucketEncryption and Tags.)
"""

from __future__ import annotations

from typing import Any

from moto.s3.cloud_formation import cfn_to_api_encryption
from moto.s3.exceptions import BucketNotEmpty, MissingBucket
from moto.s3.models import s3_backends
from moto.utilities.tagging_service import TaggingService
from moto.utilities.utils import get_partition

from localcloud.cloudformation.resources.base import ProgressEvent, ResourceRequest, success
from localcloud.cloudformation.resources.generic import MotoProvider
from localcloud.cloudformation.resources.s3_config import lifecycle_rules, notification_config
from localcloud.s3_permissions import check_notification_configuration


def _backend(account_id: str, region: str) -> Any:
    return s3_backends[account_id][get_partition(region)]


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
    backend = _backend(account_id, region)
    _apply_access(backend, name, props)
    _apply_storage(backend, name, props)
    config = notification_config(props.get("NotificationConfiguration") or {})
    # The same checks S3 makes on PutBucketNotificationConfiguration: overlap, then each Lambda's permission.
    check_notification_configuration(config, name, account_id, region)
    backend.put_bucket_notification_configuration(name, config)


def holds_objects(account_id: str, region: str, name: str) -> bool:
    """Whether bucket ``name`` holds any object, version or delete marker (S3 refuses to delete it then)."""
    try:
        return bool(_backend(account_id, region).get_bucket(name).keys)
    except MissingBucket:
        return False


class BucketProvider(MotoProvider):
    def create(self, request: ResourceRequest, name: str | None = None) -> ProgressEvent:
        backend = _backend(request.account_id, request.region)
        bucket = backend.create_bucket(name or self.name(request), request.region)
        try:
            apply_configuration(bucket.name, request.properties, request.region, request.account_id)
        except Exception:
            backend.delete_bucket(bucket.name)  # the resource failed: no half-configured bucket stays behind
            raise
        return self.answer(request, bucket)

    def update(self, request: ResourceRequest) -> ProgressEvent:
        backend = _backend(request.account_id, request.region)
        apply_configuration(request.physical_id, request.properties, request.region, request.account_id)
        return self.answer(request, backend.get_bucket(request.physical_id))

    def delete(self, request: ResourceRequest) -> ProgressEvent:
        backend = _backend(request.account_id, request.region)
        if request.physical_id not in backend.buckets:
            return success(request.physical_id)  # already gone: CloudFormation counts that as deleted
        if holds_objects(request.account_id, request.region, request.physical_id):
            raise BucketNotEmpty(request.physical_id)
        backend.delete_bucket(request.physical_id)
        self.forget(request)
        return success(request.physical_id)
