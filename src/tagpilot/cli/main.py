"""The ``tagpilot`` command group and the commands it is made of."""

from __future__ import annotations

import click

from tagpilot import __version__
from tagpilot.cli.actions import events_command, resume_group, suspend_group
from tagpilot.cli.actions import reconcile_command as reconcile_group
from tagpilot.cli.create import create
from tagpilot.cli.errors import GuardedGroup
from tagpilot.cli.get import export_group, get_group
from tagpilot.cli.policy import policy_group
from tagpilot.cli.reconcile_once import reconcile_command
from tagpilot.cli.run_cmd import run_command
from tagpilot.cli.scan import scan
from tagpilot.cli.setters import setters
from tagpilot.cli.sops import sops_group
from tagpilot.cli.template import template

__all__ = ["cli", "main"]


@click.group(cls=GuardedGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Flux-compatible image update automation: scan, select, write back, push."""


@cli.command()
def version() -> None:
    """Print tagpilot's version."""
    click.echo(f"tagpilot {__version__}")


for _command in (
    create,
    events_command,
    export_group,
    get_group,
    policy_group,
    reconcile_group(reconcile_command),
    resume_group,
    run_command,
    scan,
    setters,
    sops_group,
    suspend_group,
    template,
):
    cli.add_command(_command)


def main() -> None:
    """Run the command line (console-script entry point)."""
    cli(prog_name="tagpilot")
