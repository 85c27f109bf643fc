"""Resource providers by type: the engine's only way into moto.

``provider(type)`` answers the provider for a type, or None for a type the local cloud cannot deploy (refused up
front, as CloudFormation refuses an unrecognized type). Specific providers cover what moto's hooks get wrong or
lack; every other type moto models goes through ``generic.MotoProvider``. ``Custom::*`` and
``AWS::CloudFormation::CustomResource`` go to ``custom.py``'s provider.
"""

from __future__ import annotations

import importlib

from localcloud.cloudformation import schemas
from localcloud.cloudformation.resources import project
from localcloud.cloudformation.resources.base import ResourceProvider, failed
from localcloud.cloudformation.resources.generic import MotoProvider, model_class
from localcloud.cloudformation.resources.iam import LogGroupProvider, ManagedPolicyProvider, RoleProvider
from localcloud.cloudformation.resources.lambda_function import FunctionProvider
from localcloud.cloudformation.resources.s3 import BucketProvider

CUSTOM_TYPE = "AWS::CloudFormation::CustomResource"
NULL_TYPES = ("AWS::CloudFormation::WaitConditionHandle", "AWS::CloudFormation::WaitCondition")

_OVER_MOTO_MODELS = {
    "AWS::S3::Bucket": BucketProvider,
    "AWS::Lambda::Function": FunctionProvider,
    "AWS::IAM::Role": RoleProvider,
    "AWS::IAM::ManagedPolicy": ManagedPolicyProvider,
    "AWS::Logs::LogGroup": LogGroupProvider,
}
_DIRECT = {
    "AWS::S3::BucketPolicy": project.BucketPolicyProvider(),
    "AWS::SQS::QueuePolicy": project.QueuePolicyProvider(),
    "AWS::Lambda::EventInvokeConfig": project.EventInvokeConfigProvider(),
    "AWS::IAM::OIDCProvider": project.OIDCProviderProvider(),
    "AWS::Lambda::Permission": project.PermissionProvider(),
    **{name: project.NullProvider() for name in NULL_TYPES},
}


class _Unavailable:
    """Stands in for custom resources while ``custom.py`` is not there: each operation fails, saying so."""

    def create(self, request):  # type: ignore[no-untyped-def]
        return failed(f"The local cloud has no provider for {request.resource_type} yet")

    update = delete = create


def is_custom(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or resource_type == CUSTOM_TYPE


def _custom() -> ResourceProvider:
    try:
        module = importlib.import_module("localcloud.cloudformation.resources.custom")
    except ImportError:
        return _Unavailable()
    return module.provider()


def provider(resource_type: str) -> ResourceProvider | None:
    if resource_type in _DIRECT:
        return _DIRECT[resource_type]
    if is_custom(resource_type):
        return _custom()
    model = model_class(resource_type)
    if model is None:
        return None
    return _OVER_MOTO_MODELS.get(resource_type, MotoProvider)(model)


def has_schema(resource_type: str) -> bool:
    return not is_custom(resource_type) and schemas.schema(resource_type) is not None


def known(resource_type: str) -> bool:
    return is_custom(resource_type) or resource_type in _DIRECT or model_class(resource_type) is not None


def name_taken(account_id: str, region: str, resource_type: str, name: str) -> bool:
    """Whether a resource of this type and name already exists (pre-deployment validation's name check)."""
    if resource_type == "AWS::S3::Bucket":
        from moto.s3.models import s3_backends
        from moto.utilities.utils import get_partition

        return name in s3_backends[account_id][get_partition(region)].buckets
    if resource_type == "AWS::Logs::LogGroup":  # e.g. the /aws/lambda/<name> group Lambda made on a first run
        from moto.logs.models import logs_backends

        return name in logs_backends[account_id][region].groups
    if resource_type == "AWS::IAM::Role":
        from moto.iam.models import iam_backends
        from moto.utilities.utils import get_partition

        try:
            iam_backends[account_id][get_partition(region)].get_role(name)
        except Exception:  # moto: IAMNotFoundException
            return False
        return True
    if resource_type == "AWS::Lambda::Function":
        from moto.awslambda.models import lambda_backends

        try:
            lambda_backends[account_id][region].get_function(name)
        except Exception:  # moto: UnknownFunctionException
            return False
        return True
    return False
