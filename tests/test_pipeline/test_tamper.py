"""Artifacts that cannot be swapped: a planted object under the next build's key stops the deploy, uploads never
overwrite, and the stack pins the object version it deployed.

The local cloud keeps S3's stored checksums, conditional writes and versions (tests/localcloud/
test_s3_integrity.py); the bootstrap's bucket policy is checked there too (tests/test_trust_policy.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from dataclasses import replace

import botocore.exceptions
import invoke_cli
import pytest
from botocore.stub import Stubber
from pipeline_helpers import count_calls

from pipeline import commands, package, store
from pipeline.config import ROOT
from pipeline.errors import UserError

ANOTHER_HANDLER = "def handler(event, context):\n    return {'changed': True}\n"


def _code_sha256(client, settings) -> str:
    return client("lambda").get_function(FunctionName=f"{settings.stack_name}-handler")["Configuration"]["CodeSha256"]


def _plant(s3, bucket: str, key: str, body: bytes, checksum: bool = True) -> None:
    """What someone who once held the deploy role could do: write the key before the pipeline does."""
    extra = {"ChecksumSHA256": store.sha256_b64(body)} if checksum else {}
    s3.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*", **extra)


@pytest.mark.parametrize("checksum", [True, False], ids=["planted with its own checksum", "planted without one"])
def test_a_planted_artifact_stops_the_deploy_and_the_function_keeps_its_code(make_settings, client, checksum):
    settings = make_settings()
    commands.deploy(settings)
    before = _code_sha256(client, settings)
    params_before = client("cloudformation").describe_stacks(StackName=settings.stack_name)["Stacks"][0]["Parameters"]
    (settings.lambda_dir / "handler.py").write_text(ANOTHER_HANDLER)
    next_key = package.build(settings.lambda_dir, settings.artifact_key_prefix).key
    _plant(client("s3"), settings.local_artifact_bucket, next_key, b"PK\x03\x04 not the build", checksum)
    with (
        count_calls(client("cloudformation"), "CreateChangeSet") as change_sets,
        pytest.raises(store.Tampered) as raised,
    ):
        commands.deploy(settings)
    message = str(raised.value)
    assert f"TAMPERED ARTIFACT: s3://{settings.local_artifact_bucket}/{next_key} already exists" in message
    assert "nothing was deployed" in message
    assert ("no SHA-256 checksum" in message) != checksum
    assert change_sets.count == 0
    assert _code_sha256(client, settings) == before
    stack = client("cloudformation").describe_stacks(StackName=settings.stack_name)["Stacks"][0]
    assert stack["Parameters"] == params_before
    # The planted bytes are still there: the deploy never overwrote them either.
    assert (
        client("s3")
        .get_object(Bucket=settings.local_artifact_bucket, Key=next_key)["Body"]
        .read()
        .endswith(b"not the build")
    )


def test_the_cli_exits_non_zero_with_the_tamper_message(endpoint, client, make_settings):
    """`invoke deploy` as a user runs it, on the repository's own lambda/, after a deploy of other code."""
    project = f"tamper{uuid.uuid4().hex[:6]}"
    settings = make_settings()
    settings = type(settings)(
        **{**settings.__dict__, "project": project, "stack_name": f"{project}-dev", "environment": "dev"}
    )
    (settings.lambda_dir / "handler.py").write_text(ANOTHER_HANDLER)
    commands.deploy(settings)
    before = _code_sha256(client, settings)
    key = package.build(ROOT / "lambda", settings.artifact_key_prefix).key
    _plant(client("s3"), settings.local_artifact_bucket, key, b"evil")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPELINE_", "INVOKE_"))}
    env.update({"AWS_ENDPOINT_URL": endpoint, "INVOKE_PIPELINE_PROJECT": project})
    done = invoke_cli.run(("deploy",), env=env)
    assert done.returncode != 0
    assert f"TAMPERED ARTIFACT: s3://{project}-artifacts-local/{key} already exists" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert _code_sha256(client, settings) == before


def test_the_stack_pins_the_object_version_and_an_overwrite_is_refused(make_settings, client):
    settings = make_settings()
    result = commands.deploy(settings)
    assert result.status == "CREATE_COMPLETE"
    s3 = client("s3")
    params = {
        p["ParameterKey"]: p["ParameterValue"]
        for p in client("cloudformation").describe_stacks(StackName=settings.stack_name)["Stacks"][0]["Parameters"]
    }
    head = s3.head_object(Bucket=params["ArtifactBucket"], Key=params["ArtifactKey"], ChecksumMode="ENABLED")
    assert params["ArtifactVersion"] == head["VersionId"]
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        s3.put_object(Bucket=params["ArtifactBucket"], Key=params["ArtifactKey"], Body=b"swap", IfNoneMatch="*")
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    # Even a write that does overwrite the key (an admin, without the bucket policy) leaves the deployed version.
    s3.put_object(Bucket=params["ArtifactBucket"], Key=params["ArtifactKey"], Body=b"swap")
    pinned = s3.get_object(
        Bucket=params["ArtifactBucket"], Key=params["ArtifactKey"], VersionId=params["ArtifactVersion"]
    )
    assert store.sha256_b64(pinned["Body"].read()) == _code_sha256(client, settings)


def _stubbed(responses):
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(s3)
    for method, reply in responses:
        if isinstance(reply, tuple):
            stubber.add_client_error(method, service_error_code=reply[0], http_status_code=reply[1])
        else:
            stubber.add_response(method, reply)
    stubber.activate()
    return s3


def test_a_write_that_races_ours_is_judged_by_its_checksum():
    body = b"the build"
    expected = store.sha256_b64(body)
    raced = [("head_object", ("404", 404)), ("put_object", ("PreconditionFailed", 412))]
    same = _stubbed([*raced, ("head_object", {"ChecksumSHA256": expected, "VersionId": "v7"})])
    assert store.put_once(same, "b", "artifacts/e/k.zip", body, "application/zip") == store.Stored(
        "b", "artifacts/e/k.zip", uploaded=False, version_id="v7"
    )
    other = _stubbed([*raced, ("head_object", {"ChecksumSHA256": store.sha256_b64(b"x"), "VersionId": "v8"})])
    with pytest.raises(store.Tampered, match=r"s3://b/artifacts/e/k\.zip already exists"):
        store.put_once(other, "b", "artifacts/e/k.zip", body, "application/zip")


def test_an_unversioned_artifact_bucket_is_refused_on_aws(make_settings):
    from pipeline import template

    settings = replace(make_settings(), target="aws")
    upload = package.Upload("b", "artifacts/e/" + "a" * 64 + ".zip", uploaded=True, version_id=None)
    with pytest.raises(UserError, match="the artifact bucket is not versioned"):
        commands.artifact_parameters(settings, template.load(settings.template), "b", upload)


def test_a_rollback_record_pointing_at_other_bytes_is_refused(client):
    s3 = client("s3")
    bucket = f"named-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    good = b"a verified build"
    key = f"artifacts/staging/{hashlib.sha256(good).hexdigest()}.zip"
    _plant(s3, bucket, key, good)
    store.check_named(s3, bucket, key)
    fake = f"artifacts/staging/{'0' * 64}.zip"
    _plant(s3, bucket, fake, b"planted under a name it does not hash to")
    with pytest.raises(store.Tampered, match=re.escape(f"s3://{bucket}/{fake} already exists")):
        store.check_named(s3, bucket, fake)
    with pytest.raises(store.Tampered):
        store.check_named_body(bucket, f"templates/staging/{'1' * 64}.yaml", b"Resources: {}")
