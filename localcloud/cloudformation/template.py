"""Templates: reading (JSON or YAML with the short-form tags), structure checks, conditions, intrinsic functions,
references and dependency order.

Resolution is pure: ``resolve(node, context)`` evaluates Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::If, Fn::Select,
Fn::Split, Fn::FindInMap, Fn::GetAZs, Fn::Base64, Fn::ImportValue and the pseudo parameters against a
``Context`` that says what parameters, resources and exports hold. A value that only exists once a resource
does (a change set planned before that resource is created or replaced) resolves to ``Unknown``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from localcloud.cloudformation import template_yaml
from localcloud.cloudformation.errors import TemplateError, ValidationError

NO_VALUE = "AWS::NoValue"
PSEUDO_PARAMETERS = (
    "AWS::AccountId",
    "AWS::Region",
    "AWS::StackName",
    "AWS::StackId",
    "AWS::Partition",
    "AWS::URLSuffix",
    "AWS::NotificationARNs",
    NO_VALUE,
)
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Unknown:
    """A value known only once ``source`` (a resource) is created: change sets call these Dynamic."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __eq__(self, other: object) -> bool:
        return False  # never equal to a deployed value: it may change

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"Unknown({self.source})"


_DROP = object()  # the result of !Ref AWS::NoValue: the key or list item disappears


# -- reading -----------------------------------------------------------------------------------------------
def load(body: str) -> dict[str, Any]:
    """The template as data; a body that is neither JSON nor YAML is CloudFormation's format error."""
    text = body.strip()
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TemplateError(f"JSON not well-formed. (line {exc.lineno}, column {exc.colno})") from exc
    else:
        try:
            parsed = template_yaml.parse(body)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise TemplateError(f"YAML not well-formed.{where}") from exc
        except yaml.YAMLError as exc:
            raise TemplateError("YAML not well-formed.") from exc
    if not isinstance(parsed, dict):
        raise TemplateError("unsupported structure.")
    check_structure(parsed)
    return parsed


SECTIONS = (
    "AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings", "Conditions",
    "Transform", "Resources", "Outputs",
)  # fmt: skip


def check_structure(template: dict[str, Any]) -> None:
    """AWS's structural refusals. A top-level key outside the template anatomy is "Invalid template property or
    properties [A, B]" (the answer sam deploy users quote, e.g. "[esbuild]"); with a Transform, a macro may
    consume other sections (SAM's Globals), so they are left to it."""
    unknown = [key for key in template if key not in SECTIONS]
    if unknown and "Transform" not in template:
        raise TemplateError(f"Invalid template property or properties [{', '.join(unknown)}]")
    resources = template.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise TemplateError("At least one Resources member must be defined.")
    for logical_id, body in resources.items():
        if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
            raise TemplateError(f"[/Resources/{logical_id}] Every Resources object must contain a Type member.")
    if "Outputs" in template and template["Outputs"] is None:
        raise ValidationError("[/Outputs] 'null' values are not allowed in templates")


# -- resolution --------------------------------------------------------------------------------------------
@dataclass
class Context:
    """What a template's names stand for while it is resolved."""

    parameters: dict[str, Any]
    pseudo: dict[str, Any]
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)
    ref: Callable[[str], Any] = lambda name: Unknown(name)
    get_att: Callable[[str, str], Any] = lambda name, attribute: Unknown(name)
    export: Callable[[str], Any] = lambda name: Unknown(name)


def resolve(node: Any, context: Context) -> Any:
    """``node`` with every intrinsic function evaluated (``AWS::NoValue`` entries removed)."""
    value = _resolve(node, context)
    return None if value is _DROP else value


def _resolve(node: Any, ctx: Context) -> Any:
    if isinstance(node, list):
        return [v for v in (_resolve(item, ctx) for item in node) if v is not _DROP]
    if not isinstance(node, dict):
        return node
    if len(node) == 1:
        ((key, arg),) = node.items()
        function = _FUNCTIONS.get(key)
        if function is not None:
            return function(arg, ctx)
    return {k: v for k, v in ((k, _resolve(v, ctx)) for k, v in node.items()) if v is not _DROP}


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, Unknown):
        return True
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    return False


def _first_unknown(value: Any) -> Unknown | None:
    if isinstance(value, Unknown):
        return value
    items = value if isinstance(value, list) else value.values() if isinstance(value, dict) else []
    return next((u for u in map(_first_unknown, items) if u is not None), None)


def _ref(name: Any, ctx: Context) -> Any:
    if name == NO_VALUE:
        return _DROP
    if name in ctx.parameters:
        return ctx.parameters[name]
    if name in ctx.pseudo:
        return ctx.pseudo[name]
    return ctx.ref(name)


def _get_att(arg: Any, ctx: Context) -> Any:
    if isinstance(arg, str):
        arg = arg.split(".", 1)
    name, attribute = arg[0], _resolve(arg[1], ctx)
    return ctx.get_att(name, attribute)


def as_text(value: Any) -> str:
    """A value as CloudFormation turns it into a string (lists comma-joined, booleans lower-case)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(as_text(v) for v in value)
    return str(value)


def _sub(arg: Any, ctx: Context) -> Any:
    text, variables = (arg[0], _resolve(arg[1], ctx)) if isinstance(arg, list) else (arg, {})
    pieces: list[Any] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            value = variables[name]
        elif "." in name and name not in ctx.parameters and name not in ctx.pseudo:
            value = ctx.get_att(*name.split(".", 1))
        else:
            value = _ref(name, ctx)
        pieces.append(value)
        return as_text(value)

    result = _SUB_VARIABLE.sub(replace, text)
    unknown = _first_unknown(pieces)
    return unknown if unknown is not None else result


def _join(arg: Any, ctx: Context) -> Any:
    delimiter, items = arg[0], _resolve(arg[1], ctx)
    unknown = _first_unknown(items)
    if unknown is not None:
        return unknown
    return delimiter.join(as_text(item) for item in items)


def _select(arg: Any, ctx: Context) -> Any:
    index, items = _resolve(arg[0], ctx), _resolve(arg[1], ctx)
    if isinstance(items, Unknown):
        return items
    try:
        return items[int(index)]
    except (IndexError, ValueError, TypeError) as exc:
        raise TemplateError("Fn::Select cannot select nonexistent value at index " + str(index)) from exc


def _split(arg: Any, ctx: Context) -> Any:
    delimiter, text = arg[0], _resolve(arg[1], ctx)
    return text if isinstance(text, Unknown) else str(text).split(delimiter)


def _if(arg: Any, ctx: Context) -> Any:
    name, when_true, when_false = arg
    try:
        holds = ctx.conditions[name]
    except KeyError as exc:
        raise TemplateError(f"Unresolved condition dependency {name} in Fn::If") from exc
    return _resolve(when_true if holds else when_false, ctx)


def _find_in_map(arg: Any, ctx: Context) -> Any:
    name, top, second = (_resolve(a, ctx) for a in arg[:3])
    try:
        return ctx.mappings[name][top][second]
    except (KeyError, TypeError) as exc:
        raise ValidationError(f"Template error: Unable to get mapping for {name}::{top}::{second}") from exc


def _get_azs(arg: Any, ctx: Context) -> list[str]:
    region = _resolve(arg, ctx) or ctx.pseudo["AWS::Region"]
    return [f"{region}{zone}" for zone in "abc"]


def _base64(arg: Any, ctx: Context) -> Any:
    text = _resolve(arg, ctx)
    return text if isinstance(text, Unknown) else base64.b64encode(as_text(text).encode()).decode()


def _import_value(arg: Any, ctx: Context) -> Any:
    name = _resolve(arg, ctx)
    return name if isinstance(name, Unknown) else ctx.export(name)


def _equals(arg: Any, ctx: Context) -> bool:
    first, second = (_resolve(a, ctx) for a in arg)
    return as_text(first) == as_text(second)


def _condition(name: Any, ctx: Context) -> bool:
    return ctx.conditions[name]


_FUNCTIONS: dict[str, Callable[[Any, Context], Any]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::FindInMap": _find_in_map,
    "Fn::GetAZs": _get_azs,
    "Fn::Base64": _base64,
    "Fn::ImportValue": _import_value,
    "Fn::Equals": _equals,
    "Fn::And": lambda arg, ctx: all(_resolve(a, ctx) for a in arg),
    "Fn::Or": lambda arg, ctx: any(_resolve(a, ctx) for a in arg),
    "Fn::Not": lambda arg, ctx: not _resolve(arg[0], ctx),
    "Condition": _condition,
}


def evaluate_conditions(template: dict[str, Any], ctx: Context) -> dict[str, bool]:
    """Every condition of the template, each evaluated once (conditions may name other conditions)."""
    declared = template.get("Conditions") or {}
    results: dict[str, bool] = {}

    class _Lazy(dict):
        def __missing__(self, name: str) -> bool:
            if name not in declared:
                raise TemplateError(f"Unresolved condition dependency {name} in Fn::If")
            if name in evaluating:
                raise TemplateError(f"Circular dependency between conditions: [{name}]")
            evaluating.add(name)
            self[name] = bool(_resolve(declared[name], ctx))
            return self[name]

    evaluating: set[str] = set()
    ctx.conditions = _Lazy()
    for name in declared:
        results[name] = ctx.conditions[name]
    ctx.conditions = results
    return results


# -- references and order ----------------------------------------------------------------------------------
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
        elif key == "Fn::GetAtt" and value:
            found.add(value.split(".")[0] if isinstance(value, str) else value[0])
        elif key == "Fn::Sub":
            _collect_sub(value, found)
        else:
            _collect(value, found)


def _collect_sub(value: Any, found: set[str]) -> None:
    text, local = (value[0], value[1]) if isinstance(value, list) else (value, {})
    _collect(local, found)
    for name in _SUB_VARIABLE.findall(text if isinstance(text, str) else ""):
        base = name.strip().split(".")[0]
        if base and not base.startswith("!") and base not in (local or {}):
            found.add(base)


def dependencies(resources: dict[str, Any], logical_id: str) -> set[str]:
    """The other resources of the template that ``logical_id`` needs first."""
    body = resources[logical_id]
    depends_on = body.get("DependsOn", [])
    names = {depends_on} if isinstance(depends_on, str) else set(depends_on)
    names |= references({k: v for k, v in body.items() if k != "DependsOn"})
    return {name for name in names if name in resources and name != logical_id}


def check_references(template: dict[str, Any]) -> None:
    """Every Ref, GetAtt, Sub variable and DependsOn names something the template has (AWS checks this first)."""
    resources = template["Resources"]
    known = set(resources) | set(template.get("Parameters") or {}) | set(PSEUDO_PARAMETERS)
    missing: list[str] = []
    for logical_id, body in resources.items():
        depends_on = body.get("DependsOn", [])
        for name in [depends_on] if isinstance(depends_on, str) else depends_on:
            if name not in resources:
                raise TemplateError(f"Unresolved resource dependencies [{name}] in the Resources block of the template")
        names = references({k: v for k, v in body.items() if k != "DependsOn"})
        missing += sorted(n for n in names if n not in known and n not in missing and n != logical_id)
    if missing:
        raise TemplateError(
            f"Unresolved resource dependencies [{', '.join(missing)}] in the Resources block of the template"
        )


def check_conditions(template: dict[str, Any]) -> None:
    """Every condition a resource, an output or an Fn::If names is defined. An Fn::If's is refused as AWS words it,
    "Template error: unresolved condition dependency X in Fn::If" (quoted from AWS in aws-cdk users' code); a
    Condition attribute's wording is not recorded, so it follows the Resources block's reference error."""
    defined = set(template.get("Conditions") or {})
    for section in ("Resources", "Outputs"):
        for body in (template.get(section) or {}).values():
            named = body.get("Condition") if isinstance(body, dict) else None
            if isinstance(named, str) and named not in defined:
                raise TemplateError(f"Unresolved condition dependency {named} in the {section} block of the template")
    used = _if_conditions({k: template.get(k) for k in ("Resources", "Outputs")})
    for name in used:
        if name not in defined:
            raise ValidationError(f"Template error: unresolved condition dependency {name} in Fn::If")


def _if_conditions(node: Any) -> list[str]:
    if isinstance(node, list):
        return [name for item in node for name in _if_conditions(item)]
    if not isinstance(node, dict):
        return []
    found = []
    for key, value in node.items():
        if key == "Fn::If" and isinstance(value, list) and value and isinstance(value[0], str):
            found.append(value[0])
        found += _if_conditions(value)
    return found


def get_atts(node: Any) -> list[tuple[str, str]]:
    """Every (logical id, attribute) that a literal Fn::GetAtt in ``node`` names."""
    found: list[tuple[str, str]] = []
    if isinstance(node, list):
        for item in node:
            found += get_atts(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::GetAtt" and isinstance(value, str) and "." in value:
                found.append(tuple(value.split(".", 1)))  # type: ignore[arg-type]
            elif key == "Fn::GetAtt" and isinstance(value, list) and len(value) == 2:
                if all(isinstance(part, str) for part in value):
                    found.append((value[0], value[1]))
            else:
                found += get_atts(value)
    return found


def creation_order(resources: dict[str, Any]) -> list[str]:
    """Resources in an order where each comes after everything it depends on (template order otherwise)."""
    ordered: list[str] = []
    state: dict[str, str] = {}
    position = {name: index for index, name in enumerate(resources)}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = path[path.index(name) : -1]
            raise ValidationError(f"Circular dependency between resources: [{', '.join(cycle)}]")
        state[name] = "visiting"
        for dep in sorted(dependencies(resources, name), key=position.__getitem__):
            visit(dep, [*path, dep])
        state[name] = "done"
        ordered.append(name)

    for name in resources:
        visit(name, [name])
    return ordered


def contains_unknown(value: Any) -> bool:
    return _contains_unknown(value)
