"""invoke.yaml's schema: unknown keys with "did you mean", wrong types, and what invoke itself would trip on."""

from __future__ import annotations

import pytest

from pipeline import settings_schema
from pipeline.config import resolve
from pipeline.errors import UserError


@pytest.mark.parametrize(
    ("pipeline", "phrase"),
    [
        ({"regoin": "eu-west-1"}, "unknown setting `pipeline.regoin`. Did you mean `region`?"),
        ({"verify_timout": 5}, "Did you mean `verify_timeout`?"),
        ({"environments": {"dev": {"stack_nam": "x"}}}, "`pipeline.environments.dev.stack_nam`. Did you mean"),
        ({"environments": {"dev": ["a"]}}, "environment `dev` must be a mapping of settings"),
        ({"environments": {"dev": "eu-west-1"}}, "environment `dev` must be a mapping"),
        ({"environments": ["dev"]}, "`pipeline.environments` must be a mapping"),
        ({"verify_timeout": "soon"}, "`pipeline.verify_timeout` must be a number of seconds"),
        ({"verify_timeout": True}, "`pipeline.verify_timeout` must be a number of seconds"),
        ({"local_port": 4566.5}, "`pipeline.local_port` must be a port number"),
        ({"parameters": {"FunctionMemorySize": [256]}}, "`pipeline.parameters.FunctionMemorySize` must be a single"),
        ({"deploy_environments": "staging"}, "`pipeline.deploy_environments` must be a list"),
        ({"deploy_environments": [{"name": "staging"}]}, "each entry is a name"),
        ({"tags": {"team": {"a": 1}}}, "`pipeline.tags.team` must be a single value"),
    ],
)
def test_bad_settings_are_refused_with_the_fix(pipeline, phrase):
    with pytest.raises(UserError) as refused:
        resolve(pipeline, env={})
    assert phrase in str(refused.value)


def test_the_repository_invoke_yaml_passes():
    from pipeline.config import ROOT

    settings_schema.preflight(ROOT, {})


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("pipeline:\n  region: [unclosed\n", "is not valid YAML"),
        ("pipeline:\n\tregion: x\n", "is not valid YAML"),
        ("- just\n- a list\n", "must be a mapping with a `pipeline:` section"),
        ("pipline:\n  region: us-east-1\n", "unknown section `pipline`. Did you mean `pipeline`?"),
    ],
)
def test_the_file_itself(tmp_path, text, phrase):
    (tmp_path / "invoke.yaml").write_text(text)
    with pytest.raises(UserError, match=phrase.replace("[", r"\[").replace("`", "`").replace("?", r"\?")):
        settings_schema.preflight(tmp_path, {})


@pytest.mark.parametrize(
    ("name", "value", "phrase"),
    [
        ("INVOKE_PIPELINE_VERIFY_TIMEOUT", "banana", "is not a whole number"),
        ("INVOKE_PIPELINE_LOCAL_PORT", "x", "is not a whole number"),
        ("INVOKE_PIPELINE_REGOIN", "eu-west-1", "Did you mean `INVOKE_PIPELINE_REGION`"),
        ("INVOKE_PIPELINE_ENVIRONMENTS", "dev", "set it in invoke.yaml"),
    ],
)
def test_invoke_pipeline_variables(name, value, phrase):
    pipeline = {"verify_timeout": 120, "local_port": 4566, "environments": {"dev": {}}}
    with pytest.raises(UserError, match=phrase):
        settings_schema.check_environment(pipeline, {name: value})
