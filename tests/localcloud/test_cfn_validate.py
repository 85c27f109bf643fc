"""Unit tests for localcloud.cloudformation.validate: pre-deployment validation as pure functions, no server.

Sources for the expected values:
- AWS User Guide "Validate stack deployments" and the AWS DevOps blog "Ship infrastructure faster with
  CloudFormation and CDK pre-deployment validation on every stack operation" (2026-06): property syntax and name
  conflicts are FAIL mode; the example VALIDATION_ERROR has ValidationStatusReason
  "#/NotificationConfiguration/QueueConfigurations/0: required key [Event] not found" and ValidationPath
  "/Resources/NotificationBucket/Properties/NotificationConfiguration/QueueConfigurations/0".
- Change sets failed by early validation, as recorded from AWS by deploy tools (e.g. sam deploy output):
  StatusReason "The following hook(s)/validation failed: [AWS::EarlyValidation::ResourceExistenceCheck,
  AWS::EarlyValidation::PropertyValidation]" followed by "To troubleshoot Early Validation errors, use the
  DescribeEvents API for detailed failure information."; a name conflict's event reads "Resource of type
  'AWS::Logs::LogGroup' with identifier '...' already exists." with the path of LogGroupName.
- CreateStack API reference, Capabilities: which IAM types need CAPABILITY_IAM, custom names CAPABILITY_NAMED_IAM;
  the error is InsufficientCapabilitiesException "Requires capabilities : [CAPABILITY_IAM]".
"""

from __future__ import annotations

import pytest

from localcloud.cloudformation import validate

ROLE = "arn:aws:iam::123456789012:role/r"
NOTHING_TAKEN = {"name_taken": lambda _type, _name: False}


def _one(type_name: str, properties: dict, logical_id: str = "Thing") -> list[validate.Finding]:
    return validate.findings({logical_id: {"Type": type_name, "Properties": properties}}, **NOTHING_TAKEN)


def _reasons(found: list[validate.Finding]) -> list[tuple[str, str]]:
    return [(finding.path, finding.status_reason) for finding in found]


def test_aws_documented_example_missing_required_key():
    """The User Guide's example: a queue notification without Event."""
    found = _one(
        "AWS::S3::Bucket",
        {"NotificationConfiguration": {"QueueConfigurations": [{"Queue": "arn:aws:sqs:us-east-1:1:q"}]}},
        logical_id="NotificationBucket",
    )
    assert found == [
        validate.Finding(
            "PROPERTY_VALIDATION",
            "#/NotificationConfiguration/QueueConfigurations/0: required key [Event] not found",
            "/Resources/NotificationBucket/Properties/NotificationConfiguration/QueueConfigurations/0",
            "FAIL",
            "NotificationBucket",
            "AWS::S3::Bucket",
        )
    ]


def test_unknown_property_is_refused():
    found = _one("AWS::Logs::LogGroup", {"LogGroupName": "g", "RetentionDays": 14})
    assert _reasons(found) == [("/Resources/Thing/Properties", "#: extraneous key [RetentionDays] is not permitted")]


def test_retention_of_13_days_is_not_a_valid_enum_value():
    found = _one("AWS::Logs::LogGroup", {"RetentionInDays": 13})
    assert _reasons(found) == [
        ("/Resources/Thing/Properties/RetentionInDays", "#/RetentionInDays: 13 is not a valid enum value")
    ]
    assert found[0].failure_mode == "FAIL"


def test_missing_required_top_level_property():
    found = _one("AWS::Lambda::Function", {"Role": ROLE})
    assert _reasons(found) == [("/Resources/Thing/Properties", "#: required key [Code] not found")]


@pytest.mark.parametrize(
    ("properties", "reason"),
    [
        ({"DelaySeconds": "soon"}, "#/DelaySeconds: expected type: Integer, found: String"),
        ({"DelaySeconds": 901}, "#/DelaySeconds: 901 is not less or equal to 900"),
        ({"MaximumMessageSize": 10}, "#/MaximumMessageSize: 10 is not greater or equal to 1024"),
        ({"Tags": {"Key": "k"}}, "#/Tags: expected type: JSONArray, found: JSONObject"),
    ],
)
def test_type_and_range_come_from_the_schema(properties, reason):
    assert [finding.status_reason for finding in _one("AWS::SQS::Queue", properties)] == [reason]


def test_length_and_pattern_come_from_the_schema():
    too_long = _one("AWS::Lambda::Function", {"Code": {"ZipFile": "x"}, "Role": ROLE, "Description": "d" * 257})
    assert [f.status_reason for f in too_long if "Description" in f.path] == [
        "#/Description: expected maxLength: 256, actual: 257"
    ]
    bad_name = _one("AWS::Lambda::Function", {"Code": {"ZipFile": "x"}, "Role": ROLE, "FunctionName": "has space"})
    assert [f.path for f in bad_name] == ["/Resources/Thing/Properties/FunctionName"]
    assert bad_name[0].status_reason.startswith("#/FunctionName: string [has space] does not match pattern ")


def test_java_style_patterns_are_understood():
    """AWS::IAM::Role's tag keys use \\p{L} classes, which Python's re cannot compile."""
    policy = {"AssumeRolePolicyDocument": {}}
    assert _one("AWS::IAM::Role", {**policy, "Tags": [{"Key": "équipe", "Value": "a"}]}) == []
    refused = _one("AWS::IAM::Role", {**policy, "Tags": [{"Key": "a*b", "Value": "a"}]})
    assert [finding.path for finding in refused] == ["/Resources/Thing/Properties/Tags/0/Key"]


def test_scalars_are_converted_as_cloudformation_does():
    """Parameters arrive as strings: "14" is a valid RetentionInDays and 5 a valid string."""
    assert _one("AWS::Logs::LogGroup", {"RetentionInDays": "14"}) == []
    assert _one("AWS::SSM::Parameter", {"Type": "String", "Value": 5}) == []
    assert _one("AWS::SQS::Queue", {"FifoQueue": "true", "QueueName": "q.fifo"}) == []


def test_intrinsic_functions_are_not_judged():
    properties = {
        "FunctionName": {"Fn::Sub": "${AWS::StackName}-fn"},
        "Code": {"S3Bucket": {"Ref": "Bucket"}, "S3Key": {"Ref": "Key"}},
        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
        "MemorySize": {"Ref": "Memory"},
        "Environment": {"Fn::If": ["C", {"Variables": {}}, {"Ref": "AWS::NoValue"}]},
    }
    assert _one("AWS::Lambda::Function", properties) == []


def test_types_without_a_schema_are_not_checked():
    assert _one("Custom::Anything", {"ServiceToken": "arn", "Whatever": [1, 2]}) == []


def test_custom_resources_are_not_validated():
    """AWS lists AWS::CloudFormation::CustomResource among the types pre-deployment validation skips; its schema
    would refuse a boolean property, which CloudFormation passes to the function as a string."""
    assert _one("AWS::CloudFormation::CustomResource", {"ServiceToken": "arn", "Enabled": True}) == []


def test_every_project_template_shape_passes():
    resources = {
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/aws/lambda/f", "RetentionInDays": 14}},
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketName": "my-bucket",
                "NotificationConfiguration": {
                    "LambdaConfigurations": [{"Event": "s3:ObjectCreated:*", "Function": {"Fn::GetAtt": ["F", "Arn"]}}]
                },
            },
        },
    }
    assert validate.findings(resources, **NOTHING_TAKEN) == []


def test_a_name_already_taken_is_a_resource_existence_failure():
    taken = {("AWS::Logs::LogGroup", "/aws/lambda/f"), ("AWS::S3::Bucket", "my-bucket")}
    resources = {
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/aws/lambda/f"}},
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "my-bucket"}},
        "Other": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "free-bucket"}},
    }
    found = validate.findings(resources, name_taken=lambda type_name, name: (type_name, name) in taken)
    assert [(f.validation_name, f.path, f.physical_id) for f in found] == [
        ("NAME_CONFLICT_VALIDATION", "/Resources/Logs/Properties/LogGroupName", "/aws/lambda/f"),
        ("NAME_CONFLICT_VALIDATION", "/Resources/Bucket/Properties/BucketName", "my-bucket"),
    ]
    assert (
        found[0].status_reason
        == "Resource of type 'AWS::Logs::LogGroup' with identifier '/aws/lambda/f' already exists."
    )


def test_name_properties_come_from_the_schemas_identifiers():
    assert validate.name_property("AWS::S3::Bucket") == "BucketName"
    assert validate.name_property("AWS::Lambda::Function") == "FunctionName"
    assert validate.name_property("AWS::IAM::Role") == "RoleName"
    assert validate.name_property("AWS::SQS::Queue") is None  # identified by its read-only QueueUrl
    assert validate.name_property("Custom::X") is None


def test_status_reason_lists_the_failed_validations():
    assert validate.status_reason([]) is None
    both = [
        validate.Finding(validate.PROPERTY_VALIDATION, "r", "/p"),
        validate.Finding(validate.NAME_CONFLICT_VALIDATION, "r", "/p"),
        validate.Finding(validate.PROPERTY_VALIDATION, "r2", "/q"),
    ]
    assert validate.status_reason(both) == (
        "The following hook(s)/validation failed: [AWS::EarlyValidation::ResourceExistenceCheck, "
        "AWS::EarlyValidation::PropertyValidation]. To troubleshoot Early Validation errors, use the "
        "DescribeEvents API for detailed failure information."
    )
    assert validate.status_reason([validate.Finding("S3", "objects", "/p", "WARN")]) is None


def test_iam_resources_need_a_capability():
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}
    named = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}, "RoleName": "r"}}
    policy = {"Type": "AWS::IAM::Policy", "Properties": {"PolicyName": "p", "PolicyDocument": {}}}
    assert validate.required_capability({"Q": {"Type": "AWS::SQS::Queue"}}) is None
    assert validate.required_capability({"R": role}) == "CAPABILITY_IAM"
    assert validate.required_capability({"P": policy}) == "CAPABILITY_IAM"  # PolicyName is no custom IAM name
    assert validate.required_capability({"R": role, "N": named}) == "CAPABILITY_NAMED_IAM"


def test_missing_capability_and_its_message():
    role = {"R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}}
    named = {"R": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}, "RoleName": "r"}}}
    assert validate.missing_capability(role, []) == "CAPABILITY_IAM"
    assert validate.missing_capability(role, ["CAPABILITY_IAM"]) is None
    assert validate.missing_capability(role, ["CAPABILITY_NAMED_IAM"]) is None
    assert validate.missing_capability(named, ["CAPABILITY_IAM"]) == "CAPABILITY_NAMED_IAM"
    assert validate.capability_message("CAPABILITY_IAM") == "Requires capabilities : [CAPABILITY_IAM]"
