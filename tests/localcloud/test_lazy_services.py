"""Start fast: a local cloud imports only the services it serves (S3, Lambda, Logs and what their models need),
never the rest of moto (issue 7 item 7: 28 service models this stack never uses were most of a 1.36 s start-up).
moto's server dispatcher builds each service's app on its first request. The first CloudFormation request does not
import moto's CloudFormation parser either: it imports every service moto has, seconds of work."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNUSED = ("moto.ec2", "moto.autoscaling", "moto.apigateway", "moto.rds", "moto.cloudformation.parsing")


# An unnamed queue (a generated name) and Fn::GetAtt (moto's get_cfn_attribute imports moto.cloudformation's own
# exceptions module).
TEMPLATE = """{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
               "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}}}}"""
PROBE = """
import json, sys, boto3, localcloud
TEMPLATE = {template!r}
unused = {unused!r}
found = {{}}
with localcloud.start() as endpoint:
    found["start"] = [m for m in unused if m in sys.modules]
    options = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    boto3.client("s3", **options).list_buckets()
    boto3.client("lambda", **options).list_functions()
    boto3.client("logs", **options).describe_log_groups()
    cloudformation = boto3.client("cloudformation", **options)
    cloudformation.create_stack(StackName="lazy", TemplateBody=TEMPLATE)
    cloudformation.get_waiter("stack_create_complete").wait(StackName="lazy", WaiterConfig={{"Delay": 0.05}})
    outputs = cloudformation.describe_stacks(StackName="lazy")["Stacks"][0]["Outputs"]
    found["queue"] = outputs[0]["OutputValue"].startswith("arn:aws:sqs:us-east-1:")
    found["served"] = [m for m in unused if m in sys.modules]
print(json.dumps(found))
"""


def test_start_and_the_stacks_services_import_no_service_they_do_not_use():
    probe = PROBE.format(unused=UNUSED, template=TEMPLATE)
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"start": [], "served": [], "queue": True}


@pytest.mark.parametrize(
    "resource_type",
    ["AWS::S3::Bucket", "AWS::IAM::Policy", "AWS::ElasticLoadBalancingV2::TargetGroup", "AWS::SQS::Queue"],
)
def test_generated_names_are_the_ones_moto_gives(resource_type):
    """The engine's name generator is moto's ``parsing.generate_resource_name`` without importing ``parsing``."""
    from moto.cloudformation import parsing
    from moto.moto_api._internal import mock_random  # the random source of moto's names

    from localcloud.cloudformation.resources import generic

    try:
        for seed, (stack, logical) in enumerate([("a-stack-name-long-enough-to-be-cut-" * 2, "Logical"), ("s", "L")]):
            mock_random.seed(seed)
            theirs = parsing.generate_resource_name(resource_type, stack, logical)
            mock_random.seed(seed)
            assert generic.generate_resource_name(resource_type, stack, logical) == theirs
    finally:
        mock_random.seed()  # random again for the tests that share this process


def test_start_up_objects_are_frozen_for_the_collector_while_it_runs_and_released_at_stop():
    """The start-up's objects are kept out of the cyclic collector's passes (gc.freeze) while the local cloud runs;
    the collector stays on, and stopping gives them back. (Its own process: a second local cloud in a test process
    would replace the session's active Lambda runtime.)"""
    probe = (
        "import gc, json, localcloud\n"
        "with localcloud.start():\n"
        "    running = [gc.isenabled(), gc.get_freeze_count() > 0]\n"
        "print(json.dumps([running, [gc.isenabled(), gc.get_freeze_count()]]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [[True, True], [True, 0]]
