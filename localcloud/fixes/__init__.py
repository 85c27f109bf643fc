"""The fixes that close the gaps between plain moto and the AWS behaviour this project relies on.

One module per gap; each has an ``apply()`` that patches moto and a docstring naming the AWS behaviour and the
moto gap. ``apply_all()`` is called only by ``localcloud.start()``: importing anything never patches moto.
"""

from __future__ import annotations

import importlib

# Lambda execution and S3 events (the runtime side).
RUNTIME_FIXES: tuple[str, ...] = (
    "lambda_logging_config",
    "logs_locking",
    "lambda_invoke",
    "lambda_invoke_qualifier",
    "lambda_event_invoke_config",
    "s3_events",
    "s3_notification_validation",
    "s3_bucket_policy",
    "s3_checksums",
    "request_dispatch",
)

# CloudFormation.
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
    for name in RUNTIME_FIXES + CLOUDFORMATION_FIXES:
        importlib.import_module(f"localcloud.fixes.{name}").apply()
    _applied = True
