"""Invoke honours Qualifier: a published version or an alias runs that version's code, as in AWS."""

from __future__ import annotations

import json

from fixtures_lambda.functions import create_function, invoke, zip_of


def _returns(value: str) -> bytes:
    return zip_of({"app.py": f"def handler(event, context):\n    return {value!r}\n"})


def test_invoke_with_a_qualifier_runs_that_version(client):
    fn = create_function(client, "handler", code=_returns("one"))
    name = fn["FunctionName"]
    lam = client("lambda")
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
    lam.update_function_code(FunctionName=name, ZipFile=_returns("two"))

    latest = invoke(client, name)
    assert (json.loads(latest["Body"]), latest["ExecutedVersion"]) == ("two", "$LATEST")
    by_version = invoke(client, name, Qualifier=version)
    assert (json.loads(by_version["Body"]), by_version["ExecutedVersion"]) == ("one", version)
    by_alias = invoke(client, name, Qualifier="live")
    assert (json.loads(by_alias["Body"]), by_alias["ExecutedVersion"]) == ("one", version)
    qualified_name = invoke(client, f"{name}:live")
    assert (json.loads(qualified_name["Body"]), qualified_name["ExecutedVersion"]) == ("one", version)
