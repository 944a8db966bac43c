"""How the CLI turns tagpilot errors into messages and exit codes.

Exit codes: 0 ok, 1 the operation failed (e.g. no tag qualifies), 2 bad input
(invalid manifest, policy or flag).  No traceback ever reaches the user.
"""

from __future__ import annotations

import click

from tagpilot.core.errors import InvalidInputError, TagpilotError

__all__ = ["EXIT_FAILED", "EXIT_INVALID", "GuardedGroup", "exit_code_for"]

EXIT_FAILED = 1
EXIT_INVALID = 2


def exit_code_for(error: TagpilotError) -> int:
    """Return the process exit code for ``error``."""
    return EXIT_INVALID if isinstance(error, InvalidInputError) else EXIT_FAILED


class GuardedGroup(click.Group):
    """A click group that reports ``TagpilotError`` as one line on stderr with its exit code."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except TagpilotError as error:
            click.echo(f"error: {error}", err=True)
            ctx.exit(exit_code_for(error))
