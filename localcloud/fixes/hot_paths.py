"""Per-request work in moto that a burst of uploads pays thousands of times, done without the waste.

AWS behaviour relied on: S3 -> Lambda keeps up with bursts of uploads (the target is >= 250 uploads/s end to end
on 2 cores, issue 9). Each of these keeps moto's results exactly; only the cost changes:

- ``BackendDict.__getitem__`` (every backend lookup, ~13 per upload) takes moto's one global lock and scans the
  list of every service's backend dict (a Python ``__eq__`` per entry) even when the account's backend exists.
  Here an existing account answers at once; a new one still goes through moto (``reset()`` clears an account's
  backends and that list together, so an account still present is one moto has registered).
- ``EnvironHeaders.__iter__`` (moto iterates a request's headers ~50 times) rebuilds every header's WSGI name to
  look it up in the map of preserved header names, which is empty unless the request carries an S3 metadata
  header with an underscore in its name (``x-amz-meta-my_key``). With nothing preserved it is werkzeug's
  iteration; with something preserved, moto's.
- ``gen_amzn_requestid_long`` draws each of its 52 characters with its own ``random.choice``. Here one draw of
  moto's random source gives all 52 from the same alphabet (seeding moto's random still makes them repeatable).
- ``_load_service_model`` (a service's first request: its botocore model, and its paginators) makes a new botocore
  ``Loader`` each time, and botocore's loader first lists every service it has (~400 directories, a third of an
  S3 first request). Here one loader serves them all and checks only the asked service's directory, with
  botocore's own rule (a service is known when one of its API versions has that model type).
"""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import Iterator
from typing import Any

from moto.core import responses, utils
from moto.core.base_backend import BackendDict
from moto.core.loaders import Loader, moto_root  # botocore's loader plus moto's model extras
from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY, EnvironHeaders

from localcloud.patches import install

# base64 of 39 random bytes is 52 characters; "+" and "/" become letters: moto's alphabet (letters and digits).
_LETTERS_AND_DIGITS = str.maketrans("+/", "Az")


def _existing_first(original: Any) -> Any:
    @functools.wraps(original)
    def __getitem__(self: BackendDict, account_id: str) -> Any:
        try:
            return dict.__getitem__(self, account_id)
        except KeyError:
            return original(self, account_id)

    return __getitem__


def _plain_when_nothing_preserved(original: Any) -> Any:
    werkzeug_iter = EnvironHeaders.__mro__[1].__iter__

    @functools.wraps(original)
    def __iter__(self: EnvironHeaders) -> Any:
        if not self.environ.get(PRESERVED_HEADER_NAMES_ENVIRON_KEY):
            return werkzeug_iter(self)
        return original(self)

    return __iter__


def gen_amzn_requestid_long(headerdict: dict[str, Any] | None = None) -> str:
    from moto.moto_api._internal import mock_random

    raw = mock_random.getrandbits(39 * 8).to_bytes(39, "big")
    request_id = base64.b64encode(raw).decode().translate(_LETTERS_AND_DIGITS)
    if isinstance(headerdict, dict):
        headerdict["x-amzn-requestid"] = request_id
    return request_id


class _KnownServices:
    """botocore's list of services with a model of one type, asked about one service at a time."""

    def __init__(self, loader: Loader, type_name: str) -> None:
        self.loader, self.type_name = loader, type_name

    def __contains__(self, service: object) -> bool:
        for root in self.loader.search_paths:
            directory = os.path.join(root, str(service))
            if os.path.isdir(directory) and any(
                self.loader.file_loader.exists(os.path.join(directory, version, self.type_name))
                for version in os.listdir(directory)
            ):
                return True
        return False

    def __iter__(self) -> Iterator[str]:  # botocore's UnknownServiceError names them all
        return iter(Loader.list_available_services(self.loader, self.type_name))


class _Loader(Loader):
    def list_available_services(self, type_name: str) -> _KnownServices:  # type: ignore[override]
        return _KnownServices(self, type_name)


@functools.cache
def _shared_loader() -> Loader:
    return _Loader(extra_search_paths=[moto_root])  # moto's create_loader(), once


def _load_service_model(service_name: str, model_name: str) -> dict[str, Any]:
    return _shared_loader().load_service_model(service_name, model_name)


def apply() -> None:
    install(BackendDict, "__getitem__", _existing_first(BackendDict.__getitem__))
    install(EnvironHeaders, "__iter__", _plain_when_nothing_preserved(EnvironHeaders.__iter__))
    install(responses, "gen_amzn_requestid_long", gen_amzn_requestid_long)
    install(utils, "_load_service_model", _load_service_model)
