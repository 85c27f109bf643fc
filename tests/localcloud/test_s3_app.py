"""S3 without Flask (``localcloud.s3_app``): the requests it takes are the ones moto's dispatcher gives S3, and its
answers are the ones moto's Flask app for S3 gives, header for header. Both are checked in one process (with the
fixes a start applies, no local cloud running); that a start and S3 requests import no Flask is in
test_lazy_services.py's fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SIGNED = "AWS4-HMAC-SHA256 Credential=a/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"
# (method, path, headers, body): what S3 clients send, CORS preflights, errors, odd paths.
REQUESTS = [
    ("PUT", "/diff-bucket", {}, b""),
    ("GET", "/", {"unsigned": ""}, b""),
    ("GET", "/", {"Origin": "https://example.com"}, b""),
    ("GET", "/", {"Authorization": SIGNED.format(region="eu-west-1", service="s3")}, b""),
    ("PUT", "/diff-bucket/a_key.txt", {"x-amz-meta-colour": "blue", "Content-Type": "text/plain"}, b"hello"),
    ("HEAD", "/diff-bucket/a_key.txt", {}, b""),
    ("GET", "/diff-bucket/a_key.txt", {"Origin": "http://localhost:3000"}, b""),
    ("GET", "/diff-bucket/a_key.txt", {"Range": "bytes=1-2"}, b""),
    ("GET", "/diff-bucket?list-type=2", {}, b""),
    ("GET", "/diff-bucket//double//slash", {}, b""),
    ("GET", "/no-such-bucket/key", {}, b""),
    ("HEAD", "/no-such-bucket", {}, b""),
    ("OPTIONS", "/diff-bucket/a_key.txt", {"Origin": "https://example.com", "Access-Control-Request-Method": "PUT",
                                            "Access-Control-Request-Headers": "x-amz-date, authorization,"}, b""),
    ("OPTIONS", "/diff-bucket", {"Origin": "https://example.com", "Access-Control-Request-Method": "TRACE"}, b""),
    ("GET", "/", {"Access-Control-Request-Private-Network": "true"}, b""),
    ("PUT", "/diff-bucket?cors", {}, b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>"
                                      b"GET</AllowedMethod></CORSRule></CORSConfiguration>"),
    ("GET", "/diff-bucket/a_key.txt", {"Origin": "https://example.com"}, b""),
    ("DELETE", "/diff-bucket/a_key.txt", {}, b""),
]  # fmt: skip
RANDOM = {"x-amz-request-id", "x-amzn-requestid", "x-amz-id-2", "date", "x-amz-version-id", "last-modified"}

PROBE = """
import json, re, sys
from localcloud import fixes
fixes.apply_at_start()
import botocore.session
from werkzeug.test import Client
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from localcloud.s3_app import S3App, is_plain_s3
REQUESTS, RANDOM, SIGNED, ANY_SIGNED = {requests!r}, {random!r}, {signed!r}, {any_signed!r}
found = {{}}

# answers: moto's dispatcher (its Flask app for S3) and S3App, against the same backend
theirs, ours = Client(DomainDispatcherApplication(create_backend_app)), Client(S3App())

def answer(client, method, path, headers, body):
    response = client.open(path, method=method, headers=headers, data=body)
    kept = [(k, v) for k, v in response.headers.items() if k.lower() not in RANDOM]
    return [response.status, kept, re.sub("<RequestId>[^<]*</RequestId>", "", response.get_data(as_text=True))]

found["answers"] = []
for method, path, headers, body in REQUESTS:
    headers = {{"Authorization": SIGNED, **headers}} if "unsigned" not in headers else {{}}
    a = answer(theirs, method, path, headers, body)
    b = answer(ours, method, path, headers, body)
    found["answers"].append([method, path, a == b, a if a != b else None, b if a != b else None])

# choices: which requests is_plain_s3 takes, against the service moto's dispatcher picks
SIGNED = ANY_SIGNED
dispatcher = DomainDispatcherApplication(lambda service: service)  # answers the service it would create
regions = botocore.session.get_session().get_available_regions("s3") + ["us-gov-west-1", "cn-north-1"]
signed = [SIGNED.format(region=region, service="s3") for region in regions]
environs = [{{"PATH_INFO": "/b/k", "HTTP_HOST": "127.0.0.1", "HTTP_AUTHORIZATION": auth}} for auth in signed]
environs += [
    {{"PATH_INFO": p, "HTTP_HOST": h, **extra}}
    for p in ["/", "/bucket", "/bucket/key", "/my_bucket/key", "/us-east-1_abc/.well-known/jwks.json",
              "/moto-api/reset", "/latest/meta-data/x", "/v20180820/configuration", "/favicon.ico", "/a_b_c/d"]
    for h in ["127.0.0.1:4566", "s3-control.localhost"]
    for extra in [{{}}, {{"HTTP_X_AMZ_TARGET": "AWSCognitoIdentityService.X"}},
                  {{"HTTP_AUTHORIZATION": SIGNED.format(region="us-east-1", service="lambda")}},
                  {{"HTTP_AUTHORIZATION": SIGNED.format(region="us-east-1", service="S3")}},
                  {{"HTTP_AUTHORIZATION": "AWS ak:signature"}}]
]
wrong = [e for e in environs if is_plain_s3(e) and dispatcher.get_application(dict(e)) != "s3"]
found["choices"] = [len(environs), sum(map(is_plain_s3, environs)), wrong]
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def probed() -> dict:
    """The probe's findings, from one process for both tests (moto's server app costs ~0.5 s of a process's CPU)."""
    probe = PROBE.format(
        requests=REQUESTS, random=RANDOM, signed=SIGNED.format(region="us-east-1", service="s3"), any_signed=SIGNED
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_s3_app_answers_every_request_as_motos_flask_app_does(probed):
    """Each request (signed for S3 unless it says "unsigned") is sent to moto's own dispatcher (its Flask app for
    S3) and to ``S3App``, against the same backend: status, headers and body are the same (but the random request
    ids and the dates)."""
    assert len(probed["answers"]) == len(REQUESTS)
    differing = [row for row in probed["answers"] if not row[2]]
    assert differing == []


def test_only_requests_moto_gives_to_s3_are_taken(probed):
    """``is_plain_s3`` says yes only where moto's ``DomainDispatcherApplication`` picks S3: signed for S3 in any
    region botocore knows, or unsigned and not for the moto API, instance metadata, S3 Control, Cognito, or
    moto's ``/<service>_<region>/`` paths."""
    total, taken, wrong = probed["choices"]
    assert wrong == [] and taken > total // 3  # and it does take the plain ones
