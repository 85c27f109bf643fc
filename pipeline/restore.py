"""After a failed verify: redeploy the environment's last verified version, verify it, and say what happened.

The outcome is always an error (the new version failed), but one that says what failed, what runs now, and how
long the environment ran the failing version: in the terminal and in the GitHub job summary.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from pipeline import commands, destination, report, store
from pipeline import rollback as rollback_step
from pipeline.aws import Cloud
from pipeline.config import Settings
from pipeline.deploy import Deployer, DeployRequest
from pipeline.errors import UserError


class RolledBack(UserError):
    """The new version failed verify; the last verified one runs again."""


class RollbackFailed(UserError):
    """The new version failed verify, and putting the last verified one back failed too."""


@dataclass(frozen=True)
class Failure:
    message: str  # the verify failure, as the user saw it
    sha256: str  # the artifact that failed
    deployed_at: float  # time.monotonic() when its deploy finished
    failed_at: float  # time.monotonic() when verify failed


def _summary(settings: Settings, lines: list[str]) -> None:
    report.write_step_summary(f"### Rollback `{settings.stack_name}`\n\n" + "\n".join(f"- {line}" for line in lines))


def restore(settings: Settings, cloud: Cloud, failure: Failure, last: rollback_step.Verified | None) -> None:
    """Put ``last`` back and verify it; always raises (RolledBack, RollbackFailed or a plain UserError)."""
    failed = f"Verify of artifact {failure.sha256[:12]} on {settings.stack_name} failed."
    if last is None or last.artifact_sha256 == failure.sha256:
        why = (
            f"{settings.environment} has no verified version yet (this is its first deploy)"
            if last is None
            else f"the last verified version of {settings.environment} is this same artifact"
        )
        _summary(settings, [failed, f"Nothing to roll back to: {why}."])
        raise UserError(
            f"{failure.message} Nothing to roll back to: {why}, so the failing version stays deployed. Fix the "
            "code and deploy again."
        )
    report.emit(f"Rolling back {settings.stack_name} to the last verified version, {last.label}.")
    try:
        _redeploy(settings, cloud, last)
        commands.verify(settings, cloud=cloud, expected=last.artifact_sha256)
    except UserError as exc:
        _summary(settings, [failed, f"Rollback to {last.label} failed: {exc}"])
        raise RollbackFailed(
            f"{failure.message} Rolling back to the last verified version, {last.label}, failed too: {exc} "
            f"The environment may be on neither version: look at stack {settings.stack_name} now."
        ) from exc
    now = time.monotonic()
    seconds, restore_seconds = now - failure.deployed_at, now - failure.failed_at
    _summary(
        settings,
        [
            failed + f" {failure.message}",
            f"Restored: {last.label}, deployed again and verified {restore_seconds:.1f} s after verify failed.",
            f"The environment ran the failing version for {seconds:.1f} s.",
        ],
    )
    raise RolledBack(
        f"{failure.message} Rolled back: {settings.stack_name} runs the last verified version again, {last.label}, "
        f"and verify passed on it {restore_seconds:.1f} s after the failure. The environment ran the failing "
        f"version {failure.sha256[:12]} for {seconds:.1f} s. Fix the code and deploy again (--no-rollback keeps "
        "a failing version deployed)."
    )


def _redeploy(settings: Settings, cloud: Cloud, last: rollback_step.Verified) -> None:
    target = destination.resolve(settings, cloud)
    tpl = rollback_step.load_template(cloud.client("s3"), target.artifact_bucket, last)
    # The record is rewritable: what it names must still be the bytes its content-addressed keys say.
    store.check_named(
        cloud.client("s3"),
        target.artifact_bucket,
        last.parameters["ArtifactKey"],
        last.parameters.get("ArtifactVersion"),
    )
    store.check_named_body(target.artifact_bucket, last.template_key, tpl.body.encode())
    request = DeployRequest(
        stack_name=settings.stack_name,
        template=tpl,
        parameters=dict(last.parameters),
        tags=settings.tags,
        role_arn=target.execution_role_arn,
        template_url=commands.template_url(settings, cloud, target.artifact_bucket, tpl),
    )
    commands.run_deploy(Deployer(cloud.client("cloudformation"), report.TerminalProgress()), request, preview=False)
