"""The provider for every resource type moto models: moto's documented per-resource hooks, nothing patched.

moto gives each type a ``CloudFormationModel`` subclass with ``create_from_cloudformation_json``,
``update_from_cloudformation_json`` and ``delete_from_cloudformation_json`` (or the object's own ``delete``),
``cloudformation_name_type()`` (the property that names it) and ``get_cfn_attribute``. This provider calls those
hooks with the resolved properties, keeps the model object moto returns (the next update or delete needs it), and
reads the attributes Fn::GetAtt may ask for: every property and read-only property in the type's schema.

An update keeps the physical name: moto's update hooks are given the deployed name, never a fresh one (a change
that needs a new name is a replacement, which the engine does as create + delete). A type whose model has no
update hook is updated by deleting and re-creating it under the same name.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from moto.cloudformation.utils import random_suffix
from moto.core.common_models import CloudFormationModel

from localcloud.cloudformation import schemas
from localcloud.cloudformation.resources.base import ProgressEvent, ResourceRequest, success

# moto package per CloudFormation namespace where the two differ; every other namespace is its lower-case name.
_PACKAGES = {"Lambda": "awslambda", "ElasticLoadBalancing": "elb", "ElasticLoadBalancingV2": "elbv2"}

_objects: dict[tuple[str, str, str, str], Any] = {}
_objects_lock = threading.Lock()


def model_class(resource_type: str) -> type[CloudFormationModel] | None:
    """moto's model class for ``resource_type``, importing the service's models on first use."""
    parts = resource_type.split("::")
    if len(parts) != 3 or parts[0] != "AWS":
        return None
    package = _PACKAGES.get(parts[1], parts[1].lower())
    try:
        importlib.import_module(f"moto.{package}.models")
    except ImportError:
        return None
    return _all_models().get(resource_type)


def _all_models() -> dict[str, type[CloudFormationModel]]:
    found: dict[str, type[CloudFormationModel]] = {}
    for model in CloudFormationModel.__subclasses__():
        try:
            found[model.cloudformation_type()] = model
        except (NotImplementedError, TypeError):
            continue
    return found


def generate_resource_name(resource_type: str, stack_name: str, logical_id: str) -> str:
    """The name moto's ``cloudformation.parsing.generate_resource_name`` gives (moto 5.2.5), without importing
    ``parsing``, which imports every service moto has (seconds at the first CloudFormation request)."""
    if resource_type in ("AWS::ElasticLoadBalancingV2::TargetGroup", "AWS::ElasticLoadBalancingV2::LoadBalancer"):
        suffix = random_suffix()  # these names stay under 32 characters, and never end in a dash before it
        return f"{f'{stack_name}-{logical_id}'[: 32 - (len(suffix) + 1)].removesuffix('-')}-{suffix}"
    if resource_type == "AWS::S3::Bucket":
        right = f"-{logical_id}-{random_suffix()}"
        return f"{stack_name[: 63 - len(right)]}{right}".lower()
    if resource_type == "AWS::IAM::Policy":
        return f"{stack_name[:5]}-{logical_id[:4]}-{random_suffix()}"
    return f"{stack_name}-{logical_id}-{random_suffix()}"


def _implemented(method: Any) -> bool:
    return method is not None and not getattr(method, "__isabstractmethod__", False)


def attribute_names(resource_type: str) -> list[str]:
    """What Fn::GetAtt may name: the schema's properties and read-only properties (nested ones as ``A.B``)."""
    found = schemas.schema(resource_type) or {}
    names = ["Arn", *found.get("properties", {})]
    for path in found.get("readOnlyProperties", ()):
        names.append(path.removeprefix("/properties/").replace("/", "."))
    return list(dict.fromkeys(names))


def forget_all() -> None:
    with _objects_lock:
        _objects.clear()


class MotoProvider:
    """Create, update and delete one type through its moto model."""

    def __init__(self, model: type[CloudFormationModel]) -> None:
        self.model = model

    # -- helpers subclasses share
    def key(self, request: ResourceRequest, physical_id: str) -> tuple[str, str, str, str]:
        return (request.account_id, request.region, request.resource_type, physical_id)

    def stored(self, request: ResourceRequest) -> Any:
        with _objects_lock:
            return _objects.get(self.key(request, request.physical_id or ""))

    def remember(self, request: ResourceRequest, physical_id: str, resource: Any) -> None:
        with _objects_lock:
            _objects[self.key(request, physical_id)] = resource

    def forget(self, request: ResourceRequest) -> None:
        with _objects_lock:
            _objects.pop(self.key(request, request.physical_id or ""), None)

    def name(self, request: ResourceRequest) -> str:
        """The physical name: the template's name property, else CloudFormation's generated one."""
        name_property = self.model.cloudformation_name_type()
        if name_property and request.properties.get(name_property):
            return str(request.properties[name_property])
        return generate_resource_name(request.resource_type, request.stack_name, request.logical_id)

    def document(self, request: ResourceRequest, properties: dict | None = None, name: str | None = None) -> dict:
        """What moto's hooks read; the physical name goes in the name property too (some models read only that)."""
        props = dict(request.properties if properties is None else properties)
        name_property = self.model.cloudformation_name_type()
        if name and name_property and not props.get(name_property):
            props[name_property] = name
        return {"Type": request.resource_type, "Properties": props}

    def answer(self, request: ResourceRequest, resource: Any) -> ProgressEvent:
        physical_id = str(getattr(resource, "physical_resource_id", "") or "")
        self.remember(request, physical_id, resource)
        return success(physical_id, self.attributes(request.resource_type, resource))

    def attributes(self, resource_type: str, resource: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in attribute_names(resource_type):
            try:
                if self.model.has_cfn_attr(name):
                    values[name] = resource.get_cfn_attribute(name)
            except Exception:
                continue
        return values

    # -- the contract
    def create(self, request: ResourceRequest, name: str | None = None) -> ProgressEvent:
        name = name or self.name(request)
        resource = self.model.create_from_cloudformation_json(
            name,
            self.document(request, name=name),
            request.account_id,
            request.region,
            LogicalId=request.logical_id,
            StackId=request.stack_id,
            ResourceType=request.resource_type,
        )
        return self.answer(request, resource)

    def update(self, request: ResourceRequest) -> ProgressEvent:
        original = self.stored(request)
        if original is None or not _implemented(getattr(self.model, "update_from_cloudformation_json", None)):
            self.delete(request)
            return self.create(request, request.physical_id)
        resource = self.model.update_from_cloudformation_json(
            original_resource=original,
            new_resource_name=request.physical_id,
            cloudformation_json=self.document(request, name=request.physical_id),
            account_id=request.account_id,
            region_name=request.region,
        )
        self.forget(request)
        return self.answer(request, resource)

    def delete(self, request: ResourceRequest) -> ProgressEvent:
        resource = self.stored(request)
        document = self.document(request, request.previous_properties or request.properties)
        if resource is not None and callable(getattr(resource, "delete", None)):
            try:
                resource.delete(request.account_id, request.region)
            except (TypeError, AttributeError):  # a ``delete`` with another signature: use the class hook
                self.model.delete_from_cloudformation_json(
                    request.physical_id, document, request.account_id, request.region
                )
        elif _implemented(getattr(self.model, "delete_from_cloudformation_json", None)):
            self.model.delete_from_cloudformation_json(
                request.physical_id, document, request.account_id, request.region
            )
        self.forget(request)
        return success(request.physical_id)
