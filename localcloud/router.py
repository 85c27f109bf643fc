"""The WSGI middleware in front of moto: the CloudFormation API goes to the local cloud's own engine
(``localcloud.cloudformation.api``), everything else to moto.

A request is CloudFormation's when its SigV4 credential scope names the ``cloudformation`` service; among those,
actions the engine does not implement (stack sets, the type registry, ...) still go to moto, so its documented
behaviour for them stays. moto's ``/moto-api/reset`` also empties the engine's state, and custom resources'
ResponseURLs (``/_localcloud/cloudformation/responses/``) are the engine's too.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
RESET_PATH = "/moto-api/reset"
RESPONSES_PATH = "/_localcloud/cloudformation/responses/"  # localcloud.cloudformation.responses.PATH


def with_cloudformation(moto_app: WsgiApp) -> WsgiApp:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == RESET_PATH:
            reset_engine()
        elif environ.get("PATH_INFO", "").startswith(RESPONSES_PATH):  # custom resources' ResponseURL
            from localcloud.cloudformation import responses

            return responses.application(environ, start_response)
        elif environ.get("REQUEST_METHOD") == "POST" and "cloudformation" in environ.get("HTTP_AUTHORIZATION", ""):
            answer = _engine_answer(environ)
            if answer is not None:
                return answer(environ, start_response)
        return moto_app(environ, start_response)

    return application


def _engine_answer(environ: dict[str, Any]) -> Response | None:
    from localcloud.cloudformation import api

    request = Request(environ)
    if not api.is_cloudformation(request.headers):
        return None
    body = request.get_data(cache=True)
    # moto reads the body again when the action is left to it.
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
    action = request.form.get("Action")
    if not api.handles(action):
        return None
    endpoint = f"{request.scheme}://{request.host}"
    status, headers, text = api.respond(action, request.form, request.headers, endpoint)
    return Response(text, status=status, headers=headers)


def reset_engine() -> None:
    """Forget every stack (with moto's reset: a new local cloud starts empty)."""
    # Only an engine that has served a request has state; importing it here would only slow the reset down.
    stacks, generic = (sys.modules.get(f"localcloud.cloudformation.{m}") for m in ("stacks", "resources.generic"))
    if stacks is not None:
        stacks.reset()
    if generic is not None:
        generic.forget_all()
