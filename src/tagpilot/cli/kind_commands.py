"""The ``<verb> image repository`` / ``<verb> source git`` command trees, from the descriptors.

Every flux-style verb (``get``, ``export``, ``reconcile``, ``suspend``, ``resume``) builds its
leaves with :func:`kind_groups`: one group per command-line group of kinds (``image``,
``source``, also spelt ``images``, ``sources``) holding one leaf per kind, reachable by its
word and the word's other spellings (``repository``/``repositories``).  Kinds of the
:data:`~tagpilot.api.descriptors.TOP_LEVEL` group (``kustomization``) sit right under the
verb, as ``flux get kustomizations`` has them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

import click

from tagpilot.api.descriptors import CLI_GROUPS, TOP_LEVEL, KindDescriptor

__all__ = ["add_kind_groups", "command_words", "kind_groups"]


def _alias(command: click.Command) -> click.Command:
    """``command`` under another name, left out of the help listing."""
    hidden = copy.copy(command)
    hidden.hidden = True
    return hidden


def kind_groups(
    leaf: Callable[[KindDescriptor], click.Command], kinds: Iterable[KindDescriptor]
) -> list[click.Group]:
    """One group per kind group, holding ``leaf(kind)`` under the kind's word and aliases."""
    groups: dict[str, click.Group] = {}
    for info in kinds:
        assert info.group is not None  # only kinds on the command line are given
        group = groups.setdefault(
            info.group, click.Group(info.group, help=CLI_GROUPS[info.group].help)
        )
        command = leaf(info)
        group.add_command(command, info.word)
        for alias in info.aliases:
            group.add_command(_alias(command), alias)
    return list(groups.values())


def add_kind_groups(parent: click.Group, groups: Iterable[click.Group]) -> None:
    """Add each group to ``parent``, also under its other spellings (``images``, ``sources``).

    The top-level group is not added itself: its leaves (and their spellings) are.
    """
    for group in groups:
        assert group.name is not None
        if group.name == TOP_LEVEL:
            for word, command in group.commands.items():
                parent.add_command(command, word)
            continue
        parent.add_command(group)
        for alias in CLI_GROUPS[group.name].aliases:
            parent.add_command(_alias(group), alias)


def command_words(kinds: Iterable[KindDescriptor]) -> frozenset[str]:
    """The names :func:`add_kind_groups` adds under a verb for ``kinds``, without building them.

    What a verb needs to tell a kind word from other first arguments (``reconcile PATH``)
    before paying for its leaves.
    """
    words: set[str] = set()
    for info in kinds:
        assert info.group is not None  # only kinds on the command line are given
        if info.group == TOP_LEVEL:
            words.update((info.word, *info.aliases))
        else:
            words.update((info.group, *CLI_GROUPS[info.group].aliases))
    return frozenset(words)
