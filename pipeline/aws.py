"""The one place boto3 sessions and clients are made.

``connect()`` turns settings into a ``Cloud``: a session for the local cloud (dummy credentials, its endpoint)
or for AWS (boto3's standard credential chain). It fails early, with the fix, when the target can't be reached.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import botocore.loaders
import botocore.session

from pipeline import cancel, redact
from pipeline.config import Settings
from pipeline.errors import UserError

PIPELINE_SERVICES = ("sts", "s3", "cloudformation", "lambda", "logs")  # what a deploy and its verify call
LOCAL_CREDENTIALS = {"aws_access_key_id": "localcloud", "aws_secret_access_key": "localcloud"}
CLIENT_CONFIG = botocore.config.Config(
    retries={"mode": "standard", "max_attempts": 10},
    user_agent_extra="s3-lambda-gitops",
    connect_timeout=10,
    read_timeout=60,
)


@dataclass
class Cloud:
    """A session bound to one target, region and endpoint; it hands out cached clients."""

    target: str
    region: str
    endpoint_url: str | None
    session: boto3.Session
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, endpoint_url=self.endpoint_url, config=CLIENT_CONFIG)
        return self._clients[service]

    def identity(self) -> dict[str, str]:
        """Account and caller ARN; the first call that proves the credentials work."""
        try:
            found = self.client("sts").get_caller_identity()
        except botocore.exceptions.NoCredentialsError as exc:
            raise _no_credentials() from exc
        except botocore.exceptions.ClientError as exc:
            raise UserError(
                f"AWS rejected the credentials ({exc.response['Error'].get('Code')}: "
                f"{exc.response['Error'].get('Message')}). Refresh them (for example `aws sso login "
                "--profile NAME`) or pick another profile with --profile / AWS_PROFILE."
            ) from exc
        return {"account": found["Account"], "arn": found["Arn"]}


def _no_credentials() -> UserError:
    return UserError(
        "No AWS credentials were found for --target aws. Set a profile with --profile NAME or AWS_PROFILE "
        "(after `aws configure` or `aws sso login`), or export credentials; in GitHub Actions the OIDC step "
        "(aws-actions/configure-aws-credentials) provides them. To try everything without AWS, use the "
        "default --target local."
    )


def local_cloud_running(endpoint_url: str, timeout: float = 0.5) -> bool:
    """True when this checkout's local cloud answers at the endpoint (``pipeline.local_identity.running``)."""
    from pipeline import local_identity
    from pipeline.config import ROOT

    return local_identity.running(endpoint_url, ROOT, timeout)


@functools.cache
def _data_loader(data_path: str | None) -> botocore.loaders.Loader:
    """One botocore data loader per data path: its JSON (endpoints, service models) is parsed once per process."""
    return botocore.loaders.create_loader(data_path)


def new_session(**kwargs: Any) -> boto3.Session:
    """``boto3.Session(**kwargs)`` over the shared data loader (a plain new session parses it all again).

    The loader is still looked up through the session's config, as botocore does, so a missing profile raises
    ProfileNotFound right here, as ``boto3.Session`` would.
    """
    core = botocore.session.Session()
    core.lazy_register_component("data_loader", lambda: _data_loader(core.get_config_variable("data_path")))
    session = boto3.Session(botocore_session=core, **kwargs)
    loader = core.get_component("data_loader")
    loader.search_paths[:] = dict.fromkeys(loader.search_paths)  # boto3 appends its data path per session
    return session


@functools.cache
def local_regions() -> frozenset[str]:
    """Every region botocore knows, in every partition: the ones the local cloud serves."""
    session = new_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("s3", partition_name=partition)
    )


def check_local_region(region: str) -> None:
    if region not in local_regions():
        raise UserError(
            f"Region {region!r} is not an AWS region, so the local cloud does not serve it. Use a real region "
            "name such as us-east-1 or eu-west-1 (--region, or `region` in invoke.yaml)."
        )


def _connect_local(settings: Settings) -> Cloud:
    assert settings.endpoint_url
    check_local_region(settings.region)
    if not local_cloud_running(settings.endpoint_url):
        raise UserError(
            f"No local cloud is answering at {settings.endpoint_url}. Start one in another terminal with "
            "`invoke localcloud` (then run this task again), or run `invoke pipeline`, which starts its own. "
            "To deploy to your AWS account instead, pass --target aws."
        )
    return _local_cloud(settings)


def _local_cloud(settings: Settings) -> Cloud:
    session = new_session(region_name=settings.region, **LOCAL_CREDENTIALS)
    if settings.account:  # moto's multi-account switch: each request names its account in this header
        session.events.register("before-sign", lambda request, **_: _name_account(request, settings.account))
    return Cloud("local", settings.region, settings.endpoint_url, session)


def prepare_own_local(settings: Settings, services: tuple[str, ...] = PIPELINE_SERVICES) -> Cloud:
    """The Cloud for a local cloud this process started itself (so not probed), its clients already made.

    Making a client is reading its service's model: about 0.3 s of CPU for a pipeline's five, which
    ``invoke pipeline`` spends while its lint runs and its local cloud starts. No request is sent.
    """
    assert settings.endpoint_url
    check_local_region(settings.region)
    cloud = _local_cloud(settings)
    cloud.session.events.register("before-send", cancel.before_send)  # its deploy may be abandoned (overlap)
    for service in services:
        cloud.client(service)
    return cloud


def _name_account(request, account: str) -> None:
    request.headers["x-moto-account-id"] = account


def _connect_aws(settings: Settings, environ: dict[str, str]) -> Cloud:
    # boto3 honours AWS_ENDPOINT_URL on its own; keep it visible, because the banner must say where calls go.
    endpoint = environ.get("AWS_ENDPOINT_URL") or None
    try:
        session = new_session(profile_name=settings.profile, region_name=settings.region)
    except botocore.exceptions.ProfileNotFound as exc:
        raise UserError(
            f"The AWS profile {settings.profile!r} does not exist in your AWS config. List the profiles with "
            "`aws configure list-profiles`, then pass one with --profile NAME or AWS_PROFILE (or create it "
            "with `aws configure --profile NAME` / `aws configure sso`)."
        ) from exc
    if session.get_credentials() is None:
        raise _no_credentials()
    redact.register_session(session)  # whatever the chain resolved never reaches the output
    return Cloud("aws", settings.region, endpoint, session)


def connect(settings: Settings, environ: dict[str, str] | None = None) -> Cloud:
    """Make the session for the settings' target, failing early with the fix when it can't work."""
    if settings.target == "local":
        return _connect_local(settings)
    return _connect_aws(settings, dict(os.environ) if environ is None else environ)
