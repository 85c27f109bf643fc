"""``AWS::IAM::Role``, ``AWS::IAM::ManagedPolicy`` and ``AWS::Logs::LogGroup`` updated in place, created and
deleted completely, through the IAM and Logs backends' own methods.

AWS behaviour: editing a role's trust policy, description, session duration, inline ``Policies`` or
``ManagedPolicyArns`` updates the same role; editing a managed policy's document adds a new default version of the
same policy and re-attaches it to the listed roles/users/groups; changing a log group's ``RetentionInDays`` keeps
the group (and its events). A role is created with its ``ManagedPolicyArns`` attached; deleting a role first
detaches its managed policies; deleting a managed policy detaches it everywhere. (moto's hooks update only a
role's description, have no update for the other two, ignore ManagedPolicyArns and never delete a policy.)
"""

from __future__ import annotations

import json
from typing import Any

from moto.iam.models import iam_backends
from moto.logs.models import logs_backends
from moto.utilities.utils import get_partition

from localcloud.cloudformation.resources.base import ProgressEvent, ResourceRequest, success
from localcloud.cloudformation.resources.generic import MotoProvider


def _iam(request: ResourceRequest) -> Any:
    return iam_backends[request.account_id][get_partition(request.region)]


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


class RoleProvider(MotoProvider):
    def create(self, request: ResourceRequest, name: str | None = None) -> ProgressEvent:
        answer = super().create(request, name)
        role = self.stored_by(request, answer.physical_id)
        _sync_managed_policies(role, request.properties.get("ManagedPolicyArns") or [], _iam(request))
        # moto's hook stores inline policy documents as dicts, which GetRolePolicy answers as Python repr
        _sync_inline_policies(role, request.properties.get("Policies") or [])
        return answer

    def stored_by(self, request: ResourceRequest, physical_id: str | None) -> Any:
        return _iam(request).get_role(physical_id)

    def update(self, request: ResourceRequest) -> ProgressEvent:
        props = request.properties
        role = self.stored_by(request, request.physical_id)
        role.assume_role_policy_document = _json(props["AssumeRolePolicyDocument"])
        role.description = props.get("Description", "")
        role.max_session_duration = int(props.get("MaxSessionDuration", 3600))
        role.permissions_boundary_arn = props.get("PermissionsBoundary")
        _sync_inline_policies(role, props.get("Policies") or [])
        _sync_managed_policies(role, props.get("ManagedPolicyArns") or [], _iam(request))
        return self.answer(request, role)

    def delete(self, request: ResourceRequest) -> ProgressEvent:
        backend = _iam(request)
        role = next((r for r in backend.roles.values() if r.name == request.physical_id), None)
        if role is not None:
            _sync_managed_policies(role, [], backend)
        return super().delete(request)


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


def _attach(policy: Any, props: dict[str, Any], backend: Any) -> None:
    for role in props.get("Roles") or []:
        backend.attach_role_policy(policy.arn, role)
    for user in props.get("Users") or []:
        backend.attach_user_policy(policy.arn, user)
    for group in props.get("Groups") or []:
        backend.attach_group_policy(policy.arn, group)


class ManagedPolicyProvider(MotoProvider):
    def update(self, request: ResourceRequest) -> ProgressEvent:
        backend = _iam(request)
        policy = backend.get_policy(request.physical_id)
        for version in [v for v in policy.versions if not v.is_default]:
            backend.delete_policy_version(policy.arn, version.version_id)  # stay under IAM's 5-version limit
        backend.create_policy_version(policy.arn, _json(request.properties["PolicyDocument"]), True)
        _detach_everywhere(policy, backend)
        _attach(policy, request.properties, backend)
        return self.answer(request, policy)

    def delete(self, request: ResourceRequest) -> ProgressEvent:
        backend = _iam(request)
        policy = backend.get_policy(request.physical_id)
        _detach_everywhere(policy, backend)
        backend.delete_policy(policy.arn)
        self.forget(request)
        return success(request.physical_id)


class LogGroupProvider(MotoProvider):
    def update(self, request: ResourceRequest) -> ProgressEvent:
        backend = logs_backends[request.account_id][request.region]
        retention = request.properties.get("RetentionInDays")
        if retention is None:
            backend.delete_retention_policy(request.physical_id)
        else:
            backend.put_retention_policy(request.physical_id, int(retention))
        return self.answer(request, backend.groups[request.physical_id])
