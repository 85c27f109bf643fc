"""A stand-in for the gh CLI, for the bootstrap tests: the GitHub REST calls the bootstrap makes, on a JSON file.

The shapes follow GitHub's REST API docs ("Deployment environments", "Deployment branch policies"): an
environment's ``deployment_branch_policy`` is null or ``{"protected_branches": bool, "custom_branch_policies":
bool}``; the policies list is ``{"total_count": N, "branch_policies": [{"id", "name", "type"}]}``. State lives in
the file named by FAKE_GH_STATE; every call is appended to its "calls". ``install(directory, state)`` writes an
executable ``gh`` there; ``run`` is the same gh called in this process (``pipeline.github``'s ``Runner``), for the
tests of github.py's logic, which would otherwise start a Python process for each of their ~30 gh calls.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def install(directory: Path, state: dict) -> Path:
    """Write ``gh`` into ``directory`` and the initial ``state``; returns the state file."""
    script = directory / "gh"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} {Path(__file__).resolve()} "$@"\n')
    script.chmod(0o755)
    path = directory / "gh-state.json"
    path.write_text(json.dumps({"logged_in": True, "repos": {}, "environments": {}, "variables": {}, **state}))
    return path


def _fields(args: list[str]) -> dict[str, str]:
    found = {}
    for flag, value in itertools.pairwise(args):
        if flag in ("-f", "-F"):
            key, _, raw = value.partition("=")
            found[key] = {"true": True, "false": False}.get(raw, raw) if flag == "-F" else raw
    return found


def _api(state: dict, args: list[str]) -> tuple[int, str]:
    method = args[args.index("-X") + 1] if "-X" in args else "GET"
    path = next(a for a in args if a.startswith("repos/"))
    parts = path.split("/")
    repo = "/".join(parts[1:3])
    if repo not in state["repos"]:
        return 1, "gh: Not Found (HTTP 404)"
    if len(parts) == 3:
        return 0, str(state["repos"][repo]) if "--jq" in args else json.dumps({"id": state["repos"][repo]})
    key = f"{repo}/{parts[4]}"
    environments = state["environments"]
    if len(parts) == 5 and method == "PUT":
        fields = _fields(args)
        env = environments.setdefault(key, {"name": parts[4], "policies": []})
        env["deployment_branch_policy"] = {
            "protected_branches": fields["deployment_branch_policy[protected_branches]"],
            "custom_branch_policies": fields["deployment_branch_policy[custom_branch_policies]"],
        }
        return 0, json.dumps({"name": parts[4]})
    if key not in environments:
        return 1, "gh: Not Found (HTTP 404)"
    env = environments[key]
    if len(parts) == 5:
        return 0, json.dumps({"name": env["name"], "deployment_branch_policy": env.get("deployment_branch_policy")})
    if method == "POST":
        fields = _fields(args)
        if any(p["name"] == fields["name"] for p in env["policies"]):
            return 1, "gh: Validation Failed (HTTP 422)"
        env["policies"].append({"id": len(env["policies"]) + 1, "name": fields["name"], "type": fields["type"]})
        return 0, json.dumps(env["policies"][-1])
    return 0, json.dumps({"total_count": len(env["policies"]), "branch_policies": env["policies"]})


def main(args: list[str]) -> int:
    path = Path(os.environ["FAKE_GH_STATE"])
    state = json.loads(path.read_text())
    state.setdefault("calls", []).append(args)
    code, out = 0, ""
    if args[:2] == ["auth", "status"]:
        code, out = (0, "Logged in") if state["logged_in"] else (1, "You are not logged into any GitHub hosts.")
    elif not state["logged_in"]:
        code, out = 4, "To get started with GitHub CLI, please run:  gh auth login"
    elif args[0] == "api":
        code, out = _api(state, args[1:])
    elif args[:2] == ["variable", "set"]:
        env = args[args.index("--env") + 1] if "--env" in args else "(repository)"  # no --env: a repository variable
        repo = args[args.index("--repo") + 1]
        state["variables"][f"{repo}/{env}/{args[2]}"] = args[args.index("--body") + 1]
    path.write_text(json.dumps(state))
    print(out, file=sys.stdout if code == 0 else sys.stderr)
    return code


def run(command: Sequence[str]) -> subprocess.CompletedProcess:
    """``gh ARGS`` as ``pipeline.github.run_gh`` runs it, answered in this process: same output, same status."""
    assert command[0] == "gh", command
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(command[1:]))
    return subprocess.CompletedProcess(list(command), code, out.getvalue(), err.getvalue())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
