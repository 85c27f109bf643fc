"""Lambda-backed custom resources (``Custom::*`` and ``AWS::CloudFormation::CustomResource``), as AWS runs them.

CloudFormation invokes the ServiceToken function asynchronously with RequestType (Create/Update/Delete),
ResponseURL, StackId, RequestId, LogicalResourceId, ResourceType and ResourceProperties (plus PhysicalResourceId
and, on update, OldResourceProperties), then waits for the function to PUT {"Status": "SUCCESS"|"FAILED",
"Reason", "PhysicalResourceId", "Data"} to the ResponseURL: a pre-signed S3 URL (User Guide, "Custom resources"
and "Custom resource request objects" / "response objects"). Here the URL is a route of the local cloud's own
(``localcloud.cloudformation.responses``), so no bucket of it shows in the account. SUCCESS or FAILED decides
the resource, Reason becomes the status reason, and Data is what Fn::GetAtt reads. No answer fails the resource
after ServiceTimeout seconds (1 to 3600, default 3600, as on AWS); ``LOCALCLOUD_CUSTOM_RESOURCE_TIMEOUT`` lowers
the default for tests.
"""

from __future__ import annotations

import json
import os
import uuid

from botocore.exceptions import ClientError

from localcloud.cloudformation import responses, self_clients
from localcloud.cloudformation.resources.base import ProgressEvent, ResourceRequest

TIMEOUT_VARIABLE = "LOCALCLOUD_CUSTOM_RESOURCE_TIMEOUT"
DEFAULT_TIMEOUT = 3600.0  # AWS: a custom resource that never answers fails after one hour


class CustomResourceProvider:
    """The ResourceProvider for every custom resource type; its calls block on the engine's execution thread."""

    def create(self, request: ResourceRequest) -> ProgressEvent:
        return run("Create", request)

    def update(self, request: ResourceRequest) -> ProgressEvent:
        return run("Update", request)

    def delete(self, request: ResourceRequest) -> ProgressEvent:
        return run("Delete", request)


def provider() -> CustomResourceProvider:
    """The provider ``resources.provider`` gives every Custom::* and AWS::CloudFormation::CustomResource type."""
    return CustomResourceProvider()


def run(request_type: str, request: ResourceRequest) -> ProgressEvent:
    """Send one request to the function and turn its answer (or its silence) into a ProgressEvent."""
    token = str(request.properties.get("ServiceToken", ""))
    if ":lambda:" not in token:
        return ProgressEvent("FAILED", request.physical_id, message=_unsupported_token(token))
    request_id = str(uuid.uuid4())
    answer_token = responses.expect()
    url = responses.url(request.endpoint, answer_token)
    event = request_event(request_type, request, request_id=request_id, response_url=url)
    try:
        self_clients.client("lambda", request.endpoint, request.region, request.account_id).invoke(
            FunctionName=token, InvocationType="Event", Payload=json.dumps(event)
        )
    except ClientError as error:
        responses.wait(answer_token, 0)
        return ProgressEvent("FAILED", request.physical_id, message=_error_text(error))
    answer = read_answer(responses.wait(answer_token, timeout(request.properties)))
    if answer is None:
        return ProgressEvent("FAILED", request.physical_id, message=no_answer_message(request_id))
    return progress_from(answer, request_type, request, request_id)


def request_event(request_type: str, request: ResourceRequest, *, request_id: str, response_url: str) -> dict:
    """The event the function receives, with the fields AWS's custom resource request object has."""
    event = {
        "RequestType": request_type,
        "ServiceToken": request.properties.get("ServiceToken"),
        "ResponseURL": response_url,
        "StackId": request.stack_id,
        "RequestId": request_id,
        "LogicalResourceId": request.logical_id,
        "ResourceType": request.resource_type,
        "ResourceProperties": _as_strings(request.properties),
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = request.physical_id
    if request_type == "Update":
        event["OldResourceProperties"] = _as_strings(request.previous_properties or {})
    return event


def progress_from(answer: dict, request_type: str, request: ResourceRequest, request_id: str) -> ProgressEvent:
    """The resource's outcome from the function's response object."""
    physical_id = answer.get("PhysicalResourceId") or (request.physical_id if request_type != "Create" else None)
    if answer.get("Status") == "FAILED":
        reason = answer.get("Reason", "")
        message = f"Received response status [FAILED] from custom resource. Message returned: {reason}"
        return ProgressEvent("FAILED", physical_id, message=f"{message} (RequestId: {request_id})")
    if answer.get("Status") != "SUCCESS":
        return ProgressEvent("FAILED", physical_id, message=f"Invalid response status: {answer.get('Status')!r}")
    if not physical_id:
        return ProgressEvent("FAILED", None, message="Invalid PhysicalResourceId")
    data = answer.get("Data") or {}
    if not isinstance(data, dict):
        return ProgressEvent("FAILED", physical_id, message="Invalid Data: the response's Data must be a JSON object")
    return ProgressEvent("SUCCESS", str(physical_id), attributes=data)


def no_answer_message(request_id: str) -> str:
    """AWS's status reason for a custom resource that never answered."""
    return (
        "CloudFormation did not receive a response from your Custom Resource. Please check your logs for requestId "
        f"[{request_id}]. If you are using the Python cfn-response module, you may need to update your Lambda "
        "function code so that CloudFormation can attach the updated version."
    )


def timeout(properties: dict) -> float:
    """ServiceTimeout when the template sets it, else the local default (AWS's hour, or the test override)."""
    if properties.get("ServiceTimeout") not in (None, ""):
        return float(properties["ServiceTimeout"])
    return float(os.environ.get(TIMEOUT_VARIABLE) or DEFAULT_TIMEOUT)


def read_answer(body: bytes | None) -> dict | None:
    """The response object the function PUT, or None when it never answered."""
    if body is None:
        return None
    try:
        answer = json.loads(body)
    except ValueError:
        return {"Status": "FAILED", "Reason": "The response is not valid JSON"}
    return answer if isinstance(answer, dict) else {"Status": "FAILED", "Reason": "The response is not a JSON object"}


def _as_strings(properties: dict) -> dict:
    """CloudFormation passes every scalar of ResourceProperties as a string ("true", "5")."""

    def convert(value):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        return value

    return convert(properties)


def _unsupported_token(token: str) -> str:
    if not token:
        return "ServiceToken is required: the ARN of the Lambda function that implements the custom resource."
    return (
        f"ServiceToken {token} is not a Lambda function ARN; the local cloud runs Lambda-backed custom resources only."
    )


def _error_text(error: ClientError) -> str:
    details = error.response.get("Error", {})
    return f"{details.get('Code', 'Error')}: {details.get('Message', str(error))}"
