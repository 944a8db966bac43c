"""The ``tagpilot`` command group and the commands it is made of.

Commands are imported when they are invoked (or when help lists them), so ``tagpilot scan``
does not pay for the pydantic models and the daemon's web stack.
"""

from __future__ import annotations

import importlib

import click

from tagpilot import __version__
from tagpilot.cli.entry import command_loaded
from tagpilot.cli.errors import GuardedGroup

__all__ = ["COMMANDS", "cli", "main"]

COMMANDS: dict[str, str] = {
    "build": "tagpilot.cli.build_cmd:build_group",
    "controller": "tagpilot.cli.controller_cmd:controller_command",
    "create": "tagpilot.cli.create:create",
    "diff": "tagpilot.cli.diff_cmd:diff_group",
    "events": "tagpilot.cli.actions:events_command",
    "export": "tagpilot.cli.get:export_group",
    "get": "tagpilot.cli.get:get_group",
    "install": "tagpilot.cli.install:install",
    "policy": "tagpilot.cli.policy:policy_group",
    "reconcile": "tagpilot.cli.main:_reconcile",
    "resume": "tagpilot.cli.actions:resume_group",
    "run": "tagpilot.cli.run_cmd:run_command",
    "scan": "tagpilot.cli.scan:scan",
    "setters": "tagpilot.cli.setters:setters",
    "sops": "tagpilot.cli.sops:sops_group",
    "suspend": "tagpilot.cli.actions:suspend_group",
    "template": "tagpilot.cli.template:template",
}
"""Command name → ``module:attribute`` of its click object."""


class LazyGroup(GuardedGroup):
    """A ``GuardedGroup`` whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            command = super().get_command(ctx, cmd_name)
        else:
            module, _, attribute = COMMANDS[cmd_name].partition(":")
            found = getattr(importlib.import_module(module), attribute)
            command = found() if attribute == "_reconcile" else found
            assert isinstance(command, click.Command)
        command_loaded()
        return command


def _reconcile() -> click.Command:
    """``reconcile``: manifest paths with ``--once``, or one object through the daemon."""
    from tagpilot.cli.reconcile_group import reconcile_command as daemon_reconcile  # noqa: PLC0415
    from tagpilot.cli.reconcile_once import reconcile_command  # noqa: PLC0415

    return daemon_reconcile(reconcile_command)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Flux-compatible image update automation: scan, select, write back, push."""


@cli.command()
def version() -> None:
    """Print tagpilot's version."""
    click.echo(f"tagpilot {__version__}")


def main() -> None:
    """Run the command line (console-script entry point)."""
    cli(prog_name="tagpilot")
