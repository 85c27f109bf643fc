"""``AWS::Lambda::Function`` is updated in place, and its whole configuration reaches the function on create.

AWS behaviour: changing Code (S3Bucket/S3Key/S3ObjectVersion/ZipFile), Environment, Handler, MemorySize,
Timeout, Runtime, Role, Description or LoggingConfig updates the same function: same name and ARN, a new
CodeSha256 when the code changed, and no second function. Removing a property returns it to its default.
``LoggingConfig`` (LogFormat, LogGroup, ApplicationLogLevel, SystemLogLevel) is part of the function's
configuration from creation and is returned by GetFunction/GetFunctionConfiguration (default: Text format, log
group ``/aws/lambda/<name>``).

moto gap: moto's CloudFormation create drops every property outside a short list (LoggingConfig, Architectures,
TracingConfig, EphemeralStorage, Tags); its update passes CloudFormation's ``Environment`` and plaintext
``ZipFile`` straight through and cannot reset removed properties; moto 5.2.5 has no LoggingConfig at all.

Patches: wraps ``LambdaFunction.create_from_cloudformation_json`` and ``LambdaFunction.get_configuration``;
replaces ``LambdaFunction.update_from_cloudformation_json``. The function keeps its LoggingConfig in
``logging_config`` and its log group in moto's ``logs_group_name``.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from moto.awslambda.models import LambdaFunction

_DEFAULTS = {"Description": "", "MemorySize": 128, "Timeout": 3}
_CONFIG_KEYS = ("Description", "Handler", "MemorySize", "Role", "Runtime", "Timeout", "VpcConfig", "Layers")


def _set_logging(function: Any, logging_config: dict[str, Any] | None) -> None:
    config = {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function.function_name}"}
    config.update(logging_config or {})
    if config["LogFormat"] == "JSON":
        config.setdefault("ApplicationLogLevel", "INFO")
        config.setdefault("SystemLogLevel", "INFO")
    function.logging_config = config
    function.logs_group_name = config["LogGroup"]


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


def _create(original: Any) -> Any:
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kw):  # type: ignore[no-untyped-def]
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
        function.update_function_code(_code_spec(props["Code"]))
    _set_extras(function, props)
    return function


def _get_configuration(original: Any) -> Any:
    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        config = original(self, on_create)
        if not hasattr(self, "logging_config"):
            _set_logging(self, None)
        config["LoggingConfig"] = dict(self.logging_config)
        return config

    return get_configuration


def apply() -> None:
    LambdaFunction.create_from_cloudformation_json = _create(LambdaFunction.create_from_cloudformation_json)
    LambdaFunction.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)
    LambdaFunction.get_configuration = _get_configuration(LambdaFunction.get_configuration)
