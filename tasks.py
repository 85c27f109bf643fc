"""The invoke tasks: a table of contents. Each task parses its flags and calls ``pipeline.commands``.

Run ``invoke --list`` for the list and ``invoke --help TASK`` for a task's flags.

Collecting the tasks must stay instant (``invoke --list`` in well under 0.3 s), so this module imports nothing
heavy: each task imports ``pipeline.commands`` inside its body, within the error boundary. New tasks do the same.
"""

from __future__ import annotations

import sys

from invoke import Collection

from pipeline import quick_exit
from pipeline.boundary import boundary
from pipeline.config import LOCAL_PORT, resolve
from pipeline.flags import task


def _preflight() -> None:
    """invoke reads invoke.yaml and the INVOKE_* variables before any task's boundary: check them first."""
    import os
    from pathlib import Path

    from pipeline import settings_schema
    from pipeline.errors import UserError

    try:
        settings_schema.preflight(Path(__file__).resolve().parent, os.environ)
    except UserError as exc:
        print(f"Error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


_preflight()
quick_exit.install()  # the `invoke` command ends as soon as its tasks are done (pipeline/quick_exit.py)

WHERE = {
    "target": "local (default: the embedded local cloud) or aws; also PIPELINE_TARGET",
    "environment": "environment from invoke.yaml (default dev); also PIPELINE_ENVIRONMENT",
    "region": "AWS region (default from invoke.yaml, or AWS_REGION on aws)",
    "profile": "AWS profile for --target aws (default: boto3's credential chain)",
}


def _plain(value):
    """invoke's config proxies -> plain dicts and lists."""
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _settings(c, target=None, environment=None, region=None, profile=None):
    return resolve(
        _plain(c.config.get("pipeline", {})), target=target, environment=environment, region=region, profile=profile
    )


@task(
    help={
        "port": f"port on 127.0.0.1 (default {LOCAL_PORT})",
        "region": "region the clients should use",
        "latency": "instant (default) or aws: CloudFormation at AWS's typical pace; aws*0.1 runs it 10x faster",
    }
)
def localcloud(c, port=None, region=None, latency=None):
    """Run the embedded local cloud in the foreground (Ctrl-C stops it); prints the exports to paste."""
    with boundary():
        from pipeline import commands
        from pipeline.config import parse_port

        chosen = LOCAL_PORT if port is None else parse_port(port)
        commands.serve_localcloud(chosen, region or _settings(c, target="local").region, latency)


@task(help={"no_cache": "run every check even when its inputs and tools are unchanged since it last ran"})
def lint(c, no_cache=False):
    """Run cfn-lint, checkov, ruff, the workflow schema and zizmor (cached, side by side); non-zero on any finding."""
    with boundary():
        from pipeline import lint as lint_step

        with lint_step.begin(use_cache=not no_cache) as begun:  # the checks run while commands imports boto3
            from pipeline import commands

            commands.lint(use_cache=not no_cache, begun=begun)


@task(help={"k": "only tests matching this pytest -k expression"})
def test(c, k=None):
    """Run the test suite (pytest; it never reaches AWS)."""
    c.run(f"{sys.executable} -m pytest" + (f" -k {k!r}" if k else ""), pty=False)


@task(help=WHERE)
def package(c, target=None, environment=None, region=None, profile=None):
    """Build the reproducible function zip and upload it as <sha256>.zip unless it is already there."""
    with boundary():
        from pipeline import commands

        settings = _settings(c, target, environment, region, profile)
        commands.package_function(settings, commands.aws.connect(settings))


@task(
    help={
        **WHERE,
        "preview": "stop after showing the change set's table",
        "yes": "on --target aws, execute without asking (non-interactive runs never ask)",
        "timeline": "after the deploy, draw each resource's time as bars and as a Mermaid Gantt chart",
    }
)
def deploy(c, target=None, environment=None, region=None, profile=None, preview=False, yes=False, timeline=False):
    """Package, then deploy the app stack through a change set, streaming its events; prints the outputs."""
    with boundary():
        from pipeline import commands

        settings = _settings(c, target, environment, region, profile)
        commands.deploy(settings, preview=preview, yes=yes, timeline=timeline)


@task(
    help={
        **WHERE,
        "keep": "keep the marker object",
        "timeout": "seconds to wait for the log line",
        "rollback": "on failure, redeploy the environment's last verified version (the deploy workflow's step)",
    }
)
def verify(c, target=None, environment=None, region=None, profile=None, keep=False, timeout=None, rollback=False):
    """Prove from CloudWatch Logs that the function runs this checkout's code and processed a marker upload."""
    with boundary():
        from pipeline import commands

        settings = _settings(c, target, environment, region, profile)
        commands.verify(settings, keep=keep, timeout=timeout, rollback=rollback)


@task(
    help={
        **WHERE,
        "follow": "keep polling for new lines",
        "since": "how far back to start, e.g. 30s, 10m, 2h (default 10m)",
        "json": "print the raw log events as JSON lines",
        "filter": "CloudWatch Logs filter pattern, e.g. ERROR or '{ $.level = \"ERROR\" }'",
        "request_id": "only the records of this invocation",
    }
)
def logs(
    c, target=None, environment=None, region=None, profile=None, follow=False, since="10m", json=False, filter=None,
    request_id=None,
):  # fmt: skip
    """Print the function's log records (time, level, request id, message), each once; --follow keeps tailing."""
    with boundary():
        from pipeline import commands

        settings = _settings(c, target, environment, region, profile)
        commands.logs(settings, follow=follow, since=since, as_json=json, pattern=filter, request_id=request_id)


@task(help={**WHERE, "yes": "on --target aws, start without asking"})
def watch(c, target=None, environment=None, region=None, profile=None, yes=False):
    """Deploy, then redeploy on every save under lambda/ and cloudformation/, tailing the logs (Ctrl-C stops)."""
    with boundary():
        from pipeline import commands

        commands.watch(_settings(c, target, environment, region, profile), yes=yes)


@task(help={**WHERE, "json": "print JSON instead of a table"})
def outputs(c, target=None, environment=None, region=None, profile=None, json=False):
    """Print the app stack's outputs."""
    with boundary():
        from pipeline import commands

        commands.outputs(_settings(c, target, environment, region, profile), as_json=json)


@task(help={**WHERE, "yes": "do not ask for confirmation"})
def destroy(c, target=None, environment=None, region=None, profile=None, yes=False):
    """Empty the uploads bucket (every version) and delete the app stack."""
    with boundary():
        from pipeline import commands

        commands.destroy(_settings(c, target, environment, region, profile), yes=yes)


@task(
    help={
        **WHERE,
        "skip_lint": "skip the lint step",
        "no_cache": "lint without the lint cache",
        "rollback": "on a failed verify, redeploy the last verified version (default; --no-rollback turns it off)",
    }
)
def pipeline(
    c, target=None, environment=None, region=None, profile=None, skip_lint=False, no_cache=False, rollback=True
):
    """lint -> package -> deploy -> verify; a failed verify rolls back to the last verified version."""
    with boundary():
        import contextlib

        from pipeline import embedded
        from pipeline import lint as lint_step

        settings = _settings(c, target, environment, region, profile)
        checks = contextlib.nullcontext() if skip_lint else lint_step.begin(use_cache=not no_cache)
        with embedded.for_pipeline(settings) as child, checks as begun:  # both start during the imports below
            from pipeline import commands

            options = {"skip_lint": skip_lint, "use_cache": not no_cache, "rollback": rollback}
            commands.pipeline(settings, **options, child=child, begun=begun)


@task(
    iterable=["environment"],
    help={
        "repo": "GitHub OWNER/REPO allowed to assume the deploy role (required)",
        "environment": "GitHub environment allowed to deploy (repeatable; default: deploy_environments)",
        "branch": "the deploy branch: the only one whose deploy workflow the roles trust (default main)",
        "repo_id": "numeric id of --repo (default: read with gh; required without gh)",
        "trust_branch_without_environment": "also trust the first environment's role to jobs without an environment",
        "target": WHERE["target"],
        "region": WHERE["region"],
        "profile": WHERE["profile"],
        "yes": "create the GitHub environments and variables with gh without asking",
    },
)
def bootstrap(
    c,
    repo=None,
    environment=None,
    branch="main",
    target=None,
    region=None,
    profile=None,
    yes=False,
    repo_id=None,
    trust_branch_without_environment=False,
):
    """Once per AWS account: OIDC provider, deploy + execution roles, artifact bucket; prints the GitHub variables."""
    with boundary():
        from pipeline import commands

        settings = _settings(c, target, None, region, profile)
        commands.bootstrap(
            settings,
            repo,
            list(environment or []),
            branch,
            repo_id=repo_id,
            without_environment=trust_branch_without_environment,
            yes=yes,
        )


@task(
    help={
        **WHERE,
        "dry_run": "list the events that would be replayed; invoke and delete nothing",
        "max": "replay at most this many messages",
    }
)
def redrive(c, target=None, environment=None, region=None, profile=None, dry_run=False, max=None):
    """Replay the events in the failure queue through the function; a message is deleted once its replay succeeded."""
    with boundary():
        from pipeline import commands

        commands.redrive(_settings(c, target, environment, region, profile), dry_run=dry_run, limit=max)


@task(help={**WHERE, "reconcile": "on drift, deploy git's state over it (drift-aware change set) and verify"})
def drift(c, target=None, environment=None, region=None, profile=None, reconcile=False):
    """Run CloudFormation drift detection on the stack: each drifted property, git's value and the live one."""
    with boundary():
        from pipeline import commands

        commands.drift(_settings(c, target, environment, region, profile), reconcile=reconcile)


@task(help={"json": "print a JSON list"})
def environments(c, json=False):
    """List the environments the deploy workflow deploys, in order."""
    with boundary():
        from pipeline import plan as plan_step  # not pipeline.commands: listing them needs no boto3

        plan_step.environments(_plain(c.config.get("pipeline", {})), as_json=json)


@task(help={"requested": "environment to deploy, or all (default)"})
def plan(c, requested="all"):
    """Check deploy.yml has a deploy job per environment, in order; write the chosen ones to GITHUB_OUTPUT."""
    with boundary():
        from pipeline import plan as plan_step  # not pipeline.commands: the plan job needs no boto3

        plan_step.run(_plain(c.config.get("pipeline", {})), requested)


ns = Collection(
    localcloud,
    lint,
    test,
    package,
    deploy,
    verify,
    logs,
    watch,
    outputs,
    destroy,
    pipeline,
    bootstrap,
    environments,
    plan,
)
ns.add_task(redrive)
ns.add_task(drift)
