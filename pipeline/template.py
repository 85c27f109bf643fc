"""Reading a CloudFormation template: its text (sent as is) and what the deploy needs to know about it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import UserError

INLINE_LIMIT = 51_200  # bytes: CloudFormation's limit for TemplateBody; beyond it the template goes via S3


@dataclass(frozen=True)
class Template:
    path: Path
    body: str
    data: dict[str, Any]

    def parameter_defaults(self) -> dict[str, str]:
        params = self.data.get("Parameters") or {}
        return {name: _as_cfn_string(p["Default"]) for name, p in params.items() if "Default" in p}

    def parameter_names(self) -> set[str]:
        return set(self.data.get("Parameters") or {})

    @property
    def fits_inline(self) -> bool:
        return len(self.body.encode()) <= INLINE_LIMIT


def _as_cfn_string(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def load(path: Path) -> Template:
    """Read and parse a template, turning a missing file or a YAML error into a message with its line."""
    if not path.is_file():
        raise UserError(f"Template {path} not found. Run the task from the repository's root, or restore the file.")
    import yaml

    # The engine's reader (PyYAML and the short forms only): not cfn-lint's, which pulls sympy and networkx into
    # the credentialed deploy jobs. `invoke lint` runs cfn-lint on the rest.
    from localcloud.cloudformation import template_yaml

    body = path.read_text()
    try:
        data = template_yaml.parse(body)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "an unknown line"
        raise UserError(
            f"{path} is not valid YAML: {exc.problem or exc} at {where}. Fix the template there "
            "(`invoke lint` runs cfn-lint on it too)."
        ) from exc
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {exc}. Fix the template and deploy again.") from exc
    if not isinstance(data, dict) or "Resources" not in data:
        raise UserError(f"{path} has no Resources section, so it is not a CloudFormation template.")
    return Template(path=path, body=body, data=data)


def check_parameters(template: Template, parameters: dict[str, str]) -> None:
    unknown = sorted(set(parameters) - template.parameter_names())
    if unknown:
        raise UserError(
            f"invoke.yaml sets parameters {', '.join(unknown)} that {template.path.name} does not declare. "
            f"Declared parameters: {', '.join(sorted(template.parameter_names()))}. Fix the names in "
            "`pipeline.parameters` (or the environment's `parameters`)."
        )
