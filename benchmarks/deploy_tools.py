"""What the deploy benchmarks share: a working copy, each tool run as a whole process, and a call counter.

Both sides run as the user runs them: `invoke deploy` from a copy of this repository, `aws cloudformation deploy`
from the venv's awscli, each a fresh process against the same local cloud. The artifact is packaged and
uploaded before a timed step (by the pipeline's own packager, outside the timing), so both deploy the same key.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COPIED = ("tasks.py", "invoke.yaml", "pyproject.toml", "pipeline", "cloudformation", "lambda", "localcloud")
SERVE = """
import sys, localcloud
with localcloud.start(latency=sys.argv[1] or None) as endpoint:
    print(endpoint, flush=True)
    sys.stdin.read()
"""
READ_ONLY = re.compile(r"^(Describe|List|Get|Head|Validate|Estimate|Filter|Lookup|Detect)")


def workspace(folder: Path, environments: list[str]) -> Path:
    """A copy of the repository's task code, template and function, so code changes touch nothing real.

    ``environments`` are added to its invoke.yaml: one fresh stack per benchmark round.
    """
    import yaml

    work = folder / "work"
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=shutil.ignore_patterns("__pycache__", ".cache"))
        else:
            work.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, work / name)
    config = yaml.safe_load((work / "invoke.yaml").read_text())
    config["pipeline"]["environments"].update({name: {} for name in environments})
    (work / "invoke.yaml").write_text(yaml.safe_dump(config))
    sys.path.insert(0, str(work))  # this process's pipeline and localcloud imports are the copy's too
    return work


@contextlib.contextmanager
def serve(work: Path, latency: str | None = None) -> Iterator[str]:
    """A local cloud run from the working copy: its identity names that checkout, as the tasks there require."""
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, latency or ""], cwd=work, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        endpoint = process.stdout.readline().strip()
        if not endpoint.startswith("http://"):
            raise SystemExit(f"the working copy's local cloud did not start (exit {process.wait()})")
        yield endpoint
    finally:
        process.stdin.close()
        process.wait(60)


def tool_env(endpoint: str) -> dict[str, str]:
    """The environment both tools run in: the local cloud's endpoint and dummy credentials, nothing ambient."""
    import localcloud

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PIPELINE_", "INVOKE_"))}
    env.update(localcloud.DUMMY_CREDENTIALS)
    env.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "NO_COLOR": "1",
        }
    )
    return env


class Hung(Exception):
    """A tool's process did not end within the benchmark's limit (it was killed)."""


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float | None = None) -> tuple[float, str]:
    """Seconds for one whole process, and its output; a failure ends the benchmark with that output."""
    started = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise Hung(f"{' '.join(argv[:3])} did not end within {timeout:.0f} s") from exc
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(
            f"{' '.join(argv[:3])} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return seconds, done.stdout


@dataclass
class Target:
    """The settings `invoke deploy` uses in the working copy, and what the awscli needs to deploy the same."""

    work: Path
    endpoint: str
    environment: str

    def settings(self):
        import yaml

        from pipeline.config import resolve

        config = yaml.safe_load((self.work / "invoke.yaml").read_text())["pipeline"]
        settings = resolve(config, environment=self.environment, env={"AWS_ENDPOINT_URL": self.endpoint})
        return replace(settings, lambda_dir=self.work / "lambda", template=self.work / "cloudformation" / "app.yaml")

    def upload_artifact(self) -> dict[str, str]:
        """Package and upload the current code (outside any timing); the template parameters for it."""
        from pipeline import aws, destination, package

        settings = self.settings()
        cloud = aws.connect(settings)
        bucket = destination.resolve(settings, cloud).artifact_bucket
        artifact = package.build(settings.lambda_dir, settings.artifact_key_prefix)
        upload = package.upload(cloud.client("s3"), bucket, artifact)
        return {**settings.parameters, "ArtifactBucket": upload.bucket, "ArtifactKey": upload.key}

    def change_code(self, mark: str) -> None:
        handler = self.work / "lambda" / "handler.py"
        handler.write_text(handler.read_text() + f"\n# benchmark change {mark}\n")


def invoke_deploy(target: Target, env: dict[str, str], timeout: float | None = None) -> float:
    return run([str(BIN / "invoke"), "deploy", "--environment", target.environment], target.work, env, timeout)[0]


def aws_deploy(
    target: Target, env: dict[str, str], stack: str, parameters: dict[str, str], timeout: float | None = None
) -> float:
    template = str(target.work / "cloudformation" / "app.yaml")
    argv = [
        str(BIN / "aws"), "cloudformation", "deploy", "--template-file", template,
        "--stack-name", stack, "--capabilities", "CAPABILITY_IAM", "CAPABILITY_NAMED_IAM",
        "--no-fail-on-empty-changeset", "--parameter-overrides", *(f"{k}={v}" for k, v in parameters.items()),
    ]  # fmt: skip
    return run(argv, target.work, env, timeout)[0]


class CallCounter:
    """A loopback proxy in front of the local cloud that records each AWS operation it forwards.

    Operations are named from the request, whatever the protocol: ``Action=`` (query), ``X-Amz-Target`` (JSON),
    else the HTTP method and the service's path (REST, e.g. S3). Mutating means anything but a read.
    """

    def __init__(self, upstream: str):
        self.upstream = urllib.parse.urlparse(upstream)
        self.calls: list[str] = []
        self._lock = threading.Lock()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> CallCounter:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    def mutating(self) -> list[str]:
        return [c for c in self.calls if is_mutating(c)]

    def before(self, name: str, params: dict[str, str]) -> None:
        """Called with each request's operation and form parameters before it is forwarded."""

    def rewrite(self, name: str, params: dict[str, str], body: bytes) -> bytes:
        """The answer to send back (a subclass may change what the caller sees)."""
        return body

    def _record(self, name: str) -> None:
        with self._lock:
            self.calls.append(name)

    def _handler(self):
        counter = self

        class Forward(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _forward(self) -> None:
                body = self._body()
                name = operation(self.command, self.path, self.headers, body)
                params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(errors="replace")).items()}
                counter._record(name)
                counter.before(name, params)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
                headers["Content-Length"] = str(len(body))
                upstream = http.client.HTTPConnection(counter.upstream.hostname, counter.upstream.port, timeout=120)
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = counter.rewrite(name, params, answer.read())
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

        return Forward


def is_mutating(name: str) -> bool:
    if " " in name:  # a REST call: "METHOD first-path-segment"
        return not name.startswith(("GET ", "HEAD "))
    return not READ_ONLY.match(name)


def operation(method: str, path: str, headers, body: bytes) -> str:
    target = headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    form = urllib.parse.parse_qs(body.decode(errors="replace")) if method == "POST" else {}
    query = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)
    action = (form.get("Action") or query.get("Action") or [None])[0]
    if action:
        return action
    return f"{method} {urllib.parse.urlparse(path).path.split('/')[1] or '/'}"
