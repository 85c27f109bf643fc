"""Lambda-backed custom resources against a started local cloud, through the provider the engine calls.

From AWS's User Guide ("Custom resources", "Custom resource request objects", "Custom resource response
objects"): the function is invoked with RequestType, ResponseURL, StackId, RequestId, LogicalResourceId,
ResourceType and ResourceProperties (PhysicalResourceId on Update/Delete, OldResourceProperties on Update), and
PUTs Status, Reason, PhysicalResourceId and Data to the ResponseURL. Status reasons as AWS gives them (recorded in
many deploy logs): "Received response status [FAILED] from custom resource. Message returned: <Reason>
(RequestId: <id>)" and "CloudFormation did not receive a response from your Custom Resource. Please check your
logs for requestId [<id>]. ..." ServiceTimeout (1-3600 s) bounds the wait (AWS::CloudFormation::CustomResource).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from fixtures_lambda.custom_resource import create_custom_resource_function

if TYPE_CHECKING:
    from localcloud.cloudformation.resources.base import ResourceRequest

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/custom-test/1"


@pytest.fixture(scope="module")
def service_token(client) -> str:
    return create_custom_resource_function(client)


@pytest.fixture(scope="module")
def custom(endpoint):
    """The provider module, imported once the local cloud has started: imported at collection, before the start
    defers moto's heavy package imports, it pulls in moto's whole CloudFormation package (~1 s of CPU in every
    xdist worker, whichever worker runs these tests); after the start it costs a few milliseconds."""
    from localcloud.cloudformation.resources import custom

    return custom


def _request(endpoint: str, properties: dict, **extra) -> ResourceRequest:
    from localcloud.cloudformation.resources.base import ResourceRequest

    fields = {
        "logical_id": "Thing",
        "resource_type": "Custom::Thing",
        "properties": properties,
        "previous_properties": None,
        "physical_id": None,
        "stack_id": STACK_ID,
        "stack_name": "custom-test",
        "region": "us-east-1",
        "account_id": "123456789012",
        "endpoint": endpoint,
    }
    return ResourceRequest(**{**fields, **extra})


def test_success_gives_the_physical_id_and_data_for_getatt(endpoint, service_token, custom):
    outcome = custom.provider().create(_request(endpoint, {"ServiceToken": service_token, "Size": 5}))
    assert (outcome.status, outcome.physical_id) == ("SUCCESS", "thing-Thing")
    assert outcome.attributes == {
        "RequestType": "Create",
        "ResourceType": "Custom::Thing",
        "Greeting": "hello ",
        "Size": "5",  # CloudFormation passes properties as strings
        "OldSize": None,
        "SeenPhysical": None,
    }


def test_update_and_delete_carry_the_physical_id_and_old_properties(endpoint, service_token, custom):
    provider = custom.provider()
    update = _request(
        endpoint,
        {"ServiceToken": service_token, "Size": 6},
        previous_properties={"ServiceToken": service_token, "Size": 5},
        physical_id="thing-Thing",
    )
    updated = provider.update(update)
    assert updated.status == "SUCCESS"
    assert {k: updated.attributes[k] for k in ("RequestType", "Size", "OldSize", "SeenPhysical")} == {
        "RequestType": "Update",
        "Size": "6",
        "OldSize": "5",
        "SeenPhysical": "thing-Thing",
    }
    deleted = provider.delete(_request(endpoint, {"ServiceToken": service_token}, physical_id="thing-Thing"))
    assert (deleted.status, deleted.attributes["RequestType"], deleted.attributes["SeenPhysical"]) == (
        "SUCCESS",
        "Delete",
        "thing-Thing",
    )


def test_failed_answer_fails_the_resource_with_its_reason(endpoint, service_token, custom):
    properties = {"ServiceToken": service_token, "Answer": "FAILED", "Reason": "quota exceeded"}
    outcome = custom.provider().create(_request(endpoint, properties))
    assert outcome.status == "FAILED"
    assert outcome.message.startswith(
        "Received response status [FAILED] from custom resource. Message returned: quota exceeded (RequestId: "
    )


def test_no_answer_times_out_with_aws_reason(endpoint, service_token, monkeypatch, custom):
    monkeypatch.setenv(custom.TIMEOUT_VARIABLE, "0.2")  # the function never answers: any timeout shows it
    outcome = custom.provider().create(_request(endpoint, {"ServiceToken": service_token, "Answer": "NONE"}))
    assert outcome.status == "FAILED"
    assert outcome.message.startswith("CloudFormation did not receive a response from your Custom Resource. ")
    assert "Please check your logs for requestId [" in outcome.message


def test_service_timeout_property_bounds_the_wait(endpoint, service_token, monkeypatch, custom):
    monkeypatch.setenv(custom.TIMEOUT_VARIABLE, "3600")
    properties = {"ServiceToken": service_token, "Answer": "NONE", "ServiceTimeout": 1}
    outcome = custom.provider().create(_request(endpoint, properties))
    assert "did not receive a response" in outcome.message


def test_a_missing_function_fails_at_once(endpoint, custom):
    token = "arn:aws:lambda:us-east-1:123456789012:function:does-not-exist"
    outcome = custom.provider().create(_request(endpoint, {"ServiceToken": token}))
    assert outcome.status == "FAILED" and "ResourceNotFoundException" in outcome.message


def test_request_event_fields(custom):
    request = _request("http://127.0.0.1:1", {"ServiceToken": "arn:aws:lambda:x", "Flag": True, "List": [1]})
    event = custom.request_event("Create", request, request_id="r-1", response_url="http://u")
    assert event == {
        "RequestType": "Create",
        "ServiceToken": "arn:aws:lambda:x",
        "ResponseURL": "http://u",
        "StackId": STACK_ID,
        "RequestId": "r-1",
        "LogicalResourceId": "Thing",
        "ResourceType": "Custom::Thing",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:x", "Flag": "true", "List": ["1"]},
    }


def test_the_response_url_is_the_local_clouds_own_and_no_bucket_shows(client, endpoint, service_token, custom):
    """AWS's response bucket belongs to CloudFormation, not to the account: the account's ListBuckets never shows it.
    The local cloud's ResponseURL is a route of its own; a token is accepted once, while its request waits."""
    import urllib.error
    import urllib.request

    before = {b["Name"] for b in client("s3").list_buckets()["Buckets"]}
    outcome = custom.provider().create(_request(endpoint, {"ServiceToken": service_token, "Size": 1}))
    assert outcome.status == "SUCCESS"
    after = {b["Name"] for b in client("s3").list_buckets()["Buckets"]}
    assert after == before and not any("cfn-responses" in name for name in after)

    stale = urllib.request.Request(f"{endpoint}/_localcloud/cloudformation/responses/spent", data=b"{}", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(stale, timeout=10)
    assert refused.value.code == 404
