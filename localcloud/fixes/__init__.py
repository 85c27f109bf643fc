"""The fixes that close the gaps between plain moto and the AWS behaviour this project relies on.

One module per gap; each has an ``apply()`` that patches moto through ``localcloud.patches.install`` and a
docstring naming the AWS behaviour and the moto gap. Which fix patches what is declared in the manifest,
``localcloud.patches.PATCHES``, and checked against the installed moto before anything is patched.
``apply_all()`` is called only by ``localcloud.start()``: importing anything never patches moto.
"""

from __future__ import annotations

import importlib

from localcloud import patches

# CloudFormation: the engine being replaced; these patch moto directly, outside the manifest.
CLOUDFORMATION_FIXES: tuple[str, ...] = (
    "cfn_stack_events",
    "cfn_deploy",
    "cfn_update",
    "cfn_change_plan",
    "cfn_stack_guards",
    "cfn_change_sets",
    "cfn_change_set_api",
    "cfn_intrinsics",
    "cfn_resource_types",
    "cfn_s3_bucket",
    "cfn_lambda_update",
    "cfn_in_place_updates",
    "cfn_list_change_sets",
    "cfn_parameter_constraints",
    "cfn_template_size",
    "cfn_template_types",
)

_applied = False


def apply_all() -> None:
    """Apply every fix once per process (later calls do nothing)."""
    global _applied
    if _applied:
        return
    patches.apply()  # raises PatchError, patching nothing, when the manifest does not fit the installed moto
    for name in CLOUDFORMATION_FIXES:
        importlib.import_module(f"localcloud.fixes.{name}").apply()
    _applied = True
