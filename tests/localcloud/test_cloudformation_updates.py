"""Stack updates: a no-op is refused, and a Lambda function is updated in place.

AWS: UpdateStack with nothing to change fails with ValidationError "No updates are to be performed."; changing a
function's code or configuration keeps the same function (name, ARN) with a new CodeSha256 when the code
changed; LoggingConfig from the template is the function's from creation. (Plain moto accepts the no-op update
and creates a second function on a code change.)
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from stack_waits import change_set_settled, settled

TEMPLATES = Path(__file__).parent / "templates"


def _template(name: str) -> str:
    return (TEMPLATES / name).read_text()


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", source)
    return buffer.getvalue()


def _upload_code(s3, bucket: str) -> None:
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="v1.zip", Body=_zip("def handler(event, context):\n    return 1\n"))
    v2 = "def handler(event, context):\n    return 2\n\n\ndef main(event, context):\n    return {'version': 2}\n"
    s3.put_object(Bucket=bucket, Key="v2.zip", Body=_zip(v2))


def _params(**values: str) -> list[dict[str, str]]:
    return [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]


def test_update_with_nothing_to_change_is_refused(client) -> None:
    cf = client("cloudformation")
    stack = f"cfn-noop-{uuid.uuid4().hex[:8]}"
    cf.create_stack(StackName=stack, TemplateBody=_template("queues.yaml"))
    settled(cf, stack)

    with pytest.raises(ClientError) as raised:
        cf.update_stack(StackName=stack, TemplateBody=_template("queues.yaml"))

    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert raised.value.response["Error"]["Message"] == "No updates are to be performed."


def _invoke(lam, name: str) -> object:
    response = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "FunctionError" not in response, response["Payload"].read()
    return json.loads(response["Payload"].read())


def _update(cf, stack: str, how: str, params: list[dict[str, str]]) -> None:
    if how == "UpdateStack":
        cf.update_stack(
            StackName=stack, Capabilities=["CAPABILITY_IAM"], TemplateBody=_template("function.yaml"), Parameters=params
        )
        settled(cf, stack)
        return
    cf.create_change_set(
        Capabilities=["CAPABILITY_IAM"],
        StackName=stack,
        ChangeSetName="code",
        TemplateBody=_template("function.yaml"),
        Parameters=params,
    )
    changes = change_set_settled(cf, stack, "code")["Changes"]
    by_id = {c["ResourceChange"]["LogicalResourceId"]: c["ResourceChange"] for c in changes}
    assert (by_id["Function"]["Action"], by_id["Function"]["Replacement"]) == ("Modify", "False")
    cf.execute_change_set(StackName=stack, ChangeSetName="code")
    settled(cf, stack)


@pytest.mark.parametrize("how", ["UpdateStack", "change set"])
def test_function_is_updated_in_place(client, how: str) -> None:
    cf, s3, lam = client("cloudformation"), client("s3"), client("lambda")
    stack = f"cfn-fn-{uuid.uuid4().hex[:8]}"
    code_bucket = f"{stack}-code"
    _upload_code(s3, code_bucket)
    cf.create_stack(
        Capabilities=["CAPABILITY_IAM"],
        StackName=stack,
        TemplateBody=_template("function.yaml"),
        Parameters=_params(CodeBucket=code_bucket, CodeKey="v1.zip"),
    )
    settled(cf, stack)
    before = lam.get_function_configuration(FunctionName=f"{stack}-fn")
    assert before["LoggingConfig"] == {
        "LogFormat": "JSON",
        "ApplicationLogLevel": "DEBUG",
        "SystemLogLevel": "WARN",
        "LogGroup": f"/aws/lambda/{stack}-fn",
    }
    functions_before = len(lam.list_functions()["Functions"])
    assert _invoke(lam, f"{stack}-fn") == 1

    changed = _params(
        CodeBucket=code_bucket,
        CodeKey="v2.zip",
        Handler="handler.main",
        MemorySize="256",
        Timeout="9",
        Greeting="hi",
        LogFormat="Text",
    )
    _update(cf, stack, how, changed)

    after = lam.get_function_configuration(FunctionName=f"{stack}-fn")
    assert cf.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert after["FunctionArn"] == before["FunctionArn"]
    assert after["CodeSha256"] != before["CodeSha256"]
    assert (after["Handler"], after["MemorySize"], after["Timeout"]) == ("handler.main", 256, 9)
    assert after["Environment"]["Variables"] == {"GREETING": "hi"}
    assert after["LoggingConfig"]["LogFormat"] == "Text"
    assert len(lam.list_functions()["Functions"]) == functions_before
    assert _invoke(lam, f"{stack}-fn") == {"version": 2}  # the new code and handler run, not the old worker
