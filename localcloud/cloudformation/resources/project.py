"""Resource types this project uses that moto has no CloudFormation model for (or one that cannot be undone):
providers written directly over the backends' public methods.

AWS behaviour: ``AWS::S3::BucketPolicy``, ``AWS::SQS::QueuePolicy``, ``AWS::Lambda::EventInvokeConfig`` and
``AWS::IAM::OIDCProvider`` are ordinary resources: created, updated in place and deleted with the stack.
``AWS::Lambda::Permission`` adds one statement to the function's resource policy and removes it on delete. The
EventInvokeConfig lands in the Lambda backend (``put_function_event_invoke_config``), where the runtime reads
``MaximumRetryAttempts`` and ``DestinationConfig``.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from moto.awslambda.models import lambda_backends
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends
from moto.sqs.models import sqs_backends
from moto.utilities.utils import get_partition

from localcloud.cloudformation.resources.base import ProgressEvent, ResourceRequest, success
from localcloud.cloudformation.resources.generic import generate_resource_name


def _text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


class DirectProvider:
    """Create and update are one ``put``; the physical id is CloudFormation's generated name unless ``put`` says."""

    def put(self, request: ResourceRequest, physical_id: str) -> str:
        raise NotImplementedError

    def remove(self, request: ResourceRequest) -> None:
        raise NotImplementedError

    def attributes(self, request: ResourceRequest, physical_id: str) -> dict[str, Any]:
        return {}

    def create(self, request: ResourceRequest) -> ProgressEvent:
        generated = generate_resource_name(request.resource_type, request.stack_name, request.logical_id)
        physical_id = self.put(request, generated)
        return success(physical_id, self.attributes(request, physical_id))

    def update(self, request: ResourceRequest) -> ProgressEvent:
        physical_id = self.put(request, request.physical_id or "")
        return success(physical_id, self.attributes(request, physical_id))

    def delete(self, request: ResourceRequest) -> ProgressEvent:
        self.remove(request)
        return success(request.physical_id)


class BucketPolicyProvider(DirectProvider):
    def backend(self, request: ResourceRequest) -> Any:
        return s3_backends[request.account_id][get_partition(request.region)]

    def put(self, request: ResourceRequest, physical_id: str) -> str:
        props = request.properties
        self.backend(request).put_bucket_policy(props["Bucket"], _text(props["PolicyDocument"]).encode())
        return physical_id

    def remove(self, request: ResourceRequest) -> None:
        bucket = (request.previous_properties or request.properties)["Bucket"]
        if bucket in self.backend(request).buckets:
            self.backend(request).delete_bucket_policy(bucket)


class QueuePolicyProvider(DirectProvider):
    def set_policy(self, request: ResourceRequest, props: dict[str, Any], policy: str) -> None:
        backend = sqs_backends[request.account_id][request.region]
        for url in props.get("Queues", []):
            backend.set_queue_attributes(url.rstrip("/").split("/")[-1], {"Policy": policy})

    def put(self, request: ResourceRequest, physical_id: str) -> str:
        self.set_policy(request, request.properties, _text(request.properties["PolicyDocument"]))
        return physical_id

    def remove(self, request: ResourceRequest) -> None:
        self.set_policy(request, request.previous_properties or request.properties, "")


class EventInvokeConfigProvider(DirectProvider):
    def function(self, request: ResourceRequest, props: dict[str, Any]) -> Any:
        return lambda_backends[request.account_id][request.region].get_function(props["FunctionName"])

    def put(self, request: ResourceRequest, physical_id: str) -> str:
        props = request.properties
        config: dict[str, Any] = {
            key: int(props[key]) for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds") if key in props
        }
        if "DestinationConfig" in props:
            config["DestinationConfig"] = props["DestinationConfig"]
        function = self.function(request, props)
        function.event_invoke_config = []  # one config per function and qualifier: put replaces
        lambda_backends[request.account_id][request.region].put_function_event_invoke_config(
            function.function_name, config
        )
        return physical_id

    def remove(self, request: ResourceRequest) -> None:
        # The function may have gone first: then there is nothing left to remove.
        with contextlib.suppress(Exception):
            self.function(request, request.previous_properties or request.properties).event_invoke_config = []


class OIDCProviderProvider(DirectProvider):
    def backend(self, request: ResourceRequest) -> Any:
        return iam_backends[request.account_id][get_partition(request.region)]

    def put(self, request: ResourceRequest, physical_id: str) -> str:
        props = request.properties
        thumbprints, client_ids = props.get("ThumbprintList", []), props.get("ClientIdList", [])
        if physical_id.startswith("arn:"):
            provider = self.backend(request).get_open_id_connect_provider(physical_id)
            provider.thumbprint_list, provider.client_id_list = thumbprints, client_ids
            return physical_id
        created = self.backend(request).create_open_id_connect_provider(
            props["Url"], thumbprints, client_ids, props.get("Tags", [])
        )
        return created.arn

    def attributes(self, request: ResourceRequest, physical_id: str) -> dict[str, Any]:
        return {"Arn": physical_id}

    def remove(self, request: ResourceRequest) -> None:
        self.backend(request).delete_open_id_connect_provider(request.physical_id)


class PermissionProvider(DirectProvider):
    _STATEMENT_KEYS = ("Action", "Principal", "SourceArn", "SourceAccount", "PrincipalOrgID", "EventSourceToken")

    def function(self, request: ResourceRequest, props: dict[str, Any]) -> Any:
        return lambda_backends[request.account_id][request.region].get_function(props["FunctionName"])

    def put(self, request: ResourceRequest, physical_id: str) -> str:
        statement = {key: request.properties[key] for key in self._STATEMENT_KEYS if key in request.properties}
        statement["StatementId"] = physical_id
        self.function(request, request.properties).policy.add_statement(json.dumps(statement))
        return physical_id

    def update(self, request: ResourceRequest) -> ProgressEvent:
        self.remove(request)  # one statement per permission: the new one takes the old one's place
        return super().update(request)

    def remove(self, request: ResourceRequest) -> None:
        try:
            function = self.function(request, request.previous_properties or request.properties)
        except Exception:  # the function is gone, and its policy with it
            return
        function.policy.del_statement(request.physical_id)


class NullProvider(DirectProvider):
    """Types CloudFormation itself implements and that change nothing elsewhere (a WaitConditionHandle)."""

    def put(self, request: ResourceRequest, physical_id: str) -> str:
        return physical_id

    def remove(self, request: ResourceRequest) -> None:
        return None
