"""Pre-deployment validation, as CloudFormation runs it at CreateStack, UpdateStack and CreateChangeSet since 2025.

Two checks run before anything is provisioned (User Guide, "Validate stack deployments"), both in FAIL mode:
- property syntax against the resource type's provider schema (ValidationName ``PROPERTY_VALIDATION``; the
  stack's or change set's StatusReason names the hook ``AWS::EarlyValidation::PropertyValidation``): unknown
  property, type, enum, pattern, length, range, required. The schemas are cfn-lint's copies of CloudFormation's
  own (``schemas.py``), checked with ``jsonschema``; no type is hand-written here;
- a name that an existing resource already has (``NAME_CONFLICT_VALIDATION``, hook
  ``AWS::EarlyValidation::ResourceExistenceCheck``), for the types whose schema names a resource by one writable,
  create-only property (BucketName, FunctionName, ...).
Change sets also get WARN-mode findings, which leave the change set executable: a bucket the change set would
delete (removed, or replaced) that still holds objects (``BUCKET_EMPTINESS_VALIDATION``, ``bucket_emptiness``).

The ValidationNames are DescribeEvents' as AWS answers them: PROPERTY_VALIDATION in AWS's DescribeEvents example
for the pre-deployment validation launch (as quoted by takech9203/aws-news-summary, 2026-06-30),
NAME_CONFLICT_VALIDATION in aws-cdk-cli's EarlyValidationReporter (``validationName`` "Example:
`NAME_CONFLICT_VALIDATION`"), and both NAME_CONFLICT_VALIDATION and BUCKET_EMPTINESS_VALIDATION, with the
bucket's reason, in the output rain printed from DescribeEvents against AWS (aws-cloudformation/rain#744).

``required_capability`` says which IAM capability a template needs (CreateStack API reference, Capabilities).
Values that are still intrinsic functions after parameters are resolved satisfy every schema keyword, as
CloudFormation cannot judge them before provisioning either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import regex
from jsonschema import Draft7Validator, ValidationError, validators

from localcloud.cloudformation import schemas, validate_messages

PROPERTY_VALIDATION = "PROPERTY_VALIDATION"
NAME_CONFLICT_VALIDATION = "NAME_CONFLICT_VALIDATION"
BUCKET_EMPTINESS_VALIDATION = "BUCKET_EMPTINESS_VALIDATION"
# The hook each FAIL-mode validation is named by in a StatusReason, in the order AWS lists them there.
_HOOKS = {
    NAME_CONFLICT_VALIDATION: "AWS::EarlyValidation::ResourceExistenceCheck",
    PROPERTY_VALIDATION: "AWS::EarlyValidation::PropertyValidation",
}

# The IAM types that need CAPABILITY_IAM, and the property that gives each a custom name (which needs
# CAPABILITY_NAMED_IAM instead). From the CreateStack API reference, parameter Capabilities.
_IAM_TYPES = {
    "AWS::IAM::AccessKey": None,
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": None,
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::UserToGroupAddition": None,
}
_SCHEMA_ONLY_KEYS = ("$schema", "$id", "handlers")
# Types pre-deployment validation leaves alone (User Guide, "Validate stack deployments", resource limitations).
_NOT_VALIDATED = frozenset(("AWS::CloudFormation::CustomResource", "AWS::CloudFormation::Macro", "AWS::AppMesh::Mesh"))


@dataclass(frozen=True)
class Finding:
    """One failed validation, in the terms of DescribeEvents' VALIDATION_ERROR event."""

    validation_name: str  # ValidationName
    status_reason: str  # ValidationStatusReason
    path: str  # ValidationPath, e.g. /Resources/Bucket/Properties/BucketName
    failure_mode: str = "FAIL"  # ValidationFailureMode: FAIL stops the operation, WARN does not
    logical_id: str = ""
    resource_type: str = ""
    physical_id: str | None = None  # the identifier already taken, for a name conflict


def findings(resources: dict[str, dict], *, name_taken: Callable[[str, str], bool]) -> list[Finding]:
    """Every validation failure of ``resources`` (logical id -> {"Type", "Properties"}), template order.

    ``name_taken(type_name, name)`` answers whether a resource of that type and name exists outside this stack
    (a name the stack already owns is no conflict).
    """
    found: list[Finding] = []
    for logical_id, resource in resources.items():
        type_name = resource.get("Type", "")
        properties = resource.get("Properties") or {}
        found.extend(_name_conflicts(logical_id, type_name, properties, name_taken))
        found.extend(property_findings(logical_id, type_name, properties))
    return found


def failed(found: Iterable[Finding]) -> list[Finding]:
    """The findings that stop the operation (FAIL mode)."""
    return [finding for finding in found if finding.failure_mode == "FAIL"]


def status_reason(found: Iterable[Finding]) -> str | None:
    """The change set's (or stack's) StatusReason when FAIL-mode findings stop it, else None.

    Text as AWS gives it, e.g. "The following hook(s)/validation failed: [AWS::EarlyValidation::
    ResourceExistenceCheck]. To troubleshoot Early Validation errors, use the DescribeEvents API for detailed
    failure information."
    """
    names = {finding.validation_name for finding in failed(found)}
    if not names:
        return None
    ordered = [hook for name, hook in _HOOKS.items() if name in names] + sorted(names - set(_HOOKS))
    return (
        f"The following hook(s)/validation failed: [{', '.join(ordered)}]. To troubleshoot Early Validation "
        "errors, use the DescribeEvents API for detailed failure information."
    )


def required_capability(resources: dict[str, dict]) -> str | None:
    """CAPABILITY_NAMED_IAM if an IAM resource has a custom name, CAPABILITY_IAM for other IAM resources, else None."""
    needed = None
    for resource in resources.values():
        type_name = resource.get("Type")
        if type_name not in _IAM_TYPES:
            continue
        name_property = _IAM_TYPES[type_name]
        if name_property and name_property in (resource.get("Properties") or {}):
            return "CAPABILITY_NAMED_IAM"
        needed = "CAPABILITY_IAM"
    return needed


def missing_capability(resources: dict[str, dict], capabilities: Iterable[str]) -> str | None:
    """The capability the caller must add, or None when the given ones suffice (NAMED_IAM covers IAM)."""
    needed = required_capability(resources)
    given = set(capabilities)
    if needed is None or needed in given or (needed == "CAPABILITY_IAM" and "CAPABILITY_NAMED_IAM" in given):
        return None
    return needed


def capability_message(capability: str) -> str:
    """InsufficientCapabilitiesException's message, as AWS words it."""
    return f"Requires capabilities : [{capability}]"


def property_findings(logical_id: str, type_name: str, properties: object) -> list[Finding]:
    """Property syntax findings for one resource; none for a type without a schema (Custom::*)."""
    validator = None if type_name in _NOT_VALIDATED else _validator(type_name)
    if validator is None or _is_intrinsic(properties):
        return []
    base = f"/Resources/{logical_id}/Properties"
    found = []
    for error in sorted(validator.iter_errors(properties), key=lambda e: list(map(str, e.absolute_path))):
        pointer = "".join(f"/{part}" for part in error.absolute_path)
        for reason in validate_messages.reasons(error):
            found.append(
                Finding(PROPERTY_VALIDATION, f"#{pointer}: {reason}", base + pointer, "FAIL", logical_id, type_name)
            )
    return found


def name_property(type_name: str) -> str | None:
    """The property that names a resource of this type, when its schema identifies it by one writable,
    create-only property (LogGroupName, BucketName, FunctionName, RoleName, ...)."""
    found = schemas.schema(type_name) or {}
    identifier = found.get("primaryIdentifier", ())
    if len(identifier) != 1 or not identifier[0].startswith("/properties/"):
        return None
    name = identifier[0].removeprefix("/properties/")
    writable = name not in schemas.read_only_properties(type_name)
    return name if writable and name in schemas.create_only_properties(type_name) else None


def _name_conflicts(logical_id, type_name, properties, name_taken) -> list[Finding]:
    prop = name_property(type_name)
    name = properties.get(prop) if prop and isinstance(properties, dict) else None
    if not isinstance(name, str) or not name_taken(type_name, name):
        return []
    reason = f"Resource of type '{type_name}' with identifier '{name}' already exists."
    path = f"/Resources/{logical_id}/Properties/{prop}"
    return [Finding(NAME_CONFLICT_VALIDATION, reason, path, "FAIL", logical_id, type_name, name)]


def bucket_emptiness(logical_id: str, bucket: str, holds_objects: Callable[[str], bool]) -> list[Finding]:
    """The WARN finding for a bucket a change set would delete while it holds objects (or versions).

    The reason is AWS's, as rain#744 shows it. The path is the resource's own: no source shows a
    BUCKET_EMPTINESS_VALIDATION event's ValidationPath, and a removed resource has no property to point at.
    """
    if not holds_objects(bucket):
        return []
    reason = (
        f"The bucket '{bucket}' is not empty. You must either delete all objects and versions or use the deletion "
        "policy to retain it, otherwise the delete operation will fail."
    )
    path = f"/Resources/{logical_id}"
    return [Finding(BUCKET_EMPTINESS_VALIDATION, reason, path, "WARN", logical_id, "AWS::S3::Bucket", bucket)]


def _is_intrinsic(value: object) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return key == "Ref" or key == "Condition" or key.startswith("Fn::")


def _coerce(instance: object, schema: dict) -> object:
    """CloudFormation converts scalars to the schema's type ("14" for an integer, 5 for a string), so does this."""
    if not isinstance(schema, dict) or "type" not in schema:
        return instance
    wanted = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if isinstance(instance, str):
        return _from_string(instance, wanted)
    if "string" in wanted and isinstance(instance, int | float) and not {"integer", "number", "boolean"} & set(wanted):
        return str(instance).lower() if isinstance(instance, bool) else str(instance)
    return instance


def _from_string(text: str, wanted: list[str]) -> object:
    if "string" in wanted:
        return text
    if "boolean" in wanted and text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind, convert in (("integer", int), ("number", float)):
        if kind in wanted:
            try:
                return convert(text)
            except ValueError:
                continue
    return text


def _lenient(check: Callable) -> Callable:
    """A keyword check that lets intrinsic functions pass and sees scalars converted as CloudFormation does."""

    def run(validator, value, instance, schema):
        if _is_intrinsic(instance):
            return
        yield from check(validator, value, _coerce(instance, schema), schema)

    return run


def _pattern(validator, pattern, instance, schema):
    """Provider schemas write Java regular expressions (``\\p{L}``): ``regex`` reads them, ``re`` does not."""
    if validator.is_type(instance, "string") and not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_CloudFormationValidator = validators.extend(
    Draft7Validator,
    {keyword: _lenient(check) for keyword, check in {**Draft7Validator.VALIDATORS, "pattern": _pattern}.items()},
)
_validators: dict[str, Draft7Validator | None] = {}


def _validator(type_name: str) -> Draft7Validator | None:
    if type_name not in _validators:
        found = schemas.schema(type_name)
        if found is None:
            _validators[type_name] = None
        else:
            root = {key: value for key, value in found.items() if key not in _SCHEMA_ONLY_KEYS}
            _validators[type_name] = _CloudFormationValidator({**root, "type": "object"})
    return _validators[type_name]
