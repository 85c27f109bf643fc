"""In-place updates (and clean deletes) for ``AWS::IAM::Role``, ``AWS::IAM::ManagedPolicy`` and ``AWS::Logs::LogGroup``.

AWS behaviour: editing a role's trust policy, description, session duration, inline ``Policies`` or
``ManagedPolicyArns`` updates the same role; editing a managed policy's document adds a new default version of the
same policy and re-attaches it to the listed roles/users/groups; changing a log group's ``RetentionInDays`` keeps
the group (and its events). Deleting a role first detaches its managed policies; deleting a managed policy
detaches it everywhere.

moto gap: moto's Role update only sets the description (and reads MaxSessionDuration from "RoleDescription"),
its Role create ignores ManagedPolicyArns and its delete fails while one is attached; ManagedPolicy and LogGroup
have no update at all, so a change would try to create a second resource with the same name; a ManagedPolicy is
never deleted.

Patches: ``Role.update_from_cloudformation_json``, wraps ``Role.create_from_cloudformation_json`` and
``Role.delete_from_cloudformation_json``; adds ``ManagedPolicy.update_from_cloudformation_json`` /
``ManagedPolicy.delete`` and ``LogGroup.update_from_cloudformation_json``.
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.models import ManagedPolicy, Role, iam_backends
from moto.logs.models import LogGroup, logs_backends
from moto.utilities.utils import get_partition


def _iam(account_id: str, region: str) -> Any:
    return iam_backends[account_id][get_partition(region)]


def _json(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _sync_managed_policies(role: Any, wanted: list[str], backend: Any) -> None:
    for arn in set(role.managed_policies) - set(wanted):
        backend.detach_role_policy(arn, role.name)
    for arn in wanted:
        if arn not in role.managed_policies:
            backend.attach_role_policy(arn, role.name)


def _sync_inline_policies(role: Any, policies: list[dict[str, Any]]) -> None:
    wanted = {p["PolicyName"]: _json(p["PolicyDocument"]) for p in policies}
    for name in set(role.policies) - set(wanted):
        role.delete_policy(name)
    for name, document in wanted.items():
        role.put_policy(name, document)


def _role_create(original: Any) -> Any:
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kw):  # type: ignore[no-untyped-def]
        role = original.__func__(cls, resource_name, cloudformation_json, account_id, region_name, **kw)
        arns = (cloudformation_json.get("Properties") or {}).get("ManagedPolicyArns") or []
        _sync_managed_policies(role, arns, _iam(account_id, region_name))
        return role

    return classmethod(create_from_cloudformation_json)


def role_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
    """Replacement for ``Role.update_from_cloudformation_json``."""
    props = cloudformation_json["Properties"]
    role = original_resource
    role.assume_role_policy_document = _json(props["AssumeRolePolicyDocument"])
    role.description = props.get("Description", "")
    role.max_session_duration = int(props.get("MaxSessionDuration", 3600))
    _sync_inline_policies(role, props.get("Policies") or [])
    _sync_managed_policies(role, props.get("ManagedPolicyArns") or [], _iam(account_id, region_name))
    return role


def _role_delete(original: Any) -> Any:
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        backend = _iam(account_id, region_name)
        role = next((r for r in backend.roles.values() if r.name == resource_name), None)
        if role is not None:
            _sync_managed_policies(role, [], backend)
        return original.__func__(cls, resource_name, cloudformation_json, account_id, region_name)

    return classmethod(delete_from_cloudformation_json)


def _policy_attachments(policy: Any, props: dict[str, Any], backend: Any) -> None:
    for role in props.get("Roles") or []:
        backend.attach_role_policy(policy.arn, role)
    for user in props.get("Users") or []:
        backend.attach_user_policy(policy.arn, user)
    for group in props.get("Groups") or []:
        backend.attach_group_policy(policy.arn, group)


def _detach_everywhere(policy: Any, backend: Any) -> None:
    for role in list(backend.roles.values()):
        if policy.arn in role.managed_policies:
            backend.detach_role_policy(policy.arn, role.name)
    for user in list(backend.users.values()):
        if policy.arn in user.managed_policies:
            backend.detach_user_policy(policy.arn, user.name)
    for group in list(backend.groups.values()):
        if policy.arn in group.managed_policies:
            backend.detach_group_policy(policy.arn, group.name)


def policy_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
    """``ManagedPolicy.update_from_cloudformation_json``: a new default version, attachments re-synced."""
    props = cloudformation_json["Properties"]
    backend = _iam(account_id, region_name)
    policy = original_resource
    for version in [v for v in policy.versions if not v.is_default]:
        backend.delete_policy_version(policy.arn, version.version_id)  # keep under IAM's 5-version limit
    backend.create_policy_version(policy.arn, _json(props["PolicyDocument"]), True)
    _detach_everywhere(policy, backend)
    _policy_attachments(policy, props, backend)
    return policy


def policy_delete(self: Any, account_id: str, region: str) -> None:
    """``ManagedPolicy.delete``: detach, then delete."""
    backend = _iam(account_id, region)
    _detach_everywhere(self, backend)
    backend.delete_policy(self.arn)


def log_group_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
    """``LogGroup.update_from_cloudformation_json``: retention changes in place."""
    retention = (cloudformation_json.get("Properties") or {}).get("RetentionInDays")
    backend = logs_backends[account_id][region_name]
    if retention is None:
        backend.delete_retention_policy(original_resource.name)
    else:
        backend.put_retention_policy(original_resource.name, int(retention))
    return original_resource


def apply() -> None:
    Role.create_from_cloudformation_json = _role_create(Role.create_from_cloudformation_json)
    Role.update_from_cloudformation_json = classmethod(role_update)
    Role.delete_from_cloudformation_json = _role_delete(Role.delete_from_cloudformation_json)
    ManagedPolicy.update_from_cloudformation_json = classmethod(policy_update)
    ManagedPolicy.delete = policy_delete
    LogGroup.update_from_cloudformation_json = classmethod(log_group_update)
