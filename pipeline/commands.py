"""What each task does, as plain functions of ``Settings``: connect, call the step modules, render.

``tasks.py`` only parses flags and calls these inside the error boundary, so every task can be run and tested
as a function (as SAM's ``do_cli`` is).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from pipeline import aws, cfn, destination, package, report, store, template
from pipeline import rollback as rollback_step
from pipeline import verify as verify_step
from pipeline.aws import Cloud
from pipeline.config import Settings, parse_count, parse_seconds
from pipeline.deploy import Deployer, DeployRequest, DeployResult, refuse_if_busy
from pipeline.errors import Interrupted, UserError
from pipeline.proof import LogMatch


@dataclass(frozen=True)
class Packaged:
    artifact: package.Artifact
    upload: package.Upload


def banner(settings: Settings, cloud: Cloud, verb: str) -> None:
    """Say where we are going before touching anything."""
    account = cloud.identity()["account"]
    check_account(settings, account)
    where = "the local cloud" if settings.target == "local" else "AWS"
    endpoint = cloud.endpoint_url or "AWS default"
    report.emit(
        f"{verb} stack {settings.stack_name} on {where}: account {account}, region {settings.region}, "
        f"endpoint {endpoint}, environment {settings.environment}."
    )


def check_account(settings: Settings, account: str) -> None:
    """An environment that names its account is only ever deployed with that account's credentials."""
    if settings.account and account != settings.account:
        raise UserError(
            f"Environment {settings.environment} lives in account {settings.account} (invoke.yaml), but these "
            f"credentials are for account {account}. Nothing was changed. Use that account's profile (--profile) "
            "or role; in GitHub Actions, that environment's AWS_DEPLOY_ROLE_ARN."
        )


def package_function(settings: Settings, cloud: Cloud, target: destination.Destination | None = None) -> Packaged:
    target = target or destination.resolve(settings, cloud)
    artifact = build_artifact(settings)
    upload = package.upload(cloud.client("s3"), target.artifact_bucket, artifact)
    verb = "uploaded" if upload.uploaded else "already there, upload skipped"
    report.emit(f"Package: s3://{upload.bucket}/{upload.key} ({artifact.size} bytes, {verb}).")
    return Packaged(artifact, upload)


def template_url(settings: Settings, cloud: Cloud, bucket: str, tpl: template.Template) -> str | None:
    """Templates over CloudFormation's inline limit go through the artifact bucket."""
    if tpl.fits_inline:
        return None
    key = rollback_step.template_key(settings.template_key_prefix, tpl.body)
    store.put_once(cloud.client("s3"), bucket, key, tpl.body.encode(), "application/x-yaml")
    if cloud.endpoint_url:
        return f"{cloud.endpoint_url}/{bucket}/{key}"
    return f"https://{bucket}.s3.{settings.region}.amazonaws.com/{key}"


def deploy(
    settings: Settings, preview: bool = False, cloud: Cloud | None = None, yes: bool = False, timeline: bool = False
) -> DeployResult:
    return deploy_packaged(settings, preview, cloud, yes=yes, timeline=timeline)[0]


def deploy_packaged(
    settings: Settings,
    preview: bool = False,
    cloud: Cloud | None = None,
    yes: bool = False,
    timeline: bool = False,
    revert_drift: bool = False,
) -> tuple[DeployResult, Packaged]:
    """Package and deploy; returns the deploy's result and what was packaged (verify proves that artifact)."""
    cloud = cloud or aws.connect(settings)
    banner(settings, cloud, "Preview of" if preview else "Deploying")
    refuse_if_busy(cloud.client("cloudformation"), settings.stack_name)  # before anything is uploaded
    tpl = template.load(settings.template)
    template.check_parameters(tpl, dict(settings.parameters))
    target = destination.resolve(settings, cloud)
    packaged = package_function(settings, cloud, target)
    parameters = {**settings.parameters, **artifact_parameters(settings, tpl, target.artifact_bucket, packaged.upload)}
    if target.permissions_boundary_arn and "PermissionsBoundaryArn" in tpl.parameter_names():
        parameters["PermissionsBoundaryArn"] = target.permissions_boundary_arn
    request = DeployRequest(
        stack_name=settings.stack_name,
        template=tpl,
        parameters=parameters,
        tags=settings.tags,
        role_arn=target.execution_role_arn,
        template_url=template_url(settings, cloud, target.artifact_bucket, tpl),
        revert_drift=revert_drift,
    )
    ask = input if report.wants_confirmation(settings.target, yes) else None
    with report.TerminalProgress(ask=ask) as progress:
        result = run_deploy(Deployer(cloud.client("cloudformation"), progress), request, preview)
    if timeline:
        report.emit(report.timeline_block(request.stack_name, progress.events))
    return result, packaged


def artifact_parameters(
    settings: Settings, tpl: template.Template, bucket: str, upload: package.Upload
) -> dict[str, str]:
    """Where the code is, down to the object version: a later write under the key cannot change what runs."""
    found = {"ArtifactBucket": bucket, "ArtifactKey": upload.key}
    if "ArtifactVersion" not in tpl.parameter_names():
        return found
    if upload.version_id:
        return {**found, "ArtifactVersion": upload.version_id}
    if settings.target == "aws":
        raise UserError(
            f"s3://{bucket}/{upload.key} has no version id: the artifact bucket is not versioned, so the deploy "
            "cannot pin the code it uploaded. Re-run `invoke bootstrap` (its bucket has versioning enabled), "
            "then deploy again."
        )
    return found


def run_deploy(deployer: Deployer, request: DeployRequest, preview: bool) -> DeployResult:
    """Run a deploy and report it, in the terminal and in the GitHub job summary, success or not."""
    result, failure = None, None
    events = getattr(deployer.progress, "events", [])
    first_event = len(events)  # one progress can serve several deploys (bootstrap)
    try:
        result = deployer.deploy(request, preview=preview)
    except UserError as exc:
        failure = str(exc)
        raise
    finally:
        summary = report.deploy_markdown(request.stack_name, result, failure, deployer.changes, events[first_event:])
        report.write_step_summary(summary)
    if result.outcome == "no changes":
        report.emit(f"No changes: stack {request.stack_name} already matches (status {result.status}).")
    elif result.outcome == "preview":
        report.emit("Preview only: the change set was deleted and nothing was executed.")
    else:
        report.emit(f"Stack {request.stack_name}: {result.status}.")
    if result.outputs:
        report.emit(report.outputs_table(result.outputs))
    return result


def verify(
    settings: Settings,
    keep: bool = False,
    timeout: float | str | None = None,
    cloud: Cloud | None = None,
    expected: str | None = None,
    rollback: bool = False,
) -> LogMatch:
    """Prove that the function runs this checkout's artifact and that it processed a fresh marker.

    With ``rollback``, a failed verify redeploys the environment's last verified version (``pipeline.restore``).
    """
    limit = settings.verify_timeout if timeout is None else parse_seconds("--timeout", timeout)
    cloud = cloud or aws.connect(settings)
    expected = expected or build_artifact(settings).sha256
    if not rollback:
        return _verify(settings, keep, limit, cloud, expected)
    try:
        return _verify(settings, keep, limit, cloud, expected)
    except verify_step.WrongVersion:
        raise  # another deploy's version runs: rolling it back would fight that deploy
    except verify_step.VerifyFailed as failure:
        from pipeline import restore

        restore.after_failed_verify(settings, cloud, str(failure), expected)
        raise  # after_failed_verify always raises; this keeps type checkers sure


def _verify(settings: Settings, keep: bool, limit: float, cloud: Cloud, expected: str) -> LogMatch:
    s3, logs = cloud.client("s3"), cloud.client("logs")
    outputs = verify_step.stack_targets(cloud.client("cloudformation"), settings.stack_name, settings.region)
    verify_step.check_running(cloud.client("lambda"), outputs["FunctionArn"], expected)
    marker = verify_step.upload_marker(s3, outputs["BucketName"])
    report.emit(
        f"Verify: uploaded s3://{marker.bucket}/{marker.key}; waiting for its log line in {outputs['LogGroupName']}."
    )
    try:
        proof = verify_step.wait_for_proof(logs, outputs["LogGroupName"], marker, limit, expected)
        if not proof.succeeded:
            _verify_failed(settings, s3, logs, outputs, marker, proof, limit, expected)
    finally:
        if not keep:
            verify_step.clean_up(s3, marker)
    found = proof.match
    latency = (found.timestamp_ms - marker.uploaded_ms) / 1000
    report.emit(
        f"Verified: the function logged the upload {latency:.2f} s after it, running artifact {expected[:12]} "
        f"(request id {found.request_id})."
    )
    report.emit(f"  {found.message}")
    _record_verified(settings, cloud, expected)
    report.write_step_summary(
        f"### Verify `{settings.stack_name}`\n\n**Result: verified.** Artifact `{expected}` logged the "
        f"upload {latency:.2f} s after it, request id `{found.request_id}`.\n"
    )
    return found


def _verify_failed(settings, s3, logs, outputs, marker, proof, limit: float, expected) -> None:
    diagnosis = verify_step.diagnose(s3, logs, outputs, marker)
    report.emit(report_diagnosis(diagnosis))
    if proof.failure_lines:
        report.emit(
            "The failing invocation's lines:\n" + "\n".join(f"    {line}" for line in proof.failure_lines[-20:])
        )
    what = verify_step.failure_reason(proof, marker, outputs["LogGroupName"], limit, expected)
    report.write_step_summary(f"### Verify `{settings.stack_name}`\n\n**Result: failed:** {what}.\n")
    raise verify_step.VerifyFailed(
        f"Verify failed: {what}. The diagnosis above says what was found and what to check next."
    )


def _record_verified(settings: Settings, cloud: Cloud, sha256: str) -> None:
    bucket = destination.resolve(settings, cloud).artifact_bucket
    prefixes = (settings.artifact_key_prefix, settings.template_key_prefix)
    rollback_step.record(
        cloud.client("cloudformation"), cloud.client("s3"), bucket, settings.stack_name, prefixes, sha256
    )
    key = rollback_step.record_key(settings.artifact_key_prefix)
    report.emit(
        f"Recorded artifact {sha256[:12]} as the last verified version of {settings.environment} (s3://{bucket}/{key})."
    )


def build_artifact(settings: Settings) -> package.Artifact:
    """The zip this checkout builds, after proving that every Python file under lambda/ compiles."""
    from pipeline import codecheck

    codecheck.check(settings.lambda_dir)
    artifact = package.build(settings.lambda_dir, settings.artifact_key_prefix)
    if artifact.note:  # pip stood in for uv: the zip is the same, the user should still know why it was slow
        report.emit(artifact.note, sys.stderr)
    return artifact


def report_diagnosis(diagnosis: verify_step.Diagnosis) -> str:
    lines = [
        "Diagnosis:",
        f"  marker object in the bucket: {'yes' if diagnosis.object_exists else 'NO'}",
        f"  bucket notifies the function: {'yes' if diagnosis.notifies_function else 'NO'}"
        f" (targets: {', '.join(diagnosis.notification_targets) or 'none'})",
        f"  last {len(diagnosis.last_lines)} lines of the log group:",
        *(f"    {line}" for line in diagnosis.last_lines),
        "Next:",
        *(f"  - {step}" for step in diagnosis.next_steps),
    ]
    return "\n".join(lines)


def outputs(settings: Settings, as_json: bool = False) -> dict[str, str]:
    cloud = aws.connect(settings)
    found = cfn.outputs(cfn.require_stack(cloud.client("cloudformation"), settings.stack_name, settings.region))
    report.emit(json.dumps(found, indent=2, sort_keys=True) if as_json else report.outputs_table(found))
    return found


def logs(
    settings: Settings,
    follow: bool = False,
    since: str = "10m",
    as_json: bool = False,
    pattern: str | None = None,
    request_id: str | None = None,
) -> int:
    """Print the function's log records; returns how many were printed."""
    from pipeline import logs as logs_step

    pattern = logs_step.check_pattern(pattern) if pattern else None
    start_ms = int((time.time() - logs_step.parse_since(since)) * 1000)  # a bad --since fails before any call
    cloud = aws.connect(settings)
    group = cfn.outputs(cfn.require_stack(cloud.client("cloudformation"), settings.stack_name, settings.region))[
        "LogGroupName"
    ]
    server_pattern = pattern or (f'"{request_id}"' if request_id else None)  # narrow the search on the server
    printed = 0
    if follow:
        report.emit(f"Following {group} from {since} ago (Ctrl-C stops).", sys.stderr)
    try:
        events = logs_step.tail(cloud.client("logs"), group, start_ms, follow=follow, pattern=server_pattern)
        printed = print_records(events, as_json, request_id, on_idle=_empty(group, since, pattern, request_id))
    except KeyboardInterrupt:
        pass  # following ends with Ctrl-C; that is not an error
    return printed


def _empty(group: str, since: str, pattern: str | None, request_id: str | None) -> str:
    from pipeline import logs_view

    return logs_view.empty_window(group, since, pattern, request_id)


def print_records(events, as_json: bool, request_id: str | None, on_idle: str = "") -> int:
    """Print each event as a readable line (or raw with ``as_json``); ``on_idle`` when none were printed."""
    from pipeline import console, logs_view
    from pipeline import logs as logs_step

    out, printed = console.make(), 0
    for event in events:
        record = logs_step.read(event)
        if request_id and record.request_id != request_id:
            continue
        if as_json:
            out.print(json.dumps(event, sort_keys=True), soft_wrap=True)
        elif logs_view.shown(record):
            out.print(logs_view.line(record), soft_wrap=True)
        else:
            continue
        printed += 1
    if not printed and on_idle:
        report.emit(on_idle, sys.stderr if as_json else None)  # JSON output stays machine-readable
    return printed


def watch(settings: Settings, yes: bool = False, changes=None, confirm=input) -> None:
    """Deploy, then redeploy on every save under lambda/ and cloudformation/, printing new log records between."""
    from pipeline import watch as watch_step

    cloud = aws.connect(settings)
    banner(settings, cloud, "Watching")
    if report.wants_confirmation(settings.target, yes):
        question = f"Deploy stack {settings.stack_name} to AWS now and on every save until Ctrl-C? [y/N] "
        if confirm(question).strip().lower() not in ("y", "yes"):
            raise UserError("Not confirmed: nothing was deployed. Pass --yes to skip the question.")
    roots = [settings.lambda_dir, settings.template.parent]
    hooks = watch_step.Hooks(
        deploy=lambda: deploy(settings, cloud=cloud, yes=True).outputs,  # asked once, above
        show_records=lambda events: print_records(events, as_json=False, request_id=None),
        say=report.emit,
        logs_client=cloud.client("logs"),
    )
    loop = watch_step.Loop(hooks, settings.lambda_dir, settings.template)
    try:
        loop.run(watch_step.disk_changes(roots, settings.target) if changes is None else changes, roots)
    except KeyboardInterrupt:
        report.emit("Stopped watching.")


def destroy(settings: Settings, yes: bool = False, confirm=input) -> None:
    from pipeline import destroy as destroy_step

    cloud = aws.connect(settings)
    banner(settings, cloud, "Destroying")
    if not yes:
        try:
            answer = confirm(f"Delete stack {settings.stack_name} and every object in its buckets? Type 'yes': ")
        except EOFError:
            answer = ""
        if answer.strip().lower() != "yes":
            raise UserError("Not confirmed, nothing was deleted. Pass --yes to skip the question.")
    with report.TerminalProgress() as progress:
        status = destroy_step.destroy(cloud.client("cloudformation"), cloud.client("s3"), settings.stack_name, progress)
    report.emit(f"Stack {settings.stack_name}: {'did not exist' if status is None else status}.")


def lint(use_cache: bool = True, also=(), begun=None) -> None:
    """Each check shown as it runs (cached ones at once), then the failures' findings; non-zero on any.

    ``also``: rows of other work (``lint_view.Row``) for the live view meanwhile (``pipeline.overlap``).
    ``begun``: the checks, already started by the task (``pipeline.lint.begin``).
    """
    from pipeline import console, lint_view
    from pipeline import lint as lint_step

    started = begun.began if begun and not begun.all_cached else time.monotonic()  # from its checks' start
    checks = begun.checks if begun else lint_step.checks()
    out = console.make()
    with lint_view.show(out, checks, also) as progress:
        results = lint_step.run_all(checks, use_cache=use_cache, progress=progress, started=begun)
    for result in results:
        if not result.ok:
            report.emit(f"--- {result.check.name} ---\n{result.output.strip()}\n")
    cached = sum(r.cached for r in results)
    failed = [r.check.name for r in results if not r.ok]
    verdict = f"{len(failed)} failed" if failed else "all clean"
    report.emit(f"Lint: {len(results)} checks, {verdict}, {cached} from the cache, {time.monotonic() - started:.1f} s.")
    if failed:
        raise UserError(f"Lint failed: {', '.join(failed)}. The findings are printed above; fix them and run again.")


def pipeline(
    settings: Settings,
    skip_lint: bool = False,
    use_cache: bool = True,
    rollback: bool = True,
    child=None,
    begun=None,
) -> None:
    """lint -> package -> deploy -> verify (-> roll back); on local, with an embedded local cloud if none runs.

    ``child`` is that embedded local cloud when the task has already started it (``embedded.for_pipeline``),
    ``begun`` the lint checks it started (``pipeline.lint.begin``).
    """
    from pipeline import embedded, overlap
    from pipeline import lint as lint_step

    with contextlib.ExitStack() as own:
        child = child or own.enter_context(embedded.for_pipeline(settings))
        if child is None:
            if not skip_lint:
                report.stage("1/3 Lint")
                lint(use_cache, begun=begun)
            deploy_and_verify(settings, rollback=rollback)
            return
        report.emit(f"No local cloud at {settings.endpoint_url}: starting an embedded one for this run.")
        local = replace(settings, endpoint_url=child.url)
        with ThreadPoolExecutor(max_workers=1) as pool:
            cloud = pool.submit(aws.prepare_own_local, local)  # while lint runs and the child starts

            def deploy() -> None:
                child.endpoint()  # until it answers
                deploy_and_verify(local, rollback=rollback, cloud=cloud.result())

            if skip_lint:
                return deploy()
            report.stage("1/3 Lint")
            cached = begun.all_cached if begun else use_cache and lint_step.all_cached()
            if cached:
                lint(use_cache, begun=begun)
                return deploy()
            overlap.behind_lint(lambda also: lint(use_cache, also, begun), deploy)  # the throwaway cloud only


def deploy_and_verify(settings: Settings, rollback: bool = True, cloud: Cloud | None = None) -> None:
    """Deploy and verify; when verify fails, put the last verified version back (unless ``rollback`` is off)."""
    cloud = cloud or aws.connect(settings)
    report.stage("2/3 Package and deploy")
    _, packaged = deploy_packaged(settings, cloud=cloud)
    report.stage("3/3 Verify")
    verify(settings, cloud=cloud, expected=packaged.artifact.sha256, rollback=rollback)


def redrive(settings: Settings, dry_run: bool = False, limit: int | str | None = None, say=report.emit):
    """Replay the failure queue's events through the function; a message goes only once its replay is proven."""
    from pipeline import redrive as redrive_step

    most = None if limit is None else parse_count("--max", limit)
    cloud = aws.connect(settings)
    outputs = verify_step.stack_targets(cloud.client("cloudformation"), settings.stack_name, settings.region)
    run = redrive_step.Redrive(
        cloud.client("sqs"),
        cloud.client("lambda"),
        cloud.client("logs"),
        outputs["FailureQueueUrl"],
        outputs["FunctionArn"],
        outputs["LogGroupName"],
        settings.verify_timeout,
        say=say,
    )
    say(f"Redrive{' (dry run)' if dry_run else ''}: {outputs['FailureQueueUrl']} -> {outputs['FunctionArn']}.")
    try:
        counts = run.run(most, dry_run=dry_run)
    except KeyboardInterrupt as exc:
        raise Interrupted(
            f"Interrupted: {run.counts.line()}; every message not deleted was put back on the queue at once (one "
            "already replayed may run again). Run `invoke redrive` again to carry on."
        ) from exc
    say(f"Redrive: {counts.line()}." + (" Nothing was invoked or deleted." if dry_run else ""))
    report.write_step_summary(f"### Redrive `{settings.stack_name}`\n\n{counts.line()}.\n")
    if counts.failed:
        raise UserError(
            f"Redrive: {counts.failed} event(s) failed again and were kept on the queue. Read the function's log "
            "(`invoke logs`), fix the handler, deploy, and run `invoke redrive` again."
        )
    return counts


def drift(settings: Settings, reconcile: bool = False, cloud: Cloud | None = None):
    """Detect drift on the environment's stack; with ``reconcile``, deploy git's state over it and verify."""
    from pipeline import drift as drift_step

    cloud = cloud or aws.connect(settings)
    banner(settings, cloud, "Drift check of")
    cfn_client = cloud.client("cloudformation")
    cfn.require_stack(cfn_client, settings.stack_name, settings.region)
    found = _show_drift(settings, drift_step.detect(cfn_client, settings.stack_name))
    if not found.drifted:
        return found
    if not reconcile:
        raise drift_step.failure(settings.stack_name, found)
    report.emit("Reconciling: deploying git's state with a drift-aware change set (DeploymentMode REVERT_DRIFT).")
    _, packaged = deploy_packaged(settings, cloud=cloud, revert_drift=True)
    verify(settings, cloud=cloud, expected=packaged.artifact.sha256)
    after = _show_drift(settings, drift_step.detect(cfn_client, settings.stack_name))
    if after.drifted:
        raise UserError(
            f"Stack {settings.stack_name} still differs from git after the reconcile deploy (table above): "
            "CloudFormation could not revert those properties. Change them back by hand or in git, then run "
            "`invoke drift` again."
        )
    report.emit(f"Reconciled: stack {settings.stack_name} matches git again, and verify passed.")
    return after


def _show_drift(settings: Settings, found):
    from pipeline import drift as drift_step

    headers = ("Resource", "Status", "Property", "Expected (git)", "Actual")
    line = drift_step.summary(settings.stack_name, found)
    report.emit(line)
    rows = drift_step.rows(found)
    if rows:
        report.emit(report.table(headers, rows))
    if found.reason:
        report.emit(f"Not everything could be checked: {found.reason}")
    markdown = f"### Drift `{settings.stack_name}`\n\n**{line}**\n"
    if rows:
        markdown += "\n" + report.markdown_table(headers, rows) + "\n"
    report.write_step_summary(markdown)
    return found


def serve_localcloud(port: int, region: str, latency: str | None = None) -> None:
    """Run a local cloud in the foreground until Ctrl-C, printing what to paste into other shells."""
    import threading

    import localcloud

    aws.check_local_region(region)
    try:
        localcloud.check_port(port)
    except localcloud.PortInUse as taken:
        raise UserError(str(taken)) from None
    # `kill` (SIGTERM) stops it as cleanly as Ctrl-C: the context manager then ends every Lambda worker. SIGINT is
    # set too, because a shell starts background jobs with it ignored and Python would then keep ignoring it.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from localcloud.cloudformation import latency as pace

    try:
        pace.parse(latency)
    except ValueError as bad:
        raise UserError(f"{bad} See `invoke --help localcloud`.") from None
    with localcloud.start(port=port, region=region, latency=latency) as endpoint:
        report.emit(f"Local cloud running at {endpoint} (Ctrl-C stops it). In another shell, paste:\n")
        report.emit(f"export AWS_ENDPOINT_URL={endpoint}")
        for name, value in localcloud.DUMMY_CREDENTIALS.items():
            report.emit(f"export {name}={value}")
        report.emit(f"export AWS_REGION={region} AWS_DEFAULT_REGION={region}\n")
        report.emit("Then `invoke deploy`, `invoke verify`, `aws s3 ls` and any boto3 script use it unchanged.")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            report.emit("\nStopping the local cloud and its Lambda workers.")


def bootstrap(settings: Settings, repo: str | None, environments: list[str], branch: str, **options) -> dict[str, str]:
    """The account's bootstrap stack, one stack per environment, then the hand-off to GitHub (pipeline.bootstrap)."""
    from pipeline import bootstrap as boot

    return boot.run(settings, repo, environments, branch, **options)
