"""The deploy's template reader: a safe YAML loader with CloudFormation's short forms, read as cfn-lint reads them."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from localcloud.cloudformation import template_yaml
from pipeline import template
from pipeline.config import ROOT

PROJECT_TEMPLATES = sorted((ROOT / "cloudformation").glob("*.yaml"))
SHORT_FORMS = """\
Conditions:
  IsProd: !Equals [!Ref Env, production]
Resources:
  B:
    Type: AWS::S3::Bucket
    Condition: IsProd
    Properties:
      BucketName: !Sub "${AWS::StackName}-${Env}"
      Tags:
        - Key: arn
          Value: !GetAtt Role.Arn
        - Key: joined
          Value: !Join [",", [!Ref Env, !Select [0, !GetAZs ""]]]
        - Key: mapped
          Value: !FindInMap [Map, !Ref "AWS::Region", Name]
        - Key: conditional
          Value: !If [IsProd, !Base64 {"Fn::Sub": "x"}, !Ref "AWS::NoValue"]
        - Key: long-form-getatt
          Value: !GetAtt [Role, Arn]
        - Key: condition
          Value: !And [!Condition IsProd, !Not [!Equals [a, b]]]
"""


@pytest.mark.parametrize("path", PROJECT_TEMPLATES, ids=lambda p: p.name)
def test_the_project_templates_read_exactly_as_cfn_lint_reads_them(path):
    from cfnlint.decode import cfn_yaml  # here: ~0.5 s of every xdist worker's collection

    assert template.load(path).data == cfn_yaml.loads(path.read_text(), str(path))


def test_every_short_form_reads_as_its_long_form(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(SHORT_FORMS)
    data = template.load(path).data
    from cfnlint.decode import cfn_yaml

    assert data == cfn_yaml.loads(SHORT_FORMS)
    tags = {t["Key"]: t["Value"] for t in data["Resources"]["B"]["Properties"]["Tags"]}
    assert tags["arn"] == {"Fn::GetAtt": ["Role", "Arn"]}
    assert tags["joined"] == {"Fn::Join": [",", [{"Ref": "Env"}, {"Fn::Select": [0, {"Fn::GetAZs": ""}]}]]}
    assert tags["condition"]["Fn::And"][0] == {"Condition": "IsProd"}
    assert data["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Env"}, "production"]}


def test_reading_a_template_does_not_import_cfn_lint(tmp_path):
    """Its import costs a second of every deploy: the reader does without it (run in a clean interpreter)."""
    probe = (
        "import sys, pathlib; from pipeline import template; "
        f"template.load(pathlib.Path({str(PROJECT_TEMPLATES[0])!r})); print('cfnlint' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("path", PROJECT_TEMPLATES, ids=lambda p: p.name)
def test_libyaml_reads_each_template_as_the_pure_python_parser_does(path):
    if yaml.__with_libyaml__:
        assert issubclass(template_yaml.FastLoader, yaml.CSafeLoader)
    for text in (path.read_text(), SHORT_FORMS):
        assert yaml.load(text, Loader=template_yaml.FastLoader) == yaml.load(text, Loader=template_yaml.Loader)


def test_a_yaml_error_still_quotes_the_offending_line():
    """libyaml's message would say neither which character nor show the line: the error comes from PyYAML's own."""
    with pytest.raises(yaml.YAMLError) as error:
        template_yaml.parse("Resources:\n\tBucket: {}\n")
    assert "found character '\\t' that cannot start any token" in str(error.value)
    assert "\tBucket: {}" in str(error.value)
