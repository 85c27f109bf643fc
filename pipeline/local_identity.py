"""Is the endpoint really this checkout's local cloud? Asked, not assumed.

The local cloud answers ``GET /_localcloud/identity`` with ``{"product": "localcloud", "checkout": …}``
(``localcloud/wsgi.py``). Port 4566 is also LocalStack's default, and two checkouts on one host would otherwise
share one cloud's state, so the tasks deploy to an endpoint only when it answers as the local cloud started
from this checkout; anything else is a clear error that names what is there and how to get out of its way.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import UserError

IDENTITY_PATH = "/_localcloud/identity"


@dataclass(frozen=True)
class Probe:
    state: str  # "nothing" (no listener), "localcloud", "other"
    identity: dict[str, Any] | None = None
    answer: str = ""  # for "other": what it said instead


def probe(endpoint: str, timeout: float = 2.0) -> Probe:
    try:
        with urllib.request.urlopen(endpoint.rstrip("/") + IDENTITY_PATH, timeout=timeout) as response:
            body = response.read(65536)
    except urllib.error.HTTPError as exc:
        return Probe("other", answer=f"HTTP {exc.code} {exc.reason}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, ConnectionRefusedError | TimeoutError) or "refused" in str(reason).lower():
            return Probe("nothing")
        return Probe("other", answer=f"no HTTP answer ({reason})")
    try:
        identity = json.loads(body)
    except ValueError:
        return Probe("other", answer="HTTP 200 with a body that is not the local cloud's JSON")
    if not isinstance(identity, dict) or identity.get("product") != "localcloud":
        return Probe("other", answer="HTTP 200 with JSON that does not name the local cloud")
    return Probe("localcloud", identity)


def _port(endpoint: str) -> str:
    parsed = urllib.parse.urlparse(endpoint)
    return str(parsed.port or (443 if parsed.scheme == "https" else 80))


def check(endpoint: str, checkout: Path, found: Probe) -> None:
    """Raise a UserError unless ``found`` is the local cloud started from ``checkout`` (or nothing at all)."""
    port = _port(endpoint)
    if found.state == "other":
        raise UserError(
            f"Something else, perhaps LocalStack, is listening on {port}: {endpoint}{IDENTITY_PATH} gave "
            f"{found.answer}, not the local cloud's identity. Stop it, or set local_port in invoke.yaml (for "
            f"example `local_port: 4567`) and start the local cloud there with `invoke localcloud --port 4567`."
        )
    if found.state != "localcloud" or found.identity is None:
        return
    theirs = str(found.identity.get("checkout", ""))
    if Path(theirs).resolve() != checkout.resolve():
        raise UserError(
            f"The local cloud on {port} was started from {theirs} (pid {found.identity.get('pid', '?')}), not from "
            f"this checkout ({checkout}); its stacks, buckets and logs are that checkout's. Stop it there, or give "
            f"this checkout its own: set local_port in invoke.yaml (for example `local_port: 4567`) and run "
            "`invoke localcloud --port 4567` here."
        )


def require(endpoint: str, checkout: Path) -> Probe:
    """Probe and check; returns the probe (state "nothing" when no local cloud is running)."""
    found = probe(endpoint)
    check(endpoint, checkout, found)
    return found


def running(endpoint: str, checkout: Path, timeout: float = 0.5) -> bool:
    """True when ``checkout``'s local cloud answers at the endpoint, False when nothing listens there.

    Anything else on that port (LocalStack, another checkout's local cloud) is a UserError that says what it is:
    the endpoint is asked who it is, never assumed.
    """
    parsed = urllib.parse.urlparse(endpoint)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 80), timeout=timeout):
            pass
    except OSError:
        return False
    return require(endpoint, checkout).state == "localcloud"
