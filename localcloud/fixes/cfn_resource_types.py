"""CloudFormation resource types this project uses that moto cannot deploy (or cannot undo).

AWS behaviour: ``AWS::S3::BucketPolicy``, ``AWS::SQS::QueuePolicy``, ``AWS::Lambda::EventInvokeConfig`` and
``AWS::IAM::OIDCProvider`` are ordinary resources: created, updated in place and deleted with the stack.
``AWS::Lambda::Permission`` adds one statement to the function's resource policy and removes it on delete.

moto gap: moto 5.2.5 has no CloudFormation model for the first four (it skips them with a warning), and its
Permission copies the raw CloudFormation properties into the policy and is never removed.

Patches: ``moto.cloudformation.parsing.get_model_map`` (these models take precedence for their types).
The EventInvokeConfig lands in moto's Lambda backend (``put_function_event_invoke_config``), where the runtime
reads ``MaximumRetryAttempts`` and ``DestinationConfig``.
"""

from __future__ import annotations

import json
from typing import Any

from moto.awslambda.models import lambda_backends
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends
from moto.sqs.models import sqs_backends
from moto.utilities.utils import get_partition


def _policy_text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


class _Model(CloudFormationModel):
    """Common plumbing: a physical id, the class-level create/update/delete of CloudFormationModel."""

    TYPE = ""

    def __init__(self, physical_id: str, account_id: str, region: str, properties: dict[str, Any]) -> None:
        self.physical_id, self.account_id, self.region, self.properties = physical_id, account_id, region, properties

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    def is_created(self) -> bool:
        return True

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        resource = cls(resource_name, account_id, region_name, cloudformation_json.get("Properties") or {})
        resource.put()
        return resource

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[no-untyped-def]
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        original_resource.properties = cloudformation_json.get("Properties") or {}
        original_resource.put()
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        return None

    def put(self) -> None:
        raise NotImplementedError

    def delete(self, account_id: str, region: str) -> None:
        raise NotImplementedError


class BucketPolicy(_Model):
    TYPE = "AWS::S3::BucketPolicy"

    def _backend(self) -> Any:
        return s3_backends[self.account_id][get_partition(self.region)]

    def put(self) -> None:
        text = _policy_text(self.properties["PolicyDocument"])
        self._backend().put_bucket_policy(self.properties["Bucket"], text.encode())

    def delete(self, account_id: str, region: str) -> None:
        self._backend().delete_bucket_policy(self.properties["Bucket"])


class QueuePolicy(_Model):
    TYPE = "AWS::SQS::QueuePolicy"

    def _set(self, policy: str) -> None:
        for url in self.properties.get("Queues", []):
            sqs_backends[self.account_id][self.region].set_queue_attributes(
                url.rstrip("/").split("/")[-1], {"Policy": policy}
            )

    def put(self) -> None:
        self._set(_policy_text(self.properties["PolicyDocument"]))

    def delete(self, account_id: str, region: str) -> None:
        self._set("")


class EventInvokeConfig(_Model):
    TYPE = "AWS::Lambda::EventInvokeConfig"

    def _function(self) -> Any:
        return lambda_backends[self.account_id][self.region].get_function(self.properties["FunctionName"])

    def put(self) -> None:
        config: dict[str, Any] = {}
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if key in self.properties:
                config[key] = int(self.properties[key])
        if "DestinationConfig" in self.properties:
            config["DestinationConfig"] = self.properties["DestinationConfig"]
        function = self._function()
        function.event_invoke_config = []  # moto's put appends; a function has one config per qualifier
        lambda_backends[self.account_id][self.region].put_function_event_invoke_config(function.function_name, config)

    def delete(self, account_id: str, region: str) -> None:
        self._function().event_invoke_config = []


class OIDCProvider(_Model):
    TYPE = "AWS::IAM::OIDCProvider"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return self.physical_id

    def _backend(self) -> Any:
        return iam_backends[self.account_id][get_partition(self.region)]

    def put(self) -> None:
        props = self.properties
        thumbprints, client_ids = props.get("ThumbprintList", []), props.get("ClientIdList", [])
        if self.physical_id.startswith("arn:"):
            provider = self._backend().get_open_id_connect_provider(self.physical_id)
            provider.thumbprint_list, provider.client_id_list = thumbprints, client_ids
            return
        provider = self._backend().create_open_id_connect_provider(
            props["Url"], thumbprints, client_ids, props.get("Tags", [])
        )
        self.physical_id = provider.arn

    def delete(self, account_id: str, region: str) -> None:
        self._backend().delete_open_id_connect_provider(self.physical_id)


class LambdaPermission(_Model):
    TYPE = "AWS::Lambda::Permission"
    _STATEMENT_KEYS = ("Action", "Principal", "SourceArn", "SourceAccount", "PrincipalOrgID", "EventSourceToken")

    def _function(self) -> Any:
        return lambda_backends[self.account_id][self.region].get_function(self.properties["FunctionName"])

    def put(self) -> None:
        request = {key: self.properties[key] for key in self._STATEMENT_KEYS if key in self.properties}
        request["StatementId"] = self.physical_id
        self._function().policy.add_statement(json.dumps(request))

    def delete(self, account_id: str, region: str) -> None:
        self._function().policy.del_statement(self.physical_id)


MODELS: dict[str, type[CloudFormationModel]] = {
    model.TYPE: model for model in (BucketPolicy, QueuePolicy, EventInvokeConfig, OIDCProvider, LambdaPermission)
}


def _with_project_models(original: Any) -> Any:
    def get_model_map() -> dict[str, type[CloudFormationModel]]:
        return {**original(), **MODELS}

    return get_model_map


def apply() -> None:
    parsing.get_model_map = _with_project_models(parsing.get_model_map)
