"""``AWS::Lambda::Function`` through the Lambda backend's own API methods: created with its whole configuration,
updated in place, its code read from S3 at the version the template names.

AWS behaviour: every property (LoggingConfig, Architectures, TracingConfig, EphemeralStorage, Tags, ...) is the
function's from creation. Changing Code (S3Bucket/S3Key/S3ObjectVersion/ZipFile), Environment, Handler,
MemorySize, Timeout, Runtime, Role, Description or LoggingConfig updates the same function: same name and ARN, a
new CodeSha256 when the code changed; a removed property returns to its default. Code naming an S3 object (or
version) that does not exist fails the resource with "Error occurred while GetObject. S3 Error Code: NoSuchKey".
``ZipFile`` is source text, zipped as ``index.py`` beside the ``cfnresponse`` module.

moto's own CloudFormation hook keeps only a few properties, ignores S3ObjectVersion, deploys empty code for a
missing object and cannot update in place, so this provider builds the CreateFunction / UpdateFunctionCode /
UpdateFunctionConfiguration requests itself.
"""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

from moto.awslambda.models import lambda_backends
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition, load_resource_as_str

from localcloud.cloudformation.resources.base import ProgressEvent, ResourceRequest, success
from localcloud.cloudformation.resources.generic import MotoProvider

_DEFAULTS = {"Description": "", "MemorySize": 128, "Timeout": 3}
_CONFIG_KEYS = ("Description", "Handler", "MemorySize", "Role", "Runtime", "Timeout", "VpcConfig", "Layers")
_SPEC_KEYS = (
    *_CONFIG_KEYS,
    "Environment",
    "PackageType",
    "Architectures",
    "TracingConfig",
    "EphemeralStorage",
    "LoggingConfig",
    "KmsKeyArn",
    "DeadLetterConfig",
    "ImageConfig",
    "ReservedConcurrentExecutions",
)


class LambdaCodeError(ValueError):
    """Lambda could not read the code the template names (the resource's failure)."""


def plaintext_zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.py", source)
        archive.writestr("cfnresponse.py", load_resource_as_str("awslambda/resources/cfnresponse.py.txt"))
    return buffer.getvalue()


def _s3_bytes(code: dict[str, Any], account_id: str, region: str) -> bytes:
    backend = s3_backends[account_id][get_partition(region)]
    if code["S3Bucket"] not in backend.buckets:
        error = "NoSuchBucket. S3 Error Message: The specified bucket does not exist"
        raise LambdaCodeError(f"Error occurred while GetObject. S3 Error Code: {error}")
    try:
        key = backend.get_object(code["S3Bucket"], code["S3Key"], version_id=code.get("S3ObjectVersion"))
    except Exception:  # moto raises for an unknown version, returns None for an unknown key
        key = None
    if key is None:
        error = "NoSuchKey. S3 Error Message: The specified key does not exist."
        raise LambdaCodeError(f"Error occurred while GetObject. S3 Error Code: {error}")
    return key.value


def code_request(code: dict[str, Any], account_id: str, region: str) -> dict[str, Any]:
    """The CreateFunction/UpdateFunctionCode ``Code`` for a template's ``Code`` (the zip itself, base64)."""
    if "ZipFile" in code:
        return {"ZipFile": base64.b64encode(plaintext_zip(code["ZipFile"]))}
    if "S3Bucket" in code:
        return {"ZipFile": base64.b64encode(_s3_bytes(code, account_id, region))}
    return dict(code)  # ImageUri


class FunctionProvider(MotoProvider):
    def backend(self, request: ResourceRequest) -> Any:
        return lambda_backends[request.account_id][request.region]

    def create(self, request: ResourceRequest, name: str | None = None) -> ProgressEvent:
        props = request.properties
        spec: dict[str, Any] = {key: props[key] for key in _SPEC_KEYS if key in props}
        spec["FunctionName"] = name or self.name(request)
        spec["Code"] = code_request(props.get("Code") or {}, request.account_id, request.region)
        spec["Tags"] = {tag["Key"]: tag["Value"] for tag in props.get("Tags") or []}
        function = self.backend(request).create_function(spec)
        return self.answer(request, function)

    def update(self, request: ResourceRequest) -> ProgressEvent:
        function = self.backend(request).get_function(request.physical_id)
        props, before = request.properties, request.previous_properties or {}
        updates = {key: props.get(key, _DEFAULTS.get(key)) for key in _CONFIG_KEYS if key in props or key in _DEFAULTS}
        updates["Environment"] = {"Variables": (props.get("Environment") or {}).get("Variables") or {}}
        updates["LoggingConfig"] = props.get("LoggingConfig") or {}
        function.update_configuration(updates)
        function.environment_vars = updates["Environment"]["Variables"]
        if props.get("Code") != before.get("Code") or "ZipFile" in (props.get("Code") or {}):
            function.update_function_code(code_request(props["Code"], request.account_id, request.region))
        function.architectures = props.get("Architectures") or ["x86_64"]
        function.tracing_config = props.get("TracingConfig") or {"Mode": "PassThrough"}
        function.ephemeral_storage = int((props.get("EphemeralStorage") or {}).get("Size", 512))
        function.tags = {tag["Key"]: tag["Value"] for tag in props.get("Tags") or []}
        return self.answer(request, function)

    def delete(self, request: ResourceRequest) -> ProgressEvent:
        try:
            self.backend(request).delete_function(request.physical_id)
        except Exception as exc:  # already gone counts as deleted, as in CloudFormation
            if "not found" not in str(exc).lower() and "ResourceNotFound" not in type(exc).__name__:
                raise
        self.forget(request)
        return success(request.physical_id)
