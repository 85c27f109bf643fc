"""S3 served without Flask: the requests moto's dispatcher would give to S3, answered as its Flask app answers them.

moto's server builds one Flask app per service (``moto.moto_server.werkzeug_app.create_backend_app``): a werkzeug
URL map of the backend's ``flask_paths``, each handler wrapped by ``moto.core.utils.convert_to_flask_response``,
and flask_cors's defaults (``CORS(app)``) on every answer. Importing Flask, jinja2, click and flask_cors is about
45 ms of a cold start, and S3 is what most clients call first. So a request that moto's
``DomainDispatcherApplication`` would give S3's app (``is_plain_s3``: its checks, in its order) is answered here
by the same URL map and handlers, with the headers flask_cors's defaults add; every other request goes to moto's
dispatcher, imported at its first use. ``tests/localcloud/test_s3_app.py`` replays requests against both and
compares the answers byte for byte.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, Map, Rule
from werkzeug.wrappers import Response

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
HTTP_METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]  # werkzeug_app.HTTP_METHODS
DEFAULT_ACCOUNT_ID = "123456789012"
# The regions a signed request may name for this path: AWS's region shape (moto matches the host it builds from
# the region against every service's URL pattern; for these it is S3's).
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
# flask_cors's defaults (origins "*", always_send, vary_header, no credentials, no max age), as its headers say.
CORS_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


def is_plain_s3(environ: dict[str, Any]) -> bool:
    """Whether moto's dispatcher (``DomainDispatcherApplication.get_application``) gives this request S3's app."""
    path = environ.get("PATH_INFO", "")
    if path.startswith(("/moto-api", "/latest/meta-data/", "/latest/api/")) or path == "/favicon.ico":
        return False
    if path.startswith("/v20180820/") or "s3-control" in environ.get("HTTP_HOST", ""):
        return False  # S3 Control
    auth = environ.get("HTTP_AUTHORIZATION")
    if auth:  # SigV4: the credential scope's service and region
        words = auth.split(",")[0].split()
        scope = words[1].split("/") if len(words) > 1 else []
        return len(scope) == 5 and scope[3].lower() == "s3" and REGION.fullmatch(scope[2]) is not None
    # Unsigned: moto reads the X-Amz-Target header, a form body's Action and Version, and two path shapes.
    if "HTTP_X_AMZ_TARGET" in environ or environ.get("CONTENT_TYPE", "").startswith("application/x-www-form"):
        return False
    if path.rstrip("/").endswith(("/.well-known/jwks.json", "/.well-known/openid-configuration")):
        return False
    end = path.find("/", 1)
    return end < 0 or len(path[1:end].split("_")) != 2  # "/<service>_<region>/...": moto's requests to itself


class RegexConverter(BaseConverter):
    """moto's ``moto.moto_server.utilities.RegexConverter`` (that module imports Flask's test client)."""

    part_isolating = False

    def __init__(self, url_map: Any, *items: Any) -> None:
        super().__init__(url_map)
        self.regex = items[0]


class FlaskLikeResponse(Response):
    default_mimetype = "text/html"  # flask.Response's


class S3App:
    """S3's URL map and handlers, built at the first request, as ``create_backend_app("s3")`` builds them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: tuple[Map, list[Callable[..., Any]]] | None = None

    def _build(self) -> tuple[Map, list[Callable[..., Any]]]:
        from moto.backends import get_backend
        from moto.core.base_backend import BackendDict

        backend_dict = get_backend("s3")
        if isinstance(backend_dict, BackendDict):
            regions = backend_dict[DEFAULT_ACCOUNT_ID]
            backend = regions["us-east-1"] if "us-east-1" in regions else regions["aws"]
        else:
            backend = backend_dict["global"]
        url_map, handlers = Map(), []
        url_map.converters["regex"] = RegexConverter
        for url_path, handler in backend.flask_paths.items():
            if url_path:  # moto skips an empty path too
                url_map.add(Rule(url_path, endpoint=len(handlers), methods=HTTP_METHODS, strict_slashes=False))
                handlers.append(handler)
        return url_map, handlers

    def routes(self) -> tuple[Map, list[Callable[..., Any]]]:
        with self._lock:
            if self._routes is None:
                self._routes = self._build()
            return self._routes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = _server_request_class()(environ)
        try:
            response = _with_cors(request, self._answer(request))
            return response(environ, start_response)
        finally:
            request.close()  # as Flask's request context does: uploaded files

    def _answer(self, request: Any) -> Response:
        url_map, handlers = self.routes()
        try:
            endpoint, _ = url_map.bind_to_environ(request.environ).match()
        except HTTPException as error:  # Flask answers a routing error with the exception's own page
            return FlaskLikeResponse.force_type(error, request.environ)
        try:
            return _call(handlers[endpoint], request)
        except HTTPException as error:
            return FlaskLikeResponse.force_type(error, request.environ)


@functools.cache
def _server_request_class() -> type:
    from moto.core.request import Request

    class ServerRequest(Request):
        from_wsgi_server = True  # moto's BackendRequest, without Flask's request class

    return ServerRequest


def _call(handler: Callable[..., Any], request: Any) -> Response:
    """``convert_to_flask_response.__call__``, with werkzeug's request and response in place of Flask's."""
    from botocore.exceptions import ClientError
    from moto.core.request import normalize_request
    from moto.moto_api import recorder

    try:
        request = normalize_request(request)
        recorder._record_request(request)
        result = handler(request, request.raw_url, dict(request.headers))
    except ClientError as exc:
        result = 400, {}, exc.response["Error"]["Message"]
    status, headers, content = result if len(result) == 3 else (200, {}, result)
    response = FlaskLikeResponse(response=content, status=status, headers=headers)
    if request.method == "HEAD" and "content-length" in headers:
        response.headers["Content-Length"] = headers["content-length"]
    return response


def _with_cors(request: Any, response: Response) -> Response:
    """The headers flask_cors's defaults add to every answer that has no Access-Control-Allow-Origin yet."""
    from moto.settings import DISABLE_GLOBAL_CORS

    if DISABLE_GLOBAL_CORS or response.headers.get("Access-Control-Allow-Origin"):
        return response
    origin = request.headers.get("Origin")
    added = [("Access-Control-Allow-Origin", origin or "*")]
    if request.headers.get("Access-Control-Request-Private-Network") == "true":
        added.append(("Access-Control-Allow-Private-Network", "false"))
    if request.method == "OPTIONS":  # a preflight
        method = request.headers.get("Access-Control-Request-Method", "").upper()
        if method and method in CORS_METHODS:  # flask_cors tests the joined string
            asked = request.headers.get("Access-Control-Request-Headers")
            allowed = ", ".join(sorted(h.strip() for h in asked.split(","))) if asked else None
            added += [("Access-Control-Allow-Headers", allowed), ("Access-Control-Allow-Methods", CORS_METHODS)]
    if origin:
        added.append(("Vary", "Origin"))
    for name, value in added:
        if value:
            response.headers.add(name, value)
    return response


def with_plain_s3(moto_app: Callable[[], WsgiApp]) -> WsgiApp:
    """Plain S3 requests to ``S3App``, every other one to moto's dispatcher (``moto_app()``, built once)."""
    s3 = S3App()
    built: list[WsgiApp] = []
    lock = threading.Lock()

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if is_plain_s3(environ):
            return s3(environ, start_response)
        if not built:
            with lock:
                if not built:
                    built.append(moto_app())
        return built[0](environ, start_response)

    return application
