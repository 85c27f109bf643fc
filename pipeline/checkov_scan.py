"""checkov's CloudFormation scan, run through its Python API: the same checks as ``checkov --framework
cloudformation``, at under half the cost.

The checkov command imports every framework it knows (Terraform, Kubernetes, Ansible, SAST...) before it looks
at one file, forks workers to parse three small templates, and then spends most of a second tearing its modules
down at exit: about 3 s of CPU for 0.3 s of checking. This runs only the CloudFormation runner (its resource
checks and its graph checks, in-template ``Metadata: checkov: skip`` honoured), parses in this process, and
leaves without the teardown once its report is written.

Settings come from ``.checkov.yaml`` in the working directory, as for the command: ``check`` and
``skip-check`` apply; ``skip-download`` is what this does anyway (it never calls the platform); any other key
is refused rather than silently ignored.

Run as ``python -m pipeline.checkov_scan [--json] DIRECTORY`` (``invoke lint`` does). Exits 1 on a failed check
or a template checkov cannot parse, 2 on a setting it does not apply, else 0.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import Any

CONFIG = Path(".checkov.yaml")
APPLIED = {"check", "skip-check"}
NOT_INSTALLED = 127  # as pipeline.run_tool: the shell's status for a missing command
INHERENT = {"skip-download", "framework", "quiet", "compact", "directory"}  # what this scan always does anyway


class SettingError(Exception):
    pass


class NotInstalled(Exception):
    pass


def settings(config: Path = CONFIG) -> dict[str, Any]:
    """The ``.checkov.yaml`` keys this scan applies; a key it would ignore is an error, not a silent pass."""
    if not config.is_file():
        return {}
    import yaml

    data = yaml.safe_load(config.read_text()) or {}
    unknown = sorted(set(data) - APPLIED - INHERENT)
    if unknown:
        raise SettingError(
            f"{config} sets {', '.join(unknown)}, which pipeline.checkov_scan does not apply (it applies "
            f"{', '.join(sorted(APPLIED))}). Remove the key, or add it to pipeline/checkov_scan.py."
        )
    frameworks = data.get("framework")
    if frameworks and "cloudformation" not in ([frameworks] if isinstance(frameworks, str) else frameworks):
        raise SettingError(f"{config} limits checkov to {frameworks}, which leaves out this CloudFormation scan.")
    return {key: data[key] for key in APPLIED if key in data}


def scan(directory: str, chosen: dict[str, Any]):
    """checkov's CloudFormation report on ``directory``."""
    # Parse in this process: forking a worker per template and pickling the results back costs more than
    # parsing three small files. checkov reads this when its parallel runner is imported.
    os.environ.setdefault("CHECKOV_PARALLELIZATION_TYPE", "none")
    try:
        from checkov.cloudformation.runner import Runner
        from checkov.runner_filter import RunnerFilter
    except ModuleNotFoundError as error:
        raise NotInstalled("checkov is not installed: run `pip install -r requirements.txt`.") from error

    runner_filter = RunnerFilter(
        framework=["cloudformation"],
        checks=chosen.get("check"),
        skip_checks=chosen.get("skip-check"),
        show_progress_bar=False,
    )
    return Runner().run(root_folder=directory, runner_filter=runner_filter)


def verdict(report) -> tuple[int, str]:
    """The exit status and the text to print: the failures and parsing errors in checkov's compact form."""
    summary = report.get_summary()
    line = (
        f"checkov: {summary['passed']} passed, {summary['failed']} failed, {summary['skipped']} skipped in the "
        f"templates, {summary['resource_count']} resources, {summary['parsing_errors']} parsing errors"
    )
    if not report.failed_checks and not report.parsing_errors:
        return 0, line
    unparsed = "".join(f"checkov could not parse {path}: fix its YAML or JSON\n" for path in report.parsing_errors)
    return 1, f"{report.print_console(is_quiet=True, is_compact=True)}\n{unparsed}{line}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.checkov_scan", description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--json", action="store_true", help="print checkov's JSON report (as `checkov -o json`)")
    args = parser.parse_args(argv)
    try:
        chosen = settings()
    except SettingError as error:
        print(error)
        return 2
    try:
        report = scan(args.directory, chosen)
    except NotInstalled as error:
        print(error)
        return NOT_INSTALLED
    status, text = verdict(report)
    print(report.get_json() if args.json else text)
    return status


if __name__ == "__main__":
    gc.disable()  # one short scan: the collector's passes over checkov's import-time objects are 0.3 s of CPU
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the report is out; tearing down checkov's thousands of modules would take most of a second
