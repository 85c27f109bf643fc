"""moto's per-request hot paths, made cheap by ``localcloud.fixes.hot_paths``, answer exactly as moto's do."""

from __future__ import annotations

import os
import re

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
