"""The local cloud server's request handler: moto's ``MotoRequestHandler`` without importing Flask.

``moto.moto_server.werkzeug_app``, where moto defines it, imports Flask, jinja2, click and flask_cors (about 45 ms
of a cold start) for the Flask app it builds per service; S3's requests are served without one
(``localcloud.s3_app``). The handler itself is werkzeug's with one change, kept here over moto's own helpers.
"""

from __future__ import annotations

from typing import Any

from werkzeug.serving import WSGIRequestHandler


class RequestHandler(WSGIRequestHandler):
    """moto's ``MotoRequestHandler`` (whose module imports Flask): werkzeug's server drops every header with an
    underscore in its name, and S3 metadata keys may have one, so their original spelling is kept for moto's
    ``Request.headers``."""

    def make_environ(self) -> dict[str, Any]:
        from moto.core.request import (
            PRESERVED_HEADER_NAMES_ENVIRON_KEY,
            environ_key_for_header,
            should_preserve_original_header_name,
        )

        environ = super().make_environ()
        dashed = {environ_key_for_header(name) for name in self.headers if "_" not in name}
        names: dict[str, str] = {}
        values: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            key = environ_key_for_header(name)
            if not should_preserve_original_header_name(name) or key in dashed:
                continue  # never let an underscored header stand in for a dashed one
            names.setdefault(key, name)
            values.setdefault(key, []).append(value.replace("\r\n", ""))
        for key, key_values in values.items():
            environ[key] = ",".join(key_values)
        environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = names
        return environ
