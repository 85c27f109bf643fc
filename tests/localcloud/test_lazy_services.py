"""Start fast: a local cloud imports only the services it serves (S3, Lambda, Logs and what their models need),
never the rest of moto (issue 7 item 7: 28 service models this stack never uses were most of a 1.36 s start-up).
moto's server dispatcher builds each service's app on its first request."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNUSED = ("moto.ec2", "moto.autoscaling", "moto.apigateway", "moto.rds", "moto.cloudformation.parsing")


PROBE = """
import json, sys, boto3, localcloud
unused = {unused!r}
found = {{}}
with localcloud.start() as endpoint:
    found["start"] = [m for m in unused if m in sys.modules]
    options = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    boto3.client("s3", **options).list_buckets()
    boto3.client("lambda", **options).list_functions()
    boto3.client("logs", **options).describe_log_groups()
    found["served"] = [m for m in unused if m in sys.modules]
print(json.dumps(found))
"""


def test_start_and_the_stacks_services_import_no_service_they_do_not_use():
    probe = PROBE.format(unused=UNUSED)
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"start": [], "served": []}
