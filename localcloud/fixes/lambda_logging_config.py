"""Lambda keeps a function's ``LoggingConfig``; moto 5.2.5 drops it.

AWS behaviour: CreateFunction / UpdateFunctionConfiguration accept ``LoggingConfig`` (``LogFormat`` Text|JSON,
``ApplicationLogLevel``, ``SystemLogLevel``, ``LogGroup``), GetFunctionConfiguration returns it (default
``{"LogFormat": "Text", "LogGroup": "/aws/lambda/<name>"}``), and the runtime honours it: the log group written
to, ``AWS_LAMBDA_LOG_FORMAT``/``AWS_LAMBDA_LOG_LEVEL`` and the JSON platform lines.

moto gap: ``LambdaFunction`` never reads ``LoggingConfig`` from the request, so it is lost. This fix stores it
as ``fn.logging_config`` (read by ``localcloud.runtime``) and returns it from ``get_configuration``.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.awslambda.models import LambdaFunction

from localcloud.patches import install


def apply() -> None:
    original_init = LambdaFunction.__init__
    original_update = LambdaFunction.update_configuration
    original_get = LambdaFunction.get_configuration

    @functools.wraps(original_init)
    def __init__(self: LambdaFunction, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original_init(self, account_id, spec, *args, **kwargs)
        self.logging_config = dict(spec.get("LoggingConfig") or {})

    @functools.wraps(original_update)
    def update_configuration(self: LambdaFunction, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "LoggingConfig" in config_updates:
            self.logging_config = dict(config_updates["LoggingConfig"] or {})
        return original_update(self, config_updates)

    @functools.wraps(original_get)
    def get_configuration(self: LambdaFunction, on_create: bool = False) -> dict[str, Any]:
        config = original_get(self, on_create)
        logging_config = {
            "LogFormat": "Text",
            "LogGroup": f"/aws/lambda/{self.function_name}",
            **(getattr(self, "logging_config", None) or {}),
        }
        if logging_config["LogFormat"] == "JSON":  # AWS fills the levels in only for JSON
            logging_config.setdefault("ApplicationLogLevel", "INFO")
            logging_config.setdefault("SystemLogLevel", "INFO")
        config["LoggingConfig"] = logging_config
        return config

    install(LambdaFunction, "__init__", __init__)
    install(LambdaFunction, "update_configuration", update_configuration)
    install(LambdaFunction, "get_configuration", get_configuration)
