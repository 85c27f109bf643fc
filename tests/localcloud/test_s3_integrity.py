"""What a tamper-proof artifact store needs from S3: stored checksums, conditional writes, a policy that enforces
them, and versions (the security issue's artifact checks run on these)."""

from __future__ import annotations

import base64
import hashlib
import json

import botocore.exceptions
import pytest

PRECONDITION_MESSAGE = "At least one of the pre-conditions you specified did not hold"


def _sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _error(call, *args, **kwargs) -> tuple[dict, int]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(*args, **kwargs)
    return caught.value.response["Error"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def bucket(client, request):
    name = "integrity-" + hashlib.sha256(request.node.name.encode()).hexdigest()[:12]
    client("s3").create_bucket(Bucket=name)
    return name


def test_head_and_get_with_checksum_mode_return_the_sha256_sent_as_a_bare_header(client, bucket):
    """boto3 sends ``ChecksumSHA256=...`` as a bare ``x-amz-checksum-sha256`` header; S3 keeps it and returns it
    with ChecksumMode=ENABLED (S3 API Reference, HeadObject/GetObject ``x-amz-checksum-sha256``). Plain moto kept
    no checksum for that header."""
    s3 = client("s3")
    put = s3.put_object(Bucket=bucket, Key="a.zip", Body=b"zip bytes", ChecksumSHA256=_sha256(b"zip bytes"))
    assert put["ChecksumSHA256"] == _sha256(b"zip bytes")
    head = s3.head_object(Bucket=bucket, Key="a.zip", ChecksumMode="ENABLED")
    got = s3.get_object(Bucket=bucket, Key="a.zip", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == got["ChecksumSHA256"] == _sha256(b"zip bytes")


def test_checksum_algorithm_sha256_is_computed_and_returned(client, bucket):
    s3 = client("s3")
    s3.put_object(Bucket=bucket, Key="b.zip", Body=b"other bytes", ChecksumAlgorithm="SHA256")
    head = s3.head_object(Bucket=bucket, Key="b.zip", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == _sha256(b"other bytes")


def test_a_checksum_that_does_not_match_the_body_is_bad_digest_and_stores_nothing(client, bucket):
    """S3 answers 400 BadDigest "The SHA256 you specified did not match the calculated checksum." (the AWS error
    body quoted by the Go SDK's checksum tests and by S3-compatible servers that copy it)."""
    s3 = client("s3")
    error, status = _error(s3.put_object, Bucket=bucket, Key="c.zip", Body=b"planted", ChecksumSHA256=_sha256(b"x"))
    assert (error["Code"], status) == ("BadDigest", 400)
    assert error["Message"] == "The SHA256 you specified did not match the calculated checksum."
    assert _error(s3.head_object, Bucket=bucket, Key="c.zip")[1] == 404


def test_if_none_match_refuses_to_overwrite_an_existing_key(client, bucket):
    """PutObject with ``If-None-Match: *`` on an existing key: 412 PreconditionFailed, "At least one of the
    pre-conditions you specified did not hold", Condition If-None-Match (S3 API Reference, PutObject; the same
    error shape as LocalStack's AWS recording test_s3_preconditions.snapshot.json). The first write succeeds."""
    s3 = client("s3")
    s3.put_object(Bucket=bucket, Key="d.zip", Body=b"first", IfNoneMatch="*")
    error, status = _error(s3.put_object, Bucket=bucket, Key="d.zip", Body=b"second", IfNoneMatch="*")
    assert (error["Code"], error["Message"], error["Condition"], status) == (
        "PreconditionFailed",
        PRECONDITION_MESSAGE,
        "If-None-Match",
        412,
    )
    assert s3.get_object(Bucket=bucket, Key="d.zip")["Body"].read() == b"first"


def _enforce_conditional_writes(s3, bucket: str) -> None:
    """The S3 User Guide's "Enforce conditional writes on Amazon S3 buckets", example 1, as a Deny."""
    statement = {
        "Sid": "BlockNonConditionalObjectCreation",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"Null": {"s3:if-none-match": "true"}, "Bool": {"s3:ObjectCreationOperation": "true"}},
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


def test_a_bucket_policy_denies_writes_without_if_none_match(client, bucket):
    s3 = client("s3")
    _enforce_conditional_writes(s3, bucket)
    error, status = _error(s3.put_object, Bucket=bucket, Key="e.zip", Body=b"unconditional")
    assert (error["Code"], status) == ("AccessDenied", 403)
    s3.put_object(Bucket=bucket, Key="e.zip", Body=b"conditional", IfNoneMatch="*")
    assert _error(s3.put_object, Bucket=bucket, Key="e.zip", Body=b"again", IfNoneMatch="*")[1] == 412
    assert s3.get_object(Bucket=bucket, Key="e.zip")["Body"].read() == b"conditional"


def test_the_policy_lets_multipart_parts_through_and_checks_the_completion(client, bucket):
    """s3:ObjectCreationOperation is false for CreateMultipartUpload and UploadPart (no conditional headers there)
    and true for CompleteMultipartUpload, which must carry If-None-Match."""
    s3 = client("s3")
    _enforce_conditional_writes(s3, bucket)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="f.zip")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="f.zip", UploadId=upload, PartNumber=1, Body=b"part")
    parts = {"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]}
    complete = {"Bucket": bucket, "Key": "f.zip", "UploadId": upload, "MultipartUpload": parts}
    assert _error(s3.complete_multipart_upload, **complete)[0]["Code"] == "AccessDenied"
    s3.complete_multipart_upload(**complete, IfNoneMatch="*")
    assert s3.get_object(Bucket=bucket, Key="f.zip")["Body"].read() == b"part"


def test_versioned_buckets_return_the_version_that_was_written(client, bucket):
    s3 = client("s3")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put = s3.put_object(Bucket=bucket, Key="g.zip", Body=b"v1", ChecksumSHA256=_sha256(b"v1"), IfNoneMatch="*")
    head = s3.head_object(Bucket=bucket, Key="g.zip", VersionId=put["VersionId"], ChecksumMode="ENABLED")
    assert (head["VersionId"], head["ChecksumSHA256"]) == (put["VersionId"], _sha256(b"v1"))
