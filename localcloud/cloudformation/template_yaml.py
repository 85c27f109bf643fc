"""How CloudFormation reads a YAML template: PyYAML's safe loader plus the short forms, timestamps left as text.

Shared by the engine (``template.load``) and the deploy (``pipeline.template``). It imports PyYAML only, because the
credentialed deploy jobs install neither moto nor cfn-lint (cfn-lint's own loader pulls in sympy and networkx).
"""

from __future__ import annotations

from typing import Any

import yaml


class Loader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms: ``!Ref X`` is ``{"Ref": "X"}``, ``!Sub ...`` is ``{"Fn::Sub": ...}``."""


class FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same over libyaml's parser when PyYAML has it: ten times faster, but its errors show no source line."""


def _short_form(loader: yaml.SafeLoader, tag: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    tag = tag.lstrip("!")  # the multi-constructor passes what follows its "!" prefix
    if tag in ("Ref", "Condition"):
        return {tag: value}
    if tag == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag}": value}


for _loader in (Loader, FastLoader):
    _loader.add_multi_constructor("!", _short_form)
    # Timestamps and the like stay strings, as CloudFormation reads them.
    _loader.yaml_implicit_resolvers = {
        key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for key, resolvers in _loader.yaml_implicit_resolvers.items()
    }


def parse(text: str) -> Any:
    """The YAML document as data; PyYAML's errors (with their marks) pass through for the caller to word."""
    try:
        return yaml.load(text, Loader=FastLoader)
    except yaml.YAMLError:
        return yaml.load(text, Loader=Loader)  # the pure-Python parser's error quotes the offending line
