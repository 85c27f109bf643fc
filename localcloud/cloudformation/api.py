"""The wire: a CloudFormation query request -> the engine's action -> an AWS-shaped XML response or error.

Requests are parsed, and responses and errors serialized, by moto's botocore-model-driven query parser and
serializer, so every field has the name, type and nesting of the CloudFormation API model. Actions the engine does
not implement (stack sets, type registry, ...) are left to moto by the router.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.parse import PROTOCOL_PARSERS
from moto.core.serialize import SerializationContext, get_serializer_class
from moto.core.utils import get_service_model

from localcloud.cloudformation import change_sets, reads, stacks, verbs

log = logging.getLogger("localcloud.cloudformation")
DEFAULT_ACCOUNT = "123456789012"
_SCOPE = re.compile(r"Credential=(?P<key>[^/]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")

Action = Callable[[verbs.Call], dict[str, Any]]
ACTIONS: dict[str, Action] = {
    "CreateStack": verbs.create_stack,
    "UpdateStack": verbs.update_stack,
    "DeleteStack": verbs.delete_stack,
    "CreateChangeSet": change_sets.create_change_set,
    "ExecuteChangeSet": change_sets.execute_change_set,
    "DeleteChangeSet": change_sets.delete_change_set,
    "UpdateTerminationProtection": verbs.update_termination_protection,
    "ContinueUpdateRollback": verbs.continue_update_rollback,
    "CancelUpdateStack": verbs.cancel_update_stack,
    "GetStackPolicy": verbs.get_stack_policy,
    "SetStackPolicy": verbs.set_stack_policy,
    "DescribeStacks": reads.describe_stacks,
    "ListStacks": reads.list_stacks,
    "DescribeStackEvents": reads.describe_stack_events,
    "DescribeStackResource": reads.describe_stack_resource,
    "DescribeStackResources": reads.describe_stack_resources,
    "ListStackResources": reads.list_stack_resources,
    "GetTemplate": reads.get_template,
    "GetTemplateSummary": reads.get_template_summary,
    "ValidateTemplate": reads.validate_template,
    "DescribeChangeSet": reads.describe_change_set,
    "ListChangeSets": reads.list_change_sets,
    "ListExports": reads.list_exports,
    "ListImports": reads.list_imports,
}
# engine-extras' modules add their actions (DescribeEvents, drift detection) when they are present.
for _module in ("events_api", "drift_api"):
    with contextlib.suppress(ImportError, AttributeError):
        ACTIONS.update(importlib.import_module(f"localcloud.cloudformation.{_module}").ACTIONS)


class InternalFailure(ServiceException):
    code = "InternalFailure"


def handles(action: str | None) -> bool:
    return action in ACTIONS


def caller(headers: Mapping[str, str]) -> tuple[str, str]:
    """(account id, region) of a signed request, as moto derives them (so both see the same account)."""
    scope = _SCOPE.search(headers.get("Authorization", ""))
    region = scope.group("region") if scope else "us-east-1"
    if os.environ.get("MOTO_ACCOUNT_ID"):
        return os.environ["MOTO_ACCOUNT_ID"], region
    if headers.get("x-moto-account-id"):
        return headers["x-moto-account-id"], region
    from moto.iam.models import get_account_id_from

    return (get_account_id_from(scope.group("key")) if scope else DEFAULT_ACCOUNT), region


def is_cloudformation(headers: Mapping[str, str]) -> bool:
    scope = _SCOPE.search(headers.get("Authorization", ""))
    return bool(scope and scope.group("service") == "cloudformation")


def respond(action: str, values: Any, headers: Mapping[str, str], endpoint: str) -> tuple[int, dict[str, str], str]:
    """Run ``action`` on the request's form ``values``; returns (status, headers, XML body)."""
    operation = get_service_model("cloudformation").operation_model(action)
    params = PROTOCOL_PARSERS["query"](operation).parse(
        {"method": "POST", "values": values, "headers": headers, "body": b"", "url_path": "/", "url_params": {}}
    )
    account_id, region = caller(headers)
    call = verbs.Call(stacks.region(account_id, region), params, endpoint)
    result: Any
    try:
        result = ACTIONS[action](call)
    except ServiceException as exc:
        result = exc
    except Exception as exc:  # a bug answers as AWS answers an internal error, and the cloud keeps serving
        log.exception("CloudFormation %s failed", action)
        result = InternalFailure(f"The local cloud failed on {action}: {exc}")
    request_id = str(uuid.uuid4())
    serializer = get_serializer_class("cloudformation", "query")(
        operation_model=operation, context=SerializationContext(request_id)
    )
    out = serializer.serialize(result)
    if isinstance(result, InternalFailure):
        out["status_code"] = 500
    return out["status_code"], {**out["headers"], "x-amzn-RequestId": request_id}, str(out["body"])
