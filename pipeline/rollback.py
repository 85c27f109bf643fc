"""The last verified version of each environment, and putting it back when a new version fails verify.

After every successful verify, the stack's deployed template, parameters and artifact are recorded as one JSON
object beside the artifacts (``artifacts/<env>/last-verified.json`` in the artifact bucket, with the template at
``templates/<env>/<sha256>.yaml``): the deploy role may write both prefixes, and the next job reads them back. A
rollback redeploys exactly that template, those parameters and that artifact through the normal change-set
path, then verifies it. Nothing here prints; the caller reports.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import botocore.exceptions

from pipeline import cfn, store, template
from pipeline.errors import UserError

RECORD_NAME = "last-verified.json"


@dataclass(frozen=True)
class Verified:
    """One environment's last verified version: what the stack ran when verify last passed."""

    artifact_sha256: str
    template_key: str
    parameters: dict[str, str]
    verified_at: str  # ISO 8601, UTC
    commit: str = ""  # GITHUB_SHA when verified in Actions

    @property
    def label(self) -> str:
        commit = f", commit {self.commit[:12]}" if self.commit else ""
        return f"artifact {self.artifact_sha256[:12]} (verified {self.verified_at}{commit})"


def record_key(artifact_key_prefix: str) -> str:
    return f"{artifact_key_prefix}/{RECORD_NAME}"


def template_key(template_key_prefix: str, body: str) -> str:
    return f"{template_key_prefix}/{hashlib.sha256(body.encode()).hexdigest()}.yaml"


def read(s3, bucket: str, artifact_key_prefix: str) -> Verified | None:
    """The recorded version, or None when this environment has never been verified."""
    try:
        body = s3.get_object(Bucket=bucket, Key=record_key(artifact_key_prefix))["Body"].read()
    except botocore.exceptions.ClientError as exc:
        if cfn.error_code(exc) in ("NoSuchKey", "404", "NotFound"):
            return None
        raise
    try:
        data = json.loads(body)
        fields = {k: data[k] for k in ("artifact_sha256", "template_key", "parameters", "verified_at")}
        return Verified(**fields, commit=str(data.get("commit", "")))
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(
            f"s3://{bucket}/{record_key(artifact_key_prefix)} (the last verified version) is not a record this "
            f"pipeline wrote ({exc}). Delete it, then deploy and verify again to record a good version."
        ) from exc


def record(cfn_client, s3, bucket: str, stack_name: str, prefixes: tuple[str, str], sha256: str) -> Verified:
    """Record what the stack runs now (its original template and its parameters) as verified."""
    artifact_prefix, template_prefix = prefixes
    stack = cfn.describe_stack(cfn_client, stack_name) or {}
    body = cfn_client.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
    if not isinstance(body, str):  # boto3 parses JSON templates into a dict
        body = json.dumps(body, indent=2)
    key = template_key(template_prefix, body)
    store.put_once(s3, bucket, key, body.encode(), "application/x-yaml")  # write-once, like every template
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    verified = Verified(
        artifact_sha256=sha256,
        template_key=key,
        parameters=parameters,
        verified_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        commit=os.environ.get("GITHUB_SHA", ""),
    )
    s3.put_object(
        Bucket=bucket,
        Key=record_key(artifact_prefix),
        Body=json.dumps(asdict(verified), indent=2, sort_keys=True).encode(),
        ContentType="application/json",
    )
    return verified


def load_template(s3, bucket: str, verified: Verified) -> template.Template:
    """The recorded template, parsed as a deploy would parse the file."""
    try:
        body = s3.get_object(Bucket=bucket, Key=verified.template_key)["Body"].read().decode()
    except botocore.exceptions.ClientError as exc:
        raise UserError(
            f"The last verified template s3://{bucket}/{verified.template_key} cannot be read "
            f"({cfn.error_code(exc)}), so there is nothing to roll back to. Fix the code and deploy again."
        ) from exc
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, Path(verified.template_key).name)
        path.write_text(body)
        return template.load(path)
