"""The local cloud says who it is at ``/_localcloud/identity`` (HELPERS.md's agreed interface), so the tasks can
tell it from LocalStack or another checkout's local cloud on the same port."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import localcloud

ROOT = Path(__file__).resolve().parents[2]


def test_identity_names_the_product_its_checkout_and_its_process(endpoint):
    with urllib.request.urlopen(f"{endpoint}/_localcloud/identity", timeout=5) as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"] == "application/json"
        identity = json.loads(answer.read())
    assert identity == {
        "product": "localcloud",
        "version": localcloud.__version__,
        "checkout": str(ROOT),
        "pid": os.getpid(),
        "accounts": "123456789012 unless the x-moto-account-id request header names another; an access key "
        "issued by this local cloud's IAM answers in its own account, any other key in the default one",
    }


def test_accounts_are_chosen_as_the_identity_says_by_the_header_not_by_the_access_key(endpoint):
    """Two unknown access keys share the default account; the x-moto-account-id header selects another one."""
    from pipeline.aws import new_session  # boto3.Session over a shared data loader: no JSON parsed again

    def s3(key: str, account: str | None = None):
        session = new_session(aws_access_key_id=key, aws_secret_access_key="x", region_name="us-east-1")
        if account:
            session.events.register("before-sign.s3", lambda request, **_: request.headers.add_header(
                "x-moto-account-id", account))  # fmt: skip
        return session.client("s3", endpoint_url=endpoint)

    bucket = f"identity-{os.urandom(4).hex()}"
    s3("AKIAFIRSTKEYEXAMPLE").create_bucket(Bucket=bucket)
    names = lambda client: {b["Name"] for b in client.list_buckets()["Buckets"]}  # noqa: E731
    assert bucket in names(s3("AKIASECONDKEYEXAMPLE"))  # another key, the same (default) account
    assert bucket not in names(s3("AKIAFIRSTKEYEXAMPLE", account="111122223333"))


def test_identity_is_read_only(endpoint):
    request = urllib.request.Request(f"{endpoint}/_localcloud/identity", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 405


def test_other_paths_still_reach_moto(client):
    assert client("s3").list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
