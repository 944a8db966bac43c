"""``tagpilot reconcile``: a kind word goes to the daemon's leaves, anything else to the manifests.

``reconcile image policy NAME`` (and the other kinds) asks the daemon or a cluster
(:mod:`tagpilot.cli.reconcile_leaf`); ``reconcile PATH... --once`` runs the manifest command
in the group's own place.  The leaves (the daemon client, the kube client, the views) are built
only when a kind word, ``--help`` or completion needs them: a one-shot run over manifest paths,
often a process of its own in CI, does not import them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from tagpilot.api.descriptors import cli_kinds
from tagpilot.cli.kind_commands import add_kind_groups, command_words, kind_groups

__all__ = ["reconcile_command"]

_HELP = (
    "Reconcile an object now through the daemon (reconcile image policy NAME) or "
    "a cluster (--kubeconfig F), or manifests once (reconcile PATH... --once)."
)


class _ReconcileGroup(click.Group):
    """``reconcile``: ``image …``/``source …`` go to the daemon, anything else to ``fallback``.

    A manifest path runs ``fallback`` in this group's own place, so its usage and errors
    read ``tagpilot reconcile PATH...``, not ``tagpilot reconcile reconcile``.  The kind
    subcommands are added on first use.
    """

    def __init__(self, *args: Any, fallback: click.Command | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fallback = fallback
        self._words = command_words(cli_kinds())
        self._built = False

    def _build(self) -> None:
        if self._built:
            return
        self._built = True
        # The leaves build on the daemon's reconcile (cli.actions): imported only when needed.
        from tagpilot.cli.reconcile_leaf import reconcile_leaf  # noqa: PLC0415

        add_kind_groups(self, kind_groups(reconcile_leaf, cli_kinds()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._build()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._build()
        return super().list_commands(ctx)

    def _falls_back(self, args: Sequence[str]) -> bool:
        return self.fallback is not None and bool(args) and args[0] not in self._words

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        if self.fallback is not None and self._falls_back(args) and not args[0].startswith("-"):
            return self.fallback.make_context(info_name, args, parent=parent, **extra)
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.command is not self:  # make_context handed the arguments to the fallback
            return ctx.command.invoke(ctx)
        return super().invoke(ctx)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if self.fallback is not None and self._falls_back(args):
            return self.fallback.name, self.fallback, args
        return super().resolve_command(ctx, args)


def reconcile_command(manifest_reconcile: click.Command | None = None) -> click.Group:
    """``reconcile image|source KIND NAME``; other first arguments go to ``manifest_reconcile``."""
    return _ReconcileGroup(
        "reconcile",
        fallback=manifest_reconcile,
        context_settings={"ignore_unknown_options": True},
        help=_HELP,
    )
