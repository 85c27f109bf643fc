"""Settings, resolved once into one frozen object.

Precedence, highest first: task flags, then ``PIPELINE_TARGET`` / ``PIPELINE_ENVIRONMENT``, then invoke's own
configuration (``invoke.yaml``, overridable by ``INVOKE_PIPELINE_*`` environment variables), then the defaults
below. Nothing here talks to AWS, so every rule is testable as a plain function.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("local", "aws")
LOCAL_PORT = 4566
# AWS's rule for stack names. The app template also builds the bucket name from it (see _check_stack_name).
STACK_NAME = re.compile(r"^[A-Za-z][-A-Za-z0-9]*$")
# Bucket name = "<stack>-<12-digit account>-<region>"; the longest region names have 14 characters.
MAX_STACK_NAME = 63 - 1 - 12 - 1 - 14

DEFAULTS: dict[str, Any] = {
    "project": "s3-lambda-gitops",
    "region": "us-east-1",
    "target": "local",
    "environment": "dev",
    "environments": {"dev": {}},
    "deploy_environments": [],
    "parameters": {},
    "tags": {},
    "verify_timeout": 120,
    "local_port": LOCAL_PORT,
    "artifact_prefix": "artifacts",
}


@dataclass(frozen=True)
class Settings:
    """Everything a task needs to know about where and what it deploys."""

    project: str
    target: str
    environment: str
    stack_name: str
    region: str
    profile: str | None
    endpoint_url: str | None
    parameters: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    verify_timeout: float = 120.0
    artifact_prefix: str = "artifacts"
    deploy_environments: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()  # every environment configured in invoke.yaml
    account: str | None = None  # the environment's own AWS account (invoke.yaml `account`), when it has one
    template: Path = ROOT / "cloudformation" / "app.yaml"
    bootstrap_template: Path = ROOT / "cloudformation" / "bootstrap.yaml"
    bootstrap_environment_template: Path = ROOT / "cloudformation" / "bootstrap-environment.yaml"
    lambda_dir: Path = ROOT / "lambda"

    @property
    def artifact_key_prefix(self) -> str:
        """Each environment has its own prefix: one environment's deploy role can't plant another's code."""
        return f"{self.artifact_prefix}/{self.environment}"

    @property
    def template_key_prefix(self) -> str:
        return f"templates/{self.environment}"

    @property
    def bootstrap_stack(self) -> str:
        return f"{self.project}-bootstrap"

    @property
    def bootstrap_environment_stack(self) -> str:
        return f"{self.project}-bootstrap-{self.environment}"

    @property
    def local_artifact_bucket(self) -> str:
        # Bucket names are global: an environment in an account of its own gets its own, as bootstrap names them.
        if self.account:
            return f"{self.project}-artifacts-{self.account}-{self.region}"
        return f"{self.project}-artifacts-local"


def _merged(config: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = dict(DEFAULTS)
    for key, value in dict(config or {}).items():
        merged[key] = value
    return merged


def _pick(*candidates: Any) -> Any:
    return next((c for c in candidates if c not in (None, "")), None)


def _check_stack_name(name: str) -> str:
    if not STACK_NAME.match(name) or len(name) > MAX_STACK_NAME or name != name.lower():
        raise UserError(
            f"Invalid stack name {name!r}. A stack name here must start with a letter, contain only lowercase "
            f"letters, digits and hyphens, and be at most {MAX_STACK_NAME} characters, because the uploads "
            "bucket's name is built from it (S3 allows 63 lowercase characters). Fix `stack_name` for this "
            "environment in invoke.yaml, or the project name."
        )
    return name


ENVIRONMENT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")  # GitHub environment names, and no wildcards


def _positive(value: Any) -> float | None:
    """``value`` as a finite number of seconds above zero, or None (booleans are not numbers here)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < float("inf") else None


def _number(name: str, value: Any) -> float:
    number = _positive(value)
    if number is None:
        raise UserError(
            f"Setting {name} must be a positive number of seconds, not {value!r}. Fix it in invoke.yaml or in "
            f"INVOKE_PIPELINE_{name.upper()}."
        )
    return number


def parse_seconds(flag: str, value: Any) -> float:
    """A flag's positive number of seconds, checked before a task does anything."""
    number = _positive(value)
    if number is None:
        raise UserError(
            f"{flag} must be a positive number of seconds, such as {flag} 30, not {value!r}. Nothing was done."
        )
    return number


def _environment_settings(merged: Mapping[str, Any], environment: str) -> Mapping[str, Any]:
    environments = merged.get("environments") or {}
    if not ENVIRONMENT_NAME.match(str(environment)):
        raise UserError(
            f"Invalid environment name {environment!r}: use letters, digits, '.', '_' and '-' only (it becomes part "
            "of the stack name and of the OIDC subject repo:OWNER/REPO:environment:NAME)."
        )
    if environment not in environments:
        known = ", ".join(sorted(environments)) or "none"
        raise UserError(
            f"Unknown environment {environment!r} (configured: {known}). Add it under `pipeline.environments` "
            "in invoke.yaml, or pick a configured one with --environment / PIPELINE_ENVIRONMENT."
        )
    return environments[environment] or {}


def resolve(
    config: Mapping[str, Any] | None,
    *,
    target: str | None = None,
    environment: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from invoke's ``pipeline`` config section, the task flags and the environment."""
    env = os.environ if env is None else env
    merged = _merged(config)
    chosen_target = _pick(target, env.get("PIPELINE_TARGET"), merged["target"])
    if chosen_target not in TARGETS:
        raise UserError(
            f"Unknown target {chosen_target!r}. Use --target local (the embedded local cloud, the default) "
            "or --target aws (your AWS account, through boto3's credential chain)."
        )
    chosen_env = _pick(environment, env.get("PIPELINE_ENVIRONMENT"), merged["environment"])
    env_cfg = _environment_settings(merged, chosen_env)
    project = merged["project"]
    stack_name = _check_stack_name(env_cfg.get("stack_name") or f"{project}-{chosen_env}")
    # On AWS the ambient region (set by configure-aws-credentials in Actions) counts; locally it never does.
    ambient_region = (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")) if chosen_target == "aws" else None
    local_endpoint = env.get("AWS_ENDPOINT_URL") or f"http://127.0.0.1:{merged['local_port']}"
    return Settings(
        project=project,
        target=chosen_target,
        environment=chosen_env,
        stack_name=stack_name,
        # An explicit INVOKE_PIPELINE_REGION beats the ambient region; invoke.yaml's value does not.
        region=_pick(
            region, env.get("INVOKE_PIPELINE_REGION"), env_cfg.get("region"), ambient_region, merged["region"]
        ),
        profile=_pick(profile, env.get("AWS_PROFILE")) if chosen_target == "aws" else None,
        endpoint_url=local_endpoint if chosen_target == "local" else None,
        parameters={k: str(v) for k, v in {**merged["parameters"], **env_cfg.get("parameters", {})}.items()},
        tags={k: str(v) for k, v in {**merged["tags"], **env_cfg.get("tags", {})}.items()},
        verify_timeout=_number("verify_timeout", merged["verify_timeout"]),
        artifact_prefix=str(merged["artifact_prefix"]).strip("/"),
        deploy_environments=tuple(merged["deploy_environments"] or ()),
        environments=tuple(merged.get("environments") or {}),
        account=_account(chosen_env, env_cfg.get("account")),
    )


def _account(environment: str, value: Any) -> str | None:
    if value in (None, ""):
        return None
    account = str(value)
    if not re.fullmatch(r"\d{12}", account):
        raise UserError(
            f"Environment {environment}: account {value!r} is not a 12-digit AWS account id. Quote it in invoke.yaml "
            '(account: "123456789012") so YAML keeps its leading zeros.'
        )
    return account


def deploy_environments(config: Mapping[str, Any] | None) -> list[str]:
    """The environments the deploy workflow walks through, in order; each must be configured."""
    merged = _merged(config)
    order = list(merged["deploy_environments"] or [])
    for name in order:
        _environment_settings(merged, name)
    return order
