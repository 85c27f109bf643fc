"""Environments in separate accounts and regions: staging and production bootstrapped, deployed and verified
side by side on the local cloud, each in its own account (the tasks name it in moto's ``x-moto-account-id``
request header) and region, and nothing of one (stacks, buckets, artifacts, roles, log lines) shows up in the
other."""

from __future__ import annotations

import pytest

from pipeline import aws, commands
from pipeline.aws import _name_account
from pipeline.config import resolve
from pipeline.errors import UserError

ACCOUNTS = {"staging": ("111111111111", "us-east-1"), "production": ("222222222222", "eu-west-1")}


def _settings(endpoint, name):
    config = {
        "environments": {env: {"account": account, "region": region} for env, (account, region) in ACCOUNTS.items()},
        "environment": name,
        "project": "acct-test",
        "verify_timeout": 60,
    }
    return resolve(config, env={"AWS_ENDPOINT_URL": endpoint})


def _client(endpoint, service, account, region):
    session = aws.new_session(region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
    session.events.register("before-sign", lambda request, **_: _name_account(request, account))
    return session.client(service, endpoint_url=endpoint)


def _stacks(endpoint, account, region):
    summaries = _client(endpoint, "cloudformation", account, region).list_stacks()["StackSummaries"]
    return {s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"}


def _keys(endpoint, account, region, bucket):
    listed = _client(endpoint, "s3", account, region).list_objects_v2(Bucket=bucket)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_two_environments_in_two_accounts_and_regions_share_nothing(endpoint):
    found = {}
    for name in ACCOUNTS:
        settings = _settings(endpoint, name)
        commands.bootstrap(settings, "octo/app", [name], "main", repo_id="7")  # on the local target: a rehearsal
        outputs = commands.deploy(settings).outputs
        proof = commands.verify(settings, keep=True)
        found[name] = (settings, outputs, proof)
    (stg, stg_out, stg_proof), (prd, prd_out, prd_proof) = found["staging"], found["production"]
    (a, region_a), (b, region_b) = ACCOUNTS["staging"], ACCOUNTS["production"]

    assert stg_out["FunctionArn"].split(":")[3:5] == [region_a, a]
    assert prd_out["FunctionArn"].split(":")[3:5] == [region_b, b]
    # Stacks: each only in its own account and region.
    stacks_a, stacks_b = _stacks(endpoint, a, region_a), _stacks(endpoint, b, region_b)
    assert {stg.stack_name, stg.bootstrap_stack, f"{stg.bootstrap_stack}-staging"} <= stacks_a
    assert {prd.stack_name, prd.bootstrap_stack, f"{prd.bootstrap_stack}-production"} <= stacks_b
    assert prd.stack_name not in stacks_a and f"{stg.bootstrap_stack}-production" not in stacks_a
    assert stg.stack_name not in stacks_b and f"{prd.bootstrap_stack}-staging" not in stacks_b
    assert _stacks(endpoint, a, region_b) == set() and _stacks(endpoint, b, region_a) == set()
    # Buckets (uploads and artifacts) and artifacts: each account holds its own only.
    buckets_a = {x["Name"] for x in _client(endpoint, "s3", a, region_a).list_buckets()["Buckets"]}
    buckets_b = {x["Name"] for x in _client(endpoint, "s3", b, region_b).list_buckets()["Buckets"]}
    assert {stg_out["BucketName"], stg.local_artifact_bucket} <= buckets_a
    assert {prd_out["BucketName"], prd.local_artifact_bucket} <= buckets_b
    assert not buckets_a & buckets_b
    artifacts_a = _keys(endpoint, a, region_a, stg.local_artifact_bucket)
    artifacts_b = _keys(endpoint, b, region_b, prd.local_artifact_bucket)
    assert artifacts_a and {k.split("/")[1] for k in artifacts_a} == {"staging"}  # artifacts/, templates/
    assert artifacts_b and {k.split("/")[1] for k in artifacts_b} == {"production"}
    # Roles: the function's role exists in its own account only.
    roles_a = {r["RoleName"] for r in _client(endpoint, "iam", a, region_a).list_roles()["Roles"]}
    roles_b = {r["RoleName"] for r in _client(endpoint, "iam", b, region_b).list_roles()["Roles"]}
    assert roles_a and roles_b and not roles_a & roles_b
    assert any("staging" in r for r in roles_a) and not any("production" in r for r in roles_a)
    assert any("production" in r for r in roles_b) and not any("staging" in r for r in roles_b)
    # Verify markers (kept): each is in its own uploads bucket, and logged in its own log group only.
    for (own, other), (account, region), (o_account, o_region) in (
        ((stg_out, prd_out), ACCOUNTS["staging"], ACCOUNTS["production"]),
        ((prd_out, stg_out), ACCOUNTS["production"], ACCOUNTS["staging"]),
    ):
        markers = [k for k in _keys(endpoint, account, region, own["BucketName"]) if k.startswith("verify/")]
        assert len(markers) == 1
        logs, other_logs = _client(endpoint, "logs", account, region), _client(endpoint, "logs", o_account, o_region)
        pattern = f'"{markers[0]}"'
        assert logs.filter_log_events(logGroupName=own["LogGroupName"], filterPattern=pattern)["events"]
        assert other_logs.filter_log_events(logGroupName=other["LogGroupName"], filterPattern=pattern)["events"] == []
    assert stg_proof.request_id != prd_proof.request_id


def test_credentials_for_another_account_are_refused_before_anything_changes(endpoint):
    settings = _settings(endpoint, "staging")
    with pytest.raises(UserError, match=r"lives in account 111111111111 .* credentials are for account 999999999999"):
        commands.check_account(settings, "999999999999")


def test_an_account_id_must_have_twelve_digits(endpoint):
    with pytest.raises(UserError, match="not a 12-digit AWS account id"):
        resolve({"environments": {"x": {"account": 12345}}, "environment": "x"}, env={})
