"""parliament on every IAM policy the templates render; a finding passes only when its template explains it.

Each policy document (a role's inline policies, a managed policy, a bucket policy) is rendered
with sample values for its parameters and pseudo parameters, every ``Fn::If`` branch kept, and analysed by
parliament (duo-labs/parliament, the IAM linter on PyPI). As with checkov's in-template skips, a finding is
accepted only where the resource explains it, in its ``Metadata``:

    Metadata:
      parliament:
        skip:
          - issue: RESOURCE_POLICY_PRIVILEGE_ESCALATION
            sid: OwnFunction        # the statement it is about (optional: any statement of the resource)
            comment: why this is acceptable here

Run as ``python -m pipeline.iam_lint TEMPLATE...`` (``invoke lint`` does): it prints each unexplained finding and
exits 1 when there is one, and 2 when a skip explains nothing (a stale explanation hides the next finding).
"""

from __future__ import annotations

import gc
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PSEUDO = {
    "AWS::AccountId": "123456789012",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::StackName": "project-env",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/project-env/0a1b2c3d",
    "AWS::URLSuffix": "amazonaws.com",
}


@dataclass(frozen=True)
class Finding:
    template: str
    resource: str
    where: str  # the document: POLICY-NAME, trust or PolicyDocument
    issue: str
    sids: tuple[str, ...]
    detail: str

    def __str__(self) -> str:
        sids = f" (statement {', '.join(self.sids)})" if self.sids else ""
        return f"{self.template}: {self.resource}/{self.where}{sids}: {self.issue}: {self.detail}"


def _sample(name: str, spec: dict[str, Any]) -> str:
    default = spec.get("Default")
    if default not in (None, ""):
        return str(default)
    if "OidcProvider" in name:
        return "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    if name.endswith("Arn"):
        return f"arn:aws:iam::123456789012:policy/sample-{name}"
    return f"sample-{name.lower()}"


class Renderer:
    """Intrinsic functions resolved to sample values; Fn::If keeps both branches in lists."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.values = {n: _sample(n, s) for n, s in (template.get("Parameters") or {}).items()} | PSEUDO
        for name, resource in (template.get("Resources") or {}).items():
            # Ref of a managed policy or a provider is its ARN; of most other resources, a name.
            arn = _arn(resource["Type"], name)
            by_arn = resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::OIDCProvider", "AWS::SQS::Queue")
            self.values[name] = arn if by_arn else f"sample-{name.lower()}"
            self.values[f"{name}.Arn"] = arn

    def __call__(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for item in node for v in self._branches(item)]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self.values.get(arg, f"sample-{arg}")
            if key == "Fn::GetAtt":
                name, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
                return self.values[f"{name}.Arn"] if attribute == "Arn" else f"sample-{name}-{attribute}"
            if key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                extra = {} if isinstance(arg, str) else {k: self(v) for k, v in arg[1].items()}
                return re.sub(r"\$\{([^}!]+)\}", lambda m: str({**self.values, **extra}.get(m.group(1))), text)
            if key == "Fn::If":
                return next((v for v in self._branches(node)), None)
            if key == "Fn::Join":
                return arg[0].join(str(self(v)) for v in arg[1])
        return {k: self(v) for k, v in node.items()}

    def _branches(self, item: Any) -> list[Any]:
        if isinstance(item, dict) and list(item) == ["Fn::If"]:
            kept = [b for b in item["Fn::If"][1:] if b != {"Ref": "AWS::NoValue"}]
            return [self(b) for b in kept]
        return [self(item)]


def _arn(kind: str, name: str) -> str:
    """What Fn::GetAtt NAME.Arn gives for the resource types the templates use."""
    account, region = "123456789012", "us-east-1"
    return {
        "AWS::S3::Bucket": f"arn:aws:s3:::sample-{name.lower()}",
        "AWS::IAM::Role": f"arn:aws:iam::{account}:role/sample-{name}",
        "AWS::IAM::ManagedPolicy": f"arn:aws:iam::{account}:policy/sample-{name}",
        "AWS::IAM::OIDCProvider": f"arn:aws:iam::{account}:oidc-provider/token.actions.githubusercontent.com",
        "AWS::Logs::LogGroup": f"arn:aws:logs:{region}:{account}:log-group:sample-{name}:*",
        "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{account}:sample-{name}",
        "AWS::Lambda::Function": f"arn:aws:lambda:{region}:{account}:function:sample-{name}",
    }.get(kind, f"arn:aws:{kind.split('::')[1].lower()}:{region}:{account}:{name.lower()}/sample")


def documents(template: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(resource, where, rendered document) for every IAM policy document of the template."""
    render = Renderer(template)
    for name, resource in (template.get("Resources") or {}).items():
        props = resource.get("Properties") or {}
        for policy in props.get("Policies") or []:
            yield name, str(policy.get("PolicyName")), render(policy["PolicyDocument"])
        if "PolicyDocument" in props:
            yield name, "PolicyDocument", render(props["PolicyDocument"])
        # Trust policies are not parliament's (it reads them as identity policies without a Resource): the
        # OIDC trust is evaluated claim by claim in tests/test_trust_policy.py.


def _sids(text: str, document: dict[str, Any], finding) -> tuple[str, ...]:
    """The Sid of the statement a finding points at (parliament gives a column of the one-line JSON), if any."""
    column = (finding.location or {}).get("column")
    if column is None:
        return ()
    statements = document.get("Statement")
    cursor = 0
    for statement in statements if isinstance(statements, list) else [statements]:
        piece = json.dumps(statement)
        start = text.find(piece, cursor)
        cursor = start + len(piece)
        if start <= column - 1 < cursor:
            return (str(statement.get("Sid", "?")),)
    return ()


def analyse(path: Path) -> tuple[list[Finding], list[str]]:
    """Unexplained findings, and the skips that explained nothing."""
    from parliament import analyze_policy_string

    from pipeline.template import load  # not cfn-lint's loader: it imports sympy and networkx, 0.6 s of CPU

    template = load(path).data
    skips = {n: _skips(r) for n, r in (template.get("Resources") or {}).items()}
    used: set[tuple[str, int]] = set()
    unexplained = []
    for resource, where, document in documents(template):
        text = json.dumps(document)
        policy = analyze_policy_string(text, ignore_private_auditors=True)
        for found in policy.findings:
            sids = _sids(text, document, found)
            finding = Finding(path.name, resource, where, found.issue, sids, str(found.detail)[:300])
            matches = [i for i, s in enumerate(skips[resource]) if _explains(s, finding)]
            used.update((resource, i) for i in matches)
            if not matches:
                unexplained.append(finding)
    stale = [
        f"{path.name}: {name}: the parliament skip of {skip['issue']} ({skip.get('sid', 'any statement')}) explains "
        "no finding any more: remove it"
        for name, resource_skips in skips.items()
        for i, skip in enumerate(resource_skips)
        if (name, i) not in used
    ]
    return unexplained, stale


def _skips(resource: dict[str, Any]) -> list[dict[str, str]]:
    skips = ((resource.get("Metadata") or {}).get("parliament") or {}).get("skip") or []
    for skip in skips:
        if not str(skip.get("comment", "")).strip() or not skip.get("issue"):
            raise ValueError(f"a parliament skip needs an issue and a comment that explains it: {skip}")
    return skips


def _explains(skip: dict[str, str], finding: Finding) -> bool:
    return skip["issue"] == finding.issue and ("sid" not in skip or skip["sid"] in finding.sids)


def main(argv: list[str]) -> int:
    unexplained, stale = [], []
    for name in argv:
        found, unused = analyse(Path(name))
        unexplained += found
        stale += unused
    for finding in unexplained:
        print(finding)
    for line in stale:
        print(line)
    print(f"parliament: {len(unexplained)} unexplained findings, {len(stale)} stale skips in {len(argv)} templates")
    return 1 if unexplained else 2 if stale else 0


if __name__ == "__main__":
    gc.disable()  # one short run: the collector's passes over parliament's IAM tables free nothing (0.2 s of CPU)
    sys.exit(main(sys.argv[1:]))
