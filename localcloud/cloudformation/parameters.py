"""Template parameters: the value each one takes, checked against its declaration as CloudFormation checks it.

AWS behaviour: CreateStack, UpdateStack and CreateChangeSet fail with ValidationError before anything changes when
a parameter has no value and no Default ("Parameters: [X] must have values"), when a value is given for a
parameter the template does not declare ("Parameters: [X] do not exist in the template"), or when a value breaks
its declaration: ``AllowedPattern`` (the whole value must match), ``AllowedValues``, ``MinLength`` /
``MaxLength``, ``MinValue`` / ``MaxValue``, or a ``Number`` that isn't one. List parameters are checked item by
item. The message is ``Parameter 'X' failed to satisfy constraint: <ConstraintDescription>`` when the template
gives a description, else one naming the rule (e.g. ``Parameter 'X' must match pattern ^[a-z]+$``).
``UsePreviousValue`` takes the deployed value. ``CommaDelimitedList`` and ``List<...>`` values (and defaults)
are lists.
"""

from __future__ import annotations

import re
from typing import Any

from localcloud.cloudformation.errors import ValidationError
from localcloud.cloudformation.template import as_text


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
    for item in value if isinstance(value, list) else [value]:
        found = _number_problem(item, slot) if numeric else _string_problem(str(item), slot)
        if found is None and not _allowed(item, slot, numeric):
            found = "must be one of AllowedValues"
        if found:
            return found
    return None


def is_list(slot: dict[str, Any]) -> bool:
    kind = slot.get("Type", "String")
    return kind == "CommaDelimitedList" or kind.startswith("List<")


def given_values(requested: list[dict[str, Any]], previous: dict[str, str] | None) -> dict[str, str]:
    """The request's Parameters list as name -> text, with UsePreviousValue taken from the deployed stack."""
    values: dict[str, str] = {}
    for entry in requested:
        key = entry["ParameterKey"]
        if entry.get("UsePreviousValue"):
            if previous is None or key not in previous:
                raise ValidationError(
                    f"Invalid input for parameter key {key}. "
                    "Need to specify either usePreviousValue as true or a value for the parameter"
                )
            values[key] = previous[key]
        else:
            values[key] = as_text(entry.get("ParameterValue", ""))
    return values


def effective(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    """The text value of every declared parameter (given, else its Default), checked against its declaration."""
    declared = template.get("Parameters") or {}
    unknown = [name for name in given if name not in declared]
    if unknown:
        raise ValidationError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    values = {
        name: given.get(name, as_text(slot["Default"]) if "Default" in slot else None)
        for name, slot in declared.items()
    }
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise ValidationError(f"Parameters: [{', '.join(missing)}] must have values")
    for name, slot in declared.items():
        found = problem(typed(slot, values[name]), slot)
        if found:
            described = slot.get("ConstraintDescription")
            detail = f"failed to satisfy constraint: {described}" if described else found
            raise ValidationError(f"Parameter '{name}' {detail}")
    return values  # type: ignore[return-value]


def typed(slot: dict[str, Any], text: str) -> Any:
    """The value a Ref to this parameter gives: a list for list types, else the text."""
    if is_list(slot):
        return [item.strip() for item in text.split(",")] if text else []
    return text


def for_resolution(template: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    declared = template.get("Parameters") or {}
    return {name: typed(slot, values[name]) for name, slot in declared.items()}


def described(template: dict[str, Any], values: dict[str, str]) -> list[dict[str, str]]:
    """DescribeStacks' Parameters: NoEcho values are masked."""
    declared = template.get("Parameters") or {}
    return [
        {
            "ParameterKey": name,
            "ParameterValue": "****" if str(declared[name].get("NoEcho")).lower() == "true" else value,
        }
        for name, value in values.items()
        if name in declared
    ]
