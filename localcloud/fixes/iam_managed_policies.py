"""AWS-managed policies exist, as in every AWS account, without loading all of them at start-up.

AWS behaviour: every account can attach the AWS-managed policies (``arn:aws:iam::aws:policy/...``, e.g.
``service-role/AWSLambdaBasicExecutionRole``) to roles, users and groups, and read them with GetPolicy and
GetPolicyVersion. Public templates and tools (SAM, the CDK) attach them all the time.

moto gap (5.2.5): the ~1,000 AWS-managed policies are created for every IAM backend only when
``MOTO_IAM_LOAD_MANAGED_POLICIES=true``, at a cost paid by every account at its first IAM request; otherwise
attaching one fails with NoSuchEntity "Policy ... does not exist or is not attachable."

This fix creates an AWS-managed policy in an account's backend the first time that account refers to it
(attach, get), from moto's own copy of the policies (``moto.iam.aws_managed_policies``, parsed once). Listing
with ``Scope=AWS`` shows only those referred to so far.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend

from localcloud.patches import install

AWS_POLICY_PREFIX = ":iam::aws:policy/"


@functools.cache
def _policies_by_arn_suffix() -> dict[str, tuple[str, dict[str, Any]]]:
    """``"policy/service-role/AWSLambdaBasicExecutionRole"`` -> (name, moto's data for it)."""
    return {f"policy{data['Path']}{name}": (name, data) for name, data in json.loads(aws_managed_policies_data).items()}


def ensure_aws_policy(backend: IAMBackend, policy_arn: str) -> None:
    """Create the AWS-managed policy ``policy_arn`` in this backend if it exists in AWS and not here yet."""
    if AWS_POLICY_PREFIX not in (policy_arn or "") or policy_arn in backend.managed_policies:
        return
    found = _policies_by_arn_suffix().get(policy_arn.split(":iam::aws:", 1)[1])
    if found is None:
        return  # not an AWS-managed policy: moto's own NoSuchEntity answer stands
    policy = AWSManagedPolicy.from_data(found[0], backend.account_id, backend.region_name, found[1])
    if policy.arn == policy_arn:  # the partition matches too
        backend.aws_managed_policies.append(policy)
        backend.managed_policies[policy.arn] = policy


def _referring(original: Any) -> Any:
    @functools.wraps(original)
    def method(self: IAMBackend, policy_arn: str, *args: Any, **kwargs: Any) -> Any:
        ensure_aws_policy(self, policy_arn)
        return original(self, policy_arn, *args, **kwargs)

    return method


def apply() -> None:
    for name in ("attach_role_policy", "attach_user_policy", "attach_group_policy", "get_policy", "get_policy_version"):
        install(IAMBackend, name, _referring(getattr(IAMBackend, name)))
