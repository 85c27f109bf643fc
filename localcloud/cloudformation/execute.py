"""Runs stack operations off the request thread: create, update and delete resources in dependency order, with
events per resource, rollback, outputs and exports.

AWS behaviour:
- Create makes each resource after its dependencies (``CREATE_IN_PROGRESS`` / ``CREATE_COMPLETE`` /
  ``CREATE_FAILED`` with the reason). One failure fails the stack: ``ROLLBACK_IN_PROGRESS`` ("The following
  resource(s) failed to create: [X]. Rollback requested by user."), what was created is deleted newest first,
  and the stack ends ``ROLLBACK_COMPLETE`` (``OnFailure=DO_NOTHING``/``DisableRollback`` keep it
  ``CREATE_FAILED``; ``OnFailure=DELETE`` deletes it).
- Update adds new resources, updates changed ones in place, replaces one whose create-only property changed
  (new one first, the old one deleted in cleanup), and removes dropped ones in cleanup
  (``UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`` -> ``UPDATE_COMPLETE``). A failure gives ``UPDATE_FAILED`` then
  ``UPDATE_ROLLBACK_IN_PROGRESS`` -> ``UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS`` ->
  ``UPDATE_ROLLBACK_COMPLETE`` with the previous resources (still serving), template, parameters and outputs.
- Delete goes in reverse dependency order, honours ``DeletionPolicy: Retain`` (``DELETE_SKIPPED``), and a
  resource that cannot be deleted leaves the stack ``DELETE_FAILED``, keeping it and everything it depends on.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from localcloud.cloudformation import changes, latency, outputs, resources
from localcloud.cloudformation.resources.base import ProgressEvent, ResourceRequest, failed
from localcloud.cloudformation.stacks import Operation, Region, Resource, Stack, now
from localcloud.cloudformation.template import Context, creation_order, resolve

log = logging.getLogger("localcloud.cloudformation")
REPLACING = "Requested update requires the creation of a new physical resource; hence creating one."


CANCELLED = {"create": "Resource creation cancelled", "update": "Resource update cancelled"}


class Cancelled(Exception):
    """The user stopped the operation (CancelUpdateStack, or DeleteStack during a create) between resources."""


class ResourceFailed(Exception):
    def __init__(self, logical_id: str, reason: str) -> None:
        super().__init__(f"{logical_id}: {reason}")
        self.logical_id, self.reason = logical_id, reason


def failure_reason(exc: BaseException) -> str:
    """The human message of an exception raised by a moto backend (their shapes vary)."""
    message = getattr(exc, "message", None) or getattr(exc, "description", None)
    if message:
        return str(message)
    if isinstance(exc, ValueError) and len(exc.args) == 2:
        return str(exc.args[1])  # moto's Lambda raises ValueError(code, message)
    if isinstance(exc, KeyError):
        return f"Property or reference {exc} is missing or invalid"
    return str(exc) or type(exc).__name__


@dataclass
class Deployment:
    """What an operation deploys: a template with its parameter values, tags and options."""

    template: dict[str, Any]
    template_body: str
    parameters: dict[str, str]
    tags: list[dict[str, str]] | None = None
    on_failure: str = "ROLLBACK"  # ROLLBACK | DO_NOTHING | DELETE
    change_set: Any = None
    role_arn: str | None = None
    capabilities: list[str] = field(default_factory=list)
    policy: str | None = None  # the stack policy this update obeys (a temporary one, or the stack's)


@dataclass
class Run:
    """One operation on one stack, and how to reach resources and state from it."""

    region: Region
    stack: Stack
    endpoint: str
    context: Context | None = None
    cancel: threading.Event = field(default_factory=threading.Event)  # the operation's; replaced once past it

    # -- plumbing
    def request(self, resource: Resource, properties: dict, previous: dict | None) -> ResourceRequest:
        stack = self.stack
        return ResourceRequest(
            resource.logical_id, resource.resource_type, properties, previous, resource.physical_id,
            stack.stack_id, stack.name, stack.region, stack.account_id, self.endpoint,
        )  # fmt: skip

    def call(self, action: str, resource: Resource, properties: dict, previous: dict | None) -> ProgressEvent:
        provider = resources.provider(resource.resource_type)
        if provider is None:
            return failed(f"Resource type {resource.resource_type} is not supported by the local cloud")
        profile = latency.current()
        if profile.pause(resource.resource_type, action, 0.5, self.cancel) and action in CANCELLED:
            return failed(CANCELLED[action])  # cancelled before the resource was touched
        try:
            answer = getattr(provider, action)(self.request(resource, properties, previous))
        except Exception as exc:  # any backend error is this resource's failure, as in CloudFormation
            log.debug("%s %s failed", action, resource.logical_id, exc_info=True)
            return failed(failure_reason(exc))
        if answer.status == "SUCCESS":
            profile.pause(resource.resource_type, action, 0.5, self.cancel)  # a cancel ends the wait, not the work
        return answer

    def stop_if_cancelled(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()

    def begin_rollback(self) -> bool:
        """From here on the operation cannot be cancelled, and a rollback is an operation of its own (its events
        carry their own OperationId: User Guide, "View stack events by operation"). Returns whether the user had
        cancelled."""
        cancelled = self.cancel.is_set()
        self.cancel = threading.Event()
        stack, current = self.stack, self.stack.operation
        if current is not None:
            current.finish(False)
        stack.operation = Operation("ROLLBACK", stack.stack_id, current.change_set_id if current else None)
        stack.operation.client_request_token = current.client_request_token if current else None
        stack.operations.append(stack.operation)
        return cancelled

    def stop_cancelling(self) -> None:
        self.cancel = threading.Event()

    def resolve_properties(self, body: dict[str, Any]) -> dict[str, Any]:
        assert self.context is not None
        return resolve(copy.deepcopy(body.get("Properties") or {}), self.context) or {}

    # -- one resource
    def create(self, logical_id: str, body: dict[str, Any], phase: str = "CREATE") -> Resource:
        stack, rtype = self.stack, body["Type"]
        old = stack.resources.get(logical_id)
        stack.record(
            logical_id, rtype, f"{phase}_IN_PROGRESS", old.physical_id if old else "", reason=REPLACING if old else None
        )
        try:
            props = self.resolve_properties(body)
        except Exception as exc:
            props, answer = {}, failed(failure_reason(exc))
        else:
            answer = self.call("create", Resource(logical_id, rtype, body, props), props, None)
        if answer.status != "SUCCESS":
            stack.record(logical_id, rtype, f"{phase}_FAILED", old.physical_id if old else "", reason=answer.message)
            raise ResourceFailed(logical_id, answer.message)
        resource = Resource(logical_id, rtype, body, props, answer.physical_id, answer.attributes, f"{phase}_COMPLETE")
        stack.record(
            logical_id, rtype, f"{phase}_IN_PROGRESS", answer.physical_id, reason="Resource creation Initiated"
        )
        stack.resources[logical_id] = resource
        stack.record(logical_id, rtype, f"{phase}_COMPLETE", answer.physical_id)
        return resource

    def update(self, old: Resource, body: dict[str, Any], props: dict[str, Any], status: str = "UPDATE") -> Resource:
        stack = self.stack
        stack.record(old.logical_id, old.resource_type, f"{status}_IN_PROGRESS", old.physical_id)
        answer = self.call("update", old, props, old.properties)
        if answer.status != "SUCCESS":
            stack.record(old.logical_id, old.resource_type, f"{status}_FAILED", old.physical_id, reason=answer.message)
            raise ResourceFailed(old.logical_id, answer.message)
        resource = replace(
            old,
            body=body,
            properties=props,
            physical_id=answer.physical_id or old.physical_id,
            attributes=answer.attributes or old.attributes,
            status=f"{status}_COMPLETE",
            updated=now(),
        )
        stack.resources[old.logical_id] = resource
        stack.record(old.logical_id, old.resource_type, f"{status}_COMPLETE", resource.physical_id)
        return resource

    def delete(
        self, resource: Resource, honour_retain: bool = True, policy: str = "DeletionPolicy", keep: bool = False
    ) -> str | None:
        """Delete one resource with its events (``keep``: retain it, as DeleteStack's RetainResources asks);
        returns the failure reason, or None."""
        stack, rtype = self.stack, resource.resource_type
        if keep or (honour_retain and resource.body.get(policy) == "Retain"):
            stack.record(resource.logical_id, rtype, "DELETE_SKIPPED", resource.physical_id)
            return None
        stack.record(resource.logical_id, rtype, "DELETE_IN_PROGRESS", resource.physical_id)
        if resource.physical_id is not None:
            answer = self.call("delete", resource, resource.properties, resource.properties)
            if answer.status != "SUCCESS":
                stack.record(resource.logical_id, rtype, "DELETE_FAILED", resource.physical_id, reason=answer.message)
                return answer.message
        stack.record(resource.logical_id, rtype, "DELETE_COMPLETE", resource.physical_id)
        return None

    def delete_all(self, logical_ids: list[str], honour_retain: bool = True) -> list[str]:
        """Delete these resources of the stack in the order given; returns the ids that failed."""
        failures = []
        for logical_id in logical_ids:
            if self.delete(self.stack.resources[logical_id], honour_retain):
                failures.append(logical_id)
            else:
                self.stack.resources.pop(logical_id, None)
        return failures

    def deletion_order(self, logical_ids: list[str]) -> list[str]:
        bodies = {lid: r.body for lid, r in self.stack.resources.items()}
        return [lid for lid in reversed(creation_order(bodies)) if lid in logical_ids]


def start(run: Run, operation: Operation, work: Callable[[], bool], on_done: Callable[[bool], None]) -> None:
    """Run ``work`` on its own thread as the stack's current operation; ``on_done(succeeded)`` after it."""

    def main() -> None:
        succeeded = False
        try:
            succeeded = work()
        except Exception:  # a bug must not leave the stack IN_PROGRESS forever
            log.exception("CloudFormation operation on %s failed unexpectedly", run.stack.name)
            run.stack.set_status(
                run.stack.status.replace("_IN_PROGRESS", "_FAILED"), "Internal error in the local cloud"
            )
        finally:
            operation.finish(succeeded)
            if run.stack.operation is not None:
                run.stack.operation.finish(succeeded)
            on_done(succeeded)
            run.stack.operation, then = None, operation.close()
            if then is not None:
                then()

    run.cancel = operation.cancel
    operation.thread = threading.Thread(target=main, name=f"cfn-{run.stack.name}", daemon=True)
    run.stack.operation = operation
    run.stack.operations.append(operation)
    operation.thread.start()


def needs_replacement(old: Resource, body: dict[str, Any], props: dict[str, Any]) -> bool:
    return old.resource_type != body["Type"] or changes.needs_replacement(body["Type"], old.properties, props)


def condition_holds(context: Context, body: dict[str, Any]) -> bool:
    condition = body.get("Condition")
    return not condition or bool(context.conditions.get(condition))


def finish_outputs(run: Run) -> None:
    """Resolve the template's Outputs and publish its Exports (the stack's old exports are withdrawn)."""
    assert run.context is not None
    run.stack.outputs = outputs.resolve_outputs(run.stack.template, run.context)
    outputs.publish_exports(run.region, run.stack)
