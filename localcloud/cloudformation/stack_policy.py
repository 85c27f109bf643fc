"""Stack policies: which update actions a stack update may take on which resources.

AWS behaviour (User Guide, "Prevent updates to stack resources"):
- A stack has at most one policy, a JSON document of Statements with Effect (Allow | Deny), Action
  (``Update:Modify``, ``Update:Replace``, ``Update:Delete`` or ``Update:*``), Principal (only ``*``), Resource or
  NotResource (``*`` or ``LogicalResourceId/<id>``, wildcards allowed) and an optional Condition on the
  ``ResourceType`` (StringEquals / StringLike).
- "After you set a stack policy, all of the resources in the stack are protected by default": an update action
  needs an Allow, and an explicit Deny overrides every Allow. A policy applies only during stack updates.
- A resource the policy protects fails the update: its UPDATE_FAILED event says "Action denied by stack policy:
  Statement [#1] does not allow [Update:Replace] for resource [LogicalResourceId/DB]" for an explicit Deny, or
  "Action not allowed by stack policy: ..." when no statement allows it (the two prefixes localstack's
  AWS-validated tests/aws/services/cloudformation/api/test_stack_policies.py looks for in the events).
- A policy that is not JSON, or whose statements break these rules, is refused with ValidationError "Error
  validating stack policy: Invalid stack policy"; StackPolicyBody with StackPolicyURL with "You cannot specify both
  StackPolicyURL and StackPolicyBody" (recorded in localstack's test_stack_policies.snapshot.json). An empty policy
  (``{}``) leaves every resource unprotected (GetStackPolicy then answers ``{}``, as recorded there).
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

from localcloud.cloudformation.errors import ValidationError

ACTIONS = ("Update:Modify", "Update:Replace", "Update:Delete")
INVALID = "Error validating stack policy: Invalid stack policy"
BOTH = "You cannot specify both StackPolicyURL and StackPolicyBody"


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _valid_statement(statement: Any) -> bool:
    if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
        return False
    actions = _listed(statement.get("Action", statement.get("NotAction")))
    if not actions or not all(a == "Update:*" or a in ACTIONS for a in actions):
        return False
    if statement.get("Principal") != "*":
        return False
    return ("Resource" in statement) != ("NotResource" in statement)


def parse(text: str) -> dict[str, Any]:
    """The policy document, or ValidationError as AWS answers an invalid one."""
    try:
        document = json.loads(text)
    except ValueError:
        raise ValidationError(INVALID) from None
    statements = document.get("Statement", []) if isinstance(document, dict) else None
    if statements is None or not all(_valid_statement(s) for s in _listed(statements)):
        raise ValidationError(INVALID)
    return document


def body_from(params: dict[str, Any], body_key: str, url_key: str, read_url: Any) -> str | None:
    """The policy text a request gives inline or by URL (``read_url(url) -> text``), validated."""
    if params.get(body_key) and params.get(url_key):
        raise ValidationError(BOTH)
    text = params.get(body_key) or (read_url(params[url_key]) if params.get(url_key) else None)
    if text is not None:
        parse(text)
    return text


def _matches(statement: dict[str, Any], action: str, logical_id: str, resource_type: str) -> bool:
    actions = _listed(statement.get("Action", statement.get("NotAction")))
    hit = any(fnmatch.fnmatchcase(action, a) for a in actions)
    if ("Action" in statement) != hit:
        return False
    patterns = _listed(statement.get("Resource", statement.get("NotResource")))
    named = any(p == "*" or fnmatch.fnmatchcase(f"LogicalResourceId/{logical_id}", p) for p in patterns)
    if ("Resource" in statement) != named:
        return False
    condition = statement.get("Condition") or {}
    for operator, test in (("StringEquals", str.__eq__), ("StringLike", fnmatch.fnmatchcase)):
        wanted = _listed((condition.get(operator) or {}).get("ResourceType", []))
        if wanted and not any(test(resource_type, w) for w in wanted):
            return False
    return True


def refusal(text: str | None, action: str, logical_id: str, resource_type: str) -> str | None:
    """Why the policy ``text`` stops ``action`` on the resource, or None when it may go ahead."""
    if not text:
        return None
    statements = _listed(parse(text).get("Statement", []))
    if not statements:
        return None
    target = f"[{action}] for resource [LogicalResourceId/{logical_id}]"
    allowed = False
    for number, statement in enumerate(statements, start=1):
        if _matches(statement, action, logical_id, resource_type):
            if statement["Effect"] == "Deny":
                return f"Action denied by stack policy: Statement [#{number}] does not allow {target}"
            allowed = True
    return None if allowed else f"Action not allowed by stack policy: No statement allows {target}"
