"""The catalogue of bad inputs: each one, what it must say, and how it is run.

``CLI`` cases run the ``invoke`` program (invoke's own parsing of invoke.yaml, INVOKE_* variables and flags), in
the test process unless ``whole_process`` (``invoke_cli.run``): each exit path keeps a case run as a real
process, here (invoke's parse error, the settings preflight, a refused confirmation) or where a comment says (a
task's user error through the boundary, the localcloud task's). ``TASK`` cases call a task's function inside the
task boundary, in process, which checks the same message, exit code and absence of a traceback.
``bad_inputs_table.py`` renders the catalogue, with the messages actually printed, as ``bad_inputs.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cli:
    id: str
    what: str  # the input, as the table shows it
    args: tuple[str, ...]
    phrase: str  # must appear in stderr
    env: dict[str, str] = field(default_factory=dict)
    invoke_yaml: str | None = None  # run in a copy of the project with this invoke.yaml
    live_cloud: bool = False  # AWS_ENDPOINT_URL points at the session's local cloud (else a dead port)
    whole_process: bool = False  # run as `python -m invoke` in a subprocess, not in the test process


YAML_OK = "pipeline:\n  environments:\n    dev: {}\n"

CLI: list[Cli] = [
    # invoke.yaml
    Cli(
        "yaml-error",
        "invoke.yaml: `region: [unclosed`",
        ("deploy",),
        "is not valid YAML",
        invoke_yaml="pipeline:\n  region: [unclosed\n",
        whole_process=True,
    ),
    Cli(
        "yaml-tab",
        "invoke.yaml indented with a tab",
        ("deploy",),
        "is not valid YAML",
        invoke_yaml="pipeline:\n\tregion: us-east-1\n",
    ),
    Cli(
        "yaml-unknown-key",
        "invoke.yaml: `regoin: eu-west-1`",
        ("deploy",),
        "Did you mean `region`?",
        invoke_yaml="pipeline:\n  regoin: eu-west-1\n",
    ),
    Cli(
        "yaml-unknown-section",
        "invoke.yaml: top-level `pipline:`",
        ("deploy",),
        "Did you mean `pipeline`?",
        invoke_yaml="pipline:\n  region: eu-west-1\n",
    ),
    Cli(
        "yaml-env-wrong-type",
        "invoke.yaml: `environments: {dev: [a]}`",
        ("deploy",),
        "environment `dev` must be a mapping",
        invoke_yaml="pipeline:\n  environments:\n    dev: [a]\n",
    ),
    Cli(
        "yaml-envs-list",
        "invoke.yaml: `environments: [dev]`",
        ("deploy",),
        "`pipeline.environments` must be a mapping",
        invoke_yaml="pipeline:\n  environments: [dev]\n",
    ),
    Cli(
        "yaml-timeout-text",
        "invoke.yaml: `verify_timeout: soon`",
        ("verify",),
        "`pipeline.verify_timeout` must be a number",
        invoke_yaml="pipeline:\n  verify_timeout: soon\n",
    ),
    Cli(
        "yaml-not-mapping",
        "invoke.yaml is a list",
        ("deploy",),
        "must be a mapping with a `pipeline:` section",
        invoke_yaml="- a\n- b\n",
    ),
    Cli(
        "yaml-env-key-typo",
        "invoke.yaml: environment key `stack_nam`",
        ("deploy",),
        "Did you mean `stack_name`?",
        invoke_yaml="pipeline:\n  environments:\n    dev: {stack_nam: x}\n",
    ),
    # environment variables
    Cli(
        "env-timeout-banana",
        "INVOKE_PIPELINE_VERIFY_TIMEOUT=banana",
        ("verify",),
        "is not a whole number",
        env={"INVOKE_PIPELINE_VERIFY_TIMEOUT": "banana"},
    ),
    Cli(
        "env-port-text",
        "INVOKE_PIPELINE_LOCAL_PORT=http",
        ("deploy",),
        "is not a whole number",
        env={"INVOKE_PIPELINE_LOCAL_PORT": "http"},
    ),
    Cli(
        "env-unknown",
        "INVOKE_PIPELINE_REGOIN=eu-west-1",
        ("deploy",),
        "Did you mean `INVOKE_PIPELINE_REGION`?",
        env={"INVOKE_PIPELINE_REGOIN": "eu-west-1"},
    ),
    Cli(
        "env-list-setting",
        "INVOKE_PIPELINE_DEPLOY_ENVIRONMENTS=staging",
        ("deploy",),
        "set it in invoke.yaml",
        env={"INVOKE_PIPELINE_DEPLOY_ENVIRONMENTS": "staging"},
    ),
    Cli("env-target", "PIPELINE_TARGET=cloud", ("deploy",), "Unknown target 'cloud'", env={"PIPELINE_TARGET": "cloud"}),
    Cli(
        "env-environment",
        "PIPELINE_ENVIRONMENT=qa",
        ("deploy",),
        "Unknown environment 'qa'",
        env={"PIPELINE_ENVIRONMENT": "qa"},
    ),
    Cli(
        "env-project",
        "INVOKE_PIPELINE_PROJECT=Bad_Project",
        ("deploy",),
        "Invalid stack name 'Bad_Project-dev'",
        env={"INVOKE_PIPELINE_PROJECT": "Bad_Project"},
    ),
    Cli(
        "env-region",
        "INVOKE_PIPELINE_REGION=Mars",
        ("deploy",),
        "Invalid region 'Mars'",
        env={"INVOKE_PIPELINE_REGION": "Mars"},
    ),
    # flags
    # The localcloud task's user errors (parse_port, before anything is served) leave through the task boundary as
    # tests/localcloud/test_localcloud_task.py's port in use does, which runs as a whole process: in process.
    Cli(
        "flag-port-banana",
        "invoke localcloud --port banana",
        ("localcloud", "--port", "banana"),
        "--port must be a TCP port number",
    ),
    Cli(
        "flag-port-range",
        "invoke localcloud --port 70000",
        ("localcloud", "--port", "70000"),
        "--port must be a TCP port number",
    ),
    # serve_localcloud refuses before it sets signal handlers or serves, as for a port in use: in process too.
    Cli(
        "flag-localcloud-region",
        "invoke localcloud --region moon-1",
        ("localcloud", "--region", "moon-1"),
        "is not an AWS region",
    ),
    Cli(
        "flag-timeout-abc",
        "invoke verify --timeout abc",
        ("verify", "--timeout", "abc"),
        "--timeout must be a positive number of seconds",
        live_cloud=True,
    ),
    Cli(
        "flag-timeout-negative",
        "invoke verify --timeout -5",
        ("verify", "--timeout", "-5"),
        "--timeout must be a positive number of seconds",
        live_cloud=True,
    ),
    Cli("flag-max-zero", "invoke redrive --max 0", ("redrive", "--max", "0"), "--max must be a whole number"),
    Cli("flag-target", "invoke deploy --target gcp", ("deploy", "--target", "gcp"), "Unknown target 'gcp'"),
    Cli(
        "flag-environment-wildcard",
        "invoke deploy --environment 'prod*'",
        ("deploy", "--environment", "prod*"),
        "Invalid environment name 'prod*'",
    ),
    Cli("flag-region", "invoke deploy --region nowhere", ("deploy", "--region", "nowhere"), "Invalid region"),
    Cli(
        "flag-local-region",
        "invoke deploy --region xx-fake-1 (local)",
        ("deploy", "--region", "xx-fake-1"),
        "is not an AWS region",
        live_cloud=True,
    ),
    Cli(
        "flag-since",
        "invoke logs --since forever",
        ("logs", "--since", "forever"),
        "is not a duration",
        live_cloud=True,
    ),
    Cli("flag-unknown", "invoke deploy --colour", ("deploy", "--colour"), "No idea what '--colour' is"),
    Cli("flag-no-task", "invoke deplyo", ("deplyo",), "No idea what 'deplyo' is", whole_process=True),
    Cli("flag-bootstrap-repo", "invoke bootstrap (no --repo)", ("bootstrap",), "needs --repo OWNER/REPO"),
    Cli(
        "flag-bootstrap-url",
        "invoke bootstrap --repo https://github.com/o/r.git",
        ("bootstrap", "--repo", "https://github.com/o/r.git"),
        "use --repo o/r",
    ),
    # the local cloud and AWS credentials
    # A task's user error through the boundary: in process. The whole process of that exit path (its code, its
    # stderr the same as in process, no traceback, the quick exit) is test_process_costs.py's failed deploy, and this
    # deploy against no local cloud with PIPELINE_DEBUG=1 is test_cli_errors.py's traceback test.
    Cli(
        "local-not-running",
        "deploy with no local cloud at AWS_ENDPOINT_URL",
        ("deploy",),
        "No local cloud is answering",
    ),
    Cli("verify-no-stack", "invoke verify before any deploy", ("verify",), "does not exist", live_cloud=True),
    Cli("drift-no-stack", "invoke drift before any deploy", ("drift",), "does not exist", live_cloud=True),
    Cli("redrive-no-stack", "invoke redrive before any deploy", ("redrive",), "does not exist", live_cloud=True),
    Cli(
        "destroy-unconfirmed",
        "invoke destroy, answer not given",
        ("destroy",),
        "Not confirmed, nothing was deleted",
        live_cloud=True,
        whole_process=True,
    ),
    Cli(
        "aws-no-credentials",
        "invoke deploy --target aws, no credentials",
        ("deploy", "--target", "aws"),
        "No AWS credentials",
    ),
    Cli(
        "aws-unknown-profile",
        "invoke deploy --target aws --profile nope",
        ("deploy", "--target", "aws", "--profile", "nope"),
        "profile 'nope' does not exist",
    ),
]
