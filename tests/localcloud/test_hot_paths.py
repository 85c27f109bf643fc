"""moto's per-request hot paths, made cheap by ``localcloud.fixes.hot_paths``, answer exactly as moto's do."""

from __future__ import annotations

import os
import re
import time

from moto.core import responses
from moto.core.base_backend import BackendDict, BaseBackend
from moto.moto_api._internal import mock_random


def test_metadata_names_round_trip_with_and_without_an_underscore(client):
    """S3 keeps user metadata names as sent (``my_key`` is not ``my-key``): moto's preserved-name path and the
    plain one both still answer them."""
    s3 = client("s3")
    bucket = f"hot-{os.urandom(4).hex()}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a", Body=b"x", Metadata={"my_key": "1", "color": "blue"})
    s3.put_object(Bucket=bucket, Key="b", Body=b"x", Metadata={"color": "red"})
    assert s3.head_object(Bucket=bucket, Key="a")["Metadata"] == {"my_key": "1", "color": "blue"}
    assert s3.head_object(Bucket=bucket, Key="b")["Metadata"] == {"color": "red"}


def test_a_backend_lookup_after_a_reset_gets_a_new_registered_backend(client):
    """What moto's ``BackendDict.reset()`` does to each dict (clear it, unregister it), done to a private one."""
    client("s3").list_buckets()  # the fixes are in
    backends = BackendDict(BaseBackend, "hot", use_boto3_regions=False, additional_regions=["aws"])
    try:
        before = backends["111122223333"]["aws"]
        assert backends["111122223333"]["aws"] is before
        assert any(instance is backends for instance in BackendDict._instances)
        backends.clear()
        BackendDict._instances.remove(backends)
        after = backends["111122223333"]["aws"]
        assert after is not before
        assert any(instance is backends for instance in BackendDict._instances)  # the next reset resets it again
    finally:
        BackendDict._instances[:] = [i for i in BackendDict._instances if i is not backends]


def test_request_ids_are_moto_s_shape_and_follow_moto_s_seed(client):
    client("s3").list_buckets()  # the fixes are in
    assert re.fullmatch(r"[A-Za-z0-9]{52}", responses.gen_amzn_requestid_long())
    try:
        mock_random.seed(7)
        first = responses.gen_amzn_requestid_long()
        mock_random.seed(7)
        headers: dict[str, str] = {}
        assert responses.gen_amzn_requestid_long(headers) == first == headers["x-amzn-requestid"]
    finally:
        mock_random.seed()  # random again for the tests that share this process


def test_service_models_are_botocore_s_and_an_unknown_service_is_still_refused(client):
    """One shared loader that checks only the asked service answers what moto's fresh loader answers."""
    import pytest
    from botocore.exceptions import UnknownServiceError
    from moto.core import utils
    from moto.core.loaders import create_loader

    client("s3").list_buckets()  # the fixes are in
    for service, model in [("s3", "service-2"), ("lambda", "service-2"), ("logs", "paginators-1")]:
        assert utils._load_service_model(service, model) == create_loader().load_service_model(service, model)
    assert "PreconditionFailed" in utils._load_service_model("s3", "service-2")["shapes"]  # moto's extras
    refused = re.escape("Unknown service: 'no-such-service'. Valid service names are: ")
    with pytest.raises(UnknownServiceError, match=refused):
        utils._load_service_model("no-such-service", "service-2")


def test_a_host_s_service_is_moto_s_and_an_unknown_host_is_asked_again(client):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from localcloud import patches

    client("lambda").list_functions()  # the fixes are in (moto's dispatcher's with the deferred ones)
    moto_s = patches._ORIGINALS[(id(DomainDispatcherApplication), "get_backend_for_host")]
    dispatcher = DomainDispatcherApplication(create_backend_app)
    for host in ["s3.us-east-1.amazonaws.com", "lambda.eu-west-1.amazonaws.com", "logs.us-east-1.amazonaws.com"]:
        assert dispatcher.get_backend_for_host(host) == moto_s(dispatcher, host) is not None
        assert dispatcher.get_backend_for_host(host) == moto_s(dispatcher, host)  # remembered, the same
    assert dispatcher.get_backend_for_host("nothing.example") is None
    assert "nothing.example" not in dispatcher._localcloud_backend_of_host


def test_filter_log_events_answers_what_moto_s_answers(client):
    """Events put out of order across batches, read with and without times and patterns: the same events, in the
    same order, with the same fields, as moto's own LogStream.filter_log_events."""
    from moto.logs import models

    from localcloud import patches

    logs = client("logs")
    group = f"/hot/{os.urandom(4).hex()}"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    for batch in ([now + 5, now + 9], [now + 1, now + 3], [now + 7]):
        events = [{"timestamp": ts, "message": f"line {ts - now} {'ERROR' if ts % 2 else 'ok'}"} for ts in batch]
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
    stream = models.logs_backends["123456789012"]["us-east-1"].groups[group].streams["s"]
    moto_s = patches._ORIGINALS[(id(models.LogStream), "filter_log_events")]
    for start, end, pattern in [(0, 0, ""), (now + 3, 0, ""), (0, now + 7, "ERROR"), (now + 2, now + 8, '"line 5"')]:
        assert stream.filter_log_events(start, end, pattern) == moto_s(stream, start, end, pattern)
    assert [e["message"] for e in stream.filter_log_events(now + 3, 0, "")] == [
        f"line {n} {'ERROR' if (now + n) % 2 else 'ok'}" for n in (3, 5, 7, 9)
    ]


def test_a_deleted_log_group_is_created_again_by_the_next_lambda_write(client):
    """lambda_logs writes straight into the stream and creates group and stream only when they are missing."""
    from types import SimpleNamespace

    from localcloud import lambda_logs

    logs = client("logs")
    fn = SimpleNamespace(account_id="123456789012", region="us-east-1")
    group, stream = f"/aws/lambda/hot-{os.urandom(4).hex()}", "2026/01/01/[$LATEST]abc"
    now = int(time.time() * 1000)
    lambda_logs.write(fn, group, stream, [(now, "first\n")])
    lambda_logs.write(fn, group, stream, [(now + 1, "second\n")])
    assert [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]] == ["first\n", "second\n"]
    logs.delete_log_group(logGroupName=group)
    lambda_logs.write(fn, group, stream, [(now + 2, "third\n")])
    assert [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]] == ["third\n"]
