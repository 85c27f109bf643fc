"""A function imports only what AWS's Python runtime provides: its own zip first, then awslambdaric and boto3 with
their dependencies, and the standard library. A package that happens to be in the developer's venv (yaml, moto,
invoke...) fails at init with Runtime.ImportModuleError, as on AWS when it is missing from the deployment package.
"""

from __future__ import annotations

import json
import textwrap

from fixtures_lambda.functions import create_function, invoke, zip_of

PROBE = textwrap.dedent(
    """
    import importlib.metadata
    import importlib.util
    import os
    import sqlite3
    import sys

    import boto3

    import vendored


    def handler(event, context):
        buckets = boto3.client("s3").list_buckets()["Buckets"]
        return {
            "vendored": vendored.GREETING,
            "buckets_listed": isinstance(buckets, list),
            "boto3_version": importlib.metadata.version("boto3"),
            "first_path": sys.path[0],
            "task_root": os.environ["LAMBDA_TASK_ROOT"],
            "sqlite": sqlite3.sqlite_version != "",
            "visible": {name: importlib.util.find_spec(name) is not None for name in event["names"]},
        }
    """
)


def test_a_package_only_in_the_venv_is_an_import_module_error(client):
    code = zip_of({"app.py": "import yaml\n\n\ndef handler(event, context):\n    return yaml.safe_dump(event)\n"})
    fn = create_function(client, "handler", code=code)
    response = invoke(client, fn["FunctionName"], {"a": 1})

    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Body"])
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Unable to import module 'app': No module named 'yaml'"


def test_boto3_the_stdlib_and_the_zips_own_modules_are_importable_and_nothing_else(client):
    code = zip_of(
        {
            "app.py": PROBE,
            "vendored/__init__.py": "GREETING = 'from the zip'\n",
        }
    )
    fn = create_function(client, "handler", code=code)
    names = ["awslambdaric", "botocore", "s3transfer", "dateutil", "yaml", "moto", "invoke", "pytest", "localcloud"]
    response = invoke(client, fn["FunctionName"], {"names": names})

    assert "FunctionError" not in response, response["Body"]
    result = json.loads(response["Body"])
    assert result["vendored"] == "from the zip"
    assert result["buckets_listed"] is True
    assert result["boto3_version"]  # its metadata comes along, as in the runtime
    assert result["first_path"] == result["task_root"]  # the zip comes first, even before the runtime's packages
    assert result["sqlite"] is True
    assert result["visible"] == {
        "awslambdaric": True,
        "botocore": True,
        "s3transfer": True,
        "dateutil": True,
        "yaml": False,
        "moto": False,
        "invoke": False,
        "pytest": False,
        "localcloud": False,
    }
