"""Bucket policies are evaluated as AWS does: conditions decide whether a statement applies at all."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest


def _policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _deny(bucket, **extra):
    return {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        **extra,
    }


def test_tls_only_policy_lets_sdk_requests_through(client):
    s3 = client("s3")
    s3.create_bucket(Bucket="policy-tls-only")
    tls_only = _deny("policy-tls-only", Condition={"Bool": {"aws:SecureTransport": "false"}})
    s3.put_bucket_policy(Bucket="policy-tls-only", Policy=_policy(tls_only))
    s3.put_object(Bucket="policy-tls-only", Key="a.txt", Body=b"a")  # plain moto answers 403 here
    assert s3.get_object(Bucket="policy-tls-only", Key="a.txt")["Body"].read() == b"a"


def test_an_unconditional_deny_still_denies(client):
    s3 = client("s3")
    s3.create_bucket(Bucket="policy-deny-all")
    s3.put_bucket_policy(Bucket="policy-deny-all", Policy=_policy(_deny("policy-deny-all")))
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        s3.put_object(Bucket="policy-deny-all", Key="a.txt", Body=b"a")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_a_deny_whose_condition_key_is_absent_does_not_apply(client):
    s3 = client("s3")
    s3.create_bucket(Bucket="policy-absent-key")
    scoped = _deny("policy-absent-key", Condition={"StringEquals": {"aws:SourceVpce": "vpce-123"}})
    s3.put_bucket_policy(Bucket="policy-absent-key", Policy=_policy(scoped))
    s3.put_object(Bucket="policy-absent-key", Key="a.txt", Body=b"a")
