"""The one family of errors a user can act on.

A ``UserError`` carries a single readable paragraph that says what went wrong and what to do. The task boundary
(``pipeline.boundary``) prints it and exits non-zero without a traceback; everything else is a bug.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix. ``str(error)`` is the whole message."""

    exit_code = 1


class Interrupted(UserError):
    """Ctrl-C: the message says what carries on without us."""

    exit_code = 130


class StackFailed(UserError):
    """A CloudFormation operation ended in a failed state."""
