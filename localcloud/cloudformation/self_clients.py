"""boto3 clients on the local cloud itself, in a given account and region (for custom resources and drift).

CloudFormation's own calls to other services (invoking a custom resource's function, reading a resource's live
configuration) go through the local cloud's public API, as they go through AWS's, so they see what any client
sees. The account is chosen with moto's ``x-moto-account-id`` request header, which the engine honours too.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

_KEY = {"aws_access_key_id": "localcloud", "aws_secret_access_key": "localcloud"}
_CONFIG = Config(retries={"max_attempts": 2}, s3={"addressing_style": "path"})


def client(service: str, endpoint: str, region: str, account_id: str | None = None) -> Any:
    """A client of ``service`` on ``endpoint``; in ``account_id`` when given, else the key's own account."""
    made = boto3.client(service, endpoint_url=endpoint, region_name=region, config=_CONFIG, **_KEY)
    if account_id:
        made.meta.events.register("before-send", _in_account(account_id))
    return made


def factory(endpoint: str, region: str, account_id: str):  # type: ignore[no-untyped-def]
    """``service -> client`` with one client per service, all in ``account_id``."""
    made: dict[str, Any] = {}

    def get(service: str) -> Any:
        if service not in made:
            made[service] = client(service, endpoint, region, account_id)
        return made[service]

    return get


def _in_account(account_id: str):  # type: ignore[no-untyped-def]
    def add_header(request: Any, **_kwargs: Any) -> None:
        request.headers["x-moto-account-id"] = account_id

    return add_header
