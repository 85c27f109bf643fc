"""``invoke watch``: redeploy on save through the same deploy path, and tail the function's logs in between.

As ``sam sync --watch`` does: one deploy when it starts, then one per batch of saves under ``lambda/`` and
``cloudformation/`` (watchfiles debounces a burst of writes into one batch). A file that does not parse is
reported and nothing is deployed until it does; a failed deploy is reported and leaves the previous version
running; either way watching goes on. Between changes the function's new log records are printed, so an
upload's log line shows up in the same terminal. One thread, no child processes: Ctrl-C simply ends the loop.

The deploy, the log printing and the change source are passed in, so the loop can be tested without a disk
watcher or a cloud.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline import template
from pipeline.errors import Interrupted, UserError
from pipeline.logs import Tailer

# How often the logs are polled while nothing changes. On AWS FilterLogEvents has a per-account, per-Region rate
# quota that other tools share ("Amazon CloudWatch Logs endpoints and quotas"); the local cloud has none, so a
# line shows up there as soon as it is written.
POLL_MS = {"aws": 1500, "local": 250}
DEBOUNCE_MS = 400


@dataclass
class Hooks:
    deploy: Callable[[], dict[str, str]]  # deploys, returns the stack outputs
    show_records: Callable[[list[dict[str, Any]]], None]
    say: Callable[[str], None]
    logs_client: Any


def relevant(batch: Iterable[tuple[Any, str]], roots: Iterable[Path]) -> list[Path]:
    """The changed files under the watched folders, without editor and cache droppings."""
    roots = [r.resolve() for r in roots]
    found = {Path(path).resolve() for _change, path in batch}
    return sorted(p for p in found if any(p.is_relative_to(r) for r in roots) and "__pycache__" not in p.parts)


def source_error(changed: Iterable[Path], lambda_dir: Path, template_path: Path) -> str | None:
    """Why the sources cannot be deployed as they are, or None: Python that does not compile, a bad template."""
    for path in sorted(lambda_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        try:
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        except SyntaxError as exc:
            return f"{path}:{exc.lineno}:{exc.offset or 0}: {exc.msg} (SyntaxError)"
        except (OSError, UnicodeDecodeError) as exc:
            return f"{path}: {exc}"
    changed = list(changed)
    if not changed or any(p.suffix in (".yaml", ".yml", ".json") for p in changed):
        try:
            template.load(template_path)
        except UserError as exc:
            return str(exc)
    return None


class Loop:
    def __init__(self, hooks: Hooks, lambda_dir: Path, template_path: Path) -> None:
        self.hooks, self.lambda_dir, self.template_path = hooks, lambda_dir, template_path
        self.tailer: Tailer | None = None
        self.started_ms = int(time.time() * 1000)

    def deploy(self, changed: list[Path]) -> None:
        problem = source_error(changed, self.lambda_dir, self.template_path)
        if problem:
            self.hooks.say(f"Not deployed: {problem}\nStill watching; fix it and save again.")
            return
        try:
            outputs = self.hooks.deploy()
        except Interrupted:
            raise
        except UserError as exc:
            self.hooks.say(f"Deploy failed: {exc}\nStill watching; the previous version keeps running.")
            return
        group = outputs.get("LogGroupName")
        if group and (self.tailer is None or self.tailer.group != group):
            self.tailer = Tailer(self.hooks.logs_client, group, self.started_ms)
        self.hooks.say("Watching lambda/ and cloudformation/ for changes (Ctrl-C stops).")

    def poll_logs(self) -> None:
        if self.tailer is None:
            return
        try:
            fresh = self.tailer.poll()
        except UserError as exc:  # the log group is gone (stack deleted meanwhile)
            self.hooks.say(str(exc))
            self.tailer = None
            return
        if fresh:
            self.hooks.show_records(fresh)

    def run(self, batches: Iterable[set[tuple[Any, str]]], roots: list[Path]) -> None:
        """Deploy once, then per batch of changes; an empty batch (a time-out) polls the logs."""
        self.deploy([])
        for batch in batches:
            self.poll_logs()
            changed = relevant(batch, roots)
            if changed:
                names = ", ".join(str(p.relative_to(p.parent.parent)) for p in changed[:5])
                self.hooks.say(f"Changed: {names}{' …' if len(changed) > 5 else ''}. Redeploying.")
                self.deploy(changed)


def disk_changes(roots: list[Path], target: str) -> Iterable[set[tuple[Any, str]]]:
    """watchfiles' batches of changes, with an empty batch every ``POLL_MS[target]`` so the logs get polled."""
    import watchfiles

    poll_ms = POLL_MS[target]
    return watchfiles.watch(*roots, debounce=DEBOUNCE_MS, rust_timeout=poll_ms, yield_on_timeout=True)
