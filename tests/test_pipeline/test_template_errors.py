"""A missing template, or a YAML error, is reported with the file and the line."""

from __future__ import annotations

import pytest

from pipeline import template
from pipeline.errors import UserError


def test_missing_template(tmp_path):
    with pytest.raises(UserError, match=r"Template .*nope\.yaml not found"):
        template.load(tmp_path / "nope.yaml")


def test_yaml_error_names_its_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n   Properties: [\n")
    with pytest.raises(UserError, match=r"bad\.yaml is not valid YAML: .* at line 4, column 4"):
        template.load(path)


def test_parameters_the_template_does_not_declare(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text("Parameters:\n  A:\n    Type: String\nResources:\n  Q:\n    Type: AWS::SQS::Queue\n")
    with pytest.raises(UserError, match=r"sets parameters Typo that t\.yaml does not declare"):
        template.check_parameters(template.load(path), {"Typo": "1"})
