"""Secrets never reach the output: access key ids, secret keys, session tokens and request signatures.

``invoke --debug`` turns on botocore's debug log, which prints every request's headers (``Authorization``, with
the access key id and the signature, and ``X-Amz-Security-Token``), its canonical request and its signature.
``install()`` (run by the task boundary) wraps the logging record factory, so every record, from any logger and
for any handler, is redacted when it is made; the boundary redacts the tracebacks and error messages it prints.
The credentials in the environment and in the session are redacted by value, and the shapes AWS uses by pattern.
"""

from __future__ import annotations

import logging
import os
import re
import threading

REDACTED = "<redacted>"
# Access key ids (AKIA long-term, ASIA temporary, and the other IAM unique-id prefixes): 4 letters + 16.
ACCESS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|A3T[A-Z0-9])[A-Z0-9]{16}\b")
PATTERNS = [
    (ACCESS_KEY_ID, REDACTED),
    (re.compile(r"(Credential=)[^,\s'\"&]+", re.IGNORECASE), rf"\1{REDACTED}"),
    (re.compile(r"(Signature[=:]\s*)[0-9a-f]{16,}", re.IGNORECASE), rf"\1{REDACTED}"),
    (re.compile(r"(Security-Token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,&}]+", re.IGNORECASE), rf"\1{REDACTED}"),
    (
        re.compile(
            r"((?:secret_access_key|session_token|security_token|SecretAccessKey|SessionToken)['\"]?\s*[:=]\s*"
            r"b?['\"]?)[^'\"\s,}<&]+",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(<(?:SecretAccessKey|SessionToken|AccessKeyId)>)[^<]+"), rf"\1{REDACTED}"),
]
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
MIN_SECRET = 16  # shorter values (the local cloud's dummy "localcloud") are not secrets, and too common to hide

_known: set[str] = set()
_lock = threading.Lock()
_installed = False


def register(*values: str | None) -> None:
    """Redact these exact values from now on (credentials the tasks hold)."""
    with _lock:
        _known.update(v for v in values if v and len(v) >= MIN_SECRET)


def register_session(session) -> None:
    """The credentials a boto3 session resolved (profile, SSO, web identity...), once it has them."""
    try:
        frozen = session.get_credentials().get_frozen_credentials()
    except Exception:  # the credentials fail to load: the task reports that; the patterns still apply
        return
    register(frozen.access_key, frozen.secret_key, frozen.token)


def redact(text: str) -> str:
    for value in sorted(_known, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def install(environ: dict[str, str] | None = None) -> None:
    """Redact every log record from now on, and the credentials of the environment."""
    global _installed
    register(*((os.environ if environ is None else environ).get(name) for name in CREDENTIAL_VARIABLES))
    with _lock:
        if _installed:
            return
        _installed = True
    make = logging.getLogRecordFactory()

    def redacted(*args, **kwargs) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            record.msg, record.args = redact(record.getMessage()), None
        except Exception:  # a record whose arguments do not fit its format: keep it, redacted as far as it goes
            record.msg, record.args = redact(str(record.msg)), None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(redacted)
