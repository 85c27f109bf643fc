"""Template values resolve as CloudFormation resolves them.

AWS behaviour: ``!Ref AWS::NoValue`` inside a list (typically from ``!If [Cond, X, !Ref AWS::NoValue]``) drops
that element; a ``CommaDelimitedList`` / ``List<...>`` parameter's Default is a list just like a passed value,
so ``!Join``, ``!Select`` and ``!Split`` see the items; ``AWS::Partition`` and ``AWS::URLSuffix`` follow the
region.

moto gap: ``clean_json`` keeps ``None`` elements in lists (they become ``null`` in a policy document), and
``ResourceMap.load_parameters`` splits only passed values, leaving a list parameter's default as one string.

Patches: ``moto.cloudformation.parsing.clean_json`` (wrapped; its own recursion goes through the wrapper) and
``ResourceMap.load_parameters`` (wrapped).
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing
from moto.utilities.utils import get_partition


def _clean_json(original: Any) -> Any:
    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, list):
            cleaned = (clean_json(item, resources_map) for item in resource_json)
            return [item for item in cleaned if item is not None]
        return original(resource_json, resources_map)

    return clean_json


def _is_list_type(value_type: str) -> bool:
    return value_type == "CommaDelimitedList" or value_type.startswith("List<")


def _load_parameters(original: Any) -> Any:
    def load_parameters(self: Any) -> None:
        original(self)
        declared = self._template.get("Parameters") or {}
        for name, spec in declared.items():
            value = self.resolved_parameters.get(name)
            if _is_list_type(spec.get("Type", "String")) and isinstance(value, str):
                items = [item.strip() for item in value.split(",")] if value else []
                self.resolved_parameters[name] = items
                self._parsed_resources[name] = items
        self._parsed_resources["AWS::Partition"] = get_partition(self._region_name)

    return load_parameters


def apply() -> None:
    parsing.clean_json = _clean_json(parsing.clean_json)
    parsing.ResourceMap.load_parameters = _load_parameters(parsing.ResourceMap.load_parameters)
