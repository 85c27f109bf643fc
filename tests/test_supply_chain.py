"""The hash-locked supply chain: both requirement locks carry a hash per distribution, the deploy lock holds what
`invoke package deploy verify` imports and no more, and Dependabot watches both."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"requirements.txt": "requirements.in", "requirements-deploy.txt": "requirements-deploy.in"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")
HASH = re.compile(r"^\s+--hash=sha256:[0-9a-f]{64}( \\)?$")


def entries(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) for every requirement of a lock; every other line is a comment or a hash."""
    found: dict[str, tuple[str, list[str]]] = {}
    current = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pin = PIN.match(line)
        if pin:
            assert line.rstrip().endswith("\\"), f"{path.name}:{number}: {pin.group(1)} has no --hash after it"
            current = pin.group(1).lower().replace("_", "-")
            found[current] = (pin.group(3), [])
            continue
        assert HASH.match(line), f"{path.name}:{number}: neither a pinned requirement nor its hash: {line!r}"
        assert current, f"{path.name}:{number}: a hash before any requirement"
        found[current][1].append(line.split("sha256:")[1][:64])
    return found


@pytest.mark.parametrize("lock", list(LOCKS))
def test_every_distribution_is_pinned_with_a_hash(lock):
    found = entries(ROOT / lock)
    assert found
    for name, (_, hashes) in found.items():
        assert hashes, f"{lock}: {name} has no hash"
    header = (ROOT / lock).read_text().splitlines()[:2]
    assert f"uv pip compile --generate-hashes --python-version 3.11 --universal {LOCKS[lock]} -o {lock}" in header[1]


@pytest.mark.parametrize("source", list(LOCKS.values()))
def test_the_inputs_pin_exactly_and_the_lock_holds_them(source):
    lock = entries(ROOT / next(k for k, v in LOCKS.items() if v == source))
    for line in (ROOT / source).read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pin = PIN.match(line)
            assert pin, f"{source}: {line!r} is not pinned with =="
            name = pin.group(1).lower().replace("_", "-")
            assert lock[name][0] == pin.group(3), f"{source}: {name} differs from its lock"


def test_the_deploy_lock_agrees_with_the_development_lock():
    """The deploy jobs run the versions the tests ran with."""
    deploy, development = entries(ROOT / "requirements-deploy.txt"), entries(ROOT / "requirements.txt")
    for name, (version, hashes) in deploy.items():
        assert name in development, name
        assert development[name][0] == version, name
        assert set(hashes) <= set(development[name][1]), name


# What the deploy jobs run: tasks.py's collection, then package, deploy and verify with their templates.
IMPORT_CLOSURE = """
import importlib.metadata, json, sys
import tasks
from pipeline import commands, package, deploy, verify, destination, template, report, boundary, aws, cfn, logs
from pipeline.config import Settings
for name in ("template", "bootstrap_template", "bootstrap_environment_template"):
    template.load(Settings.__dataclass_fields__[name].default)
import boto3
for service in ("s3", "cloudformation", "logs", "sts", "lambda"):
    boto3.client(service, region_name="us-east-1")
tops = {m.split(".")[0] for m in list(sys.modules)}
owners = importlib.metadata.packages_distributions()
print(json.dumps(sorted({d for t in tops for d in owners.get(t, [])})))
"""


def test_the_deploy_path_imports_nothing_outside_the_deploy_lock():
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_CLOSURE], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    imported = {d.lower().replace("_", "-") for d in json.loads(done.stdout)}
    # setuptools and pip come with the interpreter; botocore imports certifi when present and otherwise uses its
    # own CA bundle (a venv made from requirements-deploy.txt alone deploys without it).
    allowed = set(entries(ROOT / "requirements-deploy.txt")) | {"setuptools", "pip", "certifi"}
    assert imported - allowed == set(), imported - allowed
    assert {"boto3", "botocore", "invoke", "pyyaml"} <= imported
    assert "cfn-lint" not in imported and "sympy" not in imported


@pytest.mark.parametrize("path", sorted((ROOT / "cloudformation").glob("*.yaml")), ids=lambda p: p.name)
def test_the_deploy_template_loader_reads_templates_as_cfn_lint_does(path):
    """pipeline.template's loader (PyYAML plus the short forms) gives what cfn-lint's loader gives."""
    from cfnlint.decode import cfn_yaml

    from pipeline import template

    ours = json.loads(json.dumps(template.load(path).data, default=str))
    assert ours == json.loads(json.dumps(cfn_yaml.loads(path.read_text()), default=str))


def test_dependabot_keeps_both_locks_and_the_actions_current():
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    assert ecosystems["pip"]["directory"] == "/"  # requirements*.in / requirements*.txt live at the root
    assert ecosystems["github-actions"]["directory"] == "/"
    assert all((ROOT / name).is_file() for pair in LOCKS.items() for name in pair)
