"""The fixes that close the gaps between plain moto and the AWS behaviour this project relies on.

One module per gap; each has an ``apply()`` that patches moto through ``localcloud.patches.install`` and a
docstring naming the AWS behaviour and the moto gap. Which fix patches what is declared in the manifest,
``localcloud.patches.PATCHES``, and checked against the installed moto before anything is patched.
``apply_at_start()`` is called only by ``localcloud.start()``: importing anything never patches moto.

A local cloud starts with what its first request needs: S3, patched (served without moto's Flask-based dispatcher,
``localcloud.s3_app``). Lambda, Logs and IAM, and moto's dispatcher, with their fixes, are imported and patched by
``apply_deferred()`` on the first request for any other service
(``localcloud.wsgi``) and before the Lambda runtime dispatches an S3 event (``localcloud.async_invoke``): about a
fifth of the start-up's work, which an S3-only client never needs.
"""

from __future__ import annotations

import threading

from localcloud import patches

# Fixes with a target here are installed at start; the others (moto's Lambda, Logs, IAM and dispatcher) later.
AT_START = ("moto.s3.", "moto.core.")
DEFERRED = tuple(
    fix for fix in patches.fixes() if not any(p.target.startswith(AT_START) for p in patches.PATCHES if p.fix == fix)
)

_state = {"started": False, "deferred": False}
_lock = threading.Lock()


def apply_at_start() -> None:
    """Check the whole manifest and install the fixes a first request needs, once per process."""
    if _state["started"]:
        return
    patches.apply(later=DEFERRED)  # raises PatchError, patching nothing, when the manifest does not fit
    _state["started"] = True


def apply_deferred() -> None:
    """Import and patch moto's Lambda, Logs and IAM, once per process (a no-op after the first call)."""
    if _state["deferred"]:
        return
    with _lock:
        if not _state["deferred"]:
            patches.install_later([p for p in patches.PATCHES if p.fix in DEFERRED])
            _state["deferred"] = True


def deferred_applied() -> bool:
    return _state["deferred"]
