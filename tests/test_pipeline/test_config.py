"""Settings resolution: flags over PIPELINE_* over invoke.yaml over defaults, and clear errors for bad input."""

from __future__ import annotations

import pytest

from pipeline.config import deploy_environments, resolve
from pipeline.errors import UserError

CONFIG = {
    "project": "s3-lambda-gitops",
    "region": "us-east-1",
    "environments": {"dev": {}, "staging": {"region": "eu-west-1"}, "production": {"parameters": {"P": 90}}},
    "deploy_environments": ["staging", "production"],
    "parameters": {"P": 14, "Q": "x"},
}


def test_defaults_give_the_local_dev_stack():
    settings = resolve(CONFIG, env={})
    assert (settings.target, settings.environment, settings.stack_name) == ("local", "dev", "s3-lambda-gitops-dev")
    assert settings.endpoint_url == "http://127.0.0.1:4566"
    assert settings.profile is None


def test_flag_beats_environment_variable_beats_config():
    env = {"PIPELINE_TARGET": "aws", "PIPELINE_ENVIRONMENT": "staging"}
    assert resolve(CONFIG, env=env).target == "aws"
    assert resolve(CONFIG, target="local", env=env).target == "local"
    assert resolve(CONFIG, env=env).environment == "staging"
    assert resolve(CONFIG, environment="production", env=env).environment == "production"


def test_region_precedence():
    assert resolve(CONFIG, environment="staging", env={}).region == "eu-west-1"
    assert resolve(CONFIG, environment="staging", region="ap-south-1", env={}).region == "ap-south-1"
    # On AWS the ambient region counts (configure-aws-credentials sets it); locally it never does.
    assert resolve(CONFIG, target="aws", env={"AWS_REGION": "eu-central-1"}).region == "eu-central-1"
    assert resolve(CONFIG, env={"AWS_REGION": "eu-central-1"}).region == "us-east-1"


def test_environment_parameters_override_shared_ones_as_strings():
    assert dict(resolve(CONFIG, environment="production", env={}).parameters) == {"P": "90", "Q": "x"}
    assert dict(resolve(CONFIG, env={}).parameters) == {"P": "14", "Q": "x"}


def test_local_endpoint_comes_from_aws_endpoint_url():
    settings = resolve(CONFIG, env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9999"})
    assert settings.endpoint_url == "http://127.0.0.1:9999"


def test_profile_only_applies_to_aws():
    assert resolve(CONFIG, env={"AWS_PROFILE": "p"}).profile is None
    assert resolve(CONFIG, target="aws", env={"AWS_PROFILE": "p"}).profile == "p"


@pytest.mark.parametrize("bad", ["Upper-Case", "1starts-with-digit", "has_underscore", "x" * 40])
def test_invalid_stack_names_are_refused_with_the_rule(bad):
    config = {**CONFIG, "environments": {"dev": {"stack_name": bad}}}
    with pytest.raises(UserError, match=r"Invalid stack name.*lowercase"):
        resolve(config, env={})


def test_unknown_target_and_environment_name_the_fix():
    with pytest.raises(UserError, match="--target local"):
        resolve(CONFIG, target="gcp", env={})
    with pytest.raises(UserError, match=r"Unknown environment 'qa' \(configured: dev, production, staging\)"):
        resolve(CONFIG, environment="qa", env={})


def test_deploy_environments_must_be_configured():
    assert deploy_environments(CONFIG) == ["staging", "production"]
    with pytest.raises(UserError, match="Unknown environment 'prod'"):
        deploy_environments({**CONFIG, "deploy_environments": ["staging", "prod"]})


def test_the_repository_invoke_yaml_resolves_for_every_environment():
    import yaml

    from pipeline.config import ROOT

    config = yaml.safe_load((ROOT / "invoke.yaml").read_text())["pipeline"]
    for name in config["environments"]:
        assert resolve(config, environment=name, env={}).stack_name == f"s3-lambda-gitops-{name}"
    assert deploy_environments(config) == ["staging", "production"]


def test_each_environment_has_its_own_artifact_and_template_prefix():
    settings = resolve(CONFIG, environment="staging", env={})
    assert (settings.artifact_key_prefix, settings.template_key_prefix) == ("artifacts/staging", "templates/staging")


def test_each_environment_has_its_own_bootstrap_stack():
    settings = resolve(CONFIG, environment="production", env={})
    assert (settings.bootstrap_stack, settings.bootstrap_environment_stack) == (
        "s3-lambda-gitops-bootstrap",
        "s3-lambda-gitops-bootstrap-production",
    )
