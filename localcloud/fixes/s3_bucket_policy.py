"""S3 bucket policies: evaluate conditions the way AWS does, so a TLS-only policy does not deny everything.

AWS behaviour: a policy statement applies only when all of its conditions hold; a Deny that applies wins, then an
Allow. The usual hardening statement ``Deny s3:* when Bool aws:SecureTransport = false`` therefore denies plain
HTTP requests only.

moto gap (5.2.5, ``FakeBucket.get_permission`` -> ``moto.iam.access_control.IAMPolicyStatement``): conditions
with an unsupported operator such as ``Bool`` count as matched, and a statement whose conditions fail is treated
as a Deny whatever its Effect. So that one hardening statement makes every object request return 403.

This fix replaces ``FakeBucket.get_permission`` with an evaluator for the operators bucket policies commonly use.
The local cloud listens on loopback without TLS; its requests never leave the machine, so they are evaluated
with ``aws:SecureTransport = true``, which is what the same request through an AWS SDK (HTTPS) would carry.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from moto.iam.access_control import PermissionResult
from moto.s3.models import FakeBucket

# Request context of every call to the local cloud (see the module docstring).
REQUEST_CONTEXT = {"aws:securetransport": "true"}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _glob(patterns: Any, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value, str(p).replace("?", "[?]")) for p in _as_list(patterns))


def _operator_holds(operator: str, expected: Any, actual: str | None) -> bool:
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    if actual is None:
        return if_exists or operator.startswith(("StringNot", "ArnNot"))
    wanted = [str(v).lower() if operator == "Bool" else str(v) for v in _as_list(expected)]
    checks = {
        "Bool": lambda: actual.lower() in wanted,
        "StringEquals": lambda: actual in wanted,
        "StringNotEquals": lambda: actual not in wanted,
        "StringLike": lambda: _glob(wanted, actual),
        "StringNotLike": lambda: not _glob(wanted, actual),
        "ArnLike": lambda: _glob(wanted, actual),
        "ArnEquals": lambda: _glob(wanted, actual),
        "ArnNotLike": lambda: not _glob(wanted, actual),
    }
    check = checks.get(operator)
    return check() if check else False  # an operator we can't evaluate never makes a statement apply


def _conditions_hold(conditions: dict[str, dict[str, Any]]) -> bool:
    return all(
        _operator_holds(operator, expected, REQUEST_CONTEXT.get(key.lower()))
        for operator, entries in conditions.items()
        for key, expected in entries.items()
    )


def _principal_matches(principal: Any) -> bool:
    """The local cloud's caller is the account itself: it matches ``*`` and the account's own principals."""
    if principal is None or principal == "*":
        return True
    if isinstance(principal, dict):
        return any(
            value == "*" or ":root" in str(value) or str(value).isdigit()
            for value in _as_list(principal.get("AWS", []))
        )
    return False


def _statement_applies(statement: dict[str, Any], action: str, resource: str) -> bool:
    if "NotAction" in statement:
        action_matches = not _glob(statement["NotAction"], action)
    else:
        action_matches = _glob(statement.get("Action", []), action)
    if "NotResource" in statement:
        resource_matches = not _glob(statement["NotResource"], resource)
    else:
        resource_matches = _glob(statement.get("Resource", "*"), resource)
    return (
        action_matches
        and resource_matches
        and _principal_matches(statement.get("Principal"))
        and _conditions_hold(statement.get("Condition", {}))
    )


def evaluate(policy: dict[str, Any], action: str, resource: str) -> PermissionResult:
    applying = [s for s in _as_list(policy.get("Statement", [])) if _statement_applies(s, action, resource)]
    if any(s.get("Effect") == "Deny" for s in applying):
        return PermissionResult.DENIED
    if any(s.get("Effect") == "Allow" for s in applying):
        return PermissionResult.PERMITTED
    return PermissionResult.NEUTRAL


def _get_permission(self: FakeBucket, action: str, resource: str) -> PermissionResult:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    return evaluate(json.loads(self.policy), action, resource)


def apply() -> None:
    FakeBucket.get_permission = _get_permission
