"""How the flux-style commands fail: one ``✗ message`` line on stderr and tagpilot's exit code."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NoReturn, ParamSpec, TypeVar

import click

from tagpilot.cli.errors import EXIT_FAILED, exit_code_for
from tagpilot.cli.render import FAILURE
from tagpilot.core.errors import TagpilotError

__all__ = ["fail", "flux_errors"]

_T = TypeVar("_T")
_P = ParamSpec("_P")


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print ``✗ message`` on stderr and end the command with ``code``."""
    click.echo(f"{FAILURE} {message}", err=True)
    raise click.exceptions.Exit(code)


def flux_errors(command: Callable[_P, _T]) -> Callable[_P, _T]:
    """Report a ``TagpilotError`` the Flux way (``✗ message``) with tagpilot's exit code."""

    @functools.wraps(command)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return command(*args, **kwargs)
        except TagpilotError as error:
            fail(str(error), exit_code_for(error))

    return guarded
