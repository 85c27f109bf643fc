"""Start fast: a local cloud imports only the services it serves (S3, Lambda, Logs and what their models need),
never the rest of moto (issue 7 item 7: 28 service models this stack never uses were most of a 1.36 s start-up).
moto's server dispatcher builds each service's app on its first request. The first CloudFormation request does not
import moto's CloudFormation parser either: it imports every service moto has, seconds of work."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNUSED = ("moto.ec2", "moto.autoscaling", "moto.apigateway", "moto.rds", "moto.cloudformation.parsing")


# An unnamed queue (a generated name) and Fn::GetAtt (moto's get_cfn_attribute imports moto.cloudformation's own
# exceptions module).
TEMPLATE = """{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
               "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Queue", "Arn"]}}}}"""
# What a first S3 request must not import (localcloud.lazy_packages' deferrals, and localcloud.s3_app's Flask-free
# S3): moto's decorator API, boto3's resource layer, botocore's client layer, moto's Lambda and Logs; Flask.
HEAVY = (
    "responses",
    "moto.core.models",
    "moto.cloudformation.models",
    "boto3.session",
    "s3transfer",
    "moto.awslambda.models",
    "moto.logs.models",
    "botocore.client",
    "botocore.waiter",
    "requests.sessions",
)
FLASK = ("flask", "jinja2", "click", "flask_cors", "moto.moto_server.werkzeug_app")  # fmt: skip
# One fresh process for every check of what a start imports: each step reads sys.modules where its test says, in
# the order a user's first requests would come (S3 first; then an error, moto's own API, Lambda, the stack).
PROBE = """
import gc, json, sys, urllib.error, urllib.request, localcloud
TEMPLATE, UNUSED, HEAVY, FLASK = {template!r}, {unused!r}, {heavy!r}, {flask!r}
found = {{}}
with localcloud.start() as endpoint:
    found["start"] = [m for m in UNUSED if m in sys.modules]
    found["gc running"] = [gc.isenabled(), gc.get_freeze_count() > 0]
    urllib.request.urlopen(endpoint + "/", timeout=30).read()  # S3 ListBuckets
    found["s3 served"] = [m for m in HEAVY + FLASK if m in sys.modules]
    import moto.core.models  # reads botocore.client, which botocore.session's (deferred) import binds
    try:  # an error answer names its code from botocore's service list (botocore.session.Session)
        urllib.request.urlopen(endpoint + "/no-such-bucket", timeout=30)
    except urllib.error.HTTPError as error:
        found["error"] = [error.code, b"<Code>NoSuchBucket</Code>" in error.read()]
    from moto import mock_aws
    from moto.core import patch_client
    import boto3
    found["real"] = [callable(mock_aws), callable(patch_client), "mock_aws" in vars(sys.modules["moto"]),
                     type(boto3.Session()).__module__]
    found["flask before lambda"] = [m for m in FLASK if m in sys.modules]
    options = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    found["lambda"] = boto3.client("lambda", **options).list_functions()["Functions"]
    found["flask after lambda"] = "flask" in sys.modules
    from moto.awslambda.models import LambdaFunction
    from localcloud.fixes import lambda_invoke
    found["patched"] = LambdaFunction.invoke.__module__ == lambda_invoke.__name__
    boto3.client("s3", **options).list_buckets()
    boto3.client("logs", **options).describe_log_groups()
    cloudformation = boto3.client("cloudformation", **options)
    cloudformation.create_stack(StackName="lazy", TemplateBody=TEMPLATE)
    cloudformation.get_waiter("stack_create_complete").wait(StackName="lazy", WaiterConfig={{"Delay": 0.05}})
    outputs = cloudformation.describe_stacks(StackName="lazy")["Stacks"][0]["Outputs"]
    found["queue"] = outputs[0]["OutputValue"].startswith("arn:aws:sqs:us-east-1:")
    found["served"] = [m for m in UNUSED if m in sys.modules]
found["gc stopped"] = [gc.isenabled(), gc.get_freeze_count()]
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def fresh() -> dict:
    """What the probe found, run once for this module's tests (a local cloud start is ~1 s of a process's CPU)."""
    probe = PROBE.format(template=TEMPLATE, unused=UNUSED, heavy=HEAVY, flask=FLASK)
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_start_and_the_stacks_services_import_no_service_they_do_not_use(fresh):
    assert [fresh["start"], fresh["served"], fresh["queue"]] == [[], [], True]


def test_a_local_cloud_serves_s3_with_only_what_s3_needs_and_the_rest_works_when_asked_for(fresh):
    """A first S3 request imports neither moto's decorator API (``responses``, ``moto.core.models``), boto3's
    resource layer, botocore's client layer, moto's Lambda or Logs, nor Flask; an error answer, moto's decorator
    module, ``from moto import mock_aws`` and ``boto3.Session`` afterwards are the real ones, and the first Lambda
    request loads Lambda with its fixes installed. (The deferred fixes' targets are checked once per moto install
    and stamped; the probe starts from a stamped checkout.) From tests/localcloud/test_lazy_packages.py."""
    from localcloud import fixes, patches

    assert patches.deferred_problems(tuple(p for p in patches.PATCHES if p.fix in fixes.DEFERRED)) == []
    assert fresh["s3 served"] == []
    assert [fresh["error"], fresh["real"], fresh["lambda"], fresh["patched"]] == [
        [404, True],
        [True, True, True, "boto3.session"],
        [],
        True,
    ]


def test_a_start_and_s3_requests_import_no_flask_and_other_services_still_get_motos_apps(fresh):
    """``localcloud.s3_app`` serves S3 without Flask; the first request for another service (Lambda's
    ListFunctions) is served by moto's Flask app, which it then imports. From tests/localcloud/test_s3_app.py."""
    assert [m for m in FLASK if m in fresh["s3 served"]] == []
    assert fresh["flask before lambda"] == []
    assert [fresh["lambda"], fresh["flask after lambda"]] == [[], True]


def motos_function(module: str, name: str) -> Callable:
    """moto's own ``module.name``, compiled from its installed source, with the names it reads imported as that
    module imports them, but without running the module (``parsing`` imports every service moto has: ~1.1 s of CPU
    in a process whose local cloud defers moto.cloudformation's ``__init__``)."""
    path = Path(importlib.util.find_spec("moto").origin).parent.joinpath(*module.split(".")[1:]).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    (function,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    used = {n.id for n in ast.walk(function) if isinstance(n, ast.Name)}
    namespace: dict = {"__name__": module}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            source = importlib.util.resolve_name("." * node.level + (node.module or ""), module.rpartition(".")[0])
            for alias in node.names:
                if (alias.asname or alias.name) in used:
                    namespace[alias.asname or alias.name] = getattr(importlib.import_module(source), alias.name)
    exec(compile(ast.Module(body=[function], type_ignores=[]), str(path), "exec"), namespace)
    return namespace[name]


@pytest.mark.parametrize(
    "resource_type",
    ["AWS::S3::Bucket", "AWS::IAM::Policy", "AWS::ElasticLoadBalancingV2::TargetGroup", "AWS::SQS::Queue"],
)
def test_generated_names_are_the_ones_moto_gives(resource_type):
    """The engine's name generator is moto's ``parsing.generate_resource_name`` without importing ``parsing``."""
    from moto.moto_api._internal import mock_random  # the random source of moto's names

    from localcloud.cloudformation.resources import generic

    theirs_function = motos_function("moto.cloudformation.parsing", "generate_resource_name")
    try:
        for seed, (stack, logical) in enumerate([("a-stack-name-long-enough-to-be-cut-" * 2, "Logical"), ("s", "L")]):
            mock_random.seed(seed)
            theirs = theirs_function(resource_type, stack, logical)
            mock_random.seed(seed)
            assert generic.generate_resource_name(resource_type, stack, logical) == theirs
    finally:
        mock_random.seed()  # random again for the tests that share this process


def test_start_up_objects_are_frozen_for_the_collector_while_it_runs_and_released_at_stop(fresh):
    """The start-up's objects are kept out of the cyclic collector's passes (gc.freeze) while the local cloud runs;
    the collector stays on, and stopping gives them back. (In the probe's process: a second local cloud in a test
    process would replace the session's active Lambda runtime.)"""
    assert [fresh["gc running"], fresh["gc stopped"]] == [[True, True], [True, 0]]
