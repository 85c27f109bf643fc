"""Placeholder: the Lambda runtime (Runtime API + awslambdaric workers) is being written."""

from __future__ import annotations

_active = None


class LambdaRuntime:
    def __init__(self, endpoint_url: str, region: str) -> None:
        self.endpoint_url = endpoint_url
        self.region = region

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def set_active(runtime) -> None:
    global _active
    _active = runtime


def active():
    return _active
