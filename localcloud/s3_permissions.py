"""Does S3 accept a bucket's notification configuration? The checks S3 makes when it is put, API or CloudFormation.

- Every Lambda destination must exist and have a resource-based policy statement that lets
  ``s3.amazonaws.com`` call ``lambda:InvokeFunction`` for *this* bucket: a statement's ``aws:SourceArn`` /
  ``aws:SourceAccount`` conditions (what ``AddPermission --source-arn/--source-account`` write) must match the
  bucket's ARN (``arn:aws:s3:::<bucket>``) and owner account. Otherwise S3 answers InvalidArgument "Unable to
  validate the following destination configurations".
- No two configurations (Lambda, SQS or SNS) may share an event type (``s3:ObjectCreated:*`` covers
  ``s3:ObjectCreated:Put``) unless their key filters cannot both match a key (neither prefix starts the other,
  or neither suffix ends the other): InvalidArgument "Configurations overlap. Configurations on the same bucket
  cannot share a common event type."

Configurations use moto's parsed form (``CloudFunctionConfiguration``/``QueueConfiguration``/
``TopicConfiguration`` lists of ``{"CloudFunction"|"Queue"|"Topic": arn, "Event": [...], "Filter": {"S3Key":
{"FilterRule": [{"Name": "prefix", "Value": ...}]}}}``), which is what
``S3Backend.put_bucket_notification_configuration`` takes.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

from moto.s3.exceptions import InvalidArgumentError

from localcloud.fixes.s3_bucket_policy import _as_list, _operator_holds

DESTINATIONS_INVALID = "Unable to validate the following destination configurations"
OVERLAP = "Configurations overlap. Configurations on the same bucket cannot share a common event type."
_INVOKE_ACTIONS = ("lambda:InvokeFunction", "lambda:*", "*")
_KINDS = (
    ("CloudFunctionConfiguration", "CloudFunction"),
    ("QueueConfiguration", "Queue"),
    ("TopicConfiguration", "Topic"),
)


def _policy_statements(function: Any) -> list[dict[str, Any]]:
    policy = getattr(function, "policy", None)
    return list(getattr(policy, "statements", None) or [])


def statement_lets_s3_invoke(statement: dict[str, Any], bucket_name: str, bucket_account_id: str) -> bool:
    """True when this resource-policy statement allows S3 to invoke the function for this bucket."""
    principal = statement.get("Principal")
    services = _as_list(principal.get("Service") if isinstance(principal, dict) else principal)
    if statement.get("Effect", "Allow") != "Allow" or "s3.amazonaws.com" not in services:
        return False
    if not any(action in _INVOKE_ACTIONS for action in _as_list(statement.get("Action"))):
        return False
    context = {"aws:sourcearn": f"arn:aws:s3:::{bucket_name}", "aws:sourceaccount": bucket_account_id}
    return all(
        _operator_holds(operator, expected, context.get(key.lower()))
        for operator, entries in (statement.get("Condition") or {}).items()
        for key, expected in entries.items()
    )


def lambda_allows_s3(function: Any, bucket_name: str, bucket_account_id: str) -> bool:
    """True when ``function`` (a moto LambdaFunction) lets S3 invoke it for notifications of ``bucket_name``."""
    return any(statement_lets_s3_invoke(s, bucket_name, bucket_account_id) for s in _policy_statements(function))


def unvalidated_lambda_destinations(
    config: dict[str, Any], bucket_name: str, bucket_account_id: str, region: str
) -> list[str]:
    """The Lambda destination ARNs in ``config`` that do not exist or do not let S3 invoke them for this bucket."""
    from moto.awslambda.models import lambda_backends

    invalid = []
    for function_config in config.get("CloudFunctionConfiguration") or []:
        arn = function_config["CloudFunction"]
        parts = arn.split(":")
        try:
            function = lambda_backends[parts[4] or bucket_account_id][parts[3] or region].get_function(arn)
        except Exception:  # an unknown function is as invalid as one without permission
            function = None
        if function is None or not lambda_allows_s3(function, bucket_name, bucket_account_id):
            invalid.append(arn)
    return invalid


def _rules(config: dict[str, Any]) -> tuple[str, str]:
    rules = ((config.get("Filter") or {}).get("S3Key") or {}).get("FilterRule") or []
    values = {str(rule.get("Name", "")).lower(): str(rule.get("Value") or "") for rule in _as_list(rules)}
    return values.get("prefix", ""), values.get("suffix", "")


def _events_overlap(first: list[str], second: list[str]) -> bool:
    def covers(pattern: str, event: str) -> bool:
        return pattern == event or (pattern.endswith(":*") and event.startswith(pattern[:-1]))

    return any(covers(a, b) or covers(b, a) for a in first for b in second)


def overlapping(config: dict[str, Any]) -> bool:
    """True when two configurations could both fire for the same event on the same key."""
    entries = [c for kind, _ in _KINDS for c in (config.get(kind) or [])]
    for first, second in combinations(entries, 2):
        (p1, s1), (p2, s2) = _rules(first), _rules(second)
        prefixes = p1.startswith(p2) or p2.startswith(p1)
        suffixes = s1.endswith(s2) or s2.endswith(s1)
        if prefixes and suffixes and _events_overlap(_as_list(first["Event"]), _as_list(second["Event"])):
            return True
    return False


def check_notification_configuration(
    config: dict[str, Any], bucket_name: str, bucket_account_id: str, region: str
) -> None:
    """Raise S3's InvalidArgument as S3 does when this configuration is put on the bucket; else return."""
    if overlapping(config):
        raise InvalidArgumentError(OVERLAP, "Event", "")
    invalid = unvalidated_lambda_destinations(config, bucket_name, bucket_account_id, region)
    if invalid:
        raise InvalidArgumentError(
            DESTINATIONS_INVALID, invalid[0], f"Not authorized to invoke function [{invalid[0]}]"
        )
