"""The wording of property validation failures, as CloudFormation's schema validator phrases them.

AWS's example VALIDATION_ERROR (User Guide, "Validate stack deployments"; AWS blog "pre-deployment validation on
every stack operation", 2026-06) reads ``#/NotificationConfiguration/QueueConfigurations/0: required key [Event]
not found``: a JSON pointer into the resource's Properties, then the reason. The reasons below follow the same
validator's phrasing, known from the "Properties validation failed for resource ... with message: #: extraneous
key [Foo] is not permitted" and "#/RetentionInDays: 13 is not a valid enum value" errors registry resources give.
Anything not listed keeps jsonschema's own message.
"""

from __future__ import annotations

import ast
import json
import re

from jsonschema import ValidationError

_TYPE_NAMES = {
    "object": "JSONObject",
    "array": "JSONArray",
    "string": "String",
    "integer": "Integer",
    "number": "Number",
    "boolean": "Boolean",
    "null": "Null",
}


def reasons(error: ValidationError) -> list[str]:
    """One reason per failure that ``error`` stands for (a missing or an unknown key each get their own)."""
    special = _SPECIAL.get(str(error.validator))
    if special is not None:
        return special(error)
    simple = _SIMPLE.get(str(error.validator))
    if simple is not None:
        return [simple(error.validator_value, error.instance)]
    return [error.message]


def _required(error: ValidationError) -> list[str]:
    name = ast.literal_eval(error.message.removesuffix(" is a required property"))
    return [f"required key [{name}] not found"]


def _additional(error: ValidationError) -> list[str]:
    if not isinstance(error.instance, dict):
        return [error.message]
    known = error.schema.get("properties", {})
    patterns = error.schema.get("patternProperties", {})
    extra = [key for key in error.instance if key not in known and not any(re.search(p, key) for p in patterns)]
    return [f"extraneous key [{key}] is not permitted" for key in extra] or [error.message]


def _combined(error: ValidationError) -> list[str]:
    total = len(error.validator_value)
    if error.validator == "anyOf":
        return [f"#: no subschema matched out of the total {total} subschemas"]
    if error.validator == "allOf":
        return [f"#: only {total - len(error.context)} subschema matches out of {total}"]
    failures = {sub.relative_schema_path[0] for sub in error.context if sub.relative_schema_path}
    return [f"#: {total - len(failures)} subschemas matched instead of one"]


def _type(expected, instance) -> str:
    wanted = expected if isinstance(expected, list) else [expected]
    names = " or ".join(_TYPE_NAMES.get(kind, kind) for kind in wanted)
    return f"expected type: {names}, found: {_found_type(instance)}"


def _found_type(instance) -> str:
    if isinstance(instance, bool):
        return "Boolean"
    if isinstance(instance, int):
        return "Integer"
    if isinstance(instance, float):
        return "Number"
    if isinstance(instance, dict):
        return "JSONObject"
    if isinstance(instance, list):
        return "JSONArray"
    return "Null" if instance is None else "String"


def _shown(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


_SPECIAL = {
    "required": _required,
    "additionalProperties": _additional,
    "anyOf": _combined,
    "oneOf": _combined,
    "allOf": _combined,
}
_SIMPLE = {
    "type": _type,
    "enum": lambda _allowed, value: f"{_shown(value)} is not a valid enum value",
    "pattern": lambda pattern, value: f"string [{value}] does not match pattern {pattern}",
    "minLength": lambda limit, value: f"expected minLength: {limit}, actual: {len(value)}",
    "maxLength": lambda limit, value: f"expected maxLength: {limit}, actual: {len(value)}",
    "minimum": lambda limit, value: f"{_shown(value)} is not greater or equal to {limit}",
    "maximum": lambda limit, value: f"{_shown(value)} is not less or equal to {limit}",
    "exclusiveMinimum": lambda limit, value: f"{_shown(value)} is not greater than {limit}",
    "exclusiveMaximum": lambda limit, value: f"{_shown(value)} is not less than {limit}",
    "minItems": lambda limit, value: f"expected minimum item count: {limit}, found: {len(value)}",
    "maxItems": lambda limit, value: f"expected maximum item count: {limit}, found: {len(value)}",
    "uniqueItems": lambda _flag, _value: "array items are not unique",
}
