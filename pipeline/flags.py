"""One meaning per short flag across every task, and every default shown in ``invoke --help TASK``.

invoke gives each task's arguments short flags by first free letter, so ``-r`` was ``--repo`` in one task and
``--region`` in the others. Here a short flag exists only for the options that mean the same everywhere
(``SHORT``); everything else is long-only. A help text that does not already state a default gets one appended
from the signature. Imports only invoke, so collecting the tasks stays instant.
"""

from __future__ import annotations

import inspect
from typing import Any

from invoke import Task
from invoke import task as invoke_task

SHORT = {
    "target": "t",
    "environment": "e",
    "region": "r",
    "profile": "p",
    "yes": "y",
    "json": "j",
    "follow": "f",
    "since": "s",
    "k": "k",  # `invoke test -k EXPR`, as pytest spells it
}


def _shows_default(default: Any) -> bool:
    return default not in (None, False, inspect.Signature.empty, "", [], ())


class ConsistentTask(Task):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["auto_shortflags"] = False
        super().__init__(*args, **kwargs)

    def arg_opts(self, name: str, default: str, taken_names: set[str]) -> dict[str, Any]:
        if _shows_default(default) and "default" not in self.help.get(name, ""):
            shown = self.help.get(name, "")
            self.help[name] = f"{shown} (default {default})".strip()
        opts = super().arg_opts(name, default, taken_names)
        if name in SHORT and SHORT[name] not in taken_names:
            opts["names"] = [*opts["names"], SHORT[name]]
        return opts


def task(*args: Any, **kwargs: Any) -> Any:
    """invoke's ``@task``, making ``ConsistentTask``s."""
    kwargs.setdefault("klass", ConsistentTask)
    return invoke_task(*args, **kwargs)
