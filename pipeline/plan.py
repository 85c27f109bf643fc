"""The deploy workflow's plan: invoke.yaml's deploy environments against deploy.yml's deploy jobs.

Each environment is deployed by one short job in ``.github/workflows/deploy.yml`` that calls the reusable
workflow ``deploy-environment.yml`` with ``environment: NAME``, after the job of the environment before it. The
plan job runs ``invoke plan``: every configured environment must have its job, in the configured order, each
job needing the one before; a job whose environment is not configured is skipped. Adding an environment is two
edits: append it to ``pipeline.deploy_environments`` (and ``pipeline.environments``) in invoke.yaml, and append
a job to deploy.yml.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline import report
from pipeline.config import ROOT, deploy_environments
from pipeline.errors import UserError

WORKFLOW = ROOT / ".github" / "workflows" / "deploy.yml"
REUSABLE = "./.github/workflows/deploy-environment.yml"


def deploy_jobs(workflow: Mapping[str, Any]) -> dict[str, str]:
    """Job id -> environment, for each job that calls the reusable deploy workflow, in file order."""
    jobs = workflow.get("jobs") or {}
    return {name: job["with"]["environment"] for name, job in jobs.items() if job.get("uses") == REUSABLE}


def _needs(job: Mapping[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def check(configured: list[str], workflow: Mapping[str, Any]) -> list[str]:
    """The configured environments, once each has its deploy job, in order, each after the one before."""
    jobs = deploy_jobs(workflow)
    by_environment = {env: name for name, env in jobs.items()}
    missing = [env for env in configured if env not in by_environment]
    if missing:
        raise UserError(
            f"invoke.yaml deploys {missing}, but .github/workflows/deploy.yml has deploy jobs only for "
            f"{list(by_environment)}. Append one job per environment (copy the last deploy-<name> job, and change "
            "its name, `environment:` and `needs:` to the job before it), or remove them from "
            "pipeline.deploy_environments."
        )
    ordered = [env for env in by_environment if env in configured]
    if ordered != configured:
        raise UserError(
            f"invoke.yaml deploys {configured} in that order, but deploy.yml's jobs run {ordered}. Reorder "
            "pipeline.deploy_environments or the jobs (and their `needs:`), so that both say the same order."
        )
    names = list(jobs)
    for before, after in itertools.pairwise(names):
        if before not in _needs(workflow["jobs"][after]):
            raise UserError(
                f"deploy.yml's job {after} does not need {before}, so it could deploy {jobs[after]} before "
                f"{jobs[before]} is verified. Add {before} to its `needs:`."
            )
    return configured


def choose(configured: list[str], requested: str) -> list[str]:
    if requested == "all":
        return configured
    if requested not in configured:
        raise UserError(
            f"Environment {requested!r} is not a deploy environment in invoke.yaml ({configured}): add it to "
            "pipeline.deploy_environments (and its job to deploy.yml), or pick a configured one."
        )
    return [requested]


def github_output(chosen: list[str]) -> str:
    return f"environments={json.dumps(chosen)}\n"


def load_workflow(path: Path = WORKFLOW) -> dict[str, Any]:
    import yaml

    return yaml.safe_load(path.read_text())


def run(settings_config, requested: str = "all", environ: Mapping[str, str] | None = None) -> list[str]:
    """Check the jobs against invoke.yaml, choose the environments, and write them to GITHUB_OUTPUT."""
    configured = check(deploy_environments(settings_config), load_workflow())
    chosen = choose(configured, requested)
    report.emit(f"Deploy environments: {', '.join(configured)}; this run deploys: {', '.join(chosen)}.")
    path = (os.environ if environ is None else environ).get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as output:
            output.write(github_output(chosen))
    return chosen


def environments(settings_config: Mapping[str, Any], as_json: bool = False) -> list[str]:
    """`invoke environments`: the deploy environments, in order (a JSON list with ``as_json``)."""
    found = deploy_environments(settings_config)
    report.emit(json.dumps(found) if as_json else "\n".join(found))
    return found
