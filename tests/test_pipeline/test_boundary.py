"""The task boundary turns what users commonly hit into one paragraph with the fix."""

from __future__ import annotations

import botocore.exceptions
import pytest
from invoke.exceptions import Exit

from pipeline.boundary import boundary, translate
from pipeline.errors import UserError


@pytest.mark.parametrize(
    ("error", "phrase"),
    [
        (botocore.exceptions.SSOTokenLoadError(error_msg="token expired"), "aws sso login"),
        (botocore.exceptions.CredentialRetrievalError(provider="process", error_msg="exit 1"), "aws sso login"),
        (botocore.exceptions.NoCredentialsError(), "No AWS credentials"),
        (botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "invoke localcloud"),
    ],
)
def test_common_aws_errors_become_user_errors(error, phrase):
    assert phrase in str(translate(error))


def test_access_denied_names_the_operation():
    error = botocore.exceptions.ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "ExecuteChangeSet"
    )
    assert "AWS denied ExecuteChangeSet" in str(translate(error))


def test_user_errors_exit_with_their_code_and_no_traceback(capsys):
    with pytest.raises(Exit) as caught, boundary():
        raise UserError("Do the thing.")
    assert caught.value.code == 1
    assert capsys.readouterr().err == "Error: Do the thing.\n"


def test_unknown_errors_are_called_bugs(capsys, monkeypatch):
    monkeypatch.delenv("PIPELINE_DEBUG", raising=False)
    with pytest.raises(Exit), boundary():
        raise ZeroDivisionError("x")
    err = capsys.readouterr().err
    assert "bug in the tasks" in err and "Traceback" not in err
