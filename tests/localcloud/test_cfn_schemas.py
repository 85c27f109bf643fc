"""Unit tests for localcloud.cloudformation.schemas: cfn-lint's shipped provider schemas, read without a server."""

from __future__ import annotations

from localcloud.cloudformation import schemas


def test_schema_is_the_provider_schema_of_the_type():
    found = schemas.schema("AWS::Logs::LogGroup")
    assert found["typeName"] == "AWS::Logs::LogGroup"
    assert "RetentionInDays" in found["properties"]
    assert found["additionalProperties"] is False


def test_custom_resource_types_have_no_schema():
    """Custom::* types are the template author's own: CloudFormation has no provider schema for them."""
    assert schemas.schema("Custom::Anything") is None
    assert schemas.create_only_properties("Custom::Anything") == frozenset()
    assert schemas.schema("AWS::CloudFormation::CustomResource") is not None


def test_create_only_properties_are_top_level_names():
    """A change to one of these replaces the resource (the schema's createOnlyProperties)."""
    assert schemas.create_only_properties("AWS::S3::Bucket") >= {"BucketName"}
    assert schemas.create_only_properties("AWS::SQS::Queue") == {"FifoQueue", "QueueName"}
    assert "Value" not in schemas.create_only_properties("AWS::SSM::Parameter")
    assert "Name" in schemas.create_only_properties("AWS::SSM::Parameter")


def test_read_only_properties_leave_nested_paths_out():
    """S3::Bucket lists /properties/MetadataConfiguration/Destination as read-only: the parent stays writable."""
    read_only = schemas.read_only_properties("AWS::S3::Bucket")
    assert {"Arn", "DomainName", "WebsiteURL"} <= read_only
    assert "MetadataConfiguration" not in read_only
    assert schemas.read_only_properties("AWS::Lambda::Function") >= {"Arn", "SnapStartResponse"}


def test_required_and_write_only_properties():
    assert schemas.required_properties("AWS::Lambda::Function") == {"Code", "Role"}
    assert "SnapStart" in schemas.write_only_properties("AWS::Lambda::Function")
    assert "Code" not in schemas.write_only_properties("AWS::Lambda::Function")  # only Code/ZipFile etc. are


def test_every_type_the_project_deploys_is_known():
    known = schemas.type_names()
    for name in ("AWS::S3::Bucket", "AWS::Lambda::Function", "AWS::Lambda::Permission", "AWS::IAM::Role"):
        assert name in known
    assert len(known) > 1000
