"""Translate ``AWS::S3::Bucket`` property blocks into the shapes moto's S3 backend stores (no moto patches).

moto's S3 backend keeps notification and lifecycle configuration as the S3 XML API parses them
(``CloudFunctionConfiguration`` / ``FilterRule`` / ``Expiration.Days`` ...); CloudFormation spells them
differently (``LambdaConfigurations`` / ``Rules`` / ``ExpirationInDays`` ...). Storing the API shape means
GetBucketNotificationConfiguration and GetBucketLifecycleConfiguration read back what the template said, and
S3 event delivery sees the same configuration as a PutBucketNotificationConfiguration would give it.
"""

from __future__ import annotations

from typing import Any

# CloudFormation block → (API block, API key of the destination ARN, CloudFormation key of that ARN)
_DESTINATIONS = (
    ("LambdaConfigurations", "CloudFunctionConfiguration", "CloudFunction", "Function"),
    ("QueueConfigurations", "QueueConfiguration", "Queue", "Queue"),
    ("TopicConfigurations", "TopicConfiguration", "Topic", "Topic"),
)


def _filter(cfn_filter: dict[str, Any] | None) -> dict[str, Any] | None:
    rules = ((cfn_filter or {}).get("S3Key") or {}).get("Rules") or []
    if not rules:
        return None
    return {"S3Key": {"FilterRule": [{"Name": r["Name"].lower(), "Value": r["Value"]} for r in rules]}}


def notification_config(cfn: dict[str, Any]) -> dict[str, Any]:
    """NotificationConfiguration (CloudFormation) → moto's parsed PutBucketNotificationConfiguration body."""
    config: dict[str, Any] = {}
    for cfn_key, api_key, arn_key, cfn_arn_key in _DESTINATIONS:
        entries = []
        for number, entry in enumerate(cfn.get(cfn_key) or []):
            api_entry = {"Id": f"{cfn_key}-{number}", arn_key: entry[cfn_arn_key], "Event": [entry["Event"]]}
            if _filter(entry.get("Filter")):
                api_entry["Filter"] = _filter(entry.get("Filter"))
            entries.append(api_entry)
        if entries:
            config[api_key] = entries
    if (cfn.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
        config["EventBridgeConfiguration"] = {}
    return config


def _rule_filter(rule: dict[str, Any]) -> dict[str, Any]:
    tags = [{"Key": t["Key"], "Value": t["Value"]} for t in rule.get("TagFilters") or []]
    prefix = rule.get("Prefix")
    if tags and (prefix or len(tags) > 1):
        return {"And": {"Prefix": prefix or "", "Tag": tags}}
    if tags:
        return {"Tag": tags[0]}
    return {"Prefix": prefix or ""}


def _expiration(rule: dict[str, Any]) -> dict[str, Any] | None:
    expiration = {}
    if "ExpirationInDays" in rule:
        expiration["Days"] = int(rule["ExpirationInDays"])
    if "ExpirationDate" in rule:
        expiration["Date"] = rule["ExpirationDate"]
    if "ExpiredObjectDeleteMarker" in rule:
        expiration["ExpiredObjectDeleteMarker"] = rule["ExpiredObjectDeleteMarker"]
    return expiration or None


def _noncurrent_days(rule: dict[str, Any]) -> int | None:
    if rule.get("NoncurrentVersionExpiration"):
        return int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
    if "NoncurrentVersionExpirationInDays" in rule:
        return int(rule["NoncurrentVersionExpirationInDays"])
    return None


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    api: dict[str, Any] = {"ID": rule.get("Id"), "Status": rule["Status"], "Filter": _rule_filter(rule)}
    if _expiration(rule):
        api["Expiration"] = _expiration(rule)
    if _noncurrent_days(rule) is not None:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": _noncurrent_days(rule)}
    if rule.get("AbortIncompleteMultipartUpload"):
        days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
        api["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
    transitions = rule.get("Transitions") or ([rule["Transition"]] if rule.get("Transition") else [])
    if transitions:
        api["Transition"] = [
            {"Days": t.get("TransitionInDays"), "Date": t.get("TransitionDate"), "StorageClass": t["StorageClass"]}
            for t in transitions
        ]
    return api


def lifecycle_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """LifecycleConfiguration.Rules (CloudFormation) → moto's parsed PutBucketLifecycleConfiguration rules."""
    return [_lifecycle_rule(rule) for rule in rules]
