"""ListChangeSets lists one stack's pending change sets.

AWS behaviour: ``ListChangeSets(StackName=...)`` returns the change sets of that stack only (by name or id), and
once a change set is executed CloudFormation removes every change set of the stack, so none are listed.

moto gap (5.2.5, ``CloudFormationResponse.list_change_sets``): it ignores ``StackName`` and returns every change
set in the region, executed ones included, so a tool checking "did I leave a change set behind?" sees other
stacks' change sets.

Patches: ``CloudFormationResponse.list_change_sets``.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import responses
from moto.core.responses import ActionResult


def _belongs(change_set: Any, stack: str) -> bool:
    return stack in (change_set.stack_name, change_set.stack_id)


def list_change_sets(self: Any) -> ActionResult:
    stack = self._get_param("StackName")
    change_sets = [
        c
        for c in self.cloudformation_backend.list_change_sets()
        if _belongs(c, stack) and getattr(c, "execution_status", "") != "EXECUTE_COMPLETE"
    ]
    return ActionResult({"Summaries": change_sets})


def apply() -> None:
    responses.CloudFormationResponse.list_change_sets = list_change_sets
