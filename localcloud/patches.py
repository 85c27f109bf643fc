"""The manifest of every moto patch the local cloud makes, checked before any is applied.

Each ``Patch`` names its target (``module:Owner.attribute``), the fix module in ``localcloud.fixes`` that installs
it, why (the AWS behaviour moto lacks), and the signature the target had in the moto version the patches were
written for (``MOTO_VERSION``, the pin in requirements.in). ``apply()`` refuses to start the local cloud, naming
every problem at once, when:
- the installed moto is not ``MOTO_VERSION``;
- a target no longer exists (moto renamed or moved it, so a plain replacement would silently do nothing);
- a target's parameters changed (a wrapper would pass or expect the wrong arguments);
- two patches claim one attribute (correctness would depend on their order);
- a fix installs something the manifest does not declare, or a declared patch is never installed, or is
  overwritten afterwards by something else;
- a package whose ``__init__`` is deferred (``LAZY_PACKAGES``, see ``localcloud.lazy_packages``) no longer
  defines exactly the names declared for it, or a constant it is given has another value in the installed source.
Fix modules install their patches only through ``install()``, which is how the last three are seen.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from localcloud import lazy_packages, patch_stamp
from localcloud.lazy_packages import LazyPackage

MOTO_VERSION = "5.2.5"  # tests/localcloud/test_patches.py checks it against requirements.in


@dataclass(frozen=True)
class Patch:
    target: str  # "moto.s3.responses:S3Response._get_checksum"
    fix: str  # the module in localcloud.fixes that installs it
    why: str
    signature: str  # the target's parameters in MOTO_VERSION, as ``parameters()`` prints them


class PatchError(RuntimeError):
    """The local cloud cannot start: its moto patches do not fit the installed moto."""


def _p(target: str, fix: str, signature: str, why: str) -> Patch:
    return Patch(target, fix, why, signature)


_LOGS_READ_WRITE = {
    "create_log_group": "(self, log_group_name, tags, **kwargs)",
    "ensure_log_group": "(self, log_group_name)",
    "delete_log_group": "(self, log_group_name)",
    "describe_log_groups": "(self, log_group_name_prefix=None)",
    "create_log_stream": "(self, log_group_name, log_stream_name)",
    "ensure_log_stream": "(self, log_group_name, log_stream_name)",
    "delete_log_stream": "(self, log_group_name, log_stream_name)",
    "describe_log_streams": "(self, descending, limit, log_group_name, log_group_id, log_stream_name_prefix, "
    "next_token, order_by)",
    "put_log_events": "(self, log_group_name, log_stream_name, log_events)",
    "get_log_events": "(self, log_group_name, log_group_id, log_stream_name, start_time, end_time, limit, "
    "next_token, start_from_head)",
    "filter_log_events": "(self, log_group_name, log_stream_names, start_time, end_time, limit, next_token, "
    "filter_pattern, interleaved)",
    "start_query": "(self, log_group_names, start_time, end_time, query_string)",
    "get_query_results": "(self, query_id)",
    "put_retention_policy": "(self, log_group_name, retention_in_days)",
    "delete_retention_policy": "(self, log_group_name)",
}
_EVENT_CONFIG = ["put", "update", "get", "delete"]
_AWS_POLICY_REFERENCES = {
    "attach_role_policy": "(self, policy_arn, role_name)",
    "attach_user_policy": "(self, policy_arn, user_name)",
    "attach_group_policy": "(self, policy_arn, group_name)",
    "get_policy": "(self, policy_arn)",
    "get_policy_version": "(self, policy_arn, version_id)",
}
_LAMBDA = "moto.awslambda.models:"

PATCHES: tuple[Patch, ...] = (
    # S3 events: asynchronous, AWS-shaped, one event per multipart completion.
    _p("moto.s3.notifications:_get_s3_event", "s3_events", "(event_name, bucket, key, notification_id)",
       "S3 event records carry userIdentity, requestParameters, responseElements, ownerIdentity, sequencer"),
    _p("moto.s3.notifications:_invoke_awslambda", "s3_events", "(account_id, event_body, fn_arn, region_name)",
       "S3 invokes Lambda asynchronously (queued, retried), not inside PutObject through Docker"),
    _p("moto.s3.notifications:send_event", "s3_events", "(account_id, event_name, bucket, key)",
       "a multipart completion notifies only ObjectCreated:CompleteMultipartUpload"),
    _p("moto.s3.models:S3Backend.complete_multipart_upload", "s3_events", "(self, bucket_name, multipart_id, body)",
       "marks the completion so that send_event drops moto's extra Put/Tagging events"),
    # S3 API checks.
    _p("moto.s3.responses:S3Response._notification_config_from_body", "s3_notification_validation", "(self)",
       "PutBucketNotificationConfiguration refuses unvalidated Lambda destinations and overlapping configurations"),
    _p("moto.s3.models:FakeBucket.get_permission", "s3_bucket_policy", "(self, action, resource)",
       "bucket policy conditions are evaluated (a TLS-only Deny does not deny everything; s3:if-none-match)"),
    _p("moto.s3.responses:S3Response._key_response", "s3_bucket_policy", "(self, request, full_url)",
       "gives the policy evaluator each object request's condition keys; a denial is AccessDenied"),
    _p("moto.s3.responses:S3Response._get_checksum", "s3_checksums", "(self, response_headers)",
       "a bare x-amz-checksum-<algorithm> header is kept, and a checksum that does not match is BadDigest"),
    # Lambda: the local runtime instead of Docker, and the API details moto drops.
    _p(_LAMBDA + "LambdaFunction.invoke", "lambda_invoke", "(self, body, request_headers, response_headers)",
       "Invoke runs the function with awslambdaric (RequestResponse, Event, DryRun) without Docker"),
    _p(_LAMBDA + "LambdaFunction._invoke_lambda", "lambda_invoke", "(self, event=None)",
       "moto's internal invoke (other services) uses the same runtime"),
    _p(_LAMBDA + "LambdaBackend.delete_function", "lambda_invoke", "(self, function_name, qualifier=None)",
       "deleting a function ends its execution environments"),
    _p("moto.awslambda.responses:LambdaResponse.call_action", "lambda_invoke", "(self)",
       "an Event invoke answers its invocation's request id (moto gives every answer a random one)"),
    _p("moto.awslambda.responses:LambdaResponse.invoke", "lambda_invoke_qualifier", "(self)",
       "Invoke honours the Qualifier SDKs send (moto reads a lowercase parameter no SDK sends)"),
    _p(_LAMBDA + "LambdaFunction.__init__", "lambda_logging_config", "(self, account_id, spec, region, version=1)",
       "CreateFunction keeps LoggingConfig"),
    _p(_LAMBDA + "LambdaFunction.update_configuration", "lambda_logging_config", "(self, config_updates)",
       "UpdateFunctionConfiguration keeps LoggingConfig"),
    _p(_LAMBDA + "LambdaFunction.get_configuration", "lambda_logging_config", "(self, on_create=False)",
       "GetFunctionConfiguration returns LoggingConfig with AWS's defaults"),
    *(
        _p(f"{_LAMBDA}LambdaBackend.{verb}_function_event_invoke_config", "lambda_event_invoke_config",
           "(self, function_name, config)" if verb in ("put", "update") else "(self, function_name)",
           "one event invoke config per function and qualifier: Put replaces, Update merges, all agree")
        for verb in _EVENT_CONFIG
    ),
    _p(_LAMBDA + "LambdaBackend.list_function_event_invoke_configs", "lambda_event_invoke_config",
       "(self, function_name)", "lists the one config of each version"),
    *(
        _p(f"moto.awslambda.responses:LambdaResponse.{verb}_function_event_invoke_config",
           "lambda_event_invoke_config", "(self)", "the API passes Qualifier to the backend")
        for verb in _EVENT_CONFIG
    ),
    # CloudWatch Logs: reads consistent while the runtime writes.
    *(
        _p(f"moto.logs.models:LogsBackend.{name}", "logs_locking", signature,
           "runs under the lock the Lambda runtime's log writes take (no 'dictionary changed size' 500s)")
        for name, signature in _LOGS_READ_WRITE.items()
    ),
    _p("moto.logs.models:EventMessageFilter", "logs_filter_patterns", "(pattern)",
       "JSON filter patterns ({ $.level = \"ERROR\" }) select events as on AWS; moto matches every event"),
    _p("moto.logs.models:LogStream.filter_log_events", "logs_filter_patterns",
       "(self, start_time, end_time, filter_pattern)",
       "one matcher per FilterLogEvents call, not one per event (polling a busy log group held the logs lock)"),
    # IAM: AWS-managed policies, created on first reference.
    *(
        _p(f"moto.iam.models:IAMBackend.{name}", "iam_managed_policies", signature,
           "AWS-managed policies (arn:aws:iam::aws:policy/...) are attachable without loading all ~1,000")
        for name, signature in _AWS_POLICY_REFERENCES.items()
    ),
    # Serving.
    _p("moto.backends:list_of_moto_modules", "request_dispatch", "()",
       "computed once, not by listing moto's package directory under a global lock on every request"),
    _p("moto.moto_server.werkzeug_app:DomainDispatcherApplication.get_backend_for_host", "request_dispatch",
       "(self, host)", "each host name's service remembered, not ~200 URL patterns tried twice per request"),
    _p("moto.core.base_backend:BackendDict.__getitem__", "hot_paths", "(self, account_id)",
       "an existing account's backends without moto's global lock and list scan (~13 lookups per upload)"),
    _p("moto.core.request:EnvironHeaders.__iter__", "hot_paths", "(self)",
       "werkzeug's header iteration unless an x-amz-meta- header name has an underscore (then moto's)"),
    _p("moto.core.responses:gen_amzn_requestid_long", "hot_paths", "(headerdict=None)",
       "a request id from one random draw, not 52 random.choice calls, on every answer"),
    _p("moto.core.utils:_load_service_model", "hot_paths", "(service_name, model_name)",
       "one botocore loader that checks the asked service only, not a new one listing ~400 services each time"),
)  # fmt: skip


# Import-time deferrals, written for MOTO_VERSION like the patches: each package's submodules import without its
# __init__, which runs at the first use of one of its own names (then the package is exactly moto's).
LAZY_PACKAGES: tuple[LazyPackage, ...] = (
    LazyPackage("boto3", ("DEFAULT_SESSION", "setup_default_session", "set_stream_logger", "_get_default_session",
                          "client", "resource", "logging", "NullHandler", "_warn_deprecated_python"),
                (("__author__", "Amazon Web Services"), ("__version__", "1.44.8")),
                "moto.core.base_backend imports boto3.Session for its region lists, and boto3's __init__ imports "
                "s3transfer and boto3's resource layer, which a server does not use (moto asks for a Session only "
                "for a service that lists boto3's regions)", stand_ins=("Session",)),
    LazyPackage("moto", ("mock_aws",), (("__title__", "moto"), ("__version__", MOTO_VERSION)),
                "moto/__init__ imports mock_aws, which imports boto3 and responses: unused by a server, ~80 ms"),
    LazyPackage("moto.core", ("patch_client", "patch_resource", "ActionAuthenticatorMixin",
                              "enable_iam_authentication", "disable_iam_authentication",
                              "set_initial_no_auth_action_count"),
                (("DEFAULT_ACCOUNT_ID", "123456789012"),),
                "moto/core/__init__ imports moto.core.models (boto3, responses, the botocore stubber) for the "
                "decorator API; every service imports moto.core.base_backend and friends"),
    LazyPackage("moto.awslambda", ("lambda_backends",), (),
                "the Lambda runtime's errors subclass moto.awslambda.exceptions; the package's __init__ imports "
                "moto's Lambda (with ECR and IAM), which a local cloud loads at its first non-S3 request"),
    LazyPackage("cryptography.x509", ("*",), (),
                "moto.iam.models imports it for server certificates only, and every request imports moto's IAM "
                "(account lookup): a third of the first request's work (cryptography 48.0.0)"),
    LazyPackage("moto.cloudformation", ("cloudformation_backends",), (),
                "models' get_cfn_attribute import moto.cloudformation.exceptions, and the package's __init__ "
                "imports .models -> .parsing, which imports every service moto has (seconds at the first "
                "CloudFormation request); moto's own CloudFormation backend still loads it when it is used"),
    LazyPackage("botocore.session", ("*",), (),
                "moto.core.utils imports botocore.session.Session for one function (the first error answer's "
                "service name) and the module brings botocore's client layer (waiters, credentials, docs) that "
                "a server never uses: ~30 ms of every start (botocore 1.44.8)", stand_ins=("Session",)),
)  # fmt: skip


def parameters(function: Any) -> str:
    """A callable's parameters without annotations: ``(self, name, limit=None, **kwargs)``."""
    signature = inspect.signature(function)
    plain = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    return str(signature.replace(parameters=plain, return_annotation=inspect.Signature.empty))


def _resolve(target: str) -> tuple[Any, str]:
    """The object holding the target's attribute, and the attribute's name (``AttributeError`` if missing)."""
    module_name, _, path = target.partition(":")
    owner: Any = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    getattr(owner, name)
    return owner, name


def problems(patches: Iterable[Patch], installed_moto: str, resolve: Iterable[Patch] | None = None) -> list[str]:
    """Everything that makes these patches unsafe on the installed moto (empty when they fit).

    ``resolve`` limits the target checks, which import each target's module, to those patches (default: all).
    """
    patches = tuple(patches)
    found = []
    if installed_moto != MOTO_VERSION:
        found.append(
            f"moto {installed_moto} is installed, but the local cloud's patches were written for moto "
            f"{MOTO_VERSION} (the pin in requirements.in): run `uv pip install -r requirements.txt`."
        )
    for target, count in Counter(p.target for p in patches).items():
        if count > 1:
            fixes = ", ".join(p.fix for p in patches if p.target == target)
            found.append(f"{target} is patched by {count} patches ({fixes}): one attribute, one patch.")
    for patch in patches if resolve is None else resolve:
        try:
            owner, name = _resolve(patch.target)
        except (ImportError, AttributeError):
            found.append(f"{patch.target} (patched by {patch.fix}) does not exist in this moto.")
            continue
        actual = parameters(_ORIGINALS.get((id(owner), name), getattr(owner, name)))
        if actual != patch.signature:
            found.append(
                f"{patch.target} (patched by {patch.fix}) now takes {actual}; the patch was written for "
                f"{patch.signature}."
            )
    return found


def refuse(found: list[str]) -> None:
    if found:
        details = "\n".join(f"  - {line}" for line in found)
        raise PatchError(
            "The local cloud will not start: its moto patches (localcloud/patches.py) do not fit the installed "
            f"moto.\n{details}\nReinstall the pinned moto, or review each fix named above against the new moto and "
            "update its manifest entry."
        )


class Installer:
    """Records what the fixes install, and lets them install only what the manifest declares."""

    def __init__(self, patches: Iterable[Patch]) -> None:
        self._declared = {_resolve_key(p.target): p for p in patches}
        self._installed: dict[tuple[int, str], Any] = {}
        self.undeclared: list[str] = []

    def install(self, owner: Any, name: str, value: Any) -> None:
        key = (id(owner), name)
        if key not in self._declared:
            self.undeclared.append(f"{getattr(owner, '__name__', owner)}.{name}")
            return
        _ORIGINALS.setdefault(key, getattr(owner, name))
        setattr(owner, name, value)
        self._installed[key] = value

    def problems(self) -> list[str]:
        found = [f"{t} is patched but not declared in the manifest." for t in self.undeclared]
        for key, patch in self._declared.items():
            owner, name = _resolve(patch.target)
            if key not in self._installed:
                found.append(f"{patch.target} is declared for {patch.fix}, which never installed it.")
            elif getattr(owner, name) is not self._installed[key]:
                found.append(f"{patch.target} was patched by {patch.fix} and then replaced by something else.")
        return found


def _resolve_key(target: str) -> tuple[int, str]:
    owner, name = _resolve(target)
    return id(owner), name


_installer: Installer | None = None
_ORIGINALS: dict[tuple[int, str], Any] = {}  # moto's own attribute, by (id(owner), name), once patched


def install(owner: Any, name: str, value: Any) -> None:
    """Set ``owner.name = value``: how every fix module patches moto (only inside ``apply()``)."""
    if _installer is None:
        raise PatchError("moto patches are installed only by localcloud.patches.apply() (localcloud.start())")
    _installer.install(owner, name, value)


def fixes(patches: Iterable[Patch] = PATCHES) -> tuple[str, ...]:
    """The fix modules, in manifest order."""
    return tuple(dict.fromkeys(p.fix for p in patches))


def apply(
    patches: Iterable[Patch] = PATCHES,
    package: str = "localcloud.fixes",
    lazy: Iterable[LazyPackage] | None = None,
    later: Iterable[str] = (),
) -> None:
    """Check the manifest against the installed moto, defer the lazy packages, then install every fix but those
    named in ``later`` (``install_later()`` does those) and check again.

    The later fixes' targets are checked here too, unless ``patch_stamp`` shows they were checked against these
    same files: importing them is what deferring them saves. The deferrals are checked (their sources parsed)
    only when no stamp shows they were checked against these same files."""
    patches, lazy, later = tuple(patches), tuple(LAZY_PACKAGES if lazy is None else lazy), frozenset(later)
    found, resolved = patch_stamp.lazy_unless_stamped(lazy, lambda: _lazy_checked(lazy)) if lazy else ([], {})
    if not found:
        for declared in lazy:  # before anything below imports moto
            lazy_packages.defer(declared, resolved[declared.package])
    now = tuple(p for p in patches if p.fix not in later)
    found += problems(patches, importlib.metadata.version("moto"), resolve=now)
    if not found:  # the later ones' targets too, so that a start refuses them
        found = deferred_problems(tuple(p for p in patches if p.fix in later))
    refuse(found)
    _install(now, package)


def _lazy_checked(lazy: tuple[LazyPackage, ...]) -> tuple[list[str], dict[str, Any]]:
    """The deferrals' problems, and (when there are none) what ``defer()`` needs from each package's source."""
    found = lazy_packages.problems(lazy)
    return found, {} if found else {declared.package: lazy_packages.resolve(declared) for declared in lazy}


def deferred_problems(deferred: tuple[Patch, ...]) -> list[str]:
    """The deferred patches' target problems, checked (their modules imported) only when not already stamped."""
    if not deferred:
        return []
    return patch_stamp.problems_unless_stamped(deferred, lambda: problems((), MOTO_VERSION, resolve=deferred))


def install_later(patches: Iterable[Patch], package: str = "localcloud.fixes") -> None:
    """Install fixes ``apply()`` left for later: their targets are checked (and imported) now."""
    patches = tuple(patches)
    refuse(problems(patches, MOTO_VERSION))  # apply() has already refused another moto
    _install(patches, package)


_install_lock = threading.Lock()


def _install(patches: tuple[Patch, ...], package: str) -> None:
    global _installer
    with _install_lock:
        _installer = Installer(patches)
        try:
            for fix in fixes(patches):
                importlib.import_module(f"{package}.{fix}").apply()
            refuse(_installer.problems())
        finally:
            _installer = None
