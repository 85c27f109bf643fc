"""A Lambda-backed custom resource for tests: it answers as its ResourceProperties say and echoes the request.

ResourceProperties: ``Answer`` SUCCESS (default), FAILED or NONE (never answers), ``Reason``, ``Physical`` (the
PhysicalResourceId, default ``thing-<LogicalResourceId>``), ``Name`` and ``Size`` (echoed in Data).
"""

from __future__ import annotations

from typing import Any

from fixtures_lambda.functions import create_function, zip_of

HANDLER = """
import json, urllib.request


def handler(event, context):
    props = event["ResourceProperties"]
    print("CUSTOMREQUEST " + json.dumps({k: v for k, v in event.items() if k != "ResponseURL"}))
    if props.get("Answer") == "NONE":
        return
    old = event.get("OldResourceProperties") or {}
    data = {
        "RequestType": event["RequestType"],
        "ResourceType": event["ResourceType"],
        "Greeting": "hello " + props.get("Name", ""),
        "Size": props.get("Size"),
        "OldSize": old.get("Size"),
        "SeenPhysical": event.get("PhysicalResourceId"),
    }
    body = {
        "Status": props.get("Answer", "SUCCESS"),
        "Reason": props.get("Reason", ""),
        "PhysicalResourceId": props.get("Physical", "thing-" + event["LogicalResourceId"]),
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data,
    }
    put = urllib.request.Request(event["ResponseURL"], data=json.dumps(body).encode(), method="PUT")
    put.add_header("content-type", "")
    urllib.request.urlopen(put, timeout=10).read()
"""


def create_custom_resource_function(client: Any) -> str:
    """Deploy the handler; answers its ARN (the ServiceToken)."""
    code = zip_of({"app.py": HANDLER})
    return create_function(client, "handler", code=code, prefix="custom", Timeout=15)["FunctionArn"]
