"""A failed verify rolls back to the last verified version (the real tasks on the local cloud)."""

from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from pipeline import commands, rollback, verify
from pipeline.errors import UserError
from pipeline.restore import RolledBack

RAISING = "def handler(event, context):\n    raise RuntimeError('boom: handler is broken')\n"
IMPORT_ERROR = "import no_such_module_anywhere\n\n\ndef handler(event, context):\n    return {}\n"


def _code_sha256(client, settings) -> str:
    config = client("lambda").get_function_configuration(FunctionName=f"{settings.stack_name}-handler")
    return verify.hex_of(config["CodeSha256"])


def _broken(settings, tmp_path, code: str):
    bad_dir = tmp_path / f"bad-{settings.environment}"
    shutil.copytree(settings.lambda_dir, bad_dir)
    (bad_dir / "handler.py").write_text(code)
    return replace(settings, lambda_dir=bad_dir)


@pytest.mark.parametrize("code", [RAISING, IMPORT_ERROR], ids=["raises", "import-error"])
def test_a_failed_verify_puts_the_last_verified_version_back(make_settings, client, tmp_path, code, capsys):
    good = make_settings()
    commands.deploy_and_verify(good)
    good_sha = commands.build_artifact(good).sha256
    bucket = commands.destination.resolve(good, commands.aws.connect(good)).artifact_bucket
    assert rollback.read(client("s3"), bucket, good.artifact_key_prefix).artifact_sha256 == good_sha

    bad = _broken(good, tmp_path, code)
    with pytest.raises(RolledBack) as failed:
        commands.deploy_and_verify(bad)
    message = str(failed.value)
    assert message.startswith("Verify failed: an invocation that started after")
    assert f"runs the last verified version again, artifact {good_sha[:12]}" in message
    assert "ran the failing version" in message and "after the failure" in message
    assert _code_sha256(client, good) == good_sha  # the good code runs again
    assert commands.verify(good).request_id  # and a later verify from the good tree passes
    assert "Rolling back" in capsys.readouterr().out


def test_a_first_deploy_has_nothing_to_roll_back_to(make_settings, client, tmp_path):
    bad = _broken(make_settings(), tmp_path, RAISING)
    with pytest.raises(UserError, match=r"Nothing to roll back to: .* has no verified version yet"):
        commands.deploy_and_verify(bad)
    assert _code_sha256(client, bad) == commands.build_artifact(bad).sha256  # left as it was


def test_no_rollback_keeps_the_failing_version(make_settings, client, tmp_path):
    good = make_settings()
    commands.deploy_and_verify(good)
    bad = _broken(good, tmp_path, RAISING)
    with pytest.raises(verify.VerifyFailed):
        commands.deploy_and_verify(bad, rollback=False)
    assert _code_sha256(client, good) == commands.build_artifact(bad).sha256


def test_verify_from_another_tree_names_both_versions(make_settings, client, tmp_path):
    good = make_settings()
    commands.deploy(good)
    other = _broken(good, tmp_path, (good.lambda_dir / "handler.py").read_text() + "\n# another tree\n")
    with pytest.raises(verify.WrongVersion) as failed:
        commands.verify(other)
    running, expected = commands.build_artifact(good).sha256, commands.build_artifact(other).sha256
    assert f"running {running}, expected {expected}" in str(failed.value)
