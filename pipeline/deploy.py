"""Deploying a stack through a change set: recover, compare, create, review, execute, stream, report.

The ``Deployer`` owns the change-set lifecycle (as SAM's does) and receives its CloudFormation client. What it
learns reaches the caller through a ``Progress`` object, so this module never prints. The decisions (which
recovery a status needs, whether a change set is empty, whether anything changed at all) are pure functions.
"""

from __future__ import annotations

import contextlib
import enum
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.exceptions

from pipeline import cancel, cfn
from pipeline.errors import Interrupted, StackFailed, UserError
from pipeline.template import Template

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
EMPTY_CHANGE_SET_REASONS = ("didn't contain changes", "No updates are to be performed")
SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}


class Recovery(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    BUSY = "busy"  # someone else's operation is running: refuse, change nothing
    DELETE_AND_CREATE = "delete and create"


class StackBusy(UserError):
    """Another operation is running on the stack; retrying later is the fix (EX_TEMPFAIL)."""

    exit_code = 75


class ChangeSetObsolete(UserError):
    """Another deploy executed first and made this deploy's change set OBSOLETE."""

    exit_code = 75


def recovery_for(status: str | None, stack_name: str) -> Recovery:
    """What a deploy must do first, given the stack's current status (None: no stack)."""
    if status is None or status == "REVIEW_IN_PROGRESS":
        return Recovery.CREATE
    if status == "ROLLBACK_COMPLETE":
        return Recovery.DELETE_AND_CREATE
    if status.endswith("_IN_PROGRESS"):
        return Recovery.BUSY
    if status == "UPDATE_ROLLBACK_FAILED":
        raise UserError(
            f"Stack {stack_name} is in UPDATE_ROLLBACK_FAILED: an update failed and so did its rollback. Fix the "
            "cause shown in its events, then run `aws cloudformation continue-update-rollback --stack-name "
            f"{stack_name}` (add `--resources-to-skip LOGICAL_ID` for resources that cannot roll back), wait "
            "for UPDATE_ROLLBACK_COMPLETE, and deploy again."
        )
    if status in ("ROLLBACK_FAILED", "DELETE_FAILED"):
        raise UserError(
            f"Stack {stack_name} is in {status} and cannot be updated. Look at its events for the resource "
            f"that failed, then delete the stack (`invoke destroy`, or `aws cloudformation delete-stack "
            f"--stack-name {stack_name}` with `--retain-resources` for what cannot be deleted) and deploy again."
        )
    return Recovery.UPDATE


def is_empty_change_set(description: Mapping[str, Any]) -> bool:
    """CloudFormation reports 'nothing to change' as a FAILED change set with a known reason."""
    reason = description.get("StatusReason") or ""
    return description.get("Status") == "FAILED" and any(r in reason for r in EMPTY_CHANGE_SET_REASONS)


def _pairs(items: list[dict[str, str]] | None, key: str, value: str) -> dict[str, str]:
    return {i[key]: i.get(value, "") for i in items or []}


def is_unchanged(stack: Mapping[str, Any], deployed_body: Any, request: DeployRequest) -> bool:
    """True when the deployed template, parameters, tags and role equal the new ones."""
    if deployed_body != request.template.body:
        return False
    wanted = {**request.template.parameter_defaults(), **request.parameters}
    deployed = _pairs(stack.get("Parameters"), "ParameterKey", "ParameterValue")
    if "****" in deployed.values():  # NoEcho: the value can't be compared, so let CloudFormation decide
        return False
    return (
        deployed == wanted
        and _pairs(stack.get("Tags"), "Key", "Value") == dict(request.tags)
        and stack.get("RoleARN") == request.role_arn
    )


@dataclass(frozen=True)
class ChangedProperty:
    name: str  # the property's name, or the attribute (Tags, Metadata) when the change has no name
    recreation: str = ""  # RequiresRecreation: Never, Conditionally, Always


@dataclass(frozen=True)
class Change:
    action: str
    logical_id: str
    resource_type: str
    replacement: str
    properties: tuple[ChangedProperty, ...] = ()


def changed_properties(details: list[dict[str, Any]]) -> tuple[ChangedProperty, ...]:
    """A change set's Details, one entry per property (Details repeat a property once per cause)."""
    found: dict[str, ChangedProperty] = {}
    for detail in details:
        target = detail.get("Target", {})
        name = target.get("Name") or target.get("Attribute", "")
        recreation = target.get("RequiresRecreation", "")
        if name and (name not in found or recreation == "Always"):
            found[name] = ChangedProperty(name, recreation)
    return tuple(found.values())


@dataclass(frozen=True)
class DeployRequest:
    stack_name: str
    template: Template
    parameters: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    role_arn: str | None = None
    template_url: str | None = None  # set when the body is too big to send inline
    revert_drift: bool = False  # a drift-aware change set (DeploymentMode REVERT_DRIFT): `invoke drift --reconcile`


@dataclass
class DeployResult:
    stack_name: str
    outcome: str  # "no changes", "preview", "deployed"
    changes: list[Change] = field(default_factory=list)
    status: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    change_set_type: str = "UPDATE"


class Progress:
    """Receives what happens during a deploy; the task layer renders it. The default drops everything."""

    def message(self, text: str) -> None:
        pass

    def changes(self, changes: list[Change]) -> None:
        pass

    def event(self, event: dict[str, Any]) -> None:
        pass

    def confirm(self, changes: list[Change]) -> bool:
        """Asked after the change set is shown and before it runs; False deletes it unexecuted."""
        return True


class Deployer:
    def __init__(self, cfn_client, progress: Progress | None = None, sleep=cancel.sleep) -> None:
        self.cfn = cfn_client
        self.progress = progress or Progress()
        self.sleep = sleep
        self.changes: list[Change] = []  # the last change set's changes, kept for reports even when a deploy fails
        self._pending: tuple[str, str] | None = None  # (name, type) of a change set created but not executed
        self._settled: dict[str, Any] | None = None  # the stack as the last watch saw it settle

    def _backoff(self) -> cfn.Backoff:
        return cfn.Backoff(sleep=self.sleep)

    # -- before the change set -------------------------------------------------------------------------
    def _settle(self, stack_name: str) -> dict[str, Any] | None:
        """Bring the stack to a state a change set can start from; returns it (None when there is none)."""
        while True:
            stack = cfn.describe_stack(self.cfn, stack_name)
            status = stack["StackStatus"] if stack else None
            recovery = recovery_for(status, stack_name)
            if recovery is Recovery.BUSY:
                raise StackBusy(busy_message(stack))
            if recovery is Recovery.DELETE_AND_CREATE:
                self.progress.message(
                    f"Stack {stack_name} is in ROLLBACK_COMPLETE (its first create failed), which can only be "
                    "deleted. Deleting it, then creating it again."
                )
                # Watch by id: once deleted, the name no longer resolves but the id still does.
                stream = self._stream(stack["StackId"])
                self.cfn.delete_stack(StackName=stack_name)
                self._follow(stack["StackId"], stream, expect_new_events=True)
                continue
            return stack if recovery is Recovery.UPDATE else None

    def _stream(self, stack_ref: str, mark: bool = True) -> cfn.EventStream:
        stream = cfn.EventStream(self.cfn, stack_ref)
        if mark:
            stream.mark()
        return stream

    def _follow(
        self, stack_ref: str, stream: cfn.EventStream, expect_new_events: bool = False
    ) -> tuple[str, list[dict[str, Any]]]:
        """Stream events until the stack settles; returns its status and the events seen."""
        seen: list[dict[str, Any]] = []

        def record(event: dict[str, Any]) -> None:
            seen.append(event)
            self.progress.event(event)

        backoff = self._backoff()
        status, self._settled = cfn.follow(self.cfn, stack_ref, stream, record, backoff, expect_new_events)
        return status, seen

    # -- the change set ------------------------------------------------------------------------------------
    def _create_change_set(self, request: DeployRequest, change_set_type: str) -> str:
        name = f"deploy-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{time.time_ns() % 10**6:06d}"
        kwargs: dict[str, Any] = {
            "StackName": request.stack_name,
            "ChangeSetName": name,
            "ChangeSetType": change_set_type,
            "Capabilities": CAPABILITIES,
            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in request.parameters.items()],
            "Tags": [{"Key": k, "Value": v} for k, v in request.tags.items()],
            "Description": "created by invoke deploy",
        }
        if request.template_url:
            kwargs["TemplateURL"] = request.template_url
        else:
            kwargs["TemplateBody"] = request.template.body
        if request.role_arn:
            kwargs["RoleARN"] = request.role_arn
        if request.revert_drift:
            kwargs["DeploymentMode"] = "REVERT_DRIFT"
        with _busy_is_a_user_error(request.stack_name), _rejection_is_a_user_error(request.stack_name):
            self.cfn.create_change_set(**kwargs)
        return name

    def _wait_for_change_set(self, stack_name: str, name: str) -> dict[str, Any]:
        backoff = self._backoff()
        while True:
            try:
                description = self.cfn.describe_change_set(StackName=stack_name, ChangeSetName=name)
            except botocore.exceptions.ClientError as exc:
                if not cfn.is_throttling(exc):
                    raise
                backoff.wait(throttled=True)
                continue
            if description["Status"] in ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE"):
                return description
            backoff.wait()

    def _changes(self, stack_name: str, name: str, first: dict[str, Any]) -> list[Change]:
        pages, token = [first], first.get("NextToken")
        while token:
            pages.append(self.cfn.describe_change_set(StackName=stack_name, ChangeSetName=name, NextToken=token))
            token = pages[-1].get("NextToken")
        changes = []
        for page in pages:
            for change in page.get("Changes", []):
                rc = change.get("ResourceChange", {})
                replacement = rc.get("Replacement", "") if rc.get("Action") == "Modify" else ""
                changes.append(
                    Change(
                        rc.get("Action", ""),
                        rc.get("LogicalResourceId", ""),
                        rc.get("ResourceType", ""),
                        replacement,
                        changed_properties(rc.get("Details", [])),
                    )
                )
        return changes

    def _drop_obsolete(self, stack_name: str, name: str) -> None:
        """An OBSOLETE change set can never run: delete it so they don't pile up (tidying only, never fatal)."""
        with contextlib.suppress(botocore.exceptions.ClientError):
            self.cfn.delete_change_set(StackName=stack_name, ChangeSetName=name)

    def _discard(self, stack_name: str, name: str, change_set_type: str) -> None:
        self.cfn.delete_change_set(StackName=stack_name, ChangeSetName=name)
        if change_set_type == "CREATE":  # a never-executed CREATE change set leaves an empty REVIEW stack
            self.cfn.delete_stack(StackName=stack_name)

    # -- the whole deploy ----------------------------------------------------------------------------------
    def deploy(self, request: DeployRequest, preview: bool = False) -> DeployResult:
        """Deploy, turning Ctrl-C into a message that says what carries on and what was cleaned up."""
        try:
            return self._deploy(request, preview)
        except KeyboardInterrupt as exc:
            raise self._interrupted(request.stack_name) from exc

    def _interrupted(self, stack_name: str) -> Interrupted:
        if self._pending:
            name, change_set_type = self._pending
            self._discard(stack_name, name, change_set_type)
            return Interrupted(
                f"Interrupted before anything was executed: change set {name} was deleted and stack {stack_name} "
                "is unchanged. Run `invoke deploy` again when ready."
            )
        return Interrupted(
            f"Interrupted while waiting for stack {stack_name}. CloudFormation carries on with whatever it was doing; "
            f"watch it with `aws cloudformation describe-stack-events --stack-name {stack_name}`, or run "
            "`invoke deploy` again once it has finished."
        )

    def _deploy(self, request: DeployRequest, preview: bool) -> DeployResult:
        self._pending = None
        stack = self._settle(request.stack_name)
        change_set_type = "UPDATE" if stack else "CREATE"
        result = DeployResult(request.stack_name, "no changes", change_set_type=change_set_type)
        # Unchanged against the last deploy says nothing about live state: a drift revert always asks CloudFormation.
        if stack and not request.revert_drift and self._unchanged(stack, request):
            result.status, result.outputs = stack["StackStatus"], cfn.outputs(stack)
            return result
        name = self._create_change_set(request, change_set_type)
        self._pending = (name, change_set_type)
        description = self._wait_for_change_set(request.stack_name, name)
        if is_empty_change_set(description):
            self._pending = None
            self.cfn.delete_change_set(StackName=request.stack_name, ChangeSetName=name)
            result.status, result.outputs = stack["StackStatus"], cfn.outputs(stack)
            return result
        if description["Status"] != "CREATE_COMPLETE":
            self._pending = None
            self._discard(request.stack_name, name, change_set_type)
            raise UserError(
                f"CloudFormation rejected the change set for {request.stack_name}: "
                f"{description.get('StatusReason')}. Fix the template or parameters and deploy again."
            )
        if description.get("ExecutionStatus") == "OBSOLETE":
            self._pending = None
            self._drop_obsolete(request.stack_name, name)
            raise ChangeSetObsolete(obsolete_message(request.stack_name))
        result.changes = self.changes = self._changes(request.stack_name, name, description)
        self.progress.changes(result.changes)
        if preview:
            self._pending = None
            self._discard(request.stack_name, name, change_set_type)
            result.outcome = "preview"
            return result
        if not self.progress.confirm(result.changes):
            self._pending = None
            self._discard(request.stack_name, name, change_set_type)
            raise UserError(
                f"Not confirmed: change set {name} was deleted unexecuted and stack {request.stack_name} is "
                "unchanged. Run the deploy again and answer y, or pass --yes to skip the question."
            )
        return self._execute(request, name, result)

    def _unchanged(self, stack: dict[str, Any], request: DeployRequest) -> bool:
        deployed = self.cfn.get_template(StackName=request.stack_name, TemplateStage="Original")
        return is_unchanged(stack, deployed.get("TemplateBody"), request)

    def _execute(self, request: DeployRequest, name: str, result: DeployResult) -> DeployResult:
        stack_ref = cfn.describe_stack(self.cfn, request.stack_name)["StackId"]
        stream = self._stream(stack_ref)
        try:
            try:
                with _busy_is_a_user_error(request.stack_name):
                    self.cfn.execute_change_set(StackName=request.stack_name, ChangeSetName=name)
            except ChangeSetObsolete:
                self._pending = None
                self._drop_obsolete(request.stack_name, name)
                raise
            self._pending = None
            status, events = self._follow(stack_ref, stream, expect_new_events=True)
        except KeyboardInterrupt as exc:
            raise Interrupted(
                f"Interrupted. CloudFormation carries on with stack {request.stack_name} without us; nothing is "
                f"rolled back by stopping here. Watch it with `aws cloudformation describe-stack-events "
                f"--stack-name {request.stack_name}`, and run `invoke deploy` again once it has finished."
            ) from exc
        result.status, result.outcome = status, "deployed"
        if status not in SUCCESS:
            raise StackFailed(_failure_message(request.stack_name, status, events, result.change_set_type))
        result.outputs = cfn.outputs(self._settled or {})  # the stack as the watch last described it
        return result


@contextlib.contextmanager
def _busy_is_a_user_error(stack_name: str) -> Iterator[None]:
    """Someone else started an operation between our status check and our call: say so, change nothing."""
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        message = cfn.error_message(exc)
        if cfn.error_code(exc) == "ValidationError" and "_IN_PROGRESS state" in message:
            raise StackBusy(
                f"Stack {stack_name}: another operation started meanwhile ({message}). Nothing was changed by this "
                "deploy; wait for that operation to finish, then run `invoke deploy` again."
            ) from exc
        if cfn.error_code(exc) in ("InvalidChangeSetStatus", "InvalidChangeSetStatusException"):
            raise ChangeSetObsolete(obsolete_message(stack_name, message)) from exc
        raise


def obsolete_message(stack_name: str, detail: str = "") -> str:
    shown = f" ({detail})" if detail else ""
    return (
        f"This deploy's change set for stack {stack_name} is OBSOLETE{shown}: another deploy executed its own change "
        "set first, so this one ran nothing and the other deploy's version is what runs. Deploy again from the "
        "tree you mean to run, after the other deploy has finished."
    )


@contextlib.contextmanager
def _rejection_is_a_user_error(stack_name: str) -> Iterator[None]:
    """CreateChangeSet refuses bad templates and parameter values up front, before anything changes."""
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        if cfn.error_code(exc) != "ValidationError" or "_IN_PROGRESS state" in cfn.error_message(exc):
            raise  # a busy stack is reported by _busy_is_a_user_error
        raise UserError(
            f"CloudFormation rejected the change set for {stack_name}: {cfn.error_message(exc)} Nothing was changed. "
            "Fix the template or the parameters (invoke.yaml) and deploy again."
        ) from exc


def refuse_if_busy(cfn_client, stack_name: str) -> None:
    """One deploy at a time: refuse before packaging or uploading anything while another operation runs."""
    stack = cfn.describe_stack(cfn_client, stack_name)
    if stack and recovery_for(stack["StackStatus"], stack_name) is Recovery.BUSY:
        raise StackBusy(busy_message(stack))


def busy_message(stack: Mapping[str, Any]) -> str:
    """Name the operation in progress on someone else's behalf, and say to wait or retry."""
    name, status = stack.get("StackName", "?"), stack["StackStatus"]
    since = stack.get("LastUpdatedTime") or stack.get("CreationTime")
    when = f" since {since:%H:%M:%S} UTC" if hasattr(since, "strftime") else ""
    change_set = stack.get("ChangeSetId", "")
    by = f", executing change set {change_set.rsplit('/', 2)[-2]}" if change_set.count("/") >= 2 else ""
    return (
        f"Stack {name} is busy: {status}{when}{by}. Another deploy (or someone in the console) is changing it, "
        "and one deploy at a time is the rule, so this one changed nothing. Wait for it to finish (`aws "
        f"cloudformation describe-stack-events --stack-name {name}`), then run `invoke deploy` again."
    )


def _failure_message(stack_name: str, status: str, events: list[dict[str, Any]], change_set_type: str) -> str:
    cause = cfn.first_failure(events, stack_name)
    what = (
        f"{cause['LogicalResourceId']} ({cause.get('ResourceType')}) {cause['ResourceStatus']}: "
        f"{cause.get('ResourceStatusReason', 'no reason given')}"
        if cause
        else "no failed resource was reported"
    )
    if change_set_type == "CREATE":
        after = "Nothing was left running; the next `invoke deploy` deletes the failed stack and creates it again."
    else:
        after = "CloudFormation rolled back: the previous version is still deployed and running."
    return (
        f"Deploy of stack {stack_name} failed ({status}). First failure: {what}. {after} Fix the cause and "
        "deploy again."
    )
