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
"""

from __future__ import annotations

import base64
import functools
from typing import Any

from moto.core import responses
from moto.core.base_backend import BackendDict
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


def apply() -> None:
    install(BackendDict, "__getitem__", _existing_first(BackendDict.__getitem__))
    install(EnvironHeaders, "__iter__", _plain_when_nothing_preserved(EnvironHeaders.__iter__))
    install(responses, "gen_amzn_requestid_long", gen_amzn_requestid_long)
