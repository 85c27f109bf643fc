"""invoke.yaml checked against the keys and types the pipeline knows, before any task runs.

A typo (``regoin: eu-west-1``) would otherwise be ignored and the deploy would go to the default region with
exit 0. Unknown keys get a "did you mean" from difflib, wrong types name the expected one, and the file's YAML
errors and the ``INVOKE_PIPELINE_*`` variables invoke cannot cast are found here too: invoke would otherwise
die on them with a traceback before the task's own error boundary runs. Standard library and PyYAML only (invoke
already imports PyYAML), so checking costs ``invoke --list`` nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.errors import UserError

SCALAR = (str, int, float, bool)
NUMBER = (int, float)
# key -> (accepted types, what to call them in a message)
PIPELINE_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "project": ((str,), "a string"),
    "region": ((str,), "a string such as us-east-1"),
    "target": ((str,), "local or aws"),
    "environment": ((str,), "an environment name"),
    "environments": ((dict,), "a mapping of environment name to its settings"),
    "deploy_environments": ((list,), "a list of environment names"),
    "parameters": ((dict,), "a mapping of template parameter to value"),
    "tags": ((dict,), "a mapping of tag key to value"),
    "verify_timeout": (NUMBER, "a number of seconds"),
    "local_port": ((int,), "a port number"),
    "artifact_prefix": ((str,), "a string"),
}
ENVIRONMENT_KEYS: dict[str, tuple[tuple[type, ...], str]] = {
    "account": ((str, int), "a 12-digit AWS account id"),
    "stack_name": ((str,), "a stack name"),
    "region": ((str,), "a string such as eu-west-1"),
    "parameters": ((dict,), "a mapping of template parameter to value"),
    "tags": ((dict,), "a mapping of tag key to value"),
}
# invoke's own top-level sections (invoke.Config.global_defaults), which invoke.yaml may also set.
INVOKE_SECTIONS = ("debug", "run", "runners", "sudo", "tasks", "timeouts")


def _did_you_mean(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f" Did you mean `{close[0]}`?" if close else f" Known keys: {', '.join(sorted(known))}."


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "true/false", type(None): "empty"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _check_keys(where: str, data: Mapping[str, Any], schema: dict[str, tuple[tuple[type, ...], str]]) -> None:
    for key, value in data.items():
        if key not in schema:
            raise UserError(
                f"invoke.yaml: unknown setting `{where}{key}`.{_did_you_mean(str(key), list(schema))} Unknown "
                "settings are refused rather than ignored, so a typo can never deploy with a default instead."
            )
        types, expected = schema[key]
        wrong_bool = isinstance(value, bool) and bool not in types
        if value is not None and (not isinstance(value, types) or wrong_bool):
            raise UserError(f"invoke.yaml: `{where}{key}` must be {expected}, not {_type_name(value)} ({value!r}).")


def _check_values(where: str, mapping: Any) -> None:
    for name, value in (mapping or {}).items():
        if not isinstance(value, SCALAR):
            raise UserError(
                f"invoke.yaml: `{where}{name}` must be a single value (string, number or true/false), not "
                f"{_type_name(value)}."
            )


def check(pipeline: Mapping[str, Any] | None) -> None:
    """Check the ``pipeline`` section: known keys, their types, and each environment's entry."""
    if pipeline is None:
        return
    if not isinstance(pipeline, Mapping):
        raise UserError(f"invoke.yaml: `pipeline` must be a mapping of settings, not {_type_name(pipeline)}.")
    _check_keys("pipeline.", pipeline, PIPELINE_KEYS)
    _check_values("pipeline.parameters.", pipeline.get("parameters"))
    _check_values("pipeline.tags.", pipeline.get("tags"))
    for name in pipeline.get("deploy_environments") or []:
        if not isinstance(name, str):
            raise UserError(f"invoke.yaml: `pipeline.deploy_environments` lists {name!r}; each entry is a name.")
    for name, entry in (pipeline.get("environments") or {}).items():
        if entry is None:
            continue
        if not isinstance(entry, Mapping):
            raise UserError(
                f"invoke.yaml: environment `{name}` must be a mapping of settings (or {{}} for the defaults), not "
                f"{_type_name(entry)} ({entry!r}). For example:  {name}: {{region: eu-west-1}}"
            )
        _check_keys(f"pipeline.environments.{name}.", entry, ENVIRONMENT_KEYS)
        _check_values(f"pipeline.environments.{name}.parameters.", entry.get("parameters"))
        _check_values(f"pipeline.environments.{name}.tags.", entry.get("tags"))


def load(path: Path) -> dict[str, Any]:
    """Parse invoke.yaml, turning a YAML error into a message with its line."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) if path.is_file() else {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "an unknown line"
        raise UserError(f"{path} is not valid YAML: {exc.problem or exc} at {where}. Fix the file there.") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not valid YAML: {exc}. Fix the file.") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{path} must be a mapping with a `pipeline:` section, not {_type_name(data)}.")
    for key in data:
        if key != "pipeline" and key not in INVOKE_SECTIONS:
            raise UserError(
                f"{path}: unknown section `{key}`.{_did_you_mean(str(key), ['pipeline', *INVOKE_SECTIONS])}"
            )
    return data


def _cast_error(name: str, text: str, current: Any) -> str | None:
    """Why invoke cannot give ``text`` the type of ``current`` (what it does with INVOKE_* variables), or None."""
    if isinstance(current, bool) or current is None or isinstance(current, str):
        return None
    if isinstance(current, dict | list):
        return f"{name} cannot set `{name[16:].lower()}`, which is {_type_name(current)}: set it in invoke.yaml."
    try:
        type(current)(text)
    except ValueError:
        kind = "a whole number" if isinstance(current, int) else "a number"
        return f"{name}={text!r} is not {kind} (invoke.yaml's value is {current!r}); set it to {kind}."
    return None


def check_environment(pipeline: Mapping[str, Any], environ: Mapping[str, str]) -> None:
    """INVOKE_PIPELINE_* variables must name a known setting and be castable to the type invoke will cast to."""
    for name, text in environ.items():
        if not name.startswith("INVOKE_PIPELINE_"):
            continue
        key = name[len("INVOKE_PIPELINE_") :].lower()
        if key not in PIPELINE_KEYS:
            known = [f"INVOKE_PIPELINE_{k.upper()}" for k in PIPELINE_KEYS]
            raise UserError(f"Environment variable {name} sets no known setting.{_did_you_mean(name, known)}")
        problem = _cast_error(name, text, pipeline.get(key))
        if problem:
            raise UserError(problem)


def preflight(project_dir: Path, environ: Mapping[str, str]) -> None:
    """Everything invoke would trip over before a task's boundary runs: the file, its schema, the variables."""
    data = load(project_dir / "invoke.yaml")
    check(data.get("pipeline"))
    check_environment(data.get("pipeline") or {}, environ)
