"""The fixes that close the gaps between plain moto and the AWS behaviour this project relies on.

One module per gap; each has an ``apply()`` that patches moto through ``localcloud.patches.install`` and a
docstring naming the AWS behaviour and the moto gap. Which fix patches what is declared in the manifest,
``localcloud.patches.PATCHES``, and checked against the installed moto before anything is patched.
``apply_all()`` is called only by ``localcloud.start()``: importing anything never patches moto.
"""

from __future__ import annotations

from localcloud import patches

_applied = False


def apply_all() -> None:
    """Apply every fix once per process (later calls do nothing)."""
    global _applied
    if _applied:
        return
    patches.apply()  # raises PatchError, patching nothing, when the manifest does not fit the installed moto
    _applied = True
