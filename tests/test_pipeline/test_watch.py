"""`invoke watch`: redeploys on save, reports a file that does not parse and keeps watching, tails the logs."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest

from pipeline import lint_cache
from pipeline.config import ROOT
from pipeline.errors import UserError
from pipeline.watch import Hooks, Loop, relevant

MODIFIED = 2  # watchfiles.Change.modified


class Fake:
    def __init__(self, fail_with=None):
        self.deploys, self.said, self.shown, self.fail_with = 0, [], [], fail_with

    def deploy(self):
        self.deploys += 1
        if self.fail_with:
            raise UserError(self.fail_with)
        return {}

    def hooks(self):
        return Hooks(self.deploy, self.shown.append, self.said.append, logs_client=None)


@pytest.fixture
def sources(tmp_path):
    lambda_dir, cfn_dir = tmp_path / "lambda", tmp_path / "cloudformation"
    shutil.copytree(ROOT / "lambda", lambda_dir, ignore=shutil.ignore_patterns("__pycache__"))
    cfn_dir.mkdir()
    shutil.copy(ROOT / "cloudformation" / "app.yaml", cfn_dir / "app.yaml")
    return lambda_dir, cfn_dir


def test_a_file_that_does_not_parse_is_reported_and_watching_goes_on(sources):
    lambda_dir, cfn_dir = sources
    handler = lambda_dir / "handler.py"
    good = handler.read_text()
    fake = Fake()
    loop = Loop(fake.hooks(), lambda_dir, cfn_dir / "app.yaml")

    def batches():
        yield set()  # a time-out: nothing changed
        handler.write_text(good + "\ndef broken(:\n")
        yield {(MODIFIED, str(handler))}
        handler.write_text(good)
        yield {(MODIFIED, str(handler))}

    loop.run(batches(), [lambda_dir, cfn_dir])
    assert fake.deploys == 2  # the first deploy and the fixed save; never the broken one
    broken = next(s for s in fake.said if s.startswith("Not deployed"))
    assert re.search(r"handler\.py:\d+:\d+: .*\(SyntaxError\)\nStill watching", broken)


def test_a_template_that_does_not_parse_is_reported(sources):
    lambda_dir, cfn_dir = sources
    fake = Fake()
    loop = Loop(fake.hooks(), lambda_dir, cfn_dir / "app.yaml")
    (cfn_dir / "app.yaml").write_text("Resources: [unclosed\n")
    loop.run(iter([{(MODIFIED, str(cfn_dir / "app.yaml"))}]), [lambda_dir, cfn_dir])
    assert fake.deploys == 0
    assert any("is not valid YAML" in s for s in fake.said)


def test_a_failed_deploy_is_reported_and_watching_goes_on(sources):
    lambda_dir, cfn_dir = sources
    fake = Fake(fail_with="Deploy of stack x failed.")
    loop = Loop(fake.hooks(), lambda_dir, cfn_dir / "app.yaml")
    loop.run(iter([{(MODIFIED, str(lambda_dir / "handler.py"))}]), [lambda_dir, cfn_dir])
    assert fake.deploys == 2
    assert (
        fake.said.count("Deploy failed: Deploy of stack x failed.\nStill watching; the previous version keeps running.")
        == 2
    )


def test_only_files_under_the_watched_folders_count(sources, tmp_path):
    lambda_dir, cfn_dir = sources
    batch = {(MODIFIED, str(lambda_dir / "handler.py")), (MODIFIED, str(tmp_path / "elsewhere.py")),
             (MODIFIED, str(lambda_dir / "__pycache__" / "handler.cpython-311.pyc"))}  # fmt: skip
    assert relevant(batch, [lambda_dir, cfn_dir]) == [(lambda_dir / "handler.py").resolve()]


def test_the_logs_are_polled_often_on_the_local_cloud_and_sparingly_on_aws(tmp_path, monkeypatch):
    import watchfiles

    from pipeline import watch

    asked = {}
    monkeypatch.setattr(watchfiles, "watch", lambda *roots, **options: asked.setdefault(len(asked), options))
    watch.disk_changes([tmp_path], "local"), watch.disk_changes([tmp_path], "aws")
    local, aws = asked[0]["rust_timeout"], asked[1]["rust_timeout"]
    assert local < aws and aws >= 1000  # AWS: at most one FilterLogEvents a second, under its shared rate quota
    assert asked[0]["yield_on_timeout"] and asked[1]["yield_on_timeout"]  # an idle interval still polls the logs


# -- the real thing: `invoke watch` in a copy of the repository, against a local cloud started there ----------
def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _copy_repo(target: Path) -> Path:
    """The checkout's own files, as lint sees them (what git tracks or would): not the README's .venv inside it
    (~800 MB, 45,000 files in CI's clone, which made this test take 26 s there), nor caches."""
    for name in lint_cache.project_files(ROOT):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target / name)
    return target


class Output:
    """A child's merged output, collected by a thread as it arrives; waiting wakes on each new line, not on a timer."""

    def __init__(self, process):
        self.process, self.chunks, self.ended = process, [], False
        self._news = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in iter(self.process.stdout.readline, ""):
            with self._news:
                self.chunks.append(line)
                self._news.notify_all()
        with self._news:
            self.ended = True  # the child closed its output: nothing more will come
            self._news.notify_all()

    @property
    def text(self):
        return "".join(self.chunks)

    def wait_for(self, pattern, timeout=90.0):
        deadline = time.monotonic() + timeout
        with self._news:
            while True:
                found = re.search(pattern, self.text, re.MULTILINE)
                if found:
                    return found
                left = deadline - time.monotonic()
                if self.ended or left <= 0:
                    break
                self._news.wait(left)
        raise AssertionError(f"never saw {pattern!r} in:\n{self.text[-4000:]}")


def _parents() -> dict[int, int]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError):
                continue
    return found


def _working_in(repo: Path, besides: int) -> list[int]:
    """Processes whose working directory is ``repo``, other than ``besides`` and its descendants."""
    parents, found = _parents(), []
    for pid in parents:
        try:
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
        except OSError:
            continue
        ancestor = pid
        while ancestor not in (0, 1, besides) and ancestor in parents:
            ancestor = parents[ancestor]
        if cwd == repo and ancestor != besides:
            found.append(pid)
    return found


def _start(args, cwd, env):
    return subprocess.Popen(
        [sys.executable, "-m", "invoke", *args], cwd=cwd, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def _stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def test_invoke_watch_redeploys_a_changed_handler_and_shows_its_new_log_line(tmp_path):
    repo = _copy_repo(tmp_path / "repo")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "GITHUB_"))}
    env.update({"CI": "1", "PYTHONUNBUFFERED": "1", "AWS_ENDPOINT_URL": endpoint})
    cloud = _start(["localcloud", "--port", str(port)], repo, env)
    watcher = None
    try:
        Output(cloud).wait_for(r"Local cloud running at")
        watcher = _start(["watch"], repo, env)
        out = Output(watcher)
        out.wait_for(r"^Watching lambda/ and cloudformation/")
        bucket = out.wait_for(r"^BucketName +(\S+)").group(1)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        s3.put_object(Bucket=bucket, Key="watch/first.txt", Body=b"1")
        out.wait_for(r"INFO +[0-9a-f-]{36}  object created key=watch/first\.txt")

        handler = repo / "lambda" / "handler.py"
        handler.write_text(handler.read_text().replace('"object created key=', '"object landed key=', 1))
        out.wait_for(r"^Changed: lambda/handler\.py\. Redeploying\.")
        out.wait_for(r"^Stack \S+: UPDATE_COMPLETE\.")
        s3.put_object(Bucket=bucket, Key="watch/second.txt", Body=b"2")
        out.wait_for(r"INFO +[0-9a-f-]{36}  object landed key=watch/second\.txt")

        assert _working_in(repo, besides=cloud.pid) == [watcher.pid]  # watching runs no processes of its own
        os.killpg(watcher.pid, signal.SIGINT)  # Ctrl-C, as a terminal sends it to the foreground group
        assert watcher.wait(30) == 0
        out.wait_for(r"^Stopped watching\.")
        assert _working_in(repo, besides=cloud.pid) == []
    finally:
        if watcher is not None:
            _stop(watcher)
        _stop(cloud)
    assert cloud.returncode is not None


def test_on_aws_watch_asks_once_and_a_no_deploys_nothing(make_settings, monkeypatch):
    from pipeline import commands, report

    deployed = []
    monkeypatch.setattr(report, "wants_confirmation", lambda target, yes: True)
    monkeypatch.setattr(commands, "deploy", lambda *a, **k: deployed.append(a))
    asked = []
    with pytest.raises(UserError, match="Not confirmed: nothing was deployed"):
        commands.watch(make_settings(), changes=iter([]), confirm=lambda q: asked.append(q) or "n")
    assert deployed == [] and len(asked) == 1 and "on every save until Ctrl-C? [y/N]" in asked[0]


def test_on_aws_a_yes_deploys_and_later_deploys_do_not_ask_again(make_settings, monkeypatch):
    from types import SimpleNamespace

    from pipeline import commands, report

    calls = []
    monkeypatch.setattr(report, "wants_confirmation", lambda target, yes: True)
    monkeypatch.setattr(commands, "deploy", lambda *a, **k: calls.append(k) or SimpleNamespace(outputs={}))
    settings = make_settings()
    handler = settings.lambda_dir / "handler.py"
    asked = []
    commands.watch(settings, changes=iter([{(MODIFIED, str(handler))}]), confirm=lambda q: asked.append(q) or "y")
    assert len(asked) == 1 and len(calls) == 2 and all(k["yes"] is True for k in calls)
