"""One event invoke config per function and qualifier: Put replaces it, Update merges into it, all agree.

AWS behaviour: a function (per qualifier: ``$LATEST``, a version or an alias) has at most one event invoke
config. ``PutFunctionEventInvokeConfig`` replaces it whole (a field left out goes back to its default);
``UpdateFunctionEventInvokeConfig`` changes only the fields given and keeps the rest; Get, List and the
asynchronous invocations themselves all see that one config. Each call takes ``Qualifier``.

moto gap (5.2.5): every Put or Update appends another config to ``LambdaFunction.event_invoke_config``; Get
returns the first, while the runtime reads the last, so a function could report one retry policy and apply
another. Update replaces instead of merging (Put ``MaximumRetryAttempts=0`` then Update a destination made
3 attempts; AWS makes 1), and ``Qualifier`` is ignored.

This fix replaces the backend's Put/Update/Get/Delete/List with versions that keep a single merged config on the
function object the qualifier names (the version an alias points to), and makes the API pass ``Qualifier``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import unquote

from moto.awslambda.exceptions import UnknownEventConfig
from moto.awslambda.models import EventInvokeConfig, LambdaBackend
from moto.awslambda.responses import LambdaResponse
from moto.core.responses import ActionResult

from localcloud.patches import install


def _qualified_arn(fn: Any, qualifier: str | None) -> str:
    base = ":".join(fn.function_arn.split(":")[:7])
    return f"{base}:{qualifier or fn.version or '$LATEST'}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _store(fn: Any, config: dict[str, Any], qualifier: str | None) -> dict[str, Any]:
    event_config = EventInvokeConfig(_qualified_arn(fn, qualifier), _now(), config)  # validates
    fn.event_invoke_config = [event_config]
    return event_config.response()


def put_function_event_invoke_config(
    self: LambdaBackend, function_name: str, config: dict[str, Any], qualifier: str | None = None
) -> dict[str, Any]:
    fn = self.get_function(function_name, qualifier)
    fields = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
    return _store(fn, {k: v for k, v in config.items() if k in fields}, qualifier)


def update_function_event_invoke_config(
    self: LambdaBackend, function_name: str, config: dict[str, Any], qualifier: str | None = None
) -> dict[str, Any]:
    fn = self.get_function(function_name, qualifier)
    current = dict(fn.event_invoke_config[-1].config) if fn.event_invoke_config else {}
    for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
        if key in config:
            current[key] = config[key]
    if "DestinationConfig" in config:
        destinations = dict(current.get("DestinationConfig") or {})
        destinations.update(config["DestinationConfig"] or {})
        current["DestinationConfig"] = destinations
    return _store(fn, current, qualifier)


def get_function_event_invoke_config(
    self: LambdaBackend, function_name: str, qualifier: str | None = None
) -> dict[str, Any]:
    fn = self.get_function(function_name, qualifier)
    if not fn.event_invoke_config:
        raise UnknownEventConfig(_qualified_arn(fn, qualifier))
    return fn.event_invoke_config[-1].response()


def delete_function_event_invoke_config(self: LambdaBackend, function_name: str, qualifier: str | None = None) -> None:
    self.get_function_event_invoke_config(function_name, qualifier)  # 404 when there is none
    self.get_function(function_name, qualifier).event_invoke_config = []


def list_function_event_invoke_configs(self: LambdaBackend, function_name: str) -> dict[str, Any]:
    versions = self.list_versions_by_function(self.get_function(function_name).function_name)
    configs = [fn.event_invoke_config[-1].response() for fn in versions if fn.event_invoke_config]
    return {"FunctionEventInvokeConfigs": configs}


def _function_name(response: LambdaResponse) -> str:
    return unquote(response.path.split("/functions/", 1)[1].split("/", 1)[0])


def _qualifier(response: LambdaResponse) -> str | None:
    return response._get_param("Qualifier", None)


def _put(self: LambdaResponse) -> ActionResult:
    fn_name = _function_name(self)
    return ActionResult(self.backend.put_function_event_invoke_config(fn_name, self.json_body, _qualifier(self)))


def _update(self: LambdaResponse) -> str:
    fn_name = _function_name(self)
    return json.dumps(self.backend.update_function_event_invoke_config(fn_name, self.json_body, _qualifier(self)))


def _get(self: LambdaResponse) -> ActionResult:
    return ActionResult(self.backend.get_function_event_invoke_config(_function_name(self), _qualifier(self)))


def _delete(self: LambdaResponse) -> Any:
    self.backend.delete_function_event_invoke_config(_function_name(self), _qualifier(self))
    return 204, {"status": 204}, json.dumps({})


def apply() -> None:
    install(LambdaBackend, "put_function_event_invoke_config", put_function_event_invoke_config)
    install(LambdaBackend, "update_function_event_invoke_config", update_function_event_invoke_config)
    install(LambdaBackend, "get_function_event_invoke_config", get_function_event_invoke_config)
    install(LambdaBackend, "delete_function_event_invoke_config", delete_function_event_invoke_config)
    install(LambdaBackend, "list_function_event_invoke_configs", list_function_event_invoke_configs)
    install(LambdaResponse, "put_function_event_invoke_config", _put)
    install(LambdaResponse, "update_function_event_invoke_config", _update)
    install(LambdaResponse, "get_function_event_invoke_config", _get)
    install(LambdaResponse, "delete_function_event_invoke_config", _delete)
