"""Template parameter constraints are enforced, as CloudFormation does before it changes anything.

AWS behaviour: CreateStack, UpdateStack and CreateChangeSet fail with ValidationError when a parameter value
breaks its declaration: ``AllowedPattern`` (the whole value must match), ``AllowedValues``, ``MinLength`` /
``MaxLength``, ``MinValue`` / ``MaxValue``, or a ``Number`` that isn't one. List parameters are checked item by
item. The message is ``Parameter 'X' failed to satisfy constraint: <ConstraintDescription>`` when the template
gives a description, else one naming the rule (e.g. ``Parameter 'X' must match pattern ^[a-z]+$``).

moto gap (5.2.5, ``moto.cloudformation.parsing.ResourceMap.load_parameters``): constraints are ignored, so a
value AWS would refuse deploys locally, and the mismatch is only found on AWS.

Patches: ``ResourceMap.load_parameters`` (wrapped: validates after moto resolves the values).
"""

from __future__ import annotations

import re
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _string_problem(value: str, slot: dict[str, Any]) -> str | None:
    pattern = slot.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        return f"must match pattern {pattern}"
    if "MinLength" in slot and len(value) < int(slot["MinLength"]):
        return f"must contain at least {slot['MinLength']} characters"
    if "MaxLength" in slot and len(value) > int(slot["MaxLength"]):
        return f"must contain at most {slot['MaxLength']} characters"
    return None


def _number_problem(value: Any, slot: dict[str, Any]) -> str | None:
    number = _number(value)
    if number is None:
        return "must be a number"
    if "MinValue" in slot and number < float(slot["MinValue"]):
        return f"must be a number not less than {slot['MinValue']}"
    if "MaxValue" in slot and number > float(slot["MaxValue"]):
        return f"must be a number not greater than {slot['MaxValue']}"
    return None


def _allowed(value: Any, slot: dict[str, Any], numeric: bool) -> bool:
    allowed = slot.get("AllowedValues")
    if allowed is None:
        return True
    if numeric:
        return _number(value) in {_number(a) for a in allowed}
    return str(value) in {str(a).lower() if isinstance(a, bool) else str(a) for a in allowed}


def problem(value: Any, slot: dict[str, Any]) -> str | None:
    """What is wrong with ``value`` for this parameter declaration, or None."""
    kind = slot.get("Type", "String")
    if kind.startswith("AWS::SSM::") or value is None:
        return None
    numeric = kind in ("Number", "List<Number>")
    items = value if isinstance(value, list) else [value]
    for item in items:
        found = _number_problem(item, slot) if numeric else _string_problem(str(item), slot)
        if found is None and not _allowed(item, slot, numeric):
            found = "must be one of AllowedValues"
        if found:
            return found
    return None


def _check(slots: dict[str, Any], values: dict[str, Any]) -> None:
    for name, slot in slots.items():
        value = values.get(name)
        if isinstance(value, str) and slot.get("Type", "String") in ("CommaDelimitedList", "List<Number>"):
            value = value.split(",")
        found = problem(value, slot)
        if found:
            described = slot.get("ConstraintDescription")
            detail = f"failed to satisfy constraint: {described}" if described else found
            raise ValidationError(message=f"Parameter '{name}' {detail}")


def _validated(original: Any) -> Any:
    def load_parameters(self: Any) -> None:
        slots = self._template.get("Parameters") or {}
        # Checked before moto parses them: moto's own number parsing crashes (HTTP 500) on a non-number.
        _check(slots, {k: v for k, v in self.input_parameters.items() if k in slots})
        original(self)
        _check(slots, self.resolved_parameters)

    return load_parameters


def apply() -> None:
    parsing.ResourceMap.load_parameters = _validated(parsing.ResourceMap.load_parameters)
