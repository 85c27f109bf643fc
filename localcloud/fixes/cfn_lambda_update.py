"""``AWS::Lambda::Function`` is updated in place, and its whole configuration reaches the function on create.

AWS behaviour: changing Code (S3Bucket/S3Key/S3ObjectVersion/ZipFile), Environment, Handler, MemorySize,
Timeout, Runtime, Role, Description or LoggingConfig updates the same function: same name and ARN, a new
CodeSha256 when the code changed, and no second function. Removing a property returns it to its default.
``LoggingConfig`` (LogFormat, LogGroup, ApplicationLogLevel, SystemLogLevel) is part of the function's
configuration from creation and is returned by GetFunction/GetFunctionConfiguration.

moto gap: moto's CloudFormation create drops every property outside a short list (LoggingConfig, Architectures,
TracingConfig, EphemeralStorage, Tags); its update passes CloudFormation's ``Environment`` and plaintext
``ZipFile`` straight through and cannot reset removed properties. Both accept Code naming an S3 object that does
not exist (moto's ``get_object`` returns None) and deploy empty code; Lambda fails the resource with "Error
occurred while GetObject. S3 Error Code: NoSuchKey".

Patches: wraps ``LambdaFunction.create_from_cloudformation_json``; replaces
``LambdaFunction.update_from_cloudformation_json``. LoggingConfig is stored as ``fn.logging_config``, the attribute
the API-side fix ``lambda_logging_config`` reads back in GetFunctionConfiguration and the runtime honours.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

_DEFAULTS = {"Description": "", "MemorySize": 128, "Timeout": 3}
_CONFIG_KEYS = ("Description", "Handler", "MemorySize", "Role", "Runtime", "Timeout", "VpcConfig", "Layers")


def _set_logging(function: Any, logging_config: dict[str, Any] | None) -> None:
    # Same attribute as the API-side fix (lambda_logging_config): the runtime reads it, defaults applied on read.
    function.logging_config = dict(logging_config or {})


def _set_extras(function: Any, props: dict[str, Any]) -> None:
    _set_logging(function, props.get("LoggingConfig"))
    if props.get("Architectures"):
        function.architectures = props["Architectures"]
    function.tracing_config = props.get("TracingConfig") or {"Mode": "PassThrough"}
    function.ephemeral_storage = int((props.get("EphemeralStorage") or {}).get("Size", 512))
    function.tags = {tag["Key"]: tag["Value"] for tag in props.get("Tags") or []}


def _code_spec(code: dict[str, Any]) -> dict[str, Any]:
    code = copy.deepcopy(code)
    if "ZipFile" in code:  # CloudFormation's ZipFile is source text, the API's is a base64 zip
        code["ZipFile"] = base64.b64encode(LambdaFunction._create_zipfile_from_plaintext_code(code["ZipFile"]))
    return code


def _code_changed(function: Any, code: dict[str, Any]) -> bool:
    if "ZipFile" in code:
        return True  # cheap to re-zip; CodeSha256 stays the same when the text did not change
    keys = ("S3Bucket", "S3Key", "S3ObjectVersion", "ImageUri")
    return any(function.code.get(key) != code.get(key) for key in keys)


def _require_s3_code(code: dict[str, Any], account_id: str, region: str) -> None:
    # moto treats a missing object as empty code (its get_object returns None); Lambda refuses it.
    if "S3Bucket" not in code:
        return
    backend = s3_backends[account_id][get_partition(region)]
    bucket = backend.buckets.get(code["S3Bucket"])
    if bucket is None or backend.get_object(code["S3Bucket"], code["S3Key"]) is None:
        error = (
            "NoSuchBucket. S3 Error Message: The specified bucket does not exist"
            if bucket is None
            else ("NoSuchKey. S3 Error Message: The specified key does not exist.")
        )
        raise ValueError("InvalidParameterValueException", f"Error occurred while GetObject. S3 Error Code: {error}")


def _create(original: Any) -> Any:
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kw):  # type: ignore[no-untyped-def]
        _require_s3_code((cloudformation_json.get("Properties") or {}).get("Code") or {}, account_id, region_name)
        function = original.__func__(cls, resource_name, cloudformation_json, account_id, region_name, **kw)
        _set_extras(function, cloudformation_json.get("Properties") or {})
        return function

    return classmethod(create_from_cloudformation_json)


def update_from_cloudformation_json(  # type: ignore[no-untyped-def]
    cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
):
    """Replacement for ``LambdaFunction.update_from_cloudformation_json``: the same function, reconfigured."""
    props = cloudformation_json["Properties"]
    function = original_resource
    updates = {key: props.get(key, _DEFAULTS.get(key)) for key in _CONFIG_KEYS if key in props or key in _DEFAULTS}
    function.update_configuration(updates)
    function.environment_vars = (props.get("Environment") or {}).get("Variables") or {}
    if _code_changed(function, props["Code"]):
        _require_s3_code(props["Code"], function.account_id, function.region)
        function.update_function_code(_code_spec(props["Code"]))
    _set_extras(function, props)
    return function


def apply() -> None:
    LambdaFunction.create_from_cloudformation_json = _create(LambdaFunction.create_from_cloudformation_json)
    LambdaFunction.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)
