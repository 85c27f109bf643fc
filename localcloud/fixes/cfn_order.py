"""Template reading shared by the deploy engine and the change-set planner (no moto patches here).

AWS behaviour: CloudFormation orders resources by every dependency it can see (``DependsOn``, ``Ref``,
``Fn::GetAtt`` and ``${...}`` inside ``Fn::Sub``), creates them in that order and deletes in reverse.

moto gap: moto only follows ``DependsOn`` and creates the rest lazily, whenever something happens to reference
it, so neither the order nor the per-resource events are predictable.
"""

from __future__ import annotations

import re
from typing import Any

from moto.cloudformation.exceptions import ValidationError

_SUB_VAR = re.compile(r"\$\{([^!}][^}]*)\}")


def references(node: Any) -> set[str]:
    """Every name (resource, parameter or pseudo parameter) that ``node`` refers to."""
    found: set[str] = set()
    _collect(node, found)
    return found


def _collect(node: Any, found: set[str]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, found)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            found.add(value)
        elif key == "Fn::GetAtt":
            target = value.split(".")[0] if isinstance(value, str) else value[0]
            found.add(target)
        elif key == "Fn::Sub":
            _collect_sub(value, found)
        else:
            _collect(value, found)


def _collect_sub(value: Any, found: set[str]) -> None:
    text, local_vars = (value[0], value[1]) if isinstance(value, list) else (value, {})
    _collect(local_vars, found)
    for name in _SUB_VAR.findall(text if isinstance(text, str) else ""):
        base = name.split(".")[0].strip()
        if base not in local_vars:
            found.add(base)


def dependencies(resources: dict[str, Any], logical_id: str) -> set[str]:
    """The other resources of the template that ``logical_id`` needs first."""
    body = resources[logical_id]
    depends_on = body.get("DependsOn", [])
    names = {depends_on} if isinstance(depends_on, str) else set(depends_on)
    names |= references({k: v for k, v in body.items() if k != "DependsOn"})
    return {name for name in names if name in resources and name != logical_id}


def creation_order(resources: dict[str, Any]) -> list[str]:
    """Resources in an order where each comes after everything it depends on (template order otherwise)."""
    ordered: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = ", ".join(path[path.index(name) :])
            raise ValidationError(message=f"Circular dependency between resources: [{cycle}]")
        state[name] = "visiting"
        for dep in sorted(dependencies(resources, name), key=list(resources).index):
            visit(dep, [*path, dep])
        state[name] = "done"
        ordered.append(name)

    for name in resources:
        visit(name, [name])
    return ordered
