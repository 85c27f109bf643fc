"""The task boundary: the one place errors become a message and an exit code.

A ``UserError`` prints its paragraph. The AWS errors users commonly hit (no credentials, no endpoint, access
denied, throttling) are translated into one. Anything else is a bug: one line, and the full traceback with
``PIPELINE_DEBUG=1`` (or ``invoke --debug TASK``). Everything printed here, and every log record, is redacted
first (``pipeline.redact``): no credential or signature reaches the output, with or without debug.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator

from invoke.exceptions import Exit

from pipeline.errors import UserError

# tasks.py enters this boundary in every task, so botocore and the renderer are imported only once an error
# needs them: collecting the tasks (`invoke --list`) stays instant.


def debug_enabled() -> bool:
    return bool(os.environ.get("PIPELINE_DEBUG")) or logging.getLogger().isEnabledFor(logging.DEBUG)


def translate(exc: BaseException) -> UserError | None:
    """The user-facing form of an exception from boto3/botocore, or None if it is not one we know."""
    import botocore.exceptions

    # Failures to *load* credentials (as opposed to AWS rejecting them), most often an expired SSO session.
    credential_errors = (
        botocore.exceptions.SSOError,
        botocore.exceptions.TokenRetrievalError,
        botocore.exceptions.CredentialRetrievalError,
        botocore.exceptions.InvalidConfigError,
    )
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return UserError(
            "No AWS credentials were found. Set --profile / AWS_PROFILE, or export credentials; in GitHub "
            "Actions the OIDC step provides them."
        )
    if isinstance(exc, credential_errors):
        return UserError(
            f"Loading AWS credentials failed: {exc} If the profile uses IAM Identity Center, run `aws sso login "
            "--profile NAME`; for a credential_process or web identity profile, check that it works on its own "
            "(`aws sts get-caller-identity --profile NAME`)."
        )
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return UserError(
            f"Could not connect to {exc.kwargs.get('endpoint_url')}. If that is the local cloud, start it with "
            "`invoke localcloud`; otherwise check the network, the region and AWS_ENDPOINT_URL."
        )
    if isinstance(exc, botocore.exceptions.ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        operation = getattr(exc, "operation_name", "the call")
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return UserError(
                f"AWS denied {operation}: {message} The caller needs that permission. For the GitHub deploy role, "
                "re-run `invoke bootstrap` so its policy matches this repository's version."
            )
        if code in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException"):
            return UserError(f"AWS rejected the credentials ({code}: {message}). Refresh them and try again.")
        return UserError(
            f"AWS returned {code} for {operation}: {message} Nothing else was changed by this task; fix the cause "
            "and run it again (PIPELINE_DEBUG=1 shows the full traceback)."
        )
    return None


@contextlib.contextmanager
def boundary() -> Iterator[None]:
    from pipeline import redact

    redact.install()
    try:
        yield
    except Exit:
        raise
    except KeyboardInterrupt:
        from pipeline import report

        report.error("Interrupted.")
        raise Exit(code=130) from None
    except Exception as exc:
        from pipeline import report

        known = exc if isinstance(exc, UserError) else translate(exc)
        if debug_enabled():
            sys.stderr.write(redact.redact(traceback.format_exc()))
        if known is None:
            report.error(
                redact.redact(
                    f"Unexpected {type(exc).__name__}: {exc}. This is a bug in the tasks; run the same task again "
                    "with PIPELINE_DEBUG=1 for the traceback (credentials are redacted from it) and report it."
                )
            )
            raise Exit(code=1) from None
        report.error(redact.redact(str(known)))
        raise Exit(code=known.exit_code) from None
