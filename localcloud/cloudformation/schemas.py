"""The resource provider schemas that ship inside cfn-lint, read once and cached.

cfn-lint 1.58 keeps one pointer file per region (``data/schemas/providers/<region>.json``: type name -> content
hash) and the schemas themselves under ``data/schemas/resources/<hash>.json``. These are CloudFormation's public
provider schemas (``createOnlyProperties``, ``readOnlyProperties``, ``required``, ...), so the engine decides
replacement and validation from the same data AWS publishes instead of a hand-written table.

The files are located without importing cfnlint (its import takes seconds), and only us-east-1's pointer file is
read: the local cloud serves every region with the same resource types.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path

_POINTER_REGION = "us-east-1"
_PROPERTY_PREFIX = "/properties/"


@cache
def _schemas_dir() -> Path:
    spec = importlib.util.find_spec("cfnlint")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("cfn-lint is not installed; the local cloud reads its resource schemas from it")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "schemas"


@cache
def _pointers() -> dict[str, str]:
    with open(_schemas_dir() / "providers" / f"{_POINTER_REGION}.json", encoding="utf-8") as fh:
        return json.load(fh)


def type_names() -> frozenset[str]:
    """Every resource type with a provider schema (what CloudFormation in us-east-1 knows)."""
    return frozenset(_pointers())


@cache
def schema(type_name: str) -> dict | None:
    """The provider schema of ``type_name``, or None for a type CloudFormation has no schema for (``Custom::*``)."""
    digest = _pointers().get(type_name)
    if digest is None:
        return None
    with open(_schemas_dir() / "resources" / f"{digest}.json", encoding="utf-8") as fh:
        return json.load(fh)


def property_paths(type_name: str, key: str) -> tuple[str, ...]:
    """The JSON pointers the schema lists under ``key`` (e.g. ``createOnlyProperties``), as written there."""
    found = schema(type_name) or {}
    return tuple(found.get(key, ()))


def _top_level(type_name: str, key: str) -> frozenset[str]:
    """Names of the top-level properties listed under ``key``; nested paths (``/properties/A/B``) are left out."""
    names = set()
    for path in property_paths(type_name, key):
        rest = path.removeprefix(_PROPERTY_PREFIX)
        if rest != path and "/" not in rest:
            names.add(rest)
    return frozenset(names)


@cache
def create_only_properties(type_name: str) -> frozenset[str]:
    """Top-level properties whose change replaces the resource (the schema's ``createOnlyProperties``)."""
    return _top_level(type_name, "createOnlyProperties")


@cache
def read_only_properties(type_name: str) -> frozenset[str]:
    """Top-level properties CloudFormation sets and a template cannot (the schema's ``readOnlyProperties``)."""
    return _top_level(type_name, "readOnlyProperties")


@cache
def write_only_properties(type_name: str) -> frozenset[str]:
    """Top-level properties the read handler never returns (``writeOnlyProperties``), so drift cannot see them."""
    return _top_level(type_name, "writeOnlyProperties")


@cache
def required_properties(type_name: str) -> frozenset[str]:
    """Top-level properties a template must set (the schema's ``required``)."""
    return frozenset((schema(type_name) or {}).get("required", ()))
