"""Every task's flags: one meaning per short flag across the tasks, and defaults shown in help."""

from __future__ import annotations

import inspect
import re

import invoke_cli
import pytest

import tasks
from pipeline.config import ROOT
from pipeline.flags import SHORT

ALL = sorted(tasks.ns.tasks.items())


def _arguments(task):
    return task.get_arguments(ignore_unknown_help=True)


def test_a_short_flag_means_the_same_option_in_every_task():
    meaning: dict[str, set[str]] = {}
    for _name, task in ALL:
        for argument in _arguments(task):
            for short in (n for n in argument.names if len(n) == 1):
                meaning.setdefault(short, set()).add(argument.attr_name or argument.name)
    assert {short: names for short, names in meaning.items() if len(names) > 1} == {}
    assert all(names == {long} for long, short in SHORT.items() for names in [meaning.get(short, {long})])


def test_the_options_every_deploying_task_shares_have_their_short_flags():
    for name, task in ALL:
        names = {a.attr_name or a.name: set(a.names) for a in _arguments(task)}
        for option in ("target", "environment", "region", "profile"):
            if option in names:
                assert SHORT[option] in names[option], f"{name} --{option}"


@pytest.mark.parametrize(("name", "task"), ALL)
def test_every_default_is_shown_in_help(name, task):
    signature = inspect.signature(task.body)
    helps = {a.attr_name or a.name: a.help or "" for a in _arguments(task)}
    for parameter in list(signature.parameters.values())[1:]:  # not the context
        if parameter.default not in (None, False, "", [], ()):
            assert "default" in helps[parameter.name], f"invoke --help {name}: --{parameter.name}"


def test_shell_completion_script_is_available():
    """README shows `source <(invoke --print-completion-script bash)`; it must print a script."""
    done = invoke_cli.run(("--print-completion-script", "bash"), env=invoke_cli.clean_env())
    assert done.returncode == 0, done.stderr
    assert "complete -F" in done.stdout and "invoke" in done.stdout


def test_readme_lists_exactly_the_short_flags_there_are():
    text = (ROOT / "README.md").read_text()
    listed = text[text.index("only these have one:") :].split("Everything else")[0]
    pairs = dict(re.findall(r"`-(\w)` `--([\w-]+)`", listed))
    assert pairs == {short: long for long, short in SHORT.items() if long != "k"}


def test_readme_creates_the_file_its_example_uploads():
    text = (ROOT / "README.md").read_text()
    assert text.index("> notes.txt") < text.index("aws s3 cp notes.txt")
