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
        "accounts": "per access key",
    }


def test_identity_is_read_only(endpoint):
    request = urllib.request.Request(f"{endpoint}/_localcloud/identity", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 405


def test_other_paths_still_reach_moto(client):
    assert client("s3").list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
